"""What each ``e2ee-mail`` command does, once its arguments are parsed.

One ``cmd_*`` function per command, given the parsed arguments; failures are raised
as :class:`~e2ee_mail.Error` for the entry point to report. Light to import: the
library and the keyring are imported by the command that runs.
"""

from __future__ import annotations

import os
import sys
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, BinaryIO, Literal

from ._io import write_files_atomically
from .cli_io import (
    BINARY_TO_TERMINAL,
    open_input,
    open_output,
    output_directory,
    passphrase_of,
    prompt_passphrase,
    to_terminal,
)
from .cli_status import EXIT_ERROR, EXIT_USAGE
from .errors import FormatError, PassphraseError, UsageError

if TYPE_CHECKING:
    import argparse

    from .model import Certificate, SecretKey, SignatureResult
    from .policy import Policy, Profile

__all__ = [
    "cmd_decrypt",
    "cmd_demo",
    "cmd_encrypt",
    "cmd_inspect",
    "cmd_keygen",
    "cmd_keyring",
    "cmd_rewrap",
    "cmd_sign",
    "cmd_vectors",
    "cmd_verify",
]


def _policy(args: argparse.Namespace) -> Policy:
    # The default policy with the command's options (``dataclasses.replace`` of
    # DEFAULT would import dataclasses for nothing: see policy.py).
    from . import policy

    profile: Profile = getattr(args, "profile", None) or "auto"
    return policy.Policy(
        profile=profile,
        require_post_quantum=bool(getattr(args, "require_pq", False)),
    )


def cmd_keygen(args: argparse.Namespace) -> None:
    from . import _keys_api

    profile: Literal["rfc9580", "rfc4880"] = args.profile or "rfc9580"
    if args.format == "x509" and args.profile:
        raise UsageError("--profile applies to --format openpgp only")
    passphrase = passphrase_of(args)
    key = _keys_api.generate_key(
        args.uid, format=args.format, kind=args.kind, profile=profile
    )
    secret = key.export(passphrase=passphrase or None)
    public = key.public.export()
    signer = key.signing_key
    signing = ""
    if signer is not key:
        # An X.509 X25519 identity signs with a second certificate: correspondents
        # need it to check those signatures, so the .pub carries it after the
        # encryption certificate (which readers of one certificate take).
        public += signer.public.export()
        signing = (
            f"; signs with {signer.public.algorithm}, "
            f"fingerprint {signer.public.fingerprint}"
        )
    # Both files are written and fsynced before either is renamed into place, the
    # key first: a full disk leaves neither, never a .pub whose .key is missing.
    write_files_atomically(
        [
            (args.out + ".key", secret, 0o600),
            (args.out + ".pub", public, 0o666),
        ]
    )
    print(
        f"wrote {args.out}.pub and {args.out}.key ({key.public.format} "
        f"{key.public.algorithm}, fingerprint {key.public.fingerprint}{signing})"
    )


def cmd_encrypt(args: argparse.Namespace) -> None:
    from . import _api

    mail = args.format in ("smime", "pgpmime")
    if not mail and not args.armor and to_terminal(args.output):
        # Refused before any work: the input may be the terminal too. (Without
        # --format the certificates choose cms or openpgp: binary as well.)
        raise UsageError(BINARY_TO_TERMINAL)
    if args.hcp is not None and args.format not in ("smime", "pgpmime"):
        raise UsageError("--hcp applies to --format smime and pgpmime only")
    certs = _recipients(args)
    policy = _policy(args)
    signers = _load_key_files(args, args.sign_with) if args.sign_with else None
    # Every format streams, mail too (smime/pgpmime), so memory stays bounded.
    with open_input(args.input) as src, open_output(args.output) as dst:
        _api.encrypt_stream(
            src,
            dst,
            certs,
            format=args.format,
            armor=args.armor,
            cipher=args.cipher,
            policy=policy,
            hcp=args.hcp or "baseline",
            sign_with=signers,
        )


def _load_keys(args: argparse.Namespace) -> list[SecretKey]:
    """The --key files, unlocked with the given passphrase; when none is given, a
    protected key asks for one on the terminal (stdin a terminal only, so that a
    script never hangs on a prompt)."""
    return _load_key_files(args, args.key)


def _load_key_files(args: argparse.Namespace, paths: list[str]) -> list[SecretKey]:
    """Secret key files, unlocked as :func:`_load_keys` says."""
    from . import _keys_api

    passphrase = passphrase_of(args)
    keys = []
    for path in paths:
        try:
            keys.append(_keys_api.load_key(path, passphrase))
        except PassphraseError:
            if passphrase is not None or not sys.stdin.isatty():
                raise
            passphrase = prompt_passphrase(path)
            keys.append(_keys_api.load_key(path, passphrase))
    return keys


_NOT_A_MESSAGE = "not an encrypted message (S/MIME, CMS or OpenPGP)"
#: Packet types an encrypted OpenPGP message may start with (RFC 9580 §10.3): PKESK,
#: SKESK, Symmetrically Encrypted Data, Marker, SEIPD, Padding.
_FIRST_PACKETS = frozenset((1, 3, 9, 10, 18, 21))
#: DER of id-envelopedData (RFC 5652 §6) and id-ct-authEnvelopedData (RFC 5083),
#: the content type a CMS ContentInfo names within its first octets.
_CMS_ENVELOPED = (
    b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x03",
    b"\x06\x0b\x2a\x86\x48\x86\xf7\x0d\x01\x09\x10\x01\x17",
)


def _peek_message(src: BinaryIO, *, keys: bool = False) -> BinaryIO:
    """A stream that reads as ``src`` would, once its first octets are checked.

    Input that cannot be an encrypted message (a PDF, an image, a signed-only CMS
    object) is refused here with one plain sentence, instead of the parser's view
    of its first bytes ("unexpected packet type 34"). With ``keys``, an OpenPGP key
    is let through as well (``inspect`` describes keys).

    Raises:
        FormatError: not an encrypted message.
    """
    from . import _detect
    from ._io import PrefixedReader

    head = src.read(1 << 16)
    if keys and _detect.openpgp_key_kind(head) is not None:
        # ``inspect`` describes OpenPGP keys too.
        return PrefixedReader(head, src)  # type: ignore[return-value]
    try:
        _detect.detect(head)
    except FormatError:
        raise FormatError(_NOT_A_MESSAGE) from None
    first = head[0]
    if first == 0x30 and not any(oid in head[:32] for oid in _CMS_ENVELOPED):
        raise FormatError(_NOT_A_MESSAGE)
    if first & 0x80:
        tag = first & 0x3F if first & 0x40 else (first >> 2) & 0x0F
        if tag not in _FIRST_PACKETS:
            raise FormatError(_NOT_A_MESSAGE)
    return PrefixedReader(head, src)  # type: ignore[return-value]


def _recipients(args: argparse.Namespace) -> list[Certificate]:
    """``--to``: certificate files, or addresses resolved through ``--keyring``."""
    if args.keyring is not None:
        # Only here: the keyring stays out of a plain encrypt's start-up.
        from . import cli_keyring

        return cli_keyring.recipients(
            args.to, args.keyring, args.format, lambda: passphrase_of(args)
        )
    from . import _keys_api

    for name in args.to:
        if "@" in name and not os.path.exists(name):
            raise UsageError(
                f"--to {name}: no such certificate file; to name recipients by "
                "address, give --keyring DIR"
            )
    return [_keys_api.load_certificate(path) for path in args.to]


def _decryption_keys(args: argparse.Namespace) -> list[SecretKey]:
    """``--key`` files, then the keys of ``--keyring``."""
    if not args.key and args.keyring is None:
        # Exit 2 as argparse did when --key was required (scripts rely on it).
        sys.stderr.write("e2ee-mail: error: decrypt needs --key KEY or --keyring DIR\n")
        raise SystemExit(EXIT_USAGE)
    keys = _load_keys(args) if args.key else []
    if args.keyring is not None:
        from . import cli_keyring

        keys += cli_keyring.decryption_keys(
            args.keyring, args.include_retired, lambda: passphrase_of(args)
        )
    elif args.include_retired:
        raise UsageError("--include-retired applies to --keyring only")
    return keys


def cmd_decrypt(args: argparse.Namespace) -> None:
    from . import _api

    keys = _decryption_keys(args)
    # What must wait on disk (the ciphertext of a CMS message read from a pipe, the
    # sealed plaintext of SEIPDv1) is spooled next to the output, on the filesystem
    # the result goes to anyway, not in $TMPDIR; never in clear, and nameless.
    spool_dir = None
    if args.output is not None and args.output != "-":
        spool_dir = output_directory(args.output)
    # Plaintext is private unless the caller asks otherwise: 0600 less the umask,
    # or exactly the --mode given.
    if args.mode is None:
        out = open_output(args.output, mode=0o600)
    else:
        out = open_output(args.output, mode=args.mode, umask=False)
    if args.verify_with:
        _decrypt_verified(args, keys, out)
        return
    # decrypt_stream detects the format, mail included (S/MIME, PGP/MIME).
    with open_input(args.input) as raw, out as dst:
        src = _peek_message(raw)
        _api.decrypt_stream(
            src,
            dst,
            keys,
            allow_unauthenticated=args.allow_unauthenticated,
            spool_dir=spool_dir,
        )


def _load_certificates(paths: list[str]) -> list[Certificate]:
    from . import _keys_api

    return [_keys_api.load_certificate(path) for path in paths]


def _report_good(results: tuple[SignatureResult, ...]) -> None:
    """One stderr line, "good signature from ...", naming the first good signer
    (scripts read one line; the others, if any, are as good)."""
    for result in results:
        if result.good:
            sys.stderr.write(
                f"e2ee-mail: good signature from {result.signer} "
                f"(fingerprint {result.fingerprint})\n"
            )
            return


def _decrypt_verified(
    args: argparse.Namespace,
    keys: list[SecretKey],
    out: AbstractContextManager[BinaryIO],
) -> None:
    """decrypt --verify-with: the message is opened in memory, and the output
    appears only when a good signature by one of the certificates was found (a
    signature can be checked only once the whole content is read)."""
    from . import _api

    certs = _load_certificates(args.verify_with)
    with open_input(args.input) as raw, out as dst:
        data = _peek_message(raw).read()
        verified = _api.decrypt_verified(
            data,
            keys,
            verify_with=certs,
            allow_unauthenticated=args.allow_unauthenticated,
        )
        _api.require_good(verified.signatures)
        dst.write(verified.data)
    _report_good(verified.signatures)


def cmd_sign(args: argparse.Namespace) -> None:
    from . import _api

    if not args.key:
        sys.stderr.write("e2ee-mail: error: sign needs --key KEY\n")
        raise SystemExit(EXIT_USAGE)
    keys = _load_keys(args)
    binary = args.format in (None, "cms", "openpgp") and not args.armor
    if binary and to_terminal(args.output):
        raise UsageError(BINARY_TO_TERMINAL)
    with open_input(args.input) as src, open_output(args.output) as dst:
        dst.write(
            _api.sign(
                src.read(),
                keys,
                format=args.format,
                detached=args.detached,
                armor=args.armor,
            )
        )


def cmd_verify(args: argparse.Namespace) -> None:
    from . import _api

    certs = _load_certificates(args.cert)
    signature = None
    if args.signature is not None:
        with open_input(args.signature) as sig:
            signature = sig.read()
    if args.output is None:
        with open_input(args.input) as src:
            verified = _api.verify(src.read(), certs, signature=signature)
    else:
        with open_input(args.input) as src, open_output(args.output) as dst:
            verified = _api.verify(src.read(), certs, signature=signature)
            dst.write(verified.data)
    _report_good(verified.signatures)


def cmd_inspect(args: argparse.Namespace) -> None:
    from . import _api

    with open_input(args.input) as raw:
        described = _api.inspect(_peek_message(raw, keys=True))
    print(described)


def cmd_rewrap(args: argparse.Namespace) -> None:
    from . import _api, _keys_api

    if args.mailbox:
        from . import cli_keyring

        cli_keyring.run_rewrap_mailbox(args, passphrase_of(args), _policy(args))
        return
    if not args.key or not args.to:
        # Exit 2 as argparse did when --key/--to were required (scripts rely on it).
        sys.stderr.write(
            "e2ee-mail: error: rewrap needs --key and --to "
            "(or --mailbox and --keyring)\n"
        )
        raise SystemExit(EXIT_USAGE)
    keys = _load_keys(args)
    certs = [_keys_api.load_certificate(path) for path in args.to]
    # Streamed: only the recipient entries are rewritten and the sealed body is
    # copied through in chunks, so memory stays bounded whatever the message size.
    with open_input(args.input) as raw, open_output(args.output) as dst:
        _api.rewrap_stream(_peek_message(raw), dst, keys, certs, policy=_policy(args))


def cmd_keyring(args: argparse.Namespace) -> None:
    from . import cli_keyring

    cli_keyring.run_keyring(args, open_output)


def cmd_vectors(args: argparse.Namespace) -> None:
    from . import vectors

    if args.action != "verify":
        raise UsageError("usage: e2ee-mail vectors verify [DIR]")
    failed = vectors.verify_cli(args.dir, sys.stdout)
    if failed:
        raise SystemExit(EXIT_ERROR)


def cmd_demo(args: argparse.Namespace) -> None:
    from . import _demo

    _demo.run(sys.stdout)
