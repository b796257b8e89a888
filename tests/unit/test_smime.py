"""mime/smime.py and mime/detect.py: S/MIME encrypt/decrypt, EFAIL refusal, detection,
serialization and inspection."""

from __future__ import annotations

import base64
from email import policy
from email.message import EmailMessage

import pytest

import e2ee_mail
from e2ee_mail.mime import detect, smime
from e2ee_mail.x509 import certs as kx


def _msg(body: str = "Hello,\nthis is private.\n") -> EmailMessage:
    msg = EmailMessage(policy=policy.default)
    msg["From"] = "Alice <alice@example.org>"
    msg["To"] = "Xavier <x@example.org>"
    msg["Subject"] = "Secret subject"
    msg["Message-ID"] = "<m1@example.org>"
    msg.set_content(body)
    return msg


def test_encrypted_mail_has_smime_shape(xkey: kx.X509SecretKey) -> None:
    out = e2ee_mail.encrypt_message(_msg(), xkey.public)
    assert out.get_content_type() == "application/pkcs7-mime"
    assert out.get_param("smime-type") == "authEnveloped-data"
    assert out.get_param("name") == "smime.p7m"
    assert out["Content-Transfer-Encoding"] == "base64"
    assert out["Subject"] == "..."
    assert out["From"] == "Alice <alice@example.org>"
    wire = detect.serialize(out)
    body = wire.split(b"\r\n\r\n", 1)[1]
    lines = body.split(b"\r\n")
    assert all(len(line) <= 76 for line in lines)
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert e2ee_mail.inspect(wire).format == "smime"


def test_round_trip_restores_subject_and_body(
    xkey: kx.X509SecretKey, rkey: kx.X509SecretKey
) -> None:
    out = e2ee_mail.encrypt_message(_msg(), [xkey.public, rkey.public])
    wire = detect.serialize(out)
    for key in (xkey, rkey):
        plain = e2ee_mail.decrypt_message(wire, key)
        assert plain["Subject"] == "Secret subject"
        assert plain.get_content().replace("\r\n", "\n") == "Hello,\nthis is private.\n"
        assert plain.get_all("HP-Outer") is None


def test_as_bytes_of_the_result_also_decrypts(xkey: kx.X509SecretKey) -> None:
    out = e2ee_mail.encrypt_message(_msg(), xkey.public)
    plain = e2ee_mail.decrypt_message(out.as_bytes(), xkey)
    assert plain["Subject"] == "Secret subject"


def test_inner_entity_is_crlf_canonical(xkey: kx.X509SecretKey) -> None:
    out = e2ee_mail.encrypt_message(_msg("a\nb\n"), xkey.public)
    der = base64.b64decode(out.get_payload())
    inner = e2ee_mail.decrypt(der, xkey)
    assert b"\r\n" in inner
    assert b"\n" not in inner.replace(b"\r\n", b"")


def test_legacy_cbc_mail_needs_opt_in(xkey: kx.X509SecretKey) -> None:
    out = e2ee_mail.encrypt_message(_msg(), xkey.public, cipher="aes-256-cbc")
    assert out.get_param("smime-type") == "enveloped-data"
    with pytest.raises(e2ee_mail.PolicyError):
        e2ee_mail.decrypt_message(out, xkey)
    plain = e2ee_mail.decrypt_message(out, xkey, allow_unauthenticated=True)
    assert plain["Subject"] == "Secret subject"


def test_x_pkcs7_mime_is_accepted(xkey: kx.X509SecretKey) -> None:
    wire = detect.serialize(e2ee_mail.encrypt_message(_msg(), xkey.public))
    wire = wire.replace(b"application/pkcs7-mime", b"application/x-pkcs7-mime")
    assert e2ee_mail.decrypt_message(wire, xkey)["Subject"] == "Secret subject"


def test_encrypted_part_beside_plaintext_is_refused(xkey: kx.X509SecretKey) -> None:
    encrypted = e2ee_mail.encrypt_message(_msg(), xkey.public)
    mixed = EmailMessage(policy=policy.default)
    mixed["From"] = "Mallory <m@example.org>"
    mixed.set_content("Please visit <img src='http://evil.example/")
    mixed.add_attachment(
        base64.b64decode(encrypted.get_payload()),
        maintype="application",
        subtype="pkcs7-mime",
        params={"smime-type": "authEnveloped-data"},
    )
    with pytest.raises(e2ee_mail.MIMEError, match="EFAIL"):
        e2ee_mail.decrypt_message(mixed, xkey)
    with pytest.raises(e2ee_mail.MIMEError, match="EFAIL"):
        smime.decrypt_message(mixed, [xkey], policy=e2ee_mail.DEFAULT)


def test_plain_mail_is_not_an_encrypted_mail() -> None:
    with pytest.raises(e2ee_mail.MIMEError, match="not an encrypted mail"):
        detect.kind(_msg())


def test_pgpmime_is_classified() -> None:
    msg = EmailMessage(policy=policy.default)
    msg["Content-Type"] = (
        'multipart/encrypted; protocol="application/pgp-encrypted"; boundary=x'
    )
    assert detect.kind(msg) == "pgpmime"


def test_wrong_key_is_no_matching_key(
    xkey: kx.X509SecretKey, rkey: kx.X509SecretKey
) -> None:
    out = e2ee_mail.encrypt_message(_msg(), xkey.public)
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt_message(out, rkey)


def test_signed_data_is_unsupported(xkey: kx.X509SecretKey) -> None:
    out = e2ee_mail.encrypt_message(_msg(), xkey.public)
    out.set_param("smime-type", "signed-data")
    with pytest.raises(e2ee_mail.UnsupportedError):
        e2ee_mail.decrypt_message(out, xkey)


def test_damaged_base64_body_fails_with_library_error(xkey: kx.X509SecretKey) -> None:
    wire = detect.serialize(e2ee_mail.encrypt_message(_msg(), xkey.public))
    head, body = wire.split(b"\r\n\r\n", 1)
    with pytest.raises(e2ee_mail.Error):
        e2ee_mail.decrypt_message(head + b"\r\n\r\n" + body[:40], xkey)


def test_parse_rejects_non_mail() -> None:
    with pytest.raises(e2ee_mail.MIMEError):
        detect.parse(b"")
    with pytest.raises(e2ee_mail.MIMEError):
        detect.parse(12)  # type: ignore[arg-type]


def test_base64_lines_are_76_columns_crlf() -> None:
    data = bytes(range(256)) * 100
    text = smime.base64_lines(data)
    lines = text.split(b"\r\n")
    assert lines[-1] == b""
    assert {len(line) for line in lines[:-2]} == {76}
    assert base64.b64decode(text) == data
