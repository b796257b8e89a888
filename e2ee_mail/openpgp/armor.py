"""OpenPGP ASCII Armor (RFC 9580 §6).

Writing: the armor header line, no armor headers, a blank line, base64 in 64-column
lines, no CRC24 (RFC 9580 §6.2: a v6-only producer should not emit the checksum),
the tail line. Reading: tolerant of CRLF/LF, trailing whitespace, leading text and
armor headers; a CRC24 line is checked when present, at every size and when
streaming. Every failure is an ArmorError.

Deliberate deviation: RFC 9580 §6.1 says a receiver must not reject an object whose
CRC24 disagrees. We check it when present because a mismatch is transport damage, and
naming it beats a later "decryption failed"; the check reads public bytes only and is
never an oracle. A missing CRC is accepted.

Base64 goes through pybase64 (core/b64.py); :class:`ArmorWriter` and
:class:`ArmorReader` stream in bounded memory. Reading decodes the line-broken text in
one non-validating pass whose length check still refuses foreign characters
(core/b64.py decode_lines), and finds the tail line by a ``memchr`` for the first
``-`` (never in base64) rather than a substring search over the body; the stream
reader decodes 1 MiB blocks of whole lines, one pass each. Writing keeps 64-column
lines, the width GnuPG writes (RFC 9580 §6.2 allows up to 76), cut by
core/b64.py LineEncoder. Left out: cleartext signatures (§7).
"""

from __future__ import annotations

import binascii
import functools
import re
from typing import Any, BinaryIO, Final

import pybase64

from ..core import b64, chunkstream
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
#: Octets encoded per batch: whole 48-octet lines, so that pybase64 runs on large
#: inputs rather than once per line.
_BATCH_OCTETS: Final = _LINE // 4 * 3 * b64.BATCH_LINES
#: CRC-24/OPENPGP (RFC 9580 §6.1) in C: the table-driven Python loop ran at ~2 MB/s,
#: which made armored v4 output (GnuPG 2.2 wants the CRC line) crawl.
_CRC24_INIT: Final = 0xB704CE
_WHITESPACE: Final = b" \t\r\n"
_CRC_TAIL = re.compile(rb"(?:^|\n)[ \t]*=([A-Za-z0-9+/]{4})[ \t\r]*\n?[ \t\r]*$")
_BEGIN = re.compile(rb"-----BEGIN PGP ([A-Z ,/0-9]+)-----[ \t\r]*\n")
# The patterns that reading an armored key does not need are compiled on first use
# (re.compile keeps what it compiled): compiling costs tens of microseconds each,
# at every CLI start.
_LINE_SPACE: Final = rb"[ \t]*\n[ \t]*"
_BLANK_LINE: Final = rb"\n\r?\n"


@functools.cache
def _crc24_model() -> Any:
    # Imported on first use: RFC 9580 §6.1 armor needs no CRC, and the import cost
    # ~2.5 ms of every CLI start that read an armored key.
    import anycrc

    return anycrc.Model("CRC24-OPENPGP")


def crc24(data: bytes | bytearray | memoryview, crc: int = _CRC24_INIT) -> int:
    """The CRC24 of RFC 9580 §6.1; pass ``crc`` to continue a running one."""
    if crc == _CRC24_INIT:
        return int(_crc24_model().calc(data))
    return int(_crc24_model().calc(data, crc))


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
) -> bytearray:
    """Armor ``data`` as ``-----BEGIN PGP <block>-----`` with 64-column lines.

    ``crc`` adds the CRC24 line, which GnuPG 2.2 requires: set it for v4 output.
    The text is joined once into a bytearray of its final size (no second copy).
    """
    pieces = [f"-----BEGIN PGP {block}-----\n\n".encode()]
    pieces += b64.iter_encoded_lines(data, width=_LINE, eol=b"\n")
    if crc:
        pieces.append(_crc_line(crc24(data)))
    pieces.append(f"-----END PGP {block}-----\n".encode())
    return bytearray().join(pieces)


def _find_tail(text: bytes | bytearray, end_line: bytes, start: int, stop: int) -> int:
    """Offset of ``end_line`` in ``text[start:stop]``, or -1.

    Base64 never holds ``-``, so a ``memchr`` for it (several GB/s) lands on the
    tail line of a sound body; only after another ``-`` (armor headers, damage)
    does the substring search go on from there.
    """
    dash = text.find(b"-", start, stop)
    if dash < 0 or text.startswith(end_line, dash, stop):
        return dash
    return text.find(end_line, dash, stop)


def dearmor(data: bytes | bytearray | memoryview) -> tuple[str, bytes]:
    """Decode the first armored block in ``data``.

    Returns:
        (block label, e.g. "MESSAGE"; the decoded octets).

    Raises:
        ArmorError: no block, a malformed block, bad base64 or a wrong CRC24.
    """
    # bytes and bytearray are read in place (no copy of the text).
    text = data if isinstance(data, (bytes, bytearray)) else bytes(data)
    # CRLF text is read as is (no copy of the body); line ends of bare CR (old Mac
    # files) are made LF first, when the header line is not found otherwise.
    begin = _BEGIN.search(text)
    if begin is None and b"\r" in text:
        text = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        begin = _BEGIN.search(text)
    if begin is None:
        raise ArmorError("no OpenPGP armor header line (-----BEGIN PGP ...-----)")
    label = begin.group(1).decode("ascii")
    end_line = f"-----END PGP {label}-----".encode()
    end = _find_tail(text, end_line, begin.end(), len(text))
    if end < 0:
        raise ArmorError(f"armor has no tail line ({end_line.decode()})")
    start, stop = begin.end(), end  # the body, read in place (no slice copy)
    start = _skip_headers(text, start, stop)
    # A CRC24 line at the end of the body (only the tail is searched; from the
    # line end before the body at the latest, so a lone CRC line is found too).
    checksum = None
    found = _CRC_TAIL.search(text, max(start - 1, stop - 128), stop)
    if found is not None:
        stop, checksum = max(start, found.start()), found.group(1)
    decoded = _decode_body(text, start, stop)
    if checksum is not None:
        _check_crc(checksum, crc24(decoded))
    return label, decoded


def _skip_headers(text: bytes | bytearray, start: int, stop: int) -> int:
    """Where the body starts: past the armor headers, if any (``text[start]`` is
    then the ``\n`` of the blank line).

    Armor headers run up to the first blank line; RFC 9580 §6.2 requires the blank
    line, but a block without headers and without it is accepted (some encoders).
    """
    probe = bytes(text[start : min(stop, start + 1024)])
    first = probe[: probe.find(b"\n")] if b"\n" in probe else probe
    if b":" not in first or _looks_base64(first):
        return start
    blank = re.compile(_BLANK_LINE).search(text, start, stop)
    head = bytes(text[start : blank.start() if blank else stop]).replace(b"\r", b"")
    for line in head.split(b"\n"):
        if b": " not in line and not line.rstrip().endswith(b":"):
            raise ArmorError("malformed armor header line")
    return blank.end() - 1 if blank else stop


def _decode_body(
    text: bytes | bytearray, start: int = 0, stop: int | None = None
) -> bytes:
    """The octets of the armor body ``text[start:stop]`` (CRC line split off).

    The happy path is one non-validating pybase64 pass over the text, line breaks
    included (core/b64.py decode_lines: its length check refuses any discarded
    character, with no extra pass; twice as fast as the strict decode). Other line
    shapes (whitespace around lines, varying widths) take the strict path.
    """
    decoded = b64.decode_lines(text, start, stop)
    if decoded is not None:
        return decoded
    try:
        body = bytes(text[start:stop])
        return pybase64.b64decode(_base64_chars(body), validate=True)
    except (binascii.Error, ValueError):
        raise ArmorError("armor body is not valid base64") from None


def _base64_chars(text: bytes) -> bytes:
    """The base64 characters of armor lines. Whitespace around lines is tolerated,
    inside a line it is left in place (and so refused by the decoder)."""
    if b" " in text or b"\t" in text:
        text = re.compile(_LINE_SPACE).sub(b"\n", text.strip(_WHITESPACE))
    return text.translate(None, b"\r\n")


def _check_crc(checksum: bytes, computed: int) -> None:
    expected = pybase64.b64decode(checksum, validate=True)
    if int.from_bytes(expected, "big") != computed:
        raise ArmorError("armor checksum (CRC24) does not match: data damaged")


def _looks_base64(line: bytes) -> bool:
    return bool(re.fullmatch(rb"[A-Za-z0-9+/=]+\s*", line))


class ArmorWriter:
    """Streaming armor: binary in, armored text out to ``dst`` (64-column lines).

    Input is encoded in batches of 48 KiB (a whole number of 48-octet lines), so the
    buffer stays bounded whatever the body size.
    """

    __slots__ = ("_block", "_buf", "_crc", "_dst", "_fill")

    def __init__(
        self, dst: BinaryIO, block: str = BLOCK_MESSAGE, *, crc: bool = False
    ) -> None:
        self._crc = _CRC24_INIT if crc else None  # GnuPG 2.2 needs it for v4 output
        self._dst = dst
        self._block = block
        self._buf = memoryview(bytearray(_BATCH_OCTETS))
        self._fill = 0
        dst.write(f"-----BEGIN PGP {block}-----\n\n".encode())

    def _emit(self, data: bytes | memoryview) -> None:
        if self._crc is not None:
            self._crc = crc24(data, self._crc)
        # One write per batch of 1024 lines: memory stays bounded whatever the
        # size of the caller's piece. The encoder is the calling thread's, looked
        # up per call: a writer handed to another thread shares no buffer.
        for text in b64.line_encoder(_LINE, b"\n").encode(data):
            self._dst.write(text)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Take binary octets."""
        view = memoryview(data).cast("B")
        batch = len(self._buf)
        pos = 0
        if not self._fill and len(view) >= batch:
            # Whole batches straight from the caller's buffer: no copy into _buf.
            pos = len(view) - len(view) % batch
            self._emit(view[:pos])
        while pos < len(view):
            n = min(batch - self._fill, len(view) - pos)
            self._buf[self._fill : self._fill + n] = view[pos : pos + n]
            self._fill += n
            pos += n
            if self._fill == batch:
                self._emit(self._buf)
                self._fill = 0
        return len(view)

    def close(self) -> None:
        """Write the last line and the tail line."""
        if self._fill:
            self._emit(self._buf[: self._fill])
            self._fill = 0
        if self._crc is not None:
            self._dst.write(_crc_line(self._crc))
        self._dst.write(f"-----END PGP {self._block}-----\n".encode())


#: The armor header line with its line end, which sets how the text is read.
_BEGIN_EOL: Final = rb"-----BEGIN PGP ([A-Z ,/0-9]+)-----[ \t]*(\r\n|\r|\n)"


class ArmorReader:
    """Streaming dearmor: a readable stream of the octets of the first armored block.

    Text is read in blocks of 1 MiB into one reused buffer; each block of whole
    lines is decoded in one pass (core/b64.py decode_lines), other shapes strictly.
    Memory stays bounded by the block size whatever the body size or line length.
    A CRC24 line is checked at the end of the block: the octets before it were
    already handed on, which is safe because what a message stream carries is
    released only after its AEAD or MDC check.
    """

    __slots__ = (
        "_bare_cr",
        "_buf",
        "_carry",
        "_crc",
        "_done",
        "_end_line",
        "_eof",
        "_fill",
        "_pending",
        "_rest",
        "_src",
    )

    #: Text per block; also the most text read before the header line.
    _READ: Final = 1 << 20
    #: Text kept back at a block's end: it may be the CRC line or a split tail.
    _KEEP: Final = 128

    def __init__(self, src: BinaryIO) -> None:
        self._src = src
        self._buf = bytearray(self._READ)
        self._fill = 0
        self._eof = False
        self._bare_cr = False  # old Mac line ends: every CR is read as LF
        self._carry = b""  # base64 characters not yet a multiple of 4
        self._pending = memoryview(b"")  # decoded octets not yet handed on
        self._crc = _CRC24_INIT
        self._done = False
        self._rest = b""
        label = self._read_header()
        self._end_line = f"-----END PGP {label}-----".encode()

    def _read_more(self) -> bool:
        """Fill the free end of the buffer from ``src``; False at the end of input."""
        view = memoryview(self._buf)[self._fill :]
        if self._eof or not view:
            return False
        readinto = getattr(self._src, "readinto", None)
        if readinto is not None:
            got = readinto(view) or 0
        else:
            chunk = self._src.read(len(view))
            got = len(chunk)
            view[:got] = chunk
        if not got:
            self._eof = True
            return False
        if self._bare_cr:
            piece = slice(self._fill, self._fill + got)
            self._buf[piece] = self._buf[piece].replace(b"\r", b"\n")
        self._fill += got
        return True

    def _consume(self, n: int) -> None:
        """Drop the first ``n`` octets of the buffered text."""
        self._buf[: self._fill - n] = self._buf[n : self._fill]
        self._fill -= n

    def _read_header(self) -> str:
        while True:
            begin = re.compile(_BEGIN_EOL).search(self._buf, 0, self._fill)
            if begin is not None and (
                begin.group(2) != b"\r" or begin.end() < self._fill or self._eof
            ):
                break  # a lone CR at the end of the text may be half of a CRLF
            # Text before the header line is bounded by the buffer: a full buffer
            # without one reads no more (_read_more is False).
            if not self._read_more():
                if begin is not None:
                    break
                raise ArmorError(
                    "no OpenPGP armor header line (-----BEGIN PGP ...-----)"
                )
        if begin.group(2) == b"\r":
            self._bare_cr = True
            self._buf[: self._fill] = self._buf[: self._fill].replace(b"\r", b"\n")
        label = begin.group(1).decode("ascii")
        self._consume(begin.end())
        while (line_end := self._buf.find(b"\n", 0, self._fill)) < 0:
            if not self._read_more():
                break
        first = bytes(self._buf[: line_end if line_end >= 0 else self._fill])
        if b":" in first and not _looks_base64(first):
            blank_line = re.compile(_BLANK_LINE)
            while (blank := blank_line.search(self._buf, 0, self._fill)) is None:
                if self._fill == len(self._buf) or not self._read_more():
                    raise ArmorError("armor headers do not end in a blank line")
            head = bytes(self._buf[: blank.start()]).replace(b"\r", b"")
            for line in head.split(b"\n"):
                if b": " not in line and not line.rstrip().endswith(b":"):
                    raise ArmorError("malformed armor header line")
            self._consume(blank.end() - 1)
        return label

    def _decode(self, stop: int) -> None:
        """Decode ``buf[:stop]`` (whole lines, or any split when carrying)."""
        decoded = None if self._carry else b64.decode_lines(self._buf, 0, stop)
        if decoded is None:  # not whole lines of one width: the strict path
            joined = self._carry + _base64_chars(bytes(self._buf[:stop]))
            whole = len(joined) - len(joined) % 4
            self._carry = joined[whole:]
            try:
                decoded = pybase64.b64decode(joined[:whole], validate=True)
            except (binascii.Error, ValueError):
                raise ArmorError("armor body is not valid base64") from None
        self._crc = crc24(decoded, self._crc)
        self._pending = memoryview(decoded)

    def _padded(self, stop: int) -> bool:
        """Whether the text before ``stop`` ends (whitespace aside) with ``=``."""
        text = bytes(self._buf[max(0, stop - 8) : stop]).rstrip(_WHITESPACE)
        return text.endswith(b"=")

    def _finish(self, end: int) -> None:
        found = _CRC_TAIL.search(self._buf, max(0, end - self._KEEP), end)
        stop = found.start() if found is not None else end
        self._decode(stop)
        if self._carry.strip(_WHITESPACE):
            raise ArmorError("armor body is not valid base64")
        if found is not None:
            _check_crc(found.group(1), self._crc)
        self._done = True

    def _step(self) -> None:
        """Decode the next block of text into ``_pending``."""
        while True:
            if self._fill < len(self._buf):
                self._read_more()
            end = _find_tail(self._buf, self._end_line, 0, self._fill)
            if end >= 0:
                self._rest = bytes(self._buf[end + len(self._end_line) : self._fill])
                self._finish(end)
                return
            if self._eof:
                raise ArmorError(f"armor has no tail line ({self._end_line.decode()})")
            limit = self._fill - self._KEEP
            cut = self._buf.rfind(b"\n", 0, max(0, limit))
            if cut <= 0 and self._fill == len(self._buf):
                cut = limit  # one long line: decode what we have (carry the rest)
            if cut > 0:
                if self._padded(cut):
                    # Padding ends the data (RFC 4648 §3.2): before the last block
                    # it is damage, which one pass over the whole text would refuse.
                    raise ArmorError("armor body is not valid base64")
                self._decode(cut)
                self._consume(cut)
                if self._pending:
                    return

    def readinto(self, buf: bytearray | memoryview) -> int:
        """Decoded octets into ``buf``; 0 at the end of the block."""
        while not self._pending and not self._done:
            self._step()
        view = memoryview(buf).cast("B")
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` decoded octets (all when negative)."""
        return chunkstream.read_through(self.readinto, size)

    def readable(self) -> bool:
        return True

    def rest(self) -> bytes:
        """The text read after the tail line's ``-----END PGP ...-----`` (its line
        end first), once the block has been read to its end; the source holds what
        follows. Re-keying a PGP/MIME part copies it unchanged."""
        return self._rest
