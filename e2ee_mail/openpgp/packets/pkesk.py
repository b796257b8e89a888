"""Public-Key Encrypted Session Key packets v3 and v6 (RFC 9580 §5.1).

The packet codec keeps the algorithm-specific fields raw; :func:`parse_x25519_fields`
and :func:`serialize_x25519_fields` handle the X25519 layout (§5.1.6), which X448
shares with a 56-octet ephemeral key (§5.1.7, ``point_size=56``), and
:func:`parse_mpi_fields` the MPI-based ones (RSA §5.1.3). A v6 PKESK names its
recipient by key version + fingerprint, or nobody (anonymous: size octet 0); a v3
PKESK by 8-octet key ID, all zero for anonymous.
"""

from __future__ import annotations

from typing import Final

from ...core.record import Record
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
    "serialize_pkesk_v6",
    "serialize_x25519_fields",
    "split_x25519_fields",
]

_FPR_SIZE = {4: 20, 6: 32}
_TRUNCATED: Final = "PKESK packet is truncated"
_X25519_TRUNCATED: Final = "X25519 PKESK fields is truncated"


class PKESKv3(Record):
    """A v3 PKESK.

    Attributes:
        key_id: 8-octet key ID of the recipient, or zeros for anonymous.
        algorithm: public key algorithm.
        material: the algorithm-specific fields, raw.
    """

    _fields = ("key_id", "algorithm", "material")
    __slots__ = _fields
    key_id: bytes
    algorithm: int
    material: bytes

    def __init__(self, key_id: bytes, algorithm: int, material: bytes) -> None:
        object.__setattr__(self, "key_id", key_id)
        object.__setattr__(self, "algorithm", algorithm)
        object.__setattr__(self, "material", material)

    @property
    def anonymous(self) -> bool:
        """True for the wildcard key ID."""
        return self.key_id == bytes(8)


class PKESKv6(Record):
    """A v6 PKESK.

    Attributes:
        key_version: the recipient key's version (4 or 6), or 0 for anonymous.
        fingerprint: the recipient key's fingerprint, or b"" for anonymous.
        algorithm: public key algorithm.
        material: the algorithm-specific fields, raw.
    """

    _fields = ("key_version", "fingerprint", "algorithm", "material")
    __slots__ = _fields
    key_version: int
    fingerprint: bytes
    algorithm: int
    material: bytes

    def __init__(
        self, key_version: int, fingerprint: bytes, algorithm: int, material: bytes
    ) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "key_version", key_version)
        setattr_(self, "fingerprint", fingerprint)
        setattr_(self, "algorithm", algorithm)
        setattr_(self, "material", material)

    @property
    def anonymous(self) -> bool:
        """True when no recipient is named."""
        return not self.fingerprint


class X25519Fields(Record):
    """X25519 PKESK fields (RFC 9580 §5.1.6).

    Attributes:
        ephemeral: the 32-octet ephemeral public key.
        cipher: the session key's cipher (v3 PKESK only; None in v6).
        wrapped: the AES key wrapped session key.
    """

    _fields = ("ephemeral", "cipher", "wrapped")
    __slots__ = _fields
    ephemeral: bytes
    cipher: int | None
    wrapped: bytes

    def __init__(self, ephemeral: bytes, cipher: int | None, wrapped: bytes) -> None:
        object.__setattr__(self, "ephemeral", ephemeral)
        object.__setattr__(self, "cipher", cipher)
        object.__setattr__(self, "wrapped", wrapped)


def parse_pkesk(body: bytes | bytearray | memoryview) -> PKESKv3 | PKESKv6:
    """Parse a PKESK packet body.

    Sliced directly rather than through :class:`~.wire.Reader` (one PKESK per
    recipient per message); every slice is bounds-checked first, so a short
    body is a PacketError as before.
    """
    n = len(body)
    if not n:
        raise PacketError(_TRUNCATED)
    version = body[0]
    if version == 3:
        if n < 10:
            raise PacketError(_TRUNCATED)
        return PKESKv3(bytes(body[1:9]), body[9], bytes(body[10:]))
    if version == 6:
        if n < 2:
            raise PacketError(_TRUNCATED)
        size = body[1]
        pos = 2 + size
        if size == 0:
            key_version, fpr = 0, b""
        else:
            if n < pos:
                raise PacketError(_TRUNCATED)
            key_version = body[2]
            fpr = bytes(body[3:pos])
            if _FPR_SIZE.get(key_version) != len(fpr):
                raise PacketError("PKESK fingerprint does not match its key version")
        if n <= pos:
            raise PacketError(_TRUNCATED)
        return PKESKv6(key_version, fpr, body[pos], bytes(body[pos + 1 :]))
    raise UnsupportedError(f"PKESK version {version} is not supported")


def serialize_pkesk(packet: PKESKv3 | PKESKv6) -> bytes:
    """The body of a PKESK packet."""
    if isinstance(packet, PKESKv3):
        if len(packet.key_id) != 8:
            raise PacketError("a key ID is 8 octets")
        return b"\x03" + packet.key_id + bytes([packet.algorithm]) + packet.material
    return serialize_pkesk_v6(
        packet.key_version, packet.fingerprint, packet.algorithm, packet.material
    )


def serialize_pkesk_v6(
    key_version: int, fingerprint: bytes, algorithm: int, material: bytes
) -> bytes:
    """The body of a v6 PKESK from its fields (:class:`PKESKv6` without building
    one: the composer writes one per recipient per message)."""
    if fingerprint:
        if _FPR_SIZE.get(key_version) != len(fingerprint):
            raise PacketError("PKESK fingerprint does not match its key version")
        named = bytes((6, len(fingerprint) + 1, key_version)) + fingerprint
    else:
        named = b"\x06\x00"
    return named + bytes((algorithm,)) + material


def parse_x25519_fields(material: bytes, *, version: int) -> X25519Fields:
    """Split X25519 PKESK fields; ``version`` is the PKESK version (3 or 6)."""
    return X25519Fields(*split_x25519_fields(material, version=version))


def split_x25519_fields(
    material: bytes | bytearray | memoryview, *, version: int, point_size: int = 32
) -> tuple[bytes, int | None, bytes]:
    """:func:`parse_x25519_fields` as a plain (ephemeral, cipher, wrapped) tuple, for
    the unwrap on every decrypt; ``point_size`` 56 for X448."""
    n = len(material)
    if n < point_size + 1:
        raise PacketError(_X25519_TRUNCATED)
    size = material[point_size]
    pos = point_size + 1
    cipher = None
    if version == 3:
        if size < 1:
            raise PacketError("X25519 PKESK v3 lacks its cipher octet")
        if n < pos + 1:
            raise PacketError(_X25519_TRUNCATED)
        cipher = material[pos]
        pos += 1
        size -= 1
    if n - pos < size:
        raise PacketError(_X25519_TRUNCATED)
    if n - pos > size:
        raise PacketError(f"X25519 PKESK fields has {n - pos - size} trailing octets")
    return bytes(material[:point_size]), cipher, bytes(material[pos:])


def serialize_x25519_fields(fields: X25519Fields, *, point_size: int = 32) -> bytes:
    """Join X25519 PKESK fields (X448's with ``point_size=56``)."""
    tail = (bytes([fields.cipher]) if fields.cipher is not None else b"") + (
        fields.wrapped
    )
    if len(fields.ephemeral) != point_size or len(tail) > 255:
        raise PacketError("X25519 PKESK fields out of range")
    return fields.ephemeral + bytes([len(tail)]) + tail


def parse_mpi_fields(material: bytes, count: int) -> tuple[bytes, ...]:
    """``count`` whole MPIs (RSA: 1) and nothing after them."""
    reader = Reader(material, "PKESK fields")
    found = tuple(reader.mpi() for _ in range(count))
    reader.end()
    return found
