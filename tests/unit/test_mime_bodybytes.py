"""mime/bodybytes.py: a body held as bytes reads as the payload string the email
package would hold, is decoded only when read, and never outlives a new payload."""

from __future__ import annotations

import copy
import pickle
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from e2ee_mail.mime import bodybytes, sealed, wire
from e2ee_mail.mime.bodybytes import ByteBodyMessage

_PGPMIME = (
    b"Content-Type: multipart/encrypted; boundary=b\r\n\r\n--b\r\n"
    b"Content-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n--b\r\n"
    b"Content-Type: application/octet-stream\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n"
    b"\r\nwV4D\xff\r\n-----END PGP MESSAGE-----\r\n--b--\r\n"
)


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the decodes of held bodies into payload strings."""
    calls: list[int] = []
    real = bodybytes._decode

    def counting(data: bytes | bytearray, start: int, stop: int, errors: str) -> str:
        calls.append(stop - start)
        return real(data, start, stop, errors)

    monkeypatch.setattr(bodybytes, "_decode", counting)
    return calls


@given(data=st.binary(max_size=200))
def test_held_body_reads_as_the_parsed_payload(data: bytes) -> None:
    head = b"Content-Type: application/octet-stream\r\n\r\n"
    parsed = BytesParser(policy=policy.default).parsebytes(head + data)
    msg = BytesParser(
        policy=policy.default.clone(message_factory=ByteBodyMessage)
    ).parsebytes(head, headersonly=True)
    assert isinstance(msg, ByteBodyMessage)
    bodybytes.set_body_bytes(
        msg, b"head" + data + b"tail", 4, 4 + len(data), errors="surrogateescape"
    )
    assert msg.get_payload() == parsed.get_payload()
    assert msg.get_payload(decode=True) == parsed.get_payload(decode=True)
    assert not msg.is_multipart()
    view = bodybytes.body_bytes(msg)
    assert view is not None and bytes(view) == data


def test_body_is_not_decoded_until_read(decodes: list[int]) -> None:
    msg = wire.from_bytes(_PGPMIME, keep_raw=True)
    part = msg.get_payload(1)
    assert [p.get_content_type() for p in msg.walk()][2] == "application/octet-stream"
    assert wire.raw_body(part) is not None
    assert decodes == []
    assert "wV4D" in part.get_payload()
    assert len(decodes) == 1
    part.get_payload()
    assert len(decodes) == 1  # decoded once, then kept


def test_held_text_reads_with_lf_line_ends_and_keeps_its_octets(
    decodes: list[int],
) -> None:
    msg = wire.from_bytes(
        b"Content-Type: text/plain\r\n\r\none\r\ntwo\r\n", keep_raw=True
    )
    assert bodybytes.held_lf(msg)
    assert decodes == []
    assert msg.get_content() == "one\ntwo\n"
    raw = bodybytes.body_bytes(msg)
    assert raw is not None and bytes(raw) == b"one\r\ntwo\r\n"
    assert not bodybytes.held_lf(msg)  # read already: the payload is a string


def test_decrypted_attachments_stay_bytes_until_read(decodes: list[int]) -> None:
    from e2ee_mail.mime import headers

    msg = EmailMessage()
    msg["From"] = "a@example.org"
    msg.set_content("text\n")
    msg.add_attachment(bytes(4000), maintype="application", subtype="x")
    inner = wire.to_bytes(headers.build_inner(msg))
    plain = headers.restore_entity(bytearray(inner), headers.build_outer(msg))
    assert plain.get_payload(1).get_content() == bytes(4000)
    assert decodes == []  # base64 decoded straight from the bytes
    assert plain.get_payload(0).get_content() == "text\n"
    assert decodes == [6]


def test_setting_the_payload_drops_the_bytes() -> None:
    msg = wire.from_bytes(_PGPMIME, keep_raw=True)
    part = msg.get_payload(1)
    part.set_content(b"replaced", maintype="application", subtype="octet-stream")
    assert wire.raw_body(part) is None
    assert part.get_content() == b"replaced"


def test_copies_keep_their_own_payloads() -> None:
    msg = wire.from_bytes(_PGPMIME, keep_raw=True)
    for clone in (copy.copy(msg.get_payload(1)), copy.deepcopy(msg).get_payload(1)):
        clone.set_payload("other\r\n")
        assert clone.get_payload() == "other\r\n"
    original = wire.raw_body(msg.get_payload(1))
    assert original is not None and bytes(original).startswith(b"-----BEGIN")
    clone = pickle.loads(pickle.dumps(msg))
    assert clone.as_bytes() == msg.as_bytes()


def test_sealed_message_is_flattened_without_decoding_its_body(
    decodes: list[int],
) -> None:
    msg = sealed.SealedMessage(policy=policy.default)
    msg["Content-Type"] = "application/pkcs7-mime"
    msg["Content-Transfer-Encoding"] = "base64"
    sealed.attach_prebuilt(msg, bytearray(b"QUJD\n" * 1000))
    flat = msg.as_bytes(policy=policy.SMTP)
    assert flat.endswith(b"\r\n\r\n" + b"QUJD\r\n" * 1000)
    assert decodes == []
    assert msg.get_content() == b"ABC" * 1000  # decoded from the bytes
    assert decodes == []
    assert msg.get_payload() == "QUJD\n" * 1000
    assert decodes == [5000]


@given(
    data=st.binary(max_size=3000),
    damage=st.sampled_from([b"", b"!", b"=", b" ", b"\r\n", b"A"]),
    where=st.integers(min_value=0),
)
def test_base64_body_decodes_as_the_email_package_does(
    data: bytes, damage: bytes, where: int
) -> None:
    msg = EmailMessage(policy=policy.default)
    msg.add_attachment(data, maintype="application", subtype="octet-stream")
    raw = msg.as_bytes(policy=policy.SMTP)
    head = raw.index(b"\r\n\r\n") + 4
    at = head + where % (len(raw) - head + 1)
    raw = raw[:at] + damage + raw[at:]
    ours = wire.from_bytes(raw, keep_raw=True)
    theirs = BytesParser(policy=policy.default).parsebytes(raw)
    decoded = [p.get_payload(decode=True) for p in ours.walk()]
    assert decoded == [p.get_payload(decode=True) for p in theirs.walk()]
    assert any(isinstance(d, bytes) for d in decoded)
    defects = [[type(d) for d in p.defects] for p in ours.walk()]
    assert defects == [[type(d) for d in p.defects] for p in theirs.walk()]


def test_each_header_field_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    from email.headerregistry import HeaderRegistry

    boundary = os.urandom(8).hex()  # a value no other test parsed
    data = (
        f"Content-Type: multipart/encrypted; boundary={boundary}\r\n\r\n"
        f"--{boundary}\r\n\r\nx\r\n--{boundary}--\r\n"
    ).encode()
    calls: list[str] = []
    real = HeaderRegistry.__call__

    def counting(self: HeaderRegistry, name: str, value: str) -> object:
        calls.append(name)
        return real(self, name, value)

    monkeypatch.setattr(HeaderRegistry, "__call__", counting)
    msg = wire.from_bytes(data, keep_raw=True)
    for _ in range(5):
        assert msg.get_content_type() == "multipart/encrypted"
        assert msg.get_boundary() == boundary
    assert calls.count("Content-Type") == 1
    # Written out as it came: the raw field, not a re-folded one.
    assert msg.as_bytes(policy=policy.SMTP) == data
