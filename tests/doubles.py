"""Stream doubles shared by the tests: sources that behave like pipes and sockets.

The library must work on any ``BinaryIO``: one that cannot seek, one that hands out a
few octets per read, one with ``read`` and no ``readinto``. Test modules import these
instead of defining their own.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from e2ee_mail.openpgp import armor


class Pipe(io.RawIOBase):
    """A non-seekable source, like stdin or a socket."""

    def __init__(self, data: bytes) -> None:
        self._src = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buf: bytearray | memoryview) -> int:  # type: ignore[override]
        return self._src.readinto(buf)


class Trickle(io.RawIOBase):
    """A non-seekable source that hands out at most ``sizes[i]`` octets on read i,
    cycling through ``sizes`` (one int: the same limit every time)."""

    def __init__(self, data: bytes, sizes: int | Sequence[int]) -> None:
        self._data = memoryview(data)
        steps = [sizes] if isinstance(sizes, int) else list(sizes)
        self._sizes = steps or [len(data) or 1]
        self._reads = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf: bytearray | memoryview) -> int:  # type: ignore[override]
        size = self._sizes[self._reads % len(self._sizes)]
        self._reads += 1
        n = min(len(buf), size, len(self._data))
        memoryview(buf)[:n] = self._data[:n]
        self._data = self._data[n:]
        return n


class LineByLine(io.RawIOBase):
    """Hands out one line per read: every line is a block of its own."""

    def __init__(self, text: bytes) -> None:
        self._lines = text.splitlines(keepends=True)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        return self._lines.pop(0) if self._lines else b""


class ReadOnly:
    """A source with ``read`` and no ``readinto``."""

    def __init__(self, data: bytes) -> None:
        self._src = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._src.read(size)


class SmallBlocks(armor.ArmorReader):
    """The armor reader with 4 KiB blocks: the logic is the same at any block size,
    and small blocks put block seams inside short inputs."""

    __slots__ = ()
    _READ = 4096  # type: ignore[misc]
