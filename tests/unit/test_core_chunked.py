"""The SEIPDv2 chunk loop: sizes around the chunk size, every failure closed."""

from __future__ import annotations

import io

import pytest

from e2ee_mail.core import chunked, chunkstream
from e2ee_mail.errors import DecryptionError

CHUNK = 64


def params(mode: chunked.Mode = "gcm") -> chunked.ChunkParams:
    prefix = bytes(range(chunked.NONCE_SIZE[mode] - 8))
    return chunked.ChunkParams(
        mode, bytes(range(32)), prefix, CHUNK, b"\xd2\x02\x09\x03\x00"
    )


def seal(p: chunked.ChunkParams, data: bytes) -> bytes:
    out = bytearray(chunked.sealed_size(len(data), p.chunk_size))
    assert chunked.seal_into(p, data, memoryview(out)) == len(out)
    return bytes(out)


def open_bytes(p: chunked.ChunkParams, data: bytes) -> bytes:
    out = bytearray(chunked.opened_size(len(data), p.chunk_size))
    chunked.open_into(p, data, memoryview(out))
    return bytes(out)


def open_stream(p: chunked.ChunkParams, data: bytes) -> bytes:
    return chunkstream.ChunkOpener(p, io.BytesIO(data)).read()


SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK - 1, 2 * CHUNK, 2 * CHUNK + 1]


@pytest.mark.parametrize("mode", ["gcm", "ocb"])
@pytest.mark.parametrize("size", SIZES)
def test_round_trip_around_the_chunk_size(mode: chunked.Mode, size: int) -> None:
    p = params(mode)
    data = bytes(i % 256 for i in range(size))
    sealed = seal(p, data)
    assert len(sealed) == size + 16 * (-(-size // CHUNK) + 1)
    stream = io.BytesIO()
    sealer = chunkstream.ChunkSealer(p, stream)
    for i in range(0, size, 7):
        sealer.write(data[i : i + 7])
    sealer.close()
    assert stream.getvalue() == sealed
    assert open_bytes(p, sealed) == data
    assert open_stream(p, sealed) == data


def test_seal_with_prefix_equals_sealing_the_concatenation() -> None:
    p = params()
    data = bytes(200)
    out = bytearray(chunked.sealed_size(203, CHUNK))
    chunked.seal_into(p, data, memoryview(out), prefix=b"abc")
    assert bytes(out) == seal(p, b"abc" + data)


@pytest.mark.parametrize("size", SIZES)
def test_every_truncation_fails_closed(size: int) -> None:
    p = params()
    sealed = seal(p, bytes(size))
    for cut in range(len(sealed)):
        with pytest.raises(DecryptionError):
            open_bytes(p, sealed[:cut])
        with pytest.raises(DecryptionError):
            open_stream(p, sealed[:cut])


def test_truncation_exactly_at_a_chunk_boundary_fails() -> None:
    p = params()
    sealed = seal(p, bytes(3 * CHUNK))
    # Drop the last chunk and the final tag: what is left is whole chunks.
    cut = sealed[: 2 * (CHUNK + 16)]
    with pytest.raises(DecryptionError):
        open_bytes(p, cut)
    opener = chunkstream.ChunkOpener(p, io.BytesIO(cut))
    released = bytearray()
    with pytest.raises(DecryptionError):
        while n := opener.read(CHUNK):
            released += n
    assert len(released) <= CHUNK  # only authenticated, non-final chunks


def test_reordered_chunks_fail() -> None:
    p = params()
    sealed = seal(p, bytes(range(256)) * 1)
    full = CHUNK + 16
    swapped = sealed[full : 2 * full] + sealed[:full] + sealed[2 * full :]
    with pytest.raises(DecryptionError):
        open_bytes(p, swapped)
    with pytest.raises(DecryptionError):
        open_stream(p, swapped)


def test_extension_fails() -> None:
    p = params()
    sealed = seal(p, bytes(100))
    for extra in (b"\x00", bytes(16), sealed[:32]):
        with pytest.raises(DecryptionError):
            open_bytes(p, sealed + extra)
        with pytest.raises(DecryptionError):
            open_stream(p, sealed + extra)


def test_final_tag_is_always_checked() -> None:
    p = params()
    sealed = bytearray(seal(p, bytes(CHUNK)))
    sealed[-1] ^= 1
    with pytest.raises(DecryptionError):
        open_bytes(p, bytes(sealed))
    with pytest.raises(DecryptionError):
        open_stream(p, bytes(sealed))


def test_streaming_opener_holds_back_the_last_chunk_until_the_final_tag() -> None:
    p = params()
    sealed = bytearray(seal(p, bytes(CHUNK)))
    sealed[-1] ^= 1  # only the final tag is wrong
    opener = chunkstream.ChunkOpener(p, io.BytesIO(bytes(sealed)))
    with pytest.raises(DecryptionError):
        opener.read(1)


def test_failed_open_wipes_the_output_buffer() -> None:
    p = params()
    sealed = bytearray(seal(p, b"secret" * 30))
    sealed[-20] ^= 1
    out = bytearray(chunked.opened_size(len(sealed), CHUNK))
    with pytest.raises(DecryptionError):
        chunked.open_into(p, bytes(sealed), memoryview(out))
    assert not any(out)


def test_wrong_key_fails() -> None:
    sealed = seal(params(), b"data")
    other = chunked.ChunkParams(
        "gcm", bytes(32), bytes(4), CHUNK, b"\xd2\x02\x09\x03\x00"
    )
    with pytest.raises(DecryptionError):
        open_bytes(other, sealed)


@pytest.mark.parametrize("size", [2 * CHUNK, 5 * CHUNK + 3, 9 * CHUNK])
def test_two_thread_path_matches_the_serial_one(
    monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    p = params("ocb")
    data = bytes(i % 256 for i in range(size))
    serial = seal(p, data)
    monkeypatch.setattr(chunked, "PARALLEL_MIN_BYTES", 1)
    assert seal(p, data) == serial
    assert open_bytes(p, serial) == data
    damaged = bytearray(serial)
    damaged[-(CHUNK + 40)] ^= 1  # in the second thread's half
    out = bytearray(chunked.opened_size(len(damaged), CHUNK))
    with pytest.raises(DecryptionError):
        chunked.open_into(p, bytes(damaged), memoryview(out))
    assert not any(out)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("hint", [0, 1, CHUNK // 2, CHUNK, 3 * CHUNK, None])
def test_a_size_hint_never_changes_the_output(size: int, hint: int | None) -> None:
    """Hint-sized buffers (small messages skip two chunk-sized allocations) grow to
    a whole chunk when the hint was short: same sealed octets, same plaintext."""
    p = params()
    data = bytes(range(256)) * (size // 256 + 1)
    data = data[:size]
    for writes in ([data], [data[i : i + 7] for i in range(0, size, 7)]):
        out = io.BytesIO()
        sealer = chunkstream.ChunkSealer(p, out, hint)
        for piece in writes:
            sealer.write(piece)
        sealer.close()
        assert out.getvalue() == seal(p, data)
    pumped = io.BytesIO()
    sealer = chunkstream.ChunkSealer(p, pumped, hint)
    sealer.pump(io.BytesIO(data), size)
    sealer.close()
    assert pumped.getvalue() == seal(p, data)
    sealed = seal(p, data)
    opener = chunkstream.ChunkOpener(p, io.BytesIO(sealed), hint)
    assert opener.read() == data
    # A hint that is short or long still fails closed on a cut message.
    if size:
        cut = chunkstream.ChunkOpener(p, io.BytesIO(sealed[:-1]), hint)
        with pytest.raises(DecryptionError):
            cut.read()
