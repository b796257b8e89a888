"""Signature primitives over bytes: RSASSA-PKCS1-v1_5 and RSASSA-PSS (RFC 8017 §8),
ECDSA (FIPS 186-5, signatures DER-encoded as in RFC 5480 §2.2's Ecdsa-Sig-Value) and
Ed25519 (RFC 8032 §5.1, the pure variant), all through `cryptography`.

A :class:`Scheme` names the algorithm and its hash; :func:`sign` and :func:`verify`
take the message, :func:`sign_digest` and :func:`verify_digest` a digest the caller
computed in its own pass over the data (not for Ed25519, which hashes the message
itself). Verification answers True or False and never raises for a wrong signature.

:func:`check_digest` and :func:`check_message` are the same checks for a format
that names its hash with a `cryptography` hash object and wants a refusal rather
than a bool (OpenPGP self-signatures hash the signed data, then the trailer of
RFC 9580 §5.2.4). They also cover DSA (FIPS 186-4 §4.7) and Ed448 (RFC 8032 §5.2.7,
empty context), and take an RSA signature shorter than the modulus, as an OpenPGP
MPI carries it without its leading zero octets. Every refusal there is the same
:class:`~e2ee_mail.errors.FormatError`: the input is public, and a caller only needs
to know that the signature does not hold.

Both paths share the rules added around `cryptography`: a digest must have its
hash's size (FIPS 186-5 §6.4.2 cuts it to the group order's bit length, which
OpenSSL does); DSA and ECDSA signatures are DER-encoded (a SEQUENCE of the INTEGERs
r and s, RFC 3279 §2.2.2) and read strictly, a BER form, a zero or negative value
or trailing octets being refused; an EdDSA signature must have its exact size.

Left out: Ed25519ph, signing with DSA or Ed448, MD5 and SHA-1 in a :class:`Scheme`
(the callers refuse them before they get here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)

from ..errors import FormatError
from .record import Record

if TYPE_CHECKING:
    # Verifying only, and seldom: imported where used, not by every signature.
    from cryptography.hazmat.primitives.asymmetric import dsa, ed448

__all__ = [
    "BAD_SIGNATURE",
    "HASH_SIZES",
    "HashName",
    "Scheme",
    "SigningKey",
    "VerifyingKey",
    "check_digest",
    "check_message",
    "dss_der",
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
#: The text of every refusal of :func:`check_digest`, :func:`check_message` and
#: :func:`dss_der`.
BAD_SIGNATURE: Final = "the signature does not verify"
#: The size of a native EdDSA signature (RFC 8032 §5.1.6, §5.2.6).
_EDDSA_SIZES: Final = {"ed25519": 64, "ed448": 114}


class Scheme(Record):
    """A signature algorithm with its hash.

    Attributes:
        kind: "rsa-pkcs1v15", "rsa-pss", "ecdsa" or "ed25519".
        hash_name: the hash signed (for Ed25519: the one its callers digest the
            content with, since Ed25519 hashes with SHA-512 internally).
        salt_length: the PSS salt length in bytes (PSS only; MGF1 uses the same
            hash, RFC 4055 §3.1's recommendation).
    """

    _fields = ("kind", "hash_name", "salt_length")
    __slots__ = _fields
    kind: Kind
    hash_name: HashName
    salt_length: int

    def __init__(self, kind: Kind, hash_name: HashName, salt_length: int = 0) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "hash_name", hash_name)
        object.__setattr__(self, "salt_length", salt_length)

    @property
    def name(self) -> str:
        """A readable name: "rsa-pkcs1v15-sha256", "rsa-pss-sha256", "ecdsa-sha256",
        "ed25519"."""
        return "ed25519" if self.kind == "ed25519" else f"{self.kind}-{self.hash_name}"


def _hash(scheme: Scheme) -> hashes.HashAlgorithm:
    return _HASHES[scheme.hash_name]()


def _pss(algorithm: hashes.HashAlgorithm, salt_length: int) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(algorithm), salt_length=salt_length)


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
    pad: padding.AsymmetricPadding = padding.PKCS1v15()
    if scheme.kind == "rsa-pss":
        pad = _pss(_hash(scheme), scheme.salt_length)
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


def _refuse() -> FormatError:
    return FormatError(BAD_SIGNATURE)


def dss_der(r: int, s: int) -> bytes:
    """The DER form of a DSA or ECDSA signature (r, s); zero or negative values are
    refused (FIPS 186-5 §6.4.2 requires 0 < r, s < n).

    Raises:
        FormatError: r or s is not positive.
    """
    if r <= 0 or s <= 0:
        raise _refuse()
    return encode_dss_signature(r, s)


def _check_der(signature: bytes) -> None:
    # `cryptography` parses DER strictly (no BER lengths, minimal INTEGERs, nothing
    # after the SEQUENCE); the values must also be positive.
    try:
        r, s = decode_dss_signature(signature)
    except ValueError:
        raise _refuse() from None
    if r <= 0 or s <= 0:
        raise _refuse()


def _check(
    key: object,
    kind: str,
    signature: bytes,
    data: bytes,
    algorithm: hashes.HashAlgorithm | None,
    *,
    prehashed: bool,
    salt_length: int = 0,
    pad_rsa: bool = False,
) -> None:
    """Check ``signature`` over ``data`` (its ``algorithm`` digest when
    ``prehashed``; ``algorithm`` is None for EdDSA, which hashes the message
    itself). ``pad_rsa`` pads an RSA signature shorter than the modulus back on the
    left.

    Raises:
        FormatError: the signature does not verify, or the key does not fit.
    """
    if prehashed and (algorithm is None or len(data) != algorithm.digest_size):
        raise _refuse()
    try:
        if kind in _EDDSA_SIZES:
            if kind == "ed25519":
                public: type[ed25519.Ed25519PublicKey | ed448.Ed448PublicKey] = (
                    ed25519.Ed25519PublicKey
                )
            else:
                from cryptography.hazmat.primitives.asymmetric import ed448

                public = ed448.Ed448PublicKey
            if (
                prehashed
                or not isinstance(key, public)
                or len(signature) != _EDDSA_SIZES[kind]
            ):
                raise _refuse()
            key.verify(signature, data)
            return
        if algorithm is None:
            raise _refuse()
        chosen = Prehashed(algorithm) if prehashed else algorithm
        if kind == "ecdsa":
            _check_der(signature)
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise _refuse()
            key.verify(signature, data, ec.ECDSA(chosen))
        elif kind == "dsa":
            _check_der(signature)
            # Only check_digest asks for DSA, having ruled out every other key
            # type; the class is not named at run time, since `cryptography`
            # warns that DSA is deprecated when it is.
            cast("dsa.DSAPublicKey", key).verify(signature, data, chosen)
        else:
            if not isinstance(key, rsa.RSAPublicKey):
                raise _refuse()
            size = (key.key_size + 7) // 8
            if len(signature) > size:
                raise _refuse()
            if pad_rsa:
                signature = signature.rjust(size, b"\0")
            pad: padding.AsymmetricPadding = padding.PKCS1v15()
            if kind == "rsa-pss":
                pad = _pss(algorithm, salt_length)
            key.verify(signature, data, pad, chosen)
    except (InvalidSignature, ValueError, OverflowError):
        # ValueError: a PSS salt longer than the modulus allows, or a malformed
        # signature encoding; OverflowError: a salt length beyond a C long.
        # Either way not a valid signature.
        raise _refuse() from None


def _verify(
    key: VerifyingKey, scheme: Scheme, signature: bytes, data: bytes, prehashed: bool
) -> bool:
    algorithm = None if scheme.kind == "ed25519" else _hash(scheme)
    try:
        _check(
            key,
            scheme.kind,
            signature,
            data,
            algorithm,
            prehashed=prehashed,
            salt_length=scheme.salt_length,
        )
    except FormatError:
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


def check_digest(
    key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey | dsa.DSAPublicKey,
    signature: bytes,
    digest: bytes,
    algorithm: hashes.HashAlgorithm,
) -> None:
    """Check a signature over ``digest``, the ``algorithm`` digest of the message:
    RSASSA-PKCS1-v1_5 (RFC 8017 §8.2.2) for an RSA key, ECDSA for an EC key, DSA
    otherwise. A DSA or ECDSA signature is DER-encoded (see :func:`dss_der`); an
    RSA signature may be shorter than the modulus (an OpenPGP MPI drops leading
    zero octets) and is padded back on the left.

    Raises:
        FormatError: the signature does not verify.
    """
    if isinstance(key, rsa.RSAPublicKey):
        kind = "rsa-pkcs1v15"
    elif isinstance(key, ec.EllipticCurvePublicKey):
        kind = "ecdsa"
    else:
        kind = "dsa"
    _check(key, kind, signature, digest, algorithm, prehashed=True, pad_rsa=True)


def check_message(
    key: ed25519.Ed25519PublicKey | ed448.Ed448PublicKey,
    signature: bytes,
    message: bytes,
) -> None:
    """Check a pure Ed25519 or Ed448 signature (RFC 8032 §5.1.7, §5.2.7; Ed448
    with an empty context) over ``message``.

    Raises:
        FormatError: the signature does not verify.
    """
    kind = "ed25519" if isinstance(key, ed25519.Ed25519PublicKey) else "ed448"
    _check(key, kind, signature, message, None, prehashed=False)
