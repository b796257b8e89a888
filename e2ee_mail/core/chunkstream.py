"""Streaming chunked AEAD (RFC 9580 §5.13.2 chunk loop) over reused buffers.

:class:`ChunkSealer` takes plaintext by ``write`` (or ``pump`` from a stream of known
size) and writes sealed chunks and the final tag; :class:`ChunkOpener` is a readable
stream of authenticated plaintext. Parameters, nonces and sizes come from
``chunked.py``. The opener releases a chunk only once its tag verified, and holds the
last chunk back until the final tag (over the total length) verified.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from cryptography.exceptions import InvalidTag

from ..errors import DecryptionError, FormatError
from .chunked import TAG_SIZE, Buffer, ChunkParams

__all__ = ["ChunkOpener", "ChunkSealer", "read_through"]


class ChunkSealer:
    """Streaming sealer: :meth:`write` plaintext, :meth:`close` writes the last chunk
    and the final tag. Two buffers, reused for every chunk."""

    __slots__ = ("_aead", "_dst", "_fill", "_in", "_index", "_out", "_params", "_total")

    def __init__(
        self, params: ChunkParams, dst: BinaryIO, size_hint: int | None = None
    ) -> None:
        self._params = params
        self._aead = params.cipher()
        self._dst = dst
        # A body announced shorter than a chunk gets buffers of its size: first
        # touching two fresh 4 MiB buffers costs more than sealing a small message,
        # and every small CLI call would pay it. A wrong hint only costs a grow
        # (see _room).
        cap = params.chunk_size
        if size_hint is not None:
            cap = max(0, min(cap, size_hint))
        self._in = bytearray(cap)
        self._out = bytearray(cap + TAG_SIZE)
        self._fill = 0
        self._index = 0
        self._total = 0

    def _emit(self, n: int) -> None:
        out = memoryview(self._out)[: n + TAG_SIZE]
        self._aead.encrypt_into(
            self._params.nonce(self._index),
            memoryview(self._in)[:n],
            self._params.chunk_aad(self._index),
            out,
        )
        self._dst.write(out)
        self._index += 1
        self._total += n
        self._fill = 0

    def _room(self, incoming: int) -> None:
        """Grow hint-sized buffers to a whole chunk before they would overflow."""
        chunk = self._params.chunk_size
        if len(self._in) < chunk and self._fill + incoming > len(self._in):
            grown = bytearray(chunk)
            grown[: self._fill] = memoryview(self._in)[: self._fill]
            self._in = grown
            self._out = bytearray(chunk + TAG_SIZE)

    def write(self, data: Buffer) -> int:
        """Take plaintext; full chunks are sealed and written at once."""
        view = memoryview(data).cast("B")
        self._room(len(view))
        size = len(self._in)
        chunk = self._params.chunk_size
        pos = 0
        while pos < len(view):
            n = min(size - self._fill, len(view) - pos)
            self._in[self._fill : self._fill + n] = view[pos : pos + n]
            self._fill += n
            pos += n
            if self._fill == chunk:
                self._emit(chunk)
        return len(view)

    def pump(self, src: BinaryIO, length: int) -> None:
        """Read exactly ``length`` octets of ``src`` straight into the chunk buffer.

        The hot loop of a stream of known size: one ``readinto``, one
        ``encrypt_into`` and one ``write`` per chunk, no other copy.

        Raises:
            FormatError: ``src`` ended early.
        """
        self._room(length)
        view = memoryview(self._in)
        size = len(self._in)
        chunk = self._params.chunk_size
        readinto = src.readinto  # type: ignore[attr-defined]
        left = length
        while left:
            want = min(size - self._fill, left)
            got = readinto(view[self._fill : self._fill + want])
            if not got:
                raise FormatError("the input ended before its announced size")
            self._fill += got
            left -= got
            if self._fill == chunk:
                self._emit(chunk)

    def close(self) -> None:
        """Seal the last partial chunk and write the final tag."""
        if self._fill:
            self._emit(self._fill)
        tag = memoryview(self._out)[:TAG_SIZE]
        self._aead.encrypt_into(
            self._params.nonce(self._index),
            b"",
            self._params.final_aad(self._total, self._index),
            tag,
        )
        self._dst.write(tag)


class ChunkOpener:
    """Streaming opener: a readable stream of authenticated plaintext.

    Reads ciphertext from ``src`` (anything with ``readinto``). A chunk is handed out
    only after its tag verified; the last chunk only after the final tag verified.
    Any failure is a DecryptionError, and nothing of the failing chunk is released.
    """

    __slots__ = (
        "_aead",
        "_cbuf",
        "_cfill",
        "_done",
        "_index",
        "_params",
        "_pbuf",
        "_pend",
        "_ppos",
        "_src",
        "_total",
    )

    def __init__(
        self, params: ChunkParams, src: object, size_hint: int | None = None
    ) -> None:
        self._params = params
        self._aead = params.cipher()
        self._src = src
        # One chunk, its tag, and 17 octets of lookahead: more than a final tag proves
        # the chunk is not the last, so the last one can wait for the final tag.
        # ``size_hint`` (the sealed octets left, when the packet says) sizes the
        # buffers of a message shorter than that: one octet more than the hint, so
        # a full buffer always means the hint was short and it grows (see _fill).
        cap = params.chunk_size + 2 * TAG_SIZE + 1
        if size_hint is not None:
            cap = max(1, min(cap, size_hint + 1))
        self._cbuf = bytearray(cap)
        self._cfill = 0
        self._pbuf = bytearray(min(params.chunk_size, cap))
        self._ppos = self._pend = 0
        self._index = 0
        self._total = 0
        self._done = False

    def _fill(self) -> None:
        readinto = self._src.readinto  # type: ignore[attr-defined]
        full = self._params.chunk_size + 2 * TAG_SIZE + 1
        while True:
            view = memoryview(self._cbuf)
            while self._cfill < len(self._cbuf):
                got = readinto(view[self._cfill :])
                if not got:
                    return
                self._cfill += got
            if len(self._cbuf) >= full:
                return
            # More sealed octets than the hint said: grow to the whole chunk.
            view.release()
            grown = bytearray(full)
            grown[: self._cfill] = self._cbuf
            self._cbuf = grown
            self._pbuf = bytearray(self._params.chunk_size)

    def _open(self, piece: memoryview) -> int:
        n = len(piece) - TAG_SIZE
        try:
            self._aead.decrypt_into(
                self._params.nonce(self._index),
                piece,
                self._params.chunk_aad(self._index),
                memoryview(self._pbuf)[:n],
            )
        except (InvalidTag, ValueError):
            self._pbuf[:n] = bytes(n)
            raise DecryptionError() from None
        self._index += 1
        self._total += n
        return n

    def _final(self, tag: memoryview) -> None:
        try:
            self._aead.decrypt_into(
                self._params.nonce(self._index),
                tag,
                self._params.final_aad(self._total, self._index),
                bytearray(),
            )
        except (InvalidTag, ValueError):
            raise DecryptionError() from None

    def _next(self) -> None:
        """Authenticate the next chunk into the plaintext buffer."""
        self._fill()
        view = memoryview(self._cbuf)
        full = self._params.chunk_size + TAG_SIZE
        if self._cfill == len(self._cbuf):
            # A whole chunk and more than a final tag after it: not the last chunk.
            n = self._open(view[:full])
            rest = self._cfill - full
            self._cbuf[:rest] = self._cbuf[full : self._cfill]
            self._cfill = rest
            self._ppos, self._pend = 0, n
            return
        if self._cfill < TAG_SIZE or 0 < self._cfill - TAG_SIZE <= TAG_SIZE:
            raise DecryptionError()
        body = self._cfill - TAG_SIZE
        n = self._open(view[:body]) if body else 0
        self._final(view[body : self._cfill])
        self._cfill = 0
        self._done = True
        self._ppos, self._pend = 0, n

    def readinto(self, buf: bytearray | memoryview) -> int:
        """Authenticated plaintext into ``buf``; 0 at the end."""
        while self._ppos == self._pend:
            if self._done:
                return 0
            self._next()
        view = memoryview(buf).cast("B")
        n = min(len(view), self._pend - self._ppos)
        view[:n] = memoryview(self._pbuf)[self._ppos : self._ppos + n]
        self._ppos += n
        return n

    def readview(self, size: int) -> memoryview:
        """Up to ``size`` octets of authenticated plaintext without a copy; empty at
        the end.

        The view is into the opener's reused plaintext buffer: valid only until the
        next read (consume it, e.g. ``dst.write(view)``, before reading again). It
        saves the copy :meth:`readinto` makes, one per octet of the body.
        """
        while self._ppos == self._pend:
            if self._done:
                return memoryview(b"")
            self._next()
        n = min(size, self._pend - self._ppos)
        view = memoryview(self._pbuf)[self._ppos : self._ppos + n]
        self._ppos += n
        return view

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` octets of authenticated plaintext (all when negative)."""
        return read_through(self.readinto, size)

    def readable(self) -> bool:
        return True


def read_through(readinto: Callable[[memoryview], int], size: int = -1) -> bytes:
    """``read(size)`` of a stream that has ``readinto``: up to ``size`` octets, all
    when negative, through one 64 KiB buffer."""
    out = bytearray()
    chunk = bytearray(min(size, 1 << 16) if size >= 0 else 1 << 16)
    while size < 0 or len(out) < size:
        want = len(chunk) if size < 0 else min(len(chunk), size - len(out))
        n = readinto(memoryview(chunk)[:want])
        if not n:
            break
        out += chunk[:n]
    return bytes(out)
