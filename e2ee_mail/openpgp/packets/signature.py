"""Signature packets v4 and v6 and their subpackets (RFC 9580 §5.2.3).

The hashed and unhashed subpacket areas are kept as raw octets, so a parsed signature
re-serializes exactly and its hash is computed over the octets that were signed;
:func:`parse_subpackets` / :func:`serialize_subpackets` convert an area to and from
:class:`Subpacket` values. Signature material (MPIs or native octets) is kept raw.
Left out: v3 signatures (§5.2.2, refused).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from ...core.record import Record
from ...errors import PacketError, UnsupportedError
from .header import encode_length
from .wire import Reader

__all__ = [
    "SIG_CASUAL_CERT",
    "SIG_DIRECT_KEY",
    "SIG_GENERIC_CERT",
    "SIG_KEY_REVOCATION",
    "SIG_PERSONA_CERT",
    "SIG_POSITIVE_CERT",
    "SIG_PRIMARY_BINDING",
    "SIG_SUBKEY_BINDING",
    "SIG_SUBKEY_REVOCATION",
    "SP_CREATION_TIME",
    "SP_EMBEDDED_SIGNATURE",
    "SP_EXPIRATION_TIME",
    "SP_FEATURES",
    "SP_ISSUER_FINGERPRINT",
    "SP_ISSUER_KEY_ID",
    "SP_KEY_EXPIRATION",
    "SP_KEY_FLAGS",
    "SP_PREFERRED_AEAD",
    "SP_PREFERRED_COMPRESSION",
    "SP_PREFERRED_HASH",
    "SP_PREFERRED_SYMMETRIC",
    "SP_PRIMARY_USER_ID",
    "SignaturePacket",
    "Subpacket",
    "parse_signature",
    "parse_subpackets",
    "serialize_signature",
    "serialize_subpackets",
]

# Signature types, RFC 9580 §5.2.1.
SIG_GENERIC_CERT: Final = 0x10
SIG_PERSONA_CERT: Final = 0x11
SIG_CASUAL_CERT: Final = 0x12
SIG_POSITIVE_CERT: Final = 0x13
SIG_SUBKEY_BINDING: Final = 0x18
SIG_PRIMARY_BINDING: Final = 0x19
SIG_DIRECT_KEY: Final = 0x1F
SIG_KEY_REVOCATION: Final = 0x20
SIG_SUBKEY_REVOCATION: Final = 0x28
SIG_CERT_REVOCATION: Final = 0x30

# Subpacket types, RFC 9580 §5.2.3.8.
SP_CREATION_TIME: Final = 2
SP_EXPIRATION_TIME: Final = 3
SP_KEY_EXPIRATION: Final = 9
SP_PREFERRED_SYMMETRIC: Final = 11
SP_ISSUER_KEY_ID: Final = 16
SP_PREFERRED_HASH: Final = 21
SP_PREFERRED_COMPRESSION: Final = 22
SP_PRIMARY_USER_ID: Final = 25
SP_KEY_FLAGS: Final = 27
SP_REVOCATION_REASON: Final = 29
SP_FEATURES: Final = 30
SP_EMBEDDED_SIGNATURE: Final = 32
SP_ISSUER_FINGERPRINT: Final = 33
SP_PREFERRED_AEAD: Final = 39

#: Native signature sizes (Ed25519 27, Ed448 28; RFC 9980 §5.3: ML-DSA-65+Ed25519
#: 30 and ML-DSA-87+Ed448 31, EdDSA signature || ML-DSA signature) and MPI counts
#: (RSA, DSA, ECDSA, EdDSALegacy), RFC 9580 §5.2.3.1-§5.2.3.5.
_NATIVE_SIG_SIZE: Final = {27: 64, 28: 114, 30: 64 + 3309, 31: 114 + 4627}
_MPI_SIG_COUNT: Final = {1: 1, 3: 1, 17: 2, 19: 2, 22: 2}

#: Salt sizes per hash algorithm for v6 signatures (RFC 9580 §9.5).
SALT_SIZE: Final = {8: 16, 9: 24, 10: 32, 11: 16, 12: 16, 14: 32}


class Subpacket(Record):
    """One signature subpacket.

    Attributes:
        type: the subpacket type (without the critical bit).
        body: its data.
        critical: whether the critical bit is set.
    """

    _fields = ("type", "body", "critical")
    __slots__ = _fields
    type: int
    body: bytes
    critical: bool

    def __init__(self, type: int, body: bytes, critical: bool = False) -> None:
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "body", body)
        object.__setattr__(self, "critical", critical)


class SignaturePacket(Record):
    """A v4 or v6 Signature packet body.

    Attributes:
        version: 4 or 6.
        sig_type: signature type (RFC 9580 §5.2.1).
        pk_algorithm: public key algorithm of the signer.
        hash_algorithm: hash algorithm.
        hashed_area: the hashed subpacket area, raw.
        unhashed_area: the unhashed subpacket area, raw.
        left16: the leftmost 16 bits of the signed hash.
        salt: the v6 salt (empty for v4).
        material: the algorithm-specific signature fields, raw.
    """

    _fields = (
        "version",
        "sig_type",
        "pk_algorithm",
        "hash_algorithm",
        "hashed_area",
        "unhashed_area",
        "left16",
        "salt",
        "material",
    )
    __slots__ = (*_fields, "_parsed", "_last")
    version: int
    sig_type: int
    pk_algorithm: int
    hash_algorithm: int
    hashed_area: bytes
    unhashed_area: bytes
    left16: bytes
    salt: bytes
    material: bytes
    #: The areas parsed, by "hashed"/"unhashed": a verification asks for them a
    #: dozen times (issuer, creation time, critical bits ...), and parsing one in
    #: Python costs more than the rest of the checks around the signature. Not a
    #: field: neither compared, nor shown, nor copied.
    _parsed: dict[str, tuple[Subpacket, ...]]
    #: The last hashed subpacket's body of each type (see :meth:`subpacket`).
    _last: dict[int, bytes]

    def __init__(
        self,
        version: int,
        sig_type: int,
        pk_algorithm: int,
        hash_algorithm: int,
        hashed_area: bytes,
        unhashed_area: bytes,
        left16: bytes,
        salt: bytes,
        material: bytes,
    ) -> None:
        values = (
            version,
            sig_type,
            pk_algorithm,
            hash_algorithm,
            hashed_area,
            unhashed_area,
            left16,
            salt,
            material,
        )
        for name, value in zip(self._fields, values, strict=True):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_parsed", {})
        object.__setattr__(self, "_last", {})

    @property
    def hashed(self) -> tuple[Subpacket, ...]:
        """The hashed subpackets."""
        found = self._parsed.get("hashed")
        if found is None:
            found = self._parsed["hashed"] = parse_subpackets(self.hashed_area)
        return found

    @property
    def unhashed(self) -> tuple[Subpacket, ...]:
        """The unhashed subpackets."""
        found = self._parsed.get("unhashed")
        if found is None:
            found = self._parsed["unhashed"] = parse_subpackets(self.unhashed_area)
        return found

    def subpacket(self, kind: int) -> bytes | None:
        """The body of the last hashed subpacket of ``kind``, or None."""
        if not self._last:
            self._last.update((sub.type, sub.body) for sub in self.hashed)
        return self._last.get(kind)


def serialize_subpackets(subpackets: Iterable[Subpacket]) -> bytes:
    """A subpacket area from subpackets (RFC 9580 §5.2.3.7)."""
    out = bytearray()
    for sub in subpackets:
        if not 0 <= sub.type < 128:
            raise PacketError(f"subpacket type {sub.type} out of range")
        out += encode_length(len(sub.body) + 1)
        out.append(sub.type | (0x80 if sub.critical else 0))
        out += sub.body
    return bytes(out)


def parse_subpackets(area: bytes) -> tuple[Subpacket, ...]:
    """Split a subpacket area into subpackets."""
    # Indexing the octets directly (every signature checked parses its areas: a
    # Reader's call per field costs more than the verification around it).
    data = area if isinstance(area, bytes) else bytes(area)
    end = len(data)
    pos = 0
    found: list[Subpacket] = []
    while pos < end:
        first = data[pos]
        if first < 192:
            length = first
            pos += 1
        elif first < 255:
            if pos + 2 > end:
                raise PacketError(_TRUNCATED_AREA)
            length = ((first - 192) << 8) + data[pos + 1] + 192
            pos += 2
        else:
            if pos + 5 > end:
                raise PacketError(_TRUNCATED_AREA)
            length = int.from_bytes(data[pos + 1 : pos + 5], "big")
            pos += 5
        if length == 0:
            raise PacketError("signature subpacket has length zero")
        if pos + length > end:
            raise PacketError(_TRUNCATED_AREA)
        kind = data[pos]
        found.append(
            Subpacket(kind & 0x7F, data[pos + 1 : pos + length], bool(kind & 0x80))
        )
        pos += length
    return tuple(found)


_TRUNCATED_AREA: Final = "signature subpacket area is truncated"
_TRUNCATED_SIGNATURE: Final = "signature packet is truncated"


def parse_signature(body: bytes) -> SignaturePacket:
    """Parse a v4 or v6 Signature packet body."""
    data = body if isinstance(body, bytes) else bytes(body)
    if not data:
        raise PacketError(_TRUNCATED_SIGNATURE)
    version = data[0]
    if version not in (4, 6):
        raise UnsupportedError(f"version {version} signatures are not supported")
    width = 4 if version == 6 else 2
    # Type, key and hash algorithms, then the hashed area's length.
    pos = 4 + width
    if len(data) < pos:
        raise PacketError(_TRUNCATED_SIGNATURE)
    sig_type, pk_algorithm, hash_algorithm = data[1], data[2], data[3]
    hashed_area, pos = _field(data, pos, int.from_bytes(data[4:pos], "big"))
    unhashed_size, pos = _field(data, pos, width)
    unhashed_area, pos = _field(data, pos, int.from_bytes(unhashed_size, "big"))
    left16, pos = _field(data, pos, 2)
    salt = b""
    if version == 6:
        salt_size, pos = _field(data, pos, 1)
        salt, pos = _field(data, pos, salt_size[0])
    material = data[pos:]
    hashed = parse_subpackets(hashed_area)
    unhashed = parse_subpackets(unhashed_area)
    _check_material(pk_algorithm, material)
    packet = SignaturePacket(
        version,
        sig_type,
        pk_algorithm,
        hash_algorithm,
        hashed_area,
        unhashed_area,
        left16,
        salt,
        material,
    )
    packet._parsed.update(hashed=hashed, unhashed=unhashed)
    return packet


def _field(data: bytes, pos: int, n: int) -> tuple[bytes, int]:
    """``data[pos:pos + n]`` and the position after it."""
    if pos + n > len(data):
        raise PacketError(_TRUNCATED_SIGNATURE)
    return data[pos : pos + n], pos + n


def _check_material(pk_algorithm: int, material: bytes) -> None:
    """Require the exact shape of known signature material (RFC 9580 §5.2.3.1-5)."""
    if pk_algorithm in _NATIVE_SIG_SIZE:
        if len(material) != _NATIVE_SIG_SIZE[pk_algorithm]:
            raise PacketError("signature material has the wrong size")
        return
    count = _MPI_SIG_COUNT.get(pk_algorithm)
    if count is None:
        return
    reader = Reader(material, "signature material")
    for _ in range(count):
        reader.mpi()
    reader.end()


def serialize_signature(packet: SignaturePacket) -> bytes:
    """The body of a Signature packet."""
    width = 4 if packet.version == 6 else 2
    out = bytearray(
        [packet.version, packet.sig_type, packet.pk_algorithm, packet.hash_algorithm]
    )
    out += len(packet.hashed_area).to_bytes(width, "big") + packet.hashed_area
    out += len(packet.unhashed_area).to_bytes(width, "big") + packet.unhashed_area
    out += packet.left16
    if packet.version == 6:
        out.append(len(packet.salt))
        out += packet.salt
    out += packet.material
    return bytes(out)


def signature_trailer(packet: SignaturePacket) -> bytes:
    """The octets hashed after the signed data (RFC 9580 §5.2.4)."""
    width = 4 if packet.version == 6 else 2
    head = bytes(
        [packet.version, packet.sig_type, packet.pk_algorithm, packet.hash_algorithm]
    )
    head += len(packet.hashed_area).to_bytes(width, "big") + packet.hashed_area
    return head + bytes([packet.version, 0xFF]) + len(head).to_bytes(4, "big")
