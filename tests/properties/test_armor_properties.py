"""Hypothesis: armor and line-wrapped base64 round-trip through every encoder and
decoder path (bytes, streaming with block seams, 64-column view encoder), and
damaged or truncated armor fails closed with an ArmorError."""

from __future__ import annotations

import base64
import io
import random

import pytest
from doubles import SmallBlocks, Trickle
from hypothesis import given, settings
from hypothesis import strategies as st

from e2ee_mail.core import b64
from e2ee_mail.errors import ArmorError
from e2ee_mail.openpgp import armor


def _body(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def _reference_lines(data: bytes, width: int, eol: bytes) -> bytes:
    """The stdlib's base64 cut by hand: the definition the fast encoders must meet."""
    text = base64.b64encode(data)
    return b"".join(text[i : i + width] + eol for i in range(0, len(text), width))


# Sizes across several 48 KiB batches of the 64-column encoder and several 4 KiB
# reader blocks, with the seams themselves drawn often.
_SIZES = st.one_of(
    st.integers(0, 200_000),
    st.sampled_from([0, 1, 2, 3, 48, 49_151, 49_152, 49_153, 98_304, 98_305]),
)
_EOLS = st.sampled_from([b"\n", b"\r\n", b"\r"])


@settings(max_examples=40, deadline=None)
@given(size=_SIZES, seed=st.integers(0, 2**32), crc=st.booleans(), eol=_EOLS)
def test_armor_round_trips_through_bytes_and_streaming_readers(
    size: int, seed: int, crc: bool, eol: bytes
) -> None:
    data = _body(size, seed)
    text = bytes(armor.enarmor(data, crc=crc))
    assert text.count(b"\n=") == crc
    text = text.replace(b"\n", eol)
    assert armor.dearmor(text) == ("MESSAGE", data)
    assert SmallBlocks(io.BytesIO(text)).read() == data
    assert armor.ArmorReader(io.BytesIO(text)).read() == data


@settings(max_examples=30, deadline=None)
@given(
    pieces=st.lists(st.integers(0, 60_000), max_size=6),
    seed=st.integers(0, 2**32),
    crc=st.booleans(),
    step=st.integers(1, 9000),
)
def test_streaming_writer_and_trickled_reader_agree_with_the_bytes_api(
    pieces: list[int], seed: int, crc: bool, step: int
) -> None:
    data = _body(sum(pieces), seed)
    out = io.BytesIO()
    writer = armor.ArmorWriter(out, crc=crc)
    pos = 0
    for size in pieces:
        writer.write(data[pos : pos + size])
        pos += size
    writer.close()
    assert out.getvalue() == armor.enarmor(data, crc=crc)
    assert SmallBlocks(Trickle(out.getvalue(), step)).read() == data  # type: ignore[arg-type]


@settings(max_examples=30, deadline=None)
@given(
    sizes=st.lists(_SIZES, min_size=1, max_size=3),
    seed=st.integers(0, 2**32),
    shape=st.sampled_from([(64, b"\n"), (64, b"\r\n"), (4, b"\n"), (76, b"\r\n")]),
)
def test_line_encoders_match_the_stdlib_definition(
    sizes: list[int], seed: int, shape: tuple[int, bytes]
) -> None:
    width, eol = shape
    encoder = b64.LineEncoder(width, eol)  # one encoder reused across inputs
    for i, size in enumerate(sizes):
        data = _body(size, seed + i)
        expected = _reference_lines(data, width, eol)
        assert b"".join(encoder.encode(data)) == expected
        assert b64.encode_lines(data, width=width, eol=eol) == expected
        assert b64.decode_lines(expected) == data


# Not base64 and not whitespace (spaces and tabs around lines are tolerated).
_FOREIGN = bytes(
    sorted(
        set(range(256))
        - set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
        - set(b" \t\r\n")
    )
)


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(1, 30_000),
    seed=st.integers(0, 2**32),
    crc=st.booleans(),
    junk=st.binary(min_size=1, max_size=4).map(
        lambda j: bytes(_FOREIGN[b % len(_FOREIGN)] for b in j)
    ),
    where=st.floats(0, 1),
)
def test_a_foreign_character_anywhere_in_the_body_fails_closed(
    size: int, seed: int, crc: bool, junk: bytes, where: float
) -> None:
    text = bytes(armor.enarmor(_body(size, seed), crc=crc))
    start = text.index(b"-----\n\n") + 7
    stop = text.index(b"-----END")
    at = start + int((stop - start) * where)
    bad = text[:at] + junk + text[at:]
    with pytest.raises(ArmorError):
        armor.dearmor(bad)
    with pytest.raises(ArmorError):
        SmallBlocks(io.BytesIO(bad)).read()


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(1, 30_000),
    seed=st.integers(0, 2**32),
    crc=st.booleans(),
    flip=st.integers(0),
)
def test_a_changed_base64_character_is_caught_by_the_crc(
    size: int, seed: int, crc: bool, flip: int
) -> None:
    data = _body(size, seed)
    text = bytearray(armor.enarmor(data, crc=True))
    start = text.index(b"-----\n\n") + 7
    stop = text.index(b"\n=")
    chars = [i for i in range(start, stop) if text[i] != 0x0A and text[i] != 0x3D]
    at = chars[flip % len(chars)]
    text[at] = 0x41 if text[at] != 0x41 else 0x42
    damaged = bytes(text)
    try:
        decoded = armor.dearmor(damaged)[1]
    except ArmorError:
        decoded = None
    # A changed character changes the octets (or their final bits, which some
    # decoders drop: then the octets are the same and the CRC agrees).
    assert decoded is None or decoded == data
    try:
        streamed = SmallBlocks(io.BytesIO(damaged)).read()
    except ArmorError:
        streamed = None
    assert streamed == decoded


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(0, 30_000),
    seed=st.integers(0, 2**32),
    crc=st.booleans(),
    keep=st.floats(0, 1, exclude_max=True),
)
def test_truncated_armor_fails_closed(
    size: int, seed: int, crc: bool, keep: float
) -> None:
    text = bytes(armor.enarmor(_body(size, seed), crc=crc))
    # Anything shorter than the whole tail line is truncated.
    cut = text[: int((len(text) - 2) * keep)]
    with pytest.raises(ArmorError):
        armor.dearmor(cut)
    with pytest.raises(ArmorError):
        SmallBlocks(io.BytesIO(cut)).read()
