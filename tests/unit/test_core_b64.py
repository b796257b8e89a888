"""core/b64.py: line-wrapped base64 encoding and the one-pass decode_lines."""

from __future__ import annotations

import base64
import collections
import itertools
import random
import threading
from collections.abc import Iterator
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


_THREADS = 4


def _encode_on_live_threads(
    monkeypatch: pytest.MonkeyPatch, bodies: list[bytes]
) -> tuple[list[bytes], set[int], list[str]]:
    """Encode each body on its own thread, all of them inside an encoder at once.

    ``LineEncoder.encode`` is wrapped so that every step of it (one batch filled into
    the buffer and joined) records which threads are inside which encoder. On its
    first step each thread waits at a barrier until every thread is inside a step:
    whatever the scheduler does, the threads are then all live and all mid-batch at
    the same moment, so two of them sharing one encoder is always seen. Returns the
    encodings, the ids of the encoders used and the clashes seen.
    """
    barrier = threading.Barrier(len(bodies), timeout=60)  # a hang guard only
    lock = threading.Lock()
    inside: collections.defaultdict[int, set[int]] = collections.defaultdict(set)
    used: set[int] = set()
    clashes: list[str] = []
    original = b64.LineEncoder.encode

    def note(encoder: int, me: int) -> None:
        if inside[encoder] - {me}:
            clashes.append(f"encoder {encoder:#x} used by threads {inside[encoder]}")

    def encode(
        self: b64.LineEncoder, data: bytes | bytearray | memoryview
    ) -> Iterator[bytes]:
        me, steps, first = threading.get_ident(), original(self, data), True
        while True:
            with lock:
                used.add(id(self))
                inside[id(self)].add(me)
                note(id(self), me)
            try:
                if first:
                    barrier.wait()
                    first = False
                    with lock:
                        note(id(self), me)
                text = next(steps, None)
            finally:
                with lock:
                    inside[id(self)].discard(me)
            if text is None:
                return
            yield text

    monkeypatch.setattr(b64.LineEncoder, "encode", encode)
    with ThreadPoolExecutor(len(bodies)) as pool:
        # No task can end before all have reached the barrier, so the pool has to
        # start one thread per body.
        out = list(
            pool.map(
                lambda body: bytes(b64.encode_lines(body, width=64, eol=b"\r\n")),
                bodies,
            )
        )
    return out, used, clashes


def _bodies() -> list[bytes]:
    # More than one batch each, so that they go through a LineEncoder.
    return [random.Random(i).randbytes(150_000 + i) for i in range(_THREADS)]


def test_threads_never_use_one_encoder_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bodies = _bodies()
    out, used, clashes = _encode_on_live_threads(monkeypatch, bodies)
    assert clashes == []
    assert len(used) == _THREADS  # one encoder per live thread
    assert out == [_reference(body, 64, b"\r\n") for body in bodies]


def test_the_concurrent_use_check_sees_a_shared_encoder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The check above is not vacuous: one encoder handed to every thread is caught.
    shared = b64.LineEncoder(64, b"\r\n")
    monkeypatch.setattr(b64, "line_encoder", lambda width, eol: shared)
    _, used, clashes = _encode_on_live_threads(monkeypatch, _bodies())
    assert used == {id(shared)}
    assert clashes


@pytest.mark.parametrize("width", [0, -4, 6, 66])
def test_line_widths_that_split_triplets_are_refused(width: int) -> None:
    with pytest.raises(ValueError, match="multiple of 4"):
        b64.LineEncoder(width, b"\n")
    with pytest.raises(ValueError, match="multiple of 4"):
        b64.encode_lines(b"abc", width=width, eol=b"\n")


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(min_size=48 * 4, max_size=4000),
    shape=st.sampled_from(_SHAPES[:4]),
    where=st.integers(min_value=0),
    replacement=st.sampled_from([b"QQ==", b"QUI=", b"====", b"Q===", b"QQ\n="]),
)
def test_decode_lines_refuses_padding_inside_the_text(
    data: bytes, shape: tuple[int, bytes], where: int, replacement: bytes
) -> None:
    # A quadruplet padded or broken anywhere but at the end shortens the result.
    width, eol = shape
    text = bytes(b64.encode_lines(data, width=width, eol=eol))
    step = width + len(eol)
    # The start of every quadruplet but those of the last two lines.
    quads = [
        i for i in range(len(text) - 2 * step) if i % step % 4 == 0 and i % step < width
    ]
    at = quads[where % len(quads)]
    assert b64.decode_lines(text[:at] + replacement + text[at + 4 :]) is None
