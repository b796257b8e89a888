"""The CMS fast paths and the general readers agree on generated envelopes.

Envelopes are generated from their parts: AuthEnvelopedData or EnvelopedData, with or
without originatorInfo, one to four recipient entries of every shape we read
(KeyTransRecipientInfo named by issuerAndSerialNumber or subjectKeyIdentifier,
KeyAgreeRecipientInfo with or without ukm, X25519 or another originator, one to three
recipient keys, KEMRecipientInfo with or without ukm), content algorithms, bodies
from empty to past 64 KiB (every length form), authAttrs, unauthAttrs. On each:

- derframe.parse reads it (it is plain DER) to exactly what the stream reader
  (framing.EnvelopeReader) reads, and the BER form of the same envelope is left to the
  stream reader, which reads the same header from it;
- der.recipient_infos reads the RecipientInfos to exactly what the general reader
  (reference.py, pyasn1) reads, or declines, and reads every entry whose shape it
  knows; either reading serializes back to the same bytes, which pyasn1's encoder
  writes from the same entries too;
- any changed octet gives the same result on both paths, or the fast path declines.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Sequence

from asn1crypto import x509 as asn1_x509
from hypothesis import given, settings
from hypothesis import strategies as st

from e2ee_mail.cms import asn1, build, der, derframe, framing, oids, reference
from e2ee_mail.cms.structures import (
    AlgorithmIdentifier,
    GCMParameters,
    KEMRecipientInfo,
    KeyAgreeRecipientInfo,
    KeyTransRecipientInfo,
    OAEPParameters,
    RecipientEncryptedKey,
    RecipientId,
    RecipientInfo,
)
from e2ee_mail.errors import Error
from e2ee_mail.policy import DEFAULT

_OAEP = AlgorithmIdentifier(
    oids.RSAES_OAEP,
    asn1.serialize_oaep_parameters(OAEPParameters("sha256", "sha256", b"")),
)
_PKCS1 = AlgorithmIdentifier(oids.RSA_ENCRYPTION, b"\x05\x00")
#: An EC originator algorithm (id-ecPublicKey with the P-256 curve as parameters).
_EC_P256 = AlgorithmIdentifier("1.2.840.10045.2.1", asn1.der_oid("1.2.840.10045.3.1.7"))


@st.composite
def _issuer_and_serial(draw: st.DrawFn) -> RecipientId:
    name = asn1_x509.Name.build(
        {"common_name": draw(st.text(min_size=1, max_size=80))}
    ).dump()
    serial = draw(st.integers(-(2**64), 2**160))
    return RecipientId(issuer=name, serial_number=serial)


_RIDS = st.one_of(
    _issuer_and_serial(),
    st.builds(RecipientId, subject_key_identifier=st.binary(min_size=1, max_size=40)),
)


@st.composite
def _ktri(draw: st.DrawFn) -> KeyTransRecipientInfo:
    rid = draw(_RIDS)
    return KeyTransRecipientInfo(
        version=0 if rid.issuer is not None else 2,
        rid=rid,
        key_encryption_algorithm=draw(st.sampled_from([_OAEP, _PKCS1])),
        encrypted_key=draw(st.binary(max_size=600)),
    )


@st.composite
def _kari(draw: st.DrawFn) -> KeyAgreeRecipientInfo:
    wrap = AlgorithmIdentifier(draw(st.sampled_from(sorted(oids.WRAP_KEY_SIZES))))
    scheme = draw(st.sampled_from(sorted(oids.KDF_SCHEMES)))
    x25519 = draw(st.booleans())
    reks = draw(
        st.lists(
            st.builds(RecipientEncryptedKey, _RIDS, st.binary(min_size=1, max_size=56)),
            min_size=1,
            max_size=3,
        )
    )
    return KeyAgreeRecipientInfo(
        version=3,
        originator_algorithm=AlgorithmIdentifier(oids.X25519) if x25519 else _EC_P256,
        originator_public_key=draw(st.binary(min_size=32, max_size=32))
        if x25519
        else b"\x04" + draw(st.binary(min_size=64, max_size=64)),
        ukm=draw(st.none() | st.binary(max_size=64)),
        key_encryption_algorithm=AlgorithmIdentifier(
            scheme, asn1.serialize_algorithm_identifier(wrap)
        ),
        recipient_encrypted_keys=tuple(reks),
    )


_KEMS = [oids.ML_KEM_512, oids.ML_KEM_768, oids.ML_KEM_1024]


@st.composite
def _kemri(draw: st.DrawFn) -> KEMRecipientInfo:
    # RFC 9629 §3; the fields take values outside RFC 9936's set too (other KDFs,
    # parameters, kekLengths), which both readers read alike.
    params = st.sampled_from([None, b"\x05\x00"])
    return KEMRecipientInfo(
        version=draw(st.integers(0, 5)),
        rid=draw(_RIDS),
        kem=AlgorithmIdentifier(draw(st.sampled_from(_KEMS)), draw(params)),
        kemct=draw(st.binary(max_size=1600)),
        kdf=AlgorithmIdentifier(
            draw(st.sampled_from([oids.HKDF_SHA256, oids.SHA256])), draw(params)
        ),
        kek_length=draw(st.integers(1, 65_535)),
        ukm=draw(st.none() | st.binary(max_size=64)),
        wrap=AlgorithmIdentifier(draw(st.sampled_from(sorted(oids.WRAP_KEY_SIZES)))),
        encrypted_key=draw(st.binary(min_size=1, max_size=56)),
    )


#: Body lengths in each length form: short, one, two and three length octets.
_BODY_LENGTHS = st.sampled_from(
    [(0, 127), (128, 255), (256, 65_535), (65_536, 70_000)]
).flatmap(lambda bounds: st.integers(*bounds))
_ENTRIES = st.lists(st.one_of(_ktri(), _kari(), _kemri()), min_size=1, max_size=4)


@dataclasses.dataclass(frozen=True)
class _Envelope:
    authenticated: bool
    originator_info: bytes
    entries: Sequence[RecipientInfo]
    algorithm: AlgorithmIdentifier
    body_length: int
    trailer: bytes

    def prefix(self, *, ber: bool) -> bytes:
        return build.build_prefix(
            authenticated=self.authenticated,
            version=asn1.der_int(0 if self.authenticated else 2),
            originator_info=self.originator_info,
            ris_der=asn1.serialize_recipient_infos(self.entries),
            algorithm=self.algorithm,
            body_length=None if ber else self.body_length,
            tail_length=len(self.trailer),
        )

    def der(self) -> bytes:
        return self.prefix(ber=False) + bytes(self.body_length) + self.trailer

    def ber(self) -> bytes:
        # The content as one OCTET STRING segment, then the end-of-contents octets
        # of the content [0] and the EncryptedContentInfo, the trailer, and those of
        # the enveloped-data SEQUENCE, [0] and ContentInfo (X.690 §8.1.3.6).
        segment = b"\x04" + asn1.der_length(self.body_length) + bytes(self.body_length)
        eoc = b"\x00\x00"
        return self.prefix(ber=True) + segment + eoc * 2 + self.trailer + eoc * 3


def _attributes(tag: int) -> bytes:
    # One attribute: contentType id-data (RFC 5652 §11.1).
    attribute = asn1.der_tlv(
        0x30,
        asn1.der_oid("1.2.840.113549.1.9.3") + asn1.set_of([asn1.der_oid(oids.DATA)]),
    )
    return asn1.der_tlv(tag, attribute)


@st.composite
def _envelopes(draw: st.DrawFn) -> _Envelope:
    authenticated = draw(st.booleans())
    if authenticated:
        nonce = draw(st.binary(min_size=12, max_size=16))
        icv = draw(st.sampled_from([12, 16]))
        params = asn1.serialize_gcm_parameters(GCMParameters(nonce, icv))
        algorithm = AlgorithmIdentifier(oids.AES256_GCM, params)
        trailer = b""
        if draw(st.booleans()):
            trailer += _attributes(0xA1)
        trailer += asn1.der_tlv(0x04, draw(st.binary(min_size=12, max_size=16)))
        if draw(st.booleans()):
            trailer += _attributes(0xA2)
    else:
        cbc = draw(st.sampled_from(sorted(oids.CBC_KEY_SIZES)))
        iv = asn1.der_tlv(0x04, draw(st.binary(min_size=16, max_size=16)))
        algorithm = AlgorithmIdentifier(cbc, iv)
        trailer = _attributes(0xA1) if draw(st.booleans()) else b""
    return _Envelope(
        authenticated=authenticated,
        originator_info=draw(st.sampled_from([b"", b"\xa0\x00"])),
        entries=draw(_ENTRIES),
        algorithm=algorithm,
        body_length=draw(_BODY_LENGTHS),
        trailer=trailer,
    )


def _stream(data: bytes) -> object:
    """(header, (offset, length), trailer) as the stream reader reads ``data``, its
    segments when there are several, or the exception it raises."""
    reader = framing.EnvelopeReader(
        io.BytesIO(data),
        max_header_bytes=DEFAULT.max_header_bytes,
        max_recipients=DEFAULT.max_recipients,
    )
    try:
        header = reader.read_header()
        segments = []
        for length in reader.segments():
            segments.append((reader.pos, length))
            reader.skip(length)
        trailer = reader.read_trailer(
            authenticated=header.content_type == oids.AUTH_ENVELOPED_DATA
        )
    except Error as exc:
        return exc
    if len(segments) != 1:
        return segments
    return header, segments[0], trailer


def _fast_agrees(data: bytes) -> bool:
    """Whether derframe read ``data``; if it did, the stream reader read the same."""
    try:
        fast = derframe.parse(data, DEFAULT)
    except Error as exc:
        assert type(_stream(data)) is type(exc)
        return True
    if fast is None:
        return False
    assert _stream(data) == fast
    return True


def _entries_agree(ris_der: bytes) -> bool:
    """Whether der.py read ``ris_der``; if it did, to the general reader's value."""
    fast = der.recipient_infos(ris_der, max_recipients=DEFAULT.max_recipients)
    try:
        general = reference.recipient_infos(ris_der, DEFAULT.max_recipients)
    except Error:
        assert fast is None
        return False
    if fast is None:
        return False
    assert fast == general
    return True


def _serials(entries: Sequence[RecipientInfo]) -> list[int]:
    rids = []
    for entry in entries:
        if isinstance(entry, KeyAgreeRecipientInfo):
            rids += [rek.rid for rek in entry.recipient_encrypted_keys]
        else:
            rids.append(entry.rid)  # type: ignore[union-attr]
    return [rid.serial_number for rid in rids if rid.serial_number is not None]


def _fast_path_shape(entry: RecipientInfo) -> bool:
    # What der.py reads itself: an X25519 originator (RFC 8418) or an EC one
    # (RFC 5753), no other kind.
    if isinstance(entry, KeyAgreeRecipientInfo):
        return entry.originator_algorithm in (
            AlgorithmIdentifier(oids.X25519),
            _EC_P256,
        )
    return True


@settings(max_examples=80)
@given(_envelopes())
def test_fast_and_general_readers_agree(envelope: _Envelope) -> None:
    data = envelope.der()
    framed = derframe.parse(data, DEFAULT)
    assert framed is not None
    assert _stream(data) == framed
    header, (offset, length), _ = framed
    assert length == envelope.body_length
    assert offset + length + len(envelope.trailer) == len(data)

    ris_der = asn1.serialize_recipient_infos(envelope.entries)
    general = reference.recipient_infos(ris_der, DEFAULT.max_recipients)
    assert asn1.serialize_recipient_infos(general) == ris_der
    if all(serial >= 0 for serial in _serials(envelope.entries)):
        # pyasn1's encoder writes -128, -32768 ... one octet longer than DER allows
        # (X.690 §8.3.2); certificate serials are positive (RFC 5280 §4.1.2.2).
        assert reference.encode_recipient_infos(list(envelope.entries)) == ris_der
    assert header.recipient_infos == general
    assert _entries_agree(ris_der) == all(map(_fast_path_shape, envelope.entries))

    ber = envelope.ber()
    assert derframe.parse(ber, DEFAULT) is None
    streamed = _stream(ber)
    assert isinstance(streamed, tuple)
    expected = header.replace(eci_offset=streamed[0].eci_offset, indefinite=True)
    assert streamed[0] == expected


@settings(max_examples=80)
@given(_envelopes(), st.data())
def test_changed_octets_agree_or_are_declined(
    envelope: _Envelope, data: st.DataObject
) -> None:
    message = bytearray(envelope.der())
    header_end = len(message) - envelope.body_length - len(envelope.trailer)
    # Mostly in the framing and the entries, where the two paths differ.
    where = st.one_of(st.integers(0, header_end - 1), st.integers(0, len(message) - 1))
    for _ in range(data.draw(st.integers(1, 3))):
        message[data.draw(where)] = data.draw(st.integers(0, 255))
    _fast_agrees(bytes(message))
    ris_der = asn1.serialize_recipient_infos(envelope.entries)
    changed = bytearray(ris_der)
    changed[data.draw(st.integers(0, len(changed) - 1))] ^= data.draw(
        st.integers(1, 255)
    )
    _entries_agree(bytes(changed))
