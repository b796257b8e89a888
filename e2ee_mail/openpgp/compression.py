"""Bounded decompression of OpenPGP Compressed Data (RFC 9580 §5.6, §9.4, §13.14).

GnuPG compresses by default, so every message it writes may hold a Compressed Data
packet: algorithm 1 ZIP (raw DEFLATE, RFC 1951), 2 ZLIB (RFC 1950), 3 BZip2. This
module turns the packet's compressed octets back into the inner packet stream, never
producing more than a caller-given bound: the output is pulled from the decompressor
in pieces no larger than what is left of the bound (``max_length``), so a
decompression bomb becomes a PolicyError before memory grows (RFC 9580 §13.14).

Octets after the end of the compressed stream, still inside the packet, are read and
dropped: Sequoia's ZIP output has a few there, and GnuPG and Sequoia ignore them. They
are never released, they add nothing to the output bound, and the integrity check of
the enclosing SEIPD packet (MDC or AEAD tag) still covers them.

Provided: :func:`decompress` (bytes), :class:`Decompressor` (incremental) and
:class:`DecompressingReader` (a readable stream over a compressed stream, holding at
most about 1 MiB of output at a time). Left out, deliberately: compression on write —
the library never compresses (20x slower on incompressible data, and a side channel).
Nesting limits (compressed inside compressed) are the message parser's, which calls
this per layer.
"""

from __future__ import annotations

import bz2
import zlib
from collections.abc import Iterator
from typing import BinaryIO, Final

from ..errors import PacketError, PolicyError, UnsupportedError

__all__ = [
    "BZIP2",
    "UNCOMPRESSED",
    "ZIP",
    "ZLIB",
    "DecompressingReader",
    "Decompressor",
    "decompress",
]

UNCOMPRESSED: Final = 0
ZIP: Final = 1
ZLIB: Final = 2
BZIP2: Final = 3
_NAMES: Final = {ZIP: "ZIP", ZLIB: "ZLIB", BZIP2: "BZip2"}
#: Largest piece pulled out of the decompressor at a time.
OUTPUT_PIECE_SIZE: Final = 1 << 20


def _bomb(limit: int) -> PolicyError:
    return PolicyError(
        f"compressed data expands beyond the limit of {limit} bytes "
        "(Policy.max_decompressed_bytes): refusing a possible decompression bomb"
    )


class Decompressor:
    """Incremental, bounded decompression of one Compressed Data packet body.

    Feed the compressed octets with :meth:`feed` (each call yields decompressed
    pieces), then call :meth:`finish`, which checks that the compressed stream ended.
    Octets fed after the end of the compressed stream are dropped.
    """

    __slots__ = ("_algo", "_bz", "_done", "_limit", "_produced", "_z")

    def __init__(self, algo: int, limit: int) -> None:
        if algo not in (UNCOMPRESSED, ZIP, ZLIB, BZIP2):
            raise UnsupportedError(f"unknown compression algorithm {algo}")
        self._algo = algo
        self._limit = limit
        self._produced = 0
        self._done = False
        self._z = None
        self._bz = None
        if algo == ZIP:
            self._z = zlib.decompressobj(-15)
        elif algo == ZLIB:
            self._z = zlib.decompressobj(15)
        elif algo == BZIP2:
            self._bz = bz2.BZ2Decompressor()

    def _account(self, piece: bytes) -> bytes:
        self._produced += len(piece)
        if self._produced > self._limit:
            raise _bomb(self._limit)
        return piece

    def _room(self) -> int:
        # One octet beyond the limit is enough to know the limit was crossed.
        return max(1, min(OUTPUT_PIECE_SIZE, self._limit - self._produced + 1))

    def feed(self, data: bytes | bytearray | memoryview) -> Iterator[bytes]:
        """Decompress ``data``; yields pieces of at most 1 MiB.

        Raises:
            PolicyError: the output would exceed the limit.
            PacketError: the compressed data is malformed.
        """
        if self._algo == UNCOMPRESSED:
            if data:
                yield self._account(bytes(data))
            return
        if self._done:
            # Past the end of the compressed stream: nothing more is released (see
            # the module docstring for why these octets are accepted).
            return
        chunk = bytes(data)
        try:
            if self._z is not None:
                yield from self._feed_zlib(chunk)
            elif self._bz is not None:
                yield from self._feed_bz2(chunk)
        except zlib.error:
            raise PacketError(
                f"malformed {_NAMES[self._algo]} compressed data"
            ) from None
        except (OSError, EOFError, ValueError):
            raise PacketError("malformed BZip2 compressed data") from None

    def _feed_zlib(self, chunk: bytes) -> Iterator[bytes]:
        z = self._z
        assert z is not None
        while not z.eof:
            piece = z.decompress(chunk, self._room())
            chunk = z.unconsumed_tail
            if piece:
                yield self._account(piece)
            elif not chunk:
                # Input consumed and no output pending. While output keeps coming,
                # loop on: with max_length, zlib may still hold output after the
                # last input octet (highly compressible data), and stopping there
                # made finish() call a complete stream truncated.
                break
        if z.eof:
            # Whatever follows the end (z.unused_data, and the unconsumed tail) is
            # dropped, as are later feeds.
            self._done = True

    def _feed_bz2(self, chunk: bytes) -> Iterator[bytes]:
        bz = self._bz
        assert bz is not None
        first = True
        while not bz.eof and (first or not bz.needs_input):
            piece = bz.decompress(chunk if first else b"", self._room())
            first = False
            if piece:
                yield self._account(piece)
        if bz.eof:
            # bz.unused_data, what follows the end, is dropped, as are later feeds.
            self._done = True

    def finish(self) -> Iterator[bytes]:
        """Flush what is left and check that the compressed stream was complete.

        Raises:
            PacketError: the compressed stream is truncated.
        """
        if self._algo == UNCOMPRESSED:
            return
        if self._z is not None and not self._z.eof:
            # Some writers omit the final block marker; zlib then has buffered output
            # it releases on flush, but a missing end is still truncation for us.
            raise PacketError(f"truncated {_NAMES[self._algo]} compressed data")
        if self._bz is not None and not self._bz.eof:
            raise PacketError("truncated BZip2 compressed data")
        yield from ()


def decompress(algo: int, data: bytes | bytearray | memoryview, limit: int) -> bytes:
    """Decompress a whole Compressed Data body, producing at most ``limit`` octets.

    Args:
        algo: the compression algorithm octet (0 uncompressed, 1 ZIP, 2 ZLIB, 3 BZip2).
        data: the compressed octets (the packet body after the algorithm octet).
        limit: the largest output accepted (``Policy.max_decompressed_bytes``).

    Raises:
        PolicyError: the output would exceed ``limit`` (a decompression bomb).
        PacketError: malformed or truncated compressed data.
        UnsupportedError: an unknown algorithm.
    """
    d = Decompressor(algo, limit)
    pieces = list(d.feed(data))
    pieces.extend(d.finish())
    return b"".join(pieces)


class DecompressingReader:
    """A readable binary stream of the decompressed content of ``src``.

    Output is pulled one piece (at most 1 MiB) at a time, so memory stays bounded
    whatever the expansion; the limit and the end-of-stream check of
    :class:`Decompressor` apply (PolicyError / PacketError while reading).
    """

    __slots__ = ("_d", "_done", "_pending", "_pieces", "_src")

    def __init__(self, src: BinaryIO, algo: int, limit: int) -> None:
        self._src = src
        self._d = Decompressor(algo, limit)
        self._pieces: Iterator[bytes] = iter(())
        self._pending = memoryview(b"")
        self._done = False

    def _fill(self) -> None:
        while not self._pending and not self._done:
            piece = next(self._pieces, None)
            if piece is not None:
                self._pending = memoryview(piece)
                continue
            chunk = self._src.read(OUTPUT_PIECE_SIZE)
            if chunk:
                self._pieces = self._d.feed(chunk)
            else:
                self._pieces = self._d.finish()
                self._done = True
                rest = b"".join(self._pieces)
                self._pending = memoryview(rest)

    def readinto(self, buf: bytearray | memoryview) -> int:
        """Fill ``buf`` with up to ``len(buf)`` decompressed octets; 0 at the end."""
        self._fill()
        n = min(len(buf), len(self._pending))
        memoryview(buf)[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` decompressed octets (all that is left if negative)."""
        if size is None or size < 0:
            out = bytearray()
            while chunk := self.read(OUTPUT_PIECE_SIZE):
                out += chunk
            return bytes(out)
        self._fill()
        out_view = self._pending[:size]
        self._pending = self._pending[len(out_view) :]
        return bytes(out_view)

    def readable(self) -> bool:
        return True
