"""RFC 9788 header protection on signed-only mail, S/MIME (multipart/signed and
opaque signed-data) and PGP/MIME: the signed entity carries protected copies of
every header field, marked ``hp="clear"``, and no HP-Outer (nothing is hidden);
the outer fields are the mail's own; verify_message returns the protected
fields, and header_protection_report says what the outside changed."""

from __future__ import annotations

import base64
import re
from email.message import EmailMessage

import pytest
from signing_keys import signer

import e2ee_mail
from e2ee_mail.cms import signedcontent

FIELDS = {
    "From": "Alice <alice@example.org>",
    "To": "Bob <bob@example.org>",
    "Cc": "carol@example.org",
    "Subject": "Quarterly plans",
    "Message-ID": "<plans@example.org>",
    "Date": "Mon, 07 Dec 2026 00:00:00 +0000",
}


def _mail() -> EmailMessage:
    msg = EmailMessage()
    for name, value in FIELDS.items():
        msg[name] = value
    msg.set_content("See you at 3pm.\n")
    return msg


@pytest.fixture(scope="module")
def keys() -> dict[str, e2ee_mail.SecretKey]:
    return {
        "smime": signer("p256"),
        "pgpmime": e2ee_mail.generate_key("Alice <alice@example.org>"),
    }


SHAPES = ["smime-multipart", "smime-opaque", "pgpmime"]


def _signed(shape: str, keys: dict[str, e2ee_mail.SecretKey]) -> bytes:
    if shape == "smime-opaque":
        return e2ee_mail.sign(
            _mail().as_bytes(), keys["smime"], format="smime", detached=False
        )
    fmt = shape.partition("-")[0]
    return e2ee_mail.sign_message(_mail(), keys[fmt], format=fmt).as_bytes()  # type: ignore[arg-type]


def _key(shape: str, keys: dict[str, e2ee_mail.SecretKey]) -> e2ee_mail.SecretKey:
    return keys[shape.partition("-")[0]]


def _split(raw: bytes) -> tuple[bytes, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    if not body:
        head, _, body = raw.partition(b"\n\n")
    return head, body


def _signed_entity(shape: str, raw: bytes) -> bytes:
    """The octets the signature covers."""
    head, body = _split(raw)
    if shape == "smime-opaque":
        der = base64.b64decode(b"".join(body.split()))
        content = signedcontent.signed_content(der)
        assert content is not der
        return bytes(content)
    boundary = re.search(rb'boundary="([^"]+)"', head)
    assert boundary is not None
    return body.split(b"--" + boundary.group(1))[1]


@pytest.mark.parametrize("shape", SHAPES)
def test_signed_entity_carries_every_field_marked_clear(
    shape: str, keys: dict[str, e2ee_mail.SecretKey]
) -> None:
    raw = _signed(shape, keys)
    entity = _signed_entity(shape, raw).replace(b"\r\n", b"\n")
    entity_head, _ = _split(entity.lstrip(b"\n"))
    for name, value in FIELDS.items():
        assert f"{name}: {value}".encode() in entity_head
    assert re.search(rb'Content-Type: text/plain;[^\n]*hp="clear"', entity_head)
    # Signed-only: nothing is hidden, so nothing outside needs recording.
    assert b"HP-Outer" not in raw and b"HP-Outer" not in entity
    outer_head, _ = _split(raw)
    for name, value in FIELDS.items():
        assert f"{name}: {value}".encode() in outer_head  # not obscured
    # No Legacy Display Element: the outer fields show as they are.
    assert b"Subject: Quarterly plans" not in entity.partition(b"\n\n")[2]


@pytest.mark.parametrize("shape", SHAPES)
def test_verify_message_reports_the_protected_fields(
    shape: str, keys: dict[str, e2ee_mail.SecretKey]
) -> None:
    verified = e2ee_mail.verify_message(_signed(shape, keys), _key(shape, keys).public)
    assert [s.status for s in verified.signatures] == ["good"]
    for name, value in FIELDS.items():
        assert str(verified.message[name]) == value
    assert verified.message.get_param("hp") is None
    report = e2ee_mail.header_protection_report(verified.message)
    assert report.protected
    assert report.confidential == ()
    assert report.mismatches == ()
    assert not report.from_mismatch


@pytest.mark.parametrize("shape", SHAPES)
def test_outer_fields_changed_on_the_way_are_reported(
    shape: str, keys: dict[str, e2ee_mail.SecretKey]
) -> None:
    raw = _signed(shape, keys)
    head, body = _split(raw)
    head = head.replace(b"Subject: Quarterly plans", b"Subject: Urgent: wire money")
    head = head.replace(
        b"From: Alice <alice@example.org>", b"From: Alice <alice@evil.example>"
    )
    head += b"\r\nReceived: from relay.example by mx.example"
    verified = e2ee_mail.verify_message(
        head + b"\r\n\r\n" + body, _key(shape, keys).public
    )
    # The signature covers the protected fields, which are what the message says.
    assert [s.status for s in verified.signatures] == ["good"]
    assert verified.message["Subject"] == "Quarterly plans"
    assert str(verified.message["From"]) == "Alice <alice@example.org>"
    report = e2ee_mail.header_protection_report(verified.message)
    changed = {m.name: m for m in report.mismatches}
    assert set(changed) == {"From", "Subject"}
    assert changed["Subject"].outer == ("Urgent: wire money",)
    assert changed["Subject"].protected == ("Quarterly plans",)
    assert report.from_mismatch
    assert report.unprotected == ("Received",)
    assert report.confidential == ()
