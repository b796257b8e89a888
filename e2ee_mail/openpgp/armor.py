"""OpenPGP ASCII Armor (RFC 9580 §6).

Writing: the armor header line, no armor headers, a blank line, base64 in 64-column
lines, no CRC24 (RFC 9580 §6.2: a v6-only producer should not emit the checksum),
the tail line. Reading: tolerant of CRLF/LF, trailing whitespace, leading text and
armor headers; a CRC24 line is checked when present. Every failure is an ArmorError.
Base64 goes through pybase64 (PERF.md). Left out: cleartext signatures (§7).
"""

from __future__ import annotations

import binascii
import re
from typing import BinaryIO, Final

import pybase64

from ..errors import ArmorError

__all__ = [
    "BLOCK_MESSAGE",
    "BLOCK_PRIVATE_KEY",
    "BLOCK_PUBLIC_KEY",
    "ArmorWriter",
    "crc24",
    "dearmor",
    "enarmor",
    "is_armored",
]

BLOCK_MESSAGE: Final = "MESSAGE"
BLOCK_PUBLIC_KEY: Final = "PUBLIC KEY BLOCK"
BLOCK_PRIVATE_KEY: Final = "PRIVATE KEY BLOCK"
_LINE: Final = 64
_CRC24_INIT: Final = 0xB704CE
_CRC24_POLY: Final = 0x1864CFB
_BEGIN = re.compile(rb"-----BEGIN PGP ([A-Z ,/0-9]+)-----[ \t\r]*\n")


def _crc24_table() -> tuple[int, ...]:
    table = []
    for index in range(256):
        crc = index << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= _CRC24_POLY
        table.append(crc & 0xFFFFFF)
    return tuple(table)


_CRC24_TABLE: Final = _crc24_table()


def crc24(data: bytes, crc: int = _CRC24_INIT) -> int:
    """The CRC24 of RFC 9580 §6.1 (table-driven); pass ``crc`` to continue one."""
    table = _CRC24_TABLE
    for octet in data:
        crc = ((crc << 8) & 0xFFFFFF) ^ table[(crc >> 16) ^ octet]
    return crc


def is_armored(data: bytes | bytearray | memoryview) -> bool:
    """Whether ``data`` starts (after whitespace) with an armor header line."""
    return bytes(data[:1024]).lstrip().startswith(b"-----BEGIN PGP ")


def _crc_line(crc: int) -> bytes:
    return b"=" + pybase64.b64encode(crc.to_bytes(3, "big")) + b"\n"


def enarmor(
    data: bytes | bytearray | memoryview,
    block: str = BLOCK_MESSAGE,
    *,
    crc: bool = False,
) -> bytes:
    """Armor ``data`` as ``-----BEGIN PGP <block>-----`` with 64-column lines.

    ``crc`` adds the CRC24 line, which GnuPG 2.2 requires: set it for v4 output.
    """
    encoded = pybase64.b64encode(bytes(data))
    lines = [encoded[i : i + _LINE] for i in range(0, len(encoded), _LINE)]
    head = f"-----BEGIN PGP {block}-----\n\n".encode()
    tail = f"-----END PGP {block}-----\n".encode()
    body = b"\n".join(lines)
    check = _crc_line(crc24(bytes(data))) if crc else b""
    return head + body + (b"\n" if body else b"") + check + tail


def dearmor(data: bytes | bytearray | memoryview) -> tuple[str, bytes]:
    """Decode the first armored block in ``data``.

    Returns:
        (block label, e.g. "MESSAGE"; the decoded octets).

    Raises:
        ArmorError: no block, a malformed block, bad base64 or a wrong CRC24.
    """
    text = bytes(data).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    begin = _BEGIN.search(text)
    if begin is None:
        raise ArmorError("no OpenPGP armor header line (-----BEGIN PGP ...-----)")
    label = begin.group(1).decode("ascii")
    end_line = f"-----END PGP {label}-----".encode()
    end = text.find(end_line, begin.end())
    if end < 0:
        raise ArmorError(f"armor has no tail line ({end_line.decode()})")
    lines = text[begin.end() : end].split(b"\n")
    # Armor headers run up to the first blank line; RFC 9580 §6.2 requires the blank
    # line, but a block without headers and without it is accepted (some encoders).
    pos = 0
    if lines and b":" in lines[0] and not _looks_base64(lines[0]):
        while pos < len(lines) and lines[pos].strip():
            if b": " not in lines[pos] and not lines[pos].rstrip().endswith(b":"):
                raise ArmorError("malformed armor header line")
            pos += 1
    body_lines = [line.strip() for line in lines[pos:]]
    body_lines = [line for line in body_lines if line]
    checksum = None
    if body_lines and body_lines[-1].startswith(b"="):
        checksum = body_lines.pop()[1:]
    elif body_lines and b"=" in body_lines[-1] and len(body_lines[-1]) >= 5:
        # Some encoders put the checksum at the end of the last data line.
        last = body_lines[-1]
        if last[-5:-4] == b"=" and not last.endswith(b"=="):
            candidate = last[-4:]
            if _looks_base64(candidate) and (len(last) - 5) % 4 == 0:
                checksum = candidate
                body_lines[-1] = last[:-5]
    joined = b"".join(body_lines)
    try:
        decoded = pybase64.b64decode(joined, validate=True)
    except (binascii.Error, ValueError):
        raise ArmorError("armor body is not valid base64") from None
    if checksum is not None:
        try:
            expected = pybase64.b64decode(checksum, validate=True)
        except (binascii.Error, ValueError):
            raise ArmorError("armor checksum line is not valid base64") from None
        if len(expected) != 3 or int.from_bytes(expected, "big") != crc24(decoded):
            raise ArmorError("armor checksum (CRC24) does not match: data damaged")
    return label, decoded


def _looks_base64(line: bytes) -> bool:
    return bool(re.fullmatch(rb"[A-Za-z0-9+/=]+\s*", line))


class ArmorWriter:
    """Streaming armor: binary in, armored text out to ``dst`` (64-column lines).

    Input is encoded in slices of 48 KiB (a whole number of 48-octet lines), so the
    buffer stays bounded whatever the body size.
    """

    __slots__ = ("_block", "_buf", "_crc", "_dst", "_fill")

    _SLICE: Final = 48 * 1024

    def __init__(
        self, dst: BinaryIO, block: str = BLOCK_MESSAGE, *, crc: bool = False
    ) -> None:
        self._crc = _CRC24_INIT if crc else None  # GnuPG 2.2 needs it for v4 output
        self._dst = dst
        self._block = block
        self._buf = bytearray(self._SLICE)
        self._fill = 0
        dst.write(f"-----BEGIN PGP {block}-----\n\n".encode())

    def _emit(self, data: bytes | memoryview) -> None:
        if self._crc is not None:
            self._crc = crc24(bytes(data), self._crc)
        encoded = pybase64.b64encode(bytes(data))
        self._dst.write(
            b"".join(
                encoded[i : i + _LINE] + b"\n" for i in range(0, len(encoded), _LINE)
            )
        )

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Take binary octets."""
        view = memoryview(data).cast("B")
        pos = 0
        while pos < len(view):
            n = min(len(self._buf) - self._fill, len(view) - pos)
            self._buf[self._fill : self._fill + n] = view[pos : pos + n]
            self._fill += n
            pos += n
            if self._fill == len(self._buf):
                self._emit(memoryview(self._buf))
                self._fill = 0
        return len(view)

    def close(self) -> None:
        """Write the last line and the tail line."""
        if self._fill:
            self._emit(memoryview(self._buf)[: self._fill])
            self._fill = 0
        if self._crc is not None:
            self._dst.write(_crc_line(self._crc))
        self._dst.write(f"-----END PGP {self._block}-----\n".encode())
