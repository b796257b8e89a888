"""core/aead.py: one-shot, *_into and streaming AES-256-GCM agree, and fail closed."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from e2ee_mail.core import aead
from e2ee_mail.errors import (
    DECRYPTION_FAILED,
    DecryptionError,
    Error,
    FormatError,
    UnsupportedError,
)

KEY = bytes(range(32))
NONCE = bytes(range(100, 112))
AAD = b"header bytes"
SMALL_BUFFER = 64
# Sizes right around the stream buffer and the AES block, on both sides.
BOUNDARY_SIZES = sorted(
    {0, 1, 15, 16, 17}
    | {SMALL_BUFFER + d for d in (-17, -16, -1, 0, 1, 15, 16, 17)}
    | {2 * SMALL_BUFFER + d for d in (-1, 0, 1)}
)


def _payload(n: int) -> bytes:
    return bytes((i * 7 + 3) % 256 for i in range(n))


def _seal_all(data: bytes, buffer_size: int, aad: bytes | None = AAD) -> list[bytes]:
    """ciphertext || tag from the three sealing paths."""
    one_shot = aead.gcm_seal(KEY, NONCE, data, aad)
    out = bytearray(len(data) + aead.GCM_TAG_SIZE)
    aead.gcm_seal_into(KEY, NONCE, data, memoryview(out), aad)
    sealer = aead.GCMStreamSealer(KEY, NONCE, aad, buffer_size=buffer_size)
    sink = io.BytesIO()
    sealer.update(data, sink)
    streamed = sink.getvalue() + sealer.finalize()
    return [one_shot, bytes(out), streamed]


def _open_stream(sealed: bytes, buffer_size: int, aad: bytes | None = AAD) -> bytes:
    body, tag = sealed[: -aead.GCM_TAG_SIZE], sealed[-aead.GCM_TAG_SIZE :]
    opener = aead.GCMStreamOpener(KEY, NONCE, aad, buffer_size=buffer_size)
    sink = io.BytesIO()
    opener.update(body, sink)
    opener.finalize(tag)
    return sink.getvalue()


@pytest.mark.parametrize("size", BOUNDARY_SIZES)
def test_seal_paths_agree_around_buffer_boundaries(size: int) -> None:
    data = _payload(size)
    one_shot, into, streamed = _seal_all(data, SMALL_BUFFER)
    assert one_shot == into == streamed
    assert len(one_shot) == size + aead.GCM_TAG_SIZE


@pytest.mark.parametrize("size", BOUNDARY_SIZES)
def test_open_paths_agree_around_buffer_boundaries(size: int) -> None:
    data = _payload(size)
    sealed = aead.gcm_seal(KEY, NONCE, data, AAD)
    out = bytearray(size)
    aead.gcm_open_into(KEY, NONCE, sealed, memoryview(out), AAD)
    assert aead.gcm_open(KEY, NONCE, sealed, AAD) == data
    assert bytes(out) == data
    assert _open_stream(sealed, SMALL_BUFFER) == data


@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_default_stream_buffer_boundary(delta: int) -> None:
    data = _payload(aead.STREAM_BUFFER_SIZE + delta)
    one_shot, into, streamed = _seal_all(data, aead.STREAM_BUFFER_SIZE)
    assert one_shot == into == streamed
    assert _open_stream(one_shot, aead.STREAM_BUFFER_SIZE) == data


@given(
    data=st.binary(max_size=600),
    buffer_size=st.integers(min_value=1, max_value=200),
    cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=4),
    aad=st.none() | st.binary(max_size=40),
)
def test_streaming_matches_one_shot_for_any_split(
    data: bytes, buffer_size: int, cuts: list[int], aad: bytes | None
) -> None:
    sealer = aead.GCMStreamSealer(KEY, NONCE, aad, buffer_size=buffer_size)
    sink = io.BytesIO()
    start = 0
    for cut in sorted(c for c in cuts if c <= len(data)):
        sealer.update(data[start:cut], sink)
        start = cut
    sealer.update(data[start:], sink)
    sealed = sink.getvalue() + sealer.finalize()
    assert sealed == aead.gcm_seal(KEY, NONCE, data, aad)
    assert _open_stream(sealed, buffer_size, aad) == data


@pytest.mark.parametrize(
    "length", [0, 1, SMALL_BUFFER - 1, SMALL_BUFFER, 3 * SMALL_BUFFER + 5]
)
def test_pump_reads_exact_length_and_leaves_the_rest(length: int) -> None:
    data = _payload(length)
    src = io.BytesIO(data + b"TRAILER")
    sealer = aead.GCMStreamSealer(KEY, NONCE, AAD, buffer_size=SMALL_BUFFER)
    sink = io.BytesIO()
    assert sealer.pump(src, sink, length) == length
    assert src.read() == b"TRAILER"
    assert sink.getvalue() + sealer.finalize() == aead.gcm_seal(KEY, NONCE, data, AAD)


def test_pump_to_eof_reads_everything() -> None:
    data = _payload(5 * SMALL_BUFFER + 3)
    sealer = aead.GCMStreamSealer(KEY, NONCE, AAD, buffer_size=SMALL_BUFFER)
    sink = io.BytesIO()
    assert sealer.pump(io.BytesIO(data), sink, None) == len(data)
    assert sink.getvalue() + sealer.finalize() == aead.gcm_seal(KEY, NONCE, data, AAD)


def test_pump_on_truncated_source_is_a_format_error() -> None:
    opener = aead.GCMStreamOpener(KEY, NONCE, AAD, buffer_size=SMALL_BUFFER)
    with pytest.raises(FormatError, match="truncated"):
        opener.pump(io.BytesIO(b"x" * 10), io.BytesIO(), 11)


def _tampered(sealed: bytes) -> list[bytes]:
    """A body byte flipped, a tag byte flipped, the tag cut short, all cut."""
    flip_body = bytes([sealed[0] ^ 1]) + sealed[1:]
    flip_tag = sealed[:-1] + bytes([sealed[-1] ^ 0x80])
    return [flip_body, flip_tag, sealed[:-1], sealed[: aead.GCM_TAG_SIZE - 1], b""]


@pytest.mark.parametrize("index", range(5))
def test_tampered_ciphertext_fails_closed_on_every_path(index: int) -> None:
    data = _payload(100)
    bad = _tampered(aead.gcm_seal(KEY, NONCE, data, AAD))[index]
    with pytest.raises(DecryptionError) as one_shot:
        aead.gcm_open(KEY, NONCE, bad, AAD)
    assert str(one_shot.value) == DECRYPTION_FAILED
    assert one_shot.value.__cause__ is None
    if len(bad) >= aead.GCM_TAG_SIZE:
        out = bytearray(b"\x55" * (len(bad) - aead.GCM_TAG_SIZE))
        with pytest.raises(DecryptionError):
            aead.gcm_open_into(KEY, NONCE, bad, memoryview(out), AAD)
        assert not any(out), "plaintext must be wiped from the output buffer"
    body, tag = bad[: max(len(bad) - 16, 0)], bad[max(len(bad) - 16, 0) :]
    opener = aead.GCMStreamOpener(KEY, NONCE, AAD, buffer_size=SMALL_BUFFER)
    opener.update(body, io.BytesIO())
    with pytest.raises(DecryptionError):
        opener.finalize(tag)


def test_wrong_aad_or_key_fails_closed() -> None:
    sealed = aead.gcm_seal(KEY, NONCE, b"secret", AAD)
    with pytest.raises(DecryptionError):
        aead.gcm_open(KEY, NONCE, sealed, AAD + b"!")
    with pytest.raises(DecryptionError):
        aead.gcm_open(bytes(32), NONCE, sealed, AAD)


@pytest.mark.parametrize("nonce_size", [0, 8, 11, 13, 16, 64])
def test_non_96_bit_nonces_are_refused_on_every_path(nonce_size: int) -> None:
    nonce = bytes(nonce_size)
    out = memoryview(bytearray(16))
    calls = [
        lambda: aead.gcm_seal(KEY, nonce, b""),
        lambda: aead.gcm_seal_into(KEY, nonce, b"", out),
        lambda: aead.gcm_open(KEY, nonce, bytes(16)),
        lambda: aead.gcm_open_into(KEY, nonce, bytes(32), out),
        lambda: aead.GCMStreamSealer(KEY, nonce),
        lambda: aead.GCMStreamOpener(KEY, nonce),
    ]
    for call in calls:
        with pytest.raises(UnsupportedError, match="nonce"):
            call()


@pytest.mark.parametrize("key_size", [0, 15, 20, 31, 33])
def test_unwrapped_key_of_wrong_size_is_a_decryption_error(key_size: int) -> None:
    key = bytes(key_size)
    out = memoryview(bytearray(0))
    for call in (
        lambda: aead.gcm_open(key, NONCE, bytes(16)),
        lambda: aead.gcm_open_into(key, NONCE, bytes(16), out),
        lambda: aead.GCMStreamOpener(key, NONCE),
    ):
        with pytest.raises(DecryptionError) as info:
            call()
        assert str(info.value) == DECRYPTION_FAILED


@given(st.binary(min_size=0, max_size=80))
def test_open_of_arbitrary_bytes_raises_only_library_errors(blob: bytes) -> None:
    with pytest.raises(Error):
        aead.gcm_open(KEY, NONCE, blob, AAD)
