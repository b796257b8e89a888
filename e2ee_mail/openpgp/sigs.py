"""Key signatures: making and checking self-signatures (RFC 9580 §5.2.4, §5.2.3).

v6 signatures are salted (the salt is hashed first, §5.2.4) and v4 ones are not;
both hash the signed data and then the trailer of §5.2.4. Signed data for key
signatures: the primary key (0x99/0x9B framing), then a User ID (0xB4 || 4-octet
length || octets) or a subkey. Algorithms: Ed25519 (27, native 64-octet signature
over the digest, §5.2.3.4), EdDSALegacy (22, verify only) and RSA PKCS#1 v1.5 (1).
A signature we cannot check counts as invalid, never as valid.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from ..core.random import random_bytes
from ..errors import FormatError, PacketError, UnsupportedError
from .packets import (
    OID_ED25519_LEGACY,
    PK_ED25519,
    PK_EDDSA_LEGACY,
    PK_RSA,
    PK_RSA_SIGN_ONLY,
)
from .packets.keys import PublicKeyPacket, fingerprint, key_hash_prefix, key_id
from .packets.signature import (
    SALT_SIZE,
    SP_CREATION_TIME,
    SP_ISSUER_FINGERPRINT,
    SP_ISSUER_KEY_ID,
    SignaturePacket,
    Subpacket,
    serialize_subpackets,
    signature_trailer,
)
from .packets.wire import Reader, encode_mpi, mpi_to_int

__all__ = [
    "SigningKey",
    "key_signature_data",
    "make_signature",
    "public_key_object",
    "verify_signature",
]

_HASH_NAMES: Final = {
    2: "sha1",
    8: "sha256",
    9: "sha384",
    10: "sha512",
    11: "sha224",
    12: "sha3_256",
    14: "sha3_512",
}
_CRYPTO_HASHES: Final[dict[int, hashes.HashAlgorithm]] = {
    2: hashes.SHA1(),
    8: hashes.SHA256(),
    9: hashes.SHA384(),
    10: hashes.SHA512(),
    11: hashes.SHA224(),
    12: hashes.SHA3_256(),
    14: hashes.SHA3_512(),
}
#: Ed25519Legacy's curve OID (RFC 9580 §9.2).

SigningKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


def key_signature_data(
    primary: PublicKeyPacket,
    *,
    user_id: bytes | None = None,
    subkey: PublicKeyPacket | None = None,
) -> bytes:
    """The signed data of a certification, direct-key or binding signature."""
    data = key_hash_prefix(primary)
    if user_id is not None:
        data += b"\xb4" + len(user_id).to_bytes(4, "big") + user_id
    if subkey is not None:
        data += key_hash_prefix(subkey)
    return data


def _digest(sig: SignaturePacket, data: bytes) -> bytes:
    name = _HASH_NAMES.get(sig.hash_algorithm)
    if name is None:
        raise UnsupportedError(f"hash algorithm {sig.hash_algorithm} is not supported")
    h = hashlib.new(name)
    if sig.version == 6:
        h.update(sig.salt)
    h.update(data)
    h.update(signature_trailer(sig))
    return h.digest()


def make_signature(
    signer: SigningKey,
    signer_public: PublicKeyPacket,
    sig_type: int,
    data: bytes,
    subpackets: Sequence[Subpacket],
    *,
    created: int,
    hash_algorithm: int = 10,
) -> SignaturePacket:
    """Sign ``data`` with a signature of the signer key's version.

    The creation time and issuer fingerprint subpackets are added in front of
    ``subpackets`` (hashed); v4 signatures also carry the issuer key ID (unhashed).
    """
    version = signer_public.version
    fpr = fingerprint(signer_public)
    hashed = [
        Subpacket(SP_CREATION_TIME, created.to_bytes(4, "big"), critical=True),
        *subpackets,
        Subpacket(SP_ISSUER_FINGERPRINT, bytes([version]) + fpr),
    ]
    unhashed = (
        [] if version == 6 else [Subpacket(SP_ISSUER_KEY_ID, key_id(signer_public))]
    )
    salt = random_bytes(SALT_SIZE[hash_algorithm]) if version == 6 else b""
    draft = SignaturePacket(
        version,
        sig_type,
        signer_public.algorithm,
        hash_algorithm,
        serialize_subpackets(hashed),
        serialize_subpackets(unhashed),
        b"\x00\x00",
        salt,
        b"",
    )
    digest = _digest(draft, data)
    if isinstance(signer, ed25519.Ed25519PrivateKey):
        raw = signer.sign(digest)
        material = (
            raw
            if signer_public.algorithm == PK_ED25519
            else (encode_mpi(raw[:32]) + encode_mpi(raw[32:]))
        )
    else:
        chosen = _CRYPTO_HASHES[hash_algorithm]
        material = encode_mpi(
            signer.sign(digest, padding.PKCS1v15(), Prehashed(chosen))
        )
    return SignaturePacket(
        draft.version,
        draft.sig_type,
        draft.pk_algorithm,
        draft.hash_algorithm,
        draft.hashed_area,
        draft.unhashed_area,
        digest[:2],
        salt,
        material,
    )


def public_key_object(
    packet: PublicKeyPacket,
) -> ed25519.Ed25519PublicKey | rsa.RSAPublicKey:
    """The `cryptography` verification key of a signing-capable key packet."""
    try:
        if packet.algorithm == PK_ED25519:
            return ed25519.Ed25519PublicKey.from_public_bytes(packet.material)
        if packet.algorithm == PK_EDDSA_LEGACY:
            reader = Reader(packet.material, "EdDSALegacy key")
            oid = reader.take(reader.u8())
            point = reader.mpi()[2:]
            if oid != OID_ED25519_LEGACY or len(point) != 33 or point[0] != 0x40:
                raise UnsupportedError("only Ed25519Legacy EdDSA keys are supported")
            return ed25519.Ed25519PublicKey.from_public_bytes(point[1:])
        if packet.algorithm in (PK_RSA, PK_RSA_SIGN_ONLY):
            reader = Reader(packet.material, "RSA key")
            n = mpi_to_int(reader.mpi())
            e = mpi_to_int(reader.mpi())
            return rsa.RSAPublicNumbers(e, n).public_key()
    except ValueError:
        raise FormatError("malformed public key material") from None
    raise UnsupportedError(f"signature algorithm {packet.algorithm} is not supported")


def verify_signature(
    sig: SignaturePacket, signer: PublicKeyPacket, data: bytes
) -> bool:
    """Whether ``sig`` by ``signer`` over ``data`` is valid.

    Malformed or unsupported signatures are reported as invalid (False).
    """
    if sig.pk_algorithm != signer.algorithm:
        return False
    if sig.version == 6 and (
        signer.version != 6 or len(sig.salt) != SALT_SIZE.get(sig.hash_algorithm)
    ):
        return False
    try:
        key = public_key_object(signer)
        digest = _digest(sig, data)
        if digest[:2] != sig.left16:
            return False
        if isinstance(key, ed25519.Ed25519PublicKey):
            if sig.pk_algorithm == PK_ED25519:
                raw = sig.material
            else:
                reader = Reader(sig.material, "EdDSA signature")
                r = reader.mpi()[2:]
                s = reader.mpi()[2:]
                if len(r) > 32 or len(s) > 32:
                    return False
                raw = r.rjust(32, b"\0") + s.rjust(32, b"\0")
            if len(raw) != 64:
                return False
            key.verify(raw, digest)
        else:
            reader = Reader(sig.material, "RSA signature")
            value = reader.mpi()[2:]
            size = (key.key_size + 7) // 8
            key.verify(
                value.rjust(size, b"\0"),
                digest,
                padding.PKCS1v15(),
                Prehashed(_CRYPTO_HASHES[sig.hash_algorithm]),
            )
    except (InvalidSignature, UnsupportedError, PacketError, FormatError, ValueError):
        return False
    return True
