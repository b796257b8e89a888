"""Key derivation: HKDF (RFC 5869) with SHA-256, SHA-384 or SHA-512, and the X9.63
KDF (RFC 8418 §2.1 / SEC 1)."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF

__all__ = ["hkdf", "hkdf_sha256", "x963_kdf"]

# SHA-1 only for reading: OpenSSL's CMS ECDH uses it unless told otherwise.
_HASHES: dict[
    str, type[hashes.SHA1 | hashes.SHA256 | hashes.SHA384 | hashes.SHA512]
] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def hkdf_sha256(ikm: bytes, *, salt: bytes | None, info: bytes, length: int) -> bytes:
    """HKDF-SHA256 (RFC 5869) extract-and-expand."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(
        ikm
    )


def hkdf(
    ikm: bytes, *, hash_name: str, salt: bytes | None, info: bytes, length: int
) -> bytes:
    """HKDF (RFC 5869) extract-and-expand with SHA-256, SHA-384 or SHA-512."""
    return HKDF(
        algorithm=_HASHES[hash_name](), length=length, salt=salt, info=info
    ).derive(ikm)


def x963_kdf(
    secret: bytes, *, shared_info: bytes, length: int, hash_name: str
) -> bytes:
    """ANSI X9.63 KDF as used by CMS ECDH (RFC 5753 §7.2, RFC 8418 §2.1)."""
    return X963KDF(
        algorithm=_HASHES[hash_name](), length=length, sharedinfo=shared_info
    ).derive(secret)
