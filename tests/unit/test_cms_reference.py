"""cms/reference.py, the general reader on pyasn1: any BER, the same values as the
DER fast path, the same DER from its writer as from the hand-written one, and every
malformed input an ASN1Error (never a pyasn1 or other Python exception)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from e2ee_mail.cms import asn1, der, oids, reference, structures
from e2ee_mail.errors import ASN1Error

_ISSUER = asn1.der_tlv(
    0x30,
    asn1.der_tlv(
        0x31,
        asn1.der_tlv(0x30, asn1.der_oid("2.5.4.3") + asn1.der_tlv(0x0C, b"Ada")),
    ),
)
_IAS = structures.RecipientId(issuer=_ISSUER, serial_number=0x0102030405)
_SKI = structures.RecipientId(subject_key_identifier=b"\x5a" * 20)
_OAEP = structures.AlgorithmIdentifier(
    oids.RSAES_OAEP,
    asn1.serialize_oaep_parameters(
        structures.OAEPParameters("sha384", "sha384", b"a label")
    ),
)
_WRAP = structures.AlgorithmIdentifier(oids.AES256_WRAP)

#: One entry of every kind and naming we read and write.
ENTRIES: list[structures.RecipientInfo] = [
    structures.KeyTransRecipientInfo(0, _IAS, _OAEP, b"\x01" * 384),
    structures.KeyTransRecipientInfo(
        2,
        _SKI,
        structures.AlgorithmIdentifier(oids.RSA_ENCRYPTION, b"\x05\x00"),
        b"\x02" * 256,
    ),
    structures.KeyAgreeRecipientInfo(
        3,
        structures.AlgorithmIdentifier(oids.X25519),
        b"\x09" * 32,
        b"user keying material",
        structures.AlgorithmIdentifier(
            oids.DH_SINGLE_PASS_STDDH_HKDF_SHA256,
            asn1.serialize_algorithm_identifier(_WRAP),
        ),
        (
            structures.RecipientEncryptedKey(_IAS, b"\x03" * 40),
            structures.RecipientEncryptedKey(_SKI, b"\x04" * 40),
        ),
    ),
    structures.KeyAgreeRecipientInfo(
        3,
        structures.AlgorithmIdentifier(
            oids.EC_PUBLIC_KEY, asn1.der_oid(oids.SECP256R1)
        ),
        b"\x04" + b"\x05" * 64,
        None,
        structures.AlgorithmIdentifier(
            oids.DH_SINGLE_PASS_STDDH_SHA256KDF,
            asn1.serialize_algorithm_identifier(_WRAP),
        ),
        (structures.RecipientEncryptedKey(_IAS, b"\x06" * 40),),
    ),
    structures.KEMRecipientInfo(
        version=0,
        rid=_SKI,
        kem=structures.AlgorithmIdentifier(oids.ML_KEM_768),
        kemct=b"\x07" * 1088,
        kdf=structures.AlgorithmIdentifier(oids.HKDF_SHA256),
        kek_length=32,
        ukm=b"kem ukm",
        wrap=_WRAP,
        encrypted_key=b"\x08" * 40,
    ),
]


#: Two entries the fast path declines.
_PWRI = asn1.der_tlv(
    0xA3,
    asn1.der_int(0)
    + asn1.serialize_algorithm_identifier(_WRAP)
    + asn1.der_tlv(0x04, b"\x00" * 40),
)
_STATIC_KARI = asn1.der_tlv(
    0xA1,
    asn1.der_int(3)
    + asn1.der_tlv(0xA0, asn1.der_tlv(0x30, _ISSUER + asn1.der_int(7)))
    + asn1.serialize_algorithm_identifier(_WRAP)
    + asn1.der_tlv(0x30, b""),
)


def _ber(data: bytes) -> bytes:
    """``data`` (DER) with every constructed element in the indefinite-length form
    (X.690 §8.1.3.6), primitive elements as they are."""
    out = bytearray()
    pos = 0
    while pos < len(data):
        tag, first = data[pos], data[pos + 1]
        count = first & 0x7F if first & 0x80 else 0
        start = pos + 2 + count
        length = int.from_bytes(data[pos + 2 : start], "big") if count else first
        stop = start + length
        if tag & 0x20:
            out += bytes((tag, 0x80)) + _ber(data[start:stop]) + b"\x00\x00"
        else:
            out += data[pos:stop]
        pos = stop
    return bytes(out)


def _sorted(infos: object) -> list[structures.RecipientInfo]:
    return sorted(infos, key=repr)  # type: ignore[call-overload]


def test_every_kind_reads_back_and_agrees_with_the_fast_path() -> None:
    data = asn1.serialize_recipient_infos(ENTRIES)
    general = reference.recipient_infos(data, 10)
    assert _sorted(general) == _sorted(ENTRIES)
    assert der.recipient_infos(data, max_recipients=10) == general


def test_the_pyasn1_writer_writes_what_the_hand_writer_writes() -> None:
    assert reference.encode_recipient_infos(ENTRIES) == asn1.serialize_recipient_infos(
        ENTRIES
    )
    for entry in ENTRIES:
        assert reference.encode_recipient_infos([entry]) == asn1.set_of(
            [asn1.serialize_recipient_info(entry)]
        )
    with pytest.raises(ValueError, match="cannot encode"):
        reference.encode_recipient_infos([structures.OtherRecipientInfo("x")])


def test_ber_is_read_to_the_same_values_and_left_by_the_fast_path() -> None:
    data = asn1.serialize_recipient_infos(ENTRIES)
    ber = _ber(data)
    assert ber != data
    assert reference.definite(ber) == data
    assert der.recipient_infos(ber, max_recipients=10) is None
    assert reference.recipient_infos(ber, 10) == reference.recipient_infos(data, 10)
    assert asn1.parse_recipient_infos(ber, max_recipients=10) == (
        reference.recipient_infos(data, 10)
    )


def test_other_kinds_are_named_for_inspect() -> None:
    other = asn1.der_tlv(0xA4, asn1.der_oid("1.2.3.4") + asn1.der_tlv(0x04, b""))
    got = reference.recipient_infos(asn1.set_of([_PWRI, other, _STATIC_KARI]), 10)
    assert sorted(info.kind for info in got) == [  # type: ignore[union-attr]
        "KeyAgreeRecipientInfo (static originator)",
        "OtherRecipientInfo (1.2.3.4)",
        "PasswordRecipientInfo",
    ]


def test_the_recipient_limit_is_checked_before_decoding() -> None:
    entry = asn1.serialize_recipient_info(ENTRIES[1])
    data = asn1.set_of([entry] * 5)
    with pytest.raises(ASN1Error, match="policy limit"):
        reference.recipient_infos(data, 4)
    with pytest.raises(ASN1Error, match="policy limit"):
        reference.recipient_infos(_ber(data), 4)
    assert len(reference.recipient_infos(data, 5)) == 5
    with pytest.raises(ASN1Error, match="empty"):
        reference.recipient_infos(b"\x31\x00", 4)
    with pytest.raises(ASN1Error, match="empty"):
        reference.recipient_infos(b"\x31\x80\x00\x00", 4)


@pytest.mark.parametrize(
    ("hex_der", "count"),
    [
        ("3100", 0),
        ("3106020100020101", 2),
        ("3180020100020101" + "0000", 2),
        ("3180308002010000000201000000" + "ff", None),  # data after the end
        ("3180308002010000000201000000", 2),
        ("3103020100", 1),
        ("310402010002", None),  # runs past its parent
        ("0201ff", None),  # primitive
        ("31", None),
    ],
)
def test_count_elements(hex_der: str, count: int | None) -> None:
    data = bytes.fromhex(hex_der)
    if count is None:
        with pytest.raises(ASN1Error):
            reference.count_elements(data, 10)
    else:
        assert reference.count_elements(data, 10) == count
        assert reference.count_elements(data, 0) == min(count, 1)


def test_count_elements_bounds_nesting() -> None:
    deep = b"\x30\x80" * 100 + b"\x00\x00" * 100
    with pytest.raises(ASN1Error, match="nesting"):
        reference.count_elements(b"\x31\x80" + deep + b"\x00\x00", 10)


def test_an_empty_integer_is_malformed_not_zero() -> None:
    # X.690 §8.3.1: an INTEGER has at least one content octet.
    content = _strip_header(asn1.serialize_recipient_info(ENTRIES[0]))
    assert content.startswith(asn1.der_int(0))
    bad = asn1.set_of([asn1.der_tlv(0x30, b"\x02\x00" + content[3:])])
    assert der.recipient_infos(bad, max_recipients=10) is None
    with pytest.raises(ASN1Error, match="CMS version"):
        reference.recipient_infos(bad, 10)


def _strip_header(element: bytes) -> bytes:
    first = element[1]
    return element[2 + (first & 0x7F if first & 0x80 else 0) :]


def test_messages_name_what_was_found_briefly() -> None:
    with pytest.raises(ASN1Error) as caught:
        reference.recipient_infos(b"\x31\x03\x02\x01\x00", 10)
    assert len(str(caught.value)) < 200


def test_a_non_minimal_oid_is_declined_by_the_fast_path() -> None:
    # 2.16.840.1.101.3.4.1.45 with its second subidentifier padded by 0x80.
    good = asn1.serialize_algorithm_identifier(_WRAP)
    content = good[4:]
    padded = content[:1] + b"\x80" + content[1:]
    bad = asn1.der_tlv(0x30, asn1.der_tlv(0x06, padded))
    assert der.algorithm_identifier(good) == _WRAP
    assert der.algorithm_identifier(bad) is None
    with pytest.raises(ASN1Error):
        reference.algorithm_identifier(bad)


_PARSERS = (
    lambda d: reference.recipient_infos(d, 100),
    lambda d: reference.count_elements(d, 100),
    reference.algorithm_identifier,
    reference.gcm_parameters,
    reference.oaep_parameters,
    reference.object_identifier,
)


@given(st.binary(max_size=300))
def test_random_bytes_raise_asn1_errors_only(data: bytes) -> None:
    for parse in _PARSERS:
        with contextlib.suppress(ASN1Error):
            parse(data)


@given(st.binary(max_size=200))
def test_random_contents_of_a_set_raise_asn1_errors_only(data: bytes) -> None:
    # Behind a well-formed SET header, so that the decoder, not the counter, sees it.
    for framed in (asn1.der_tlv(0x31, data), b"\x31\x80" + data + b"\x00\x00"):
        with contextlib.suppress(ASN1Error):
            reference.recipient_infos(framed, 100)


@settings(max_examples=300)
@given(
    st.sampled_from(range(len(ENTRIES))),
    st.booleans(),
    st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=4),
    st.integers(0, 1 << 16),
)
def test_changed_octets_raise_asn1_errors_only(
    index: int, ber: bool, changes: list[tuple[int, int]], cut: int
) -> None:
    data = asn1.serialize_recipient_infos([ENTRIES[index]])
    blob = bytearray(_ber(data) if ber else data)
    for at, value in changes:
        blob[at % len(blob)] = value
    blob = blob[: max(1, cut % (len(blob) + 1))]
    try:
        general = reference.recipient_infos(bytes(blob), 100)
    except ASN1Error:
        general = None
    fast = der.recipient_infos(bytes(blob), max_recipients=100)
    if fast is not None:
        assert fast == general


@pytest.mark.parametrize(
    "params",
    [
        structures.OAEPParameters("sha256", "sha256", b""),
        structures.OAEPParameters("sha384", "sha256", b""),
        structures.OAEPParameters("sha512", "sha512", b"label"),
        structures.OAEPParameters("sha1", "sha256", b""),
    ],
)
def test_oaep_fast_path_agrees_or_declines(params: structures.OAEPParameters) -> None:
    data = asn1.serialize_oaep_parameters(params)
    assert der.oaep_parameters(data) == params
    assert reference.oaep_parameters(data) == params
    for i in range(len(data)):
        for value in {0x00, 0xFF, data[i] ^ 0x01, data[i] ^ 0x80, data[i] ^ 0x20}:
            mutated = data[:i] + bytes((value,)) + data[i + 1 :]
            fast = der.oaep_parameters(mutated)
            if fast is not None:
                assert reference.oaep_parameters(mutated) == fast
            else:
                with contextlib.suppress(ASN1Error):
                    asn1.parse_oaep_parameters(mutated)


def test_oaep_defaults_and_null_hash_parameters() -> None:
    sha1 = structures.OAEPParameters("sha1", "sha1", b"")
    assert (
        der.oaep_parameters(b"\x30\x00")
        == sha1
        == reference.oaep_parameters(b"\x30\x00")
    )
    # SHA-256 with NULL parameters, as some writers send it (RFC 4055 §2.1).
    sha256 = asn1.der_tlv(0x30, asn1.der_oid(oids.SHA256) + b"\x05\x00")
    mgf = asn1.der_tlv(0x30, asn1.der_oid(oids.MGF1) + sha256)
    data = asn1.der_tlv(0x30, asn1.der_tlv(0xA0, sha256) + asn1.der_tlv(0xA1, mgf))
    expected = structures.OAEPParameters("sha256", "sha256", b"")
    assert der.oaep_parameters(data) == expected == reference.oaep_parameters(data)
    # Out of order: declined, and the general reader refuses it.
    swapped = asn1.der_tlv(0x30, asn1.der_tlv(0xA1, mgf) + asn1.der_tlv(0xA0, sha256))
    assert der.oaep_parameters(swapped) is None
    with pytest.raises(ASN1Error):
        reference.oaep_parameters(swapped)


#: Entries the fast path reads, then two it declines.
_ELEMENTS = [asn1.serialize_recipient_info(entry) for entry in ENTRIES] + [
    _PWRI,
    _STATIC_KARI,
]


def _outcome(read: object) -> object:
    try:
        return read()  # type: ignore[operator]
    except ASN1Error:
        return ASN1Error


def test_only_declined_entries_go_to_the_general_reader() -> None:
    data = asn1.der_tlv(0x31, b"".join(_ELEMENTS))
    entries = der.recipient_entries(data, max_recipients=10)
    assert entries is not None
    assert list(entries[-2:]) == [_PWRI, _STATIC_KARI]
    assert list(entries[:-2]) == ENTRIES
    assert der.recipient_infos(data, max_recipients=10) is None
    assert asn1.parse_recipient_infos(data, max_recipients=10) == (
        reference.recipient_infos(data, 10)
    )


@settings(max_examples=200)
@given(
    st.lists(st.sampled_from(range(len(_ELEMENTS))), min_size=1, max_size=5),
    st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=3),
)
def test_the_door_reads_mixed_sets_as_the_general_reader(
    picks: list[int], changes: list[tuple[int, int]]
) -> None:
    blob = bytearray(asn1.der_tlv(0x31, b"".join(_ELEMENTS[i] for i in picks)))
    for at, value in changes:
        blob[at % len(blob)] = value
    data = bytes(blob)
    assert _outcome(lambda: asn1.parse_recipient_infos(data, max_recipients=4)) == (
        _outcome(lambda: reference.recipient_infos(data, 4))
    )
