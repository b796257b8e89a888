"""Fuzzing the OpenPGP signature parsers: One-Pass Signature packets, inline-signed
messages, detached signatures and signed-then-encrypted messages, mutated at random.
Each input raises an e2ee_mail.Error or gives verdicts; a "good" verdict only ever
comes with exactly the signed content. Text hashing must not depend on how the data
is cut into pieces."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpgp_signers import signer

import e2ee_mail
from e2ee_mail.openpgp import signing, verifying
from e2ee_mail.openpgp.document import DocumentHasher
from e2ee_mail.openpgp.packets.onepass import parse_one_pass, serialize_one_pass
from e2ee_mail.policy import DEFAULT

BODY = b"Signed body\r\nwith two lines\n"


@settings(max_examples=200)
@given(st.binary(max_size=80))
def test_one_pass_parser_raises_only_library_errors(data: bytes) -> None:
    try:
        packet = parse_one_pass(data)
    except e2ee_mail.Error:
        return
    assert serialize_one_pass(packet) == data


def _mutate(data: bytes, at: int, value: int) -> bytes:
    out = bytearray(data)
    out[at % len(out)] ^= value or 1
    return bytes(out)


@pytest.mark.parametrize("kind", ["v6", "v4", "rsa"])
@settings(max_examples=60)
@given(at=st.integers(min_value=0), value=st.integers(min_value=0, max_value=255))
def test_mutated_inline_message_is_never_good_with_other_content(
    kind: str, at: int, value: int
) -> None:
    key = signer(kind)
    signed = signing.sign_inline(BODY, key, armor=False)
    try:
        content, results = verifying.verify_inline(
            _mutate(signed, at, value), [key.public], policy=DEFAULT
        )
    except e2ee_mail.Error:
        return
    if any(r.good for r in results):
        assert content == BODY


@settings(max_examples=100)
@given(at=st.integers(min_value=0), value=st.integers(min_value=0, max_value=255))
def test_mutated_detached_signature_raises_or_judges(at: int, value: int) -> None:
    key = signer("v6")
    sig = signing.sign_detached(BODY, key, armor=False)
    mutated = _mutate(sig, at, value)
    try:
        results = verifying.verify_detached(BODY, mutated, [key.public], policy=DEFAULT)
    except e2ee_mail.Error:
        return
    for result in results:
        assert result.status in {
            "good",
            "bad",
            "unknown-signer",
            "expired-key",
            "revoked-key",
            "policy-refused",
        }


@settings(max_examples=100)
@given(st.binary(max_size=300))
def test_random_input_to_the_inline_reader(data: bytes) -> None:
    with contextlib.suppress(e2ee_mail.Error):
        verifying.verify_inline(data, [signer("v6").public], policy=DEFAULT)


@settings(max_examples=60)
@given(at=st.integers(min_value=0), value=st.integers(min_value=0, max_value=255))
def test_mutated_signed_and_encrypted_message(at: int, value: int) -> None:
    key = signer("v6")
    sealed = bytes(
        signing.encrypt_signed(BODY, [key.public], key, armor=False, policy=DEFAULT)
    )
    try:
        plain, results = verifying.decrypt_verified(
            _mutate(sealed, at, value), [key], [key.public], policy=DEFAULT
        )
    except e2ee_mail.Error:
        return
    assert plain == BODY
    assert all(r.good for r in results)


@settings(max_examples=200)
@given(
    st.binary(max_size=200).map(lambda b: b.replace(b"x", b"\r").replace(b"y", b"\n")),
    st.lists(st.integers(min_value=0, max_value=200), max_size=6),
)
def test_text_hash_does_not_depend_on_piece_boundaries(
    data: bytes, cuts: list[int]
) -> None:
    whole = DocumentHasher(6, 10, b"s" * 32, text=True)
    whole.update(data)
    pieces = DocumentHasher(6, 10, b"s" * 32, text=True)
    start = 0
    for cut in sorted(c % (len(data) + 1) for c in cuts):
        pieces.update(data[start:cut])
        start = cut
    pieces.update(data[start:])
    sig = verifying.read_detached(signing.sign_detached(b"", signer("v6")))[0]
    assert not isinstance(sig, str)
    assert whole.digest(sig) == pieces.digest(sig)
