"""Signature primitives over bytes: RSASSA-PKCS1-v1_5 and RSASSA-PSS (RFC 8017 §8),
ECDSA (FIPS 186-5, signatures DER-encoded as in RFC 5480 §2.2's Ecdsa-Sig-Value) and
Ed25519 (RFC 8032 §5.1, the pure variant), all through `cryptography`.

A :class:`Scheme` names the algorithm and its hash; :func:`sign` and :func:`verify`
take the message, :func:`sign_digest` and :func:`verify_digest` a digest the caller
computed in its own pass over the data (not for Ed25519, which hashes the message
itself). Verification answers True or False and never raises for a wrong signature.

Left out: Ed25519ph and Ed448, DSA, MD5 and SHA-1 (the callers refuse them before
they get here).
"""

from __future__ import annotations

import dataclasses
from typing import Final, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

__all__ = [
    "HASH_SIZES",
    "HashName",
    "Scheme",
    "SigningKey",
    "VerifyingKey",
    "sign",
    "sign_digest",
    "verify",
    "verify_digest",
]

HashName = Literal["sha256", "sha384", "sha512"]
Kind = Literal["rsa-pkcs1v15", "rsa-pss", "ecdsa", "ed25519"]
SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
VerifyingKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey

_HASHES: Final[dict[str, type[hashes.HashAlgorithm]]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
#: Digest size of each hash, in bytes.
HASH_SIZES: Final = {"sha256": 32, "sha384": 48, "sha512": 64}


@dataclasses.dataclass(frozen=True, slots=True)
class Scheme:
    """A signature algorithm with its hash.

    Attributes:
        kind: "rsa-pkcs1v15", "rsa-pss", "ecdsa" or "ed25519".
        hash_name: the hash signed (for Ed25519: the one its callers digest the
            content with, since Ed25519 hashes with SHA-512 internally).
        salt_length: the PSS salt length in bytes (PSS only; MGF1 uses the same
            hash, RFC 4055 §3.1's recommendation).
    """

    kind: Kind
    hash_name: HashName
    salt_length: int = 0

    @property
    def name(self) -> str:
        """A readable name: "rsa-pkcs1v15-sha256", "rsa-pss-sha256", "ecdsa-sha256",
        "ed25519"."""
        return "ed25519" if self.kind == "ed25519" else f"{self.kind}-{self.hash_name}"


def _hash(scheme: Scheme) -> hashes.HashAlgorithm:
    return _HASHES[scheme.hash_name]()


def _pss(scheme: Scheme) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(_hash(scheme)), salt_length=scheme.salt_length)


def _sign(key: SigningKey, scheme: Scheme, data: bytes, prehashed: bool) -> bytes:
    algorithm: hashes.HashAlgorithm | Prehashed = _hash(scheme)
    if prehashed:
        algorithm = Prehashed(_hash(scheme))
    if scheme.kind == "ed25519":
        if not isinstance(key, ed25519.Ed25519PrivateKey) or prehashed:
            raise ValueError("Ed25519 signs the message itself with an Ed25519 key")
        return key.sign(data)
    if scheme.kind == "ecdsa":
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("ECDSA needs an EC key")
        return key.sign(data, ec.ECDSA(algorithm))
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("RSA signatures need an RSA key")
    pad = _pss(scheme) if scheme.kind == "rsa-pss" else padding.PKCS1v15()
    return key.sign(data, pad, algorithm)


def sign(key: SigningKey, scheme: Scheme, data: bytes) -> bytes:
    """The signature of ``data`` (ECDSA: DER-encoded r and s).

    Raises:
        ValueError: the key does not fit the scheme (a programming error).
    """
    return _sign(key, scheme, data, prehashed=False)


def sign_digest(key: SigningKey, scheme: Scheme, digest: bytes) -> bytes:
    """The signature over a message whose ``scheme.hash_name`` digest is ``digest``.

    Raises:
        ValueError: Ed25519, or the key does not fit the scheme.
    """
    return _sign(key, scheme, digest, prehashed=True)


def _verify(
    key: VerifyingKey, scheme: Scheme, signature: bytes, data: bytes, prehashed: bool
) -> bool:
    algorithm: hashes.HashAlgorithm | Prehashed = _hash(scheme)
    if prehashed:
        if len(data) != HASH_SIZES[scheme.hash_name]:
            return False
        algorithm = Prehashed(_hash(scheme))
    try:
        if scheme.kind == "ed25519":
            if not isinstance(key, ed25519.Ed25519PublicKey) or prehashed:
                return False
            key.verify(signature, data)
        elif scheme.kind == "ecdsa":
            if not isinstance(key, ec.EllipticCurvePublicKey):
                return False
            key.verify(signature, data, ec.ECDSA(algorithm))
        else:
            if not isinstance(key, rsa.RSAPublicKey):
                return False
            pad = _pss(scheme) if scheme.kind == "rsa-pss" else padding.PKCS1v15()
            key.verify(signature, data, pad, algorithm)
    except (InvalidSignature, ValueError, OverflowError):
        # ValueError: a PSS salt longer than the modulus allows, or a malformed
        # ECDSA signature encoding; OverflowError: a salt length beyond a C long.
        # Either way not a valid signature.
        return False
    return True


def verify(key: VerifyingKey, scheme: Scheme, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` is ``key``'s signature of ``data`` under ``scheme``."""
    return _verify(key, scheme, signature, data, prehashed=False)


def verify_digest(
    key: VerifyingKey, scheme: Scheme, signature: bytes, digest: bytes
) -> bool:
    """Whether ``signature`` signs the message whose digest is ``digest`` (False for
    Ed25519, which needs the message)."""
    return _verify(key, scheme, signature, digest, prehashed=True)
