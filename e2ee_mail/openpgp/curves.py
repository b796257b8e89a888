"""The legacy 25519 curves of OpenPGP v4 keys: key material codecs.

Implements RFC 9580 §5.5.5.5 EdDSALegacy (22) over Ed25519Legacy (OID
1.3.6.1.4.1.11591.15.1): public ``len || OID || MPI(0x40 || point)``, secret
``MPI(32-octet seed)``; and §5.5.5.6 ECDH (18) over Curve25519Legacy (OID
1.3.6.1.4.1.3029.1.5.1): public ``len || OID || MPI(0x40 || point) || 03 01 hash kek``,
secret ``MPI`` of the clamped key in big-endian order (§5.5.5.6.1.1).

Left out: the NIST and Brainpool curves (UnsupportedError).
"""

from __future__ import annotations

from typing import Final

from cryptography.hazmat.primitives.asymmetric import ed25519, x25519

from ..core import ecdh
from ..errors import KeyLoadError, UnsupportedError
from .packets import OID_CV25519, OID_ED25519_LEGACY, PK_ECDH
from .packets.keys import PublicKeyPacket
from .packets.wire import Reader

__all__ = [
    "ECDH_KDF_PARAMS",
    "decode_curve_public",
    "private_from_material",
]

#: RFC 9580 §11.5.1 for Curve25519Legacy: reserved 01, SHA2-256 (8), AES-128 (7).
ECDH_KDF_PARAMS: Final = bytes((3, 1, 8, 7))
_KEY_SIZE: Final = 32


def decode_curve_public(packet: PublicKeyPacket) -> tuple[bytes, bytes, bytes]:
    """(curve OID, native 32-octet public key, KDF parameters or b"") of a v4
    EdDSALegacy or ECDH key packet.

    Raises:
        PacketError: malformed fields. UnsupportedError: a curve other than the
        two 25519 legacy curves.
    """
    reader = Reader(packet.material, "curve key")
    oid = reader.take(reader.u8())
    point = reader.mpi()[2:]
    kdf = b""
    if packet.algorithm == PK_ECDH:
        kdf = reader.take(reader.u8())
        if len(kdf) != 3 or kdf[0] != 1:
            raise UnsupportedError("unknown ECDH KDF parameters")
    reader.end()
    want = OID_CV25519 if packet.algorithm == PK_ECDH else OID_ED25519_LEGACY
    if oid != want:
        raise UnsupportedError(
            f"elliptic curve {oid.hex()} is not supported (Curve25519 only)"
        )
    return oid, ecdh.decode_point(point), kdf


def _secret_value(secret: bytes) -> bytes:
    reader = Reader(secret, "curve secret key")
    value = reader.mpi()[2:]
    reader.end()
    if len(value) > _KEY_SIZE:
        raise KeyLoadError("curve secret key is longer than 32 octets")
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
    _, native, _ = decode_curve_public(public)
    key = x25519.X25519PrivateKey.from_private_bytes(
        ecdh.legacy_secret_to_native(_secret_value(secret))
    )
    if key.public_key().public_bytes_raw() != native:
        raise KeyLoadError("secret key material does not match its public key")
    return key


def private_from_material(public: PublicKeyPacket, secret: bytes) -> object:
    """The private key of an EdDSALegacy or ECDH key packet and its plain secret.

    Raises:
        KeyLoadError: the secret does not match the public key.
        UnsupportedError: a curve other than the two 25519 legacy curves.
    """
    if public.algorithm == PK_ECDH:
        return _decode_ecdh(public, secret)
    return _decode_eddsa_legacy(public, secret)
