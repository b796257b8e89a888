"""mime/headers.py, mime/legacy_display.py, mime/protection_report.py: RFC 9788
header protection: HP-Outer, Legacy Display Elements, and what decryption restores
and reports."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from e2ee_mail.errors import UsageError
from e2ee_mail.mime import headers, protection_report
from e2ee_mail.mime.hcp import OBSCURED_SUBJECT, hcp_baseline, resolve_hcp
from e2ee_mail.mime.wire import to_bytes


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


def _parse(data: bytes) -> EmailMessage:
    msg = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(msg, EmailMessage)
    return msg


def test_a_callers_policy_is_asked_once_per_field() -> None:
    calls: list[str] = []

    def counting(name: str, value: str) -> str | None:
        calls.append(name)
        return hcp_baseline(name, value)

    checked = resolve_hcp(counting)
    msg = _msg()
    inner = headers.build_inner(msg, hcp=checked)
    outer = headers.build_outer(msg, hcp=checked)
    assert sorted(calls) == sorted(set(calls))
    assert inner.get_all("HP-Outer") == [
        f"{name}: {value}" for name, value in outer.items() if name != "MIME-Version"
    ]


# -- Sending ------------------------------------------------------------------------


def test_outer_shows_what_baseline_leaves_and_never_bcc() -> None:
    outer = headers.build_outer(_msg())
    assert list(outer.keys()) == [
        "From",
        "To",
        "Cc",
        "Subject",
        "Date",
        "Message-ID",
        "X-Private",
        "MIME-Version",
    ]
    assert outer["Subject"] == OBSCURED_SUBJECT == "[...]"
    assert outer["From"] == "Alice <alice@example.org>"
    assert outer["X-Private"] == "internal"
    assert outer.get_payload() is None or outer.get_payload() == ""


def test_provider_and_list_fields_stay_outside() -> None:
    msg = _msg()
    fields = {
        "List-Unsubscribe": "<https://example.org/u/1>, <mailto:u@example.org>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Feedback-ID": "campaign:customer:mailtype:sender",
        "Auto-Submitted": "auto-generated",
        "X-SES-CONFIGURATION-SET": "transactional",
        "X-Mailgun-Tag": "invoice",
    }
    for name, value in fields.items():
        msg[name] = value
    outer = headers.build_outer(msg)
    inner = headers.build_inner(msg)
    for name, value in fields.items():
        assert outer[name] == value
        assert inner[name] == value
        assert f"{name}: {value}" in inner.get_all("HP-Outer")


def test_inner_carries_protected_headers_and_hp_outer() -> None:
    original = _msg()
    original["Keywords"] = "merger"
    inner = headers.build_inner(original)
    assert inner["Subject"] == "The real subject"
    assert inner["X-Private"] == "internal"
    assert inner["Keywords"] == "merger"
    assert inner["Bcc"] is None
    assert inner.get_param("hp", header="content-type") == "cipher"
    assert inner.get_all("HP-Outer") == [
        "From: Alice <alice@example.org>",
        "To: Bob <bob@example.org>",
        "Cc: Carol <carol@example.org>",
        "Subject: [...]",
        "Date: Fri, 20 Nov 2026 10:00:00 +0000",
        "Message-ID: <1@example.org>",
        "X-Private: internal",
    ]
    # The original is not modified.
    assert original["Bcc"] is not None
    assert original.get_param("hp", header="content-type") is None
    assert original.get_content() == "body text\n"


def test_hp_outer_fields_of_the_original_are_not_forwarded() -> None:
    original = _msg()
    original["HP-Outer"] = "Subject: forged"
    inner = headers.build_inner(original, legacy_display=False)
    assert "Subject: forged" not in inner.get_all("HP-Outer")
    assert "HP-Outer" not in headers.build_outer(original)


# RFC 9788 Appendix C.3.1.2 (smime-signed-enc-hp-baseline): the header fields of the
# original and the HP-Outer fields the baseline policy gives them, as printed there.
RFC_C312_FIELDS = [
    ("Subject", "smime-signed-enc-hp-baseline"),
    ("Message-ID", "<smime-signed-enc-hp-baseline@example>"),
    ("From", "Alice <alice@smime.example>"),
    ("To", "Bob <bob@smime.example>"),
    ("Date", "Sat, 20 Feb 2021 10:09:02 -0500"),
    ("User-Agent", "Sample MUA Version 1.0"),
]
RFC_C312_HP_OUTER = [
    "Subject: [...]",
    "Message-ID: <smime-signed-enc-hp-baseline@example>",
    "From: Alice <alice@smime.example>",
    "To: Bob <bob@smime.example>",
    "Date: Sat, 20 Feb 2021 10:09:02 -0500",
    "User-Agent: Sample MUA Version 1.0",
]


def test_baseline_gives_the_rfcs_hp_outer_fields() -> None:
    msg = EmailMessage(policy=policy.default)
    msg["MIME-Version"] = "1.0"
    msg["Content-Transfer-Encoding"] = "7bit"
    for name, value in RFC_C312_FIELDS:
        msg[name] = value
    msg["Content-Type"] = 'text/plain; charset="utf-8"'
    msg.set_payload("This is the\nsmime-signed-enc-hp-baseline\nmessage.\n")
    inner = headers.build_inner(msg, legacy_display=False)
    assert inner.get_all("HP-Outer") == RFC_C312_HP_OUTER
    assert inner.get_content_type() == "text/plain"
    assert inner.get_param("hp", header="content-type") == "cipher"
    outer = headers.build_outer(msg)
    assert [f"{n}: {v}" for n, v in outer.items() if n != "MIME-Version"] == (
        RFC_C312_HP_OUTER
    )


# RFC 9788 Appendix E.1 and E.2: an original mail, and the Cryptographic Payload
# with a Legacy Display Element the RFC prints for it (text/plain, text/html).
RFC_E_HEAD = (
    b"Date: Fri, 21 Jan 2022 20:40:48 -0500\r\n"
    b"From: Alice <alice@example.net>\r\n"
    b"To: Bob <bob@example.net>\r\n"
    b"Subject: Dinner plans\r\n"
    b"Message-ID: <text-%s-legacy-display@lhp.example>\r\n"
    b"MIME-Version: 1.0\r\n"
)
RFC_E_HP_OUTER = (
    b"HP-Outer: Date: Fri, 21 Jan 2022 20:40:48 -0500\r\n"
    b"HP-Outer: From: Alice <alice@example.net>\r\n"
    b"HP-Outer: To: Bob <bob@example.net>\r\n"
    b"HP-Outer: Subject: [...]\r\n"
    b"HP-Outer: Message-ID: <text-%s-legacy-display@lhp.example>\r\n"
)
RFC_E_TEXT = (
    b"Let's meet at Rama's Roti Shop at 8pm and go to the park\r\nfrom there.\r\n"
)
RFC_E1_ORIGINAL = (
    RFC_E_HEAD % b"plain"
    + b'Content-Type: text/plain; charset="us-ascii"\r\n\r\n'
    + RFC_E_TEXT
)
RFC_E1_PAYLOAD = (
    RFC_E_HEAD % b"plain"
    + b'Content-Type: text/plain; charset="us-ascii"; hp-legacy-display="1";\r\n'
    + b' hp="cipher"\r\n'
    + RFC_E_HP_OUTER % b"plain"
    + b"\r\nSubject: Dinner plans\r\n\r\n"
    + RFC_E_TEXT
)
RFC_E2_HTML = (
    b"<html><head><title></title></head><body>\r\n<p>\r\n"
    + RFC_E_TEXT
    + b"</p>\r\n</body>\r\n</html>\r\n"
)
RFC_E2_ORIGINAL = (
    RFC_E_HEAD % b"html"
    + b'Content-Type: text/html; charset="us-ascii"\r\n\r\n'
    + RFC_E2_HTML
)
RFC_E2_PAYLOAD = (
    RFC_E_HEAD % b"html"
    + b'Content-Type: text/html; charset="us-ascii"; hp-legacy-display="1";\r\n'
    + b' hp="cipher"\r\n'
    + RFC_E_HP_OUTER % b"html"
    + b"\r\n<html><head><title></title></head><body>\r\n"
    + b'<div class="header-protection-legacy-display">\r\n'
    + b"<pre>Subject: Dinner plans</pre>\r\n</div>\r\n<p>\r\n"
    + RFC_E_TEXT
    + b"</p>\r\n</body>\r\n</html>\r\n"
)


@pytest.mark.parametrize(
    ("original", "payload"),
    [(RFC_E1_ORIGINAL, RFC_E1_PAYLOAD), (RFC_E2_ORIGINAL, RFC_E2_PAYLOAD)],
    ids=["E.1 text/plain", "E.2 text/html"],
)
def test_legacy_display_is_the_rfcs_byte_for_byte(
    original: bytes, payload: bytes
) -> None:
    assert to_bytes(headers.build_inner(_parse(original))) == payload


@pytest.mark.parametrize(
    ("original", "payload"),
    [(RFC_E1_ORIGINAL, RFC_E1_PAYLOAD), (RFC_E2_ORIGINAL, RFC_E2_PAYLOAD)],
    ids=["E.1 text/plain", "E.2 text/html"],
)
def test_the_rfcs_legacy_display_is_removed_on_decryption(
    original: bytes, payload: bytes
) -> None:
    outer = headers.build_outer(_parse(original))
    restored = headers.restore_entity(bytearray(payload), outer)
    expected = _parse(original)
    assert restored.get_content() == expected.get_content().replace("\r\n", "\n")
    assert restored["Subject"] == "Dinner plans"
    assert restored.get_param("hp-legacy-display") is None
    assert restored.get_param("hp") is None
    assert restored["HP-Outer"] is None
    assert protection_report.report(restored).confidential == ("Subject",)


def test_legacy_display_lists_every_hidden_user_facing_field() -> None:
    msg = _msg()
    msg["Keywords"] = "merger"
    inner = headers.build_inner(msg, hcp=resolve_hcp("shy"))
    assert inner.get_param("hp-legacy-display") == "1"
    # Keywords is hidden but not user-facing; Date is already UTC.
    assert inner.get_content() == (
        "From: Alice <alice@example.org>\n"
        "To: Bob <bob@example.org>\n"
        "Cc: Carol <carol@example.org>\n"
        "Subject: The real subject\n"
        "\n"
        "body text\n"
    )


def test_no_legacy_display_when_nothing_user_facing_is_hidden() -> None:
    inner = headers.build_inner(_msg(), hcp=resolve_hcp("no-confidentiality"))
    assert inner.get_param("hp-legacy-display") is None
    assert inner.get_content() == "body text\n"
    inner = headers.build_inner(_msg(), legacy_display=False)
    assert inner.get_param("hp-legacy-display") is None


def test_legacy_display_goes_into_main_body_parts_only() -> None:
    msg = _msg()
    msg.add_alternative("<p>html</p>\n", subtype="html")
    msg.add_attachment("an attached text\n", filename="notes.txt")
    inner = headers.build_inner(msg)
    shown = {
        part.get_content_type(): part.get_content()
        for part in inner.walk()
        if part.get_param("hp-legacy-display") == "1"
    }
    assert shown == {
        "text/plain": "Subject: The real subject\n\nbody text\n",
        "text/html": '\n<div class="header-protection-legacy-display">\n'
        "<pre>Subject: The real subject</pre>\n</div><p>html</p>\n",
    }
    attachment = inner.get_payload(1)
    assert attachment.get_content() == "an attached text\n"


def test_a_subject_the_part_charset_cannot_carry_switches_it_to_utf8() -> None:
    msg = _msg()
    msg.replace_header("Subject", "Grüße")
    msg.set_content("plain ascii\n", charset="us-ascii")
    inner = headers.build_inner(msg)
    assert inner.get_content_charset() == "utf-8"
    assert inner.get_content() == "Subject: Grüße\n\nplain ascii\n"


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
    assert original.get_payload(0).get_content() == "body text\n"
    assert original.get_payload(1).get_content() == b"\x00" * 100
    assert original.get_payload(2)["X-Added"] is None


# -- Receiving ----------------------------------------------------------------------


def _sent(msg: EmailMessage, hcp: str = "baseline") -> tuple[bytes, bytes]:
    """(the outer header block as sent, the inner entity's bytes)."""
    checked = resolve_hcp(hcp)
    inner = to_bytes(headers.build_inner(msg, hcp=checked))
    outer = to_bytes(headers.build_outer(msg, hcp=checked))
    return outer, inner


def _open(outer: bytes, inner: bytes) -> EmailMessage:
    return headers.restore_entity(bytearray(inner), _parse(outer))


def test_restore_gives_back_the_protected_fields() -> None:
    outer, inner = _sent(_msg())
    restored = _open(outer, inner)
    assert restored["Subject"] == "The real subject"
    assert restored.get_all("HP-Outer") is None
    assert restored.get_param("hp", header="content-type") is None
    assert restored.get_param("hp-legacy-display") is None
    assert restored.get_content() == "body text\n"
    assert [k for k in restored if not k.startswith("Content-")] == [
        k for k in _msg() if k != "Bcc" and not k.startswith("Content-")
    ]
    report = protection_report.report(restored)
    assert report.protected
    assert report.confidential == ("Subject",)
    assert report.mismatches == () and report.unprotected == ()
    assert not report.from_mismatch


def test_report_names_what_changed_on_the_way() -> None:
    outer, inner = _sent(_msg(), "shy")
    tampered = b"Received: from mx.example.org by mx.example.net\r\n" + outer.replace(
        b"Subject: [...]", b"Subject: [...] (list)"
    ).replace(b"From: alice@example.org", b"From: Alice <mallory@example.net>").replace(
        b"X-Private: internal\r\n", b""
    ).replace(b"MIME-Version", b"Cc: eve@example.net\r\nMIME-Version")
    restored = _open(tampered, inner)
    report = protection_report.report(restored)
    # Date is UTC already: shy shows it as it is.
    assert report.confidential == ("From", "To", "Cc", "Subject")
    assert report.unprotected == ("Received",)
    assert report.from_mismatch
    changed = {m.name: m for m in report.mismatches}
    assert sorted(changed) == ["Cc", "From", "Subject", "X-Private"]
    assert changed["Subject"].outer == ("[...] (list)",)
    assert changed["Subject"].recorded == ("[...]",)
    assert changed["Subject"].protected == ("The real subject",)
    assert changed["Cc"].outer == ("carol@example.org", "eve@example.net")
    assert changed["X-Private"].outer == ()
    # The message itself shows the protected fields only.
    assert restored["From"] == "Alice <alice@example.org>"
    assert restored.get_all("Cc") == ["Carol <carol@example.org>"]
    assert restored["Received"] is None


def test_display_names_and_case_are_no_from_mismatch() -> None:
    outer, inner = _sent(_msg(), "shy")
    restored = _open(outer.replace(b"alice@example.org", b"ALICE@example.org"), inner)
    report = protection_report.report(restored)
    assert not report.from_mismatch
    assert [m.name for m in report.mismatches] == ["From"]


def test_restore_without_hp_takes_outer_headers() -> None:
    legacy = EmailMessage(policy=policy.default)
    legacy.set_content("legacy body\n")
    outer = headers.build_outer(_msg())
    restored = headers.restore_entity(bytearray(to_bytes(legacy)), outer)
    assert restored["From"] == "Alice <alice@example.org>"
    assert restored["Subject"] == "[...]"
    report = protection_report.report(restored)
    assert not report.protected
    assert "From" in report.unprotected and report.mismatches == ()


def test_report_needs_a_decrypted_message() -> None:
    with pytest.raises(UsageError, match="decrypt_message"):
        protection_report.report(_msg())
