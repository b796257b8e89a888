"""OpenPGP test keys with an ECDH (18) subkey on any supported curve, or an X448 (26)
subkey, under an Ed25519 primary, built here so the tests need no peer.

The keys go through the library's own loaders (``certs.load_key``): the packets are
written as a peer would write them (v4: EdDSALegacy primary, unprotected secrets
with their 2-octet checksum; v6: Ed25519 primary, raw secrets), so parsing,
binding verification and secret decoding are what the tests exercise.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x448

from e2ee_mail.core import ecdh_prime
from e2ee_mail.openpgp.curves import CURVE_NAMES, DEFAULT_KDF, PRIME_CURVES
from e2ee_mail.openpgp.packets import (
    OID_ED25519_LEGACY,
    TAG_SECRET_KEY,
    TAG_SECRET_SUBKEY,
    TAG_SIGNATURE,
    TAG_USER_ID,
)
from e2ee_mail.openpgp.packets.header import serialize_packet
from e2ee_mail.openpgp.packets.keys import PublicKeyPacket, serialize_public_key
from e2ee_mail.openpgp.packets.signature import (
    SIG_DIRECT_KEY,
    SIG_POSITIVE_CERT,
    SIG_SUBKEY_BINDING,
    SP_FEATURES,
    SP_KEY_FLAGS,
    Subpacket,
    serialize_signature,
)
from e2ee_mail.openpgp.packets.wire import checksum16, encode_mpi
from e2ee_mail.openpgp.sigs import key_signature_data, make_signature

OIDS = {name: oid for oid, name in CURVE_NAMES.items()}
PRIME = tuple(PRIME_CURVES)
CREATED = 1_700_000_000


def _secret(version: int, public: PublicKeyPacket, material: bytes) -> bytes:
    body = serialize_public_key(public) + b"\x00" + material
    return body + (checksum16(material) if version == 4 else b"")


def ecdh_subkey(
    curve: str, kdf: tuple[int, int] | None = None, version: int = 4
) -> tuple[PublicKeyPacket, bytes, ec.EllipticCurvePrivateKey]:
    """(public packet, plain secret material, private key) of a prime-curve ECDH key
    with the KDF parameters ``kdf`` (hash ID, key-wrap ID), default §9.2's."""
    private = ec.generate_private_key(PRIME_CURVES[curve].curve)
    hash_id, kek_id = kdf or DEFAULT_KDF[curve]
    oid = OIDS[curve]
    material = (
        bytes((len(oid),))
        + oid
        + encode_mpi(ecdh_prime.encode_point(private))
        + bytes((3, 1, hash_id, kek_id))
    )
    scalar = private.private_numbers().private_value
    return PublicKeyPacket(version, CREATED, 18, material), encode_mpi(scalar), private


def x448_subkey(version: int = 6) -> tuple[PublicKeyPacket, bytes, x448.X448PrivateKey]:
    private = x448.X448PrivateKey.generate()
    public = private.public_key().public_bytes_raw()
    return (
        PublicKeyPacket(version, CREATED, 26, public),
        private.private_bytes_raw(),
        private,
    )


def build_key(
    subkey: PublicKeyPacket, sub_secret: bytes, *, uid: str = "curve@example.org"
) -> bytes:
    """The binary secret key (primary Ed25519 of the subkey's version) for a subkey."""
    version = subkey.version
    signer = ed25519.Ed25519PrivateKey.generate()
    raw = signer.public_key().public_bytes_raw()
    if version == 6:
        primary = PublicKeyPacket(6, CREATED, 27, raw)
        prim_secret = signer.private_bytes_raw()
    else:
        oid = OID_ED25519_LEGACY
        point = encode_mpi(b"\x40" + raw)
        primary = PublicKeyPacket(4, CREATED, 22, bytes((len(oid),)) + oid + point)
        prim_secret = encode_mpi(signer.private_bytes_raw())
    uid_bytes = uid.encode()
    features = 0x09 if version == 6 else 0x01
    cert_sig = make_signature(
        signer,
        primary,
        SIG_POSITIVE_CERT,
        key_signature_data(primary, user_id=uid_bytes),
        [
            Subpacket(SP_KEY_FLAGS, b"\x03"),
            Subpacket(SP_FEATURES, bytes((features,))),
        ],
        created=CREATED,
    )
    binding = make_signature(
        signer,
        primary,
        SIG_SUBKEY_BINDING,
        key_signature_data(primary, subkey=subkey),
        [Subpacket(SP_KEY_FLAGS, b"\x0c")],
        created=CREATED,
    )
    # RFC 9580 §10.1.1: a v6 primary key carries a direct-key self-signature.
    direct = b""
    if version == 6:
        sig = make_signature(
            signer,
            primary,
            SIG_DIRECT_KEY,
            key_signature_data(primary),
            [
                Subpacket(SP_KEY_FLAGS, b"\x03"),
                Subpacket(SP_FEATURES, bytes((features,))),
            ],
            created=CREATED,
        )
        direct = serialize_packet(TAG_SIGNATURE, serialize_signature(sig))
    return b"".join(
        (
            serialize_packet(TAG_SECRET_KEY, _secret(version, primary, prim_secret)),
            direct,
            serialize_packet(TAG_USER_ID, uid_bytes),
            serialize_packet(TAG_SIGNATURE, serialize_signature(cert_sig)),
            serialize_packet(TAG_SECRET_SUBKEY, _secret(version, subkey, sub_secret)),
            serialize_packet(TAG_SIGNATURE, serialize_signature(binding)),
        )
    )
