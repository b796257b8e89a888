"""Mail through e2ee_mail.encrypt_message / decrypt_message as an application sends
it: the decrypted mail reads like the one that went in, the encrypted one goes to
an SMTP server as ``as_bytes()`` gives it, and the header confidentiality policy is
the caller's choice."""

from __future__ import annotations

import contextlib
import io
import smtplib
import socket
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

import e2ee_mail
from e2ee_mail.mime import detect

FORMATS = {"smime": "x509", "pgpmime": "openpgp"}


@pytest.fixture(scope="module")
def keys() -> dict[str, e2ee_mail.SecretKey]:
    return {
        fmt: e2ee_mail.generate_key("Bob <bob@example.org>", format=kf)  # type: ignore[arg-type]
        for fmt, kf in FORMATS.items()
    }


def _mail() -> EmailMessage:
    """A multipart mail as an application builds it: UTF-8 text, HTML, a text and
    a binary attachment, provider and list fields, a long References field."""
    msg = EmailMessage()
    msg["From"] = "Ålice Example <alice@example.org>"
    msg["To"] = "Bob <bob@example.org>, Carol <carol@example.org>"
    msg["Subject"] = "Grüße: the Q3 figures"
    msg["Date"] = "Sat, 20 Feb 2021 10:09:02 -0500"
    msg["Message-ID"] = "<q3@example.org>"
    msg["References"] = " ".join(f"<thread-{i}@example.org>" for i in range(60))
    msg["List-Unsubscribe"] = "<https://example.org/unsubscribe/q3>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Feedback-ID"] = "q3:customers:report:example"
    msg["X-SES-CONFIGURATION-SET"] = "reports"
    msg.set_content("Hello Bob,\n\nthe figures are attached.\nGrüße, Ålice\n")
    msg.add_alternative(
        "<html><body>\n<p>Hello Bob,</p>\n<p>the figures are attached.</p>\n"
        "</body></html>\n",
        subtype="html",
    )
    msg.add_attachment(
        "quarter,revenue\nQ3,1200\n", subtype="csv", filename="figures.csv"
    )
    msg.add_attachment(
        bytes(range(256)) + b"\r\n\n\r",
        maintype="application",
        subtype="octet-stream",
        filename="raw.bin",
    )
    return msg


def _leaves(msg: EmailMessage) -> list[EmailMessage]:
    return [part for part in msg.walk() if not part.is_multipart()]


def _assert_reads_like(plain: EmailMessage, original: EmailMessage) -> None:
    def fields(msg: EmailMessage) -> list[tuple[str, str]]:
        return [(k, str(v)) for k, v in msg.items() if k != "Content-Type"]

    assert fields(plain) == fields(original)
    assert [p.get_content_type() for p in plain.walk()] == [
        p.get_content_type() for p in original.walk()
    ]
    for got, want in zip(_leaves(plain), _leaves(original), strict=True):
        assert got.get_content() == want.get_content()
        assert list(got.items()) == list(want.items())


@pytest.mark.parametrize("legacy_display", [True, False])
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_decrypted_mail_reads_like_the_original(
    keys: dict[str, e2ee_mail.SecretKey], fmt: str, legacy_display: bool
) -> None:
    original = _mail()
    sealed = e2ee_mail.encrypt_message(
        original,
        keys[fmt].public,
        format=fmt,  # type: ignore[arg-type]
        legacy_display=legacy_display,
    )
    plain = e2ee_mail.decrypt_message(sealed.as_bytes(), keys[fmt])
    _assert_reads_like(plain, original)
    assert _leaves(plain)[0].get_content() == (
        "Hello Bob,\n\nthe figures are attached.\nGrüße, Ålice\n"
    )


@pytest.mark.parametrize("cte", ["7bit", "8bit", "quoted-printable", "base64"])
def test_every_transfer_encoding_keeps_its_line_ends(
    keys: dict[str, e2ee_mail.SecretKey], cte: str
) -> None:
    original = EmailMessage()
    original["From"] = "alice@example.org"
    original["Subject"] = "line ends"
    text = "one\ntwo\n\nthree " + "x" * 100 + "\n"
    original.set_content(text, cte=cte)
    sealed = e2ee_mail.encrypt_message(original, keys["smime"].public)
    plain = e2ee_mail.decrypt_message(sealed.as_bytes(), keys["smime"])
    assert plain.get_content() == text
    assert plain["Content-Transfer-Encoding"] == cte


def test_a_signed_part_keeps_its_octets(keys: dict[str, e2ee_mail.SecretKey]) -> None:
    signed = b"Content-Type: text/plain; charset=us-ascii\r\n\r\nsigned\r\ntext\r\n"
    raw = (
        b"From: alice@example.org\r\nSubject: signed\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/signed; protocol="application/pkcs7-signature";'
        b' micalg=sha-256; boundary="s"\r\n\r\n--s\r\n'
        + signed
        + b"\r\n--s\r\nContent-Type: application/pkcs7-signature\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--s--\r\n"
    )
    original = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(original, EmailMessage)
    sealed = e2ee_mail.encrypt_message(original, keys["smime"].public)
    plain = e2ee_mail.decrypt_message(sealed.as_bytes(), keys["smime"])
    first = plain.get_payload(0)
    # The octets the signature covers, CRLF line ends as they were.
    assert first.get_payload() == "signed\r\ntext\r\n"
    assert first.as_bytes(policy=policy.SMTP) == signed


def _assert_wire_ready(data: bytes) -> None:
    lines = data.split(b"\r\n")
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    assert max(len(line) for line in lines) <= 998
    assert data.endswith(b"\r\n")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_sealed_mail_is_wire_ready(
    keys: dict[str, e2ee_mail.SecretKey], fmt: str
) -> None:
    sealed = e2ee_mail.encrypt_message(
        _mail(),
        keys[fmt].public,
        format=fmt,  # type: ignore[arg-type]
    )
    data = sealed.as_bytes()
    _assert_wire_ready(data)
    assert data == bytes(sealed) == detect.serialize(sealed)
    assert sealed.as_string().encode("ascii") == data
    # The header fields are folded (the References field is 1.6 KB long).
    assert b"References: <thread-0@example.org>" in data
    assert max(len(line) for line in data.split(b"\r\n")) <= 78


@contextlib.contextmanager
def _smtp_server() -> Iterator[tuple[int, list[bytes]]]:
    """A local SMTP server (aiosmtpd, RFC 5321 line length checks included) on
    127.0.0.1, yielding (port, the DATA it received)."""
    controller_module = pytest.importorskip("aiosmtpd.controller")
    received: list[bytes] = []

    class Handler:
        async def handle_DATA(
            self, server: object, session: object, envelope: object
        ) -> str:
            received.append(envelope.original_content)  # type: ignore[attr-defined]
            return "250 Message accepted for delivery"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = controller_module.Controller(
        Handler(), hostname="127.0.0.1", port=port, ready_timeout=30
    )
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_smtplib_sends_the_sealed_mail_as_it_is(
    keys: dict[str, e2ee_mail.SecretKey], fmt: str
) -> None:
    original = _mail()
    sealed = e2ee_mail.encrypt_message(
        original,
        keys[fmt].public,
        format=fmt,  # type: ignore[arg-type]
    )
    with (
        _smtp_server() as (port, received),
        smtplib.SMTP("127.0.0.1", port, timeout=30) as client,
    ):
        refused = client.sendmail(
            "alice@example.org", ["bob@example.org"], sealed.as_bytes()
        )
    assert refused == {}
    assert received == [sealed.as_bytes()]
    plain = e2ee_mail.decrypt_message(received[0], keys[fmt])
    _assert_reads_like(plain, original)


# -- Header confidentiality policies through the public API -------------------------


def _outer(data: bytes) -> EmailMessage:
    head = data.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    msg = BytesParser(policy=policy.default).parsebytes(head)
    assert isinstance(msg, EmailMessage)
    return msg


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_baseline_keeps_what_providers_read_outside(
    keys: dict[str, e2ee_mail.SecretKey], fmt: str
) -> None:
    original = _mail()
    original["Keywords"] = "q3, confidential"
    original["Auto-Submitted"] = "auto-generated"
    data = e2ee_mail.encrypt_message(
        original,
        keys[fmt].public,
        format=fmt,  # type: ignore[arg-type]
    ).as_bytes()
    outer = _outer(data)
    assert outer["Subject"] == "[...]"
    assert outer["Keywords"] is None
    for name in (
        "From",
        "To",
        "Date",
        "Message-ID",
        "References",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "Feedback-ID",
        "Auto-Submitted",
        "X-SES-CONFIGURATION-SET",
    ):
        assert outer[name] == original[name], name
    assert b"Q3 figures" not in data and b"confidential" not in data
    plain = e2ee_mail.decrypt_message(data, keys[fmt])
    assert plain["Subject"] == "Grüße: the Q3 figures"
    assert plain["Keywords"] == "q3, confidential"
    report = e2ee_mail.header_protection_report(plain)
    assert report.protected
    assert report.confidential == ("Subject", "Keywords")
    assert report.mismatches == ()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_named_and_callers_policies(
    keys: dict[str, e2ee_mail.SecretKey], fmt: str
) -> None:
    key = keys[fmt]

    def encrypt(hcp: object) -> bytes:
        return e2ee_mail.encrypt_message(
            _mail(),
            key.public,
            format=fmt,  # type: ignore[arg-type]
            hcp=hcp,  # type: ignore[arg-type]
        ).as_bytes()

    shy = _outer(encrypt("shy"))
    assert shy["From"] == "alice@example.org"
    assert shy["To"] == "bob@example.org, carol@example.org"
    assert shy["Date"] == "Sat, 20 Feb 2021 15:09:02 +0000"
    assert shy["Subject"] == "[...]"

    def mine(name: str, value: str) -> str | None:
        if name.lower().startswith("x-ses-"):
            return None
        return e2ee_mail.hcp_minimal(name, value)

    data = encrypt(mine)
    outer = _outer(data)
    assert outer["X-SES-CONFIGURATION-SET"] is None
    assert outer["Subject"] == "[...]"
    plain = e2ee_mail.decrypt_message(data, key)
    assert plain["X-SES-CONFIGURATION-SET"] == "reports"
    assert e2ee_mail.header_protection_report(plain).confidential == (
        "Subject",
        "X-SES-CONFIGURATION-SET",
    )
    assert _outer(encrypt("no-confidentiality"))["Subject"] == "Grüße: the Q3 figures"
    with pytest.raises(e2ee_mail.UsageError, match="unknown header confidentiality"):
        encrypt("strict")
    with pytest.raises(e2ee_mail.UsageError, match="removed From"):
        encrypt(lambda name, value: None)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_streams_take_the_policy_too(
    keys: dict[str, e2ee_mail.SecretKey], fmt: str
) -> None:
    raw = _mail().as_bytes(policy=policy.SMTP)
    out = io.BytesIO()
    e2ee_mail.encrypt_stream(
        io.BytesIO(raw),
        out,
        keys[fmt].public,
        format=fmt,  # type: ignore[arg-type]
        hcp="shy",
    )
    outer = _outer(out.getvalue())
    assert outer["From"] == "alice@example.org"
    assert outer["Subject"] == "[...]"
    plain = e2ee_mail.decrypt_message(out.getvalue(), keys[fmt])
    assert plain["From"] == "Ålice Example <alice@example.org>"
    assert e2ee_mail.header_protection_report(plain).mismatches == ()


def test_hcp_is_for_mail_formats_only(keys: dict[str, e2ee_mail.SecretKey]) -> None:
    with pytest.raises(e2ee_mail.UsageError, match="smime and pgpmime only"):
        e2ee_mail.encrypt_stream(
            io.BytesIO(b"data"),
            io.BytesIO(),
            keys["pgpmime"].public,
            format="openpgp",
            hcp="shy",
        )


def test_report_flags_an_outer_field_added_on_the_way(
    keys: dict[str, e2ee_mail.SecretKey],
) -> None:
    data = e2ee_mail.encrypt_message(_mail(), keys["smime"].public).as_bytes()
    tampered = b"Cc: mallory@example.net\r\n" + data
    plain = e2ee_mail.decrypt_message(tampered, keys["smime"])
    assert plain["Cc"] is None
    report = e2ee_mail.header_protection_report(plain)
    assert [(m.name, m.outer, m.recorded) for m in report.mismatches] == [
        ("Cc", ("mallory@example.net",), ())
    ]
    with pytest.raises(e2ee_mail.UsageError):
        e2ee_mail.header_protection_report(_mail())
