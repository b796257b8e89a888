"""Reading and writing CMS SignedData (RFC 5652 §5) and its signed attributes (§11).

Values: :class:`SignedData` (ContentInfo around SignedData, §3 and §5.1), with the
encapsulated content (§5.2; absent when the signature is detached), the carried
certificates as DER, and one :class:`SignerInfo` per signer (§5.3), whose signed
attributes stay the octets that arrived: the signature covers their DER encoding
under the SET OF tag (§5.4), so they are never re-encoded before verification.

:func:`parse_signed_data` reads the shapes we and ``openssl cms`` write (DER, or the
stream shape of indefinite lengths around the content) with the in-memory reader of
tlv.py (:func:`read_signed_data`, which also gives where the content lies, so that a
decrypted message is verified without a copy of its body), and any other BER through
asn1crypto (:func:`parse_general`, the general reader, as in reference.py): both read
what the fast path accepts to the same value. :func:`parse_attributes` reads the
signed attributes with the strict DER reader of tlv.py and refuses anything that is
not DER (§5.3: "DER encoded"), SET OF elements out of order included (X.690 §11.6).
The writers produce DER, or for an encapsulated content written as a stream, BER
with indefinite lengths around the content (:func:`serialize_stream_head` and
:func:`serialize_stream_tail`), as ``openssl cms -stream`` does, since the
signatures' lengths are unknown up front.

Time values (§11.3): UTCTime for 1950 through 2049, GeneralizedTime otherwise, both
in UTC with seconds and no fraction.

A codec: it never signs, hashes, draws randomness or opens files.

Left out: attribute certificates and other certificate choices (skipped when read,
never written), CRLs, unsigned attributes (read past), countersignatures.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
from collections.abc import Iterable
from typing import Any, Final

from ..errors import ASN1Error
from . import der, oids, reference, tlv
from .asn1 import der_int, der_oid, der_tlv, serialize_algorithm_identifier, set_of
from .structures import AlgorithmIdentifier, RecipientId

__all__ = [
    "Attribute",
    "SignedData",
    "SignerInfo",
    "attribute_values",
    "decode_time",
    "element",
    "encode_time",
    "parse_attributes",
    "parse_general",
    "parse_signed_data",
    "read_signed_data",
    "serialize_attribute",
    "serialize_attributes",
    "serialize_signed_data",
    "serialize_signer_info",
    "serialize_stream_head",
    "serialize_stream_tail",
    "signed_data_version",
]

#: Deepest nesting read inside signed attributes; real ones nest four levels.
_MAX_ATTRIBUTE_DEPTH: Final = 16
#: Constructed universal tags DER allows: SEQUENCE and SET (X.690 §10.2: strings
#: are primitive).
_CONSTRUCTED_UNIVERSAL: Final = frozenset({0x30, 0x31})
_UTC_TIME: Final = 0x17
_GENERALIZED_TIME: Final = 0x18


@dataclasses.dataclass(frozen=True, slots=True)
class Attribute:
    """Attribute (RFC 5652 §5.3): its type and the DER of each value."""

    attr_type: str
    values: tuple[bytes, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class SignerInfo:
    """SignerInfo (RFC 5652 §5.3).

    Attributes:
        version: 1 (issuerAndSerialNumber) or 3 (subjectKeyIdentifier).
        sid: the signer's certificate, as a RecipientId (the same two choices).
        digest_algorithm: the hash of the content.
        signed_attrs: the SignedAttributes as the signature covers them: the SET
            OF tag (0x31), then the length and content octets as received; None
            when absent.
        signature_algorithm: the signature algorithm and its parameters.
        signature: the signature value.
    """

    version: int
    sid: RecipientId
    digest_algorithm: AlgorithmIdentifier
    signed_attrs: bytes | None
    signature_algorithm: AlgorithmIdentifier
    signature: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class SignedData:
    """SignedData (RFC 5652 §5.1) from its ContentInfo.

    Attributes:
        version: 1 or 3 (see :func:`signed_data_version`).
        digest_algorithms: the hashes the signers used, for one pass over the
            content.
        econtent_type: eContentType of the encapsulated content.
        econtent: the content, or None when detached.
        certificates: the carried X.509 certificates, DER.
        signer_infos: one per signer.
    """

    version: int
    digest_algorithms: tuple[AlgorithmIdentifier, ...]
    econtent_type: str
    econtent: bytes | None
    certificates: tuple[bytes, ...]
    signer_infos: tuple[SignerInfo, ...]


# --- Reading ----------------------------------------------------------------------


def _alg(value: Any) -> AlgorithmIdentifier:
    params = value["parameters"]
    raw = None if params.__class__.__name__ == "Void" else params.dump()
    return AlgorithmIdentifier(value["algorithm"].dotted, raw)


def _int_version(value: Any) -> int:
    if not value.contents:
        raise ASN1Error("malformed CMS version: an empty INTEGER")
    return int.from_bytes(value.contents, "big", signed=True)


def _sid(choice: Any) -> RecipientId:
    if choice.name == "issuer_and_serial_number":
        chosen = choice.chosen
        return RecipientId(
            issuer=chosen["issuer"].dump(), serial_number=chosen["serial_number"].native
        )
    return RecipientId(subject_key_identifier=bytes(choice.chosen.native))


def _signer_info(info: Any) -> SignerInfo:
    attrs = info["signed_attrs"]
    signed_attrs = None
    if attrs.__class__.__name__ != "Void":
        # The [0] IMPLICIT tag replaced by SET OF's, as the signature covers it.
        signed_attrs = der_tlv(0x31, attrs.contents)
    return SignerInfo(
        version=_int_version(info["version"]),
        sid=_sid(info["sid"]),
        digest_algorithm=_alg(info["digest_algorithm"]),
        signed_attrs=signed_attrs,
        signature_algorithm=_alg(info["signature_algorithm"]),
        signature=bytes(info["signature"].native),
    )


#: Deepest nesting of constructed OCTET STRINGs read around a content.
_MAX_CHUNK_DEPTH: Final = 8


def _collect_chunks(
    buf: bytes, pos: int, end: int, out: list[bytes], depth: int
) -> int:
    """Append the primitive segments of the OCTET STRING encodings in
    ``buf[pos:end]`` to ``out`` (X.690 §8.7.3: a constructed string is the
    concatenation of its segments); returns where reading stopped, after an
    end-of-contents when one ends the run."""
    if depth > _MAX_CHUNK_DEPTH:
        raise ASN1Error("the content's OCTET STRING nests too deeply")
    while pos < end:
        if pos + 2 > end:
            raise ASN1Error("truncated OCTET STRING segment")
        tag, first = buf[pos], buf[pos + 1]
        if tag == 0 and first == 0:
            return pos + 2
        if first == 0x80:
            if tag != 0x24:
                raise ASN1Error("an indefinite length on a primitive segment")
            pos = _collect_chunks(buf, pos + 2, end, out, depth + 1)
            continue
        if first < 0x80:
            start, length = pos + 2, first
        else:
            count = first & 0x7F
            start = pos + 2 + count
            if count > 4 or start > end:
                raise ASN1Error("bad length on an OCTET STRING segment")
            length = int.from_bytes(buf[pos + 2 : start], "big")
        stop = start + length
        if stop > end:
            raise ASN1Error("an OCTET STRING segment runs past its container")
        if tag == 0x04:
            out.append(buf[start:stop])
        elif tag == 0x24:
            _collect_chunks(buf, start, stop, out, depth + 1)
        else:
            raise ASN1Error(f"tag 0x{tag:02x} inside a constructed OCTET STRING")
        pos = stop
    return pos


def _octets(value: Any) -> bytes:
    """The octets of the eContent OCTET STRING, primitive or constructed (BER),
    joined once: asn1crypto's own merge appends segment by segment, which is
    quadratic in their number (a 16 MiB content in 64 KiB segments took most of
    a second)."""
    if value.method == 0:
        return bytes(value.contents)
    pieces: list[bytes] = []
    _collect_chunks(bytes(value.contents), 0, len(value.contents), pieces, 0)
    return b"".join(pieces)


def _convert(content_info: Any, max_signers: int) -> SignedData:
    if content_info["content_type"].dotted != oids.SIGNED_DATA:
        raise ASN1Error(
            "not CMS SignedData: the content type is "
            f"{content_info['content_type'].dotted}"
        )
    sd = content_info["content"]
    encap = sd["encap_content_info"]
    content = encap["content"]
    econtent = None
    if content.__class__.__name__ != "Void":
        econtent = _octets(content)
    certificates = []
    if sd["certificates"].__class__.__name__ != "Void":
        for choice in sd["certificates"]:
            if choice.name == "certificate":
                certificates.append(choice.chosen.dump())
    infos = sd["signer_infos"]
    if len(infos) > max_signers:
        raise ASN1Error(
            f"the signed data has {len(infos)} signers, more than the policy limit "
            f"of {max_signers}"
        )
    return SignedData(
        version=_int_version(sd["version"]),
        digest_algorithms=tuple(_alg(a) for a in sd["digest_algorithms"]),
        econtent_type=encap["content_type"].dotted,
        econtent=econtent,
        certificates=tuple(certificates),
        signer_infos=tuple(_signer_info(i) for i in infos),
    )


def parse_signed_data(data: tlv.Buffer, *, max_signers: int) -> SignedData:
    """Read a ContentInfo holding SignedData, BER or DER.

    The shapes we and OpenSSL write are read by :func:`read_signed_data` where
    ``data`` lies; any other goes to asn1crypto (through a copy as bytes when
    ``data`` is not bytes already).

    Args:
        data: the ContentInfo.
        max_signers: the most SignerInfos read (a policy bound).

    Raises:
        ASN1Error: malformed, not SignedData, or too many signers.
    """
    fast = read_signed_data(data, max_signers=max_signers)
    if fast is not None:
        sd, spans = fast
        if spans is None:
            return sd
        view = memoryview(data)
        with view:
            content = b"".join([view[s:e] for s, e in spans])
        return dataclasses.replace(sd, econtent=content)
    return parse_general(bytes(data), max_signers=max_signers)


def parse_general(data: bytes, *, max_signers: int) -> SignedData:
    """:func:`parse_signed_data` through asn1crypto alone, whatever the shape."""
    from asn1crypto import cms

    cut = _cut_streamed_content(data)
    try:
        if cut is not None:
            skeleton, content = cut
            sd = _convert(cms.ContentInfo.load(skeleton, strict=True), max_signers)
            return dataclasses.replace(sd, econtent=content)
        parsed = cms.ContentInfo.load(data, strict=True)
        return _convert(parsed, max_signers)
    except reference.ASN1CRYPTO_ERRORS as exc:
        raise ASN1Error(f"malformed CMS SignedData: {exc}") from None


# --- The shapes we and OpenSSL write, read without asn1crypto -----------------------

#: The content octets of id-signedData and id-data (RFC 5652 §5.1, §4).
_SIGNED_DATA_OID: Final = bytes.fromhex("2a864886f70d010702")
_DATA_OID: Final = bytes.fromhex("2a864886f70d010701")
#: Opens ContentInfo, its [0] and SignedData, all of indefinite length, after the
#: content type: ``openssl cms -stream`` and serialize_stream_head.
_STREAM_OPEN: Final = b"\xa0\x80\x30\x80"
#: Opens EncapsulatedContentInfo's [0] and its constructed OCTET STRING, both of
#: indefinite length.
_STREAM_CONTENT: Final = b"\xa0\x80\x24\x80"
#: Most content segments read from one stream-shaped SignedData (16 MiB in 4 KiB
#: segments, as OpenSSL writes them, is 4096).
_MAX_SEGMENTS: Final = 1 << 20

Spans = list[tuple[int, int]]


#: Longest AlgorithmIdentifier memoized (the cache holds at most 64 of them).
_MEMO_ALGORITHM_BYTES: Final = 128
_memo_algorithm = functools.lru_cache(maxsize=64)(der.algorithm_identifier)


def _algorithm_at(
    buf: tlv.Buffer, pos: int, end: int
) -> tuple[AlgorithmIdentifier, int]:
    _, stop = tlv.expect(buf, pos, end, 0x30)
    raw = bytes(buf[pos:stop])
    if stop - pos > _MEMO_ALGORITHM_BYTES:
        found = der.algorithm_identifier(raw)
    else:  # the same few come with every message
        found = _memo_algorithm(raw)
    if found is None:
        raise tlv.Decline
    return found, stop


def _fast_sid(buf: tlv.Buffer, pos: int, end: int) -> tuple[RecipientId, int]:
    tag, start, stop = tlv.element(buf, pos, end)
    if tag == 0x80:  # [0] IMPLICIT SubjectKeyIdentifier
        return RecipientId(subject_key_identifier=bytes(buf[start:stop])), stop
    if tag != 0x30:
        raise tlv.Decline
    _, issuer_stop = tlv.expect(buf, start, stop, 0x30)
    serial_start = tlv.expect_last(buf, issuer_stop, stop, 0x02)
    serial = tlv.integer(buf, serial_start, stop)
    return RecipientId(issuer=bytes(buf[start:issuer_stop]), serial_number=serial), stop


def _fast_signer_info(buf: tlv.Buffer, pos: int, end: int) -> tuple[SignerInfo, int]:
    start, stop = tlv.expect(buf, pos, end, 0x30)
    s, e = tlv.expect(buf, start, stop, 0x02)
    version = tlv.integer(buf, s, e)
    sid, at = _fast_sid(buf, e, stop)
    digest_algorithm, at = _algorithm_at(buf, at, stop)
    signed_attrs = None
    if at < stop and buf[at] == 0xA0:
        _, attrs_stop = tlv.expect(buf, at, stop, 0xA0)
        # The [0] IMPLICIT tag replaced by SET OF's, as the signature covers it
        # (the length octets are DER already: tlv.element declines others).
        signed_attrs = b"\x31" + bytes(buf[at + 1 : attrs_stop])
        at = attrs_stop
    signature_algorithm, at = _algorithm_at(buf, at, stop)
    s, at = tlv.expect(buf, at, stop, 0x04)
    value = bytes(buf[s:at])
    if at < stop:
        # [1] IMPLICIT UnsignedAttributes: read past (see the module docstring).
        tlv.expect_last(buf, at, stop, 0xA1)
    return (
        SignerInfo(
            version, sid, digest_algorithm, signed_attrs, signature_algorithm, value
        ),
        stop,
    )


def _fast_rest(
    buf: tlv.Buffer, pos: int, end: int, max_signers: int
) -> tuple[tuple[bytes, ...], tuple[SignerInfo, ...]]:
    """The certificates and SignerInfos that close SignedData in ``buf[pos:end]``."""
    certificates = []
    if pos < end and buf[pos] == 0xA0:
        # [0] IMPLICIT CertificateSet: plain certificates only (other choices and
        # CRLs are left to the general reader).
        start, pos = tlv.expect(buf, pos, end, 0xA0)
        while start < pos:
            _, stop = tlv.expect(buf, start, pos, 0x30)
            certificates.append(bytes(buf[start:stop]))
            start = stop
    at = tlv.expect_last(buf, pos, end, 0x31)
    infos: list[SignerInfo] = []
    while at < end:
        if len(infos) == max_signers:
            raise tlv.Decline  # the general reader says how many there are
        info, at = _fast_signer_info(buf, at, end)
        infos.append(info)
    return tuple(certificates), tuple(infos)


def _fast_head(
    buf: tlv.Buffer, pos: int, end: int
) -> tuple[int, tuple[AlgorithmIdentifier, ...], int]:
    """(version, digestAlgorithms, the position after them) of SignedData."""
    s, e = tlv.expect(buf, pos, end, 0x02)
    version = tlv.integer(buf, s, e)
    at, stop = tlv.expect(buf, e, end, 0x31)
    algorithms = []
    while at < stop:
        found, at = _algorithm_at(buf, at, stop)
        algorithms.append(found)
    return version, tuple(algorithms), stop


def _content_type(buf: tlv.Buffer, pos: int, end: int) -> int:
    """The position after eContentType at ``pos``, which must be id-data (any
    other content is left to the general reader)."""
    s, e = tlv.expect(buf, pos, end, 0x06)
    if buf[s:e] != _DATA_OID:
        raise tlv.Decline
    return e


def _fast_der(buf: tlv.Buffer, max_signers: int) -> tuple[SignedData, Spans | None]:
    end = len(buf)
    pos = tlv.expect_last(buf, 0, end, 0x30)
    s, pos = tlv.expect(buf, pos, end, 0x06)
    if buf[s:pos] != _SIGNED_DATA_OID:
        raise tlv.Decline
    pos = tlv.expect_last(buf, pos, end, 0xA0)
    pos = tlv.expect_last(buf, pos, end, 0x30)
    version, algorithms, pos = _fast_head(buf, pos, end)
    start, pos = tlv.expect(buf, pos, end, 0x30)  # EncapsulatedContentInfo
    at = _content_type(buf, start, pos)
    spans: Spans | None = None
    if at < pos:
        at = tlv.expect_last(buf, at, pos, 0xA0)
        s = tlv.expect_last(buf, at, pos, 0x04)
        spans = [(s, pos)]
    certificates, infos = _fast_rest(buf, pos, end, max_signers)
    sd = SignedData(version, algorithms, oids.DATA, None, certificates, infos)
    return sd, spans


def _fast_stream(buf: tlv.Buffer, max_signers: int) -> tuple[SignedData, Spans | None]:
    """The stream shape: see :func:`_cut_streamed_content`."""
    end = len(buf)
    s, pos = tlv.expect(buf, 2, end, 0x06)
    if buf[s:pos] != _SIGNED_DATA_OID or buf[pos : pos + 4] != _STREAM_OPEN:
        raise tlv.Decline
    # The three indefinite lengths opened so far close at the very end.
    if end < 6 or buf[end - 6 : end] != tlv.EOC * 3:
        raise tlv.Decline
    end -= 6
    version, algorithms, pos = _fast_head(buf, pos + 4, end)
    if buf[pos : pos + 2] != b"\x30\x80":
        raise tlv.Decline
    pos = _content_type(buf, pos + 2, end)
    if buf[pos : pos + 4] != _STREAM_CONTENT:
        raise tlv.Decline
    pos += 4
    spans: Spans = []
    while buf[pos : pos + 2] != tlv.EOC:
        if len(spans) == _MAX_SEGMENTS:
            raise tlv.Decline
        tag, s, pos = tlv.element(buf, pos, end)
        if tag != 0x04:
            raise tlv.Decline  # nested segments: the general reader
        spans.append((s, pos))
    # The OCTET STRING's end, then [0]'s and EncapsulatedContentInfo's.
    if buf[pos : pos + 6] != tlv.EOC * 3:
        raise tlv.Decline
    certificates, infos = _fast_rest(buf, pos + 6, end, max_signers)
    sd = SignedData(version, algorithms, oids.DATA, None, certificates, infos)
    return sd, spans


def read_signed_data(
    buf: tlv.Buffer, *, max_signers: int
) -> tuple[SignedData, Spans | None] | None:
    """SignedData of the shapes we and ``openssl cms`` write, read in place.

    Two shapes: DER throughout with the content one primitive OCTET STRING, or
    the stream shape (ContentInfo, SignedData, EncapsulatedContentInfo and eContent
    of indefinite length, the content in primitive segments, the rest DER), either
    with eContentType id-data, plain certificates and no CRLs. Returns the
    SignedData without its content (``econtent`` None) and where the content's
    octets are in ``buf`` ((start, end) of each segment, in order; None when the
    signature is detached); the caller hashes or joins them without a copy of
    ``buf``. None for anything else, which :func:`parse_signed_data` leaves to
    asn1crypto: whatever is read here, asn1crypto reads to the same value.
    """
    try:
        if buf[:2] == b"\x30\x80":
            return _fast_stream(buf, max_signers)
        return _fast_der(buf, max_signers)
    except tlv.Decline:
        return None


def _skip(buf: bytes, pos: int, tag: int) -> int:
    """The position after the definite-length element with ``tag`` at ``pos``."""
    if pos + 2 > len(buf) or buf[pos] != tag or buf[pos + 1] == 0x80:
        raise tlv.Decline
    first = buf[pos + 1]
    if first < 0x80:
        return pos + 2 + first
    count = first & 0x7F
    if count > 4:
        raise tlv.Decline
    return pos + 2 + count + int.from_bytes(buf[pos + 2 : pos + 2 + count], "big")


def _cut_streamed_content(data: bytes) -> tuple[bytes, bytes] | None:
    """(the ContentInfo without its eContent, the content) for SignedData written
    as a stream (ContentInfo, [0], SignedData, EncapsulatedContentInfo and eContent
    all of indefinite length, as serialize_stream_head and ``openssl cms -stream``
    write them); None for any other shape, which asn1crypto reads whole.

    asn1crypto re-slices an indefinite-length value at every level it descends,
    several copies of a large content; here the content's segments are joined once
    and the rest, a few kilobytes, is parsed. eContent is OPTIONAL (RFC 5652 §5.2):
    the skeleton without it is still a SignedData, and the verdict on it is computed
    from the content given back beside it.
    """
    try:
        if data[:2] != b"\x30\x80":
            return None
        pos = _skip(data, 2, 0x06)
        if data[pos : pos + 4] != b"\xa0\x80\x30\x80":
            return None
        pos = _skip(data, pos + 4, 0x02)  # version
        pos = _skip(data, pos, 0x31)  # digestAlgorithms
        if data[pos : pos + 2] != b"\x30\x80":
            return None
        pos = _skip(data, pos + 2, 0x06)  # eContentType
        if data[pos : pos + 2] != b"\xa0\x80":
            return None
        start = pos
        pieces: list[bytes] = []
        # The [0] holds exactly one OCTET STRING, here constructed and of
        # indefinite length: its segments, then end-of-contents.
        if data[pos + 2 : pos + 4] != b"\x24\x80":
            return None
        stop = _collect_chunks(data, pos + 4, len(data), pieces, 1)
        if data[stop - 2 : stop] != tlv.EOC:
            return None
    except (tlv.Decline, ASN1Error):
        return None
    if data[stop : stop + 2] != tlv.EOC:
        return None
    return data[:start] + data[stop + 2 :], b"".join(pieces)


def _check_der(buf: bytes, pos: int, end: int, depth: int, *, ordered: bool) -> None:
    """Raise tlv.Decline unless ``buf[pos:end]`` is a run of DER elements, in
    ascending order of their encodings when ``ordered`` (a SET OF, X.690 §11.6)."""
    if depth > _MAX_ATTRIBUTE_DEPTH:
        raise tlv.Decline
    previous = b""
    while pos < end:
        tag, start, stop = tlv.element(buf, pos, end)
        if tag & 0x20:
            if tag < 0x40 and tag not in _CONSTRUCTED_UNIVERSAL:
                raise tlv.Decline  # a constructed string (X.690 §10.2)
            _check_der(buf, start, stop, depth + 1, ordered=tag == 0x31)
        elif tag == 0x01 and buf[start:stop] not in (b"\x00", b"\xff"):
            raise tlv.Decline  # X.690 §11.1
        elif tag == 0x02:
            tlv.integer(buf, start, stop)
        if ordered:
            if buf[pos:stop] < previous:
                raise tlv.Decline
            previous = buf[pos:stop]
        pos = stop


def parse_attributes(der: bytes) -> tuple[Attribute, ...]:
    """Read SignedAttributes (a SET OF Attribute, tag 0x31) that must be DER.

    Raises:
        ASN1Error: not DER (lengths, order of SET OF elements, constructed strings),
            or not a non-empty SET OF Attribute with non-empty value sets.
    """
    try:
        start = tlv.expect_last(der, 0, len(der), 0x31)
        attributes = []
        previous = b""
        pos = start
        while pos < len(der):
            _, stop = tlv.expect(der, pos, len(der), 0x30)
            element = bytes(der[pos:stop])
            if element < previous:
                raise tlv.Decline  # SET OF out of order (X.690 §11.6)
            previous = element
            if len(element) > _MEMO_ATTRIBUTE_BYTES:
                attributes.append(_attribute(element))
            else:
                attributes.append(_memo_attribute(element))
            pos = stop
    except tlv.Decline:
        raise ASN1Error("the signed attributes are not DER (RFC 5652 §5.3)") from None
    if not attributes:
        raise ASN1Error("the signed attributes are empty (RFC 5652 §5.3)")
    return tuple(attributes)


def _attribute(der: bytes) -> Attribute:
    """One Attribute (a whole SEQUENCE element), checked to be DER.

    Raises:
        tlv.Decline: not DER, or not an Attribute with at least one value.
    """
    # Depth 1: the element sits inside the SET OF (as when the set is checked whole).
    _check_der(der, 0, len(der), 1, ordered=False)
    body, stop = tlv.expect(der, 0, len(der), 0x30)
    oid_start, oid_stop = tlv.expect(der, body, stop, 0x06)
    values_start = tlv.expect_last(der, oid_stop, stop, 0x31)
    values = []
    at = values_start
    while at < stop:
        _, _, end = tlv.element(der, at, stop)
        values.append(der[at:end])
        at = end
    if not values:
        raise tlv.Decline
    return Attribute(tlv.decode_oid(der[oid_start:oid_stop]), tuple(values))


#: Longest Attribute memoized: the content type, the S/MIME capabilities and the
#: algorithm protection come back unchanged with every message of a signer.
_MEMO_ATTRIBUTE_BYTES: Final = 512
_memo_attribute = functools.lru_cache(maxsize=256)(_attribute)


def attribute_values(attributes: Iterable[Attribute], attr_type: str) -> list[bytes]:
    """The values of every attribute of ``attr_type``, in order."""
    return [v for a in attributes if a.attr_type == attr_type for v in a.values]


def element(tag: int, content: bytes) -> bytes:
    """``der_tlv`` with the short lengths of a SignedData's elements written
    inline: a signature writes some twenty of them per message."""
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    if n < 0x100:
        return bytes((tag, 0x81, n)) + content
    if n < 0x10000:
        return bytes((tag, 0x82, n >> 8, n & 0xFF)) + content
    return der_tlv(tag, content)


def encode_time(moment: datetime.datetime) -> bytes:
    """A Time value (RFC 5652 §11.3): UTCTime for 1950-2049, else GeneralizedTime."""
    utc = moment.astimezone(datetime.UTC)
    rest = f"{utc.month:02}{utc.day:02}{utc.hour:02}{utc.minute:02}{utc.second:02}Z"
    if 1950 <= utc.year <= 2049:
        return element(_UTC_TIME, f"{utc.year % 100:02}{rest}".encode("ascii"))
    return element(_GENERALIZED_TIME, f"{utc.year:04}{rest}".encode("ascii"))


def decode_time(der: bytes) -> datetime.datetime:
    """A Time value as an aware UTC datetime.

    Raises:
        ASN1Error: not a UTCTime or GeneralizedTime in the DER form (RFC 5280
            §4.1.2.5.1 and §4.1.2.5.2: seconds present, "Z", no fraction).
    """
    try:
        tag, start, stop = tlv.element(der, 0, len(der))
    except tlv.Decline:
        raise ASN1Error("malformed signing time") from None
    text = bytes(der[start:stop])
    if stop != len(der) or not text.endswith(b"Z") or not text[:-1].isdigit():
        raise ASN1Error("malformed signing time")
    if tag == _UTC_TIME and len(text) == 13:
        year = int(text[:2])
        year += 1900 if year >= 50 else 2000  # RFC 5280 §4.1.2.5.1
        rest = text[2:]
    elif tag == _GENERALIZED_TIME and len(text) == 15:
        year = int(text[:4])
        rest = text[4:]
    else:
        raise ASN1Error("malformed signing time")
    # Month, day, hours, minutes, seconds: two digits each (strptime costs more
    # than the rest of a signature's checks).
    month, day, hour, minute, second = (int(rest[i : i + 2]) for i in range(0, 10, 2))
    try:
        return datetime.datetime(
            year, month, day, hour, minute, second, tzinfo=datetime.UTC
        )
    except ValueError:
        raise ASN1Error("malformed signing time") from None


# --- Writing ----------------------------------------------------------------------


def serialize_attributes(attributes: Iterable[Attribute]) -> bytes:
    """SignedAttributes DER: the SET OF in DER order, tag 0x31 (RFC 5652 §5.4)."""
    return set_of(serialize_attribute(a) for a in attributes)


def serialize_attribute(attribute: Attribute) -> bytes:
    """One Attribute, DER (an element of SignedAttributes)."""
    values = element(0x31, b"".join(sorted(attribute.values)))  # SET OF, X.690 §11.6
    return element(0x30, der_oid(attribute.attr_type) + values)


@functools.lru_cache(maxsize=256)
def _signer_info_head(
    version: int, sid: RecipientId, digest_algorithm: AlgorithmIdentifier
) -> bytes:
    """What opens a SignerInfo: the same for every message of a signer."""
    return (
        der_int(version)
        + _serialize_sid(sid)
        + serialize_algorithm_identifier(digest_algorithm)
    )


def _serialize_sid(sid: RecipientId) -> bytes:
    if sid.subject_key_identifier is not None:
        return element(0x80, sid.subject_key_identifier)
    if sid.issuer is None or sid.serial_number is None:
        raise ValueError("SignerIdentifier needs issuer and serial, or an SKI")
    return element(0x30, sid.issuer + der_int(sid.serial_number))


def serialize_signer_info(info: SignerInfo) -> bytes:
    """One SignerInfo, DER; its signed attributes as given (already DER)."""
    parts = [_signer_info_head(info.version, info.sid, info.digest_algorithm)]
    if info.signed_attrs is not None:
        # [0] IMPLICIT SignedAttributes (RFC 5652 §5.3).
        parts.append(b"\xa0" + info.signed_attrs[1:])
    parts.append(serialize_algorithm_identifier(info.signature_algorithm))
    parts.append(element(0x04, info.signature))
    return element(0x30, b"".join(parts))


def signed_data_version(econtent_type: str, signer_versions: Iterable[int]) -> int:
    """SignedData's version (RFC 5652 §5.1) for plain certificates and no CRLs: 3
    when a SignerInfo is version 3 or the content is not id-data, else 1."""
    if econtent_type != oids.DATA or any(v == 3 for v in signer_versions):
        return 3
    return 1


# The digest algorithms and the certificates are a signer's own, the same in every
# message: encoded once (bounded caches of immutable bytes).


@functools.lru_cache(maxsize=64)
def _digest_algorithm_set(algorithms: tuple[AlgorithmIdentifier, ...]) -> bytes:
    return set_of(dict.fromkeys(serialize_algorithm_identifier(a) for a in algorithms))


@functools.lru_cache(maxsize=64)
def _certificate_set(certificates: tuple[bytes, ...]) -> bytes:
    # [0] IMPLICIT CertificateSet (RFC 5652 §5.1).
    return b"\xa0" + set_of(certificates)[1:]


def _digest_algorithms(sd: SignedData) -> bytes:
    return _digest_algorithm_set(sd.digest_algorithms)


def _certificates_and_signers(sd: SignedData) -> bytes:
    out = _certificate_set(sd.certificates) if sd.certificates else b""
    infos = sorted(serialize_signer_info(i) for i in sd.signer_infos)
    return out + element(0x31, b"".join(infos))  # SET OF, X.690 §11.6


def serialize_signed_data(sd: SignedData) -> bytes:
    """The ContentInfo around ``sd``, DER."""
    encap = der_oid(sd.econtent_type)
    if sd.econtent is not None:
        encap += element(0xA0, element(0x04, sd.econtent))
    body = (
        der_int(sd.version)
        + _digest_algorithms(sd)
        + element(0x30, encap)
        + _certificates_and_signers(sd)
    )
    return element(0x30, der_oid(oids.SIGNED_DATA) + element(0xA0, element(0x30, body)))


def serialize_stream_head(sd: SignedData) -> bytes:
    """What precedes an encapsulated content written as a stream (BER): the
    ContentInfo, SignedData and EncapsulatedContentInfo opened with indefinite
    lengths, and the eContent's constructed OCTET STRING opened. Each content chunk
    then follows as one primitive OCTET STRING (``der_tlv(0x04, chunk)``), and
    :func:`serialize_stream_tail` closes it all. ``sd.econtent`` and
    ``sd.signer_infos`` are not used here."""
    return (
        b"\x30\x80"
        + der_oid(oids.SIGNED_DATA)
        + b"\xa0\x80\x30\x80"
        + der_int(sd.version)
        + _digest_algorithms(sd)
        + b"\x30\x80"
        + der_oid(sd.econtent_type)
        + b"\xa0\x80\x24\x80"
    )


def serialize_stream_tail(sd: SignedData) -> bytes:
    """What follows the content's last chunk (see :func:`serialize_stream_head`):
    the end-of-contents octets, the certificates, the SignerInfos and the rest."""
    return tlv.EOC * 3 + _certificates_and_signers(sd) + tlv.EOC * 3
