"""Literal Data (RFC 9580 §5.9) and the other small packets: Compressed Data header
(§5.6), Marker (§5.8), User ID (§5.11), Padding (§5.14).

A Literal Data body is split into its header (format, file name, date) and the
offset of the data, so the data itself is never copied by the codec.
"""

from __future__ import annotations

from typing import Final

from ...core.record import Record
from ...errors import PacketError

__all__ = [
    "MARKER_BODY",
    "LiteralHeader",
    "literal_header_size",
    "parse_compressed",
    "parse_literal_header",
    "parse_user_id",
    "serialize_literal_header",
]

#: The only valid Marker packet body (RFC 9580 §5.8).
MARKER_BODY: Final = b"PGP"
_FORMATS: Final = frozenset(b"btul")
_FORMAT_OCTETS: Final = {c: bytes((c,)) for c in _FORMATS}
_TRUNCATED: Final = "literal data packet is truncated"


class LiteralHeader(Record):
    """The fields before a Literal Data packet's data.

    Attributes:
        format: b"b" binary, b"u" UTF-8 text, b"t" text, b"l" local.
        filename: up to 255 octets.
        date: seconds since the epoch (0: none).
    """

    _fields = ("format", "filename", "date")
    __slots__ = _fields
    format: bytes
    filename: bytes
    date: int

    def __init__(
        self, format: bytes = b"b", filename: bytes = b"", date: int = 0
    ) -> None:
        object.__setattr__(self, "format", format)
        object.__setattr__(self, "filename", filename)
        object.__setattr__(self, "date", date)

    @property
    def size(self) -> int:
        """Octets the header takes in the packet body."""
        return 6 + len(self.filename)


def parse_literal_header(body: bytes | bytearray | memoryview) -> LiteralHeader:
    """Parse the start of a Literal Data body; the data begins at ``header.size``.

    Reads the header octets in place (no copy of the body; every index checked).
    """
    end = literal_header_size(body) - 4
    date = int.from_bytes(body[end : end + 4], "big")
    return LiteralHeader(_FORMAT_OCTETS[body[0]], bytes(body[2:end]), date)


def literal_header_size(body: bytes | bytearray | memoryview) -> int:
    """Check the header of a Literal Data body and return where its data begins.

    :func:`parse_literal_header` without building the header: a decrypt that only
    wants the data asks for this once per message.

    Raises:
        PacketError: an unknown format octet, or a body shorter than its header.
    """
    n = len(body)
    if not n:
        raise PacketError(_TRUNCATED)
    if body[0] not in _FORMATS:
        raise PacketError(f"unknown literal data format {bytes(body[:1])!r}")
    if n < 2:
        raise PacketError(_TRUNCATED)
    size = 6 + body[1]
    if n < size:
        raise PacketError(_TRUNCATED)
    return size


def serialize_literal_header(header: LiteralHeader) -> bytes:
    """The octets before the data."""
    if len(header.format) != 1 or header.format[0] not in _FORMATS:
        raise PacketError("literal data format must be one of b, t, u, l")
    if len(header.filename) > 255:
        raise PacketError("literal data file name is longer than 255 octets")
    return (
        header.format
        + bytes([len(header.filename)])
        + header.filename
        + header.date.to_bytes(4, "big")
    )


def parse_compressed(
    body: bytes | bytearray | memoryview,
) -> tuple[int, memoryview]:
    """(algorithm, compressed octets) of a Compressed Data body (RFC 9580 §5.6)."""
    view = memoryview(body).cast("B")
    if not len(view):
        raise PacketError("compressed data packet is empty")
    return view[0], view[1:]


def parse_user_id(body: bytes) -> str:
    """A User ID (UTF-8 by convention; undecodable octets are replaced)."""
    return body.decode("utf-8", "replace")
