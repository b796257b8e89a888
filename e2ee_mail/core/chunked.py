"""Chunked AEAD: the SEIPDv2 chunk loop (RFC 9580 §5.13.2) without packet knowledge.

A body is cut into chunks of ``chunk_size`` plaintext octets; chunk i is sealed with
nonce = ``nonce_prefix`` || i (8 octets, big-endian) and associated data ``aad``. A
final, empty chunk is sealed with nonce index = number of chunks and associated data
``aad`` || total plaintext length (8 octets), so truncation, reordering and extension
are all detected. Modes: AES-GCM (12-octet nonce) and AES-OCB3 (15-octet nonce),
both with 16-octet tags, from `cryptography`.

Opening releases a chunk only once its tag has verified; the streaming opener also
holds back the last chunk until the final tag has verified. The bytes API allocates
its output once at the final size (PERF.md) and uses two threads on large bodies;
streams reuse two buffers.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import BinaryIO, Final, Literal, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESOCB3

from ..errors import DecryptionError, FormatError, UsageError

__all__ = [
    "PARALLEL_MIN_BYTES",
    "TAG_SIZE",
    "ChunkOpener",
    "ChunkParams",
    "ChunkSealer",
    "open_into",
    "opened_size",
    "seal_into",
    "sealed_size",
]

TAG_SIZE: Final = 16
#: Bodies at least this large are sealed and opened by two threads: SEIPDv2 chunks
#: are independent and `cryptography` releases the GIL (PERF.md: 1.8-1.9x).
PARALLEL_MIN_BYTES: Final = 8 << 20
Mode = Literal["gcm", "ocb"]
NONCE_SIZE: Final = {"gcm": 12, "ocb": 15}
Buffer = bytes | bytearray | memoryview


class _AEAD(Protocol):
    def encrypt_into(
        self, nonce: bytes, data: Buffer, associated_data: bytes | None, buf: Buffer
    ) -> int: ...

    def decrypt_into(
        self, nonce: bytes, data: Buffer, associated_data: bytes | None, buf: Buffer
    ) -> int: ...


@dataclasses.dataclass(frozen=True, slots=True)
class ChunkParams:
    """Everything the chunk loop needs.

    Attributes:
        mode: "gcm" or "ocb".
        key: the message key (16, 24 or 32 octets).
        nonce_prefix: nonce size - 8 octets (the HKDF-derived IV).
        chunk_size: plaintext octets per chunk.
        aad: associated data of every chunk.
    """

    mode: Mode
    key: bytes = dataclasses.field(repr=False)
    nonce_prefix: bytes
    chunk_size: int
    aad: bytes

    def __post_init__(self) -> None:
        if self.mode not in NONCE_SIZE:
            raise UsageError(f"unknown chunked AEAD mode {self.mode!r}")
        if len(self.nonce_prefix) + 8 != NONCE_SIZE[self.mode]:
            raise UsageError("nonce prefix has the wrong size for the mode")
        if self.chunk_size <= 0:
            raise UsageError("chunk size must be positive")

    def cipher(self) -> _AEAD:
        """The `cryptography` AEAD object for this key."""
        if self.mode == "gcm":
            return AESGCM(self.key)
        return AESOCB3(self.key)

    def nonce(self, index: int) -> bytes:
        """The nonce of chunk ``index``."""
        return self.nonce_prefix + index.to_bytes(8, "big")

    def final_aad(self, total: int) -> bytes:
        """Associated data of the final tag."""
        return self.aad + total.to_bytes(8, "big")


def _chunks(length: int, chunk_size: int) -> int:
    return -(-length // chunk_size)


def sealed_size(length: int, chunk_size: int) -> int:
    """Ciphertext octets for ``length`` plaintext octets (tags and final tag)."""
    return length + TAG_SIZE * (_chunks(length, chunk_size) + 1)


def opened_size(length: int, chunk_size: int) -> int:
    """Plaintext octets in ``length`` ciphertext octets.

    Raises:
        DecryptionError: no valid chunk layout has this length (truncated).
    """
    body = length - TAG_SIZE
    if body < 0:
        raise DecryptionError()
    full = chunk_size + TAG_SIZE
    count = _chunks(body, full)
    last = body - (count - 1) * full if count else 0
    if count and last <= TAG_SIZE:
        raise DecryptionError()
    return body - TAG_SIZE * count


def _seal_range(
    params: ChunkParams,
    src: memoryview,
    out: memoryview,
    pos: int,
    wpos: int,
    index: int,
    count: int,
) -> None:
    """Seal ``count`` chunks of ``src`` from ``pos`` into ``out`` at ``wpos``."""
    aead = params.cipher()
    aad = params.aad
    size = params.chunk_size
    for _ in range(count):
        piece = src[pos : pos + size]
        aead.encrypt_into(
            params.nonce(index), piece, aad, out[wpos : wpos + len(piece) + TAG_SIZE]
        )
        pos += len(piece)
        wpos += len(piece) + TAG_SIZE
        index += 1


def _open_range(
    params: ChunkParams,
    src: memoryview,
    out: memoryview,
    pos: int,
    wpos: int,
    index: int,
    count: int,
) -> None:
    """Open ``count`` chunks (the last may be short) of ``src`` from ``pos``."""
    aead = params.cipher()
    aad = params.aad
    full = params.chunk_size + TAG_SIZE
    for _ in range(count):
        piece = src[pos : pos + full]
        n = len(piece) - TAG_SIZE
        aead.decrypt_into(params.nonce(index), piece, aad, out[wpos : wpos + n])
        pos += len(piece)
        wpos += n
        index += 1


def _split(
    work: Callable[[int, int, int, int], None],
    count: int,
    in_step: int,
    out_step: int,
    parallel: bool,
) -> None:
    """Run ``work(pos, wpos, index, count)`` over the chunks, in two threads when
    ``parallel`` (PERF.md: `cryptography` releases the GIL for bulk AEAD)."""
    if not parallel or count < 2:
        work(0, 0, 0, count)
        return
    half = count // 2
    errors: list[BaseException] = []

    def second() -> None:
        try:
            work(half * in_step, half * out_step, half, count - half)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=second, name="e2ee-mail-chunks")
    thread.start()
    try:
        work(0, 0, 0, half)
    finally:
        thread.join()
    if errors:
        raise errors[0]


def seal_into(
    params: ChunkParams, data: Buffer, out: memoryview, prefix: Buffer = b""
) -> int:
    """Seal ``prefix`` || ``data`` into ``out`` (exactly :func:`sealed_size` octets).

    ``prefix`` (a packet header, shorter than one chunk) is joined to the first chunk
    without copying ``data`` as a whole. Bodies of :data:`PARALLEL_MIN_BYTES` and
    more are sealed by two threads.
    """
    src = memoryview(data).cast("B")
    size = params.chunk_size
    head = bytes(prefix)
    if len(head) > size:
        raise UsageError("prefix must be shorter than one chunk")
    length = len(head) + len(src)
    need = sealed_size(length, size)
    if len(out) < need:
        raise UsageError("output buffer is too small")
    pos = wpos = index = 0
    if head:
        first = head + bytes(src[: size - len(head)])
        params.cipher().encrypt_into(
            params.nonce(0), first, params.aad, out[: len(first) + TAG_SIZE]
        )
        pos = len(first) - len(head)
        wpos = len(first) + TAG_SIZE
        index = 1
    rest = src[pos:]
    body = out[wpos:]
    _split(
        lambda p, w, i, n: _seal_range(params, rest, body, p, w, index + i, n),
        -(-len(rest) // size),
        size,
        size + TAG_SIZE,
        len(rest) >= PARALLEL_MIN_BYTES,
    )
    wpos = need - TAG_SIZE
    params.cipher().encrypt_into(
        params.nonce(_chunks(length, size)),
        b"",
        params.final_aad(length),
        out[wpos : wpos + TAG_SIZE],
    )
    return need


def open_into(params: ChunkParams, data: Buffer, out: memoryview) -> int:
    """Open all of ``data`` into ``out`` (at least :func:`opened_size` octets).

    Bodies of :data:`PARALLEL_MIN_BYTES` and more are opened by two threads. On any
    failure ``out`` is wiped and DecryptionError raised.
    """
    src = memoryview(data).cast("B")
    total = opened_size(len(src), params.chunk_size)
    if len(out) < total:
        raise UsageError("output buffer is too small")
    full = params.chunk_size + TAG_SIZE
    body = len(src) - TAG_SIZE
    chunks = src[:body]
    try:
        _split(
            lambda p, w, i, n: _open_range(params, chunks, out, p, w, i, n),
            -(-body // full),
            full,
            params.chunk_size,
            body >= PARALLEL_MIN_BYTES,
        )
        params.cipher().decrypt_into(
            params.nonce(-(-body // full)),
            src[body:],
            params.final_aad(total),
            bytearray(),
        )
    except (InvalidTag, ValueError):
        out[:total] = bytes(total)
        raise DecryptionError() from None
    return total


class ChunkSealer:
    """Streaming sealer: :meth:`write` plaintext, :meth:`close` writes the last chunk
    and the final tag. Two buffers, reused for every chunk."""

    __slots__ = ("_aead", "_dst", "_fill", "_in", "_index", "_out", "_params", "_total")

    def __init__(self, params: ChunkParams, dst: BinaryIO) -> None:
        self._params = params
        self._aead = params.cipher()
        self._dst = dst
        self._in = bytearray(params.chunk_size)
        self._out = bytearray(params.chunk_size + TAG_SIZE)
        self._fill = 0
        self._index = 0
        self._total = 0

    def _emit(self, n: int) -> None:
        out = memoryview(self._out)[: n + TAG_SIZE]
        self._aead.encrypt_into(
            self._params.nonce(self._index),
            memoryview(self._in)[:n],
            self._params.aad,
            out,
        )
        self._dst.write(out)
        self._index += 1
        self._total += n
        self._fill = 0

    def write(self, data: Buffer) -> int:
        """Take plaintext; full chunks are sealed and written at once."""
        view = memoryview(data).cast("B")
        size = len(self._in)
        pos = 0
        while pos < len(view):
            n = min(size - self._fill, len(view) - pos)
            self._in[self._fill : self._fill + n] = view[pos : pos + n]
            self._fill += n
            pos += n
            if self._fill == size:
                self._emit(size)
        return len(view)

    def pump(self, src: BinaryIO, length: int) -> None:
        """Read exactly ``length`` octets of ``src`` straight into the chunk buffer.

        The hot loop of a stream of known size: one ``readinto``, one
        ``encrypt_into`` and one ``write`` per chunk, no other copy.

        Raises:
            FormatError: ``src`` ended early.
        """
        view = memoryview(self._in)
        size = len(self._in)
        readinto = src.readinto  # type: ignore[attr-defined]
        left = length
        while left:
            want = min(size - self._fill, left)
            got = readinto(view[self._fill : self._fill + want])
            if not got:
                raise FormatError("the input ended before its announced size")
            self._fill += got
            left -= got
            if self._fill == size:
                self._emit(size)

    def close(self) -> None:
        """Seal the last partial chunk and write the final tag."""
        if self._fill:
            self._emit(self._fill)
        tag = memoryview(self._out)[:TAG_SIZE]
        self._aead.encrypt_into(
            self._params.nonce(self._index),
            b"",
            self._params.final_aad(self._total),
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

    def __init__(self, params: ChunkParams, src: object) -> None:
        self._params = params
        self._aead = params.cipher()
        self._src = src
        # One chunk, its tag, and 17 octets of lookahead: more than a final tag proves
        # the chunk is not the last, so the last one can wait for the final tag.
        self._cbuf = bytearray(params.chunk_size + 2 * TAG_SIZE + 1)
        self._cfill = 0
        self._pbuf = bytearray(params.chunk_size)
        self._ppos = self._pend = 0
        self._index = 0
        self._total = 0
        self._done = False

    def _fill(self) -> None:
        view = memoryview(self._cbuf)
        readinto = self._src.readinto  # type: ignore[attr-defined]
        while self._cfill < len(self._cbuf):
            got = readinto(view[self._cfill :])
            if not got:
                return
            self._cfill += got

    def _open(self, piece: memoryview) -> int:
        n = len(piece) - TAG_SIZE
        try:
            self._aead.decrypt_into(
                self._params.nonce(self._index),
                piece,
                self._params.aad,
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
                self._params.final_aad(self._total),
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

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` octets of authenticated plaintext (all when negative)."""
        out = bytearray()
        chunk = bytearray(min(size, 1 << 16) if size >= 0 else 1 << 16)
        while size < 0 or len(out) < size:
            want = len(chunk) if size < 0 else min(len(chunk), size - len(out))
            n = self.readinto(memoryview(chunk)[:want])
            if not n:
                break
            out += chunk[:n]
        return bytes(out)

    def readable(self) -> bool:
        return True
