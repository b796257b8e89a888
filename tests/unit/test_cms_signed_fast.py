"""The in-place SignedData reader (cms/signed.py ``read_signed_data``) against the
general one (asn1crypto): the same value for every shape it reads, None for the
others, never a looser reading; and a signed-then-encrypted message verified in
place: the content moved to the front of the plaintext, any altered octet caught."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from signing_keys import signer

import e2ee_mail
from e2ee_mail.cms import envelope, oids, signed, signenv, signing
from e2ee_mail.cms.asn1 import der_oid, der_tlv
from e2ee_mail.errors import ASN1Error
from e2ee_mail.policy import DEFAULT

BODY = b"In-place verified line\r\n" * 40


def _streamed(data: bytes, chunk: int, *, kinds: tuple[str, ...] = ("p256",)) -> bytes:
    builder = signing.SignedDataBuilder([signer(k) for k in kinds])  # type: ignore[arg-type]
    parts = [builder.stream_head()]
    for start in range(0, len(data), chunk):
        parts.append(builder.stream_chunk(data[start : start + chunk]))
    return b"".join([*parts, builder.stream_tail()])


def _shapes() -> dict[str, bytes]:
    rsa, p256, ed = signer("rsa2048"), signer("p256"), signer("ed25519")
    return {
        "detached": signing.sign(BODY, [p256]),
        "opaque": signing.sign(BODY, [p256], detached=False),
        "opaque-empty": signing.sign(b"", [ed], detached=False),
        "ski-pss": signing.sign(BODY, [rsa], detached=False, pss=True, use_ski=True),
        "three-signers": signing.sign(BODY, [rsa, p256, ed], detached=False),
        "streamed": _streamed(BODY, 100),
        "streamed-one": _streamed(BODY, len(BODY)),
        "streamed-empty": _streamed(b"", 100),
    }


SHAPES = _shapes()


def _content(data: bytes, spans: list[tuple[int, int]] | None) -> bytes | None:
    return None if spans is None else b"".join(data[s:e] for s, e in spans)


@pytest.mark.parametrize("name", list(SHAPES))
def test_the_shapes_we_write_read_as_asn1crypto_reads_them(name: str) -> None:
    der = SHAPES[name]
    fast = signed.read_signed_data(der, max_signers=8)
    assert fast is not None
    sd, spans = fast
    general = signed.parse_general(der, max_signers=8)
    assert dataclasses.replace(sd, econtent=_content(der, spans)) == general
    assert signed.parse_signed_data(der, max_signers=8) == general
    assert (general.econtent is None) == (name == "detached")


def _crls(der: bytes) -> bytes:
    """``der`` (DER SignedData) with an empty [1] CRL set before its SignerInfos."""
    sd = signed.parse_general(der, max_signers=8)
    encap = der_oid(sd.econtent_type) + der_tlv(0xA0, der_tlv(0x04, sd.econtent or b""))
    body = (
        der_tlv(0x02, b"\x01")
        + signed.set_of(
            signed.serialize_algorithm_identifier(a) for a in sd.digest_algorithms
        )
        + der_tlv(0x30, encap)
        + b"\xa0"
        + signed.set_of(sd.certificates)[1:]
        + b"\xa1\x00"
        + signed.set_of(signed.serialize_signer_info(i) for i in sd.signer_infos)
    )
    return der_tlv(0x30, der_oid(oids.SIGNED_DATA) + der_tlv(0xA0, der_tlv(0x30, body)))


def test_other_shapes_are_left_to_asn1crypto() -> None:
    opaque = SHAPES["opaque"]
    # An eContentType of the same length as id-data that we do not know.
    other_type = opaque.replace(der_oid(oids.DATA), der_oid("1.2.840.113549.1.7.9"), 1)
    assert signed.read_signed_data(other_type, max_signers=8) is None
    with_crls = _crls(opaque)
    assert signed.read_signed_data(with_crls, max_signers=8) is None
    # The general reader still reads it.
    assert signed.parse_signed_data(with_crls, max_signers=8).signer_infos
    # A non-minimal length (BER, not DER) inside the signer's SEQUENCE.
    assert signed.read_signed_data(opaque + b"\x00", max_signers=8) is None


def test_too_many_signers_is_still_refused() -> None:
    der = SHAPES["three-signers"]
    assert signed.read_signed_data(der, max_signers=2) is None
    with pytest.raises(ASN1Error, match="3 signers"):
        signed.parse_signed_data(der, max_signers=2)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(list(SHAPES)),
    at=st.integers(min_value=0),
    value=st.integers(min_value=0, max_value=255),
    cut=st.booleans(),
)
def test_a_damaged_signed_data_is_never_read_more_loosely(
    name: str, at: int, value: int, cut: bool
) -> None:
    der = bytearray(SHAPES[name])
    at %= len(der)
    if cut:
        del der[at:]
    else:
        der[at] = value
    damaged = bytes(der)
    fast = signed.read_signed_data(damaged, max_signers=8)
    if fast is None:
        return
    sd, spans = fast
    general = signed.parse_general(damaged, max_signers=8)
    assert dataclasses.replace(sd, econtent=_content(damaged, spans)) == general


def _sealed(data: bytes) -> tuple[e2ee_mail.SecretKey, bytes]:
    key = e2ee_mail.generate_key(
        "In Place <in-place@example.org>", format="x509", kind="x25519"
    )
    return key, bytes(e2ee_mail.encrypt(data, [key.public], sign_with=key.signing_key))  # type: ignore[attr-defined]


@pytest.mark.parametrize("size", [0, 1000, 300_000], ids=["empty", "small", "streamed"])
def test_a_signed_message_is_verified_in_place(size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    key, sealed = _sealed(data)
    verifier = key.signing_key.public  # type: ignore[attr-defined]
    plaintext = envelope.decrypt(sealed, [key], policy=DEFAULT)
    found, results = signenv.verify_content(
        bytes(plaintext), [verifier], policy=DEFAULT
    )
    content, in_place = signenv.open_signed(sealed, [key], [verifier], policy=DEFAULT)
    assert content == found == data
    assert isinstance(content, bytearray)
    assert [r.status for r in in_place] == [r.status for r in results] == ["good"]
    assert e2ee_mail.decrypt(sealed, key, verify_with=verifier) == data


def test_an_altered_content_octet_is_caught_in_place() -> None:
    data = b"A" * 1_200_000
    key, _ = _sealed(data)
    verifier = key.signing_key.public  # type: ignore[attr-defined]
    plaintext = envelope.decrypt(_sealed_with(key, data), [key], policy=DEFAULT)
    # The last content octet (of the last segment): flip it and encrypt again.
    fast = signed.read_signed_data(bytes(plaintext), max_signers=8)
    assert fast is not None and fast[1] is not None and len(fast[1]) > 1
    plaintext[fast[1][-1][1] - 1] ^= 1
    forged = bytes(envelope.encrypt(bytes(plaintext), [key.public], policy=DEFAULT))
    content, results = signenv.open_signed(forged, [key], [verifier], policy=DEFAULT)
    assert [r.status for r in results] == ["bad"]
    assert "differs" in results[0].reason
    assert content == data[:-1] + b"@"
    with pytest.raises(e2ee_mail.SignatureError):
        e2ee_mail.decrypt(forged, key, verify_with=verifier)


def _sealed_with(key: e2ee_mail.SecretKey, data: bytes) -> bytes:
    return bytes(e2ee_mail.encrypt(data, [key.public], sign_with=key.signing_key))  # type: ignore[attr-defined]
