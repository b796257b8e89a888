"""The ``e2ee-mail`` command's input, output and passphrases.

Input from a file or stdin; output through a temporary file renamed only once the
command has succeeded (stdout through a sealed spool written at the end), with binary
data kept off a terminal; the passphrase from ``--passphrase-env``,
``--passphrase-file``, ``--passphrase-fd`` or, for a protected key, the terminal.
Light to import: the command line loads it at start-up.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from ._io import atomic_writer, sealed_spool
from .errors import PassphraseError, UsageError

if TYPE_CHECKING:
    import argparse

__all__ = [
    "BINARY_TO_TERMINAL",
    "open_input",
    "open_output",
    "output_directory",
    "passphrase_of",
    "prompt_passphrase",
    "to_terminal",
]

BINARY_TO_TERMINAL = (
    "refusing to write binary data to a terminal; use -o FILE, --armor, or -o -"
)


@contextlib.contextmanager
def open_input(path: str | None) -> Iterator[BinaryIO]:
    if path is None or path == "-":
        yield sys.stdin.buffer
        return
    try:
        fh = open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"cannot read {path!r}: {exc.strerror}") from None
    with fh:
        yield fh


def to_terminal(path: str | None) -> bool:
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
def open_output(
    path: str | None, *, mode: int = 0o666, umask: bool = True
) -> Iterator[BinaryIO]:
    """Yield a file that becomes ``path`` (or stdout) only if the block succeeds.

    The file gets ``mode`` less the umask, as open(2) would create it, or ``mode``
    exactly when ``umask`` is false (``--mode``). Binary data is not written to a
    terminal unless asked for with ``-o -`` (it could hold the terminal's control
    sequences, and is unreadable there anyway).
    """
    if path is None or path == "-":
        refuse_binary = to_terminal(path)
        # Held back until the command succeeds, in a spool sealed under a key that
        # only this process holds: what waits there (a decrypted body, an exported
        # key) never rests on disk in clear, in $TMPDIR or anywhere.
        with sealed_spool() as tmp:
            yield tmp  # type: ignore[misc]
            reader = tmp.reader()
            if refuse_binary:
                head = bytes(reader.readview(1 << 16))
                if _looks_binary(head):
                    raise UsageError(BINARY_TO_TERMINAL)
                sys.stdout.buffer.write(head)
            out = sys.stdout.buffer
            while view := reader.readview(1 << 20):
                out.write(view)
            out.flush()
        return
    if path.endswith(os.sep) or os.path.isdir(path):
        raise UsageError(f"cannot write {path!r}: is a directory")
    output_directory(path)  # a clear error before anything is created
    with atomic_writer(path, mode=mode, umask=umask) as fh:
        yield fh


def output_directory(path: str) -> str:
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UsageError(f"cannot write {path!r}: no such directory")
    return directory


#: The most a passphrase file or descriptor may hold before its first line ends.
_MAX_PASSPHRASE = 1 << 16


def _first_line(data: bytes, what: str) -> bytes:
    line = data.split(b"\n", 1)[0]
    if len(line) > _MAX_PASSPHRASE:
        raise UsageError(f"{what}: the first line is longer than {_MAX_PASSPHRASE}")
    return line[:-1] if line.endswith(b"\r") else line


def passphrase_of(args: argparse.Namespace) -> bytes | None:
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


def prompt_passphrase(path: str) -> bytes:
    """Ask the terminal for the passphrase of the key in ``path`` (no echo)."""
    import getpass

    try:
        answer = getpass.getpass(f"Passphrase for {path}: ")
    except EOFError:
        answer = ""
    if not answer:
        raise PassphraseError(f"no passphrase given for {path}")
    return answer.encode("utf-8", "surrogateescape")
