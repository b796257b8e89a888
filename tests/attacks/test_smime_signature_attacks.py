"""Attacks on S/MIME and CMS signatures through the public API: each must end in
SignatureError (or a result that is not "good"), never in a message reported as
signed by the certificate the caller named.

- signature stripping: a signed-then-encrypted mail decrypted, its SignedData
  removed and the content re-encrypted to the same recipient;
- signer substitution: another key re-signs the content under a certificate that
  claims the same name and address;
- a signature over different content (detached CMS, and multipart/signed whose
  signed part was altered);
- signed and unsigned parts mixed: only a mail signed as a whole is reported signed;
- an expired signer certificate (signing time after its notAfter);
- SHA-1 refused.
"""

from __future__ import annotations

import base64
import datetime
from email.message import EmailMessage

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from signing_keys import NOW, make_signer, signer

import e2ee_mail
from e2ee_mail import PolicyError, SignatureError
from e2ee_mail.cms import oids
from e2ee_mail.cms.asn1 import der_oid, der_tlv
from e2ee_mail.cms.signed import (
    Attribute,
    SignerInfo,
    serialize_attributes,
    serialize_signed_data,
)
from e2ee_mail.cms.signing import SignedDataBuilder
from e2ee_mail.cms.structures import AlgorithmIdentifier
from e2ee_mail.x509 import certs, keygen

BODY = b"Pay invoice 1043 to account 12-3456.\r\n"


@pytest.fixture(scope="module")
def bob() -> certs.X509SecretKey:
    return keygen.generate("Bob <bob@example.org>", kind="x25519")


def _mail(text: str = "Pay invoice 1043.\n") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "alice@example.org"
    msg["To"] = "bob@example.org"
    msg["Subject"] = "Invoice"
    msg.set_content(text)
    return msg


def test_signature_stripping_cms(bob: certs.X509SecretKey) -> None:
    alice = signer("p256")
    sealed = e2ee_mail.encrypt(BODY, bob.public, sign_with=alice)
    content = e2ee_mail.decrypt_verified(sealed, bob).data
    stripped = e2ee_mail.encrypt(content, bob.public)
    with pytest.raises(SignatureError, match="not signed") as info:
        e2ee_mail.decrypt(stripped, bob, verify_with=alice.public)
    assert info.value.results == ()


def test_signature_stripping_smime(bob: certs.X509SecretKey) -> None:
    alice = signer("p256")
    sealed = e2ee_mail.encrypt_message(_mail(), bob.public, sign_with=alice)
    signed = e2ee_mail.decrypt_message_verified(sealed, bob, verify_with=alice.public)
    assert signed.good
    # The attacker re-encrypts the signed content without its signature layer.
    stripped = e2ee_mail.encrypt_message(signed.message, bob.public)
    with pytest.raises(SignatureError, match="not signed"):
        e2ee_mail.decrypt_message(stripped, bob, verify_with=alice.public)
    assert e2ee_mail.decrypt_message_verified(stripped, bob).signatures == ()


def test_signer_substitution(bob: certs.X509SecretKey) -> None:
    alice = signer("p256")
    # Same name and address, another key.
    mallory = make_signer("p256", "alice@example.org")
    forged = e2ee_mail.encrypt(BODY, bob.public, sign_with=mallory)
    with pytest.raises(SignatureError) as info:
        e2ee_mail.decrypt(forged, bob, verify_with=alice.public)
    assert [r.status for r in info.value.results] == ["unknown-signer"]
    signed = e2ee_mail.sign_message(_mail(), mallory)
    with pytest.raises(SignatureError):
        e2ee_mail.verify_message(signed, alice.public)


def test_signer_substitution_sid_pointing_at_victim() -> None:
    """Mallory signs but names Alice's certificate in the SignerInfo: the
    signature is checked against Alice's key and fails."""
    alice = signer("p256")
    mallory = make_signer("p256", "alice@example.org")
    builder = SignedDataBuilder([mallory])
    builder.update(BODY)
    sd = builder.signed_data(econtent=BODY)
    (info,) = sd.signer_infos
    victim_sid = SignedDataBuilder([alice])._signers[0].sid
    forged = serialize_signed_data(
        sd.__class__(
            version=sd.version,
            digest_algorithms=sd.digest_algorithms,
            econtent_type=sd.econtent_type,
            econtent=sd.econtent,
            certificates=(alice.public.der,),
            signer_infos=(
                SignerInfo(
                    version=info.version,
                    sid=victim_sid,
                    digest_algorithm=info.digest_algorithm,
                    signed_attrs=info.signed_attrs,
                    signature_algorithm=info.signature_algorithm,
                    signature=info.signature,
                ),
            ),
        )
    )
    with pytest.raises(SignatureError) as raised:
        e2ee_mail.verify(forged, alice.public)
    assert [r.status for r in raised.value.results] == ["bad"]


def test_signature_over_different_content() -> None:
    alice = signer("rsa2048")
    sig = e2ee_mail.sign(BODY, alice, detached=True)
    with pytest.raises(SignatureError) as info:
        e2ee_mail.verify(
            BODY.replace(b"12-3456", b"99-9999"), alice.public, signature=sig
        )
    assert [r.status for r in info.value.results] == ["bad"]
    assert "differs" in info.value.results[0].reason


def test_multipart_signed_with_altered_signed_part() -> None:
    alice = signer("p256")
    raw = e2ee_mail.sign_message(_mail(), alice).as_bytes()
    assert raw.count(b"Pay invoice 1043.") == 1
    altered = raw.replace(b"Pay invoice 1043.", b"Pay invoice 6666.")
    with pytest.raises(SignatureError) as info:
        e2ee_mail.verify_message(altered, alice.public)
    assert [r.status for r in info.value.results] == ["bad"]
    # A protected header field changed inside the signed part fails the same way.
    altered = raw.replace(
        b"\r\nSubject: Invoice\r\nContent-Type", b"\r\nSubject: Refund\r\nContent-Type"
    )
    assert altered != raw
    with pytest.raises(SignatureError):
        e2ee_mail.verify_message(altered, alice.public)


def test_opaque_signed_with_altered_content() -> None:
    alice = signer("p256")
    signed = e2ee_mail.sign_message(_mail(), alice, opaque=True)
    der = bytearray(base64.b64decode(signed.get_payload()))
    at = der.find(b"Pay invoice 1043.")
    der[at + 12 : at + 16] = b"6666"
    signed.set_payload(base64.encodebytes(bytes(der)).decode())
    with pytest.raises(SignatureError):
        e2ee_mail.verify_message(signed.as_bytes(), alice.public)


def test_signed_and_unsigned_parts_mixed(bob: certs.X509SecretKey) -> None:
    alice = signer("p256")
    signed = e2ee_mail.sign_message(_mail(), alice)
    mixed = EmailMessage()
    mixed["From"] = "alice@example.org"
    mixed["To"] = "bob@example.org"
    mixed["Subject"] = "Invoice"
    mixed.set_content("Ignore the part below, pay to 99-9999 instead.\n")
    mixed.add_attachment(signed)
    assert mixed.get_content_type() == "multipart/mixed"
    with pytest.raises(SignatureError, match="not signed") as info:
        e2ee_mail.verify_message(mixed.as_bytes(), alice.public)
    assert info.value.results == ()
    # The signed part alone is reported signed, and only it.
    part = mixed.get_payload()[1].get_payload(0)
    verified = e2ee_mail.verify_message(part, alice.public)
    assert "99-9999" not in verified.message.get_content()
    # The same mix signed-then-encrypted is no signed mail either.
    sealed = e2ee_mail.encrypt_message(mixed, bob.public)
    with pytest.raises(SignatureError, match="not signed"):
        e2ee_mail.decrypt_message(sealed, bob, verify_with=alice.public)


def test_expired_signer_certificate() -> None:
    expired = make_signer(
        "p256",
        not_before=NOW - datetime.timedelta(days=30),
        not_after=NOW - datetime.timedelta(days=10),
    )
    with pytest.raises(PolicyError):
        e2ee_mail.sign(BODY, expired)
    # Signed while valid, but claiming a signing time after the certificate ended.
    builder = SignedDataBuilder(
        [expired],
        now=(NOW - datetime.timedelta(days=20)).timestamp(),
        signing_time=NOW - datetime.timedelta(days=1),
    )
    builder.update(BODY)
    late = builder.finish(econtent=BODY)
    with pytest.raises(SignatureError) as info:
        e2ee_mail.verify(late, expired.public)
    assert [r.status for r in info.value.results] == ["expired-key"]
    # Signed within the validity period: still good afterwards.
    builder = SignedDataBuilder(
        [expired],
        now=(NOW - datetime.timedelta(days=20)).timestamp(),
        signing_time=NOW - datetime.timedelta(days=20),
    )
    builder.update(BODY)
    assert e2ee_mail.verify(builder.finish(econtent=BODY), expired.public).good


def _sha1_signed_data(key: certs.X509SecretKey) -> bytes:
    """A genuine ECDSA-with-SHA1 SignedData (the digest and the signature really
    are SHA-1), built with the codec."""
    builder = SignedDataBuilder([key])
    builder.update(BODY)
    sd = builder.signed_data(econtent=BODY)
    (info,) = sd.signer_infos
    digest = hashes.Hash(hashes.SHA1())
    digest.update(BODY)
    attrs = serialize_attributes(
        [
            Attribute(oids.ATTR_CONTENT_TYPE, (der_oid(oids.DATA),)),
            Attribute(oids.ATTR_MESSAGE_DIGEST, (der_tlv(0x04, digest.finalize()),)),
        ]
    )
    private = key.private_key
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    sha1 = AlgorithmIdentifier(oids.SHA1)
    return serialize_signed_data(
        sd.__class__(
            version=sd.version,
            digest_algorithms=(sha1,),
            econtent_type=sd.econtent_type,
            econtent=BODY,
            certificates=sd.certificates,
            signer_infos=(
                SignerInfo(
                    version=info.version,
                    sid=info.sid,
                    digest_algorithm=sha1,
                    signed_attrs=attrs,
                    signature_algorithm=AlgorithmIdentifier(oids.ECDSA_WITH_SHA1),
                    signature=private.sign(attrs, ec.ECDSA(hashes.SHA1())),
                ),
            ),
        )
    )


def test_sha1_refused() -> None:
    alice = signer("p256")
    with pytest.raises(SignatureError) as info:
        e2ee_mail.verify(_sha1_signed_data(alice), alice.public)
    assert [r.status for r in info.value.results] == ["policy-refused"]


def test_several_signatures_one_bad() -> None:
    """Two signers, one signature damaged: each gets its own verdict, and the good
    one by a named certificate still counts; naming only the damaged one's
    certificate fails."""
    alice, carol = signer("p256"), signer("rsa2048", "carol@example.org")
    builder = SignedDataBuilder([alice, carol])
    builder.update(BODY)
    sd = builder.signed_data(econtent=BODY)
    first, second = sd.signer_infos
    broken = bytearray(second.signature)
    broken[-1] ^= 1
    damaged = serialize_signed_data(
        sd.__class__(
            version=sd.version,
            digest_algorithms=sd.digest_algorithms,
            econtent_type=sd.econtent_type,
            econtent=sd.econtent,
            certificates=sd.certificates,
            signer_infos=(
                first,
                SignerInfo(
                    version=second.version,
                    sid=second.sid,
                    digest_algorithm=second.digest_algorithm,
                    signed_attrs=second.signed_attrs,
                    signature_algorithm=second.signature_algorithm,
                    signature=bytes(broken),
                ),
            ),
        )
    )
    verified = e2ee_mail.verify(damaged, [alice.public, carol.public])
    assert [s.status for s in verified.signatures] == ["good", "bad"]
    with pytest.raises(SignatureError) as info:
        e2ee_mail.verify(damaged, carol.public)
    assert [r.status for r in info.value.results] == ["unknown-signer", "bad"]
