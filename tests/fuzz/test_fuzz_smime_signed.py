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
