"""Verdicts on CMS SignedData: tampered content and attributes, the wrong
certificate, refused algorithms, several signers with one bad, expired keys,
signatures without signed attributes, and signature-type confusion."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from signing_keys import NOW, make_signer, signer

import e2ee_mail
from e2ee_mail.cms import oids, sigalgs, signed, signing, verification
from e2ee_mail.cms.asn1 import der_oid, der_tlv
from e2ee_mail.cms.structures import AlgorithmIdentifier, RecipientId
from e2ee_mail.core.signature import Scheme
from e2ee_mail.x509 import certs

BODY = b"Pay Bob 10 EUR.\r\n"
NULL = b"\x05\x00"
SHA256_WITH_RSA = AlgorithmIdentifier(oids.SHA256_WITH_RSA, NULL)


def _verify(
    der: bytes, trusted: list[certs.X509Certificate], content: bytes | None = BODY
) -> tuple[e2ee_mail.SignatureResult, ...]:
    return verification.verify(der, trusted, content=content)[1]


def _replace_info(der: bytes, index: int = 0, **changes: object) -> bytes:
    sd = signed.parse_signed_data(der, max_signers=8)
    infos = list(sd.signer_infos)
    infos[index] = dataclasses.replace(infos[index], **changes)  # type: ignore[arg-type]
    return signed.serialize_signed_data(
        dataclasses.replace(sd, signer_infos=tuple(infos))
    )


def _manual(
    key: certs.X509SecretKey,
    content: bytes,
    *,
    digest_oid: str = oids.SHA256,
    hash_name: str = "sha256",
    sig_alg: AlgorithmIdentifier = SHA256_WITH_RSA,
    content_type: str = oids.DATA,
    econtent_type: str = oids.DATA,
    with_attrs: bool = True,
    encapsulate: bool = False,
) -> bytes:
    """SignedData made by hand, around signatures `cryptography` computes, for the
    algorithms and shapes the builder never writes."""
    cert = key.public
    chosen = {
        "sha1": hashes.SHA1(),
        "md5": hashes.MD5(),
        "sha256": hashes.SHA256(),
        "sha512": hashes.SHA512(),
    }[hash_name]
    if with_attrs:
        attrs = signed.serialize_attributes(
            [
                signed.Attribute(oids.ATTR_CONTENT_TYPE, (der_oid(content_type),)),
                signed.Attribute(
                    oids.ATTR_MESSAGE_DIGEST,
                    (der_tlv(0x04, hashlib.new(hash_name, content).digest()),),
                ),
            ]
        )
        signed_octets: bytes = attrs
    else:
        attrs = None
        signed_octets = content
    private = key.private_key
    if isinstance(private, rsa.RSAPrivateKey):
        sig = private.sign(signed_octets, padding.PKCS1v15(), chosen)
    elif isinstance(private, ec.EllipticCurvePrivateKey):
        sig = private.sign(signed_octets, ec.ECDSA(chosen))
    else:
        sig = private.sign(signed_octets)  # type: ignore[call-arg,union-attr]
    info = signed.SignerInfo(
        version=1,
        sid=RecipientId(issuer=cert.issuer_der, serial_number=cert.serial_number),
        digest_algorithm=AlgorithmIdentifier(digest_oid),
        signed_attrs=attrs,
        signature_algorithm=sig_alg,
        signature=sig,
    )
    sd = signed.SignedData(
        version=1,
        digest_algorithms=(AlgorithmIdentifier(digest_oid),),
        econtent_type=econtent_type,
        econtent=content if encapsulate else None,
        certificates=(cert.der,),
        signer_infos=(info,),
    )
    return signed.serialize_signed_data(sd)


def test_good_signature_reads_as_a_sentence() -> None:
    key = signer("ed25519")
    when = datetime.datetime(2026, 12, 6, 21, 0, 5, tzinfo=datetime.UTC)
    der = signing.sign(BODY, [key], signing_time=when)
    (result,) = _verify(der, [key.public])
    assert str(result) == (
        f"good signature from alice@example.org (fingerprint "
        f"{key.public.fingerprint}) made 2026-12-06 21:00:05 UTC with ed25519"
    )
    assert result.reason == ""
    assert "good signature from alice@example.org" in repr(result)


@pytest.mark.parametrize("kind", ["rsa2048", "p256", "ed25519"])
def test_tampered_content_is_bad(kind: str) -> None:
    key = signer(kind)  # type: ignore[arg-type]
    der = signing.sign(BODY, [key])
    (result,) = _verify(der, [key.public], BODY.replace(b"10", b"99"))
    assert result.status == "bad"
    assert "content differs" in result.reason
    opaque = signing.sign(BODY, [key], detached=False)
    tampered = opaque.replace(b"Pay Bob 10", b"Pay Eve 10")
    assert tampered != opaque
    assert _verify(tampered, [key.public], None)[0].status == "bad"


@pytest.mark.parametrize("kind", ["rsa2048", "p256", "ed25519"])
def test_tampered_signed_attribute_is_bad(kind: str) -> None:
    key = signer(kind)  # type: ignore[arg-type]
    der = signing.sign(BODY, [key], signing_time=NOW)
    later = signed.encode_time(NOW + datetime.timedelta(days=3))
    info = signed.parse_signed_data(der, max_signers=8).signer_infos[0]
    assert info.signed_attrs is not None
    attrs = info.signed_attrs.replace(signed.encode_time(NOW), later)
    assert attrs != info.signed_attrs
    (result,) = _verify(_replace_info(der, signed_attrs=attrs), [key.public])
    assert result.status == "bad"
    assert result.reason == "the signature does not match"


def test_tampered_signature_is_bad() -> None:
    key = signer("rsa2048")
    der = signing.sign(BODY, [key], pss=True)
    info = signed.parse_signed_data(der, max_signers=8).signer_infos[0]
    flipped = bytes([info.signature[0] ^ 1]) + info.signature[1:]
    assert _verify(_replace_info(der, signature=flipped), [key.public])[0].status == (
        "bad"
    )


def test_wrong_certificate_is_unknown_signer() -> None:
    key, other = signer("p256"), signer("p256", "bob@example.org")
    der = signing.sign(BODY, [key])
    (result,) = _verify(der, [other.public])
    # The carried certificate names the signer, but is not one the caller trusts.
    assert result.status == "unknown-signer"
    assert result.certificate == key.public
    assert result.signer == "alice@example.org"
    sd = signed.parse_signed_data(der, max_signers=8)
    bare = signed.serialize_signed_data(dataclasses.replace(sd, certificates=()))
    (result,) = _verify(bare, [other.public])
    assert result.status == "unknown-signer"
    assert result.fingerprint is None
    assert result.certificate is None
    assert not result.good


def test_carried_certificate_does_not_rescue_a_bad_signature() -> None:
    key = signer("p256")
    der = signing.sign(BODY, [key])
    assert _verify(der, [], BODY + b"!")[0].status == "bad"


def test_signer_substitution_with_another_key_is_bad() -> None:
    # Mallory re-signs Alice's attributes with his key but names Alice's certificate.
    alice, mallory = signer("rsa2048"), signer("rsa2048", "mallory@example.org")
    der = signing.sign(BODY, [alice])
    forged = signing.sign(BODY, [mallory])
    forged_info = signed.parse_signed_data(forged, max_signers=8).signer_infos[0]
    swapped = _replace_info(
        der,
        signed_attrs=forged_info.signed_attrs,
        signature=forged_info.signature,
    )
    assert _verify(swapped, [alice.public])[0].status == "bad"


@pytest.mark.parametrize(
    ("digest_oid", "hash_name", "sig_oid"),
    [
        (oids.SHA1, "sha1", oids.SHA1_WITH_RSA),
        (oids.SHA1, "sha1", oids.RSA_ENCRYPTION),
        (oids.MD5, "md5", oids.MD5_WITH_RSA),
        (oids.MD5, "md5", oids.RSA_ENCRYPTION),
    ],
)
def test_sha1_and_md5_are_policy_refused(
    digest_oid: str, hash_name: str, sig_oid: str
) -> None:
    key = signer("rsa2048")
    der = _manual(
        key,
        BODY,
        digest_oid=digest_oid,
        hash_name=hash_name,
        sig_alg=AlgorithmIdentifier(sig_oid, NULL),
    )
    (result,) = _verify(der, [key.public])
    assert result.status == "policy-refused"
    assert not result.good
    assert "refused" in result.reason


def test_ecdsa_with_sha1_is_policy_refused() -> None:
    key = signer("p256")
    der = _manual(
        key,
        BODY,
        digest_oid=oids.SHA1,
        hash_name="sha1",
        sig_alg=AlgorithmIdentifier(oids.ECDSA_WITH_SHA1),
    )
    assert _verify(der, [key.public])[0].status == "policy-refused"


def test_rsa_encryption_as_signature_algorithm_is_read() -> None:
    # What OpenSSL writes (RFC 3370 §3.2): the hash is the digest algorithm's.
    key = signer("rsa2048")
    der = _manual(key, BODY, sig_alg=AlgorithmIdentifier(oids.RSA_ENCRYPTION, NULL))
    (result,) = _verify(der, [key.public])
    assert result.good, result
    assert result.algorithm == "rsa-pkcs1v15-sha256"


def test_signature_hash_other_than_the_digest_is_refused() -> None:
    key = signer("rsa2048")
    der = _manual(key, BODY, sig_alg=AlgorithmIdentifier(oids.SHA512_WITH_RSA, NULL))
    assert _verify(der, [key.public])[0].status == "policy-refused"


def test_small_rsa_key_is_policy_refused() -> None:
    key = make_signer("rsa1024")
    (result,) = _verify(signing.sign(BODY, [key]), [key.public])
    assert result.status == "policy-refused"
    assert "1024 bits" in result.reason
    loose = dataclasses.replace(e2ee_mail.DEFAULT, min_rsa_bits=1024)
    der = signing.sign(BODY, [key])
    assert verification.verify(der, [key.public], content=BODY, policy=loose)[1][0].good


def test_two_signers_one_bad_reports_both() -> None:
    alice, bob = signer("ed25519"), signer("p256", "bob@example.org")
    der = signing.sign(BODY, [alice, bob])
    # SignerInfos is a SET OF: its order is the DER order, not the signers'.
    infos = signed.parse_signed_data(der, max_signers=8).signer_infos
    (at,) = [
        i
        for i, x in enumerate(infos)
        if x.sid.serial_number == bob.public.serial_number
    ]
    bad = infos[at].signature[:-4] + b"\x00" * 4
    results = _verify(_replace_info(der, at, signature=bad), [alice.public, bob.public])
    assert {r.signer: r.status for r in results} == {
        "alice@example.org": "good",
        "bob@example.org": "bad",
    }


def test_expired_certificate_at_signing_time_is_expired_key() -> None:
    key = make_signer(
        "p256",
        not_before=NOW - datetime.timedelta(days=10),
        not_after=NOW - datetime.timedelta(days=5),
    )
    then = (NOW - datetime.timedelta(days=7)).timestamp()
    # Made while the certificate was valid: still good after it expired.
    valid = signing.SignedDataBuilder(
        [key], now=then, signing_time=NOW - datetime.timedelta(days=7)
    )
    valid.update(BODY)
    assert _verify(valid.finish(), [key.public])[0].good
    # Claiming a signing time after the certificate's end.
    late = signing.SignedDataBuilder([key], now=then, signing_time=NOW)
    late.update(BODY)
    (result,) = _verify(late.finish(), [key.public])
    assert result.status == "expired-key"
    assert "expired" in result.reason


def test_certificate_that_may_not_sign_is_policy_refused() -> None:
    key = make_signer("rsa2048", usage="encrypt")
    (result,) = _verify(_manual(key, BODY), [key.public])
    assert result.status == "policy-refused"
    assert "digitalSignature" in result.reason


def test_content_type_attribute_mismatch_is_bad() -> None:
    key = signer("rsa2048")
    der = _manual(key, BODY, content_type=oids.SIGNED_DATA)
    (result,) = _verify(der, [key.public])
    assert result.status == "bad"
    assert "content-type" in result.reason


@pytest.mark.parametrize("kind", ["rsa2048", "p256", "ed25519"])
def test_signature_without_signed_attributes_verifies_over_the_content(
    kind: str,
) -> None:
    # RFC 5652 §5.4: without signed attributes the signature covers the content.
    key = signer(kind)  # type: ignore[arg-type]
    # RFC 8419 §3.1: SHA-512 as the digest algorithm with Ed25519.
    sha512 = kind == "ed25519"
    der = _manual(
        key,
        BODY,
        with_attrs=False,
        sig_alg=_sig_alg(kind),
        digest_oid=oids.SHA512 if sha512 else oids.SHA256,
        hash_name="sha512" if sha512 else "sha256",
    )
    (result,) = _verify(der, [key.public])
    assert result.good, result
    assert result.signing_time is None


def _sig_alg(kind: str) -> AlgorithmIdentifier:
    if kind == "p256":
        return AlgorithmIdentifier(oids.ECDSA_WITH_SHA256)
    if kind == "ed25519":
        return AlgorithmIdentifier(oids.ED25519)
    return AlgorithmIdentifier(oids.SHA256_WITH_RSA, NULL)


def test_ed25519_without_attributes_needs_the_content() -> None:
    key = signer("ed25519")
    der = _manual(
        key,
        BODY,
        with_attrs=False,
        digest_oid=oids.SHA512,
        hash_name="sha512",
        sig_alg=AlgorithmIdentifier(oids.ED25519),
    )
    sd = signed.parse_signed_data(der, max_signers=8)
    hasher = verification.ContentHasher(verification.hash_names(sd))
    hasher.update(BODY)
    (result,) = verification.verify_signed_data(sd, hasher.digests(), [key.public])
    assert result.status == "policy-refused"
    (result,) = verification.verify_signed_data(
        sd, hasher.digests(), [key.public], content=BODY
    )
    assert result.good


def test_missing_signed_attributes_for_other_content_types_is_bad() -> None:
    key = signer("rsa2048")
    der = _manual(key, BODY, with_attrs=False, econtent_type=oids.SIGNED_DATA)
    assert _verify(der, [key.public])[0].status == "bad"


@pytest.mark.parametrize("kind", ["rsa2048", "p256", "ed25519"])
def test_attribute_signature_passed_off_as_a_content_signature_is_bad(
    kind: str,
) -> None:
    # Signature-type confusion: the signature over one message's signed attributes
    # is a valid signature over those octets; presented as a signature without
    # attributes over a "content" that is those octets, it must not verify.
    key = signer(kind)  # type: ignore[arg-type]
    original = signing.sign(b"another message", [key])
    info = signed.parse_signed_data(original, max_signers=8).signer_infos[0]
    assert info.signed_attrs is not None
    confused = _replace_info(original, signed_attrs=None)
    (result,) = _verify(confused, [key.public], info.signed_attrs)
    assert result.status == "bad"
    assert "signed attributes" in result.reason


def test_non_der_signed_attributes_are_bad() -> None:
    key = signer("rsa2048")
    der = signing.sign(BODY, [key])
    info = signed.parse_signed_data(der, max_signers=8).signer_infos[0]
    assert info.signed_attrs is not None
    attrs = signed.parse_attributes(info.signed_attrs)
    elements = [
        der_tlv(0x30, der_oid(a.attr_type) + der_tlv(0x31, b"".join(a.values)))
        for a in attrs
    ]
    unsorted = der_tlv(0x31, b"".join(reversed(elements)))
    # Signed as they stand: the signature is right, the encoding is not DER.
    private = key.private_key
    assert isinstance(private, rsa.RSAPrivateKey)
    sig = private.sign(unsorted, padding.PKCS1v15(), hashes.SHA256())
    (result,) = _verify(
        _replace_info(der, signed_attrs=unsorted, signature=sig), [key.public]
    )
    assert result.status == "bad"
    assert "not DER" in result.reason


def test_duplicate_message_digest_is_bad() -> None:
    key = signer("ed25519")
    digest = der_tlv(0x04, hashlib.sha512(BODY).digest())
    attrs = signed.serialize_attributes(
        [
            signed.Attribute(oids.ATTR_CONTENT_TYPE, (der_oid(oids.DATA),)),
            signed.Attribute(oids.ATTR_MESSAGE_DIGEST, (digest, der_tlv(0x04, b""))),
        ]
    )
    der = signing.sign(BODY, [key])
    private = key.private_key
    sig = private.sign(attrs)  # type: ignore[call-arg,union-attr]
    (result,) = _verify(
        _replace_info(der, signed_attrs=attrs, signature=sig), [key.public]
    )
    assert result.status == "bad"


def test_detached_and_encapsulated_content_are_not_mixed_up() -> None:
    key = signer("ed25519")
    with pytest.raises(e2ee_mail.UsageError, match="detached"):
        verification.verify(signing.sign(BODY, [key]), [key.public])
    with pytest.raises(e2ee_mail.UsageError, match="carries"):
        verification.verify(
            signing.sign(BODY, [key], detached=False), [key.public], content=BODY
        )


def test_not_signed_data_is_asn1_error(rkey: e2ee_mail.SecretKey) -> None:
    envelope = bytes(e2ee_mail.encrypt(b"x", [rkey.public], format="cms"))
    with pytest.raises(e2ee_mail.ASN1Error, match="not CMS SignedData"):
        verification.verify(envelope, [])
    with pytest.raises(e2ee_mail.ASN1Error):
        verification.verify(b"\x30\x03\x02\x01\x01", [])


def test_signature_error_carries_the_results() -> None:
    key = signer("p256")
    results = _verify(signing.sign(BODY, [key]), [], BODY + b"x")
    error = e2ee_mail.SignatureError("no good signature", results)
    assert isinstance(error, e2ee_mail.Error)
    assert error.results == results


@pytest.mark.parametrize("salt", [2**70, 10_000, -1])
def test_pss_salt_lengths_beyond_the_key_are_bad(salt: int) -> None:
    key = signer("rsa2048")
    der = signing.sign(BODY, [key], pss=True)
    alg = sigalgs.signature_algorithm(Scheme("rsa-pss", "sha256", salt))
    (result,) = _verify(_replace_info(der, signature_algorithm=alg), [key.public])
    assert result.status == "bad"
