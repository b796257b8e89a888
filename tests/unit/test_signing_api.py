"""The public signing API: sign_with on encrypt, verify_with on decrypt, sign,
verify, decrypt_verified, and their S/MIME mail forms, round trip by round trip."""

from __future__ import annotations

import io
from email.message import EmailMessage

import pytest
from signing_keys import signer

import e2ee_mail
from e2ee_mail import SignatureError, UsageError
from e2ee_mail.x509 import certs, keygen

BODY = b"Meeting moved to 3pm.\r\n" * 20


@pytest.fixture(scope="module")
def bob() -> certs.X509SecretKey:
    return keygen.generate("Bob <bob@example.org>", kind="x25519")


def _mail(text: str = "See you at 3pm.\n") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Alice <alice@example.org>"
    msg["To"] = "bob@example.org"
    msg["Subject"] = "Plans"
    msg.set_content(text)
    return msg


@pytest.mark.parametrize("kind", ["rsa2048", "p256", "p384", "ed25519"])
def test_encrypt_signed_round_trip(kind: str, bob: certs.X509SecretKey) -> None:
    alice = signer(kind)  # type: ignore[arg-type]
    sealed = e2ee_mail.encrypt(BODY, bob.public, sign_with=alice)
    assert e2ee_mail.decrypt(sealed, bob, verify_with=alice.public) == BODY
    verified = e2ee_mail.decrypt_verified(sealed, bob, verify_with=[alice.public])
    assert verified.data == BODY
    assert [s.status for s in verified.signatures] == ["good"]
    assert verified.signatures[0].signer == "alice@example.org"


def test_decrypt_verified_reports_without_deciding(bob: certs.X509SecretKey) -> None:
    sealed = e2ee_mail.encrypt(BODY, bob.public, sign_with=signer("p256"))
    verified = e2ee_mail.decrypt_verified(sealed, bob)
    assert verified.data == BODY
    assert [s.status for s in verified.signatures] == ["unknown-signer"]
    assert verified.good == ()


def test_plain_decrypt_unchanged_without_verify_with(bob: certs.X509SecretKey) -> None:
    sealed = e2ee_mail.encrypt(BODY, bob.public)
    assert e2ee_mail.decrypt(sealed, bob) == BODY


def test_encrypt_stream_signed_round_trip(bob: certs.X509SecretKey) -> None:
    alice = signer("p256")
    body = bytes(range(256)) * 3000  # several chunks
    out = io.BytesIO()
    e2ee_mail.encrypt_stream(io.BytesIO(body), out, bob.public, sign_with=alice)
    dst = io.BytesIO()
    e2ee_mail.decrypt_stream(
        io.BytesIO(out.getvalue()), dst, bob, verify_with=alice.public
    )
    assert dst.getvalue() == body


def test_decrypt_stream_writes_nothing_without_good_signature(
    bob: certs.X509SecretKey,
) -> None:
    sealed = e2ee_mail.encrypt(BODY, bob.public, sign_with=signer("p256"))
    dst = io.BytesIO()
    with pytest.raises(SignatureError) as info:
        e2ee_mail.decrypt_stream(
            io.BytesIO(sealed), dst, bob, verify_with=signer("p384").public
        )
    assert dst.getvalue() == b""
    assert [r.status for r in info.value.results] == ["unknown-signer"]


@pytest.mark.parametrize("detached", [True, False])
@pytest.mark.parametrize("armor", [True, False])
def test_sign_verify_cms(detached: bool, armor: bool) -> None:
    alice = signer("rsa2048")
    sig = e2ee_mail.sign(BODY, alice, detached=detached, armor=armor)
    if armor:
        assert sig.startswith(b"-----BEGIN CMS-----")
    verified = e2ee_mail.verify(
        BODY if detached else sig, alice.public, signature=sig if detached else None
    )
    assert verified.data == BODY
    assert verified.signatures[0].algorithm == "rsa-pkcs1v15-sha256"


@pytest.mark.parametrize("opaque", [False, True])
def test_sign_message_verify_message(opaque: bool) -> None:
    alice = signer("p256")
    signed = e2ee_mail.sign_message(_mail(), alice, opaque=opaque)
    if opaque:
        assert signed.get_content_type() == "application/pkcs7-mime"
        assert signed.get_param("smime-type") == "signed-data"
    else:
        assert signed.get_content_type() == "multipart/signed"
        assert signed.get_param("protocol") == "application/pkcs7-signature"
        assert signed.get_param("micalg") == "sha-256"
    for form in (signed, signed.as_bytes()):
        verified = e2ee_mail.verify_message(form, alice.public)
        assert verified.message["Subject"] == "Plans"
        assert verified.message.get_content() == "See you at 3pm.\n"
        assert [s.status for s in verified.signatures] == ["good"]


def test_signed_mail_carries_protected_header_fields() -> None:
    signed = e2ee_mail.sign_message(_mail(), signer("p256"))
    inner = signed.get_payload(0) if signed.is_multipart() else None
    raw = signed.as_bytes()
    assert b'hp="clear"' in raw
    assert b"HP-Outer" not in raw
    assert inner is None or inner["Subject"] == "Plans"


def test_sign_via_sign_function_smime() -> None:
    alice = signer("p256")
    raw = e2ee_mail.sign(_mail().as_bytes(), alice, format="smime", detached=True)
    assert b"multipart/signed" in raw
    verified = e2ee_mail.verify(raw, alice.public)
    assert b"See you at 3pm." in verified.data


def test_encrypt_message_signed_round_trip(bob: certs.X509SecretKey) -> None:
    alice = signer("ed25519")
    sealed = e2ee_mail.encrypt_message(_mail(), bob.public, sign_with=alice)
    assert sealed["Subject"] == "[...]"
    opened = e2ee_mail.decrypt_message(sealed.as_bytes(), bob, verify_with=alice.public)
    assert opened["Subject"] == "Plans"
    assert opened.get_content() == "See you at 3pm.\n"
    report = e2ee_mail.decrypt_message_verified(sealed, bob, verify_with=[alice.public])
    assert [s.status for s in report.signatures] == ["good"]


def test_encrypt_stream_smime_signed(bob: certs.X509SecretKey) -> None:
    alice = signer("p256")
    out = io.BytesIO()
    e2ee_mail.encrypt_stream(
        io.BytesIO(_mail().as_bytes()),
        out,
        bob.public,
        format="smime",
        sign_with=alice,
    )
    opened = e2ee_mail.decrypt_message(out.getvalue(), bob, verify_with=alice.public)
    assert opened["Subject"] == "Plans"
    dst = io.BytesIO()
    e2ee_mail.decrypt_stream(
        io.BytesIO(out.getvalue()), dst, bob, verify_with=alice.public
    )
    assert b"Subject: Plans" in dst.getvalue()


def _ca_and_leaf(
    *, digital_signature: bool = True
) -> tuple[certs.X509SecretKey, e2ee_mail.Certificate]:
    """(a leaf key for alice@example.org issued by a fresh CA, the CA)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ee_key = ec.generate_private_key(ec.SECP256R1())
    ee = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Alice")]))
        .issuer_name(ca_name)
        .public_key(ee_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name("alice@example.org")]), False
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature,
                False,
                not digital_signature,
                False,
                False,
                False,
                False,
                False,
                False,
            ),
            True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            False,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ee_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = ee_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ) + ee.public_bytes(serialization.Encoding.PEM)
    root = e2ee_mail.load_certificate(ca.public_bytes(serialization.Encoding.PEM))
    return certs.load_key(pem, None), root


def test_trust_store_chain_and_from_address() -> None:
    alice, root = _ca_and_leaf()
    signed = e2ee_mail.sign_message(_mail(), alice)
    verified = e2ee_mail.verify_message(signed, trust=[root])
    assert [s.status for s in verified.signatures] == ["good"]
    # The From address must be one of the certificate's.
    other = _mail()
    other.replace_header("From", "Mallory <mallory@example.org>")
    with pytest.raises(SignatureError, match="From address"):
        e2ee_mail.verify_message(e2ee_mail.sign_message(other, alice), trust=[root])
    # A trust list without the issuing CA.
    stranger = e2ee_mail.load_certificate(signer("p384").public.export())
    with pytest.raises(SignatureError, match="chain"):
        e2ee_mail.verify_message(signed, trust=[stranger])


def test_trust_store_still_checks_key_usage(monkeypatch: pytest.MonkeyPatch) -> None:
    """A carried certificate that chains to the CA but may not sign (no
    digitalSignature) is refused. Our signer refuses such a key, so the check is
    lifted to make the signature an attacker's tool would make."""
    import base64

    from e2ee_mail.cms import signing

    alice, root = _ca_and_leaf(digital_signature=False)
    monkeypatch.setattr(signing, "check_signer", lambda cert, now=None: None)
    entity = b"Content-Type: text/plain\r\n\r\nhello\r\n"
    der = signing.sign(entity, [alice], detached=False)
    mail = (
        b"From: alice@example.org\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: application/pkcs7-mime; smime-type=signed-data\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(der)
    )
    with pytest.raises(SignatureError) as info:
        e2ee_mail.verify_message(mail, trust=[root])
    assert [r.status for r in info.value.results] == ["policy-refused"]


def test_argument_checks(bob: certs.X509SecretKey) -> None:
    alice = signer("p256")
    with pytest.raises(UsageError, match="cannot sign"):
        e2ee_mail.sign(b"x", alice.public)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="aes-256-cbc"):
        e2ee_mail.encrypt(b"x", bob.public, sign_with=alice, cipher="aes-256-cbc")
    with pytest.raises(UsageError, match="at least one"):
        e2ee_mail.decrypt(b"x", bob, verify_with=[])
    with pytest.raises(UsageError):
        e2ee_mail.verify_message(_mail())


class _CountingReader(io.BytesIO):
    """A source that counts the octets read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.served = 0

    def read(self, size: int | None = -1, /) -> bytes:
        chunk = super().read(size)
        self.served += len(chunk)
        return chunk

    def readinto(self, buffer: object, /) -> int:  # type: ignore[override]
        raise AssertionError("the body is read once, through read()")


def test_sign_then_encrypt_reads_the_body_once(bob: certs.X509SecretKey) -> None:
    body = bytes(range(256)) * 1000
    src = _CountingReader(body)
    out = io.BytesIO()
    e2ee_mail.encrypt_stream(src, out, bob.public, sign_with=signer("p256"))
    assert src.served == len(body)
    assert (
        e2ee_mail.decrypt(out.getvalue(), bob, verify_with=signer("p256").public)
        == body
    )


def test_multipart_signed_re_encodes_8bit_parts() -> None:
    alice = signer("p256")
    msg = _mail("Grüße aus Köln\n")
    assert msg["Content-Transfer-Encoding"] == "8bit"
    msg.add_attachment(
        bytes(range(256)),
        maintype="application",
        subtype="octet-stream",
        filename="a.bin",
    )
    raw = e2ee_mail.sign_message(msg, alice).as_bytes()
    assert raw.isascii()
    verified = e2ee_mail.verify_message(raw, alice.public).message
    body = verified.get_body()
    assert body is not None
    assert body.get_content() == "Grüße aus Köln\n"
    (attachment,) = verified.iter_attachments()
    assert attachment.get_content() == bytes(range(256))


def test_decrypt_message_verify_with_empty_is_a_usage_error(
    bob: certs.X509SecretKey,
) -> None:
    sealed = e2ee_mail.encrypt_message(_mail(), bob.public)
    with pytest.raises(UsageError, match="at least one"):
        e2ee_mail.decrypt_message(sealed, bob, verify_with=[])


@pytest.mark.parametrize("armor", [False, True])
def test_large_body_in_memory_signed_in_one_pass(
    bob: certs.X509SecretKey, armor: bool
) -> None:
    body = bytes(range(256)) * 2000  # above the size signed whole
    sealed = e2ee_mail.encrypt(body, bob.public, sign_with=signer("p256"), armor=armor)
    assert isinstance(sealed, bytearray)
    assert e2ee_mail.decrypt(sealed, bob, verify_with=signer("p256").public) == body


def test_sink_grows_past_its_first_size() -> None:
    from e2ee_mail.cms.signenv import _Sink

    sink = _Sink(4)
    for piece in (b"abc", b"defgh", memoryview(b"ijklmnopq")):
        sink.write(piece)
    assert sink.result() == bytearray(b"abcdefghijklmnopq")
