"""mime/sealed.py: SealedMessage writes pre-built bodies by hand, and every way of
flattening it gives the stdlib generator's bytes."""

from __future__ import annotations

import base64
import io
from email import policy
from email.generator import BytesGenerator, Generator
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from e2ee_mail.mime import sealed

_POLICIES = [policy.default, policy.SMTP, policy.SMTPUTF8, policy.HTTP]


def _b64_body(data: bytes) -> bytes:
    return base64.encodebytes(data)  # 76-column LF lines, ending in LF


def _leaf(subject: str, data: bytes) -> sealed.SealedMessage:
    msg = sealed.SealedMessage(policy=policy.default)
    msg["From"] = "Alice <alice@example.org>"
    msg["Subject"] = subject
    msg["Content-Type"] = "application/pkcs7-mime; smime-type=authEnveloped-data"
    msg["Content-Transfer-Encoding"] = "base64"
    sealed.attach_prebuilt(msg, _b64_body(data))
    return msg


def _multipart(subject: str, data: bytes) -> sealed.SealedMessage:
    msg = sealed.SealedMessage(policy=policy.default)
    msg["Subject"] = subject
    msg["Content-Type"] = (
        'multipart/encrypted; protocol="application/pgp-encrypted"; boundary="=-b1"'
    )
    for body in (b"Version: 1\n", _b64_body(data)):
        part = sealed.SealedMessage(policy=policy.default)
        part["Content-Type"] = "application/octet-stream"
        sealed.attach_prebuilt(part, body)
        msg.attach(part)
    msg.preamble = "This is an OpenPGP/MIME encrypted message."
    msg.epilogue = ""
    return msg


def _generator_bytes(
    msg: EmailMessage, pol: policy.EmailPolicy, unixfrom: bool = False
) -> bytes:
    out = io.BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=pol).flatten(msg, unixfrom=unixfrom)
    return out.getvalue()


def _generator_text(msg: EmailMessage, pol: policy.EmailPolicy) -> str:
    out = io.StringIO()
    Generator(
        out, mangle_from_=False, maxheaderlen=pol.max_line_length, policy=pol
    ).flatten(msg)
    return out.getvalue()


@settings(max_examples=40, deadline=None)
@given(
    subject=st.text(
        st.characters(blacklist_categories=("Cs", "Cc")), min_size=0, max_size=120
    ),
    data=st.binary(min_size=0, max_size=600),
    multipart=st.booleans(),
    pol=st.sampled_from(_POLICIES),
)
def test_flattening_matches_the_stdlib_generator(
    subject: str, data: bytes, multipart: bool, pol: policy.EmailPolicy
) -> None:
    msg = (_multipart if multipart else _leaf)(subject, data)
    assert msg.as_bytes(policy=pol) == _generator_bytes(msg, pol)
    assert msg.as_bytes() == _generator_bytes(msg, msg.policy)
    assert bytes(msg) == _generator_bytes(msg, msg.policy)
    assert msg.as_bytes(unixfrom=True, policy=pol) == _generator_bytes(
        msg, pol, unixfrom=True
    )
    assert msg.as_string(policy=pol) == _generator_text(msg, pol)
    utf8 = msg.policy.clone(utf8=True)
    assert str(msg) == _generator_text(msg, utf8)


def test_large_body_is_spliced_without_the_generator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    msg = _leaf("s", bytes(range(256)) * 4096)
    expected = _generator_bytes(msg, policy.SMTP)
    calls: list[int] = []
    real = Generator._write_lines

    def counting(self: Generator, lines: str) -> None:
        calls.append(len(lines))
        real(self, lines)

    monkeypatch.setattr(Generator, "_write_lines", counting)
    assert msg.as_bytes(policy=policy.SMTP) == expected
    assert max(calls) < 100


def test_replaced_payload_is_written_by_the_generator() -> None:
    msg = _leaf("s", b"old body")
    msg.set_payload("bmV3IGJvZHk=\n")
    assert msg.as_bytes().endswith(b"\n\nbmV3IGJvZHk=\n")
    assert msg.as_bytes(policy=policy.SMTP) == _generator_bytes(msg, policy.SMTP)


def test_payload_reads_as_the_body_text() -> None:
    msg = _leaf("s", b"hello")
    assert msg.get_payload() == "aGVsbG8=\n"
    assert msg.get_content() == b"hello"


@pytest.mark.parametrize("body", [b"no final newline", b"crlf\r\n", b"\xff\n"])
def test_attach_prebuilt_refuses_non_canonical_bodies(body: bytes) -> None:
    with pytest.raises(ValueError):
        sealed.attach_prebuilt(sealed.SealedMessage(), body)
