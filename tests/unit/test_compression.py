"""Bounded decompression of OpenPGP Compressed Data (openpgp/compression.py)."""

from __future__ import annotations

import bz2
import contextlib
import io
import os
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from e2ee_mail.errors import PacketError, PolicyError, UnsupportedError
from e2ee_mail.openpgp import compression
from e2ee_mail.openpgp.compression import Decompressor, decompress


def _zip(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


COMPRESSORS = {
    compression.ZIP: _zip,
    compression.ZLIB: zlib.compress,
    compression.BZIP2: bz2.compress,
}
BODY = os.urandom(3000) * 20 + b"tail"


@pytest.mark.parametrize("algo", sorted(COMPRESSORS))
def test_each_algorithm_round_trips(algo: int) -> None:
    assert decompress(algo, COMPRESSORS[algo](BODY), len(BODY)) == BODY


def test_uncompressed_is_passed_through_within_the_limit() -> None:
    assert decompress(compression.UNCOMPRESSED, b"abc", 3) == b"abc"
    with pytest.raises(PolicyError):
        decompress(compression.UNCOMPRESSED, b"abcd", 3)


@pytest.mark.parametrize("algo", sorted(COMPRESSORS))
def test_output_one_byte_over_the_limit_is_a_policy_error(algo: int) -> None:
    with pytest.raises(PolicyError, match="max_decompressed_bytes"):
        decompress(algo, COMPRESSORS[algo](BODY), len(BODY) - 1)


@pytest.mark.parametrize("algo", sorted(COMPRESSORS))
def test_decompression_bomb_is_refused_without_expanding_it(algo: int) -> None:
    # 64 MiB of zeros compresses to ~64 KiB (ZIP/ZLIB) or ~200 bytes (BZip2);
    # with a 1 MiB limit the decompressor is stopped after about 1 MiB of output.
    bomb = COMPRESSORS[algo](bytes(64 << 20))
    d = Decompressor(algo, 1 << 20)
    produced = 0
    with pytest.raises(PolicyError):
        for piece in d.feed(bomb):
            produced += len(piece)
    assert produced <= 1 << 20


def test_nested_bomb_is_bounded_at_each_layer() -> None:
    inner = zlib.compress(bytes(16 << 20))
    outer = zlib.compress(inner * 4)
    layer1 = decompress(compression.ZLIB, outer, len(inner) * 4)
    with pytest.raises(PolicyError):
        decompress(compression.ZLIB, layer1[: len(inner)], 1 << 20)


@pytest.mark.parametrize("algo", sorted(COMPRESSORS))
def test_truncated_stream_is_a_packet_error(algo: int) -> None:
    data = COMPRESSORS[algo](BODY)
    with pytest.raises(PacketError, match="truncated"):
        decompress(algo, data[: len(data) // 2], 1 << 30)


TRAILERS = ["one-octet", "second-stream", "text", "zeros"]


def _trailer(algo: int, name: str) -> bytes:
    """What may follow the end of a compressed stream inside the packet: one octet
    of padding (what ``sq encrypt`` 0.27 wrote after its final stored block), a
    complete second compressed stream, text, and zeros longer than one feed below."""
    return {
        "one-octet": b"q",
        "second-stream": COMPRESSORS[algo](b"never released"),
        "text": b"garbage",
        "zeros": bytes(5000),
    }[name]


@pytest.mark.parametrize("trailer", TRAILERS)
@pytest.mark.parametrize("algo", sorted(COMPRESSORS))
def test_octets_after_the_end_are_dropped(algo: int, trailer: str) -> None:
    packed = COMPRESSORS[algo](BODY) + _trailer(algo, trailer)
    assert decompress(algo, packed, len(BODY)) == BODY
    # In small feeds, the end falls inside a feed and later feeds are all trailer.
    d = Decompressor(algo, len(BODY))
    out = bytearray()
    for i in range(0, len(packed), 7):
        for piece in d.feed(packed[i : i + 7]):
            out += piece
    for piece in d.finish():
        out += piece
    assert out == BODY
    reader = compression.DecompressingReader(io.BytesIO(packed), algo, len(BODY))
    assert reader.read() == BODY


@pytest.mark.parametrize("algo", sorted(COMPRESSORS))
def test_octets_after_the_end_do_not_lift_the_limit(algo: int) -> None:
    packed = COMPRESSORS[algo](BODY) + _trailer(algo, "second-stream")
    with pytest.raises(PolicyError):
        decompress(algo, packed, len(BODY) - 1)


def test_unknown_algorithm_is_unsupported() -> None:
    with pytest.raises(UnsupportedError):
        decompress(110, b"", 10)


@pytest.mark.parametrize("algo", sorted(COMPRESSORS))
def test_incremental_feeding_in_small_pieces(algo: int) -> None:
    data = COMPRESSORS[algo](BODY)
    d = Decompressor(algo, len(BODY))
    out = bytearray()
    for i in range(0, len(data), 7):
        for piece in d.feed(data[i : i + 7]):
            out += piece
    for piece in d.finish():
        out += piece
    assert out == BODY


@given(st.sampled_from(sorted(COMPRESSORS)), st.binary(max_size=200))
def test_garbage_input_fails_inside_the_error_hierarchy(algo: int, junk: bytes) -> None:
    with contextlib.suppress(PacketError, PolicyError):
        decompress(algo, junk, 1 << 16)


@given(st.sampled_from(sorted(COMPRESSORS)), st.binary(max_size=2000), st.data())
def test_mutated_streams_fail_closed_or_decode(
    algo: int, body: bytes, data: st.DataObject
) -> None:
    packed = bytearray(COMPRESSORS[algo](body))
    i = data.draw(st.integers(0, len(packed) - 1))
    packed[i] ^= data.draw(st.integers(1, 255))
    with contextlib.suppress(PacketError, PolicyError):
        decompress(algo, bytes(packed), 1 << 16)


@pytest.mark.parametrize("algo", sorted(COMPRESSORS))
def test_reader_streams_with_bounded_buffering(algo: int) -> None:
    big = bytes(32 << 20)
    reader = compression.DecompressingReader(
        io.BytesIO(COMPRESSORS[algo](big)), algo, 1 << 30
    )
    total = 0
    buf = bytearray(100_000)
    while n := reader.readinto(buf):
        assert len(reader._pending) <= compression.OUTPUT_PIECE_SIZE
        total += n
    assert total == len(big)


@pytest.mark.parametrize("algo", sorted(COMPRESSORS))
def test_reader_enforces_the_limit_and_the_end(algo: int) -> None:
    packed = COMPRESSORS[algo](BODY)
    reader = compression.DecompressingReader(io.BytesIO(packed), algo, len(BODY) - 1)
    with pytest.raises(PolicyError):
        reader.read()
    truncated = compression.DecompressingReader(
        io.BytesIO(packed[: len(packed) // 2]), algo, 1 << 30
    )
    with pytest.raises(PacketError):
        truncated.read()
    whole = compression.DecompressingReader(io.BytesIO(packed), algo, len(BODY))
    assert whole.read(10) + whole.read() == BODY
    assert whole.read() == b""


def test_streamed_message_inflates_nested_layers_within_the_nesting_limit() -> None:
    import dataclasses

    from e2ee_mail.openpgp.inner import copy_literal
    from e2ee_mail.openpgp.packets.header import serialize_packet
    from e2ee_mail.policy import DEFAULT

    literal = serialize_packet(11, b"b\x00\x00\x00\x00\x00" + b"payload")
    once = serialize_packet(8, b"\x02" + zlib.compress(literal))
    twice = serialize_packet(8, b"\x01" + _zip(once))
    out = io.BytesIO()
    copy_literal(io.BytesIO(twice), out, DEFAULT)
    assert out.getvalue() == b"payload"
    shallow = dataclasses.replace(DEFAULT, max_nesting=2)
    with pytest.raises(PolicyError, match="nested"):
        copy_literal(io.BytesIO(twice), io.BytesIO(), shallow)
    copy_literal(io.BytesIO(once), io.BytesIO(), shallow)
