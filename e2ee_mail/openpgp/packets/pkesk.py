"""Public-Key Encrypted Session Key packets v3 and v6 (RFC 9580 §5.1).

The packet codec keeps the algorithm-specific fields raw; :func:`parse_x25519_fields`
and :func:`serialize_x25519_fields` handle the X25519 layout (§5.1.6), and
:func:`parse_mpi_fields` the MPI-based ones (RSA §5.1.3). A v6 PKESK names its
recipient by key version + fingerprint, or nobody (anonymous: size octet 0); a v3
PKESK by 8-octet key ID, all zero for anonymous.
"""

from __future__ import annotations

import dataclasses

from ...errors import PacketError, UnsupportedError
from .wire import Reader

__all__ = [
    "PKESKv3",
    "PKESKv6",
    "X25519Fields",
    "parse_mpi_fields",
    "parse_pkesk",
    "parse_x25519_fields",
    "serialize_pkesk",
    "serialize_x25519_fields",
]

_FPR_SIZE = {4: 20, 6: 32}


@dataclasses.dataclass(frozen=True, slots=True)
class PKESKv3:
    """A v3 PKESK.

    Attributes:
        key_id: 8-octet key ID of the recipient, or zeros for anonymous.
        algorithm: public key algorithm.
        material: the algorithm-specific fields, raw.
    """

    key_id: bytes
    algorithm: int
    material: bytes

    @property
    def anonymous(self) -> bool:
        """True for the wildcard key ID."""
        return self.key_id == bytes(8)


@dataclasses.dataclass(frozen=True, slots=True)
class PKESKv6:
    """A v6 PKESK.

    Attributes:
        key_version: the recipient key's version (4 or 6), or 0 for anonymous.
        fingerprint: the recipient key's fingerprint, or b"" for anonymous.
        algorithm: public key algorithm.
        material: the algorithm-specific fields, raw.
    """

    key_version: int
    fingerprint: bytes
    algorithm: int
    material: bytes

    @property
    def anonymous(self) -> bool:
        """True when no recipient is named."""
        return not self.fingerprint


@dataclasses.dataclass(frozen=True, slots=True)
class X25519Fields:
    """X25519 PKESK fields (RFC 9580 §5.1.6).

    Attributes:
        ephemeral: the 32-octet ephemeral public key.
        cipher: the session key's cipher (v3 PKESK only; None in v6).
        wrapped: the AES key wrapped session key.
    """

    ephemeral: bytes
    cipher: int | None
    wrapped: bytes


def parse_pkesk(body: bytes) -> PKESKv3 | PKESKv6:
    """Parse a PKESK packet body."""
    reader = Reader(body, "PKESK packet")
    version = reader.u8()
    if version == 3:
        key_id = reader.take(8)
        return PKESKv3(key_id, reader.u8(), reader.rest())
    if version == 6:
        size = reader.u8()
        if size == 0:
            key_version, fpr = 0, b""
        else:
            key_version = reader.u8()
            fpr = reader.take(size - 1)
            if _FPR_SIZE.get(key_version) != len(fpr):
                raise PacketError("PKESK fingerprint does not match its key version")
        return PKESKv6(key_version, fpr, reader.u8(), reader.rest())
    raise UnsupportedError(f"PKESK version {version} is not supported")


def serialize_pkesk(packet: PKESKv3 | PKESKv6) -> bytes:
    """The body of a PKESK packet."""
    if isinstance(packet, PKESKv3):
        if len(packet.key_id) != 8:
            raise PacketError("a key ID is 8 octets")
        return b"\x03" + packet.key_id + bytes([packet.algorithm]) + packet.material
    if packet.fingerprint:
        if _FPR_SIZE.get(packet.key_version) != len(packet.fingerprint):
            raise PacketError("PKESK fingerprint does not match its key version")
        named = bytes([len(packet.fingerprint) + 1, packet.key_version])
        named += packet.fingerprint
    else:
        named = b"\x00"
    return b"\x06" + named + bytes([packet.algorithm]) + packet.material


def parse_x25519_fields(material: bytes, *, version: int) -> X25519Fields:
    """Split X25519 PKESK fields; ``version`` is the PKESK version (3 or 6)."""
    reader = Reader(material, "X25519 PKESK fields")
    ephemeral = reader.take(32)
    size = reader.u8()
    cipher = None
    if version == 3:
        if size < 1:
            raise PacketError("X25519 PKESK v3 lacks its cipher octet")
        cipher = reader.u8()
        size -= 1
    wrapped = reader.take(size)
    reader.end()
    return X25519Fields(ephemeral, cipher, wrapped)


def serialize_x25519_fields(fields: X25519Fields) -> bytes:
    """Join X25519 PKESK fields."""
    tail = (bytes([fields.cipher]) if fields.cipher is not None else b"") + (
        fields.wrapped
    )
    if len(fields.ephemeral) != 32 or len(tail) > 255:
        raise PacketError("X25519 PKESK fields out of range")
    return fields.ephemeral + bytes([len(tail)]) + tail


def parse_mpi_fields(material: bytes, count: int) -> tuple[bytes, ...]:
    """``count`` whole MPIs (RSA: 1) and nothing after them."""
    reader = Reader(material, "PKESK fields")
    found = tuple(reader.mpi() for _ in range(count))
    reader.end()
    return found
