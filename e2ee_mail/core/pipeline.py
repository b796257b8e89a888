"""A cipher pass over a stream with its reads and writes on threads of their own.

`cryptography` releases the GIL while a cipher context updates a large buffer, and
file reads and writes release it too, so the three stages of a pass (read, cipher,
write) can run at once on a machine with more than one core: the pass then costs
about its slowest stage instead of their sum. :func:`pump` runs the cipher on the
calling thread, and optionally the reads and the writes on one thread each, handing
buffers along bounded queues (:data:`DEPTH` buffers of each kind, so memory stays at
``2 * DEPTH`` buffers whatever the stream's size).

A stage thread may block as long as its stream does; so the caller asks for a
reading thread only over a source that never blocks indefinitely (a regular file,
not a pipe) and a writing thread only into such a destination. The calling thread
keeps every exception its way, signals included: a failure in any stage stops the
others, both threads are joined, and the first failure is raised.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO, Final

from ..errors import FormatError

__all__ = ["DEPTH", "Buffers", "pump"]

#: Buffers of each kind in flight: one being filled, one being ciphered, one spare.
DEPTH: Final = 3

UpdateInto = Callable[[memoryview, bytearray], int]
#: (offset to seek ``src`` to first, or None to read on; octets to read, or None
#: for all up to the end of ``src``).
Range = tuple[int | None, int | None]
_Item = tuple[bytearray, int]


class Buffers:
    """The read and output buffers of :func:`pump`, kept from one pass to the next.

    First touching a fresh 1 MiB buffer costs about as much as decrypting it (page
    faults), so a caller that makes several passes over a body hands the same
    Buffers to each. One pass at a time.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._inputs: list[bytearray] = []
        self._outputs: list[bytearray] = []
        self._scratch: bytearray | None = None

    def inputs(self, count: int) -> list[bytearray]:
        """``count`` read buffers of :attr:`size` octets."""
        while len(self._inputs) < count:
            self._inputs.append(bytearray(self.size))
        return self._inputs[:count]

    def outputs(self, count: int) -> list[bytearray]:
        """``count`` output buffers (``size + 15`` octets: `cryptography`'s rule)."""
        while len(self._outputs) < count:
            self._outputs.append(bytearray(self.size + 15))
        return self._outputs[:count]

    def scratch(self) -> bytearray:
        """Where a write_input pass ciphers an output buffer's worth of input."""
        if self._scratch is None:
            self._scratch = bytearray(self.size + 30)
        return self._scratch


class _Stop(Exception):
    """The calling thread ended the pass: a stage thread winds down quietly."""


def pump(
    update_into: UpdateInto,
    src: BinaryIO,
    dst: BinaryIO | None,
    ranges: Sequence[Range],
    *,
    buffers: Buffers,
    read_thread: bool,
    write_thread: bool,
    write_input: bool = False,
) -> int:
    """Run ``update_into`` over the ``ranges`` of ``src``, writing to ``dst``.

    Args:
        update_into: the cipher step, ``(data, out) -> octets written to out``;
            ``out`` holds ``len(data) + 15`` octets (`cryptography`'s rule).
        src: read with ``readinto``, and ``seek`` where a range gives an offset.
        dst: receives every output in order; None to drop it (a pass that only
            checks a tag).
        ranges: what to read, in order.
        buffers: where the octets go on their way (``buffers.size`` per read).
        read_thread: read on a thread of its own (``src`` never blocks for long).
        write_thread: write on a thread of its own (likewise ``dst``).
        write_input: ``dst`` gets what was read, not what ``update_into`` made (a
            pass that checks a tag while it spools the ciphertext): no copy of the
            input into an output buffer. Reads then stay on the calling thread.

    Returns:
        The number of octets read.

    Raises:
        FormatError: ``src`` ended inside a range.
    """
    if write_input and read_thread:
        raise ValueError("write_input reads on the calling thread")
    run = _Run(update_into, src, dst, ranges, buffers)
    return run.go(
        read_thread=read_thread,
        write_thread=write_thread and dst is not None,
        write_input=write_input,
    )


class _Run:
    def __init__(
        self,
        update_into: UpdateInto,
        src: BinaryIO,
        dst: BinaryIO | None,
        ranges: Sequence[Range],
        buffers: Buffers,
    ) -> None:
        self._update_into = update_into
        self._src = src
        self._dst = dst
        self._ranges = ranges
        self._buffers = buffers
        self._stopped = threading.Event()
        # Buffers travel: free -> full -> (ciphered) -> free again.
        self._free_in: queue.SimpleQueue[bytearray | None] = queue.SimpleQueue()
        self._full_in: queue.SimpleQueue[_Item | BaseException | None] = (
            queue.SimpleQueue()
        )
        self._free_out: queue.SimpleQueue[bytearray | BaseException] = (
            queue.SimpleQueue()
        )
        self._full_out: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._read = 0

    def go(self, *, read_thread: bool, write_thread: bool, write_input: bool) -> int:
        threads = []
        if read_thread:
            for buf in self._buffers.inputs(DEPTH):
                self._free_in.put(buf)
            threads.append(threading.Thread(target=self._reader, daemon=True))
        if write_thread:
            for buf in self._buffers.outputs(DEPTH):
                self._free_out.put(buf)
            threads.append(threading.Thread(target=self._writer, daemon=True))
        for thread in threads:
            thread.start()
        try:
            if write_input:
                self._pass_input(write_thread)
                inputs: Iterator[_Item] = iter(())
            else:
                inputs = self._queued_inputs() if read_thread else self._inputs()
            out = None if write_thread else self._buffers.outputs(1)[0]
            for buf, n in inputs:
                if out is None:
                    target = self._free_out.get()
                    if isinstance(target, BaseException):
                        raise target
                else:
                    target = out
                written = self._update_into(memoryview(buf)[:n], target)
                if read_thread:
                    self._free_in.put(buf)
                if write_thread:
                    self._full_out.put((target, written))
                elif self._dst is not None:
                    self._dst.write(memoryview(target)[:written])
            if write_thread:
                self._full_out.put(None)
                # The writer hands back every buffer once written, or its failure
                # in the place of the buffer it failed on: all DEPTH come back.
                for _ in range(DEPTH):
                    item = self._free_out.get()
                    if isinstance(item, BaseException):
                        raise item
            return self._read
        finally:
            self._stopped.set()
            self._free_in.put(None)  # wakes a reader waiting for a buffer
            self._full_out.put(None)  # and a writer waiting for work
            for thread in threads:
                thread.join()

    def _pass_input(self, write_thread: bool) -> None:
        """The write_input loop: each buffer read is ciphered into a scratch buffer
        and then written itself. With a writing thread the read buffers are the
        ``DEPTH`` output buffers, taken back from the writer once written."""
        scratch = self._buffers.scratch()

        taken: list[bytearray] = []  # the buffer read into last, until handed on

        def next_buffer() -> bytearray:
            if not write_thread:
                return self._buffers.outputs(1)[0]
            item = self._free_out.get()
            if isinstance(item, BaseException):
                raise item
            taken.append(item)
            return item

        for buf, n in self._reads(next_buffer):
            self._update_into(memoryview(buf)[:n], scratch)
            if write_thread:
                taken.clear()
                self._full_out.put((buf, n))
            elif self._dst is not None:
                self._dst.write(memoryview(buf)[:n])
        # The read that found the end took a buffer: every DEPTH must come back.
        for buf in taken:
            self._free_out.put(buf)

    # --- reading -------------------------------------------------------------

    def _inputs(self) -> Iterator[_Item]:
        """Read on the calling thread into one reused buffer."""
        buf = self._buffers.inputs(1)[0]
        yield from self._reads(lambda: buf)

    def _queued_inputs(self) -> Iterator[_Item]:
        while True:
            item = self._full_in.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def _reads(self, next_buffer: Callable[[], bytearray | None]) -> Iterator[_Item]:
        readinto = self._src.readinto  # type: ignore[attr-defined]
        for offset, length in self._ranges:
            if offset is not None:
                self._src.seek(offset)
            left = length
            while left is None or left:
                buf = next_buffer()
                if buf is None:
                    raise _Stop
                want = len(buf) if left is None else min(len(buf), left)
                # A pipe returns what it holds (64 KiB): fill the buffer, so that
                # each hand-over between the threads moves a whole one.
                view = memoryview(buf)
                got = 0
                while got < want and (n := readinto(view[got:want])):
                    got += n
                if not got:
                    if left is None:
                        break
                    raise FormatError("the message is truncated: the body ended early")
                self._read += got
                if left is not None:
                    left -= got
                yield buf, got

    def _reader(self) -> None:
        def next_buffer() -> bytearray | None:
            buf = self._free_in.get()
            return None if self._stopped.is_set() else buf

        try:
            for item in self._reads(next_buffer):
                self._full_in.put(item)
            self._full_in.put(None)
        except _Stop:
            pass
        except BaseException as exc:  # handed to the calling thread, raised there
            self._full_in.put(exc)

    # --- writing -------------------------------------------------------------

    def _writer(self) -> None:
        assert self._dst is not None
        failed = False
        while (item := self._full_out.get()) is not None:
            buf, n = item
            if not failed and not self._stopped.is_set():
                try:
                    self._dst.write(memoryview(buf)[:n])
                except BaseException as exc:
                    failed = True
                    self._free_out.put(exc)
                    continue
            self._free_out.put(buf)
