"""core/b64.py: line-wrapped base64 encoding and the one-pass decode_lines."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from e2ee_mail.core import b64

_SHAPES = [(64, b"\n"), (76, b"\n"), (64, b"\r\n"), (76, b"\r\n"), (4, b"\n")]


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=2000), shape=st.sampled_from(_SHAPES))
def test_decode_lines_inverts_encode_lines(
    data: bytes, shape: tuple[int, bytes]
) -> None:
    width, eol = shape
    text = bytes(b64.encode_lines(data, width=width, eol=eol))
    assert b64.decode_lines(text) == data
    assert b64.decode_lines(eol + text + eol) == data


_FOREIGN = bytes(
    sorted(
        set(range(256))
        - set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n")
    )
)


@settings(max_examples=80, deadline=None)
@given(
    data=st.binary(min_size=1, max_size=2000),
    shape=st.sampled_from(_SHAPES),
    junk=st.binary(min_size=1, max_size=8).map(
        lambda j: bytes(_FOREIGN[b % len(_FOREIGN)] for b in j)
    ),
    where=st.integers(min_value=0),
)
def test_decode_lines_refuses_an_inserted_foreign_character(
    data: bytes, shape: tuple[int, bytes], junk: bytes, where: int
) -> None:
    width, eol = shape
    text = bytes(b64.encode_lines(data, width=width, eol=eol))
    at = where % (len(text) + 1)
    assert b64.decode_lines(text[:at] + junk + text[at:]) is None


@pytest.mark.parametrize("text", [b"", b"\n", b"\r\n\r\n"])
def test_decode_lines_of_nothing_is_empty(text: bytes) -> None:
    assert b64.decode_lines(text) == b""


@pytest.mark.parametrize(
    "text", [b"QUJD\n QUJD\n", b"QUJ\nDQUJD\n", b"QQ==QUJD\n", b"QUJD*\n"]
)
def test_decode_lines_refuses_other_shapes(text: bytes) -> None:
    assert b64.decode_lines(text) is None
