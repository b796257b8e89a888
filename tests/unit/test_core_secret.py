"""core/secret.py: a Secret never shows its bytes, compares by value, won't pickle."""

from __future__ import annotations

import copy
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from e2ee_mail.core.secret import Secret

VALUE = bytes.fromhex(
    "8f3a1c55d00ddeadbeef0123456789abcdef0123456789abcdef0123456789ab"
)


def _renderings(secret: Secret) -> list[str]:
    return [
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        "%s" % (secret,),  # noqa: UP031 - %-formatting is one of the renderings
        repr([secret]),
        repr({"key": secret}),
        str(ValueError(secret)),
    ]


def test_repr_says_only_the_length() -> None:
    secret = Secret(VALUE)
    assert repr(secret) == "<Secret 32 bytes>"
    assert str(secret) == "<Secret 32 bytes>"


@given(st.binary(min_size=4, max_size=64))
def test_no_rendering_contains_the_secret(value: bytes) -> None:
    secret = Secret(value)
    for text in _renderings(secret):
        assert value.hex() not in text
        assert value.hex().upper() not in text
        assert repr(value) not in text


def test_reveal_returns_the_bytes_for_any_buffer_type() -> None:
    for buffer in (VALUE, bytearray(VALUE), memoryview(VALUE)):
        secret = Secret(buffer)
        assert secret.reveal() == VALUE
        assert type(secret.reveal()) is bytes
        assert len(secret) == 32


def test_secret_copies_its_input() -> None:
    buffer = bytearray(VALUE)
    secret = Secret(buffer)
    buffer[0] ^= 0xFF
    assert secret.reveal() == VALUE


def test_equality_and_hash_follow_the_value() -> None:
    assert Secret(VALUE) == Secret(bytearray(VALUE))
    assert Secret(VALUE) != Secret(VALUE[:-1] + b"\x00")
    assert hash(Secret(VALUE)) == hash(Secret(VALUE))
    assert Secret(VALUE) != VALUE


def test_secrets_cannot_be_pickled_or_copied_out() -> None:
    secret = Secret(VALUE)
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    with pytest.raises(TypeError):
        copy.copy(secret)
