"""The Symmetrically Encrypted Integrity Protected Data packet header (RFC 9580 §5.13).

v2 (§5.13.2): version, cipher, AEAD mode, chunk size octet, 32-octet salt, then the
chunks and the final tag, which ``core/chunked.py`` handles. v1 (§5.13.1): a version
octet before CFB data; its decryption is the v4 compatibility module's job.
The chunk size octet is checked here, before anything is allocated: RFC 9580 allows
0..16 (chunks of 2**6 to 2**22 octets).
"""

from __future__ import annotations

from typing import Final

from ...core.record import Record
from ...errors import PacketError, UnsupportedError

__all__ = [
    "MAX_CHUNK_SIZE_OCTET",
    "SALT_SIZE",
    "SEIPDV2_HEADER_SIZE",
    "SEIPDv2Header",
    "chunk_size",
    "parse_seipd_version",
    "parse_seipdv2_header",
    "serialize_seipdv2_header",
]

MAX_CHUNK_SIZE_OCTET: Final = 16
SALT_SIZE: Final = 32
SEIPDV2_HEADER_SIZE: Final = 4 + SALT_SIZE
_TRUNCATED: Final = "SEIPDv2 packet is truncated"


class SEIPDv2Header(Record):
    """The fixed fields in front of a v2 SEIPD packet's chunks.

    Attributes:
        cipher: symmetric algorithm ID (RFC 9580 §9.3).
        aead: AEAD algorithm ID (RFC 9580 §9.6).
        chunk_size_octet: c, with chunks of 2**(c+6) octets.
        salt: 32 random octets.
    """

    _fields = ("cipher", "aead", "chunk_size_octet", "salt")
    __slots__ = _fields
    cipher: int
    aead: int
    chunk_size_octet: int
    salt: bytes

    def __init__(
        self, cipher: int, aead: int, chunk_size_octet: int, salt: bytes
    ) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "cipher", cipher)
        setattr_(self, "aead", aead)
        setattr_(self, "chunk_size_octet", chunk_size_octet)
        setattr_(self, "salt", salt)


def chunk_size(octet: int) -> int:
    """Plaintext octets per chunk for a chunk size octet."""
    if not 0 <= octet <= MAX_CHUNK_SIZE_OCTET:
        raise PacketError(f"SEIPDv2 chunk size octet {octet} is above 16")
    return 1 << (octet + 6)


def parse_seipd_version(body_head: bytes | bytearray | memoryview) -> int:
    """The version octet of a SEIPD packet (1 or 2), read from the body's first
    octet (the rest of ``body_head`` is not looked at)."""
    if not body_head:
        raise PacketError("SEIPD packet is empty")
    version = body_head[0]
    if version not in (1, 2):
        raise UnsupportedError(f"SEIPD version {version} is not supported")
    return version


def parse_seipdv2_header(head: bytes | bytearray | memoryview) -> SEIPDv2Header:
    """Parse the first 36 octets of a v2 SEIPD body (octets after them are ignored).

    Sliced directly (once per message), every index checked first.
    """
    n = len(head)
    if not n:
        raise PacketError(_TRUNCATED)
    if head[0] != 2:
        raise PacketError("not a v2 SEIPD packet")
    if n < 4:
        raise PacketError(_TRUNCATED)
    chunk_size(head[3])
    if n < SEIPDV2_HEADER_SIZE:
        raise PacketError(_TRUNCATED)
    return SEIPDv2Header(head[1], head[2], head[3], bytes(head[4:SEIPDV2_HEADER_SIZE]))


def serialize_seipdv2_header(header: SEIPDv2Header) -> bytes:
    """The 36 octets in front of the chunks."""
    chunk_size(header.chunk_size_octet)
    if len(header.salt) != SALT_SIZE:
        raise PacketError("SEIPDv2 salt must be 32 octets")
    return bytes([2, header.cipher, header.aead, header.chunk_size_octet]) + header.salt
