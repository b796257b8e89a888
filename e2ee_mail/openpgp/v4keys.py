"""OpenPGP v4 keys: the legacy curves and key generation for the "rfc4880" profile.

Implements:

* RFC 9580 §5.5.5.5 EdDSALegacy (22) over Ed25519Legacy (OID 1.3.6.1.4.1.11591.15.1):
  public ``len || OID || MPI(0x40 || point)``; secret ``MPI(32-octet seed)``.
* RFC 9580 §5.5.5.6 ECDH (18) over Curve25519Legacy (OID 1.3.6.1.4.1.3029.1.5.1):
  public ``len || OID || MPI(0x40 || point) || 03 01 hash kek`` (SHA2-256, AES-128 as
  §11.5.1 recommends); secret ``MPI`` of the clamped key in big-endian order
  (§5.5.5.6.1.1).
* Registration of both secret decoders with :mod:`.keymaterial`, and of the ECDH
  session-key wrapping (:mod:`.pkesk_v3`) with :mod:`.pkesk`, so the v6 certificate
  and message code handles v4 keys unchanged.
* :func:`generate_v4`: an EdDSALegacy primary (certify, sign) with an ECDH
  Curve25519Legacy encryption subkey, or RSA-3072/4096 primary and subkey; a v4
  positive certification of the User ID (key flags, Features = SEIPDv1 only, so
  senders write what GnuPG 2.2 reads, and preferences AES-256/AES-128, SHA2-512/256,
  no compression) and a v4 subkey binding. GnuPG 2.2 checks and accepts these.

Left out: the NIST and Brainpool curves (UnsupportedError), DSA and Elgamal.
"""

from __future__ import annotations

import time
from typing import Final

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa, x25519
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from ..core import ecdh
from ..errors import KeyLoadError, UnsupportedError, UsageError
from . import keymaterial, keyprotect
from . import pkesk_v3 as _pkesk_v3  # registers the ECDH wrappers
from .certs import (
    FEATURE_SEIPDV1,
    KEY_FLAG_CERTIFY,
    KEY_FLAG_ENCRYPT,
    KEY_FLAG_SIGN,
    OpenPGPCertificate,
    OpenPGPSecretKey,
)
from .packets import (
    PK_ECDH,
    PK_EDDSA_LEGACY,
    PK_RSA,
    TAG_PUBLIC_KEY,
    TAG_PUBLIC_SUBKEY,
    TAG_SECRET_KEY,
    TAG_SECRET_SUBKEY,
    TAG_SIGNATURE,
    TAG_USER_ID,
)
from .packets.header import Packet
from .packets.keys import PublicKeyPacket, fingerprint, serialize_public_key
from .packets.signature import (
    SIG_POSITIVE_CERT,
    SIG_SUBKEY_BINDING,
    SP_FEATURES,
    SP_KEY_FLAGS,
    SP_PREFERRED_COMPRESSION,
    SP_PREFERRED_HASH,
    SP_PREFERRED_SYMMETRIC,
    SP_PRIMARY_USER_ID,
    Subpacket,
    serialize_signature,
)
from .packets.wire import Reader, encode_mpi
from .sigs import SigningKey, key_signature_data, make_signature

__all__ = [
    "ECDH_KDF_PARAMS",
    "OID_CV25519",
    "OID_ED25519_LEGACY",
    "decode_curve_public",
    "generate_v4",
]

#: RFC 9580 §9.2 curve OIDs (the DER contents, without tag and length).
OID_ED25519_LEGACY: Final = bytes.fromhex("2b06010401da470f01")
OID_CV25519: Final = bytes.fromhex("2b060104019755010501")
#: RFC 9580 §11.5.1 for Curve25519Legacy: reserved 01, SHA2-256 (8), AES-128 (7).
ECDH_KDF_PARAMS: Final = bytes((3, 1, 8, 7))
_RSA_BITS: Final = {"rsa3072": 3072, "rsa4096": 4096}
_KEY_SIZE: Final = 32

# Keep the registration import visible to linters.
_REGISTERED = _pkesk_v3.ALGORITHMS


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
    if key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw) != native:
        raise KeyLoadError("secret key material does not match its public key")
    return key


def _decode_ecdh(public: PublicKeyPacket, secret: bytes) -> object:
    _, native, _ = decode_curve_public(public)
    key = x25519.X25519PrivateKey.from_private_bytes(
        ecdh.legacy_secret_to_native(_secret_value(secret))
    )
    if key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw) != native:
        raise KeyLoadError("secret key material does not match its public key")
    return key


keymaterial.SECRET_DECODERS[PK_EDDSA_LEGACY] = _decode_eddsa_legacy
keymaterial.SECRET_DECODERS[PK_ECDH] = _decode_ecdh


def _raw(key: ed25519.Ed25519PrivateKey | x25519.X25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def _raw_public(key: ed25519.Ed25519PrivateKey | x25519.X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _new_pair(
    kind: str,
) -> tuple[SigningKey, int, bytes, bytes, object, int, bytes, bytes]:
    """(primary, algo, public material, secret material, subkey, algo, public
    material, secret material)."""
    if kind == "x25519":
        prim = ed25519.Ed25519PrivateKey.generate()
        sub = x25519.X25519PrivateKey.generate()
        prim_pub = (
            bytes((len(OID_ED25519_LEGACY),))
            + OID_ED25519_LEGACY
            + encode_mpi(ecdh.encode_point(_raw_public(prim)))
        )
        sub_pub = (
            bytes((len(OID_CV25519),))
            + OID_CV25519
            + encode_mpi(ecdh.encode_point(_raw_public(sub)))
            + ECDH_KDF_PARAMS
        )
        return (
            prim,
            PK_EDDSA_LEGACY,
            prim_pub,
            encode_mpi(_raw(prim)),
            sub,
            PK_ECDH,
            sub_pub,
            encode_mpi(ecdh.native_to_legacy_secret(_raw(sub))),
        )
    if kind in _RSA_BITS:
        prim_rsa = rsa.generate_private_key(65537, _RSA_BITS[kind])
        sub_rsa = rsa.generate_private_key(65537, _RSA_BITS[kind])
        return (
            prim_rsa,
            PK_RSA,
            keymaterial.public_material(prim_rsa),
            keymaterial.secret_material(prim_rsa),
            sub_rsa,
            PK_RSA,
            keymaterial.public_material(sub_rsa),
            keymaterial.secret_material(sub_rsa),
        )
    raise UsageError(f"unknown key kind {kind!r}: use x25519, rsa3072 or rsa4096")


def _preferences() -> list[Subpacket]:
    return [
        Subpacket(SP_PREFERRED_SYMMETRIC, bytes((9, 7))),
        Subpacket(SP_PREFERRED_HASH, bytes((10, 8))),
        Subpacket(SP_PREFERRED_COMPRESSION, bytes((0,))),
        Subpacket(SP_FEATURES, bytes((FEATURE_SEIPDV1,))),
    ]


def _secret_body(public: PublicKeyPacket, material: bytes, tag: int) -> bytes:
    body = serialize_public_key(public)
    prot, tail = keyprotect.protect(
        material, None, version=4, packet_tag=tag, public_body=body
    )
    return body + keyprotect.serialize_protection(prot, version=4) + tail


def generate_v4(uid: str, *, kind: str, now: int | None = None) -> OpenPGPSecretKey:
    """A new v4 key for ``uid`` (profile "rfc4880"); ``key.public`` is its
    certificate. Unprotected; ``export(passphrase=...)`` protects it (S2K usage 254,
    iterated+salted SHA2-256, AES-256), which GnuPG 2.2 imports."""
    created = int(time.time()) if now is None else now
    prim, prim_algo, prim_pub, prim_sec, sub, sub_algo, sub_pub, sub_sec = _new_pair(
        kind
    )
    primary = PublicKeyPacket(4, created, prim_algo, prim_pub)
    subkey = PublicKeyPacket(4, created, sub_algo, sub_pub)
    uid_bytes = uid.encode("utf-8")
    flags = Subpacket(SP_KEY_FLAGS, bytes((KEY_FLAG_CERTIFY | KEY_FLAG_SIGN,)))
    certification = make_signature(
        prim,
        primary,
        SIG_POSITIVE_CERT,
        key_signature_data(primary, user_id=uid_bytes),
        [flags, Subpacket(SP_PRIMARY_USER_ID, b"\x01"), *_preferences()],
        created=created,
    )
    binding = make_signature(
        prim,
        primary,
        SIG_SUBKEY_BINDING,
        key_signature_data(primary, subkey=subkey),
        [Subpacket(SP_KEY_FLAGS, bytes((KEY_FLAG_ENCRYPT,)))],
        created=created,
    )
    cert_packet = Packet(TAG_SIGNATURE, serialize_signature(certification))
    bind_packet = Packet(TAG_SIGNATURE, serialize_signature(binding))
    secret_packets = [
        Packet(TAG_SECRET_KEY, _secret_body(primary, prim_sec, TAG_SECRET_KEY)),
        Packet(TAG_USER_ID, uid_bytes),
        cert_packet,
        Packet(TAG_SECRET_SUBKEY, _secret_body(subkey, sub_sec, TAG_SECRET_SUBKEY)),
        bind_packet,
    ]
    public_packets = [
        Packet(TAG_PUBLIC_KEY, serialize_public_key(primary)),
        Packet(TAG_USER_ID, uid_bytes),
        cert_packet,
        Packet(TAG_PUBLIC_SUBKEY, serialize_public_key(subkey)),
        bind_packet,
    ]
    cert = OpenPGPCertificate(public_packets)
    keys = {fingerprint(primary): prim, fingerprint(subkey): sub}
    return OpenPGPSecretKey(cert, keys, secret_packets)
