"""mime/headers.py: RFC 9788 header protection helpers."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from e2ee_mail.mime import headers


def _msg() -> EmailMessage:
    msg = EmailMessage(policy=policy.default)
    msg["From"] = "Alice <alice@example.org>"
    msg["To"] = "Bob <bob@example.org>"
    msg["Cc"] = "Carol <carol@example.org>"
    msg["Bcc"] = "Secret <secret@example.org>"
    msg["Subject"] = "The real subject"
    msg["Date"] = "Fri, 20 Nov 2026 10:00:00 +0000"
    msg["Message-ID"] = "<1@example.org>"
    msg["X-Private"] = "internal"
    msg.set_content("body text\n")
    return msg


def test_outer_keeps_routing_headers_and_obscures_subject() -> None:
    outer = headers.build_outer(_msg())
    assert outer["Subject"] == headers.OBSCURED_SUBJECT
    assert outer["From"] == "Alice <alice@example.org>"
    assert outer["Cc"] == "Carol <carol@example.org>"
    assert outer["Message-ID"] == "<1@example.org>"
    assert outer["Bcc"] is None
    assert outer["X-Private"] is None
    assert outer.get_payload() is None or outer.get_payload() == ""


def test_inner_carries_protected_headers_and_hp_outer() -> None:
    original = _msg()
    inner = headers.build_inner(original)
    assert inner["Subject"] == "The real subject"
    assert inner["X-Private"] == "internal"
    assert inner["Bcc"] is None
    assert inner.get_param("hp", header="content-type") == "cipher"
    hp_outer = inner.get_all("HP-Outer")
    assert "Subject: ..." in hp_outer
    assert "From: Alice <alice@example.org>" in hp_outer
    # The original is not modified.
    assert original["Bcc"] is not None
    assert original.get_param("hp", header="content-type") is None


def test_restore_removes_protection_markers() -> None:
    inner = headers.build_inner(_msg())
    parsed = BytesParser(policy=policy.default).parsebytes(inner.as_bytes())
    restored = headers.restore(parsed, headers.build_outer(_msg()))
    assert restored["Subject"] == "The real subject"
    assert restored.get_all("HP-Outer") is None
    assert restored.get_param("hp", header="content-type") is None
    assert "Content-Type" in list(restored.keys())
    assert restored.get_content() == "body text\n"


def test_restore_without_hp_takes_outer_headers() -> None:
    legacy = EmailMessage(policy=policy.default)
    legacy.set_content("legacy body\n")
    outer = headers.build_outer(_msg())
    restored = headers.restore(legacy, outer)
    assert restored["From"] == "Alice <alice@example.org>"
    assert restored["Subject"] == headers.OBSCURED_SUBJECT


def test_inner_of_a_multipart_leaves_every_original_part_alone() -> None:
    original = _msg()
    original.add_attachment(b"\x00" * 100, maintype="application", subtype="x")
    alternative = EmailMessage(policy=policy.default)
    alternative.set_content("plain\n")
    alternative.add_alternative("<p>html</p>\n", subtype="html")
    original.attach(alternative)
    fields_before = [list(p.items()) for p in original.walk()]
    assert alternative.get_boundary() is None

    inner = headers.build_inner(original)
    inner.get_payload(1).set_content(b"changed", maintype="application", subtype="y")
    inner.get_payload(2)["X-Added"] = "inner only"

    # The boundaries the inner entity needed were set on its own parts only.
    assert all(p.get_boundary() for p in inner.walk() if p.is_multipart())
    assert alternative.get_boundary() is None
    assert [list(p.items()) for p in original.walk()] == fields_before
    assert original.get_payload(1).get_content() == b"\x00" * 100
    assert original.get_payload(2)["X-Added"] is None
