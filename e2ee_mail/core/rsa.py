"""RSA key transport: RSAES-OAEP (RFC 8017 §7.1) and, fenced off, PKCS#1 v1.5.

Decryption failures never say why: a padding error, a wrong key and a bad length all
become the same DecryptionError (Bleichenbacher, RFC 8017 §7.2.2 note). PKCS#1 v1.5
decryption relies on OpenSSL's implicit rejection in `cryptography`.
"""

from __future__ import annotations

import functools
from typing import Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..errors import DecryptionError

__all__ = [
    "OAEPHash",
    "decrypt_oaep",
    "decrypt_pkcs1v15",
    "encrypt_oaep",
    "encrypt_pkcs1v15",
]

OAEPHash = Literal["sha1", "sha256", "sha384", "sha512"]
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


@functools.lru_cache(maxsize=64)  # padding objects are immutable; one per parameter set
def _oaep(hash_name: str, mgf_hash_name: str, label: bytes | None) -> padding.OAEP:
    return padding.OAEP(
        mgf=padding.MGF1(_HASHES[mgf_hash_name]()),
        algorithm=_HASHES[hash_name](),
        label=label or None,
    )


def encrypt_oaep(
    public: rsa.RSAPublicKey,
    message: bytes,
    *,
    hash_name: OAEPHash = "sha256",
    mgf_hash_name: OAEPHash = "sha256",
    label: bytes | None = None,
) -> bytes:
    """RSAES-OAEP encrypt."""
    return public.encrypt(message, _oaep(hash_name, mgf_hash_name, label))


def decrypt_oaep(
    private: rsa.RSAPrivateKey,
    ciphertext: bytes,
    *,
    hash_name: OAEPHash = "sha256",
    mgf_hash_name: OAEPHash = "sha256",
    label: bytes | None = None,
) -> bytes:
    """RSAES-OAEP decrypt; every failure is the same DecryptionError."""
    try:
        return private.decrypt(ciphertext, _oaep(hash_name, mgf_hash_name, label))
    except ValueError:
        raise DecryptionError() from None


def encrypt_pkcs1v15(public: rsa.RSAPublicKey, message: bytes) -> bytes:
    """RSAES-PKCS1-v1_5 encrypt (legacy: only when a format or caller requires it)."""
    return public.encrypt(message, padding.PKCS1v15())


def decrypt_pkcs1v15(private: rsa.RSAPrivateKey, ciphertext: bytes) -> bytes:
    """RSAES-PKCS1-v1_5 decrypt.

    With OpenSSL's implicit rejection a bad padding yields a pseudo-random message
    instead of an error; callers must authenticate what they unwrap (the AEAD tag or
    the OpenPGP checksum) and report any failure as the same DecryptionError.
    """
    try:
        return private.decrypt(ciphertext, padding.PKCS1v15())
    except ValueError:
        raise DecryptionError() from None
