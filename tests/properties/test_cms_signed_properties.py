"""Codec identities of CMS SignedData: what signed.py writes it reads back as the
same value, DER and streamed BER alike, and its signed attributes pass its own DER
check whatever values they hold."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from e2ee_mail.cms import oids, sigalgs, signed
from e2ee_mail.cms.asn1 import der_int, der_oid, der_tlv
from e2ee_mail.cms.structures import AlgorithmIdentifier, RecipientId
from e2ee_mail.core.signature import Scheme

_OIDS = [oids.DATA, oids.SHA256, oids.ATTR_SIGNING_TIME, "1.2.3.4.5", "2.999.1"]

_values = st.one_of(
    st.binary(max_size=80).map(lambda b: der_tlv(0x04, b)),
    st.sampled_from(_OIDS).map(der_oid),
    st.integers(-(2**70), 2**70).map(der_int),
    st.lists(st.sampled_from(_OIDS).map(der_oid), max_size=3).map(
        lambda xs: der_tlv(0x30, b"".join(xs))
    ),
)
_attributes = st.lists(
    st.builds(
        signed.Attribute,
        st.sampled_from(_OIDS),
        st.lists(_values, min_size=1, max_size=3, unique=True).map(tuple),
    ),
    min_size=1,
    max_size=5,
    unique_by=lambda a: a.attr_type,
)
_sid = st.one_of(
    st.builds(
        RecipientId,
        issuer=st.binary(min_size=1, max_size=40).map(lambda b: der_tlv(0x30, b)),
        serial_number=st.integers(0, 2**160),
    ),
    st.builds(RecipientId, subject_key_identifier=st.binary(min_size=1, max_size=32)),
)
# asn1crypto reads parameters by the algorithm's type: only well-formed pairs.
_alg = st.sampled_from(
    [
        AlgorithmIdentifier(oids.SHA256),
        AlgorithmIdentifier(oids.SHA512, b"\x05\x00"),
        AlgorithmIdentifier(oids.ED25519),
        AlgorithmIdentifier(oids.SHA256_WITH_RSA, b"\x05\x00"),
        sigalgs.signature_algorithm(Scheme("rsa-pss", "sha256", 32)),
    ]
)


@st.composite
def _signed_data(draw: st.DrawFn) -> signed.SignedData:
    attrs = draw(st.none() | _attributes)
    sid = draw(_sid)
    info = signed.SignerInfo(
        version=3 if sid.subject_key_identifier is not None else 1,
        sid=sid,
        digest_algorithm=draw(_alg),
        signed_attrs=None if attrs is None else signed.serialize_attributes(attrs),
        signature_algorithm=draw(_alg),
        signature=draw(st.binary(max_size=100)),
    )
    return signed.SignedData(
        version=signed.signed_data_version(oids.DATA, [info.version]),
        digest_algorithms=(info.digest_algorithm,),
        econtent_type=oids.DATA,
        econtent=draw(st.none() | st.binary(max_size=300)),
        certificates=tuple(
            draw(
                st.lists(
                    st.binary(max_size=30).map(lambda b: der_tlv(0x30, b)),
                    max_size=1,
                )
            )
        ),
        signer_infos=(info,),
    )


@given(_signed_data())
def test_signed_data_reads_back_as_written(sd: signed.SignedData) -> None:
    assert (
        signed.parse_signed_data(signed.serialize_signed_data(sd), max_signers=4) == sd
    )


@given(_signed_data(), st.integers(1, 64))
def test_streamed_signed_data_reads_back_as_written(
    sd: signed.SignedData, chunk: int
) -> None:
    content = sd.econtent or b""
    body = b"".join(
        der_tlv(0x04, content[i : i + chunk]) for i in range(0, len(content), chunk)
    )
    ber = signed.serialize_stream_head(sd) + body + signed.serialize_stream_tail(sd)
    parsed = signed.parse_signed_data(ber, max_signers=4)
    assert parsed.econtent == content
    assert parsed.signer_infos == sd.signer_infos
    assert parsed.certificates == sd.certificates


@given(_attributes)
def test_written_attributes_are_der_and_read_back(
    attrs: list[signed.Attribute],
) -> None:
    der = signed.serialize_attributes(attrs)
    parsed = signed.parse_attributes(der)
    assert sorted(parsed, key=lambda a: a.attr_type) == sorted(
        (signed.Attribute(a.attr_type, tuple(sorted(a.values))) for a in attrs),
        key=lambda a: a.attr_type,
    )
