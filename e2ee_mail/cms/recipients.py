"""Opening recipient entries: which entries our keys may open, and the
content-encryption key (CEK) recovered from one.

Opens RFC 5652 §6.2.1 KeyTransRecipientInfo with RSAES-OAEP (RFC 8017 §7.1, parameters
per RFC 4055 §4.1) or RSAES-PKCS1-v1_5 (RFC 8017 §7.2), and RFC 5652 §6.2.2
KeyAgreeRecipientInfo for X25519 per RFC 8418 and for the NIST curves P-256, P-384 and
P-521 per RFC 5753: an ephemeral originatorKey (RFC 8418 §2.3, RFC 5753 §3.1.1), the
ECC-CMS-SharedInfo (RFC 5753 §7.2) and AES key wrap (RFC 3394, RFC 3565). Writing
entries is templates.py's; the key-encryption key derivation serves both.

KDFs for X25519 (RFC 8418 §2.2 allows both): the X9.63 KDF with SHA-256/384/512 and
dhSinglePass-stdDH-hkdf-sha256-scheme (HKDF-SHA256, no salt, info = the DER
ECC-CMS-SharedInfo). For the NIST curves: the X9.63 KDF with SHA-1 (OpenSSL's default)
or SHA-256/384/512, standard or cofactor ECDH (oids.EC_SCHEMES). Either with
aes128/192/256-wrap, with or without ukm. An EC originatorKey's parameters may be
absent, NULL or the recipient's named curve (RFC 5753 §3.1.1); its point must lie on
that curve.

ML-KEM-768 and ML-KEM-1024 keys open RFC 9629 KEMRecipientInfo entries per RFC 9936
(kemri.py). Every failure after a secret-key operation is the same DecryptionError.
Left out: static-static ECDH (originator by reference), KEK, password and other
recipients (listed by inspect, never opened).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519

from ..core import kdf, keywrap
from ..core import rsa as core_rsa
from ..core import x25519 as core_x25519
from ..errors import ASN1Error, DecryptionError, FormatError, UnsupportedError
from ..policy import Policy
from ..x509.certs import X509Certificate, X509SecretKey
from . import asn1, oids
from .structures import (
    KEMRecipientInfo,
    KeyAgreeRecipientInfo,
    KeyTransRecipientInfo,
    RecipientId,
    RecipientInfo,
)

__all__ = [
    "Candidate",
    "candidates",
    "check_supported",
    "derive_kek",
    "describe",
    "unwrap",
    "unwrap_content_key",
]

# A candidate: the entry, the index of the RecipientEncryptedKey (KARI), and the key.
Candidate = tuple[RecipientInfo, int, X509SecretKey]


def derive_kek(scheme: str, wrap_oid: str, shared: bytes, ukm: bytes | None) -> bytes:
    """The key-encryption key of a KeyAgreeRecipientInfo (RFC 5753 §7.2 shared info,
    RFC 8418 §2.2 KDFs), for the key wrap ``wrap_oid``: the same on both sides."""
    size = oids.WRAP_KEY_SIZES[wrap_oid]
    info = asn1.serialize_ecc_cms_shared_info(wrap_oid, ukm, size * 8)
    kdf_name, hash_name = oids.KDF_SCHEMES[scheme]
    if kdf_name == "hkdf":
        return kdf.hkdf_sha256(shared, salt=None, info=info, length=size)
    return kdf.x963_kdf(shared, shared_info=info, length=size, hash_name=hash_name)


def _agreement_oid(algorithm: str) -> str:
    """The originator algorithm a key of ``algorithm`` agrees with ("" for RSA)."""
    if algorithm == "x25519":
        return oids.X25519
    if algorithm.startswith("ecdh-"):
        return oids.EC_PUBLIC_KEY
    return ""


def _names(rid: RecipientId, cert: X509Certificate | None) -> bool:
    if cert is None:
        return False
    if rid.subject_key_identifier is not None:
        return rid.subject_key_identifier == cert.subject_key_identifier
    return rid.serial_number == cert.serial_number and rid.issuer == cert.issuer_der


def candidates(
    infos: Sequence[RecipientInfo], keys: Sequence[X509SecretKey]
) -> tuple[list[Candidate], bool]:
    """Pair recipient entries with the keys that may open them (public data only).

    A key with a certificate pairs with the entries that name it. A key loaded without
    a certificate pairs with every entry of its algorithm (trial decryption): key
    transport for RSA, key agreement with an originator of its key type otherwise.

    Returns:
        (candidates, named): ``named`` says whether some entry names one of our keys
        by its certificate.
    """
    found: list[Candidate] = []
    named = False
    for key in keys:
        if key.algorithm == "ed25519":
            # A signing-only key (RFC 8419) opens no recipient entry.
            continue
        # The key's type and certificate are looked up once per key, not per entry
        # (the abstract-class checks are slow on 100-recipient messages).
        cert = key.certificate
        agreement = _agreement_oid(key.algorithm)
        kind: type = KeyAgreeRecipientInfo if agreement else KeyTransRecipientInfo
        kem_oid = oids.KEM_OIDS.get(key.algorithm)
        if kem_oid is not None:
            kind = KEMRecipientInfo
        for info in infos:
            if type(info) is not kind:
                continue
            if kind is not KeyAgreeRecipientInfo:
                # One recipient per entry; without a certificate, a KEM key tries
                # only the entries of its own KEM.
                assert isinstance(info, KEMRecipientInfo | KeyTransRecipientInfo)
                trial = cert is None and (
                    not isinstance(info, KEMRecipientInfo)
                    or info.kem.algorithm == kem_oid
                )
                if _names(info.rid, cert):
                    named = True
                    found.append((info, 0, key))
                elif trial:
                    found.append((info, 0, key))
                continue
            assert isinstance(info, KeyAgreeRecipientInfo)
            trial = cert is None and info.originator_algorithm.algorithm == agreement
            for index, rek in enumerate(info.recipient_encrypted_keys):
                if _names(rek.rid, cert):
                    named = True
                    found.append((info, index, key))
                elif trial:
                    found.append((info, index, key))
    return found, named


def check_supported(info: RecipientInfo, key: X509SecretKey, policy: Policy) -> None:
    """Refuse, from public data only, an entry we cannot or may not open."""
    if isinstance(info, KEMRecipientInfo):
        from . import kemri

        kemri.check_supported(info, key)
        return
    if isinstance(info, KeyTransRecipientInfo):
        # RFC 5652 §6.2.1: version 0 with issuerAndSerialNumber, 2 with an SKI.
        if info.version != (2 if info.rid.subject_key_identifier is not None else 0):
            raise ASN1Error("KeyTransRecipientInfo has the wrong version")
        # No policy.min_rsa_bits here: it bounds what we encrypt to. Refusing to open
        # with one's own older key would protect nothing once the ciphertext exists.
        assert isinstance(key.private_key, rsa.RSAPrivateKey)
        alg = info.key_encryption_algorithm.algorithm
        if alg == oids.RSAES_OAEP:
            asn1.parse_oaep_parameters(info.key_encryption_algorithm.parameters)
        elif alg != oids.RSA_ENCRYPTION:
            raise UnsupportedError(f"key transport algorithm {alg} is not supported")
        return
    if isinstance(info, KeyAgreeRecipientInfo):
        if info.version != 3:  # RFC 5652 §6.2.2: always 3.
            raise ASN1Error("KeyAgreeRecipientInfo version must be 3")
        scheme = info.key_encryption_algorithm.algorithm
        if isinstance(key.private_key, ec.EllipticCurvePrivateKey):
            _check_ec_originator(info, key.algorithm.removeprefix("ecdh-"))
            allowed = oids.EC_SCHEMES
        else:
            _check_x25519_originator(info)
            allowed = oids.X25519_SCHEMES
        if scheme not in allowed:
            raise UnsupportedError(
                f"key agreement scheme {oids.name(scheme)} is not supported for "
                f"{key.algorithm} keys"
            )
        _wrap_oid(info)


def _check_x25519_originator(info: KeyAgreeRecipientInfo) -> None:
    if info.originator_algorithm.algorithm != oids.X25519:
        raise UnsupportedError(
            "key agreement with originator algorithm "
            f"{oids.name(info.originator_algorithm.algorithm)} is not supported "
            "for an X25519 key"
        )
    if info.originator_algorithm.parameters is not None:
        raise ASN1Error("id-X25519 parameters must be absent (RFC 8410 §3)")
    if len(info.originator_public_key) != core_x25519.KEY_SIZE:
        raise ASN1Error("malformed X25519 originator key")


def _check_ec_originator(info: KeyAgreeRecipientInfo, curve: str) -> None:
    alg = info.originator_algorithm
    if alg.algorithm != oids.EC_PUBLIC_KEY:
        raise UnsupportedError(
            f"key agreement with originator algorithm {oids.name(alg.algorithm)} "
            f"is not supported for an ECDH {curve.upper()} key"
        )
    # RFC 5753 §3.1.1: absent, NULL (older senders), or the recipient's curve.
    params = alg.parameters
    if params is not None and params != b"\x05\x00" and params != _curve_der(curve):
        raise ASN1Error(
            "the originator key's parameters are not the recipient's curve "
            f"{curve.upper()}"
        )
    from ..core import ecdh_prime

    ecdh_prime.decode_point(ecdh_prime.CURVES[curve], info.originator_public_key)


@functools.lru_cache(maxsize=4)
def _curve_der(curve: str) -> bytes:
    """The namedCurve parameters of ``curve``: its OBJECT IDENTIFIER's DER."""
    return asn1.der_oid(next(o for o, n in oids.EC_CURVES.items() if n == curve))


def _wrap_oid(info: KeyAgreeRecipientInfo) -> str:
    params = info.key_encryption_algorithm.parameters
    if params is None:
        raise ASN1Error("KeyAgreeRecipientInfo lacks its key wrap algorithm")
    return _wrap_oid_of(params)


@functools.lru_cache(maxsize=64)
def _wrap_oid_of(params: bytes) -> str:
    # Memoized (errors are not): every message repeats the same few.
    wrap_alg = asn1.parse_algorithm_identifier(params)
    if wrap_alg.algorithm not in oids.WRAP_KEY_SIZES or wrap_alg.parameters:
        raise UnsupportedError(f"key wrap algorithm {wrap_alg.algorithm} not supported")
    return wrap_alg.algorithm


def unwrap(info: RecipientInfo, index: int, key: X509SecretKey) -> bytes:
    """Recover the CEK from one entry with ``key``.

    Call :func:`check_supported` first. Every failure here is a DecryptionError.
    """
    if isinstance(info, KEMRecipientInfo):
        from . import kemri

        return kemri.unwrap(info, key)
    private = key.private_key
    if isinstance(info, KeyTransRecipientInfo):
        assert isinstance(private, rsa.RSAPrivateKey)
        alg = info.key_encryption_algorithm
        if alg.algorithm == oids.RSA_ENCRYPTION:
            return core_rsa.decrypt_pkcs1v15(private, info.encrypted_key)
        params = asn1.parse_oaep_parameters(alg.parameters)
        return core_rsa.decrypt_oaep(
            private,
            info.encrypted_key,
            hash_name=params.hash_name,  # type: ignore[arg-type]
            mgf_hash_name=params.mgf_hash_name,  # type: ignore[arg-type]
            label=params.label or None,
        )
    assert isinstance(info, KeyAgreeRecipientInfo)
    if isinstance(private, ec.EllipticCurvePrivateKey):
        from ..core import ecdh_prime

        # The point was checked by check_supported (public data, a FormatError).
        curve = ecdh_prime.CURVES[key.algorithm.removeprefix("ecdh-")]
        try:
            peer = ecdh_prime.decode_point(curve, info.originator_public_key)
            shared = ecdh_prime.agree(private, peer)
        except FormatError:
            raise DecryptionError() from None
    else:
        assert isinstance(private, x25519.X25519PrivateKey)
        shared = core_x25519.agree(private, info.originator_public_key)
    wrap_oid = _wrap_oid(info)
    kek = derive_kek(
        info.key_encryption_algorithm.algorithm, wrap_oid, shared, info.ukm
    )
    return keywrap.unwrap(kek, info.recipient_encrypted_keys[index].encrypted_key)


def unwrap_content_key(
    info: RecipientInfo, index: int, key: X509SecretKey, size: int
) -> tuple[bytes, bool]:
    """The content key of ``size`` octets from one entry, with implicit rejection.

    RSA key transport never fails here: a bad padding, a wrong key or a key of
    another size gives ``size`` random octets instead (core/rsa.py), so that the
    failure surfaces at the content tag like an altered body does, in about the same
    time, whether or not the entry named our certificate. Call
    :func:`check_supported` first.

    Returns:
        (content key, True), or (random stand-in, False) for a failed RSA unwrap.
        The flag is for rewrap, which must not wrap a stand-in for new recipients
        unchecked; it never chooses an error.

    Raises:
        DecryptionError: a key agreement entry did not unwrap to ``size`` octets
            (the AES key wrap integrity check, RFC 3394 §2.2.3, authenticates the key:
            there is no padding to learn about).
    """
    if isinstance(info, KeyTransRecipientInfo):
        private = key.private_key
        assert isinstance(private, rsa.RSAPrivateKey)
        alg = info.key_encryption_algorithm
        if alg.algorithm == oids.RSA_ENCRYPTION:
            return core_rsa.unwrap_pkcs1v15(private, info.encrypted_key, size)
        params = asn1.parse_oaep_parameters(alg.parameters)
        return core_rsa.unwrap_oaep(
            private,
            info.encrypted_key,
            size,
            hash_name=params.hash_name,  # type: ignore[arg-type]
            mgf_hash_name=params.mgf_hash_name,  # type: ignore[arg-type]
            label=params.label or None,
        )
    cek = unwrap(info, index, key)
    if len(cek) != size:
        raise DecryptionError()
    return cek, True


def _describe_rid(rid: RecipientId) -> str:
    if rid.subject_key_identifier is not None:
        return f"ski={rid.subject_key_identifier.hex().upper()}"
    from asn1crypto import x509 as asn1_x509

    try:
        issuer = asn1_x509.Name.load(rid.issuer or b"").human_friendly
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        issuer = "(malformed name)"
    return f"issuer={issuer}; serial={rid.serial_number or 0:X}"


def _originator_name(info: KeyAgreeRecipientInfo) -> str:
    """ "x25519", or "ecdh-p256" and so on for an EC originator: its curve from the
    parameters, or from the point's length when they are absent (OpenSSL omits
    them)."""
    alg = info.originator_algorithm
    if alg.algorithm != oids.EC_PUBLIC_KEY:
        return oids.name(alg.algorithm)
    from ..core import ecdh_prime

    size = len(info.originator_public_key)
    for curve in oids.EC_CURVES.values():
        if alg.parameters == _curve_der(curve) or (
            alg.parameters in (None, b"\x05\x00")
            and size == ecdh_prime.CURVES[curve].point_size
        ):
            return f"ecdh-{curve}"
    return "ecdh-unknown-curve"


def describe(info: RecipientInfo) -> list[tuple[str, str, str]]:
    """(type, id, algorithm) for each recipient named by ``info``."""
    if isinstance(info, KeyTransRecipientInfo):
        alg = info.key_encryption_algorithm
        name = "rsaes-pkcs1-v1_5"
        if alg.algorithm == oids.RSAES_OAEP:
            try:
                params = asn1.parse_oaep_parameters(alg.parameters)
                name = f"rsaes-oaep-{params.hash_name}"
            except ASN1Error:
                name = "rsaes-oaep (malformed parameters)"
        elif alg.algorithm != oids.RSA_ENCRYPTION:
            name = alg.algorithm
        return [("KeyTransRecipientInfo", _describe_rid(info.rid), name)]
    if isinstance(info, KeyAgreeRecipientInfo):
        scheme = oids.name(info.key_encryption_algorithm.algorithm)
        try:
            wrap_name = oids.name(_wrap_oid(info))
        except (ASN1Error, UnsupportedError):
            wrap_name = "unknown-wrap"
        alg_name = f"{_originator_name(info)}-{scheme}+{wrap_name}"
        return [
            ("KeyAgreeRecipientInfo", _describe_rid(rek.rid), alg_name)
            for rek in info.recipient_encrypted_keys
        ]
    if isinstance(info, KEMRecipientInfo):
        from . import kemri

        return [
            (
                "KEMRecipientInfo",
                _describe_rid(info.rid),
                kemri.describe_algorithm(info),
            )
        ]
    return [(info.kind, "unknown", "unsupported")]
