"""What each subcommand does once parsed: read its inputs, call the OpenPGP layer,
write its outputs. Each function takes the parsed options, the standard input's
octets and the standard output's binary stream; a failure is a ``SopError`` with
the draft's exit code, never an exception of the library (those are mapped here,
by what the subcommand was doing)."""

from __future__ import annotations

import argparse
import datetime
import platform
from collections.abc import Callable, Sequence
from typing import BinaryIO, Final

from .. import __version__
from ..errors import (
    DecryptionError,
    Error,
    NoMatchingKeyError,
    PolicyError,
    UnsupportedError,
    UsageError,
)
from ..model import SignatureResult
from ..openpgp import armor, cleartext, signing, verifying
from ..openpgp.certs import OpenPGPCertificate, OpenPGPSecretKey
from ..openpgp.packets import TAG_PUBLIC_KEY, TAG_SECRET_KEY, TAG_SIGNATURE
from ..openpgp.packets.header import iter_packet_spans
from ..policy import DEFAULT, RFC4880, RFC9580, Policy
from . import status
from .indirect import check_output, read_password, write_output
from .keys import (
    dearmor_all,
    load_certs,
    load_keys,
    parse_date,
    passwords,
    session_keys,
    split_transferable,
    unlock,
)
from .status import SopError

__all__ = ["COMMANDS", "SPEC"]

#: ``version --sop-spec``: the draft followed ("~": a partial implementation),
#: then a "~ " line per gap.
SPEC: Final = (
    "~draft-dkg-openpgp-stateless-cli-13\n"
    "~ not implemented: update-key, merge-certs, certify-userid, validate-userid\n"
)


#: generate-key profiles: name -> (library profile, key kind, description).
KEY_PROFILES: Final = {
    "rfc9580": ("rfc9580", "x25519", "v6 key, Ed25519 + X25519 (RFC 9580)"),
    "rfc4880": ("rfc4880", "x25519", "v4 key, EdDSA + ECDH Curve25519 (RFC 4880)"),
    "mlkem768-x25519": (
        "rfc9580",
        "mlkem768-x25519",
        "v6 key, Ed25519 + ML-KEM-768+X25519 (post-quantum, RFC 9980)",
    ),
    "mldsa65-ed25519": (
        "rfc9580",
        "mldsa65-ed25519",
        "v6 key, ML-DSA-65+Ed25519 + ML-KEM-768+X25519 (post-quantum signatures "
        "too, RFC 9980)",
    ),
}
#: encrypt profiles: name -> (policy, description).
ENCRYPT_PROFILES: Final[dict[str, tuple[Policy, str]]] = {
    "auto": (
        DEFAULT,
        "what the recipients read: SEIPDv2 when every one supports it, else "
        "SEIPDv1; passwords alone: SEIPDv1",
    ),
    "rfc9580": (RFC9580, "SEIPDv2 and v6 entries (RFC 9580) for every recipient"),
    "rfc4880": (RFC4880, "SEIPDv1 and v3/v4 entries (RFC 4880) for every recipient"),
}


def _profile(name: str | None, profiles: Sequence[str], what: str) -> str:
    """The profile ``name`` (None or "default": the first)."""
    if name is None or name == "default":
        return profiles[0]
    if name not in profiles:
        raise SopError(
            status.UNSUPPORTED_PROFILE,
            f"{what} has no profile {name!r} (see list-profiles {what})",
        )
    return name


def _armored(binary: bytes, block: str, armor_out: bool, *, v4: bool = False) -> bytes:
    """``binary`` armored when asked; with the CRC24 line when it holds v4 keys or
    signatures (GnuPG 2.2 requires it; RFC 9580 §6.1 leaves it out otherwise)."""
    if not armor_out:
        return binary
    return bytes(armor.enarmor(binary, block, crc=v4))


def _any_v4(keys: Sequence[OpenPGPSecretKey | OpenPGPCertificate]) -> bool:
    return any(
        (k.public if isinstance(k, OpenPGPSecretKey) else k).version == 4 for k in keys
    )


def _text(data: bytes) -> None:
    """Refuse data that is not UTF-8 where text is asked for."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise SopError(status.EXPECTED_TEXT, "the input is not UTF-8 text") from None


def _need(values: Sequence[object], what: str) -> None:
    if not values:
        raise SopError(status.MISSING_ARG, f"missing {what}")


def _signers(args: argparse.Namespace, specs: Sequence[str]) -> list[OpenPGPSecretKey]:
    """The signing keys, each checked able to sign now."""
    keys = load_keys(specs, args.with_key_password)
    for key in keys:
        try:
            signing.signing_key(key)
        except (UnsupportedError, UsageError) as exc:
            raise SopError(status.KEY_CANNOT_SIGN, str(exc)) from None
    return keys


# -- version, list-profiles --------------------------------------------------------


def cmd_version(args: argparse.Namespace, data: bytes, out: BinaryIO) -> None:
    import cryptography

    if args.backend:
        text = f"e2ee_mail {__version__}\n"
    elif args.sop_spec:
        text = SPEC
    elif args.extended:
        text = (
            f"e2ee-sop {__version__}\n"
            f"e2ee_mail {__version__}\n"
            f"cryptography {cryptography.__version__}\n"
            f"{platform.python_implementation()} {platform.python_version()}\n"
        )
    else:
        text = f"e2ee-sop {__version__}\n"
    out.write(text.encode())


def cmd_list_profiles(args: argparse.Namespace, data: bytes, out: BinaryIO) -> None:
    listing: dict[str, str]
    if args.subcommand == "generate-key":
        listing = {name: value[2] for name, value in KEY_PROFILES.items()}
    elif args.subcommand == "encrypt":
        listing = {name: value[1] for name, value in ENCRYPT_PROFILES.items()}
    else:
        raise SopError(
            status.UNSUPPORTED_PROFILE,
            f"{args.subcommand} has no profiles (generate-key and encrypt have)",
        )
    first = True
    for name, description in listing.items():
        suffix = " (default)" if first else ""
        out.write(f"{name}: {description}{suffix}\n".encode())
        first = False


# -- keys --------------------------------------------------------------------------


def cmd_generate_key(args: argparse.Namespace, data: bytes, out: BinaryIO) -> None:
    from ..openpgp import keygen

    name = _profile(args.profile, list(KEY_PROFILES), "generate-key")
    profile, kind, _ = KEY_PROFILES[name]
    password = (
        read_password(args.with_key_password, what="key password", human=True)[0]
        if args.with_key_password
        else None
    )
    if not args.userids and profile == "rfc4880":
        raise SopError(
            status.UNSUPPORTED_OPTION,
            "generate-key --profile=rfc4880 needs a User ID (a v4 key's flags live "
            "on it)",
        )
    # The key is made with a first User ID, which goes again when none was asked.
    uids = args.userids or ["placeholder"]
    try:
        key = keygen.generate(uids[0], kind=kind, profile=profile)
        if not args.userids:
            key = keygen.without_user_ids(key)
        elif len(uids) > 1:
            key = keygen.add_user_ids(key, uids[1:])
    except Error as exc:
        raise SopError(status.BAD_DATA, f"generate-key: {exc}") from None
    if args.signing_only:
        key = keygen.signing_only(key)
    out.write(key.export(passphrase=password, armor=args.armor))


def _export_keys(
    keys: Sequence[OpenPGPSecretKey], password: bytes | None, armor_out: bool
) -> bytes:
    binary = b"".join(k.export(passphrase=password, armor=False) for k in keys)
    return _armored(binary, armor.BLOCK_PRIVATE_KEY, armor_out, v4=_any_v4(keys))


def cmd_change_key_password(
    args: argparse.Namespace, data: bytes, out: BinaryIO
) -> None:
    new = (
        read_password(args.new_key_password, what="new key password", human=True)[0]
        if args.new_key_password
        else None
    )
    tries = passwords(args.old_key_password, what="old key password")
    keys = []
    for block in split_transferable(data, "key"):
        keys.append(unlock(block, tries, "key"))
    out.write(_export_keys(keys, new or None, args.armor))


def cmd_revoke_key(args: argparse.Namespace, data: bytes, out: BinaryIO) -> None:
    from ..openpgp.revocation import revocation_certificate

    tries = passwords(args.with_key_password, what="key password")
    revoked = []
    for block in split_transferable(data, "key"):
        key = unlock(block, tries, "key")
        try:
            revoked.append(revocation_certificate(key))
        except (UnsupportedError, UsageError) as exc:
            raise SopError(status.KEY_CANNOT_SIGN, str(exc)) from None
    out.write(_certs_out(revoked, args.armor))


def _certs_out(certs: Sequence[OpenPGPCertificate], armor_out: bool) -> bytes:
    binary = b"".join(c.export(armor=False) for c in certs)
    return _armored(binary, armor.BLOCK_PUBLIC_KEY, armor_out, v4=_any_v4(certs))


def cmd_extract_cert(args: argparse.Namespace, data: bytes, out: BinaryIO) -> None:
    from ..openpgp.certs import load_certificate

    certs = []
    for block in split_transferable(data, "key"):
        if next(iter_packet_spans(block))[0] != TAG_SECRET_KEY:
            raise SopError(status.BAD_DATA, "the input is a certificate, not a key")
        try:
            certs.append(load_certificate(block))
        except Error as exc:
            raise SopError(status.BAD_DATA, f"key: {exc}") from None
    out.write(_certs_out(certs, args.armor))


# -- signatures --------------------------------------------------------------------


def cmd_sign(args: argparse.Namespace, data: bytes, out: BinaryIO) -> None:
    _need(args.keys, "KEYS (the signing keys)")
    check_output(args.micalg_out)
    text = args.as_ == "text"
    if text:
        _text(data)
    keys = _signers(args, args.keys)
    sigs = bytearray()
    micalgs = []
    for key in keys:
        signer = signing.DocumentSigner(key, text=text)
        signer.update(data)
        sigs += signer.signature_packet()
        micalgs.append(signer.micalg)
    if args.micalg_out is not None:
        # Signers hashing differently have no one micalg: the draft asks for "".
        same = len(set(micalgs)) == 1
        write_output(args.micalg_out, micalgs[0].encode() if same else b"")
    out.write(_armored(bytes(sigs), "SIGNATURE", args.armor, v4=_any_v4(keys)))


def _window(
    args: argparse.Namespace, prefix: str = ""
) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    before = parse_date(getattr(args, f"{prefix}not_before"), default_now=False)
    after = parse_date(getattr(args, f"{prefix}not_after"), default_now=True)
    return before, after


def verification_lines(
    results: Sequence[SignatureResult],
    window: tuple[datetime.datetime | None, datetime.datetime | None],
) -> bytes:
    """The VERIFICATIONS lines of the good signatures made inside ``window``:
    "<time> <signing key fingerprint> <primary key fingerprint> mode:<mode>
    <who>"."""
    before, after = window
    lines = []
    for result in results:
        when = result.signing_time
        if not result.good or when is None or result.signing_key is None:
            continue
        if (before is not None and when < before) or (
            after is not None and when > after
        ):
            continue
        lines.append(
            f"{when:%Y-%m-%dT%H:%M:%SZ} {result.signing_key} {result.fingerprint} "
            f"mode:{result.mode or 'binary'} signed by {result.signer or 'its key'}\n"
        )
    return "".join(lines).encode()


def cmd_verify(args: argparse.Namespace, data: bytes, out: BinaryIO) -> None:
    from .indirect import read_input

    if args.signatures is None:
        raise SopError(status.MISSING_ARG, "missing SIGNATURES")
    _need(args.certs, "CERTS (the signers' certificates)")
    window = _window(args)
    signature = read_input(args.signatures, what="signatures")
    certs = load_certs(args.certs)
    try:
        results = verifying.verify_detached(data, signature, certs, policy=DEFAULT)
    except Error as exc:
        raise SopError(status.BAD_DATA, f"signatures: {exc}") from None
    lines = verification_lines(results, window)
    if not lines:
        raise SopError(status.NO_SIGNATURE, _no_signature(results))
    out.write(lines)


def _no_signature(results: Sequence[SignatureResult]) -> str:
    if not results:
        return "no signature found"
    return "no good signature: " + "; ".join(str(r) for r in results)


def cmd_inline_sign(args: argparse.Namespace, data: bytes, out: BinaryIO) -> None:
    _need(args.keys, "KEYS (the signing keys)")
    mode = args.as_
    if mode == "clearsigned" and not args.armor:
        raise SopError(
            status.INCOMPATIBLE_OPTIONS,
            "--as=clearsigned is always armored (--no-armor)",
        )
    if mode in ("text", "clearsigned"):
        _text(data)
    keys = _signers(args, args.keys)
    if mode == "clearsigned":
        out.write(cleartext.sign_cleartext(data, keys))
        return
    out.write(
        signing.sign_inline_many(data, keys, text=mode == "text", armor=args.armor)
    )


def _inline_results(
    data: bytes, certs: Sequence[OpenPGPCertificate]
) -> tuple[bytes, tuple[SignatureResult, ...]]:
    try:
        if cleartext.is_cleartext(data):
            return cleartext.verify_cleartext(data, certs, policy=DEFAULT)
        return verifying.verify_inline(data, certs, policy=DEFAULT)
    except Error as exc:
        raise SopError(status.BAD_DATA, f"signed message: {exc}") from None


def cmd_inline_verify(args: argparse.Namespace, data: bytes, out: BinaryIO) -> None:
    _need(args.certs, "CERTS (the signers' certificates)")
    check_output(args.verifications_out)
    window = _window(args)
    certs = load_certs(args.certs)
    content, results = _inline_results(data, certs)
    lines = verification_lines(results, window)
    if not lines:
        raise SopError(status.NO_SIGNATURE, _no_signature(results))
    if args.verifications_out is not None:
        write_output(args.verifications_out, lines)
    out.write(content)


def cmd_inline_detach(args: argparse.Namespace, data: bytes, out: BinaryIO) -> None:
    if args.signatures_out is None:
        raise SopError(status.MISSING_ARG, "missing --signatures-out")
    check_output(args.signatures_out)
    try:
        if cleartext.is_cleartext(data):
            content, block = cleartext.read_cleartext(data)
            _, sigs = armor.dearmor(block)
        else:
            content, sigs = verifying.detach_inline(data, policy=DEFAULT)
    except Error as exc:
        raise SopError(status.BAD_DATA, f"signed message: {exc}") from None
    write_output(args.signatures_out, _armored(sigs, "SIGNATURE", args.armor))
    out.write(content)


# -- encryption --------------------------------------------------------------------


def cmd_encrypt(args: argparse.Namespace, data: bytes, out: BinaryIO) -> None:
    from .. import _api
    from ..openpgp.recipients import recipient_key

    if not args.certs and not args.with_password:
        raise SopError(status.MISSING_ARG, "missing CERTS (or --with-password)")
    name = _profile(args.profile, list(ENCRYPT_PROFILES), "encrypt")
    policy = ENCRYPT_PROFILES[name][0]
    if name == "auto" and not args.certs:
        # No recipient says what it reads: SEIPDv1 and a v4 password entry, which
        # every OpenPGP implementation opens (--profile=rfc9580 for SEIPDv2).
        policy = RFC4880
    if args.as_ == "text":
        _text(data)
    signers = _signers(args, args.sign_with)
    if len(signers) > 1:
        raise SopError(
            status.UNSUPPORTED_OPTION,
            "--sign-with: an encrypted message is signed by one key here",
        )
    certs = load_certs(args.certs)
    for cert in certs:
        try:
            recipient_key(cert, policy)
        except (UnsupportedError, PolicyError) as exc:
            raise SopError(status.CERT_CANNOT_ENCRYPT, str(exc)) from None
    secrets = [
        p
        for spec in args.with_password
        for p in read_password(spec, what="password", human=True)
    ]
    if not all(secrets):
        raise SopError(
            status.PASSWORD_NOT_HUMAN_READABLE, "--with-password: an empty password"
        )
    try:
        if signers and args.as_ == "text":
            # A text signature (0x01) and a "u" Literal Data packet; the public
            # encrypt signs in binary mode only.
            sealed = signing.encrypt_signed(
                data,
                certs,
                signers[0],
                armor=args.armor,
                policy=policy,
                text=True,
                passwords=secrets,
            )
        else:
            sealed = _api.encrypt(
                data,
                certs,
                format="openpgp",
                armor=args.armor,
                policy=policy,
                sign_with=signers[0] if signers else None,
                passwords=secrets,
            )
    except (UnsupportedError, PolicyError) as exc:
        raise SopError(status.CERT_CANNOT_ENCRYPT, str(exc)) from None
    out.write(sealed)


def cmd_decrypt(args: argparse.Namespace, data: bytes, out: BinaryIO) -> None:
    from ..openpgp.sessionkey import decrypt_verified

    if bool(args.verify_with) != (args.verifications_out is not None):
        raise SopError(
            status.INCOMPLETE_VERIFICATION,
            "--verify-with and --verifications-out go together",
        )
    if not (args.keys or args.with_session_key or args.with_password):
        raise SopError(
            status.MISSING_ARG, "missing KEYS (or --with-session-key, --with-password)"
        )
    check_output(args.session_key_out)
    check_output(args.verifications_out)
    window = _window(args, "verify_")
    keys = load_keys(args.keys, args.with_key_password)
    given = session_keys(args.with_session_key)
    certs = load_certs(args.verify_with)
    # An empty password opens nothing (the library refuses to write one).
    tries = [p for p in passwords(args.with_password, what="password") if p]
    try:
        plain, results, session_key = decrypt_verified(
            data, keys, certs, policy=DEFAULT, session_keys=given, passwords=tries
        )
    except (DecryptionError, NoMatchingKeyError) as exc:
        raise SopError(status.CANNOT_DECRYPT, str(exc) or "cannot decrypt") from None
    except UnsupportedError as exc:
        raise SopError(status.CANNOT_DECRYPT, str(exc)) from None
    except Error as exc:
        raise SopError(status.BAD_DATA, f"message: {exc}") from None
    if args.session_key_out is not None:
        write_output(args.session_key_out, session_key.text().encode() + b"\n")
    if args.verifications_out is not None:
        write_output(args.verifications_out, verification_lines(results, window))
    out.write(plain)


# -- armor -------------------------------------------------------------------------


def _block_for(binary: bytes) -> str:
    try:
        tag = next(iter_packet_spans(binary))[0]
    except (Error, StopIteration):
        raise SopError(status.BAD_DATA, "the input is not OpenPGP data") from None
    return {
        TAG_SECRET_KEY: armor.BLOCK_PRIVATE_KEY,
        TAG_PUBLIC_KEY: armor.BLOCK_PUBLIC_KEY,
        TAG_SIGNATURE: "SIGNATURE",
    }.get(tag, armor.BLOCK_MESSAGE)


def cmd_armor(args: argparse.Namespace, data: bytes, out: BinaryIO) -> None:
    if armor.is_armored(data) or cleartext.is_cleartext(data):
        out.write(data)  # already armored: unchanged
        return
    out.write(_armored(data, _block_for(data), True))


def cmd_dearmor(args: argparse.Namespace, data: bytes, out: BinaryIO) -> None:
    if armor.is_armored(data):
        # Every block, one after the other (several keys armored apart).
        out.write(dearmor_all(data, "input"))
        return
    _block_for(data)  # binary already: checked, then unchanged
    out.write(data)


Command = Callable[[argparse.Namespace, bytes, BinaryIO], None]

#: Subcommand -> (function, whether it reads standard input).
COMMANDS: Final[dict[str, tuple[Command, bool]]] = {
    "version": (cmd_version, False),
    "list-profiles": (cmd_list_profiles, False),
    "generate-key": (cmd_generate_key, False),
    "change-key-password": (cmd_change_key_password, True),
    "revoke-key": (cmd_revoke_key, True),
    "extract-cert": (cmd_extract_cert, True),
    "sign": (cmd_sign, True),
    "verify": (cmd_verify, True),
    "encrypt": (cmd_encrypt, True),
    "decrypt": (cmd_decrypt, True),
    "inline-sign": (cmd_inline_sign, True),
    "inline-verify": (cmd_inline_verify, True),
    "inline-detach": (cmd_inline_detach, True),
    "armor": (cmd_armor, True),
    "dearmor": (cmd_dearmor, True),
}
