"""Per-recipient DER for writing: each recipient entry built from parts computed once
per certificate (issue 6: per-recipient overhead).

:func:`wrap_der` writes exactly the RecipientInfo (RFC 5652 §6.2) that
``asn1.serialize_recipient_info(recipients.wrap(...))`` writes: KeyTransRecipientInfo
(§6.2.1, RSAES-OAEP-SHA256 or, by policy, PKCS#1 v1.5) or the RFC 8418
KeyAgreeRecipientInfo for X25519. Only the wrapped key (and the X25519 ephemeral key)
differ from message to message; everything around them (version, recipient id,
algorithm identifiers, lengths) is cached per certificate, and the DER is joined
around the fresh values without intermediate objects
(tests/unit/test_cms_recipients.py checks both paths agree).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Final

from cryptography.hazmat.primitives.asymmetric import rsa

from ..core import keywrap
from ..core import rsa as core_rsa
from ..core import x25519 as core_x25519
from ..policy import Policy
from ..x509.certs import X509Certificate
from . import asn1, oids, recipients
from .recipients import KARI_SCHEME, KARI_WRAP, RidKind
from .structures import AlgorithmIdentifier

__all__ = ["wrap_der"]


@dataclasses.dataclass(frozen=True, slots=True)
class _Plan:
    """What :func:`wrap_der` writes for one certificate, apart from the wrapped key.

    For RSA, ``head`` and ``head_pkcs1`` are the KeyTransRecipientInfo content before
    encryptedKey (version, rid, algorithm). For X25519, ``head`` runs up to the
    ephemeral key and ``mid`` from it to the wrapped key (every length is fixed: a
    32-byte ephemeral key and a 40-byte AES-KW of the 32-byte CEK, RFC 3394 §2.2.1).
    """

    rsa_public: rsa.RSAPublicKey | None
    rsa_bits: int
    x25519_public: bytes
    head: bytes
    head_pkcs1: bytes
    mid: bytes


_WRAPPED_CEK_SIZE: Final = 40


@functools.lru_cache(maxsize=1024)
def _plan(cert: X509Certificate, rid_kind: RidKind) -> _Plan:
    public = cert.public_key
    rid = recipients._rid(cert, rid_kind)
    if isinstance(public, rsa.RSAPublicKey):
        version = asn1.der_int(2 if rid.subject_key_identifier is not None else 0)
        rid_der = asn1.serialize_rid(rid, kari=False)
        oaep = AlgorithmIdentifier(
            oids.RSAES_OAEP, asn1.serialize_oaep_parameters(recipients._OAEP_SHA256)
        )
        pkcs1 = AlgorithmIdentifier(oids.RSA_ENCRYPTION, b"\x05\x00")
        return _Plan(
            rsa_public=public,
            rsa_bits=public.key_size,
            x25519_public=b"",
            head=version + rid_der + asn1.serialize_algorithm_identifier(oaep),
            head_pkcs1=version + rid_der + asn1.serialize_algorithm_identifier(pkcs1),
            mid=b"",
        )
    # Cut a template KeyAgreeRecipientInfo around its two variable parts.
    eph_marker = b"\xee" * core_x25519.KEY_SIZE
    wrapped_marker = b"\xdd" * _WRAPPED_CEK_SIZE
    template = asn1.serialize_recipient_info(
        recipients._kari(rid, eph_marker, wrapped_marker)
    )
    eph_at = template.find(eph_marker)
    wrapped_at = template.find(wrapped_marker, eph_at + core_x25519.KEY_SIZE)
    usable = (
        template.count(eph_marker) == 1
        and template.count(wrapped_marker) == 1
        and template.endswith(wrapped_marker)
    )
    return _Plan(
        rsa_public=None,
        rsa_bits=0,
        x25519_public=core_x25519.public_bytes(public),
        # Empty when a marker also occurs in the rid: then no template is used.
        head=template[:eph_at] if usable else b"",
        head_pkcs1=b"",
        mid=template[eph_at + core_x25519.KEY_SIZE : wrapped_at] if usable else b"",
    )


def wrap_der(
    cert: X509Certificate,
    cek: bytes,
    *,
    policy: Policy,
    rid_kind: RidKind = "issuer_and_serial_number",
) -> bytes:
    """Like :func:`wrap`, returning the RecipientInfo's DER (an element of the SET).

    The same entry :func:`serialize_recipient_infos` writes for :func:`wrap`'s
    value, built from per-certificate parts computed once (issue 6: per-recipient
    overhead is the DER and object building around each wrap).

    Raises:
        PolicyError: RSA key below policy.min_rsa_bits.
    """
    plan = _plan(cert, rid_kind)
    if plan.rsa_public is not None:
        if plan.rsa_bits < policy.min_rsa_bits:
            recipients._check_rsa_bits(cert, plan.rsa_bits, policy)
        if policy.allow_rsa_pkcs1v15_encrypt:
            head = plan.head_pkcs1
            encrypted = core_rsa.encrypt_pkcs1v15(plan.rsa_public, cek)
        else:
            head = plan.head
            encrypted = core_rsa.encrypt_oaep(plan.rsa_public, cek)
        return _ktri_der(head, encrypted)
    ephemeral, shared = core_x25519.ephemeral_agree(plan.x25519_public)
    wrapped = keywrap.wrap(recipients._kek(KARI_SCHEME, KARI_WRAP, shared, None), cek)
    if not plan.head or len(wrapped) != _WRAPPED_CEK_SIZE:
        # No template (see _plan), or a CEK other than 32 bytes.
        return asn1.serialize_recipient_info(
            recipients._kari(recipients._rid(cert, rid_kind), ephemeral, wrapped)
        )
    return b"".join((plan.head, ephemeral, plan.mid, wrapped))


@functools.lru_cache(maxsize=1024)
def _ktri_header(head: bytes, encrypted_size: int) -> bytes:
    # Everything before encryptedKey's content: the RSA output always has the
    # modulus' size (RFC 8017 §7.1.1), so this is fixed per certificate.
    content_size = len(head) + len(asn1.der_tlv(0x04, bytes(encrypted_size)))
    return (
        b"\x30"
        + asn1.der_length(content_size)
        + head
        + b"\x04"
        + asn1.der_length(encrypted_size)
    )


def _ktri_der(head: bytes, encrypted: bytes) -> bytes:
    return _ktri_header(head, len(encrypted)) + encrypted
