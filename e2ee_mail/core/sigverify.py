"""Signature verification primitives: RSA PKCS#1 v1.5, DSA, ECDSA, EdDSA.

The formats check self-signatures over a digest they computed themselves (OpenPGP
hashes the signed data, then the trailer of RFC 9580 §5.2.4), so RSA, DSA and ECDSA
take that digest with its hash algorithm (FIPS 186-5 §6.4.2: the digest is cut to
the group order's bit length; OpenSSL does it). EdDSA takes the octets it signs, as
RFC 8032 defines it (OpenPGP passes the digest there, §5.2.3.4).

DSA and ECDSA signatures are given DER-encoded (a SEQUENCE of the INTEGERs r and s,
RFC 3279 §2.2.2), the form `cryptography` checks; a format that carries r and s as
numbers encodes them with :func:`dss_der` first, so every signature goes through the
same check. DER is read strictly: a BER form, a negative or zero value or trailing
octets are refused, like a signature that does not verify.

Every refusal is the same :class:`~e2ee_mail.errors.FormatError`: the input is
public, and a caller only needs to know that the signature does not hold.
"""

from __future__ import annotations

from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding
from cryptography.hazmat.primitives.asymmetric import rsa as _rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)

from ..errors import FormatError

__all__ = [
    "BAD_SIGNATURE",
    "dss_der",
    "verify_dsa",
    "verify_ecdsa",
    "verify_eddsa",
    "verify_rsa_pkcs1v15",
]

#: The text of every refusal.
BAD_SIGNATURE: Final = "the signature does not verify"


def _refuse() -> FormatError:
    return FormatError(BAD_SIGNATURE)


def dss_der(r: int, s: int) -> bytes:
    """The DER form of a DSA or ECDSA signature (r, s); zero or negative values are
    refused (FIPS 186-5 §6.4.2 requires 0 < r, s < n)."""
    if r <= 0 or s <= 0:
        raise _refuse()
    return encode_dss_signature(r, s)


def _check_digest(digest: bytes, algorithm: hashes.HashAlgorithm) -> None:
    if len(digest) != algorithm.digest_size:
        raise _refuse()


def _check_der(signature: bytes) -> None:
    # `cryptography` parses DER strictly (no BER lengths, minimal INTEGERs, nothing
    # after the SEQUENCE); the values must also be positive.
    try:
        r, s = decode_dss_signature(signature)
    except ValueError:
        raise _refuse() from None
    if r <= 0 or s <= 0:
        raise _refuse()


def verify_rsa_pkcs1v15(
    key: _rsa.RSAPublicKey,
    signature: bytes,
    digest: bytes,
    algorithm: hashes.HashAlgorithm,
) -> None:
    """Check an RSASSA-PKCS1-v1_5 signature (RFC 8017 §8.2.2) over ``digest``.

    ``signature`` may be shorter than the modulus (an OpenPGP MPI drops leading zero
    octets); it is padded back on the left.

    Raises:
        FormatError: the signature does not verify.
    """
    _check_digest(digest, algorithm)
    size = (key.key_size + 7) // 8
    if len(signature) > size:
        raise _refuse()
    try:
        key.verify(
            signature.rjust(size, b"\0"),
            digest,
            padding.PKCS1v15(),
            Prehashed(algorithm),
        )
    except (InvalidSignature, ValueError):
        raise _refuse() from None


def verify_dsa(
    key: dsa.DSAPublicKey,
    signature: bytes,
    digest: bytes,
    algorithm: hashes.HashAlgorithm,
) -> None:
    """Check a DER-encoded DSA signature (FIPS 186-4 §4.7) over ``digest``.

    Raises:
        FormatError: the signature does not verify.
    """
    _check_digest(digest, algorithm)
    _check_der(signature)
    try:
        key.verify(signature, digest, Prehashed(algorithm))
    except (InvalidSignature, ValueError):
        raise _refuse() from None


def verify_ecdsa(
    key: ec.EllipticCurvePublicKey,
    signature: bytes,
    digest: bytes,
    algorithm: hashes.HashAlgorithm,
) -> None:
    """Check a DER-encoded ECDSA signature (FIPS 186-5 §6.4.2) over ``digest``.

    Raises:
        FormatError: the signature does not verify.
    """
    _check_digest(digest, algorithm)
    _check_der(signature)
    try:
        key.verify(signature, digest, ec.ECDSA(Prehashed(algorithm)))
    except (InvalidSignature, ValueError):
        raise _refuse() from None


def verify_eddsa(
    key: ed25519.Ed25519PublicKey | ed448.Ed448PublicKey,
    signature: bytes,
    message: bytes,
) -> None:
    """Check a pure Ed25519 or Ed448 signature (RFC 8032 §5.1.7, §5.2.7; Ed448
    with an empty context) over ``message``.

    Raises:
        FormatError: the signature does not verify.
    """
    size = 64 if isinstance(key, ed25519.Ed25519PublicKey) else 114
    if len(signature) != size:
        raise _refuse()
    try:
        key.verify(signature, message)
    except (InvalidSignature, ValueError):
        raise _refuse() from None
