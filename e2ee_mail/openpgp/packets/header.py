"""OpenPGP packet framing (RFC 9580 §4.2): headers, lengths, partial bodies.

Reads OpenPGP-format headers with every length encoding (1-, 2-, 5-octet and partial
body lengths, §4.2.1) and Legacy-format headers (§4.2.2, including the indeterminate
length). Writes OpenPGP-format headers only: definite lengths, and partial body
lengths for streams whose size is not known up front (:class:`PartialBodyWriter`).

Parsing is bounded: a length is checked against the bytes actually present before
anything is sliced, so a hostile length never allocates more than the input holds.
Left out: writing Legacy-format headers (RFC 9580 §4.2 says not to).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Final

from ...core.record import Record
from ...errors import PacketError

__all__ = [
    "Packet",
    "PacketBodyReader",
    "PartialBodyWriter",
    "encode_length",
    "iter_packet_spans",
    "iter_packets",
    "new_length",
    "parse_packets",
    "parse_span",
    "read_packet_header",
    "serialize_header",
    "serialize_packet",
]

#: RFC 9580 §4.2.1.4: the first partial body length must be at least 512 octets.
MIN_FIRST_PARTIAL: Final = 512
#: Largest power of two a partial body length can express (2**30).
MAX_PARTIAL_POWER: Final = 30
#: Default partial chunk we write: 2**20 octets, the stream I/O size.
DEFAULT_PARTIAL_POWER: Final = 20

Buffer = bytes | bytearray | memoryview


class Packet(Record):
    """One packet: its Type ID and its whole body (partial segments joined).

    Attributes:
        tag: the Packet Type ID.
        body: the packet body.
        legacy: whether the header was Legacy format.
        partial: whether the body came in partial segments.
    """

    _fields = ("tag", "body", "legacy", "partial")
    __slots__ = _fields
    tag: int
    body: bytes
    legacy: bool
    partial: bool

    def __init__(
        self, tag: int, body: bytes, legacy: bool = False, partial: bool = False
    ) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "tag", tag)
        setattr_(self, "body", body)
        setattr_(self, "legacy", legacy)
        setattr_(self, "partial", partial)

    def __repr__(self) -> str:
        # Secret-Key and Secret-Subkey bodies (tags 5, 7) hold key material, often
        # unprotected: show their size only (secrets never appear in a repr).
        body = f"<{len(self.body)} bytes>" if self.tag in (5, 7) else repr(self.body)
        return (
            f"Packet(tag={self.tag}, body={body}, legacy={self.legacy}, "
            f"partial={self.partial})"
        )


def encode_length(length: int) -> bytes:
    """The OpenPGP-format encoding of a definite body length (RFC 9580 §4.2.1)."""
    if length < 0 or length > 0xFFFFFFFF:
        raise PacketError(f"packet length {length} out of range")
    if length < 192:
        return bytes([length])
    if length < 8384:
        value = length - 192
        return bytes([(value >> 8) + 192, value & 0xFF])
    return b"\xff" + length.to_bytes(4, "big")


def serialize_header(tag: int, length: int) -> bytes:
    """An OpenPGP-format packet header for ``tag`` with a definite length."""
    if not 0 < tag < 64:
        raise PacketError(f"packet type {tag} out of range")
    return bytes([0xC0 | tag]) + encode_length(length)


def serialize_packet(tag: int, body: Buffer) -> bytes:
    """Header plus body."""
    return serialize_header(tag, len(body)) + bytes(body)


def new_length(data: Buffer, pos: int) -> tuple[int, bool, int]:
    """Decode an OpenPGP-format length at ``pos``: (length, partial, new pos).

    Raises:
        PacketError: the length octets run past the end of ``data``.
    """
    if pos >= len(data):
        raise PacketError("packet header is truncated")
    first = data[pos]
    if first < 192:
        return first, False, pos + 1
    if first < 224:
        if pos + 2 > len(data):
            raise PacketError("packet header is truncated")
        return ((first - 192) << 8) + data[pos + 1] + 192, False, pos + 2
    if first == 255:
        if pos + 5 > len(data):
            raise PacketError("packet header is truncated")
        return int.from_bytes(data[pos + 1 : pos + 5], "big"), False, pos + 5
    return 1 << (first & 0x1F), True, pos + 1


def parse_span(data: memoryview, pos: int) -> tuple[int, Buffer, int, bool, bool]:
    """(tag, body, end, legacy, partial) of the packet at ``pos`` (< len(data)); a
    definite-length body is a view into ``data`` (no copy), partial segments are
    joined.

    Raises:
        PacketError: not a packet header, or a length past the end of ``data``.
    """
    first = data[pos]
    if first & 0xC0 == 0xC0 and pos + 1 < len(data):
        # The common case first (headers are parsed per message): an
        # OpenPGP-format header with a one- or two-octet length (RFC 9580 §4.2.1.1,
        # §4.2.1.2) whose body is all there. Anything else takes the general path
        # below, which also names what is wrong.
        octet = data[pos + 1]
        if octet < 192:
            end = pos + 2 + octet
            if end <= len(data):
                return first & 0x3F, data[pos + 2 : end], end, False, False
        elif octet < 224 and pos + 2 < len(data):
            end = pos + 3 + ((octet - 192) << 8) + data[pos + 2] + 192
            if end <= len(data):
                return first & 0x3F, data[pos + 3 : end], end, False, False
    if not first & 0x80:
        raise PacketError(f"not an OpenPGP packet: header octet 0x{first:02x}")
    if first & 0x40:
        tag = first & 0x3F
        length, partial, pos = new_length(data, pos + 1)
        if not partial:
            if length > len(data) - pos:
                raise PacketError("packet body is truncated")
            return tag, data[pos : pos + length], pos + length, False, False
        if length < MIN_FIRST_PARTIAL:
            raise PacketError("first partial body length is below 512 octets")
        pieces: list[memoryview] = []
        while partial:
            if length > len(data) - pos:
                raise PacketError("partial packet body is truncated")
            pieces.append(data[pos : pos + length])
            pos += length
            length, partial, pos = new_length(data, pos)
        if length > len(data) - pos:
            raise PacketError("packet body is truncated")
        pieces.append(data[pos : pos + length])
        return tag, b"".join(pieces), pos + length, False, True
    tag = (first >> 2) & 0x0F
    ltype = first & 0x03
    pos += 1
    if ltype == 3:
        return tag, data[pos:], len(data), True, False
    size = 1 << ltype
    if pos + size > len(data):
        raise PacketError("packet header is truncated")
    length = int.from_bytes(data[pos : pos + size], "big")
    pos += size
    if length > len(data) - pos:
        raise PacketError("packet body is truncated")
    return tag, data[pos : pos + length], pos + length, True, False


def _walk(
    data: Buffer, max_packets: int
) -> Iterator[tuple[int, tuple[int, Buffer, int, bool, bool]]]:
    """Yield (start, parse_span's answer) per packet, at most ``max_packets``."""
    view = memoryview(data).cast("B")
    pos = 0
    count = 0
    while pos < len(view):
        count += 1
        if count > max_packets:
            raise PacketError(f"more than {max_packets} packets")
        span = parse_span(view, pos)
        yield pos, span
        pos = span[2]


def iter_packet_spans(
    data: Buffer, *, max_packets: int = 100_000
) -> Iterator[tuple[int, Buffer, int, int]]:
    """Yield (tag, body, start, end) per packet without copying definite bodies.

    Raises:
        PacketError: malformed framing, or more than ``max_packets`` packets.
    """
    for start, (tag, body, end, _, _) in _walk(data, max_packets):
        yield tag, body, start, end


def iter_packets(data: Buffer, *, max_packets: int = 100_000) -> Iterator[Packet]:
    """Yield the packets of ``data`` in order.

    Raises:
        PacketError: malformed framing, or more than ``max_packets`` packets.
    """
    for _, (tag, body, _, legacy, partial) in _walk(data, max_packets):
        yield Packet(tag, bytes(body), legacy=legacy, partial=partial)


def parse_packets(data: Buffer, *, max_packets: int = 100_000) -> list[Packet]:
    """All packets of ``data`` (see :func:`iter_packets`)."""
    return list(iter_packets(data, max_packets=max_packets))


def _read_exact(src: BinaryIO, n: int) -> bytes:
    out = src.read(n)
    if out is None or len(out) != n:
        raise PacketError("packet header is truncated")
    return out


def read_packet_header(src: BinaryIO) -> tuple[int, int | None, bool] | None:
    """Read one header from a stream.

    Returns:
        None at a clean end of stream; else (tag, first length, partial) where a
        length of None means "until the end of the stream" (Legacy indeterminate).
    """
    first_bytes = src.read(1)
    if not first_bytes:
        return None
    first = first_bytes[0]
    if not first & 0x80:
        raise PacketError(f"not an OpenPGP packet: header octet 0x{first:02x}")
    if first & 0x40:
        tag = first & 0x3F
        length, partial = _read_new_length(src)
        if partial and length < MIN_FIRST_PARTIAL:
            raise PacketError("first partial body length is below 512 octets")
        return tag, length, partial
    tag = (first >> 2) & 0x0F
    ltype = first & 0x03
    if ltype == 3:
        return tag, None, False
    return tag, int.from_bytes(_read_exact(src, 1 << ltype), "big"), False


def _read_new_length(src: BinaryIO) -> tuple[int, bool]:
    first = _read_exact(src, 1)[0]
    if first < 192:
        return first, False
    if first < 224:
        return ((first - 192) << 8) + _read_exact(src, 1)[0] + 192, False
    if first == 255:
        return int.from_bytes(_read_exact(src, 4), "big"), False
    return 1 << (first & 0x1F), True


class PacketBodyReader:
    """A readable stream over one packet body, following partial body lengths.

    Reads past the body's end return b"" (end of body); a source that ends early is a
    PacketError.
    """

    __slots__ = ("_left", "_partial", "_src", "_until_eof")

    def __init__(self, src: BinaryIO, length: int | None, partial: bool) -> None:
        self._src = src
        self._until_eof = length is None
        self._left = length or 0
        self._partial = partial

    def _advance(self) -> bool:
        """Move to the next partial segment; False at the end of the body."""
        while self._left == 0 and self._partial:
            self._left, self._partial = _read_new_length(self._src)
        return self._left > 0

    def readinto(self, buf: bytearray | memoryview) -> int:
        """Read up to ``len(buf)`` body octets into ``buf``."""
        view = memoryview(buf).cast("B")
        if self._until_eof:
            got = self._src.readinto(view)  # type: ignore[attr-defined]
            return int(got or 0)
        if not self._advance():
            return 0
        want = min(len(view), self._left)
        got = self._src.readinto(view[:want])  # type: ignore[attr-defined]
        if not got:
            raise PacketError("packet body is truncated")
        self._left -= got
        return int(got)

    def readview(self, size: int) -> memoryview:
        """Up to ``size`` body octets as a view from a source with ``readview`` (the
        SEIPDv2 chunk opener): no copy. Valid until the next read; empty at the end.
        """
        readview = self._src.readview  # type: ignore[attr-defined]
        if self._until_eof:
            return readview(size)  # type: ignore[no-any-return]
        if not self._advance():
            return memoryview(b"")
        view: memoryview = readview(min(size, self._left))
        if not view:
            raise PacketError("packet body is truncated")
        self._left -= len(view)
        return view

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` octets (all when negative).

        Memory grows with what is actually read, never with ``size`` (a hostile
        length or a generous limit allocates nothing up front).
        """
        out = bytearray()
        chunk = bytearray(1 << 16)
        view = memoryview(chunk)
        while size < 0 or len(out) < size:
            want = len(chunk) if size < 0 else min(len(chunk), size - len(out))
            n = self.readinto(view[:want])
            if not n:
                break
            out += view[:n]
        return bytes(out)

    def read_exact(self, size: int) -> bytes:
        """Exactly ``size`` octets, or PacketError."""
        out = self.read(size)
        if len(out) != size:
            raise PacketError("packet body is truncated")
        return out

    def drain(self) -> int:
        """Skip to the end of the body; returns how many octets were skipped."""
        chunk = bytearray(1 << 16)
        total = 0
        while n := self.readinto(chunk):
            total += n
        return total

    def readable(self) -> bool:
        return True


class PartialBodyWriter:
    """Writes one packet whose length is unknown up front (RFC 9580 §4.2.1.4).

    Data is buffered into segments of ``2**power`` octets, each written with a partial
    body length; :meth:`close` writes the rest with a definite length. A body shorter
    than one segment is written with a plain definite-length header.
    """

    __slots__ = ("_buf", "_dst", "_fill", "_started", "_tag")

    def __init__(self, dst: BinaryIO, tag: int, power: int = DEFAULT_PARTIAL_POWER):
        if not 9 <= power <= MAX_PARTIAL_POWER:
            raise PacketError("partial body segments must be 2**9 to 2**30 octets")
        self._dst = dst
        self._tag = tag
        self._buf = bytearray(1 << power)
        self._fill = 0
        self._started = False

    def write(self, data: Buffer) -> int:
        """Append body octets."""
        view = memoryview(data).cast("B")
        size = len(self._buf)
        pos = 0
        while pos < len(view):
            n = min(size - self._fill, len(view) - pos)
            self._buf[self._fill : self._fill + n] = view[pos : pos + n]
            self._fill += n
            pos += n
            if self._fill == size:
                self._flush_segment()
        return len(view)

    def _flush_segment(self) -> None:
        power = len(self._buf).bit_length() - 1
        if not self._started:
            self._dst.write(bytes([0xC0 | self._tag]))
            self._started = True
        self._dst.write(bytes([224 + power]))
        self._dst.write(self._buf)
        self._fill = 0

    def close(self) -> None:
        """Write the final segment (or the whole packet, if it was short)."""
        rest = memoryview(self._buf)[: self._fill]
        if not self._started:
            self._dst.write(serialize_header(self._tag, self._fill))
        else:
            self._dst.write(encode_length(self._fill))
        self._dst.write(rest)
        self._fill = 0
