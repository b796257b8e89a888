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


def _attach(part: sealed.SealedMessage, data: bytes, rendered: bool) -> None:
    """The body as pre-built LF text, or encoded when written (Base64Body)."""
    if rendered:
        sealed.attach_rendered(part, sealed.Base64Body(data, width=76))
    else:
        sealed.attach_prebuilt(part, _b64_body(data))


def _armor(data: bytes) -> sealed.Base64Body:
    return sealed.Base64Body(
        data,
        width=64,
        head=b"-----BEGIN PGP MESSAGE-----\n\n",
        tail=b"=njUN\n-----END PGP MESSAGE-----\n",
    )


def _leaf(subject: str, data: bytes, rendered: bool = False) -> sealed.SealedMessage:
    msg = sealed.SealedMessage(policy=policy.default)
    msg["From"] = "Alice <alice@example.org>"
    msg["Subject"] = subject
    msg["Content-Type"] = "application/pkcs7-mime; smime-type=authEnveloped-data"
    msg["Content-Transfer-Encoding"] = "base64"
    _attach(msg, data, rendered)
    return msg


def _multipart(
    subject: str, data: bytes, rendered: bool = False
) -> sealed.SealedMessage:
    msg = sealed.SealedMessage(policy=policy.default)
    msg["Subject"] = subject
    msg["Content-Type"] = (
        'multipart/encrypted; protocol="application/pgp-encrypted"; boundary="=-b1"'
    )
    for body in (b"Version: 1\n", _b64_body(data)):
        part = sealed.SealedMessage(policy=policy.default)
        part["Content-Type"] = "application/octet-stream"
        if rendered and body != b"Version: 1\n":
            sealed.attach_rendered(part, _armor(data))
        else:
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
    rendered=st.booleans(),
    pol=st.sampled_from(_POLICIES),
)
def test_flattening_matches_the_stdlib_generator(
    subject: str, data: bytes, multipart: bool, rendered: bool, pol: policy.EmailPolicy
) -> None:
    msg = (_multipart if multipart else _leaf)(subject, data, rendered)
    assert msg.as_bytes(policy=pol) == _generator_bytes(msg, pol)
    assert msg.as_bytes() == _generator_bytes(msg, msg.policy)
    assert bytes(msg) == _generator_bytes(msg, msg.policy)
    assert msg.as_bytes(unixfrom=True, policy=pol) == _generator_bytes(
        msg, pol, unixfrom=True
    )
    assert msg.as_string(policy=pol) == _generator_text(msg, pol)
    utf8 = msg.policy.clone(utf8=True)
    assert str(msg) == _generator_text(msg, utf8)


@pytest.mark.parametrize("rendered", [False, True])
def test_large_body_is_spliced_without_the_generator(
    monkeypatch: pytest.MonkeyPatch, rendered: bool
) -> None:
    msg = _leaf("s", bytes(range(256)) * 4096, rendered)
    expected = _generator_bytes(msg, policy.SMTP)
    calls: list[int] = []
    real = Generator._write_lines

    def counting(self: Generator, lines: str) -> None:
        calls.append(len(lines))
        real(self, lines)

    monkeypatch.setattr(Generator, "_write_lines", counting)
    assert msg.as_bytes(policy=policy.SMTP) == expected
    assert max(calls) < 100


@pytest.mark.parametrize("rendered", [False, True])
def test_replaced_payload_is_written_by_the_generator(rendered: bool) -> None:
    msg = _leaf("s", b"old body", rendered)
    msg.set_payload("bmV3IGJvZHk=\n")
    assert msg.as_bytes().endswith(b"\n\nbmV3IGJvZHk=\n")
    assert msg.as_bytes(policy=policy.SMTP) == _generator_bytes(msg, policy.SMTP)


@pytest.mark.parametrize("rendered", [False, True])
def test_payload_reads_as_the_body_text(rendered: bool) -> None:
    msg = _leaf("s", b"hello", rendered)
    assert msg.get_payload() == "aGVsbG8=\n"
    assert msg.get_content() == b"hello"


@pytest.mark.parametrize("eol", [b"\n", b"\r\n"])
@pytest.mark.parametrize("size", [0, 1, 47, 48, 49, 56, 57, 58, 100_000])
def test_rendered_body_size_is_exact(eol: bytes, size: int) -> None:
    for body in (sealed.Base64Body(bytes(size), width=76), _armor(bytes(size))):
        assert body.size(eol) == len(b"".join(body.pieces(eol)))
        assert body.text() == b"".join(body.pieces(b"\n"))


def test_rendered_armor_is_the_armor_writer_text() -> None:
    from e2ee_mail.openpgp import armor

    data = bytes(range(256)) * 300
    body = sealed.Base64Body(
        data,
        width=64,
        head=b"-----BEGIN PGP MESSAGE-----\n\n",
        tail=b"-----END PGP MESSAGE-----\n",
    )
    assert body.text() == bytes(armor.enarmor(data))


@pytest.mark.parametrize("body", [b"no final newline", b"crlf\r\n", b"\xff\n"])
def test_attach_prebuilt_refuses_non_canonical_bodies(body: bytes) -> None:
    with pytest.raises(ValueError):
        sealed.attach_prebuilt(sealed.SealedMessage(), body)


def test_rendered_bodies_survive_copy_and_pickle() -> None:
    import copy
    import pickle

    msg = _multipart("s", bytes(range(256)) * 400, rendered=True)
    expected = msg.as_bytes(policy=policy.SMTP)
    for clone in (copy.deepcopy(msg), pickle.loads(pickle.dumps(msg))):
        assert clone.as_bytes(policy=policy.SMTP) == expected
