"""The ``e2ee-mail`` command (stable: scripts depend on its options and exit codes).

Exit 0 on success; otherwise exactly one line ``e2ee-mail: error: ...`` on stderr, a
non-zero status that says what went wrong (:data:`EXIT_CODES`), and nothing written
to the output path: output goes to a temporary file next to the target and is renamed
only once the whole operation has succeeded. Output to stdout is held back the same
way and written at the end; a reader that goes away early (``| head``) ends the
command quietly with status 141, as a program killed by SIGPIPE reports in a shell.
SIGINT, SIGTERM and SIGHUP end a command the same way: its temporary files are
removed and it exits 128 + the signal number (130, 143, 129), as a shell reports a
command that a signal ended.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, NoReturn

from ._io import (
    atomic_writer,
    remove_temporaries,
    sealed_spool,
    write_files_atomically,
)
from .errors import (
    DecryptionError,
    Error,
    FormatError,
    NoMatchingKeyError,
    PassphraseError,
    UsageError,
)

if TYPE_CHECKING:
    from .model import Certificate, SecretKey
    from .policy import Policy, Profile

# Start-up: importing this module costs argparse and the exception classes only. The
# library (`_api`, hence `policy`, `dataclasses` and `cryptography`) is imported by
# the command that runs; the formats by the library when a message needs them.

__all__ = ["main"]

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NO_KEY = 3
EXIT_BAD_INPUT = 4
EXIT_PASSPHRASE = 5
#: The status of a command ended by signal N is this + N (what shells report).
EXIT_SIGNAL_BASE = 128
#: 128 + SIGPIPE: what a shell reports for a program its reader left (``| head``).
EXIT_BROKEN_PIPE = EXIT_SIGNAL_BASE + 13

#: Status -> meaning, for --help and the README.
EXIT_CODES: dict[int, str] = {
    0: "success",
    EXIT_ERROR: "any other failure (refused by policy, unsupported, I/O, keyring)",
    EXIT_USAGE: "usage: bad option, unreadable input, -o DIR, binary data for a tty",
    EXIT_NO_KEY: "no matching key: the message names none of the keys given",
    EXIT_BAD_INPUT: "not an encrypted message, damaged input, or decryption failed",
    EXIT_PASSPHRASE: "passphrase missing or wrong",
    EXIT_SIGNAL_BASE + 1: "ended by SIGHUP, its temporary files removed",
    EXIT_SIGNAL_BASE + 2: "interrupted (SIGINT, Ctrl-C), its temporary files removed",
    EXIT_BROKEN_PIPE: "the reader of stdout went away (| head): output cut short",
    EXIT_SIGNAL_BASE + 15: "ended by SIGTERM, its temporary files removed",
}

_BINARY_TO_TERMINAL = (
    "refusing to write binary data to a terminal; use -o FILE, --armor, or -o -"
)


class _Terminated(BaseException):
    """Raised in the main thread by SIGINT, SIGTERM or SIGHUP.

    A BaseException, as KeyboardInterrupt is, so that no ``except Exception`` stops
    it: it unwinds through every ``finally`` and context manager, which remove their
    temporary files, up to :func:`main`.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _terminate(signum: int, frame: object) -> None:
    import signal

    # One is enough: a second signal must not interrupt the clean-up the first one
    # starts (SIGKILL remains for a clean-up that hangs).
    for name in _SIGNALS:
        other = getattr(signal, name, None)
        if other is not None:
            signal.signal(other, signal.SIG_IGN)
    raise _Terminated(signum)


#: The signals that end a command with its clean-up.
_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


@contextlib.contextmanager
def _signals_end_cleanly() -> Iterator[None]:
    """Route :data:`_SIGNALS` to :func:`_terminate` for the block, then restore them.

    A signal its parent set to be ignored (``nohup``, a background job's SIGINT)
    stays ignored; and outside the main thread nothing changes (only the main
    thread may set handlers, as when :func:`main` runs inside another program).
    """
    import signal

    saved: dict[int, Any] = {}
    try:
        for name in _SIGNALS:
            signum = getattr(signal, name, None)
            if signum is None:  # no SIGHUP on Windows
                continue
            previous = signal.getsignal(signum)
            if previous == signal.SIG_IGN:
                continue
            try:
                signal.signal(signum, _terminate)
            except ValueError:  # not the main thread: leave every handler alone
                break
            saved[signum] = previous
        yield
    finally:
        for signum, previous in saved.items():
            signal.signal(signum, previous)


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``, without importing ``shutil``."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        # sys.__stdout__ may be None: the AttributeError is caught, as in shutil.
        fileno = sys.__stdout__.fileno()  # type: ignore[union-attr]
        return os.get_terminal_size(fileno).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, given its width so that it never imports ``shutil``.

    argparse builds a formatter for every ``add_argument`` and, without a width,
    imports ``shutil`` (with ``bz2``, ``lzma`` and ``zlib``) to ask the terminal's:
    milliseconds of every command's start-up for a help text it never prints. The
    width is the one argparse would have computed. Descriptions and epilogs are
    printed as written (the exit status table keeps its columns); option help is
    wrapped as usual.
    """

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"e2ee-mail: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


@contextlib.contextmanager
def _input(path: str | None) -> Iterator[BinaryIO]:
    if path is None or path == "-":
        yield sys.stdin.buffer
        return
    try:
        fh = open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"cannot read {path!r}: {exc.strerror}") from None
    with fh:
        yield fh


def _to_terminal(path: str | None) -> bool:
    """Whether output goes to a terminal by default (no -o, or none but "-")."""
    return path is None and sys.stdout.isatty()


def _looks_binary(head: bytes) -> bool:
    """Whether ``head`` (the first octets of some output) is not text a terminal
    shows as such: a control character other than white space, backspace and ESC,
    or octets that are not UTF-8 (a character cut at the end of ``head`` aside)."""
    import re

    if re.search(rb"[\x00-\x07\x0e-\x1a\x1c-\x1f\x7f]", head):
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return not (exc.reason == "unexpected end of data" and exc.end == len(head))
    return False


@contextlib.contextmanager
def _output(
    path: str | None, *, mode: int = 0o666, umask: bool = True
) -> Iterator[BinaryIO]:
    """Yield a file that becomes ``path`` (or stdout) only if the block succeeds.

    The file gets ``mode`` less the umask, as open(2) would create it, or ``mode``
    exactly when ``umask`` is false (``--mode``). Binary data is not written to a
    terminal unless asked for with ``-o -`` (it could hold the terminal's control
    sequences, and is unreadable there anyway).
    """
    if path is None or path == "-":
        refuse_binary = _to_terminal(path)
        # Held back until the command succeeds, in a spool sealed under a key that
        # only this process holds: what waits there (a decrypted body, an exported
        # key) never rests on disk in clear, in $TMPDIR or anywhere.
        with sealed_spool() as tmp:
            yield tmp  # type: ignore[misc]
            reader = tmp.reader()
            if refuse_binary:
                head = bytes(reader.readview(1 << 16))
                if _looks_binary(head):
                    raise UsageError(_BINARY_TO_TERMINAL)
                sys.stdout.buffer.write(head)
            out = sys.stdout.buffer
            while view := reader.readview(1 << 20):
                out.write(view)
            out.flush()
        return
    if path.endswith(os.sep) or os.path.isdir(path):
        raise UsageError(f"cannot write {path!r}: is a directory")
    _output_directory(path)  # a clear error before anything is created
    with atomic_writer(path, mode=mode, umask=umask) as fh:
        yield fh


def _output_directory(path: str) -> str:
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UsageError(f"cannot write {path!r}: no such directory")
    return directory


def _policy(args: argparse.Namespace) -> Policy:
    import dataclasses

    from .policy import DEFAULT

    profile: Profile = getattr(args, "profile", None) or "auto"
    return dataclasses.replace(DEFAULT, profile=profile)


#: The most a passphrase file or descriptor may hold before its first line ends.
_MAX_PASSPHRASE = 1 << 16


def _first_line(data: bytes, what: str) -> bytes:
    line = data.split(b"\n", 1)[0]
    if len(line) > _MAX_PASSPHRASE:
        raise UsageError(f"{what}: the first line is longer than {_MAX_PASSPHRASE}")
    return line[:-1] if line.endswith(b"\r") else line


def _passphrase(args: argparse.Namespace) -> bytes | None:
    """The passphrase from --passphrase-env, --passphrase-file or --passphrase-fd
    (the first line of a file or descriptor, without its line end), or None.

    Read once: the key files and a keyring may both need it, and a descriptor
    cannot be read twice.
    """
    if "_passphrase" not in vars(args):
        args._passphrase = _read_passphrase(args)
    passphrase: bytes | None = args._passphrase
    return passphrase


def _read_passphrase(args: argparse.Namespace) -> bytes | None:
    var = getattr(args, "passphrase_env", None)
    if var:
        value = os.environ.get(var)
        if value is None:
            raise UsageError(
                f"environment variable {var} (--passphrase-env) is not set"
            )
        return value.encode("utf-8", "surrogateescape")
    path = getattr(args, "passphrase_file", None)
    if path is not None:
        try:
            with open(path, "rb") as fh:
                data = fh.read(_MAX_PASSPHRASE + 2)
        except OSError as exc:
            raise UsageError(
                f"cannot read {path!r} (--passphrase-file): {exc.strerror}"
            ) from None
        return _first_line(data, f"--passphrase-file {path}")
    fd = getattr(args, "passphrase_fd", None)
    if fd is not None:
        if fd == 0 and getattr(args, "input", None) in (None, "-"):
            raise UsageError("--passphrase-fd 0 needs -i FILE: stdin holds the input")
        return _first_line(_read_line_from(fd), f"--passphrase-fd {fd}")
    return None


def _read_line_from(fd: int) -> bytes:
    """Octets from ``fd`` up to its first line end or its end (bounded)."""
    data = b""
    while b"\n" not in data and len(data) <= _MAX_PASSPHRASE:
        try:
            chunk = os.read(fd, 4096)
        except OSError as exc:
            raise UsageError(
                f"cannot read --passphrase-fd {fd}: {exc.strerror}"
            ) from None
        if not chunk:
            break
        data += chunk
    return data


def _prompt(path: str) -> bytes:
    """Ask the terminal for the passphrase of the key in ``path`` (no echo)."""
    import getpass

    try:
        answer = getpass.getpass(f"Passphrase for {path}: ")
    except EOFError:
        answer = ""
    if not answer:
        raise PassphraseError(f"no passphrase given for {path}")
    return answer.encode("utf-8", "surrogateescape")


def _cmd_keygen(args: argparse.Namespace) -> None:
    from . import _keys_api

    profile: Literal["rfc9580", "rfc4880"] = args.profile or "rfc9580"
    if args.format == "x509" and args.profile:
        raise UsageError("--profile applies to --format openpgp only")
    passphrase = _passphrase(args)
    key = _keys_api.generate_key(
        args.uid, format=args.format, kind=args.kind, profile=profile
    )
    secret = key.export(passphrase=passphrase or None)
    # Both files are written and fsynced before either is renamed into place, the
    # key first: a full disk leaves neither, never a .pub whose .key is missing.
    write_files_atomically(
        [
            (args.out + ".key", secret, 0o600),
            (args.out + ".pub", key.public.export(), 0o666),
        ]
    )
    print(
        f"wrote {args.out}.pub and {args.out}.key ({key.public.format} "
        f"{key.public.algorithm}, fingerprint {key.public.fingerprint})"
    )


def _cmd_encrypt(args: argparse.Namespace) -> None:
    from . import _api

    mail = args.format in ("smime", "pgpmime")
    if not mail and not args.armor and _to_terminal(args.output):
        # Refused before any work: the input may be the terminal too. (Without
        # --format the certificates choose cms or openpgp: binary as well.)
        raise UsageError(_BINARY_TO_TERMINAL)
    if args.hcp is not None and args.format not in ("smime", "pgpmime"):
        raise UsageError("--hcp applies to --format smime and pgpmime only")
    certs = _recipients(args)
    policy = _policy(args)
    # Every format streams, mail too (smime/pgpmime), so memory stays bounded.
    with _input(args.input) as src, _output(args.output) as dst:
        _api.encrypt_stream(
            src,
            dst,
            certs,
            format=args.format,
            armor=args.armor,
            cipher=args.cipher,
            policy=policy,
            hcp=args.hcp or "baseline",
        )


def _load_keys(args: argparse.Namespace) -> list[SecretKey]:
    """The --key files, unlocked with the given passphrase; when none is given, a
    protected key asks for one on the terminal (stdin a terminal only, so that a
    script never hangs on a prompt)."""
    from . import _keys_api

    passphrase = _passphrase(args)
    keys = []
    for path in args.key:
        try:
            keys.append(_keys_api.load_key(path, passphrase))
        except PassphraseError:
            if passphrase is not None or not sys.stdin.isatty():
                raise
            passphrase = _prompt(path)
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


def _peek_message(src: BinaryIO) -> BinaryIO:
    """A stream that reads as ``src`` would, once its first octets are checked.

    Input that cannot be an encrypted message (a PDF, an image, a signed-only CMS
    object) is refused here with one plain sentence, instead of the parser's view
    of its first bytes ("unexpected packet type 34").

    Raises:
        FormatError: not an encrypted message.
    """
    from . import _detect
    from ._io import PrefixedReader

    head = src.read(1 << 16)
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
            args.to, args.keyring, args.format, lambda: _passphrase(args)
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
            args.keyring, args.include_retired, lambda: _passphrase(args)
        )
    elif args.include_retired:
        raise UsageError("--include-retired applies to --keyring only")
    return keys


def _cmd_decrypt(args: argparse.Namespace) -> None:
    from . import _api

    keys = _decryption_keys(args)
    # What must wait on disk (the ciphertext of a CMS message read from a pipe, the
    # sealed plaintext of SEIPDv1) is spooled next to the output, on the filesystem
    # the result goes to anyway, not in $TMPDIR; never in clear, and nameless.
    spool_dir = None
    if args.output is not None and args.output != "-":
        spool_dir = _output_directory(args.output)
    # Plaintext is private unless the caller asks otherwise: 0600 less the umask,
    # or exactly the --mode given.
    if args.mode is None:
        out = _output(args.output, mode=0o600)
    else:
        out = _output(args.output, mode=args.mode, umask=False)
    # decrypt_stream detects the format, mail included (S/MIME, PGP/MIME).
    with _input(args.input) as raw, out as dst:
        src = _peek_message(raw)
        _api.decrypt_stream(
            src,
            dst,
            keys,
            allow_unauthenticated=args.allow_unauthenticated,
            spool_dir=spool_dir,
        )


def _cmd_inspect(args: argparse.Namespace) -> None:
    from . import _api

    with _input(args.input) as raw:
        described = _api.inspect(_peek_message(raw))
    print(described)


def _cmd_rewrap(args: argparse.Namespace) -> None:
    from . import _api, _keys_api

    if args.mailbox:
        from . import cli_keyring

        cli_keyring.run_rewrap_mailbox(args, _passphrase(args))
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
    with _input(args.input) as raw, _output(args.output) as dst:
        _api.rewrap_stream(_peek_message(raw), dst, keys, certs)


def _cmd_keyring(args: argparse.Namespace) -> None:
    from . import cli_keyring

    cli_keyring.run_keyring(args, _output)


def _cmd_vectors(args: argparse.Namespace) -> None:
    from . import vectors

    if args.action != "verify":
        raise UsageError("usage: e2ee-mail vectors verify [DIR]")
    failed = vectors.verify_cli(args.dir, sys.stdout)
    if failed:
        raise SystemExit(EXIT_ERROR)


def _cmd_demo(args: argparse.Namespace) -> None:
    from . import _demo

    _demo.run(sys.stdout)


_INPUT_HELP = "read from IN (default: stdin)"
_OUTPUT_HELP = (
    "write to OUT, which appears only once the command succeeded (default: "
    "stdout; binary data goes to a terminal only with -o -)"
)


def _passphrase_options(p: argparse.ArgumentParser, use: str, note: str = "") -> None:
    """--passphrase-env, --passphrase-file, --passphrase-fd (one at most): "``use``
    from ..." says what the passphrase is for; ``note`` ends the last help text."""
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--passphrase-env",
        metavar="VAR",
        help=f"{use} from environment variable VAR",
    )
    group.add_argument(
        "--passphrase-file",
        metavar="FILE",
        help=f"{use} from the first line of FILE",
    )
    group.add_argument(
        "--passphrase-fd",
        type=_descriptor,
        metavar="N",
        help=f"{use} from the first line read from file descriptor N{note}",
    )


def _descriptor(text: str) -> int:
    """``--passphrase-fd``: a file descriptor number."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a file descriptor number")
    return int(text)


def _key_options(
    p: argparse.ArgumentParser,
    *,
    required: bool,
    use: str = "unlock the --key files with the passphrase",
) -> None:
    p.add_argument(
        "--key",
        action="append",
        required=required,
        metavar="KEY",
        help="secret key file (PKCS#8 or OpenPGP); repeat for several keys",
    )
    _passphrase_options(
        p,
        use,
        "; with none of these, a protected key asks for its passphrase on the "
        "terminal (when stdin is a terminal)",
    )


def _configure_keygen(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format",
        choices=["openpgp", "x509"],
        default="openpgp",
        help="OpenPGP key or X.509 certificate and key (default: openpgp)",
    )
    p.add_argument(
        "--kind",
        choices=["x25519", "rsa3072", "rsa4096"],
        default="x25519",
        help="key algorithm (default: x25519)",
    )
    p.add_argument(
        "--profile",
        choices=["rfc9580", "rfc4880"],
        help="OpenPGP key version: v6 (rfc9580, the default) or v4 for GnuPG 2.2",
    )
    p.add_argument(
        "--uid",
        required=True,
        help='user ID: "Name <addr>" or a bare address',
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="PREFIX",
        help="write PREFIX.pub (certificate) and PREFIX.key (secret key, 0600)",
    )
    _passphrase_options(p, "protect PREFIX.key with the passphrase")


def _configure_encrypt(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format",
        choices=["openpgp", "cms", "pgpmime", "smime"],
        help="openpgp or cms encrypt IN as it is; pgpmime or smime take a whole "
        "mail (RFC 5322) and write the encrypted mail (default: cms for X.509 "
        "certificates, openpgp for OpenPGP ones)",
    )
    p.add_argument(
        "--to",
        action="append",
        required=True,
        metavar="CERT",
        help="recipient certificate file (X.509 for cms/smime, OpenPGP for "
        "openpgp/pgpmime), or with --keyring an address; repeat for several "
        "recipients",
    )
    p.add_argument(
        "--armor",
        action="store_true",
        help="ASCII armor (openpgp) or PEM (cms) instead of binary",
    )
    p.add_argument(
        "--profile",
        choices=["auto", "rfc9580", "rfc4880"],
        help="OpenPGP container: auto picks SEIPDv2 (rfc9580) when every recipient "
        "supports it, else SEIPDv1 (rfc4880) (default: auto)",
    )
    p.add_argument(
        "--cipher",
        choices=["aes-256-gcm", "aes-256-cbc"],
        default="aes-256-gcm",
        help="aes-256-cbc writes legacy, unauthenticated CMS EnvelopedData for old "
        "S/MIME clients (cms/smime only; default: aes-256-gcm)",
    )
    p.add_argument(
        "--hcp",
        choices=["baseline", "minimal", "shy", "no-confidentiality"],
        help="smime/pgpmime: which header fields the outer mail shows (RFC 9788 "
        "header confidentiality policy; default baseline: Subject [...], "
        "Keywords and Comments left out, every other field as it is)",
    )
    p.add_argument("-i", dest="input", metavar="IN", help=_INPUT_HELP)
    p.add_argument("-o", dest="output", metavar="OUT", help=_OUTPUT_HELP)
    p.add_argument(
        "--keyring",
        metavar="DIR",
        help="--to may name recipients by address: their active certificate in "
        "this keyring (of the format --format asks for)",
    )
    _passphrase_options(p, "unlock a protected --keyring with the passphrase")


def _configure_decrypt(p: argparse.ArgumentParser) -> None:
    _key_options(
        p,
        required=False,
        use="unlock the --key files (and a protected --keyring) with the passphrase",
    )
    p.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        help="also open legacy CMS EnvelopedData (AES-CBC, no integrity)",
    )
    p.add_argument("-i", dest="input", metavar="IN", help=_INPUT_HELP)
    p.add_argument("-o", dest="output", metavar="OUT", help=_OUTPUT_HELP)
    p.add_argument(
        "--mode",
        type=_file_mode,
        metavar="OCTAL",
        help="permissions of OUT, exactly (default: 0600 less the umask)",
    )
    p.add_argument(
        "--keyring",
        metavar="DIR",
        help="also try this keyring's keys: active and decrypt-only versions",
    )
    p.add_argument(
        "--include-retired",
        action="store_true",
        help="with --keyring: retired versions too",
    )


def _file_mode(text: str) -> int:
    """``--mode``: permission bits in octal, as chmod(1) takes them."""
    try:
        mode = int(text, 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o777:
        raise argparse.ArgumentTypeError(f"{text!r} is not an octal mode (0 to 777)")
    return mode


def _configure_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("-i", dest="input", metavar="IN", help=_INPUT_HELP)


def _configure_rewrap(p: argparse.ArgumentParser) -> None:
    _key_options(
        p,
        required=False,
        use="unlock the --key files (or the --keyring) with the passphrase",
    )
    p.add_argument(
        "--to",
        action="append",
        metavar="CERT",
        help="new recipient certificate file; repeat for several recipients",
    )
    p.add_argument(
        "-i",
        dest="input",
        metavar="IN",
        help="read the message (CMS, OpenPGP, S/MIME or PGP/MIME mail) from IN "
        "(default: stdin)",
    )
    p.add_argument("-o", dest="output", metavar="OUT", help=_OUTPUT_HELP)
    from . import cli_keyring

    cli_keyring.configure_rewrap(p)


def _configure_keyring(p: argparse.ArgumentParser) -> None:
    from . import cli_keyring

    cli_keyring.configure_keyring(p)


def _configure_vectors(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["verify"], help="run every test vector")
    p.add_argument(
        "dir",
        nargs="?",
        default=None,
        metavar="DIR",
        help="the vectors directory (default: the one next to the package)",
    )


def _configure_nothing(p: argparse.ArgumentParser) -> None:
    pass


_Configure = Callable[[argparse.ArgumentParser], None]

#: name -> (handler, help, argument set), in the order ``--help`` lists them.
_COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], None], str, _Configure]] = {
    "keygen": (
        _cmd_keygen,
        "generate a key pair (PREFIX.pub, PREFIX.key)",
        _configure_keygen,
    ),
    "encrypt": (
        _cmd_encrypt,
        "encrypt a body (openpgp, cms) or a mail (smime, pgpmime)",
        _configure_encrypt,
    ),
    "decrypt": (
        _cmd_decrypt,
        "decrypt any supported message (format detected)",
        _configure_decrypt,
    ),
    "inspect": (
        _cmd_inspect,
        "describe a message without any key",
        _configure_inspect,
    ),
    "rewrap": (
        _cmd_rewrap,
        "re-key a message without re-encrypting its body",
        _configure_rewrap,
    ),
    "keyring": (
        _cmd_keyring,
        "manage a keyring: key versions and rotation",
        _configure_keyring,
    ),
    "vectors": (_cmd_vectors, "verify test vectors", _configure_vectors),
    "demo": (
        _cmd_demo,
        "encrypt and decrypt a built-in sample mail with throwaway keys",
        _configure_nothing,
    ),
}


def _build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ``argv``: only the chosen command's arguments when it is named.

    Building every sub-parser cost about a third of the CLI's start-up above the
    import floor (argparse looks up gettext catalogues for each one; the keyring
    commands add sixteen). When ``argv`` starts with a known command only that
    sub-parser exists, which parses exactly as the full parser would (no sibling is
    reachable after the command word); anything else (``--help``, no command, an
    unknown one) gets the full parser and its usual messages.
    """
    from . import __version__

    parser = _Parser(
        prog="e2ee-mail",
        description="End-to-end encrypted mail: S/MIME and OpenPGP.",
        epilog=_EPILOG,
    )
    parser.add_argument(
        "--version", action="version", version=f"e2ee-mail {__version__}"
    )
    sub = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, metavar="COMMAND"
    )
    chosen = argv[0] if argv and argv[0] in _COMMANDS else None
    for name, (func, help_text, configure) in _COMMANDS.items():
        if chosen is not None and name != chosen:
            continue
        epilog = _EPILOG if name in _STATUS_COMMANDS else None
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=epilog)
        p.set_defaults(func=func)
        configure(p)
    return parser


#: The commands whose --help lists the exit statuses (as ``e2ee-mail --help`` does).
_STATUS_COMMANDS = frozenset(("encrypt", "decrypt", "inspect", "rewrap"))
_EPILOG = "exit status:\n" + "\n".join(
    f"  {code:<5}{meaning}" for code, meaning in EXIT_CODES.items()
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (see :data:`EXIT_CODES`)."""
    if argv is None:
        argv = sys.argv[1:]
    try:
        parser = _build_parser(argv)
        args = parser.parse_args(argv)
        with _signals_end_cleanly():
            try:
                args.func(args)
            finally:
                # The blocks that made them remove their temporary files as the
                # exception passes; a signal inside one of those clean-ups would
                # skip the rest of it, so sweep up (a no-op when all went well).
                remove_temporaries()
    except BrokenPipeError:
        return _reader_gone()
    except _Terminated as exc:
        return _signalled(exc.signum)
    except KeyboardInterrupt:  # SIGINT while its handler is Python's own
        import signal

        return _signalled(signal.SIGINT)
    except Error as exc:
        sys.stderr.write(f"e2ee-mail: error: {_one_line(exc)}\n")
        return _status(exc)
    except OSError as exc:
        sys.stderr.write(f"e2ee-mail: error: {_one_line(exc)}\n")
        return EXIT_ERROR
    return 0


def _status(exc: Error) -> int:
    """The exit status for a library error: what a script can act on."""
    if isinstance(exc, UsageError):
        return EXIT_USAGE
    if isinstance(exc, PassphraseError):
        return EXIT_PASSPHRASE
    if isinstance(exc, NoMatchingKeyError):
        return EXIT_NO_KEY
    if isinstance(exc, FormatError | DecryptionError):
        return EXIT_BAD_INPUT
    return EXIT_ERROR


def _reader_gone() -> int:
    """The reader of stdout closed it (``| head``): stop without a word.

    What is still buffered for stdout can never be written, and the interpreter
    would report that failure when it flushes at exit: stdout is pointed at
    /dev/null first.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return EXIT_BROKEN_PIPE


def _signalled(signum: int) -> int:
    import signal

    name = signal.Signals(signum).name
    reason = "interrupted" if name == "SIGINT" else f"terminated by {name}"
    sys.stderr.write(f"e2ee-mail: error: {reason}\n")
    return EXIT_SIGNAL_BASE + signum


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


if __name__ == "__main__":
    raise SystemExit(main())
