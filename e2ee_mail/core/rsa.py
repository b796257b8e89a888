"""RSA key transport: RSAES-OAEP (RFC 8017 §7.1) and, fenced off, PKCS#1 v1.5.

Decryption failures never say why: a padding error, a wrong key and a bad length all
become the same DecryptionError (Bleichenbacher, RFC 8017 §7.2.2 note).

Implicit rejection: a key unwrap that fails must not end the decryption early either,
or the time to the error (and any error specific to "no key") tells an attacker that
the padding was bad. :func:`unwrap_oaep` and :func:`unwrap_pkcs1v15` therefore never
fail: on any failure they return random octets of the expected key size, and the
caller goes on to the content tag, which then fails like it does for an altered body.
OpenSSL 3.2 and later already answer a bad PKCS#1 v1.5 padding with a synthetic
message derived from the ciphertext and the private key, of a pseudo-random length;
a build that raises instead, and a synthetic message of the wrong length, get the
random stand-in the same way.
"""

from __future__ import annotations

import functools
from typing import Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..errors import DecryptionError
from .random import random_bytes

__all__ = [
    "OAEPHash",
    "decrypt_oaep",
    "decrypt_pkcs1v15",
    "encrypt_oaep",
    "encrypt_pkcs1v15",
    "unwrap_oaep",
    "unwrap_pkcs1v15",
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


def unwrap_oaep(
    private: rsa.RSAPrivateKey,
    ciphertext: bytes,
    size: int,
    *,
    hash_name: OAEPHash = "sha256",
    mgf_hash_name: OAEPHash = "sha256",
    label: bytes | None = None,
) -> tuple[bytes, bool]:
    """RSAES-OAEP decrypt of a ``size``-octet key, with implicit rejection.

    Returns:
        (the key, True); or, when decryption fails or yields another size,
        (``size`` random octets, False). The flag only tells a caller that must not
        pass a key on unchecked (rewrap) that this one is a stand-in; it must never
        choose an error or a shortcut when opening.
    """
    stand_in = random_bytes(size)  # drawn on every call: both outcomes do the same work
    try:
        key = decrypt_oaep(
            private,
            ciphertext,
            hash_name=hash_name,
            mgf_hash_name=mgf_hash_name,
            label=label,
        )
    except DecryptionError:
        return stand_in, False
    if len(key) != size:
        return stand_in, False
    return key, True


def unwrap_pkcs1v15(
    private: rsa.RSAPrivateKey, ciphertext: bytes, size: int
) -> tuple[bytes, bool]:
    """RSAES-PKCS1-v1_5 decrypt of a ``size``-octet key, with implicit rejection.

    Returns:
        As :func:`unwrap_oaep`. A True flag proves nothing here: OpenSSL's synthetic
        message for a bad padding may have the expected size too; only the content
        tag tells.
    """
    stand_in = random_bytes(size)
    try:
        key = decrypt_pkcs1v15(private, ciphertext)
    except DecryptionError:
        return stand_in, False
    if len(key) != size:
        return stand_in, False
    return key, True
