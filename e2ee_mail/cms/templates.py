"""Writing recipient entries: the one path from a recipient certificate and the
content-encryption key (CEK) to the DER of its RecipientInfo (RFC 5652 §6.2).

RSA keys get a KeyTransRecipientInfo (§6.2.1) with RSAES-OAEP (RFC 8017 §7.1; SHA-256
and MGF1-SHA-256, parameters per RFC 4055 §4.1) or, only when the Policy allows it,
RSAES-PKCS1-v1_5 (RFC 8017 §7.2). X25519 keys get the RFC 8418 KeyAgreeRecipientInfo:
an ephemeral originatorKey (§2.3), dhSinglePass-stdDH-sha256kdf-scheme (the ANSI X9.63
KDF with SHA-256, which CMS ECDH implementations share since RFC 5753; RFC 8418 §2.2
allows it beside HKDF) over the ECC-CMS-SharedInfo (RFC 5753 §7.2), id-aes256-wrap
(RFC 3394, RFC 3565), no ukm. EC keys on P-256, P-384 and P-521 get the same entry
per RFC 5753 §3.1.1: the ephemeral key as an id-ecPublicKey originatorKey with its
parameters absent (as OpenSSL writes it; the curve is the recipient's) and the point
uncompressed, the X9.63 KDF with SHA-256, SHA-384 and SHA-512 respectively (the
pairing of RFC 5753 §8), and id-aes256-wrap for the 256-bit content key. Recipients
are named by issuerAndSerialNumber (the default: every client reads it) or by
subjectKeyIdentifier. ML-KEM-768 and ML-KEM-1024 keys get the RFC 9936
KEMRecipientInfo that kemri.py writes.

Only the wrapped key (and the ephemeral key) differ from message to message. So
each certificate's entry is serialized once, by asn1.serialize_recipient_info, around
placeholders of the right sizes, cut at them, and cached; every message joins the
pieces around its fresh values, which costs less than building and serializing the
entry each time (tests/unit/test_cms_recipients.py checks the result is the entry).
"""

from __future__ import annotations

import functools
from typing import Final, Literal

from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519

from ..core import keywrap
from ..core import rsa as core_rsa
from ..core import x25519 as core_x25519
from ..core.record import Record
from ..errors import PolicyError, UnsupportedError
from ..policy import Policy
from ..x509.certs import X509Certificate
from . import asn1, oids, recipients
from .structures import (
    AlgorithmIdentifier,
    KeyAgreeRecipientInfo,
    KeyTransRecipientInfo,
    OAEPParameters,
    RecipientEncryptedKey,
    RecipientId,
)

__all__ = ["EC_SCHEMES", "KARI_SCHEME", "KARI_WRAP", "RidKind", "wrap_der"]

RidKind = Literal["issuer_and_serial_number", "subject_key_identifier"]
#: The key agreement scheme and key wrap we write for X25519 (see the docstring).
KARI_SCHEME: Final = oids.DH_SINGLE_PASS_STDDH_SHA256KDF
KARI_WRAP: Final = oids.AES256_WRAP
#: The key agreement scheme we write for each NIST curve (see the docstring).
EC_SCHEMES: Final = {
    "p256": oids.DH_SINGLE_PASS_STDDH_SHA256KDF,
    "p384": oids.DH_SINGLE_PASS_STDDH_SHA384KDF,
    "p521": oids.DH_SINGLE_PASS_STDDH_SHA512KDF,
}
_EC_ORIGINATOR: Final = AlgorithmIdentifier(oids.EC_PUBLIC_KEY)
_X25519_ORIGINATOR: Final = AlgorithmIdentifier(oids.X25519)
_OAEP_SHA256: Final = OAEPParameters("sha256", "sha256", b"")
_PKCS1: Final = AlgorithmIdentifier(oids.RSA_ENCRYPTION, b"\x05\x00")
#: AES-KW of a 32-byte CEK (RFC 3394 §2.2.1: 8 bytes longer than the key).
_WRAPPED_CEK_SIZE: Final = 40


class _Plan(Record):
    """One certificate's entry, cut around what changes from message to message.

    For RSA, ``head`` (OAEP) and ``head_pkcs1`` are the whole entry up to the
    encryptedKey content, which always has the modulus' size ``rsa_size``
    (RFC 8017 §7.1.1, §7.2.1). For key agreement, ``head`` runs up to the ephemeral
    key and ``mid`` from it to the wrapped key; both are empty when no template
    applies. ``x25519_public`` is the X25519 recipient key; an EC recipient has
    ``ec_public`` and ``curve`` instead.
    """

    _fields = (
        "rid",
        "rsa_public",
        "rsa_bits",
        "rsa_size",
        "x25519_public",
        "head",
        "head_pkcs1",
        "mid",
        "ec_public",
        "curve",
    )
    __slots__ = _fields
    rid: RecipientId
    rsa_public: rsa.RSAPublicKey | None
    rsa_bits: int
    rsa_size: int
    x25519_public: bytes
    head: bytes
    head_pkcs1: bytes
    mid: bytes
    ec_public: ec.EllipticCurvePublicKey | None
    curve: str

    def __init__(
        self,
        rid: RecipientId,
        rsa_public: rsa.RSAPublicKey | None,
        rsa_bits: int,
        rsa_size: int,
        x25519_public: bytes,
        head: bytes,
        head_pkcs1: bytes,
        mid: bytes,
        ec_public: ec.EllipticCurvePublicKey | None = None,
        curve: str = "",
    ) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "rid", rid)
        setattr_(self, "rsa_public", rsa_public)
        setattr_(self, "rsa_bits", rsa_bits)
        setattr_(self, "rsa_size", rsa_size)
        setattr_(self, "x25519_public", x25519_public)
        setattr_(self, "head", head)
        setattr_(self, "head_pkcs1", head_pkcs1)
        setattr_(self, "mid", mid)
        setattr_(self, "ec_public", ec_public)
        setattr_(self, "curve", curve)


def _rid(cert: X509Certificate, kind: RidKind) -> RecipientId:
    if kind == "subject_key_identifier":
        ski = cert.subject_key_identifier
        if ski is None:
            raise UnsupportedError(
                f"certificate {cert.fingerprint} has no subjectKeyIdentifier"
            )
        return RecipientId(subject_key_identifier=ski)
    return RecipientId(issuer=cert.issuer_der, serial_number=cert.serial_number)


def _ktri(rid: RecipientId, *, pkcs1: bool, encrypted: bytes) -> KeyTransRecipientInfo:
    if pkcs1:
        alg = _PKCS1
    else:
        params = asn1.serialize_oaep_parameters(_OAEP_SHA256)  # memoized
        alg = AlgorithmIdentifier(oids.RSAES_OAEP, params)
    # RFC 5652 §6.2.1: version 0 with issuerAndSerialNumber, 2 with an SKI.
    version = 2 if rid.subject_key_identifier is not None else 0
    return KeyTransRecipientInfo(version, rid, alg, encrypted)


def _kari(
    rid: RecipientId, ephemeral: bytes, wrapped: bytes, curve: str = ""
) -> KeyAgreeRecipientInfo:
    """The entry for an X25519 recipient, or an EC one on ``curve``."""
    wrap_alg = asn1.serialize_algorithm_identifier(AlgorithmIdentifier(KARI_WRAP))
    return KeyAgreeRecipientInfo(
        version=3,
        originator_algorithm=_EC_ORIGINATOR if curve else _X25519_ORIGINATOR,
        originator_public_key=ephemeral,
        ukm=None,
        key_encryption_algorithm=AlgorithmIdentifier(
            EC_SCHEMES[curve] if curve else KARI_SCHEME, wrap_alg
        ),
        recipient_encrypted_keys=(RecipientEncryptedKey(rid, wrapped),),
    )


def _ktri_head(rid: RecipientId, *, pkcs1: bool, size: int) -> bytes:
    entry = asn1.serialize_recipient_info(
        _ktri(rid, pkcs1=pkcs1, encrypted=bytes(size))
    )
    return entry[:-size]


@functools.lru_cache(maxsize=1024)
def _plan(cert: X509Certificate, rid_kind: RidKind) -> _Plan:
    public = cert.public_key
    rid = _rid(cert, rid_kind)
    if isinstance(public, rsa.RSAPublicKey):
        size = (public.key_size + 7) // 8
        return _Plan(
            rid=rid,
            rsa_public=public,
            rsa_bits=public.key_size,
            rsa_size=size,
            x25519_public=b"",
            head=_ktri_head(rid, pkcs1=False, size=size),
            head_pkcs1=_ktri_head(rid, pkcs1=True, size=size),
            mid=b"",
        )
    if isinstance(public, ec.EllipticCurvePublicKey):
        from ..core import ecdh_prime

        ec_curve = ecdh_prime.curve_of(public)
        # x509/certs.py loads no other curve (and CMS writes only the NIST ones).
        assert ec_curve is not None and ec_curve.name in EC_SCHEMES
        curve = ec_curve.name
        eph_size = ec_curve.point_size
        ec_public: ec.EllipticCurvePublicKey | None = public
        x25519_public = b""
    else:
        # x509/usage.py refuses to encrypt to the signing-only key types.
        assert isinstance(public, x25519.X25519PublicKey)
        curve = ""
        eph_size = core_x25519.KEY_SIZE
        ec_public = None
        x25519_public = core_x25519.public_bytes(public)
    # Cut a template KeyAgreeRecipientInfo around its two variable parts.
    eph_marker = b"\xee" * eph_size
    wrapped_marker = b"\xdd" * _WRAPPED_CEK_SIZE
    template = asn1.serialize_recipient_info(
        _kari(rid, eph_marker, wrapped_marker, curve)
    )
    eph_at = template.find(eph_marker)
    wrapped_at = template.find(wrapped_marker, eph_at + eph_size)
    # Unusable when a marker also occurs in the rid: then no template is used.
    usable = (
        template.count(eph_marker) == 1
        and template.count(wrapped_marker) == 1
        and template.endswith(wrapped_marker)
    )
    return _Plan(
        rid=rid,
        rsa_public=None,
        rsa_bits=0,
        rsa_size=0,
        x25519_public=x25519_public,
        head=template[:eph_at] if usable else b"",
        head_pkcs1=b"",
        mid=template[eph_at + eph_size : wrapped_at] if usable else b"",
        ec_public=ec_public,
        curve=curve,
    )


def wrap_der(
    cert: X509Certificate,
    cek: bytes,
    *,
    policy: Policy,
    rid_kind: RidKind = "issuer_and_serial_number",
    ephemeral_secret: bytes | None = None,
    encrypted_key: bytes | None = None,
) -> bytes:
    """Wrap ``cek`` for one recipient: its RecipientInfo's DER (an element of the
    RecipientInfos SET).

    Args:
        cert: the recipient.
        cek: the content-encryption key.
        policy: what may be written.
        rid_kind: how the entry names the certificate.
        ephemeral_secret: pin the ephemeral key (test vectors only): the X25519
            private key, or the EC scalar big-endian.
        encrypted_key: an RSA-wrapped CEK recorded in a test vector, used instead of
            wrapping (RSA padding randomness cannot be pinned; test vectors only).

    Raises:
        PolicyError: RSA key below policy.min_rsa_bits.
        UnsupportedError: a key type CMS cannot encrypt to here, or no
            subjectKeyIdentifier to name the certificate by.
    """
    if cert.algorithm in oids.KEM_OIDS:
        from . import kemri

        if ephemeral_secret is not None or encrypted_key is not None:
            # FIPS 203 encapsulation draws its own randomness inside `cryptography`.
            raise UnsupportedError("an ML-KEM encapsulation cannot be pinned")
        return kemri.wrap_der(cert, _rid(cert, rid_kind), cek)
    plan = _plan(cert, rid_kind)
    public = plan.rsa_public
    if public is not None:
        if plan.rsa_bits < policy.min_rsa_bits:
            raise PolicyError(
                f"recipient {cert.fingerprint} has a {plan.rsa_bits}-bit RSA key, "
                f"below the policy minimum of {policy.min_rsa_bits} bits"
            )
        pkcs1 = policy.allow_rsa_pkcs1v15_encrypt
        encrypt = core_rsa.encrypt_pkcs1v15 if pkcs1 else core_rsa.encrypt_oaep
        encrypted = encrypted_key or encrypt(public, cek)
        if len(encrypted) != plan.rsa_size:  # a recorded key of another size
            entry = _ktri(plan.rid, pkcs1=pkcs1, encrypted=encrypted)
            return asn1.serialize_recipient_info(entry)
        return (plan.head_pkcs1 if pkcs1 else plan.head) + encrypted
    scheme = KARI_SCHEME
    if plan.ec_public is not None:
        from ..core import ecdh_prime

        scheme = EC_SCHEMES[plan.curve]
        if ephemeral_secret is None:
            ephemeral, shared = ecdh_prime.ephemeral_agree(plan.ec_public)
        else:
            ephemeral, shared = ecdh_prime.ephemeral_agree_from_parts(
                plan.ec_public, ephemeral_secret
            )
    elif ephemeral_secret is None:
        ephemeral, shared = core_x25519.ephemeral_agree(plan.x25519_public)
    else:
        ephemeral, shared = core_x25519.ephemeral_agree_from_parts(
            plan.x25519_public, ephemeral_secret
        )
    kek = recipients.derive_kek(scheme, KARI_WRAP, shared, None)
    wrapped = keywrap.wrap(kek, cek)
    if not plan.head or len(wrapped) != _WRAPPED_CEK_SIZE:
        # No template (see _plan), or a CEK other than 32 bytes.
        kari = _kari(plan.rid, ephemeral, wrapped, plan.curve)
        return asn1.serialize_recipient_info(kari)
    return b"".join((plan.head, ephemeral, plan.mid, wrapped))
