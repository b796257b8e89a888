"""mime/detect.py: classification, serialization and inspection of encrypted mail."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage

import pytest

import e2ee_mail
from e2ee_mail.mime import detect


def _plain() -> EmailMessage:
    msg = EmailMessage(policy=policy.default)
    msg["From"] = "Alice <alice@example.org>"
    msg["Subject"] = "hello"
    msg.set_content("body\n")
    return msg


def test_parse_returns_email_message_unchanged() -> None:
    msg = _plain()
    assert detect.parse(msg) is msg
    parsed = detect.parse(msg.as_bytes())
    assert parsed["Subject"] == "hello"


def test_serialize_uses_crlf_everywhere() -> None:
    out = detect.serialize(_plain())
    assert b"\r\n" in out
    assert b"\n" not in out.replace(b"\r\n", b"")


def test_unknown_multipart_encrypted_protocol_is_refused() -> None:
    msg = EmailMessage(policy=policy.default)
    msg["Content-Type"] = (
        'multipart/encrypted; protocol="application/x-other"; boundary=b'
    )
    with pytest.raises(e2ee_mail.MIMEError, match="not PGP/MIME"):
        detect.kind(msg)


def test_pgpmime_nested_beside_plaintext_is_refused() -> None:
    outer = EmailMessage(policy=policy.default)
    outer.set_content("look here")
    inner = EmailMessage(policy=policy.default)
    inner["Content-Type"] = (
        'multipart/encrypted; protocol="application/pgp-encrypted"; boundary=b'
    )
    outer.add_attachment(inner)
    with pytest.raises(e2ee_mail.MIMEError, match="EFAIL"):
        detect.kind(outer)


def test_inspect_pgpmime_reports_openpgp_details() -> None:
    pytest.importorskip("e2ee_mail.mime.pgpmime")
    pytest.importorskip("e2ee_mail.openpgp.message")
    key = e2ee_mail.generate_key("P <p@example.org>")
    encrypted = e2ee_mail.encrypt_message(_plain(), key.public, format="pgpmime")
    described = detect.inspect(detect.parse(detect.serialize(encrypted)))
    assert described.format == "pgpmime"
    assert len(described.recipients) == 1


def test_compat32_message_is_accepted() -> None:
    import email

    legacy = email.message_from_bytes(_plain().as_bytes())
    parsed = detect.parse(legacy)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == "hello"
