"""Mail as streams (mime/stream.py through e2ee_mail.encrypt_stream/decrypt_stream):
the same mail as the message API, both ways, in bounded memory, with the same
refusals."""

from __future__ import annotations

import base64
import dataclasses
import io
import os
import tracemalloc
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import e2ee_mail
from e2ee_mail.errors import MIMEError
from e2ee_mail.policy import DEFAULT, Policy

FORMATS = {"smime": "x509", "pgpmime": "openpgp"}


@pytest.fixture(scope="module")
def keys() -> dict[str, e2ee_mail.SecretKey]:
    return {
        fmt: e2ee_mail.generate_key("Bob <bob@example.org>", format=kf)  # type: ignore[arg-type]
        for fmt, kf in FORMATS.items()
    }


def _mail(text: str, attachment: bytes | None, subject: str = "Quarterly") -> bytes:
    msg = EmailMessage(policy=policy.default)
    msg["From"] = "Alice <alice@example.org>"
    msg["To"] = "Bob <bob@example.org>"
    msg["Bcc"] = "Hidden <hidden@example.org>"
    msg["Subject"] = subject
    msg.set_content(text)
    if attachment is not None:
        msg.add_attachment(
            attachment, maintype="application", subtype="octet-stream", filename="a"
        )
    return msg.as_bytes(policy=policy.SMTP)


def _structure(msg: EmailMessage) -> list[object]:
    """Header fields and decoded bodies, line ends aside: decrypt_message gives text
    bodies LF line ends, decrypt_stream writes them as they were encrypted."""
    return [
        (
            [(k, str(v)) for k, v in part.items()],
            None
            if part.is_multipart()
            else part.get_payload(decode=True).replace(b"\r\n", b"\n"),
        )
        for part in msg.walk()
    ]


def _encrypt(raw: bytes, key: e2ee_mail.SecretKey, fmt: str, **kw: object) -> bytes:
    out = io.BytesIO()
    e2ee_mail.encrypt_stream(io.BytesIO(raw), out, key.public, format=fmt, **kw)  # type: ignore[arg-type]
    return out.getvalue()


def _decrypt(enc: bytes, key: e2ee_mail.SecretKey, **kw: object) -> bytes:
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(io.BytesIO(enc), out, key, **kw)  # type: ignore[arg-type]
    return out.getvalue()


def _parse(raw: bytes) -> EmailMessage:
    from email.parser import BytesParser

    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    return msg


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=st.sampled_from(sorted(FORMATS)),
    text=st.text(st.characters(codec="ascii", exclude_characters="\x00"), max_size=300),
    attachment=st.none() | st.binary(max_size=5000),
)
def test_streamed_mail_opens_as_the_message_api_mail(
    keys: dict[str, e2ee_mail.SecretKey], fmt: str, text: str, attachment: bytes | None
) -> None:
    raw = _mail(text, attachment)
    key = keys[fmt]
    streamed = _encrypt(raw, key, fmt)
    # No Legacy Display Element: a streamed body is encrypted as it is.
    built = e2ee_mail.encrypt_message(
        _parse(raw),
        key.public,
        format=fmt,  # type: ignore[arg-type]
        legacy_display=False,
    )
    expected = _structure(e2ee_mail.decrypt_message(built.as_bytes(), key))
    # Stream-encrypted, opened by the message API; and both opened by the stream.
    assert _structure(e2ee_mail.decrypt_message(streamed, key)) == expected
    assert _structure(_parse(_decrypt(streamed, key))) == expected
    assert _structure(_parse(_decrypt(built.as_bytes(), key))) == expected


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_outer_mail_shows_no_protected_field(
    keys: dict[str, e2ee_mail.SecretKey], fmt: str
) -> None:
    streamed = _encrypt(_mail("secret text\n", b"\x00" * 100), keys[fmt], fmt)
    head = streamed.split(b"\r\n\r\n", 1)[0]
    assert b"Subject: [...]\r\n" in head
    assert b"Quarterly" not in streamed and b"Bcc" not in streamed
    assert b"secret text" not in streamed
    opened = _parse(_decrypt(streamed, keys[fmt]))
    assert opened["Subject"] == "Quarterly"
    assert opened["HP-Outer"] is None and opened["Bcc"] is None
    assert opened.get_param("hp", header="content-type") is None


def test_legacy_cbc_mail_streams_and_needs_the_opt_in(
    keys: dict[str, e2ee_mail.SecretKey],
) -> None:
    streamed = _encrypt(
        _mail("old client\n", None), keys["smime"], "smime", cipher="aes-256-cbc"
    )
    assert b'smime-type="enveloped-data"' in streamed
    with pytest.raises(e2ee_mail.PolicyError):
        _decrypt(streamed, keys["smime"])
    opened = _parse(_decrypt(streamed, keys["smime"], allow_unauthenticated=True))
    assert opened.get_content() == "old client\r\n"


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_tampered_mail_fails_and_writes_nothing(
    keys: dict[str, e2ee_mail.SecretKey], fmt: str
) -> None:
    streamed = bytearray(_encrypt(_mail("pay 100\n", None), keys[fmt], fmt))
    body = streamed.index(b"\r\n\r\n") + 400
    # Swap two different base64 characters of the body: valid text, changed
    # ciphertext.
    at = next(
        i
        for i in range(body, len(streamed))
        if streamed[i : i + 2].isalnum() and streamed[i] != streamed[i + 1]
    )
    streamed[at], streamed[at + 1] = streamed[at + 1], streamed[at]
    out = io.BytesIO()
    with pytest.raises(e2ee_mail.Error):
        e2ee_mail.decrypt_stream(io.BytesIO(bytes(streamed)), out, keys[fmt])
    assert out.getvalue() == b""


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_truncated_mail_fails_and_writes_nothing(
    keys: dict[str, e2ee_mail.SecretKey], fmt: str
) -> None:
    streamed = _encrypt(_mail("pay 100\n", None), keys[fmt], fmt)
    for cut in (len(streamed) // 2, len(streamed) - 40):
        out = io.BytesIO()
        with pytest.raises(e2ee_mail.Error):
            e2ee_mail.decrypt_stream(io.BytesIO(streamed[:cut]), out, keys[fmt])
        assert out.getvalue() == b""


def test_encrypted_part_beside_plaintext_is_refused(
    keys: dict[str, e2ee_mail.SecretKey],
) -> None:
    inner = _encrypt(_mail("hidden\n", None), keys["smime"], "smime")
    efail = (
        b"From: a@example.org\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n"
        b"--x\r\nContent-Type: text/plain\r\n\r\n<img src='http://evil/\r\n--x\r\n"
        + inner
        + b"\r\n--x--\r\n"
    )
    with pytest.raises(MIMEError, match=r"EFAIL|not an encrypted mail"):
        _decrypt(efail, keys["smime"])


def _pgpmime_parts(keys: dict[str, e2ee_mail.SecretKey]) -> tuple[bytes, bytes]:
    streamed = _encrypt(_mail("x\n", None), keys["pgpmime"], "pgpmime")
    boundary = streamed.split(b'boundary="', 1)[1].split(b'"', 1)[0]
    return streamed, b"--" + boundary


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m, d: m.replace(d + b"--", d), "two parts|close delimiter"),
        (
            lambda m, d: m.replace(d + b"--", d + b"\r\n\r\nthird\r\n" + d + b"--"),
            "two parts",
        ),
        (lambda m, d: m.replace(b"Version: 1", b"Version: 2"), "Version: 1"),
        (
            lambda m, d: m.replace(b"application/octet-stream", b"text/plain"),
            "octet-stream",
        ),
        (lambda m, d: m.replace(b'boundary="', b'nothing="'), "boundary"),
    ],
    ids=["no-close", "third-part", "version", "data-type", "no-boundary"],
)
def test_malformed_pgpmime_is_refused(
    keys: dict[str, e2ee_mail.SecretKey], change: object, message: str
) -> None:
    streamed, delimiter = _pgpmime_parts(keys)
    bad = change(streamed, delimiter)  # type: ignore[operator]
    with pytest.raises(MIMEError, match=message):
        _decrypt(bad, keys["pgpmime"])


#: The header block a mutation fuzzer found (89 octets): a PGP/MIME mail whose
#: boundary is the single octet 0xB8, which the parser decodes as U+FFFD.
NON_ASCII_BOUNDARY = base64.b64decode(
    "Q29udGVudC1UeXBlOiBtdWx0aXBhcnQvZW5jcnlwdGVkOyBwcm90b2NvbD0iYXBwbGljYXRpb24v"
    "cGdwLWVuY3J5cHRlZCI7IGJvdW5kYXJ5PSK4Ig0KDQo="
)


@pytest.mark.parametrize(
    "mail",
    [
        NON_ASCII_BOUNDARY,
        NON_ASCII_BOUNDARY.replace(b'"\xb8"', '"b\u00e9"'.encode()),
    ],
    ids=["octet-b8", "utf-8"],
)
def test_non_ascii_boundary_is_a_mime_error(
    keys: dict[str, e2ee_mail.SecretKey], mail: bytes
) -> None:
    assert len(NON_ASCII_BOUNDARY) == 89
    with pytest.raises(MIMEError, match="boundary"):
        _decrypt(mail, keys["pgpmime"])


def test_plain_mail_is_not_decrypted(keys: dict[str, e2ee_mail.SecretKey]) -> None:
    with pytest.raises(MIMEError, match="not an encrypted mail"):
        _decrypt(_mail("hello\n", None), keys["smime"])


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_from_field_the_email_parser_chokes_on_is_a_mime_error(
    keys: dict[str, e2ee_mail.SecretKey], fmt: str
) -> None:
    # "a@" with no domain makes CPython's address parser raise IndexError (found
    # by a mutation fuzzer): a malformed mail, never a traceback.
    mail = b"From: a@\r\nTo: b@example.org\r\nSubject: s\r\n\r\nhi\r\n"
    out = io.BytesIO()
    with pytest.raises(MIMEError, match="malformed header fields"):
        e2ee_mail.encrypt_stream(io.BytesIO(mail), out, keys[fmt].public, format=fmt)  # type: ignore[arg-type]
    assert out.getvalue() == b""
    with pytest.raises(MIMEError, match="malformed header fields"):
        e2ee_mail.encrypt_message(_parse(mail), keys[fmt].public, format=fmt)  # type: ignore[arg-type]


def _padded(mail: bytes, size: int) -> bytes:
    """``mail`` with an X-Pad field in front, its header block ``size`` octets long
    (fields and the empty line)."""
    from e2ee_mail.mime import streamio

    have = streamio.header_end(mail, 0)
    field = b"X-Pad: " + b"a" * (size - have - 9) + b"\r\n"
    padded = field + mail
    assert streamio.header_end(padded, 0) == size
    return padded


LIMIT = 8192


def _small() -> Policy:
    return dataclasses.replace(DEFAULT, max_mail_header_bytes=LIMIT)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_one_header_limit_for_stream_and_message_decryption(
    keys: dict[str, e2ee_mail.SecretKey], fmt: str
) -> None:
    sealed = _encrypt(_mail("x\n", None), keys[fmt], fmt)
    at_limit, over = _padded(sealed, LIMIT), _padded(sealed, LIMIT + 1)
    assert _decrypt(at_limit, keys[fmt], policy=_small())
    assert e2ee_mail.decrypt_message(at_limit, keys[fmt], policy=_small())
    with pytest.raises(MIMEError, match="max_mail_header_bytes"):
        _decrypt(over, keys[fmt], policy=_small())
    with pytest.raises(MIMEError, match="max_mail_header_bytes"):
        e2ee_mail.decrypt_message(over, keys[fmt], policy=_small())
    with pytest.raises(MIMEError, match="max_mail_header_bytes"):
        e2ee_mail.decrypt_message(_parse(over), keys[fmt], policy=_small())


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_one_header_limit_for_stream_and_message_encryption(
    keys: dict[str, e2ee_mail.SecretKey], fmt: str
) -> None:
    plain = _mail("x\n", None)
    at_limit, over = _padded(plain, LIMIT), _padded(plain, LIMIT + 1)
    assert _encrypt(at_limit, keys[fmt], fmt, policy=_small())
    assert e2ee_mail.encrypt_message(
        _parse(at_limit),
        keys[fmt].public,
        format=fmt,  # type: ignore[arg-type]
        policy=_small(),
    )
    with pytest.raises(MIMEError, match="max_mail_header_bytes"):
        _encrypt(over, keys[fmt], fmt, policy=_small())
    with pytest.raises(MIMEError, match="max_mail_header_bytes"):
        e2ee_mail.encrypt_message(
            _parse(over),
            keys[fmt].public,
            format=fmt,  # type: ignore[arg-type]
            policy=_small(),
        )


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_the_message_api_refuses_what_the_stream_refuses_by_default(
    keys: dict[str, e2ee_mail.SecretKey], fmt: str
) -> None:
    # The default limit (1 MiB) for both: the message API used to parse any header
    # block, the stream reader refused those over 1 MiB.
    sealed = _encrypt(_mail("x\n", None), keys[fmt], fmt)
    over = _padded(sealed, DEFAULT.max_mail_header_bytes + 1)
    with pytest.raises(MIMEError, match="max_mail_header_bytes"):
        _decrypt(over, keys[fmt])
    with pytest.raises(MIMEError, match="max_mail_header_bytes"):
        e2ee_mail.decrypt_message(over, keys[fmt])


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_the_decrypted_entity_header_is_held_to_the_same_limit(
    keys: dict[str, e2ee_mail.SecretKey], fmt: str
) -> None:
    inner = _padded(_mail("x\n", None), 2 * LIMIT)
    sealed = _encrypt(inner, keys[fmt], fmt)  # default limit: fits
    with pytest.raises(MIMEError, match="max_mail_header_bytes"):
        _decrypt(sealed, keys[fmt], policy=_small())
    with pytest.raises(MIMEError, match="max_mail_header_bytes"):
        e2ee_mail.decrypt_message(sealed, keys[fmt], policy=_small())


def _peaks(
    key: e2ee_mail.SecretKey, fmt: str, raw: bytes, tmp: Path
) -> tuple[int, int]:
    """Peak traced allocations of stream-encrypting ``raw`` and of opening it."""
    sealed, opened = tmp / "sealed.eml", tmp / "opened.eml"
    tracemalloc.start()
    try:
        with open(sealed, "wb") as dst:
            e2ee_mail.encrypt_stream(io.BytesIO(raw), dst, key.public, format=fmt)  # type: ignore[arg-type]
        _, encrypt_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        with open(sealed, "rb") as src, open(opened, "wb") as dst:
            e2ee_mail.decrypt_stream(src, dst, key)
        _, decrypt_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    got = _parse(opened.read_bytes())
    want = _parse(raw)
    assert [p.get_payload(decode=True) for p in got.iter_attachments()] == [
        p.get_payload(decode=True) for p in want.iter_attachments()
    ]
    return encrypt_peak, decrypt_peak


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_large_mail_streams_in_bounded_memory(
    keys: dict[str, e2ee_mail.SecretKey], fmt: str, tmp_path: Path
) -> None:
    small = _peaks(
        keys[fmt], fmt, _mail("see attachment\n", os.urandom(2 << 20)), tmp_path
    )
    large = _peaks(
        keys[fmt], fmt, _mail("see attachment\n", os.urandom(20 << 20)), tmp_path
    )
    # Ten times the mail, the same few chunk buffers (SEIPDv2 chunks, base64 batches).
    for small_peak, large_peak in zip(small, large, strict=True):
        assert large_peak < small_peak + (4 << 20)
        assert large_peak < 20 << 20


def test_pgpmime_has_no_legacy_cipher(keys: dict[str, e2ee_mail.SecretKey]) -> None:
    with pytest.raises(e2ee_mail.UsageError, match="only for format cms/smime"):
        _encrypt(_mail("x\n", None), keys["pgpmime"], "pgpmime", cipher="aes-256-cbc")


@pytest.mark.parametrize(("fmt", "other"), [("smime", "pgpmime"), ("pgpmime", "smime")])
def test_a_recipient_of_the_other_kind_is_refused_before_anything_is_written(
    keys: dict[str, e2ee_mail.SecretKey], fmt: str, other: str
) -> None:
    out = io.BytesIO()
    with pytest.raises(e2ee_mail.Error):
        e2ee_mail.encrypt_stream(
            io.BytesIO(_mail("x\n", None)),
            out,
            keys[other].public,
            format=fmt,  # type: ignore[arg-type]
        )
    assert out.getvalue() == b""


def _smime_around(entity: bytes, key: e2ee_mail.SecretKey) -> bytes:
    """``entity`` encrypted as it is (no header fields added), in an S/MIME mail."""
    der = bytes(e2ee_mail.encrypt(entity, key.public, format="cms"))
    return (
        b"From: Alice <alice@example.org>\r\nSubject: the outer subject\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; "
        b"smime-type=authEnveloped-data; name=smime.p7m\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(der).replace(b"\n", b"\r\n")
    )


@pytest.mark.parametrize(
    ("entity", "fields", "body"),
    [
        # A bare text, as `openssl smime -encrypt` of a text file writes it.
        (
            b"just a line\r\nand another\r\n",
            {"Subject": "the outer subject"},
            b"just a line\r\nand another\r\n",
        ),
        (
            b"first paragraph\r\n\r\nsecond one\r\n",
            {"Subject": "the outer subject"},
            b"first paragraph\r\n\r\nsecond one\r\n",
        ),
        # An empty header block: the entity starts with its empty line.
        (b"\r\nbody only\r\n", {"Subject": "the outer subject"}, b"body only\r\n"),
        # Header fields, then a line that is none, without the empty line between:
        # that line starts the body.
        (
            b"Subject: the inner one\r\nnot a field\r\n\r\nmore\r\n",
            {"Subject": "the inner one"},
            b"not a field\r\n\r\nmore\r\n",
        ),
    ],
    ids=["bare", "bare-paragraphs", "empty-header", "missing-empty-line"],
)
def test_an_entity_without_header_fields_streams_as_decrypt_message_opens_it(
    keys: dict[str, e2ee_mail.SecretKey],
    entity: bytes,
    fields: dict[str, str],
    body: bytes,
) -> None:
    key = keys["smime"]
    mail = _smime_around(entity, key)
    streamed = _decrypt(mail, key)
    _, sep, rest = streamed.partition(b"\r\n\r\n")
    assert sep and rest == body
    opened = _parse(streamed)
    message = e2ee_mail.decrypt_message(mail, key)
    for name, value in fields.items():
        assert opened[name] == message[name] == value
    assert opened["From"] == message["From"] == "Alice <alice@example.org>"
    # The stream keeps the body's CRLF as encrypted; decrypt_message gives LF.
    assert opened.get_content().replace("\r\n", "\n") == message.get_content()
