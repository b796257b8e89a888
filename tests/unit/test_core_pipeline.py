"""core/pipeline.py: one cipher pass with its reads and writes on threads of their
own gives what the plain loop gives, in order, and every failure reaches the caller
with every thread joined."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator

import pytest

from e2ee_mail.core import pipeline
from e2ee_mail.errors import FormatError

DATA = bytes((i * 31 + 7) & 0xFF for i in range(300_000))
MODES = [
    pytest.param(
        r,
        w,
        id=f"read-{'thread' if r else 'inline'}-write-{'thread' if w else 'inline'}",
    )
    for r in (False, True)
    for w in (False, True)
]


def _xor(data: memoryview, out: bytearray) -> int:
    """A stand-in cipher: one octet in, one out."""
    out[: len(data)] = bytes(b ^ 0x5A for b in data)
    return len(data)


def _expected(ranges: list[tuple[int, int]]) -> bytes:
    return b"".join(bytes(b ^ 0x5A for b in DATA[o : o + n]) for o, n in ranges)


@pytest.fixture(autouse=True)
def no_thread_left() -> Iterator[None]:
    before = threading.active_count()
    yield
    assert threading.active_count() == before


@pytest.mark.parametrize(("read_thread", "write_thread"), MODES)
@pytest.mark.parametrize("buffer_size", [997, 4096, 1 << 20])
def test_ranges_come_out_whole_and_in_order(
    read_thread: bool, write_thread: bool, buffer_size: int
) -> None:
    ranges = [(0, 0), (10, 70_000), (5, 5), (100_000, 200_000), (299_999, 1)]
    dst = io.BytesIO()
    n = pipeline.pump(
        _xor,
        io.BytesIO(DATA),
        dst,
        [(o, n) for o, n in ranges],
        buffers=pipeline.Buffers(buffer_size),
        read_thread=read_thread,
        write_thread=write_thread,
    )
    assert n == sum(n for _, n in ranges)
    assert dst.getvalue() == _expected(ranges)


@pytest.mark.parametrize(("read_thread", "write_thread"), MODES)
def test_a_range_without_offset_reads_on(read_thread: bool, write_thread: bool) -> None:
    src = io.BytesIO(DATA)
    src.seek(1234)
    dst = io.BytesIO()
    pipeline.pump(
        _xor,
        src,
        dst,
        [(None, 5000), (None, 100)],
        buffers=pipeline.Buffers(4096),
        read_thread=read_thread,
        write_thread=write_thread,
    )
    assert dst.getvalue() == _expected([(1234, 5100)])


@pytest.mark.parametrize(("read_thread", "write_thread"), MODES)
def test_a_range_without_length_reads_to_the_end(
    read_thread: bool, write_thread: bool
) -> None:
    src = io.BytesIO(DATA)
    dst = io.BytesIO()
    n = pipeline.pump(
        _xor,
        src,
        dst,
        [(10, 20), (100_000, None)],
        buffers=pipeline.Buffers(4096),
        read_thread=read_thread,
        write_thread=write_thread,
    )
    assert n == 20 + len(DATA) - 100_000
    assert dst.getvalue() == _expected([(10, 20), (100_000, len(DATA))])


@pytest.mark.parametrize("read_thread", [False, True])
def test_no_destination_drops_the_output(read_thread: bool) -> None:
    calls = []

    def count(data: memoryview, out: bytearray) -> int:
        calls.append(len(data))
        return _xor(data, out)

    n = pipeline.pump(
        count,
        io.BytesIO(DATA),
        None,
        [(0, len(DATA))],
        buffers=pipeline.Buffers(65536),
        read_thread=read_thread,
        write_thread=True,
    )
    assert n == sum(calls) == len(DATA)


@pytest.mark.parametrize(("read_thread", "write_thread"), MODES)
def test_a_source_that_ends_early_is_a_format_error(
    read_thread: bool, write_thread: bool
) -> None:
    with pytest.raises(FormatError, match="truncated"):
        pipeline.pump(
            _xor,
            io.BytesIO(DATA),
            io.BytesIO(),
            [(0, len(DATA) + 1)],
            buffers=pipeline.Buffers(4096),
            read_thread=read_thread,
            write_thread=write_thread,
        )


class _FailingWriter(io.RawIOBase):
    def __init__(self, after: int) -> None:
        self.left = after

    def writable(self) -> bool:
        return True

    def write(self, b: object) -> int:
        if not self.left:
            raise OSError(28, "No space left on device")
        self.left -= 1
        return len(memoryview(b))  # type: ignore[arg-type]


@pytest.mark.parametrize(("read_thread", "write_thread"), MODES)
@pytest.mark.parametrize("after", [0, 1, 20])
def test_a_failing_write_reaches_the_caller(
    read_thread: bool, write_thread: bool, after: int
) -> None:
    with pytest.raises(OSError, match="No space"):
        pipeline.pump(
            _xor,
            io.BytesIO(DATA),
            _FailingWriter(after),  # type: ignore[arg-type]
            [(0, len(DATA))],
            buffers=pipeline.Buffers(4096),
            read_thread=read_thread,
            write_thread=write_thread,
        )


class _Interrupt(BaseException):
    """Stands for the exception a signal handler raises in the calling thread."""


@pytest.mark.parametrize(("read_thread", "write_thread"), MODES)
@pytest.mark.parametrize("after", [0, 3])
def test_an_exception_in_the_calling_thread_stops_the_others(
    read_thread: bool, write_thread: bool, after: int
) -> None:
    calls = [0]

    def interrupted(data: memoryview, out: bytearray) -> int:
        if calls[0] == after:
            raise _Interrupt
        calls[0] += 1
        return _xor(data, out)

    with pytest.raises(_Interrupt):
        pipeline.pump(
            interrupted,
            io.BytesIO(DATA),
            io.BytesIO(),
            [(0, len(DATA))],
            buffers=pipeline.Buffers(4096),
            read_thread=read_thread,
            write_thread=write_thread,
        )


def test_a_failing_read_reaches_the_caller() -> None:
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, b: object) -> int:
            raise OSError(5, "Input/output error")

    with pytest.raises(OSError, match="Input/output"):
        pipeline.pump(
            _xor,
            Broken(),  # type: ignore[arg-type]
            io.BytesIO(),
            [(None, 10)],
            buffers=pipeline.Buffers(4),
            read_thread=True,
            write_thread=True,
        )


@pytest.mark.parametrize("write_thread", [False, True])
@pytest.mark.parametrize("buffer_size", [997, 4096, 1 << 20])
def test_write_input_writes_what_was_read(write_thread: bool, buffer_size: int) -> None:
    """A pass that spools what it checks: ``dst`` gets the input, in order, and
    the cipher still sees every octet (each DEPTH buffer comes back, or the pass
    would hang)."""
    seen = bytearray()

    def check(data: memoryview, out: bytearray) -> int:
        seen.extend(data)
        return _xor(data, out)

    ranges = [(10, 70_000), (100_000, 200_000)]
    buffers = pipeline.Buffers(buffer_size)
    for _ in range(2):  # the same Buffers serve another pass
        seen.clear()
        dst = io.BytesIO()
        n = pipeline.pump(
            check,
            io.BytesIO(DATA),
            dst,
            ranges,
            buffers=buffers,
            read_thread=False,
            write_thread=write_thread,
            write_input=True,
        )
        expected = b"".join(DATA[o : o + n] for o, n in ranges)
        assert n == len(expected)
        assert dst.getvalue() == expected == bytes(seen)


def test_write_input_reads_on_the_calling_thread() -> None:
    with pytest.raises(ValueError):
        pipeline.pump(
            _xor,
            io.BytesIO(DATA),
            io.BytesIO(),
            [(None, None)],
            buffers=pipeline.Buffers(4096),
            read_thread=True,
            write_thread=True,
            write_input=True,
        )


@pytest.mark.parametrize("write_thread", [False, True])
@pytest.mark.parametrize("after", [0, 1, 20])
def test_write_input_failures_reach_the_caller(write_thread: bool, after: int) -> None:
    def pump(update_into: pipeline.UpdateInto, dst: object, length: int) -> None:
        pipeline.pump(
            update_into,
            io.BytesIO(DATA),
            dst,  # type: ignore[arg-type]
            [(0, length)],
            buffers=pipeline.Buffers(4096),
            read_thread=False,
            write_thread=write_thread,
            write_input=True,
        )

    with pytest.raises(OSError, match="No space"):
        pump(_xor, _FailingWriter(after), len(DATA))
    with pytest.raises(FormatError, match="truncated"):
        pump(_xor, io.BytesIO(), len(DATA) + 1)
    calls = [0]

    def interrupted(data: memoryview, out: bytearray) -> int:
        if calls[0] == after:
            raise _Interrupt
        calls[0] += 1
        return _xor(data, out)

    with pytest.raises(_Interrupt):
        pump(interrupted, io.BytesIO(), len(DATA))
