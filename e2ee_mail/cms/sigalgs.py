"""The signature and digest algorithms of CMS SignedData, between their
AlgorithmIdentifiers and core/signature.py's schemes.

Written: SHA-256/384/512 digests with absent parameters (RFC 5754 §2);
sha256WithRSAEncryption with NULL parameters (RFC 4055 §5); RSASSA-PSS with SHA-256,
MGF1-SHA-256 and a 32-octet salt (RFC 4056 §3, RFC 4055 §3.1); ecdsa-with-SHA256 for
P-256, -SHA384 for P-384 and -SHA512 for P-521, parameters absent (RFC 5758 §3.2);
id-Ed25519 with SHA-512 as the digest algorithm (RFC 8419 §3.1).

Read: the same, plus rsaEncryption as the signature algorithm (RFC 3370 §3.2, what
OpenSSL writes, the hash then being the digest algorithm's) and PSS with any salt
length and a SHA-2 hash. MD5 and SHA-1 anywhere, SHA-224 and anything unknown are
refused (PolicyError or UnsupportedError), and so are combinations whose signature
hash differs from the digest algorithm (RFC 5754 §3), and Ed25519 with another
digest than SHA-512.
"""

from __future__ import annotations

import functools
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ..core.signature import HashName, Scheme, VerifyingKey
from ..errors import ASN1Error, PolicyError, UnsupportedError
from . import oids, reference
from .asn1 import der_int, der_oid, der_tlv
from .structures import AlgorithmIdentifier

__all__ = [
    "digest_algorithm",
    "display_name",
    "key_fits",
    "scheme_for_key",
    "scheme_from",
    "signature_algorithm",
]

_HASH_OIDS: Final[dict[str, HashName]] = {
    oids.SHA256: "sha256",
    oids.SHA384: "sha384",
    oids.SHA512: "sha512",
}
_OID_OF_HASH: Final = {name: oid for oid, name in _HASH_OIDS.items()}
_REFUSED_HASHES: Final = {oids.MD5: "MD5", oids.SHA1: "SHA-1", oids.SHA224: "SHA-224"}
_RSA_WITH: Final[dict[str, HashName]] = {
    oids.SHA256_WITH_RSA: "sha256",
    oids.SHA384_WITH_RSA: "sha384",
    oids.SHA512_WITH_RSA: "sha512",
}
_ECDSA_WITH: Final[dict[str, HashName]] = {
    oids.ECDSA_WITH_SHA256: "sha256",
    oids.ECDSA_WITH_SHA384: "sha384",
    oids.ECDSA_WITH_SHA512: "sha512",
}
_REFUSED_SIGNATURES: Final = {
    oids.MD5_WITH_RSA: "MD5 with RSA",
    oids.SHA1_WITH_RSA: "SHA-1 with RSA",
    oids.ECDSA_WITH_SHA1: "ECDSA with SHA-1",
}
#: Our curve names, and the hash each signs with (RFC 5753 §7.1, RFC 5480 §4).
_CURVES: Final[dict[str, tuple[str, HashName]]] = {
    "secp256r1": ("p256", "sha256"),
    "secp384r1": ("p384", "sha384"),
    "secp521r1": ("p521", "sha512"),
}
#: RSASSA-PSS as written: SHA-256, MGF1-SHA-256, salt of the hash's length.
_PSS_SALT_LENGTH: Final = 32
_NULL: Final = b"\x05\x00"


def _hash(alg: AlgorithmIdentifier, what: str) -> HashName:
    if alg.algorithm in _REFUSED_HASHES:
        raise PolicyError(f"{_REFUSED_HASHES[alg.algorithm]} is refused as {what}")
    name = _HASH_OIDS.get(alg.algorithm)
    if name is None:
        raise UnsupportedError(f"unknown {what} {oids.name(alg.algorithm)}")
    if alg.parameters not in (None, _NULL):
        raise ASN1Error(f"{what} with parameters (RFC 5754 §2)")
    return name


def _pss(params: bytes | None, digest: HashName) -> Scheme:
    if params is None:
        raise ASN1Error("RSASSA-PSS without parameters (RFC 4055 §3.1)")
    from asn1crypto import algos

    def read(value: Any) -> tuple[str, str, str, int, int]:
        mgf = value["mask_gen_algorithm"]
        return (
            value["hash_algorithm"]["algorithm"].dotted,
            mgf["algorithm"].dotted,
            mgf["parameters"]["algorithm"].dotted,
            int(value["salt_length"].native),
            # asn1crypto names the one trailer RFC 4055 §3.1 allows, 1.
            1 if value["trailer_field"].native == "trailer_field_bc" else 0,
        )

    try:
        hash_oid, mgf_oid, mgf_hash_oid, salt, trailer = read(
            algos.RSASSAPSSParams.load(params, strict=True)
        )
    except reference.ASN1CRYPTO_ERRORS as exc:
        raise ASN1Error(f"malformed RSASSA-PSS parameters: {exc}") from None
    pss_hash = _hash(AlgorithmIdentifier(hash_oid), "the RSASSA-PSS hash")
    if mgf_oid != oids.MGF1:
        raise UnsupportedError("RSASSA-PSS with a mask generation other than MGF1")
    if _hash(AlgorithmIdentifier(mgf_hash_oid), "the MGF1 hash") != pss_hash:
        raise UnsupportedError("RSASSA-PSS whose MGF1 hash is not its hash")
    if trailer != 1 or salt < 0:
        raise ASN1Error("RSASSA-PSS with a trailer field other than 1 (RFC 4055 §3.1)")
    if pss_hash != digest:
        raise PolicyError("the RSASSA-PSS hash is not the digest algorithm")
    return Scheme("rsa-pss", pss_hash, salt)


# Memoized (bounded; arguments and results are frozen values): every message reads
# and writes the same few algorithm identifiers, and these run once per signature.
@functools.lru_cache(maxsize=64)
def scheme_from(
    signature_alg: AlgorithmIdentifier, digest_alg: AlgorithmIdentifier
) -> Scheme:
    """The scheme a SignerInfo's two algorithms name.

    Raises:
        PolicyError: MD5, SHA-1 or SHA-224, or a signature hash other than the
            digest algorithm.
        UnsupportedError: an algorithm we do not know.
        ASN1Error: malformed parameters.
    """
    oid, params = signature_alg.algorithm, signature_alg.parameters
    if oid in _REFUSED_SIGNATURES:
        raise PolicyError(f"{_REFUSED_SIGNATURES[oid]} signatures are refused")
    digest = _hash(digest_alg, "the digest algorithm")
    if oid == oids.ED25519:
        if params is not None:
            raise ASN1Error("id-Ed25519 with parameters (RFC 8410 §3)")
        if digest != "sha512":
            raise PolicyError("Ed25519 signs with SHA-512 digests (RFC 8419 §3.1)")
        return Scheme("ed25519", "sha512")
    if oid == oids.RSASSA_PSS:
        return _pss(params, digest)
    if oid == oids.RSA_ENCRYPTION or oid in _RSA_WITH:
        if params not in (None, _NULL):
            raise ASN1Error("RSA PKCS#1 v1.5 signature with parameters (RFC 4055 §5)")
        if _RSA_WITH.get(oid, digest) != digest:
            raise PolicyError("the signature hash is not the digest algorithm")
        return Scheme("rsa-pkcs1v15", digest)
    if oid in _ECDSA_WITH:
        if params is not None:
            raise ASN1Error("ECDSA signature with parameters (RFC 5758 §3.2)")
        if _ECDSA_WITH[oid] != digest:
            raise PolicyError("the signature hash is not the digest algorithm")
        return Scheme("ecdsa", digest)
    raise UnsupportedError(f"unknown signature algorithm {oids.name(oid)}")


def key_fits(scheme: Scheme, key: VerifyingKey | object) -> bool:
    """Whether ``key`` is of the type ``scheme`` needs (ECDSA: on a curve we read)."""
    if scheme.kind == "ed25519":
        return isinstance(key, ed25519.Ed25519PublicKey)
    if scheme.kind == "ecdsa":
        return isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _CURVES
    return isinstance(key, rsa.RSAPublicKey)


def display_name(scheme: Scheme, key: object) -> str:
    """The readable name: "rsa-pkcs1v15-sha256", "rsa-pss-sha256",
    "ecdsa-p256-sha256", "ed25519"."""
    if scheme.kind == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
        curve = _CURVES.get(key.curve.name, (key.curve.name, ""))[0]
        return f"ecdsa-{curve}-{scheme.hash_name}"
    return scheme.name


def scheme_for_key(key: object, *, pss: bool = False) -> Scheme:
    """The scheme we sign with for ``key`` (a private key).

    Raises:
        UnsupportedError: a key that cannot sign here (X25519, other curves).
    """
    if isinstance(key, rsa.RSAPrivateKey):
        if pss:
            return Scheme("rsa-pss", "sha256", _PSS_SALT_LENGTH)
        return Scheme("rsa-pkcs1v15", "sha256")
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _CURVES:
        return Scheme("ecdsa", _CURVES[key.curve.name][1])
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return Scheme("ed25519", "sha512")
    raise UnsupportedError(
        f"a {type(key).__name__} cannot sign here: use RSA, ECDSA (P-256, P-384, "
        "P-521) or Ed25519"
    )


@functools.lru_cache(maxsize=64)
def digest_algorithm(scheme: Scheme) -> AlgorithmIdentifier:
    """The digestAlgorithm for ``scheme``, parameters absent (RFC 5754 §2)."""
    return AlgorithmIdentifier(_OID_OF_HASH[scheme.hash_name])


@functools.lru_cache(maxsize=64)
def signature_algorithm(scheme: Scheme) -> AlgorithmIdentifier:
    """The signatureAlgorithm we write for ``scheme``."""
    if scheme.kind == "ed25519":
        return AlgorithmIdentifier(oids.ED25519)
    if scheme.kind == "ecdsa":
        oid = {v: k for k, v in _ECDSA_WITH.items()}[scheme.hash_name]
        return AlgorithmIdentifier(oid)
    if scheme.kind == "rsa-pkcs1v15":
        oid = {v: k for k, v in _RSA_WITH.items()}[scheme.hash_name]
        return AlgorithmIdentifier(oid, _NULL)
    hash_id = der_tlv(0x30, der_oid(_OID_OF_HASH[scheme.hash_name]))
    mgf = der_tlv(0x30, der_oid(oids.MGF1) + hash_id)
    params = der_tlv(
        0x30,
        der_tlv(0xA0, hash_id)
        + der_tlv(0xA1, mgf)
        + der_tlv(0xA2, der_int(scheme.salt_length)),
    )
    return AlgorithmIdentifier(oids.RSASSA_PSS, params)
