"""OpenPGP ASCII Armor (RFC 9580 §6).

Writing: the armor header line, no armor headers, a blank line, base64 in 64-column
lines, no CRC24 (RFC 9580 §6.2: a v6-only producer should not emit the checksum),
the tail line. Reading: tolerant of CRLF/LF, trailing whitespace, leading text and
armor headers; a CRC24 line is checked when present on blocks up to 64 KiB (see
:data:`CRC_CHECK_LIMIT`). Every failure is an ArmorError.
Base64 goes through pybase64 (PERF.md); :class:`ArmorWriter` and :class:`ArmorReader`
stream in bounded memory. Left out: cleartext signatures (§7).
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
    "ArmorReader",
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
#: Octets encoded per slice: whole 48-octet lines (PERF.md: batch the base64).
_SLICE_OCTETS: Final = 48 * 1024
#: Precomputed line slices of one encoded slice: ``map`` over them keeps the line
#: splitting in C (2x faster than a Python loop).
_LINE_SLICES: Final = tuple(
    slice(i, i + _LINE) for i in range(0, _SLICE_OCTETS * 4 // 3, _LINE)
)
_CRC24_INIT: Final = 0xB704CE
_CRC24_POLY: Final = 0x1864CFB
#: The CRC24 line is checked for blocks up to this size (keys, short messages), where
#: a mismatch means transport damage and says so more helpfully than a later parse
#: error. Larger bodies are not checked: RFC 9580 §6.1 forbids rejecting an object
#: for its CRC, AEAD/MDC authenticate messages anyway, and the pure-Python CRC24
#: runs at ~2 MB/s.
CRC_CHECK_LIMIT: Final = 1 << 16
_WHITESPACE: Final = b" \t\r\n"
_LINE_SPACE = re.compile(rb"[ \t]*\n[ \t]*")
_CRC_TAIL = re.compile(rb"(?:^|\n)[ \t]*=([A-Za-z0-9+/]{4})[ \t]*\n?[ \t]*$")
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
    view = memoryview(data).cast("B")
    body = b"\n".join(
        _wrap(pybase64.b64encode(view[i : i + _SLICE_OCTETS]))
        for i in range(0, len(view), _SLICE_OCTETS)
    )
    head = f"-----BEGIN PGP {block}-----\n\n".encode()
    tail = f"-----END PGP {block}-----\n".encode()
    check = _crc_line(crc24(bytes(data))) if crc else b""
    return head + body + (b"\n" if body else b"") + check + tail


def dearmor(data: bytes | bytearray | memoryview) -> tuple[str, bytes]:
    """Decode the first armored block in ``data``.

    Returns:
        (block label, e.g. "MESSAGE"; the decoded octets).

    Raises:
        ArmorError: no block, a malformed block, bad base64 or a wrong CRC24.
    """
    text = bytes(data)
    if b"\r" in text:
        text = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    begin = _BEGIN.search(text)
    if begin is None:
        raise ArmorError("no OpenPGP armor header line (-----BEGIN PGP ...-----)")
    label = begin.group(1).decode("ascii")
    end_line = f"-----END PGP {label}-----".encode()
    end = text.find(end_line, begin.end())
    if end < 0:
        raise ArmorError(f"armor has no tail line ({end_line.decode()})")
    body = text[begin.end() : end]
    # Armor headers run up to the first blank line; RFC 9580 §6.2 requires the blank
    # line, but a block without headers and without it is accepted (some encoders).
    first = body[: body.find(b"\n")] if b"\n" in body[:1024] else body[:1024]
    if b":" in first and not _looks_base64(first):
        blank = body.find(b"\n\n")
        headers = body[: blank if blank >= 0 else len(body)].split(b"\n")
        for line in headers:
            if b": " not in line and not line.rstrip().endswith(b":"):
                raise ArmorError("malformed armor header line")
        body = body[blank + 1 :] if blank >= 0 else b""
    checksum = None
    body, checksum = _split_crc(body)
    try:
        decoded = pybase64.b64decode(_base64_chars(body), validate=True)
    except (binascii.Error, ValueError):
        raise ArmorError("armor body is not valid base64") from None
    if checksum is not None and len(decoded) <= CRC_CHECK_LIMIT:
        _check_crc(checksum, crc24(decoded))
    return label, decoded


def _wrap(encoded: bytes) -> bytes:
    """Base64 text (at most one slice) cut into 64-column lines, no final newline."""
    count = -(-len(encoded) // _LINE)
    return b"\n".join(map(encoded.__getitem__, _LINE_SLICES[:count]))


def _split_crc(body: bytes) -> tuple[bytes, bytes | None]:
    """Split off a CRC24 line at the end of ``body`` (only the tail is searched)."""
    tail_start = max(0, len(body) - 128)
    found = _CRC_TAIL.search(body, tail_start)
    if found is None:
        return body, None
    return body[: found.start()], found.group(1)


def _base64_chars(text: bytes) -> bytes:
    """The base64 characters of armor lines. Whitespace around lines is tolerated,
    inside a line it is left in place (and so refused by the decoder)."""
    if b" " in text or b"\t" in text:
        text = _LINE_SPACE.sub(b"\n", text.strip(_WHITESPACE))
    return text.translate(None, b"\r\n")


def _check_crc(checksum: bytes, computed: int) -> None:
    expected = pybase64.b64decode(checksum, validate=True)
    if int.from_bytes(expected, "big") != computed:
        raise ArmorError("armor checksum (CRC24) does not match: data damaged")


def _looks_base64(line: bytes) -> bool:
    return bool(re.fullmatch(rb"[A-Za-z0-9+/=]+\s*", line))


class ArmorWriter:
    """Streaming armor: binary in, armored text out to ``dst`` (64-column lines).

    Input is encoded in slices of 48 KiB (a whole number of 48-octet lines), so the
    buffer stays bounded whatever the body size.
    """

    __slots__ = ("_block", "_buf", "_crc", "_dst", "_fill")

    _SLICE: Final = _SLICE_OCTETS

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
        self._dst.write(_wrap(pybase64.b64encode(data)) + b"\n")

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


class ArmorReader:
    """Streaming dearmor: a readable stream of the octets of the first armored block.

    Memory stays bounded by the read size whatever the body size. The CRC24 line is
    recognised and skipped, not checked (RFC 9580 §6.1; see :data:`CRC_CHECK_LIMIT`):
    what a stream carries is authenticated by the message's AEAD or MDC.
    """

    __slots__ = ("_carry", "_done", "_end_line", "_out", "_src", "_text")

    _READ: Final = 256 * 1024
    _MAX_PREAMBLE: Final = 1 << 20

    def __init__(self, src: BinaryIO) -> None:
        self._src = src
        self._text = b""
        self._carry = b""  # base64 characters not yet a multiple of 4
        self._out = bytearray()
        self._done = False
        label = self._read_header()
        self._end_line = f"-----END PGP {label}-----".encode()

    def _more(self) -> bool:
        chunk = self._src.read(self._READ)
        if not chunk:
            return False
        self._text += chunk.replace(b"\r", b"\n")
        return True

    def _read_header(self) -> str:
        while True:
            begin = _BEGIN.search(self._text)
            if begin is not None:
                break
            if len(self._text) > self._MAX_PREAMBLE or not self._more():
                raise ArmorError(
                    "no OpenPGP armor header line (-----BEGIN PGP ...-----)"
                )
        self._text = self._text[begin.end() :]
        while b"\n" not in self._text and self._more():
            pass
        first = self._text.split(b"\n", 1)[0]
        if b":" in first and not _looks_base64(first):
            while (blank := self._text.find(b"\n\n")) < 0:
                if len(self._text) > self._MAX_PREAMBLE or not self._more():
                    raise ArmorError("armor headers do not end in a blank line")
            for line in self._text[:blank].split(b"\n"):
                if b": " not in line and not line.rstrip().endswith(b":"):
                    raise ArmorError("malformed armor header line")
            self._text = self._text[blank + 1 :]
        return begin.group(1).decode("ascii")

    def _decode(self, text: bytes) -> None:
        joined = self._carry + _base64_chars(text)
        whole = len(joined) - len(joined) % 4
        self._carry = joined[whole:]
        try:
            self._out += pybase64.b64decode(joined[:whole], validate=True)
        except (binascii.Error, ValueError):
            raise ArmorError("armor body is not valid base64") from None

    def _step(self) -> None:
        end = self._text.find(self._end_line)
        if end >= 0:
            body, _ = _split_crc(self._text[:end])
            self._decode(body)
            if self._carry.strip(_WHITESPACE):
                raise ArmorError("armor body is not valid base64")
            self._done = True
            return
        # Keep the last two lines back: they may be the CRC line or a split tail.
        cut = self._text.rfind(b"\n", 0, max(0, len(self._text) - 128))
        if cut > 0:
            self._decode(self._text[:cut])
            self._text = self._text[cut:]
        if not self._more():
            raise ArmorError(f"armor has no tail line ({self._end_line.decode()})")

    def readinto(self, buf: bytearray | memoryview) -> int:
        """Decoded octets into ``buf``; 0 at the end of the block."""
        while not self._out and not self._done:
            self._step()
        view = memoryview(buf).cast("B")
        n = min(len(view), len(self._out))
        view[:n] = self._out[:n]
        del self._out[:n]
        return n

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` decoded octets (all when negative)."""
        out = bytearray()
        chunk = bytearray(1 << 16)
        while size < 0 or len(out) < size:
            want = len(chunk) if size < 0 else min(len(chunk), size - len(out))
            n = self.readinto(memoryview(chunk)[:want])
            if not n:
                break
            out += chunk[:n]
        return bytes(out)

    def readable(self) -> bool:
        return True
