"""cms/asn1.py, cms/framing.py and cms/pem.py: codecs give back what they were fed and
turn malformed input into ASN1Error / ArmorError only."""

from __future__ import annotations

import contextlib
import io

import pytest
from doubles import LineByLine
from hypothesis import given
from hypothesis import strategies as st

import e2ee_mail
from e2ee_mail.cms import asn1, framing, oids, pem, structures, tlv

RID_IAS = structures.RecipientId(issuer=asn1.der_tlv(0x30, b""), serial_number=12345)
RID_SKI = structures.RecipientId(subject_key_identifier=b"\x01" * 20)


def test_der_oid_encodes_known_value() -> None:
    # id-aes256-GCM, RFC 5084 §3: 2.16.840.1.101.3.4.1.46
    assert asn1.der_oid(oids.AES256_GCM).hex() == "060960864801650304012e"
    assert tlv.decode_oid(asn1.der_oid(oids.AES256_GCM)[2:]) == oids.AES256_GCM


@pytest.mark.parametrize(
    "n", [0, 1, 127, 128, 255, 256, 65535, 1 << 20, -1, -128, -129, -32768, -32769]
)
def test_der_int_is_minimal_twos_complement(n: int) -> None:
    from asn1crypto import core

    encoded = asn1.der_int(n)
    assert core.Integer.load(encoded).native == n
    assert core.Integer(n).dump() == encoded


@pytest.mark.parametrize("rid", [RID_IAS, RID_SKI])
def test_recipient_infos_round_trip(rid: structures.RecipientId) -> None:
    ktri = structures.KeyTransRecipientInfo(
        2 if rid.subject_key_identifier else 0,
        rid,
        structures.AlgorithmIdentifier(
            oids.RSAES_OAEP,
            asn1.serialize_oaep_parameters(
                structures.OAEPParameters("sha256", "sha256", b"")
            ),
        ),
        b"\xaa" * 384,
    )
    wrap = asn1.serialize_algorithm_identifier(
        structures.AlgorithmIdentifier(oids.AES256_WRAP)
    )
    kari = structures.KeyAgreeRecipientInfo(
        3,
        structures.AlgorithmIdentifier(oids.X25519),
        b"\x09" * 32,
        b"ukm",
        structures.AlgorithmIdentifier(oids.DH_SINGLE_PASS_STDDH_SHA256KDF, wrap),
        (structures.RecipientEncryptedKey(rid, b"\xbb" * 40),),
    )
    der = asn1.serialize_recipient_infos([ktri, kari])
    parsed = asn1.parse_recipient_infos(der, max_recipients=10)
    assert sorted(parsed, key=repr) == sorted([ktri, kari], key=repr)


def test_oaep_parameters_round_trip_and_sha1_defaults() -> None:
    params = structures.OAEPParameters("sha256", "sha256", b"label")
    assert asn1.parse_oaep_parameters(asn1.serialize_oaep_parameters(params)) == params
    assert asn1.parse_oaep_parameters(None) == structures.OAEPParameters(
        "sha1", "sha1", b""
    )
    assert asn1.parse_oaep_parameters(b"\x30\x00").hash_name == "sha1"


def test_gcm_parameters_round_trip_and_default_icvlen() -> None:
    params = structures.GCMParameters(b"\x01" * 12, 16)
    der = asn1.serialize_gcm_parameters(params)
    assert der.endswith(b"\x02\x01\x10")  # ICVlen written although not DEFAULT
    assert asn1.parse_gcm_parameters(der) == params
    absent = asn1.der_tlv(0x30, asn1.der_tlv(0x04, b"\x01" * 12))
    assert asn1.parse_gcm_parameters(absent).icv_len == 12


def test_too_many_recipients_is_refused() -> None:
    ktri = structures.KeyTransRecipientInfo(
        0,
        RID_IAS,
        structures.AlgorithmIdentifier(oids.RSA_ENCRYPTION, b"\x05\x00"),
        b"k",
    )
    many = [
        structures.KeyTransRecipientInfo(
            0, RID_IAS, ktri.key_encryption_algorithm, bytes([i])
        )
        for i in range(5)
    ]
    der = asn1.serialize_recipient_infos(many)
    with pytest.raises(e2ee_mail.ASN1Error, match="policy limit"):
        asn1.parse_recipient_infos(der, max_recipients=4)


@given(st.binary(max_size=300))
def test_random_bytes_never_escape_as_other_exceptions(data: bytes) -> None:
    for parse in (
        lambda d: asn1.parse_recipient_infos(d, max_recipients=100),
        asn1.parse_algorithm_identifier,
        asn1.parse_gcm_parameters,
        asn1.parse_oaep_parameters,
    ):
        with contextlib.suppress(e2ee_mail.ASN1Error):
            parse(data)


@given(st.binary(max_size=400))
def test_random_envelopes_fail_with_library_errors_only(data: bytes) -> None:
    reader = framing.EnvelopeReader(
        io.BytesIO(b"\x30" + data), max_header_bytes=1 << 16, max_recipients=10
    )
    try:
        reader.read_header()
        for length in reader.segments():
            reader.skip(length)
        reader.read_trailer(authenticated=True)
    except e2ee_mail.Error:
        pass


def test_header_budget_bounds_allocation() -> None:
    huge = b"\x30\x84\x7f\xff\xff\xff" + asn1.der_oid(oids.AUTH_ENVELOPED_DATA)
    huge += b"\xa0\x84\x7f\xff\xff\x00\x30\x84\x7f\xff\xfe\x00\x02\x01\x00"
    huge += b"\x31\x84\x7f\xff\x00\x00"
    reader = framing.EnvelopeReader(
        io.BytesIO(huge), max_header_bytes=4096, max_recipients=10
    )
    with pytest.raises(e2ee_mail.ASN1Error, match="max_header_bytes"):
        reader.read_header()


def test_pem_round_trip_and_pkcs7_label() -> None:
    der = bytes(range(256)) * 3
    armored = pem.armor(der)
    assert armored.startswith(b"-----BEGIN CMS-----\n")
    assert max(len(line) for line in armored.splitlines()) == 64
    assert pem.dearmor(armored) == der
    pkcs7 = armored.replace(b"CMS", b"PKCS7").replace(b"\n", b"\r\n")
    assert pem.dearmor(pkcs7) == der


@pytest.mark.parametrize("size", [0, 1, 47, 48, 49, 5000, 48 * 21846 + 7])
def test_pem_streams_round_trip(size: int) -> None:
    data = bytes(i % 251 for i in range(size))
    dst = io.BytesIO()
    writer = pem.PemWriter(dst)
    for start in range(0, size, 1000):
        writer.write(data[start : start + 1000])
    writer.close()
    assert pem.dearmor(dst.getvalue()) == data
    reader = pem.PemReader(io.BytesIO(dst.getvalue()))
    out = bytearray()
    while chunk := reader.read(777):
        out += chunk
    assert bytes(out) == data


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"-----BEGIN CMS-----\n!!!!\n-----END CMS-----\n",
        b"-----BEGIN CMS-----\nAAAA\n-----END PKCS7-----\n",
        b"-----BEGIN CMS-----\nAAAA\n",
        b"-----BEGIN CMS-----\nAAAA\n-----END CMS-----\ntrailing",
    ],
)
def test_malformed_pem_is_armor_error(text: bytes) -> None:
    with pytest.raises(e2ee_mail.ArmorError):
        pem.dearmor(text)
    with pytest.raises(e2ee_mail.ArmorError):
        pem.PemReader(io.BytesIO(text)).read()


def test_pem_reader_handles_one_long_line() -> None:
    import pybase64

    data = bytes(range(256)) * 2000
    text = (
        b"-----BEGIN CMS-----\n" + pybase64.b64encode(data) + b"\n-----END CMS-----\n"
    )
    assert pem.PemReader(io.BytesIO(text)).read() == data


@pytest.mark.parametrize("width", [64, 76])
def test_pem_reader_refuses_base64_after_padding_at_a_block_seam(width: int) -> None:
    import pybase64

    padded = pybase64.b64encode(b"\x01\x02")  # "AQI=": one padded group
    more = pybase64.b64encode(bytes(range(48)))
    text = (
        b"-----BEGIN CMS-----\n"
        + padded
        + b"\n"
        + b"\n".join(more[i : i + width] for i in range(0, len(more), width))
        + b"\n-----END CMS-----\n"
    )
    with pytest.raises(e2ee_mail.ArmorError):
        pem.dearmor(text)
    with pytest.raises(e2ee_mail.ArmorError):
        pem.PemReader(LineByLine(text)).read()  # type: ignore[arg-type]
    whole = b"-----BEGIN CMS-----\n" + more + b"\n-----END CMS-----\n"
    assert pem.PemReader(LineByLine(whole)).read() == bytes(range(48))  # type: ignore[arg-type]
