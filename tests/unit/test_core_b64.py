"""core/b64.py: line-wrapped base64 encoding and the one-pass decode_lines."""

from __future__ import annotations

import base64
import itertools
import os
from concurrent.futures import ThreadPoolExecutor

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


def _reference(data: bytes, width: int, eol: bytes) -> bytes:
    text = base64.b64encode(data)
    return b"".join(text[i : i + width] + eol for i in range(0, len(text), width))


def test_interleaved_encodings_in_one_thread_share_the_encoder_safely() -> None:
    # Two generators on this thread's one encoder, stepped alternately: each batch
    # is filled and joined within a step, so neither sees the other's text.
    first = bytes(range(256)) * 700
    second = bytes(reversed(range(256))) * 500
    a = b64.iter_encoded_lines(first, width=64, eol=b"\n")
    b = b64.iter_encoded_lines(second, width=64, eol=b"\n")
    out_a, out_b = [], []
    for x, y in itertools.zip_longest(a, b):
        out_a.append(x or b"")
        out_b.append(y or b"")
    assert b"".join(out_a) == _reference(first, 64, b"\n")
    assert b"".join(out_b) == _reference(second, 64, b"\n")
    assert b64.line_encoder(64, b"\n") is b64.line_encoder(64, b"\n")


def test_threads_encode_through_their_own_encoders() -> None:
    bodies = [bytes([i]) * 3 + os.urandom(150_000 + i) for i in range(4)]
    expected = [_reference(body, 64, b"\r\n") for body in bodies]
    seen: list[object] = []

    def work(i: int) -> bool:
        seen.append(b64.line_encoder(64, b"\r\n"))
        return all(
            b64.encode_lines(bodies[i], width=64, eol=b"\r\n") == expected[i]
            for _ in range(20)
        )

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(work, range(4)))
    assert len({id(encoder) for encoder in seen}) >= 2  # one per worker thread


@pytest.mark.parametrize("width", [0, -4, 6, 66])
def test_line_widths_that_split_triplets_are_refused(width: int) -> None:
    with pytest.raises(ValueError, match="multiple of 4"):
        b64.LineEncoder(width, b"\n")
    with pytest.raises(ValueError, match="multiple of 4"):
        b64.encode_lines(b"abc", width=width, eol=b"\n")
