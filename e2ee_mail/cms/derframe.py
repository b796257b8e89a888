"""The framing of a whole DER message held in memory, read without a stream.

The bytes API gets the message as one buffer; walking it with the stream reader
(framing.py) costs dozens of small reads per message, a measurable part of the
per-message cost. This reads the same layout (RFC 5652 §3 ContentInfo around RFC 5083
§2.1 AuthEnvelopedData or RFC 5652 §6.1 EnvelopedData, encryptedContent as one
primitive [0]) straight from the buffer, in DER only, with the in-memory reader of
tlv.py.

It is only a shortcut: it returns None for anything else (BER, segmented content,
a body over the policy's header budget, malformed input...) and the caller then runs
framing.EnvelopeReader, which decides. What this accepts, the reader reads to the
same header, segment and trailer (tests/unit/test_cms_derframe.py compares them).

A codec: no cryptography, no randomness, no files opened.
"""

from __future__ import annotations

from typing import Final

from ..policy import Policy
from . import asn1, oids, structures
from .framing import EnvelopeHeader, Trailer
from .tlv import Buffer, Decline, decode_oid, element, expect, expect_last

__all__ = ["parse"]

_AUTH_ENVELOPED: Final = asn1.der_oid(oids.AUTH_ENVELOPED_DATA)[2:]
_ENVELOPED: Final = asn1.der_oid(oids.ENVELOPED_DATA)[2:]
_VERSION_0: Final = b"\x02\x01\x00"
# After ContentInfo's "30 82 LL LL": the content type, "[0] 82 LL LL", the
# AuthEnvelopedData "30 82 LL LL" and version 0, with the three lengths in the holes.
_AED_HEAD: Final = b"\x06\x0b" + _AUTH_ENVELOPED + b"\xa0\x82"
_AED_HEAD_END: Final = 28
# AlgorithmIdentifier { id-aes256-GCM, GCMParameters { OCTET STRING (12), 16 } }
# (RFC 5084 §3.2): what comes before and after the nonce.
_GCM_ALG: Final = asn1.serialize_algorithm_identifier(
    structures.AlgorithmIdentifier(
        oids.AES256_GCM,
        asn1.serialize_gcm_parameters(structures.GCMParameters(bytes(12), 16)),
    )
)
_GCM_ALG_HEAD: Final = _GCM_ALG[:-15]
_GCM_ALG_TAIL: Final = _GCM_ALG[-3:]
_GCM_PARAMS_AT: Final = len(asn1.der_oid(oids.AES256_GCM)) + 2
_GCM_ALG_SIZE: Final = len(_GCM_ALG_HEAD) + 12 + len(_GCM_ALG_TAIL)


def parse(
    buf: Buffer, policy: Policy
) -> tuple[EnvelopeHeader, tuple[int, int], Trailer] | None:
    """(header, (content offset, content length), trailer), or None.

    Raises:
        ASN1Error: from the recipient and algorithm codecs, exactly as the stream
            reader would raise them for the same bytes.
    """
    try:
        return _parse(buf, policy)
    except Decline:
        return None


def _parse(
    buf: Buffer, policy: Policy
) -> tuple[EnvelopeHeader, tuple[int, int], Trailer]:
    total = len(buf)
    budget = policy.max_header_bytes
    if (
        buf[:2] == b"\x30\x82"
        and buf[4:19] == _AED_HEAD
        and buf[21:23] == b"\x30\x82"
        and buf[25:_AED_HEAD_END] == _VERSION_0
        and (buf[2] << 8 | buf[3]) == total - 4
        and (buf[19] << 8 | buf[20]) == total - 21
        and (buf[23] << 8 | buf[24]) == total - 25
        and buf[23]
    ):
        # AuthEnvelopedData version 0 with two-octet lengths that end together at
        # the end of the input (every message from about 300 bytes to 64 KiB): the
        # same checks as the general reading below, as one comparison. The innermost
        # length is the shortest, so a non-zero first octet makes all three minimal.
        content_type = oids.AUTH_ENVELOPED_DATA
        version = _VERSION_0
        pos = _AED_HEAD_END
    else:
        content_type, version, pos = _outer(buf, total)
    tag, start, stop = element(buf, pos, total)
    originator_info = b""
    if tag == 0xA0:
        originator_info = bytes(buf[pos:stop])
        pos = stop
        tag, start, stop = element(buf, pos, total)
    if tag != 0x31:
        raise Decline
    ris_der = bytes(buf[pos:stop])
    eci_offset = stop
    eci_start, eci_end = expect(buf, eci_offset, total, 0x30)
    tag, start, stop = element(buf, eci_start, eci_end)
    if tag != 0x06 or buf[eci_start + 1] >= 0x80 or stop - start < 1:
        raise Decline
    if stop > budget:
        raise Decline  # the reader refuses the header size before the OID
    inner_content_type = decode_oid(bytes(buf[start:stop]))
    alg_start = stop
    _, alg_end = expect(buf, alg_start, eci_end, 0x30)
    content_start, content_end = expect(buf, alg_end, eci_end, 0x80)
    if content_end != eci_end or content_start > budget:
        raise Decline
    if total - content_end > budget:
        raise Decline
    trailer = _trailer(buf, content_end, total, content_type)
    alg_der = bytes(buf[alg_start:alg_end])
    if (
        len(alg_der) == _GCM_ALG_SIZE
        and alg_der.startswith(_GCM_ALG_HEAD)
        and alg_der.endswith(_GCM_ALG_TAIL)
    ):
        # id-aes256-GCM with a 12-byte nonce and ICVlen 16, as every writer of
        # S/MIME 4.0 sends it: read by comparison, to the general reading's value.
        algorithm = structures.AlgorithmIdentifier(
            oids.AES256_GCM, alg_der[_GCM_PARAMS_AT:]
        )
    else:
        algorithm = asn1.parse_algorithm_identifier(alg_der)
    recipient_infos = asn1.parse_recipient_infos(
        ris_der, max_recipients=policy.max_recipients
    )
    header = EnvelopeHeader(
        content_type=content_type,
        version=version,
        originator_info=originator_info,
        recipient_infos=recipient_infos,
        content_encryption_algorithm=algorithm,
        inner_content_type=inner_content_type,
        eci_offset=eci_offset,
        indefinite=False,
    )
    return header, (content_start, content_end - content_start), trailer


def _outer(buf: Buffer, total: int) -> tuple[str, bytes, int]:
    """ContentInfo, [0] and the enveloped SEQUENCE up to the version, read in
    general: (content type, version element, position after it)."""
    # Each layer ends where the input ends; trailing bytes are declined (the reader
    # names them).
    ci_start = expect_last(buf, 0, total, 0x30)
    oid_start, pos = expect(buf, ci_start, total, 0x06)
    oid = bytes(buf[oid_start:pos])
    if oid == _AUTH_ENVELOPED:
        content_type = oids.AUTH_ENVELOPED_DATA
    elif oid == _ENVELOPED:
        content_type = oids.ENVELOPED_DATA
    else:
        raise Decline
    env_start = expect_last(buf, expect_last(buf, pos, total, 0xA0), total, 0x30)
    tag, _, stop = element(buf, env_start, total)
    if tag != 0x02:
        raise Decline
    return content_type, bytes(buf[env_start:stop]), stop


def _trailer(buf: Buffer, pos: int, end: int, content_type: str) -> Trailer:
    auth_attrs = None
    mac = None
    tag, start, stop = element(buf, pos, end) if pos < end else (-1, end, end)
    if content_type == oids.AUTH_ENVELOPED_DATA:
        if tag == 0xA1:
            auth_attrs = bytes(buf[pos:stop])
            pos = stop
            tag, start, stop = element(buf, pos, end) if pos < end else (-1, end, end)
        if tag != 0x04:
            raise Decline
        mac = bytes(buf[start:stop])
        pos = stop
        tag, start, stop = element(buf, pos, end) if pos < end else (-1, end, end)
        if tag == 0xA2:
            pos = stop
            tag = -1 if pos >= end else 0
    elif tag == 0xA1:
        pos = stop
        tag = -1 if pos >= end else 0
    if tag != -1 or pos != end:
        raise Decline
    return Trailer(auth_attrs=auth_attrs, mac=mac, content_end=end)
