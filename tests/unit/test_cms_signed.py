"""CMS SignedData written and read back: every algorithm, detached and encapsulated,
in memory and as a stream; the codec's values (versions, signer identifiers, signed
attributes, times); which keys may sign."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID
from signing_keys import NOW, Kind, make_signer, signer

import e2ee_mail
from e2ee_mail.cms import oids, signed, signing, verification
from e2ee_mail.cms.asn1 import der_tlv
from e2ee_mail.core import signature

BODY = b"Signed body line\r\n" * 200 + b"last line"

ALGORITHMS = [
    ("rsa2048", False, "rsa-pkcs1v15-sha256"),
    ("rsa2048", True, "rsa-pss-sha256"),
    ("p256", False, "ecdsa-p256-sha256"),
    ("p384", False, "ecdsa-p384-sha384"),
    ("ed25519", False, "ed25519"),
]


@pytest.mark.parametrize(("kind", "pss", "name"), ALGORITHMS)
@pytest.mark.parametrize("detached", [True, False], ids=["detached", "opaque"])
def test_round_trip_gives_a_good_signature(
    kind: Kind, pss: bool, name: str, detached: bool
) -> None:
    key = signer(kind)
    der = signing.sign(BODY, [key], detached=detached, pss=pss)
    content = BODY if detached else None
    body, results = verification.verify(der, [key.public], content=content)
    assert body == BODY
    (result,) = results
    assert result.good, result
    assert result.algorithm == name
    assert result.fingerprint == key.public.fingerprint
    assert result.signer == "alice@example.org"
    assert result.certificate == key.public
    assert result.signing_time is not None
    sd = signed.parse_signed_data(der, max_signers=8)
    assert (sd.econtent is None) == detached


def test_signed_data_fields_follow_rfc_5652() -> None:
    key = signer("rsa2048")
    sd = signed.parse_signed_data(signing.sign(BODY, [key]), max_signers=8)
    assert sd.version == 1
    assert sd.econtent_type == oids.DATA
    assert sd.certificates == (key.public.der,)
    assert [a.algorithm for a in sd.digest_algorithms] == [oids.SHA256]
    (info,) = sd.signer_infos
    assert info.version == 1
    assert info.sid.issuer == key.public.issuer_der
    assert info.sid.serial_number == key.public.serial_number
    assert info.signature_algorithm.algorithm == oids.SHA256_WITH_RSA
    assert info.signature_algorithm.parameters == b"\x05\x00"
    assert info.digest_algorithm.parameters is None


def test_subject_key_identifier_makes_version_3() -> None:
    key = signer("p256")
    der = signing.sign(BODY, [key], use_ski=True)
    sd = signed.parse_signed_data(der, max_signers=8)
    assert sd.version == 3
    assert sd.signer_infos[0].version == 3
    assert sd.signer_infos[0].sid.subject_key_identifier == (
        key.public.subject_key_identifier
    )
    assert verification.verify(der, [key.public], content=BODY)[1][0].good


def test_signed_attributes_are_the_four_we_promise() -> None:
    key = signer("ed25519")
    when = datetime.datetime(2026, 12, 6, 12, 0, 0, tzinfo=datetime.UTC)
    sd = signed.parse_signed_data(
        signing.sign(BODY, [key], signing_time=when), max_signers=8
    )
    (info,) = sd.signer_infos
    assert info.signed_attrs is not None
    attrs = signed.parse_attributes(info.signed_attrs)
    by_type = {a.attr_type: a.values for a in attrs}
    assert set(by_type) == {
        oids.ATTR_CONTENT_TYPE,
        oids.ATTR_MESSAGE_DIGEST,
        oids.ATTR_SIGNING_TIME,
        oids.ATTR_SMIME_CAPABILITIES,
    }
    # RFC 8419 §3.1: Ed25519 with SHA-512 for the message digest.
    assert by_type[oids.ATTR_MESSAGE_DIGEST] == (
        b"\x04\x40" + hashlib.sha512(BODY).digest(),
    )
    assert signed.decode_time(by_type[oids.ATTR_SIGNING_TIME][0]) == when
    # smimeCapabilities: AES-256-GCM first (RFC 8551 §2.5.2).
    caps = by_type[oids.ATTR_SMIME_CAPABILITIES][0]
    assert caps.startswith(
        b"\x30\x0d\x30\x0b\x06\x09\x60\x86\x48\x01\x65\x03\x04\x01\x2e"
    )


def test_several_signers_share_one_pass_over_the_content() -> None:
    keys = [signer("rsa2048"), signer("p384", "bob@example.org"), signer("ed25519")]
    builder = signing.SignedDataBuilder(keys)
    assert set(builder.hash_names) == {"sha256", "sha384", "sha512"}
    for start in range(0, len(BODY), 1000):
        builder.update(BODY[start : start + 1000])
    der = builder.finish()
    _, results = verification.verify(der, [k.public for k in keys], content=BODY)
    assert [r.status for r in results] == ["good"] * 3
    assert sorted(r.algorithm or "" for r in results) == [
        "ecdsa-p384-sha384",
        "ed25519",
        "rsa-pkcs1v15-sha256",
    ]


def test_digests_from_the_caller_give_the_same_signature_input() -> None:
    key = signer("ed25519")
    when = NOW
    builder = signing.SignedDataBuilder([key], signing_time=when)
    der = builder.finish(digests={"sha512": hashlib.sha512(BODY).digest()})
    assert verification.verify(der, [key.public], content=BODY)[1][0].good
    with pytest.raises(e2ee_mail.UsageError):
        signing.SignedDataBuilder([key]).finish(digests={"sha256": b"x" * 32})


@pytest.mark.parametrize("kind", ["rsa2048", "p256"])
def test_streamed_signed_data_is_ber_that_verifies(kind: Kind) -> None:
    key = signer(kind)
    builder = signing.SignedDataBuilder([key])
    parts = [builder.stream_head()]
    for start in range(0, len(BODY), 777):
        parts.append(builder.stream_chunk(BODY[start : start + 777]))
    parts.append(builder.stream_chunk(b""))
    parts.append(builder.stream_tail())
    streamed = b"".join(parts)
    assert streamed.startswith(b"\x30\x80")
    body, results = verification.verify(streamed, [key.public])
    assert body == BODY
    assert results[0].good


def test_time_values_follow_rfc_5652_section_11_3() -> None:
    early = datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)
    late = datetime.datetime(2050, 1, 1, tzinfo=datetime.UTC)
    old = datetime.datetime(1950, 1, 1, tzinfo=datetime.UTC)
    assert signed.encode_time(early) == b"\x17\x0d491231235959Z"
    assert signed.encode_time(late) == b"\x18\x0f20500101000000Z"
    for moment in (early, late, old):
        assert signed.decode_time(signed.encode_time(moment)) == moment
    for bad in (b"\x17\x0b4912312359Z", b"\x18\x0f2050010100000+0", b"\x04\x00"):
        with pytest.raises(e2ee_mail.ASN1Error):
            signed.decode_time(bad)


def test_unsorted_or_non_der_signed_attributes_are_refused() -> None:
    a = signed.Attribute(oids.ATTR_CONTENT_TYPE, (b"\x06\x01\x01",))
    b = signed.Attribute(oids.ATTR_MESSAGE_DIGEST, (b"\x04\x01\x00",))
    good = signed.serialize_attributes([b, a])
    assert [x.attr_type for x in signed.parse_attributes(good)] == [
        oids.ATTR_CONTENT_TYPE,
        oids.ATTR_MESSAGE_DIGEST,
    ]
    # The same two elements in the other order.
    first = signed.serialize_attributes([a])[2:]
    second = signed.serialize_attributes([b])[2:]
    unsorted = der_tlv(0x31, second + first)
    for bad in (
        unsorted,
        b"\x31\x81\x03" + good[2:5],  # a long length where a short one fits
        b"\x31\x00",
        good + b"\x00",
    ):
        with pytest.raises(e2ee_mail.ASN1Error):
            signed.parse_attributes(bad)


def test_keys_that_may_not_sign_are_refused() -> None:
    with pytest.raises(e2ee_mail.PolicyError, match="digitalSignature"):
        signing.SignedDataBuilder([make_signer("p256", usage="encrypt")])
    server_only = make_signer("p256", eku=(ExtendedKeyUsageOID.SERVER_AUTH,))
    with pytest.raises(e2ee_mail.PolicyError, match="emailProtection"):
        signing.SignedDataBuilder([server_only])
    expired = make_signer(
        "ed25519",
        not_before=NOW - datetime.timedelta(days=10),
        not_after=NOW - datetime.timedelta(days=5),
    )
    with pytest.raises(e2ee_mail.PolicyError, match="expired"):
        signing.SignedDataBuilder([expired])
    # Neither extension: no restriction (RFC 8550 §4.4.2).
    signing.SignedDataBuilder([make_signer("p256", usage="none", eku=None)])


def test_x25519_key_cannot_sign(xkey: e2ee_mail.SecretKey) -> None:
    with pytest.raises((e2ee_mail.PolicyError, e2ee_mail.UnsupportedError)):
        signing.SignedDataBuilder([xkey])  # type: ignore[list-item]


def test_signing_needs_the_certificate_and_an_x509_key(
    alice: e2ee_mail.SecretKey,
) -> None:
    from e2ee_mail.x509 import certs

    bare = certs.X509SecretKey(signer("p256").private_key, None)
    with pytest.raises(e2ee_mail.KeyLoadError):
        signing.SignedDataBuilder([bare])
    with pytest.raises(e2ee_mail.UsageError):
        signing.SignedDataBuilder([alice])  # type: ignore[list-item]
    with pytest.raises(e2ee_mail.UsageError):
        signing.SignedDataBuilder([])


def test_ed25519_key_loads_and_opens_no_envelope(rkey: e2ee_mail.SecretKey) -> None:
    key = signer("ed25519")
    loaded = e2ee_mail.load_key(key.export())
    assert loaded.public == key.public
    message = e2ee_mail.encrypt(b"hi", [rkey.public], format="cms")
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(message, [loaded])


def test_core_signature_rejects_mismatched_keys() -> None:
    rsa_key = signer("rsa2048").private_key
    ed = signer("ed25519").private_key
    scheme = signature.Scheme("ed25519", "sha512")
    with pytest.raises(ValueError):
        signature.sign(rsa_key, scheme, b"x")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        signature.sign_digest(ed, scheme, bytes(64))  # type: ignore[arg-type]
    sig = signature.sign(ed, scheme, b"x")  # type: ignore[arg-type]
    assert not signature.verify(rsa_key.public_key(), scheme, sig, b"x")  # type: ignore[union-attr]
    assert not signature.verify_digest(ed.public_key(), scheme, sig, bytes(64))  # type: ignore[union-attr]


def test_pem_signed_data_verifies_and_micalg_names_the_hashes() -> None:
    from e2ee_mail.cms import pem

    keys = [signer("rsa2048"), signer("ed25519")]
    builder = signing.SignedDataBuilder(keys)
    assert builder.micalg == "sha-256,sha-512"
    builder.update(BODY)
    armored = bytes(pem.armor(builder.finish(), b"PKCS7"))
    results = verification.verify(armored, [k.public for k in keys], content=BODY)[1]
    assert [r.good for r in results] == [True, True]
