"""OpenPGP v4 key generation for the "rfc4880" profile (RFC 4880, RFC 9580 §5.5).

:func:`generate_v4` makes an EdDSALegacy primary (certify, sign) with an ECDH
Curve25519Legacy encryption subkey (SHA2-256 and AES-128 as §11.5.1 recommends), the
same primary with an ML-KEM-768+X25519 subkey (kind mlkem768-x25519, the one
post-quantum algorithm RFC 9980 §3.5 allows in a v4 key), or an RSA-3072/4096
primary and subkey; a v4 positive certification of the User ID (key
flags, Features = SEIPDv1 only, so senders write what GnuPG 2.2 reads, and preferences
AES-256/AES-128, SHA2-512/256, no compression) and a v4 subkey binding. GnuPG 2.2
checks and accepts these.

Left out: generating NIST or Brainpool curve keys, DSA and Elgamal.
"""

from __future__ import annotations

import time

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa, x25519
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from ..core import ecdh
from ..errors import UsageError
from ..model import RSA_BITS
from . import keymaterial, keyprotect
from .certs import (
    FEATURE_SEIPDV1,
    KEY_FLAG_CERTIFY,
    KEY_FLAG_ENCRYPT,
    KEY_FLAG_SIGN,
    OpenPGPSecretKey,
)
from .curves import ECDH_KDF_PARAMS
from .keygen import assemble_key
from .packets import (
    OID_CV25519,
    OID_ED25519_LEGACY,
    PK_ECDH,
    PK_EDDSA_LEGACY,
    PK_MLKEM768_X25519,
    PK_RSA,
    TAG_SECRET_KEY,
    TAG_SECRET_SUBKEY,
)
from .packets.keys import PublicKeyPacket, serialize_public_key
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
)
from .packets.wire import encode_mpi
from .sigs import SigningKey, key_signature_data, make_signature
from .tpk import user_id_octets

__all__ = ["cv25519_legacy_key", "eddsa_legacy_key", "generate_v4"]


def _raw(key: ed25519.Ed25519PrivateKey | x25519.X25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def _raw_public(key: ed25519.Ed25519PrivateKey | x25519.X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def eddsa_legacy_key() -> tuple[ed25519.Ed25519PrivateKey, bytes, bytes]:
    """(key, public material, secret material) of a fresh EdDSALegacy (22) key:
    the OID, then the 0x40-prefixed point as an MPI (RFC 9580 §5.5.5.5)."""
    key = ed25519.Ed25519PrivateKey.generate()
    public = (
        bytes((len(OID_ED25519_LEGACY),))
        + OID_ED25519_LEGACY
        + encode_mpi(ecdh.encode_point(_raw_public(key)))
    )
    return key, public, encode_mpi(_raw(key))


def cv25519_legacy_key() -> tuple[x25519.X25519PrivateKey, bytes, bytes]:
    """(key, public material, secret material) of a fresh ECDH Curve25519Legacy
    (18) key: the OID, the 0x40-prefixed point, then the KDF parameters (RFC 9580
    §5.5.5.6); the secret in the legacy byte order."""
    key = x25519.X25519PrivateKey.generate()
    public = (
        bytes((len(OID_CV25519),))
        + OID_CV25519
        + encode_mpi(ecdh.encode_point(_raw_public(key)))
        + ECDH_KDF_PARAMS
    )
    return key, public, encode_mpi(ecdh.native_to_legacy_secret(_raw(key)))


def _new_pair(
    kind: str,
) -> tuple[SigningKey, int, bytes, bytes, object, int, bytes, bytes]:
    """(primary, algo, public material, secret material, subkey, algo, public
    material, secret material)."""
    if kind == "x25519":
        prim, prim_pub, prim_sec = eddsa_legacy_key()
        sub, sub_pub, sub_sec = cv25519_legacy_key()
        return (
            prim,
            PK_EDDSA_LEGACY,
            prim_pub,
            prim_sec,
            sub,
            PK_ECDH,
            sub_pub,
            sub_sec,
        )
    if kind == "mlkem768-x25519":
        from ..core import mlkem

        prim, prim_pub, prim_sec = eddsa_legacy_key()
        pq_sub = mlkem.generate()
        return (
            prim,
            PK_EDDSA_LEGACY,
            prim_pub,
            prim_sec,
            pq_sub,
            PK_MLKEM768_X25519,
            pq_sub.public,
            pq_sub.secret_bytes(),
        )
    if kind in RSA_BITS:
        prim_rsa = rsa.generate_private_key(65537, RSA_BITS[kind])
        sub_rsa = rsa.generate_private_key(65537, RSA_BITS[kind])
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
    raise UsageError(
        f"unknown key kind {kind!r}: use x25519, mlkem768-x25519, rsa3072 or rsa4096"
    )


def v4_preferences() -> list[Subpacket]:
    """Algorithm preferences and features for a v4 self-signature."""
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
    uid_bytes = user_id_octets(uid)
    created = int(time.time()) if now is None else now
    prim, prim_algo, prim_pub, prim_sec, sub, sub_algo, sub_pub, sub_sec = _new_pair(
        kind
    )
    primary = PublicKeyPacket(4, created, prim_algo, prim_pub)
    subkey = PublicKeyPacket(4, created, sub_algo, sub_pub)
    flags = Subpacket(SP_KEY_FLAGS, bytes((KEY_FLAG_CERTIFY | KEY_FLAG_SIGN,)))
    certification = make_signature(
        prim,
        primary,
        SIG_POSITIVE_CERT,
        key_signature_data(primary, user_id=uid_bytes),
        [flags, Subpacket(SP_PRIMARY_USER_ID, b"\x01"), *v4_preferences()],
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
    return assemble_key(
        (primary, _secret_body(primary, prim_sec, TAG_SECRET_KEY), prim),
        (subkey, _secret_body(subkey, sub_sec, TAG_SECRET_SUBKEY), sub),
        uid_bytes,
        [certification, binding],
    )
