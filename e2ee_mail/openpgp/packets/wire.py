"""Bounds-checked reading of OpenPGP scalars, MPIs and strings (RFC 9580 §3.1, §3.2).

Every read checks the remaining length first, so a hostile length field ends in a
:class:`PacketError` and never in an allocation larger than the input.
"""

from __future__ import annotations

from typing import Final

from ...errors import PacketError

__all__ = ["Reader", "checksum16", "encode_mpi", "mpi_to_int"]

#: RFC 9580 §3.2: an MPI's bit count is a 2-octet scalar.
_MAX_MPI_BITS: Final = 0xFFFF

Buffer = bytes | bytearray | memoryview


class Reader:
    """A cursor over a buffer; every method raises PacketError past the end."""

    __slots__ = ("_data", "_what", "pos")

    def __init__(self, data: Buffer, what: str = "packet", pos: int = 0) -> None:
        self._data = memoryview(data).cast("B") if not isinstance(data, bytes) else data
        self._what = what
        self.pos = pos

    @property
    def remaining(self) -> int:
        """Octets left after the cursor."""
        return len(self._data) - self.pos

    def _need(self, n: int) -> None:
        if n < 0 or self.pos + n > len(self._data):
            raise PacketError(f"{self._what} is truncated")

    def u8(self) -> int:
        """One octet."""
        self._need(1)
        value = self._data[self.pos]
        self.pos += 1
        return int(value)

    def u16(self) -> int:
        """Two-octet big-endian scalar."""
        return int.from_bytes(self.take(2), "big")

    def u32(self) -> int:
        """Four-octet big-endian scalar."""
        return int.from_bytes(self.take(4), "big")

    def take(self, n: int) -> bytes:
        """The next ``n`` octets."""
        self._need(n)
        out = bytes(self._data[self.pos : self.pos + n])
        self.pos += n
        return out

    def rest(self) -> bytes:
        """Everything after the cursor."""
        return self.take(self.remaining)

    def mpi(self) -> bytes:
        """One MPI, returned whole (length prefix included) for exact round trips."""
        start = self.pos
        bits = self.u16()
        self.take((bits + 7) // 8)
        return bytes(self._data[start : self.pos])

    def end(self) -> None:
        """Require that nothing is left."""
        if self.remaining:
            raise PacketError(f"{self._what} has {self.remaining} trailing octets")


def encode_mpi(value: int | bytes) -> bytes:
    """Encode a non-negative integer (or big-endian octets) as an MPI (§3.2)."""
    if isinstance(value, bytes):
        # Octets (an RSA ciphertext per recipient per message): drop the leading
        # zero octets instead of a round trip through int.
        digits = value.lstrip(b"\0")
        bits = (len(digits) - 1) * 8 + digits[0].bit_length() if digits else 0
        if bits > _MAX_MPI_BITS:
            raise PacketError("integer does not fit an MPI")
        return bits.to_bytes(2, "big") + digits
    if value < 0 or value.bit_length() > _MAX_MPI_BITS:
        raise PacketError("integer does not fit an MPI")
    bits = value.bit_length()
    return bits.to_bytes(2, "big") + value.to_bytes((bits + 7) // 8, "big")


def mpi_to_int(mpi: bytes) -> int:
    """The integer of a whole MPI as returned by :meth:`Reader.mpi`."""
    return int.from_bytes(mpi[2:], "big")


def checksum16(data: bytes | bytearray | memoryview) -> bytes:
    """The 2-octet checksum: sum of all octets mod 65536 (RFC 9580 §5.5.3)."""
    return (sum(data) & 0xFFFF).to_bytes(2, "big")
