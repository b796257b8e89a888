"""The chunk loop over pieces: a prefix and a (possibly late) suffix around a body
sealed from the caller's buffer, and opening that hands each verified chunk on."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from e2ee_mail.core import chunked
from e2ee_mail.errors import DecryptionError, UsageError

CHUNK = 64
SIZES = [0, 1, CHUNK - 5, CHUNK, CHUNK + 1, 3 * CHUNK - 2, 3 * CHUNK, 5 * CHUNK + 9]


def params(mode: chunked.Mode = "gcm") -> chunked.ChunkParams:
    prefix = bytes(range(chunked.NONCE_SIZE[mode] - 8))
    return chunked.ChunkParams(
        mode, bytes(range(32)), prefix, CHUNK, b"\xd2\x02\x09\x03\x00"
    )


def seal(
    p: chunked.ChunkParams,
    data: bytes,
    prefix: bytes = b"",
    suffix: bytes | Callable[[], bytes] = b"",
    size: int | None = None,
) -> bytes:
    tail = size if size is not None else len(suffix)  # type: ignore[arg-type]
    out = bytearray(chunked.sealed_size(len(prefix) + len(data) + tail, CHUNK))
    assert chunked.seal_into(p, data, memoryview(out), prefix, suffix, size) == len(out)
    return bytes(out)


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("mode", ["gcm", "ocb"])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(("head", "tail"), [(0, 5), (7, 1), (7, CHUNK), (CHUNK, 30)])
def test_pieces_seal_as_their_concatenation(
    monkeypatch: pytest.MonkeyPatch,
    parallel: bool,
    mode: chunked.Mode,
    size: int,
    head: int,
    tail: int,
) -> None:
    if parallel:
        monkeypatch.setattr(chunked, "PARALLEL_MIN_BYTES", 1)
    p = params(mode)
    data = bytes(i % 251 for i in range(size))
    prefix, suffix = b"\x01" * head, b"\x02" * tail
    whole = seal(p, prefix + data + suffix)
    assert seal(p, data, prefix, suffix) == whole
    assert seal(p, data, prefix, lambda: suffix, tail) == whole


def test_a_late_suffix_is_made_after_the_chunks_without_it() -> None:
    p = params()
    data = bytes(range(200)) * 2  # 400 octets: six full chunks, then the suffix
    prefix, suffix = b"head", b"tail" * 10
    whole = seal(p, prefix + data + suffix)
    out = bytearray(len(whole))
    seen: list[bytes] = []

    def late() -> bytes:
        seen.append(bytes(out))
        return suffix

    chunked.seal_into(p, data, memoryview(out), prefix, late, len(suffix))
    sealed_before = ((len(prefix) + len(data)) // CHUNK) * (CHUNK + 16)
    assert seen[0][:sealed_before] == whole[:sealed_before]
    assert bytes(out) == whole


def test_suffix_misuse_is_refused() -> None:
    p = params()
    out = memoryview(bytearray(1024))
    with pytest.raises(UsageError):
        chunked.seal_into(p, b"x" * 100, out, b"", lambda: b"ab")
    with pytest.raises(UsageError):
        chunked.seal_into(p, b"x" * 100, out, b"", lambda: b"ab", 3)
    with pytest.raises(UsageError):
        chunked.seal_into(p, b"x" * 100, out, b"", b"s" * (CHUNK + 1))


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("size", SIZES)
def test_follow_sees_each_chunk_in_order(
    monkeypatch: pytest.MonkeyPatch, parallel: bool, size: int
) -> None:
    if parallel:
        monkeypatch.setattr(chunked, "PARALLEL_MIN_BYTES", 1)
    p = params("ocb")
    data = bytes(i % 253 for i in range(size))
    sealed = seal(p, data)
    out = bytearray(size)
    pieces: list[tuple[int, bytes]] = []
    chunked.open_into(
        p, sealed, memoryview(out), lambda chunk, at: pieces.append((at, bytes(chunk)))
    )
    assert bytes(out) == data
    assert [at for at, _ in pieces] == list(range(0, size, CHUNK))
    assert b"".join(piece for _, piece in pieces) == data


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("damaged", [0, 3, 8])
def test_follow_never_sees_a_chunk_that_failed(
    monkeypatch: pytest.MonkeyPatch, parallel: bool, damaged: int
) -> None:
    if parallel:
        monkeypatch.setattr(chunked, "PARALLEL_MIN_BYTES", 1)
    p = params()
    data = bytes(i % 7 for i in range(9 * CHUNK))
    sealed = bytearray(seal(p, data))
    sealed[damaged * (CHUNK + 16) + 5] ^= 1
    out = bytearray(len(data))
    offsets: list[int] = []
    with pytest.raises(DecryptionError):
        chunked.open_into(
            p, bytes(sealed), memoryview(out), lambda _, at: offsets.append(at)
        )
    verified = list(range(0, damaged * CHUNK, CHUNK))
    if parallel:
        # How far the follower got before the failure stopped it depends on the
        # threads; it never goes past the damaged chunk.
        assert offsets == verified[: len(offsets)]
    else:
        assert offsets == verified
    assert not any(out)
