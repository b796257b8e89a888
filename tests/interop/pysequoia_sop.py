"""A Stateless OpenPGP (draft-dkg-openpgp-stateless-cli) front end for pysequoia.

pysequoia, Sequoia's Python binding, has no SOP command of its own; this script gives
it one for the subset the binding can do, so that the interop matrix
(``sop_matrix.py``) drives it exactly as it drives ``sqop``, ``gosop`` and
``e2ee-sop``: ``python pysequoia_sop.py SUBCOMMAND [OPTIONS] [ARGS] < INPUT``.

What it does: ``version``, ``list-profiles generate-key``, ``generate-key``
(``--profile=rfc4880|rfc9580``), ``extract-cert``, ``sign`` and ``verify``
(binary mode), ``encrypt`` (binary literal data, ``--sign-with``, ``--with-password``),
``decrypt`` (keys, passwords, ``--verify-with`` and ``--verifications-out``),
``inline-sign`` (``--as=binary|clearsigned``), ``inline-verify``, ``armor`` and
``dearmor``. Everything else gets the draft's answer for what an implementation
cannot do: 69 UNSUPPORTED_SUBCOMMAND or 37 UNSUPPORTED_OPTION. The binding has no
access to session keys and no text-mode signatures, so ``--session-key-out``,
``--with-session-key`` and ``--as=text`` are 37.

The binding does not tell when a signature inside an encrypted message was made; for
those, the VERIFICATIONS line carries the time of the verification instead (detached
and inline signatures carry their own creation time).
"""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import pysequoia as ps
from pysequoia import packet

# The draft's exit codes this front end answers with.
NO_SIGNATURE = 3
MISSING_ARG = 19
INCOMPLETE_VERIFICATION = 23
CANNOT_DECRYPT = 29
UNSUPPORTED_OPTION = 37
BAD_DATA = 41
OUTPUT_EXISTS = 59
MISSING_INPUT = 61
UNSUPPORTED_SUBCOMMAND = 69
UNSUPPORTED_SPECIAL_PREFIX = 71
UNSUPPORTED_PROFILE = 89

#: generate-key profiles -> Tsk.generate arguments.
PROFILES: dict[str, dict[str, Any]] = {
    "rfc4880": {"profile": ps.Profile.RFC4880},
    "rfc9580": {"profile": ps.Profile.RFC9580},
    "mlkem768-x25519": {
        "profile": ps.Profile.RFC9580,
        "cipher_suite": ps.CipherSuite.Cv25519,
        "encryption_algorithm": ps.EncryptionAlgorithm.MLKEM768_X25519,
    },
}
PROFILE_LINES = (
    "rfc4880: v4 keys (RFC 4880), the binding's default",
    "rfc9580: v6 keys (RFC 9580)",
    "mlkem768-x25519: v6 keys, Ed25519 and ML-KEM-768+X25519 (RFC 9980)",
)
MESSAGE_TAGS = {"PKESK", "SKESK", "SEIP", "OnePassSig", "CompressedData", "Literal"}


class SopExit(Exception):
    """End the command with a draft exit code and one line on stderr."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class Args:
    """A subcommand's arguments: ``--name=value`` options (repeatable), flags and
    positional arguments; everything after ``--`` is positional."""

    def __init__(self, argv: Sequence[str], allowed: dict[str, bool]) -> None:
        self.options: dict[str, list[str]] = {}
        self.positional: list[str] = []
        rest = iter(argv)
        for arg in rest:
            if arg == "--":
                self.positional.extend(rest)
                break
            if not arg.startswith("--"):
                self.positional.append(arg)
                continue
            name, eq, value = arg[2:].partition("=")
            if name not in allowed:
                raise SopExit(UNSUPPORTED_OPTION, f"unsupported option --{name}")
            takes_value = allowed[name]
            if takes_value and not eq:
                value = next(rest, "")
                if not value:
                    raise SopExit(MISSING_ARG, f"--{name} needs a value")
            elif not takes_value and eq:
                raise SopExit(MISSING_ARG, f"--{name} takes no value")
            self.options.setdefault(name, []).append(value)

    def flag(self, name: str) -> bool:
        return name in self.options

    def one(self, name: str, default: str) -> str:
        values = self.options.get(name, [default])
        if len(values) > 1:
            raise SopExit(UNSUPPORTED_OPTION, f"--{name} given more than once")
        return values[0]

    def many(self, name: str) -> list[str]:
        return self.options.get(name, [])


def read_file(name: str) -> bytes:
    """The contents of a file argument; the special ``@ENV:``/``@FD:`` forms are
    not supported."""
    if name.startswith("@"):
        raise SopExit(UNSUPPORTED_SPECIAL_PREFIX, f"special designator {name!r}")
    try:
        return Path(name).read_bytes()
    except FileNotFoundError:
        raise SopExit(MISSING_INPUT, f"no such file: {name}") from None


def write_new(name: str, data: bytes) -> None:
    if name.startswith("@"):
        raise SopExit(UNSUPPORTED_SPECIAL_PREFIX, f"special designator {name!r}")
    try:
        with open(name, "xb") as out:
            out.write(data)
    except FileExistsError:
        raise SopExit(OUTPUT_EXISTS, f"output exists: {name}") from None


def parsed(kind: str, loader: Callable[[bytes], Any], data: bytes) -> Any:
    try:
        return loader(data)
    except (RuntimeError, ValueError) as exc:
        raise SopExit(BAD_DATA, f"not {kind}: {first_line(exc)}") from None


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or ["?"])[0]


def keys(names: Sequence[str]) -> list[ps.Tsk]:
    return [parsed("an OpenPGP key", ps.Tsk.from_bytes, read_file(n)) for n in names]


def certs(names: Sequence[str]) -> list[ps.Cert]:
    found: list[ps.Cert] = []
    for name in names:
        found.extend(
            parsed("OpenPGP certificates", ps.Cert.split_bytes, read_file(name))
        )
    return found


def store_of(found: Sequence[ps.Cert]) -> Callable[[list[str]], list[ps.Cert]]:
    return lambda _key_ids: list(found)


def timestamp(when: datetime.datetime | None) -> str:
    when = when or datetime.datetime.now(datetime.UTC)
    return when.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def verifications(
    result: ps.Decrypted, created: dict[str, datetime.datetime], mode: str
) -> bytes:
    """VERIFICATIONS lines: time, signing key, primary key, mode."""
    lines = []
    for sig in result.valid_sigs:
        signing = str(sig.signing_key)
        line = f"{timestamp(created.get(signing))} {signing.upper()} "
        lines.append(line + f"{str(sig.certificate).upper()}{mode}\n")
    return "".join(lines).encode()


def signature_times(data: bytes) -> dict[str, datetime.datetime]:
    """Issuer fingerprint -> creation time of the signature packets in ``data``."""
    times: dict[str, datetime.datetime] = {}
    try:
        pile = packet.PacketPile.from_bytes(data)
    except (RuntimeError, ValueError):
        return times
    for pkt in pile:
        issuer, created = pkt.issuer_fingerprint, pkt.signature_created
        if issuer and created:
            times[issuer] = created
    return times


def armored(data: bytes) -> bool:
    return data.lstrip().startswith(b"-----BEGIN PGP ")


def no_dates(args: Args, *names: str) -> None:
    """Validity windows other than the defaults are beyond the binding."""
    for name in names:
        for value in args.many(name):
            if value not in ("-", "now"):
                raise SopExit(UNSUPPORTED_OPTION, f"--{name}={value}")


def binary_only(args: Args) -> None:
    mode = args.one("as", "binary")
    if mode != "binary":
        raise SopExit(UNSUPPORTED_OPTION, f"--as={mode}: the binding signs binary only")


def cmd_version(args: Args, _data: bytes) -> bytes:
    version = importlib.metadata.version("pysequoia")
    if args.flag("backend"):
        return f"pysequoia {version}\n".encode()
    if args.flag("sop-spec"):
        return b"~draft-dkg-openpgp-stateless-cli (a subset, through pysequoia)\n"
    if args.flag("extended"):
        return f"pysequoia-sop {version}\npysequoia {version}\n".encode()
    return f"pysequoia-sop {version}\n".encode()


def cmd_list_profiles(args: Args, _data: bytes) -> bytes:
    if args.positional != ["generate-key"]:
        raise SopExit(UNSUPPORTED_PROFILE, "only generate-key has profiles here")
    return "".join(line + "\n" for line in PROFILE_LINES).encode()


def cmd_generate_key(args: Args, _data: bytes) -> bytes:
    name = args.one("profile", "default")
    if name != "default" and name not in PROFILES:
        raise SopExit(UNSUPPORTED_PROFILE, f"unknown profile {name!r}")
    tsk = ps.Tsk.generate(
        user_ids=args.positional or None, **PROFILES.get(name, PROFILES["rfc4880"])
    )
    return bytes(tsk) if args.flag("no-armor") else str(tsk).encode()


def cmd_extract_cert(args: Args, data: bytes) -> bytes:
    cert = parsed("an OpenPGP key", ps.Tsk.from_bytes, data).extract_certificate()
    return bytes(cert) if args.flag("no-armor") else str(cert).encode()


def cmd_sign(args: Args, data: bytes) -> bytes:
    binary_only(args)
    signers = keys(args.positional)
    if not signers:
        raise SopExit(MISSING_ARG, "sign needs at least one key")
    sigs = b"".join(
        ps.sign(k.signer(), data, mode=ps.SignatureMode.DETACHED, armor=False)
        for k in signers
    )
    if args.flag("no-armor"):
        return sigs
    return ps.armor(sigs, ps.ArmorKind.Signature).encode()


def cmd_verify(args: Args, data: bytes) -> bytes:
    no_dates(args, "not-before", "not-after")
    if len(args.positional) < 2:
        raise SopExit(MISSING_ARG, "verify needs SIGNATURES and CERTS")
    sig_bytes = read_file(args.positional[0])
    sig = parsed("a signature", ps.Sig.from_bytes, sig_bytes)
    try:
        result = ps.verify(
            bytes=data, store=store_of(certs(args.positional[1:])), signature=sig
        )
    except RuntimeError:
        raise SopExit(NO_SIGNATURE, "no good signature") from None
    out = verifications(result, signature_times(sig_bytes), " mode:binary")
    if not out:
        raise SopExit(NO_SIGNATURE, "no good signature")
    return out


def cmd_encrypt(args: Args, data: bytes) -> bytes:
    mode = args.one("as", "binary")
    if mode != "binary":
        raise SopExit(UNSUPPORTED_OPTION, f"--as={mode}")
    signers = keys(args.many("sign-with"))
    if len(signers) > 1:
        raise SopExit(UNSUPPORTED_OPTION, "the binding signs with one key")
    passwords = [read_file(p).decode().strip() for p in args.many("with-password")]
    recipients = certs(args.positional)
    if not recipients and not passwords:
        raise SopExit(MISSING_ARG, "encrypt needs CERTS or --with-password")
    return ps.encrypt(
        data,
        recipients,
        signer=signers[0].signer() if signers else None,
        passwords=passwords,
        armor=not args.flag("no-armor"),
    )


def cmd_decrypt(args: Args, data: bytes) -> bytes:
    for name in ("session-key-out", "with-session-key"):
        if args.flag(name):
            raise SopExit(UNSUPPORTED_OPTION, f"--{name}: the binding hides it")
    no_dates(args, "verify-not-before", "verify-not-after")
    verify_out = args.one("verifications-out", "")
    verify_with = certs(args.many("verify-with"))
    if verify_out and not verify_with:
        raise SopExit(
            INCOMPLETE_VERIFICATION, "--verifications-out needs --verify-with"
        )
    passwords = [read_file(p).decode().strip() for p in args.many("with-password")]
    candidates: list[dict[str, Any]] = [
        {"decryptor": k.decryptor()} for k in keys(args.positional)
    ]
    if passwords:
        candidates.append({"passwords": passwords})
    if not candidates:
        raise SopExit(MISSING_ARG, "decrypt needs KEYS or --with-password")
    for how in candidates:
        # With a store the binding refuses a message without a good signature; the
        # message still opens, with nothing in VERIFICATIONS (as e2ee-sop does).
        tries = [store_of(verify_with), None] if verify_with else [None]
        for store in tries:
            try:
                result = ps.decrypt(data, store=store, **how)
            except RuntimeError:
                continue
            if verify_out:
                lines = verifications(result, {}, "") if store else b""
                write_new(verify_out, lines)
            return result.bytes or b""
    raise SopExit(CANNOT_DECRYPT, "no key or password opens the message")


def cmd_inline_sign(args: Args, data: bytes) -> bytes:
    mode = args.one("as", "binary")
    modes = {"binary": ps.SignatureMode.INLINE, "clearsigned": ps.SignatureMode.CLEAR}
    if mode not in modes:
        raise SopExit(UNSUPPORTED_OPTION, f"--as={mode}: the binding signs binary only")
    signers = keys(args.positional)
    if len(signers) != 1:
        raise SopExit(UNSUPPORTED_OPTION, "the binding signs with one key")
    armor = mode == "clearsigned" or not args.flag("no-armor")
    return ps.sign(signers[0].signer(), data, mode=modes[mode], armor=armor)


def cmd_inline_verify(args: Args, data: bytes) -> bytes:
    no_dates(args, "not-before", "not-after")
    try:
        result = ps.verify(bytes=data, store=store_of(certs(args.positional)))
    except RuntimeError:
        raise SopExit(NO_SIGNATURE, "no good signature") from None
    lines = verifications(result, signature_times(data), "")
    if not lines:
        raise SopExit(NO_SIGNATURE, "no good signature")
    verify_out = args.one("verifications-out", "")
    if verify_out:
        write_new(verify_out, lines)
    return result.bytes or b""


def cmd_armor(args: Args, data: bytes) -> bytes:
    if armored(data):
        return data
    try:
        first = next(iter(packet.PacketPile.from_bytes(data)))
    except (RuntimeError, ValueError, StopIteration):
        raise SopExit(BAD_DATA, "not OpenPGP data") from None
    tag = str(first.tag).rpartition(".")[2]
    kinds = {
        "Signature": ps.ArmorKind.Signature,
        "PublicKey": ps.ArmorKind.PublicKey,
        "SecretKey": ps.ArmorKind.SecretKey,
    }
    kind = kinds.get(tag, ps.ArmorKind.Message if tag in MESSAGE_TAGS else None)
    if kind is None:
        raise SopExit(BAD_DATA, f"cannot armor data starting with a {tag} packet")
    return ps.armor(data, kind).encode()


def cmd_dearmor(args: Args, data: bytes) -> bytes:
    if not armored(data):
        return data
    try:
        pile = packet.PacketPile.from_bytes(data)
    except (RuntimeError, ValueError):
        raise SopExit(BAD_DATA, "not ASCII-armored OpenPGP data") from None
    return b"".join(bytes(p) for p in pile)


# Subcommand -> (handler, its options: name -> takes a value).
COMMANDS: dict[str, tuple[Callable[[Args, bytes], bytes], dict[str, bool]]] = {
    "version": (cmd_version, {"backend": False, "extended": False, "sop-spec": False}),
    "list-profiles": (cmd_list_profiles, {}),
    "generate-key": (cmd_generate_key, {"no-armor": False, "profile": True}),
    "extract-cert": (cmd_extract_cert, {"no-armor": False}),
    "sign": (cmd_sign, {"no-armor": False, "as": True}),
    "verify": (cmd_verify, {"not-before": True, "not-after": True}),
    "encrypt": (
        cmd_encrypt,
        {"no-armor": False, "as": True, "sign-with": True, "with-password": True},
    ),
    "decrypt": (
        cmd_decrypt,
        {
            "session-key-out": True,
            "with-session-key": True,
            "with-password": True,
            "verifications-out": True,
            "verify-with": True,
            "verify-not-before": True,
            "verify-not-after": True,
        },
    ),
    "inline-sign": (cmd_inline_sign, {"no-armor": False, "as": True}),
    "inline-verify": (
        cmd_inline_verify,
        {"not-before": True, "not-after": True, "verifications-out": True},
    ),
    "armor": (cmd_armor, {}),
    "dearmor": (cmd_dearmor, {}),
}
#: Subcommands that read standard input.
READS_INPUT = {
    "extract-cert",
    "sign",
    "verify",
    "encrypt",
    "decrypt",
    "inline-sign",
    "inline-verify",
    "armor",
    "dearmor",
}


def fail(code: int, message: str) -> NoReturn:
    sys.stderr.write(f"pysequoia-sop: {message}\n")
    sys.exit(code)


def main(argv: Sequence[str]) -> None:
    if not argv:
        fail(MISSING_ARG, "no subcommand")
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        fail(UNSUPPORTED_SUBCOMMAND, f"unsupported subcommand {name!r}")
    handler, allowed = COMMANDS[name]
    try:
        data = sys.stdin.buffer.read() if name in READS_INPUT else b""
        out = handler(Args(rest, allowed), data)
    except SopExit as exc:
        fail(exc.code, str(exc))
    except (RuntimeError, ValueError) as exc:
        fail(BAD_DATA, first_line(exc))
    sys.stdout.buffer.write(out)


if __name__ == "__main__":
    # Sequoia's errors carry a Rust backtrace when this is set; one line is enough.
    os.environ.pop("RUST_BACKTRACE", None)
    main(sys.argv[1:])
