"""A test-only assembler of AuthEnvelopedData around given recipient entries.

Tests that need entries our writer never makes (other versions, parameters, KEM or
key-agreement shapes, a short tag) build the message here from the entries and the
sealing primitive, through the library's framing writer (``build.build_prefix``),
so that only the entries differ from what the library writes.
"""

from __future__ import annotations

from collections.abc import Sequence

from e2ee_mail.cms import asn1, build, oids, structures
from e2ee_mail.core import aead


def gcm_message(
    infos: Sequence[structures.RecipientInfo],
    cek: bytes,
    body: bytes,
    *,
    params: bytes | None = None,
    tag_len: int = 16,
) -> bytes:
    """AES-256-GCM AuthEnvelopedData of ``body`` under ``cek`` (nonce all zero)
    with the entries ``infos``; ``params`` replaces the GCMParameters, ``tag_len``
    cuts the tag."""
    nonce = bytes(12)
    sealed = aead.gcm_seal(cek, nonce, body)
    ct, tag = sealed[:-16], sealed[-16:][:tag_len]
    if params is None:
        params = asn1.serialize_gcm_parameters(structures.GCMParameters(nonce, 16))
    prefix = build.build_prefix(
        authenticated=True,
        version=asn1.der_int(0),
        originator_info=b"",
        ris_der=asn1.serialize_recipient_infos(infos),
        algorithm=structures.AlgorithmIdentifier(oids.AES256_GCM, params),
        body_length=len(ct),
        tail_length=2 + len(tag),
    )
    return prefix + ct + asn1.der_tlv(0x04, tag)
