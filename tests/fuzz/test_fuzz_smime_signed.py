"""Fuzzing S/MIME signed mail as verify_message reads it.

A valid multipart/signed and opaque signed-data mail, mutated octet by octet (a
flipped bit, a deleted or duplicated range, inserted octets). Each mutation either
raises an ``e2ee_mail.Error`` (SignatureError included) or verifies as good with
exactly the original text: a mutation inside the signed octets never verifies.
"""

from __future__ import annotations

import functools
from email.message import EmailMessage

import pytest
import strategies as s
from hypothesis import given, settings
from hypothesis import strategies as st
from signing_keys import signer

import e2ee_mail

TEXT = "Fuzzed signed mail body.\n" * 5


@functools.cache
def _signed(opaque: bool) -> bytes:
    msg = EmailMessage()
    msg["From"] = "alice@example.org"
    msg["To"] = "bob@example.org"
    msg["Subject"] = "Fuzz"
    msg.set_content(TEXT)
    return e2ee_mail.sign_message(msg, signer("p256"), opaque=opaque).as_bytes()


@st.composite
def _mutation(draw: st.DrawFn, raw: bytes) -> bytes:
    op = draw(st.sampled_from(["flip", "delete", "duplicate", "insert"]))
    at = draw(st.integers(0, len(raw) - 1))
    if op == "flip":
        bit = draw(st.integers(0, 7))
        return raw[:at] + bytes([raw[at] ^ (1 << bit)]) + raw[at + 1 :]
    span = draw(st.integers(1, 64))
    if op == "delete":
        return raw[:at] + raw[at + span :]
    if op == "duplicate":
        return raw[: at + span] + raw[at : at + span] + raw[at + span :]
    return raw[:at] + draw(st.binary(min_size=1, max_size=16)) + raw[at:]


@pytest.mark.parametrize("opaque", [False, True], ids=["multipart", "opaque"])
@settings(max_examples=s.examples(80), deadline=None)
@given(data=st.data())
def test_mutated_signed_mail_never_verifies_other_text(
    opaque: bool, data: st.DataObject
) -> None:
    raw = _signed(opaque)
    mutated = data.draw(_mutation(raw), label="mutated")
    try:
        verified = e2ee_mail.verify_message(mutated, signer("p256").public)
    except e2ee_mail.Error as exc:
        s.record("smime-signed", type(exc).__name__)
        return
    s.record("smime-signed", "good")
    assert verified.message.get_content() == TEXT


@functools.cache
def _streamed() -> bytes:
    from e2ee_mail.cms.signing import SignedDataBuilder

    builder = SignedDataBuilder([signer("p256")])
    body = b"streamed content " * 200
    chunks = [builder.stream_chunk(body[i : i + 500]) for i in range(0, len(body), 500)]
    return builder.stream_head() + b"".join(chunks) + builder.stream_tail()


@settings(max_examples=s.examples(150), deadline=None)
@given(data=st.data())
def test_streamed_signed_data_fast_read_agrees_with_asn1crypto(
    data: st.DataObject,
) -> None:
    """The streamed SignedData is read by cutting its content out (signed.py);
    whatever that read accepts, asn1crypto's whole read accepts as the same value."""
    from asn1crypto import cms

    from e2ee_mail.cms import signed

    mutated = data.draw(_mutation(_streamed()), label="mutated")
    try:
        fast = signed.parse_signed_data(mutated, max_signers=8)
    except e2ee_mail.Error:
        s.record("cms-signed-stream", "refused")
        return
    full = signed._convert(cms.ContentInfo.load(mutated, strict=True), 8)
    assert fast == full
    s.record("cms-signed-stream", "read")
