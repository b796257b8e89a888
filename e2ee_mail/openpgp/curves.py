"""The elliptic curves of OpenPGP ECDH (18) and EdDSALegacy (22) keys: key material
codecs.

Implements RFC 9580 §5.5.5.5 EdDSALegacy over Ed25519Legacy (OID
1.3.6.1.4.1.11591.15.1): public ``len || OID || MPI(0x40 || point)``, secret
``MPI(32-octet seed)``; and §5.5.5.6 ECDH: public ``len || OID || MPI(point) ||
03 01 hash kek``, over

* Curve25519Legacy (OID 1.3.6.1.4.1.3029.1.5.1): the point ``0x40 || native key``,
  the secret an MPI of the clamped key in big-endian order (§5.5.5.6.1.1);
* NIST P-256/P-384/P-521 and brainpoolP256r1/P384r1/P512r1 (§9.2): the point in SEC1
  uncompressed form ``04 || x || y``, the secret an MPI of the scalar.

The KDF parameters a key carries are what its messages use (§11.5), within SHA2-256/
384/512 and AES-128/192/256 key wrap; §9.2's per-curve defaults are what a key
generator would pick (:data:`DEFAULT_KDF`). Other curves are an UnsupportedError
naming the OID.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519

from ..core import ecdh, ecdh_prime
from ..core.oid import dotted
from ..errors import Error, FormatError, KeyLoadError, UnsupportedError
from .packets import CIPHER_KEY_SIZE, OID_CV25519, OID_ED25519_LEGACY, PK_ECDH
from .packets.keys import PublicKeyPacket
from .packets.wire import Reader

__all__ = [
    "CURVE_NAMES",
    "DEFAULT_KDF",
    "ECDH_KDF_PARAMS",
    "KDF_HASHES",
    "PRIME_CURVES",
    "EcdhKey",
    "curve_name",
    "decode_curve_public",
    "decode_ecdh_key",
    "ecdh_name",
    "private_from_material",
]

#: RFC 9580 §11.5.1 for Curve25519Legacy: reserved 01, SHA2-256 (8), AES-128 (7).
ECDH_KDF_PARAMS: Final = bytes((3, 1, 8, 7))
_KEY_SIZE: Final = 32

#: Curve OIDs (DER contents) of RFC 9580 §9.2 -> the names GnuPG gives the curves.
CURVE_NAMES: Final = {
    OID_CV25519: "curve25519",
    OID_ED25519_LEGACY: "ed25519",
    bytes.fromhex("2a8648ce3d030107"): "nistp256",
    bytes.fromhex("2b81040022"): "nistp384",
    bytes.fromhex("2b81040023"): "nistp521",
    bytes.fromhex("2b2403030208010107"): "brainpoolP256r1",
    bytes.fromhex("2b240303020801010b"): "brainpoolP384r1",
    bytes.fromhex("2b240303020801010d"): "brainpoolP512r1",
}
#: GnuPG's names of the prime curves -> core/ecdh_prime.py's curves.
PRIME_CURVES: Final = {
    "nistp256": ecdh_prime.CURVES["p256"],
    "nistp384": ecdh_prime.CURVES["p384"],
    "nistp521": ecdh_prime.CURVES["p521"],
    "brainpoolP256r1": ecdh_prime.CURVES["brainpoolP256r1"],
    "brainpoolP384r1": ecdh_prime.CURVES["brainpoolP384r1"],
    "brainpoolP512r1": ecdh_prime.CURVES["brainpoolP512r1"],
}
#: RFC 9580 §9.2: the KDF hash and key-wrap cipher IDs a new key on each curve gets.
DEFAULT_KDF: Final = {
    "curve25519": (8, 7),
    "nistp256": (8, 7),
    "nistp384": (9, 8),
    "nistp521": (10, 9),
    "brainpoolP256r1": (8, 7),
    "brainpoolP384r1": (9, 8),
    "brainpoolP512r1": (10, 9),
}
#: RFC 9580 §9.5 KDF hashes an ECDH key may name; its key-wrap cipher (§9.3) is
#: one of the AES ones of CIPHER_KEY_SIZE.
KDF_HASHES: Final = {8: "sha256", 9: "sha384", 10: "sha512"}


@dataclasses.dataclass(frozen=True, slots=True)
class EcdhKey:
    """The decoded public part of an ECDH (18) key.

    Attributes:
        oid: the curve OID (DER contents).
        curve: the curve's name ("curve25519", "nistp256", ...).
        point: the recipient point: the native 32-octet key for curve25519, the
            uncompressed SEC1 point for the prime curves.
        hash_id: the KDF hash ID (§9.5), one of :data:`KDF_HASHES`.
        kek_id: the key-wrap cipher ID (§9.3), an AES one.
        public: the decoded point of a prime-curve key (checked to be on its
            curve), None for curve25519.
    """

    oid: bytes
    curve: str
    point: bytes
    hash_id: int
    kek_id: int
    public: ec.EllipticCurvePublicKey | None = dataclasses.field(
        default=None, compare=False
    )

    @property
    def hash_name(self) -> str:
        return KDF_HASHES[self.hash_id]

    @property
    def kek_size(self) -> int:
        return CIPHER_KEY_SIZE[self.kek_id]


def curve_name(oid: bytes) -> str:
    """The name of a curve OID.

    Raises:
        UnsupportedError: a curve we do not know, named by its OID.
    """
    name = CURVE_NAMES.get(oid)
    if name is None:
        raise UnsupportedError(
            f"elliptic curve {_dotted(oid)} is not supported (Curve25519, NIST "
            "P-256/P-384/P-521 and brainpoolP256r1/P384r1/P512r1 are)"
        )
    return name


def _dotted(oid: bytes) -> str:
    """The dotted form of a DER OID body, or its hex when it is malformed."""
    text = dotted(oid)
    return oid.hex() if text is None else text


def decode_ecdh_key(packet: PublicKeyPacket) -> EcdhKey:
    """The curve, point and KDF parameters of an ECDH key packet (v4 or v6).

    Raises:
        PacketError: malformed fields. FormatError: a point that is not on its
        curve. UnsupportedError: an unknown curve or KDF parameters outside the
        allowed set.
    """
    reader = Reader(packet.material, "ECDH key")
    oid = reader.take(reader.u8())
    point = reader.mpi()[2:]
    kdf = reader.take(reader.u8())
    reader.end()
    if len(kdf) != 3 or kdf[0] != 1:
        raise UnsupportedError("unknown ECDH KDF parameters")
    if kdf[1] not in KDF_HASHES or kdf[2] not in CIPHER_KEY_SIZE:
        raise UnsupportedError(
            f"ECDH key asks for KDF hash {kdf[1]} / key wrap {kdf[2]}, which are not "
            "supported (SHA2-256/384/512 with AES key wrap only)"
        )
    name = curve_name(oid)
    if name == "curve25519":
        return EcdhKey(oid, name, ecdh.decode_point(point), kdf[1], kdf[2])
    prime = PRIME_CURVES.get(name)
    if prime is None:
        raise UnsupportedError(f"ECDH over {name} is not defined")
    public = ecdh_prime.decode_point(prime, point)
    return EcdhKey(oid, name, bytes(point), kdf[1], kdf[2], public)


def decode_curve_public(packet: PublicKeyPacket) -> tuple[bytes, bytes, bytes]:
    """(curve OID, recipient point, KDF parameters or b"") of an ECDH or
    EdDSALegacy key packet; the point as :class:`EcdhKey` holds it.

    Raises:
        PacketError: malformed fields. UnsupportedError: an unknown curve, an
        EdDSALegacy key on another curve than Ed25519Legacy.
    """
    if packet.algorithm == PK_ECDH:
        key = decode_ecdh_key(packet)
        return key.oid, key.point, bytes((1, key.hash_id, key.kek_id))
    reader = Reader(packet.material, "EdDSALegacy key")
    oid = reader.take(reader.u8())
    point = reader.mpi()[2:]
    reader.end()
    if oid != OID_ED25519_LEGACY:
        raise UnsupportedError(
            f"EdDSALegacy over {_dotted(oid)} is not supported (Ed25519Legacy only)"
        )
    return oid, ecdh.decode_point(point), b""


def _secret_value(secret: bytes, limit: int = _KEY_SIZE) -> bytes:
    reader = Reader(secret, "curve secret key")
    value = reader.mpi()[2:]
    reader.end()
    if len(value) > limit:
        raise KeyLoadError(f"curve secret key is longer than {limit} octets")
    return value


def _decode_eddsa_legacy(public: PublicKeyPacket, secret: bytes) -> object:
    _, native, _ = decode_curve_public(public)
    key = ed25519.Ed25519PrivateKey.from_private_bytes(
        _secret_value(secret).rjust(_KEY_SIZE, b"\x00")
    )
    if key.public_key().public_bytes_raw() != native:
        raise KeyLoadError("secret key material does not match its public key")
    return key


def _decode_ecdh(public: PublicKeyPacket, secret: bytes) -> object:
    info = decode_ecdh_key(public)
    key: x25519.X25519PrivateKey | ec.EllipticCurvePrivateKey
    if info.curve == "curve25519":
        key = x25519.X25519PrivateKey.from_private_bytes(
            ecdh.legacy_secret_to_native(_secret_value(secret))
        )
        ok = key.public_key().public_bytes_raw() == info.point
    else:
        prime = PRIME_CURVES[info.curve]
        try:
            key = ecdh_prime.private_key(prime, _secret_value(secret, prime.field_size))
        except FormatError:
            raise KeyLoadError(f"{info.curve} secret key is out of range") from None
        ok = ecdh_prime.encode_point(key) == info.point
    if not ok:
        raise KeyLoadError("secret key material does not match its public key")
    return key


def private_from_material(public: PublicKeyPacket, secret: bytes) -> object:
    """The private key of an EdDSALegacy or ECDH key packet and its plain secret.

    Raises:
        KeyLoadError: the secret does not match the public key.
        UnsupportedError: a curve we do not handle.
    """
    if public.algorithm == PK_ECDH:
        return _decode_ecdh(public, secret)
    return _decode_eddsa_legacy(public, secret)


def ecdh_name(packet: PublicKeyPacket) -> str:
    """ "ecdh-<curve>" for an ECDH key packet ("ecdh-nistp256"), or "ecdh" when
    its curve is unknown or its material malformed."""
    reader = Reader(packet.material, "ECDH key")
    try:
        return f"ecdh-{curve_name(reader.take(reader.u8()))}"
    except Error:
        return "ecdh"
