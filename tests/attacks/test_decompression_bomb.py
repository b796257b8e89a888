"""Decompression bombs inside authenticated OpenPGP containers (RFC 9580 §5.6, §15):
a bounded PolicyError, quickly, with memory bounded by the policy's limit (streams:
by the piece size, whatever the limit). Memory is measured with tracemalloc peaks,
never with wall-clock assertions."""

from __future__ import annotations

import dataclasses
import functools
import io
import tracemalloc
from collections.abc import Callable

import pytest
import strategies as s

import e2ee_mail
from e2ee_mail.policy import DEFAULT

MiB = 1 << 20
LIMIT = 8 * MiB
SMALL = dataclasses.replace(DEFAULT, max_decompressed_bytes=LIMIT)


class _Sink(io.RawIOBase):
    """A dst that keeps only a count, so dst is not what uses the memory."""

    def __init__(self) -> None:
        self.n = 0

    def writable(self) -> bool:
        return True

    def write(self, b: object) -> int:
        n = len(memoryview(b))  # type: ignore[arg-type]
        self.n += n
        return n


@functools.cache
def _bombs() -> dict[str, bytes]:
    """name -> a valid SEIPDv2 / SEIPDv1 message whose content is a bomb."""
    k = s.keys()
    zip_bomb = s.deflate_zeros(64 * MiB, algo=1)  # ~64 KiB -> 64 MiB
    zlib_bomb = s.deflate_zeros(64 * MiB, algo=2)
    nested = s.compressed_packet(s.compressed_packet(zip_bomb, 1), 2)
    deep = s.literal_packet(b"x")
    for _ in range(20):
        deep = s.compressed_packet(deep, 1)
    return {
        "zip-v2": s.build_seipdv2(k.pgp6_x25519, zip_bomb),
        "zlib-v2": s.build_seipdv2(k.pgp6_x25519, zlib_bomb),
        "nested-v2": s.build_seipdv2(k.pgp6_x25519, nested),
        "zip-v1": s.build_seipdv1(k.pgp4_ecdh, zip_bomb),
        "nested-v1": s.build_seipdv1(k.pgp4_ecdh, nested),
        "deep-v2": s.build_seipdv2(k.pgp6_x25519, deep),
    }


def _key(name: str) -> e2ee_mail.SecretKey:
    k = s.keys()
    return k.pgp4_ecdh if name.endswith("-v1") else k.pgp6_x25519


def _peak(call: Callable[[], object]) -> tuple[BaseException | None, int]:
    tracemalloc.start()
    try:
        call()
    except e2ee_mail.Error as exc:
        return exc, tracemalloc.get_traced_memory()[1]
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return None, peak


@pytest.mark.parametrize(
    "name", ["zip-v2", "zlib-v2", "nested-v2", "zip-v1", "nested-v1"]
)
def test_bomb_is_policy_error_with_memory_bounded_by_the_limit(name: str) -> None:
    msg = _bombs()[name]
    exc, peak = _peak(lambda: e2ee_mail.decrypt(msg, _key(name), policy=SMALL))
    assert isinstance(exc, e2ee_mail.PolicyError), exc
    assert "decompression bomb" in str(exc)
    # The bytes API may hold up to the limit (plus pieces); never the 64 MiB.
    assert peak < LIMIT + 16 * MiB, (
        f"peak {peak >> 20} MiB for an {LIMIT >> 20} MiB limit"
    )


@pytest.mark.parametrize("name", ["zip-v2", "nested-v2", "zip-v1"])
def test_streamed_bomb_is_policy_error_in_bounded_memory(name: str) -> None:
    msg = _bombs()[name]
    sink = _Sink()
    exc, peak = _peak(
        lambda: e2ee_mail.decrypt_stream(
            io.BytesIO(msg), sink, _key(name), policy=SMALL
        )
    )
    assert isinstance(exc, e2ee_mail.PolicyError), exc
    assert sink.n <= LIMIT
    # Streams decompress piece by piece: memory does not grow with the limit.
    assert peak < 24 * MiB, f"peak {peak >> 20} MiB"


def test_streamed_bomb_under_the_default_limit_stays_in_pieces() -> None:
    """With a limit above the bomb's size the content streams through (it is
    authenticated), and memory still stays at the piece size, not 64 MiB."""
    sink = _Sink()
    exc, peak = _peak(
        lambda: e2ee_mail.decrypt_stream(
            io.BytesIO(_bombs()["zip-v2"]), sink, s.keys().pgp6_x25519
        )
    )
    assert exc is None
    assert sink.n == 64 * MiB
    assert peak < 24 * MiB, f"peak {peak >> 20} MiB"


def test_compression_nested_deeper_than_the_policy_is_refused() -> None:
    msg = _bombs()["deep-v2"]
    key = s.keys().pgp6_x25519
    with pytest.raises(e2ee_mail.PolicyError, match="nested"):
        e2ee_mail.decrypt(msg, key)
    with pytest.raises(e2ee_mail.PolicyError, match="nested"):
        e2ee_mail.decrypt_stream(io.BytesIO(msg), _Sink(), key)


@pytest.mark.parametrize("algo", [1, 2])
def test_highly_compressible_message_below_the_limit_opens_in_full(algo: int) -> None:
    """Regression: zlib may hold more than one output piece after the last input
    octet; the reader must drain it, not call a complete stream truncated."""
    key = s.keys().pgp6_x25519
    msg = s.build_seipdv2(key, s.deflate_zeros(3 * MiB + 5, algo=algo))
    assert e2ee_mail.decrypt(msg, key) == bytes(3 * MiB + 5)
    sink = _Sink()
    e2ee_mail.decrypt_stream(io.BytesIO(msg), sink, key)
    assert sink.n == 3 * MiB + 5


def test_seipdv1_spool_is_closed_when_the_inner_packets_fail() -> None:
    """Regression: a bomb inside SEIPDv1 left the temporary spool file open (a
    ResourceWarning, an error under -W error)."""
    import gc
    import warnings

    msg = _bombs()["zip-v1"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        with pytest.raises(e2ee_mail.PolicyError):
            e2ee_mail.decrypt_stream(
                io.BytesIO(msg), _Sink(), s.keys().pgp4_ecdh, policy=SMALL
            )
        gc.collect()
