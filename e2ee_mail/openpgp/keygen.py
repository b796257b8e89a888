"""Generating v6 keys (RFC 9580 §10.1.1, §5.2.3.10): the "rfc9580" profile.

x25519: an Ed25519 primary key (27, certify + sign) and an X25519 subkey (25,
encrypt). mlkem768-x25519: the same Ed25519 primary key and an ML-KEM-768+X25519
subkey (35, RFC 9980), whose preferences already list AES-256 and AES-256/OCB as
RFC 9980 §7.1 asks of a post-quantum certificate. mldsa65-ed25519: that ML-KEM
subkey under an ML-DSA-65+Ed25519 primary key (30, RFC 9980 §5), so signatures and
self-signatures are post-quantum too (the pairing RFC 9980 §2.1 makes mandatory to
implement; v6 only). rsa3072/rsa4096: an RSA primary
key and an RSA encryption subkey of the same size. Self-signatures (v6, salted,
SHA2-512): a direct-key signature carrying the key flags, Features (SEIPDv1 +
SEIPDv2) and preferences (AEAD ciphersuites AES-256/GCM first, then AES-256/OCB
and AES-128/OCB, the MTI), a positive certification of the User ID, and a subkey
binding granting the encryption flags.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Final, cast

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa, x25519

from ..errors import UsageError
from ..model import RSA_BITS
from .certs import (
    FEATURE_SEIPDV1,
    FEATURE_SEIPDV2,
    KEY_FLAG_CERTIFY,
    KEY_FLAG_ENCRYPT,
    KEY_FLAG_SIGN,
    OpenPGPCertificate,
    OpenPGPSecretKey,
)
from .keymaterial import public_material, secret_material
from .packets import (
    PK_ED25519,
    PK_MLDSA65_ED25519,
    PK_MLKEM768_X25519,
    PK_RSA,
    PK_X25519,
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
    SIG_DIRECT_KEY,
    SIG_POSITIVE_CERT,
    SIG_SUBKEY_BINDING,
    SP_FEATURES,
    SP_KEY_EXPIRATION,
    SP_KEY_FLAGS,
    SP_PREFERRED_AEAD,
    SP_PREFERRED_COMPRESSION,
    SP_PREFERRED_HASH,
    SP_PREFERRED_SYMMETRIC,
    SP_PRIMARY_USER_ID,
    SignaturePacket,
    Subpacket,
    serialize_signature,
)
from .sigs import SigningKey, key_signature_data, make_signature
from .tpk import public_packet, user_id_octets

__all__ = [
    "PREFERENCES",
    "add_user_ids",
    "assemble_key",
    "generate_v6",
    "self_signature_preferences",
    "signing_only",
    "without_user_ids",
]

#: AES-256+GCM first, then AES-256+OCB and AES-128+OCB (RFC 9580 §5.2.3.15).
_AEAD_PREFS: Final = bytes([9, 3, 9, 2, 7, 2])


def self_signature_preferences() -> list[Subpacket]:
    """Features and algorithm preferences for a self-signature."""
    return [
        Subpacket(SP_PREFERRED_SYMMETRIC, bytes([9, 7])),
        Subpacket(SP_PREFERRED_AEAD, _AEAD_PREFS),
        Subpacket(SP_PREFERRED_HASH, bytes([10, 8])),
        Subpacket(SP_PREFERRED_COMPRESSION, bytes([0])),
        Subpacket(SP_FEATURES, bytes([FEATURE_SEIPDV1 | FEATURE_SEIPDV2])),
    ]


PREFERENCES: Final = self_signature_preferences


def _new_keys(kind: str) -> tuple[SigningKey, int, object, int]:
    if kind == "mldsa65-ed25519":
        from ..core import mldsa, mlkem

        return (
            mldsa.generate(PK_MLDSA65_ED25519),
            PK_MLDSA65_ED25519,
            mlkem.generate(),
            PK_MLKEM768_X25519,
        )
    if kind == "mlkem768-x25519":
        from ..core import mlkem

        return (
            ed25519.Ed25519PrivateKey.generate(),
            PK_ED25519,
            mlkem.generate(),
            PK_MLKEM768_X25519,
        )
    if kind == "x25519":
        return (
            ed25519.Ed25519PrivateKey.generate(),
            PK_ED25519,
            x25519.X25519PrivateKey.generate(),
            PK_X25519,
        )
    if kind in RSA_BITS:
        bits = RSA_BITS[kind]
        return (
            rsa.generate_private_key(65537, bits),
            PK_RSA,
            rsa.generate_private_key(65537, bits),
            PK_RSA,
        )
    raise UsageError(
        f"unknown key kind {kind!r}: use x25519, mlkem768-x25519, mldsa65-ed25519, "
        "rsa3072 or rsa4096"
    )


def key_material(key: object) -> tuple[bytes, bytes]:
    """(public, plain secret) key fields of a freshly generated key."""
    if isinstance(
        key, x25519.X25519PrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
    ):
        return public_material(key), secret_material(key)
    from ..core import mldsa, mlkem  # PQ keys only: kept out of the start-up path

    if not isinstance(key, mlkem.CompositeKemPrivateKey | mldsa.CompositeSigPrivateKey):
        raise UsageError(f"cannot encode a {type(key).__name__} as a key")
    return key.public, key.secret_bytes()


def generate_v6(
    uid: str, *, kind: str, now: int | None = None, expires_in: int | None = None
) -> OpenPGPSecretKey:
    """A new v6 key for ``uid``; ``key.public`` is its certificate.

    Args:
        uid: the User ID, "Name <addr>" or a bare address.
        kind: "x25519", "mlkem768-x25519", "mldsa65-ed25519", "rsa3072" or
            "rsa4096".
        now: the creation time (seconds since the epoch); default the clock.
        expires_in: seconds after creation when the key expires (RFC 9580
            §5.2.3.13, on every self-signature); default never.
    """
    uid_bytes = user_id_octets(uid)
    created = int(time.time()) if now is None else now
    if expires_in is not None and not 0 < expires_in < 1 << 32:
        raise UsageError("expires_in must be a positive number of seconds")
    lifetime = (
        [Subpacket(SP_KEY_EXPIRATION, expires_in.to_bytes(4, "big"))]
        if expires_in
        else []
    )
    primary_key, primary_algo, sub_key, sub_algo = _new_keys(kind)
    primary_public, primary_plain = key_material(primary_key)
    primary = PublicKeyPacket(6, created, primary_algo, primary_public)
    sub_public, sub_plain = key_material(sub_key)
    subkey = PublicKeyPacket(6, created, sub_algo, sub_public)
    flags = Subpacket(SP_KEY_FLAGS, bytes([KEY_FLAG_CERTIFY | KEY_FLAG_SIGN]), True)
    direct = make_signature(
        primary_key,
        primary,
        SIG_DIRECT_KEY,
        key_signature_data(primary),
        [flags, *lifetime, *self_signature_preferences()],
        created=created,
    )
    certification = make_signature(
        primary_key,
        primary,
        SIG_POSITIVE_CERT,
        key_signature_data(primary, user_id=uid_bytes),
        [
            flags,
            *lifetime,
            Subpacket(SP_PRIMARY_USER_ID, b"\x01"),
            *self_signature_preferences(),
        ],
        created=created,
    )
    binding = make_signature(
        primary_key,
        primary,
        SIG_SUBKEY_BINDING,
        key_signature_data(primary, subkey=subkey),
        [Subpacket(SP_KEY_FLAGS, bytes([KEY_FLAG_ENCRYPT]), True), *lifetime],
        created=created,
    )
    # v6 unprotected secret keys: usage octet 0 and the raw material, no checksum.
    primary_secret = serialize_public_key(primary) + b"\x00" + primary_plain
    sub_secret = serialize_public_key(subkey) + b"\x00" + sub_plain
    return assemble_key(
        (primary, primary_secret, primary_key),
        (subkey, sub_secret, sub_key),
        uid_bytes,
        [direct, certification, binding],
    )


def assemble_key(
    primary: tuple[PublicKeyPacket, bytes, object],
    subkey: tuple[PublicKeyPacket, bytes, object],
    uid: bytes,
    signatures: list[SignaturePacket],
) -> OpenPGPSecretKey:
    """The new key, v6 or v4 (RFC 9580 §10.1, §10.2): the primary key, its
    direct-key signatures, the User ID and its certification, then the subkey and
    its binding; the certificate has the same packets with the public key bodies.

    Args:
        primary: the public packet, the secret key packet body and the private key.
        subkey: the same for the subkey.
        uid: the User ID octets.
        signatures: any direct-key signatures, then the certification, then the
            subkey binding.
    """
    prim_public, prim_secret, prim_key = primary
    sub_public, sub_secret, sub_key = subkey
    sigs = [Packet(TAG_SIGNATURE, serialize_signature(s)) for s in signatures]
    middle = [*sigs[:-2], Packet(TAG_USER_ID, uid), sigs[-2]]
    secret_packets = [
        Packet(TAG_SECRET_KEY, prim_secret),
        *middle,
        Packet(TAG_SECRET_SUBKEY, sub_secret),
        sigs[-1],
    ]
    public_packets = [
        Packet(TAG_PUBLIC_KEY, serialize_public_key(prim_public)),
        *middle,
        Packet(TAG_PUBLIC_SUBKEY, serialize_public_key(sub_public)),
        sigs[-1],
    ]
    cert = OpenPGPCertificate(public_packets)
    keys = {fingerprint(prim_public): prim_key, fingerprint(sub_public): sub_key}
    return OpenPGPSecretKey(cert, keys, secret_packets)


def generate(uid: str, *, kind: str, profile: str) -> OpenPGPSecretKey:
    """Generate a key: v6 for profile "rfc9580", v4 for "rfc4880"."""
    if profile == "rfc4880":
        if kind == "mldsa65-ed25519":
            raise UsageError(
                "kind mldsa65-ed25519 makes v6 keys only (RFC 9980 §5.3): use "
                "profile rfc9580"
            )
        from . import keygen_v4

        return keygen_v4.generate_v4(uid, kind=kind)
    return generate_v6(uid, kind=kind)


def _dropped(packets: Sequence[Packet], tags: tuple[int, ...]) -> list[Packet]:
    """``packets`` without those tagged ``tags`` and the signatures after each."""
    kept: list[Packet] = []
    dropping = False
    for packet in packets:
        if packet.tag in tags:
            dropping = True
        elif packet.tag != TAG_SIGNATURE:
            dropping = False
        if not dropping:
            kept.append(packet)
    return kept


def _certificate(packets: Sequence[Packet]) -> OpenPGPCertificate:
    """The certificate of a secret key's ``packets``."""
    return OpenPGPCertificate([Packet(*public_packet(p)) for p in packets])


def signing_only(key: OpenPGPSecretKey) -> OpenPGPSecretKey:
    """``key`` without its subkeys: the primary key, which certifies and signs,
    with its User IDs and their self-signatures (a key that cannot be encrypted
    to, for signing alone)."""
    packets, privates = key.unlocked_parts()
    kept = _dropped(packets, (TAG_SECRET_SUBKEY, TAG_PUBLIC_SUBKEY))
    cert = _certificate(kept)
    primary = cert.primary.fingerprint
    return OpenPGPSecretKey(cert, {primary: privates[primary]}, kept)


def add_user_ids(key: OpenPGPSecretKey, uids: Sequence[str]) -> OpenPGPSecretKey:
    """``key`` with more User IDs, each certified by the primary key (positive
    certification with the key flags and preferences of the first, dated at the
    key's creation), placed after the existing ones and before the subkeys."""
    from .keygen_v4 import v4_preferences

    packets, privates = key.unlocked_parts()
    primary = key.public.primary
    signer = cast("SigningKey", privates[primary.fingerprint])
    version = primary.packet.version
    flags = Subpacket(
        SP_KEY_FLAGS, bytes([KEY_FLAG_CERTIFY | KEY_FLAG_SIGN]), version == 6
    )
    prefs = self_signature_preferences() if version == 6 else v4_preferences()
    added: list[Packet] = []
    for uid in uids:
        octets = user_id_octets(uid)
        sig = make_signature(
            signer,
            primary.packet,
            SIG_POSITIVE_CERT,
            key_signature_data(primary.packet, user_id=octets),
            [flags, *prefs],
            created=primary.packet.created,
        )
        added += [
            Packet(TAG_USER_ID, octets),
            Packet(TAG_SIGNATURE, serialize_signature(sig)),
        ]
    at = next(
        (i for i, p in enumerate(packets) if p.tag == TAG_SECRET_SUBKEY), len(packets)
    )
    packets[at:at] = added
    return OpenPGPSecretKey(_certificate(packets), privates, packets)


def without_user_ids(key: OpenPGPSecretKey) -> OpenPGPSecretKey:
    """A v6 ``key`` without User IDs: its direct-key signature carries the key
    flags and preferences (RFC 9580 §10.1.1), so it needs none.

    Raises:
        UsageError: a v4 key, whose flags and preferences live on its User ID.
    """
    if key.public.version != 6:
        raise UsageError("a v4 key needs a User ID (its self-signature is there)")
    packets, privates = key.unlocked_parts()
    kept = _dropped(packets, (TAG_USER_ID,))
    return OpenPGPSecretKey(_certificate(kept), privates, kept)
