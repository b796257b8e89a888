"""Properties of the KEMRecipientInfo codec and of opening ML-KEM entries: any entry
serializes and reads back to itself on both readers (or is refused by both); any
byte string offered as a RecipientInfos SET is read or refused with an ASN1Error,
never another exception; any entry, well-formed or not, is refused or opened by an
ML-KEM key with an e2ee_mail.Error at worst; and a message to an ML-KEM key with one
octet of its recipient entry changed never opens to other content."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import e2ee_mail
from e2ee_mail.cms import asn1, der, oids, recipients, reference
from e2ee_mail.cms.structures import AlgorithmIdentifier, KEMRecipientInfo, RecipientId
from e2ee_mail.errors import ASN1Error, Error
from e2ee_mail.policy import DEFAULT
from e2ee_mail.x509 import certs as kx
from e2ee_mail.x509 import keygen

_OIDS = [
    oids.ML_KEM_512,
    oids.ML_KEM_768,
    oids.ML_KEM_1024,
    oids.HKDF_SHA256,
    oids.SHA256,
    *sorted(oids.WRAP_KEY_SIZES),
]
_ALGORITHMS = st.builds(
    AlgorithmIdentifier,
    st.sampled_from(_OIDS),
    st.sampled_from([None, b"\x05\x00", b"\x04\x00"]),
)
_RIDS = st.one_of(
    st.builds(
        RecipientId,
        issuer=st.just(bytes.fromhex("300f310d300b06035504030c0474657374")),
        serial_number=st.integers(0, 2**64),
    ),
    st.builds(RecipientId, subject_key_identifier=st.binary(min_size=1, max_size=32)),
)


@st.composite
def _entries(draw: st.DrawFn) -> KEMRecipientInfo:
    return KEMRecipientInfo(
        version=draw(st.integers(0, 3)),
        rid=draw(_RIDS),
        kem=draw(_ALGORITHMS),
        kemct=draw(
            st.one_of(st.binary(max_size=64), st.binary(min_size=1088, max_size=1088))
        ),
        kdf=draw(_ALGORITHMS),
        kek_length=draw(st.sampled_from([1, 16, 24, 32, 65_535])),
        ukm=draw(st.none() | st.binary(max_size=16)),
        wrap=draw(_ALGORITHMS),
        encrypted_key=draw(st.binary(min_size=1, max_size=48)),
    )


@pytest.fixture(scope="module")
def key() -> kx.X509SecretKey:
    return keygen.generate("Pat <pat@example.org>", kind="mlkem768")


@settings(max_examples=150)
@given(_entries())
def test_entries_read_back_on_both_readers(entry: KEMRecipientInfo) -> None:
    ris = asn1.serialize_recipient_infos([entry])
    fast = der.recipient_infos(ris, max_recipients=10)
    # Parameters are an ANY to both readers, whatever the algorithm.
    general = reference.recipient_infos(ris, 10)
    assert general == (entry,)
    assert fast is None or fast == (entry,)
    assert asn1.parse_recipient_infos(ris, max_recipients=10) == (entry,)


@settings(max_examples=300)
@given(_entries(), st.data())
def test_any_octets_are_read_or_refused_as_asn1(
    entry: KEMRecipientInfo, data: st.DataObject
) -> None:
    ris = bytearray(asn1.serialize_recipient_infos([entry]))
    for _ in range(data.draw(st.integers(1, 4))):
        ris[data.draw(st.integers(0, len(ris) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(ris)))
    with contextlib.suppress(ASN1Error):
        asn1.parse_recipient_infos(bytes(ris[:cut]), max_recipients=10)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_entries())
def test_any_entry_is_refused_or_opened_with_a_library_error(
    key: kx.X509SecretKey, entry: KEMRecipientInfo
) -> None:
    try:
        recipients.check_supported(entry, key, DEFAULT)
        recipients.unwrap(entry, 0, key)
    except Error:
        pass


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_a_changed_entry_never_opens_to_other_content(
    key: kx.X509SecretKey, data: st.DataObject
) -> None:
    body = b"the body"
    message = bytearray(e2ee_mail.encrypt(body, key.public))
    # The entry sits between the RecipientInfos header and the content info; any
    # octet of the message is fair game, the entry's most of all.
    at = data.draw(st.integers(30, min(len(message) - 1, 1200)))
    message[at] ^= data.draw(st.integers(1, 255))
    with contextlib.suppress(Error):
        assert e2ee_mail.decrypt(message, key) == body
