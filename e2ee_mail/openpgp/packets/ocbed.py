"""The header of LibrePGP's OCB Encrypted Data packet (type 20) of draft-koch-librepgp,
the "AEAD Encrypted Data Packet" of RFC 4880bis-10 §5.16.

The body is: version (1), cipher, AEAD algorithm (1 EAX, 2 OCB), chunk size octet c
(chunks of 2**(c+6) octets), the starting IV (16 octets for EAX, 15 for OCB), then
the chunks and the final tag, which ``core/chunked.py`` handles in its "librepgp"
style. The draft allows c up to 56; RFC 9580's limit of 16 (4 MiB chunks, GnuPG's
largest without a debug option) is what we open, since nothing of a chunk is released
before its tag verifies and a chunk must fit in memory.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from ...errors import PacketError, UnsupportedError
from . import AEAD_EAX, AEAD_OCB
from .keys import AEAD_NONCE_SIZE

__all__ = [
    "MAX_CHUNK_SIZE_OCTET",
    "OCBEDHeader",
    "header_size",
    "parse_ocbed_header",
]

#: The largest chunk size octet we open (chunks of 4 MiB).
MAX_CHUNK_SIZE_OCTET: Final = 16
#: The draft's limit; above it the octet is reserved, so the packet is malformed.
_RESERVED_CHUNK_SIZE_OCTET: Final = 56
_TRUNCATED: Final = "OCB encrypted data packet is truncated"


@dataclasses.dataclass(frozen=True, slots=True)
class OCBEDHeader:
    """The fixed fields in front of the chunks.

    Attributes:
        cipher: symmetric algorithm ID (RFC 9580 §9.3).
        aead: AEAD algorithm ID, 1 (EAX) or 2 (OCB).
        chunk_size_octet: c, with chunks of 2**(c+6) octets.
        iv: the starting IV, 16 octets (EAX) or 15 (OCB).
    """

    cipher: int
    aead: int
    chunk_size_octet: int
    iv: bytes

    @property
    def chunk_size(self) -> int:
        return 1 << (self.chunk_size_octet + 6)

    @property
    def size(self) -> int:
        """Octets of the header in the packet body."""
        return 4 + len(self.iv)


def header_size(head: bytes | bytearray | memoryview) -> int:
    """The header's size, from its first three octets (version, cipher, AEAD).

    Raises:
        PacketError: fewer than three octets.
        UnsupportedError: a version other than 1, an AEAD algorithm other than EAX
            and OCB.
    """
    if len(head) < 3:
        raise PacketError(_TRUNCATED)
    if head[0] != 1:
        raise UnsupportedError(
            f"OCB encrypted data packet version {head[0]} is not supported"
        )
    # The packet defines EAX and OCB only (RFC 4880bis-10 §5.16.1, §5.16.2); the
    # starting IV is a whole nonce of the mode.
    if head[2] not in (AEAD_EAX, AEAD_OCB):
        raise UnsupportedError(
            f"OCB encrypted data with AEAD algorithm {head[2]} is not supported "
            "(EAX and OCB are)"
        )
    return 4 + AEAD_NONCE_SIZE[head[2]]


def parse_ocbed_header(head: bytes | bytearray | memoryview) -> OCBEDHeader:
    """Parse the header at the start of a type 20 packet body (octets after it are
    ignored).

    Raises:
        PacketError: truncated, or a reserved chunk size octet (above 56).
        UnsupportedError: version, AEAD algorithm, or a chunk size octet above 16.
    """
    size = header_size(head)
    if len(head) < 4:
        raise PacketError(_TRUNCATED)
    octet = head[3]
    if octet > _RESERVED_CHUNK_SIZE_OCTET:
        raise PacketError(f"OCB encrypted data chunk size octet {octet} is reserved")
    if octet > MAX_CHUNK_SIZE_OCTET:
        raise UnsupportedError(
            f"OCB encrypted data with chunks of 2**{octet + 6} octets is not "
            "supported (4 MiB at most)"
        )
    if len(head) < size:
        raise PacketError(_TRUNCATED)
    return OCBEDHeader(head[1], head[2], octet, bytes(head[4:size]))
