"""Indirect data (draft-dkg-openpgp-stateless-cli, "Special Designators for
Indirect Inputs and Outputs"): an argument names a file, ``@ENV:NAME`` (input
only) or ``@FD:N`` (an open file descriptor, input or output).

An argument starting with "@" that is not one of those is UNSUPPORTED_SPECIAL_PREFIX;
one that is also the name of an existing file is AMBIGUOUS_INPUT, so a file can
never be mistaken for a designator or the other way round. Outputs never replace an
existing file (OUTPUT_EXISTS), checked before any work so that a failing command
writes nothing; a file is created exclusively (``O_EXCL``), so a file appearing in
between is refused too.
"""

from __future__ import annotations

import os
from typing import Final

from . import status
from .status import SopError

__all__ = [
    "check_output",
    "read_input",
    "read_password",
    "write_output",
]

_ENV: Final = "@ENV:"
_FD: Final = "@FD:"


def _fd_number(spec: str) -> int:
    digits = spec[len(_FD) :]
    if not digits.isdigit():
        raise SopError(
            status.UNSUPPORTED_SPECIAL_PREFIX, f"{spec}: @FD: takes a descriptor number"
        )
    return int(digits)


def _special(spec: str, *, output: bool) -> None:
    """Refuse an "@" argument that is ambiguous or not a designator we know."""
    if os.path.lexists(spec):
        raise SopError(
            status.AMBIGUOUS_INPUT,
            f"{spec}: both a file and a special designator; rename the file",
        )
    known = (_FD,) if output else (_ENV, _FD)
    if not spec.startswith(known):
        allowed = "@FD:" if output else "@ENV: and @FD:"
        raise SopError(
            status.UNSUPPORTED_SPECIAL_PREFIX,
            f"{spec}: unsupported special designator (only {allowed} here)",
        )


def read_input(spec: str, *, what: str) -> bytes:
    """The octets ``spec`` names.

    Raises:
        SopError: MISSING_INPUT (no such file, variable or descriptor),
            UNSUPPORTED_SPECIAL_PREFIX, AMBIGUOUS_INPUT.
    """
    if spec.startswith("@"):
        _special(spec, output=False)
        if spec.startswith(_ENV):
            value = os.environb.get(
                spec[len(_ENV) :].encode("utf-8", "surrogateescape")
            )
            if value is None:
                raise SopError(status.MISSING_INPUT, f"{what} {spec}: not set")
            return value
        return _read_fd(_fd_number(spec), spec, what)
    try:
        with open(spec, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise SopError(
            status.MISSING_INPUT, f"{what} {spec}: {exc.strerror or 'unreadable'}"
        ) from None


def _read_fd(fd: int, spec: str, what: str) -> bytes:
    chunks = []
    try:
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    except OSError as exc:
        raise SopError(
            status.MISSING_INPUT, f"{what} {spec}: {exc.strerror or 'unreadable'}"
        ) from None
    return b"".join(chunks)


def check_output(spec: str | None) -> None:
    """Refuse an output argument before any work: an existing file, or a
    designator that cannot be written.

    Raises:
        SopError: OUTPUT_EXISTS, UNSUPPORTED_SPECIAL_PREFIX, AMBIGUOUS_INPUT.
    """
    if spec is None:
        return
    if spec.startswith("@"):
        _special(spec, output=True)
        fd = _fd_number(spec)
        try:
            os.fstat(fd)
        except OSError:
            raise SopError(
                status.MISSING_INPUT, f"{spec}: no such open file descriptor"
            ) from None
        return
    if os.path.lexists(spec):
        raise SopError(status.OUTPUT_EXISTS, f"{spec}: exists; it is not replaced")


def write_output(spec: str, data: bytes) -> None:
    """Write ``data`` where ``spec`` says (checked by :func:`check_output`).

    Raises:
        SopError: OUTPUT_EXISTS (a file appeared meanwhile), MISSING_INPUT (the
            directory or descriptor is not writable).
    """
    if spec.startswith("@"):
        fd = _fd_number(spec)
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(fd, view) :]
        except OSError as exc:
            raise SopError(status.MISSING_INPUT, f"{spec}: {exc.strerror}") from None
        return
    try:
        with open(spec, "xb") as handle:
            handle.write(data)
    except FileExistsError:
        raise SopError(
            status.OUTPUT_EXISTS, f"{spec}: exists; it is not replaced"
        ) from None
    except OSError as exc:
        raise SopError(
            status.MISSING_INPUT, f"{spec}: {exc.strerror or 'not writable'}"
        ) from None


def read_password(spec: str, *, what: str, human: bool) -> list[bytes]:
    """The password(s) to try from ``spec``: as given, then without trailing
    whitespace (the draft asks readers to try both, since a file or variable
    often ends with a newline).

    ``human``: a password that protects something new must be UTF-8 and is
    used without trailing whitespace alone.

    Raises:
        SopError: as :func:`read_input`; PASSWORD_NOT_HUMAN_READABLE.
    """
    raw = read_input(spec, what=what)
    stripped = raw.rstrip()
    if human:
        try:
            stripped.decode("utf-8")
        except UnicodeDecodeError:
            raise SopError(
                status.PASSWORD_NOT_HUMAN_READABLE, f"{what} {spec} is not UTF-8 text"
            ) from None
        return [stripped]
    return [raw] if raw == stripped else [raw, stripped]
