"""Chunked AEAD: the SEIPDv2 chunk loop (RFC 9580 §5.13.2) without packet knowledge.

A body is cut into chunks of ``chunk_size`` plaintext octets; chunk i is sealed with
nonce = ``nonce_prefix`` || i (8 octets, big-endian) and associated data ``aad``. A
final, empty chunk is sealed with nonce index = number of chunks and associated data
``aad`` || total plaintext length (8 octets), so truncation, reordering and extension
are all detected. Modes: AES-GCM (12-octet nonce) and AES-OCB3 (15-octet nonce),
both with 16-octet tags, from `cryptography`, and AES-EAX (16-octet nonce, ``eax.py``).

The LibrePGP AEAD packet (RFC 4880bis-10 §5.16) runs the same loop with two
differences, its ``style``: the nonce of chunk i is the packet's starting IV with i
xored into its last 8 octets, and every chunk's associated data ends with i (8
octets, big-endian), the final tag's with i and then the total length.

Opening releases a chunk only once its tag has verified; the streaming opener also
holds back the last chunk until the final tag has verified. The bytes API allocates
its output once at the final size and uses two threads on large bodies.
The streaming sealer and opener (two reused buffers) are in ``chunkstream.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Final, Literal, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESOCB3

from ..errors import DecryptionError, UsageError
from .aead import GCMStreamSealer
from .record import Record

__all__ = [
    "PARALLEL_MIN_BYTES",
    "TAG_SIZE",
    "ChunkParams",
    "open_into",
    "opened_size",
    "seal_into",
    "sealed_size",
    "verify_final_tag",
]

TAG_SIZE: Final = 16
#: Bodies at least this large are sealed and opened by two threads: SEIPDv2 chunks
#: are independent and `cryptography` releases the GIL during bulk AEAD.
PARALLEL_MIN_BYTES: Final = 8 << 20
Mode = Literal["gcm", "ocb", "eax"]
Style = Literal["rfc9580", "librepgp"]
NONCE_SIZE: Final = {"gcm": 12, "ocb": 15, "eax": 16}
Buffer = bytes | bytearray | memoryview


class _AEAD(Protocol):
    def encrypt_into(
        self, nonce: bytes, data: Buffer, associated_data: bytes | None, buf: Buffer
    ) -> int: ...

    def decrypt_into(
        self, nonce: bytes, data: Buffer, associated_data: bytes | None, buf: Buffer
    ) -> int: ...


class ChunkParams(Record):
    """Everything the chunk loop needs.

    Attributes:
        mode: "gcm", "ocb" or "eax".
        key: the message key (16, 24 or 32 octets).
        nonce_prefix: style "rfc9580": nonce size - 8 octets (the HKDF-derived
            IV); style "librepgp": the whole starting IV (nonce size octets).
        chunk_size: plaintext octets per chunk.
        aad: associated data of every chunk (style "librepgp": before the index).
        style: "rfc9580" (SEIPDv2) or "librepgp" (the LibrePGP AEAD packet).
    """

    _fields = ("mode", "key", "nonce_prefix", "chunk_size", "aad", "style")
    __slots__ = _fields
    mode: Mode
    key: bytes
    nonce_prefix: bytes
    chunk_size: int
    aad: bytes
    style: Style

    def __init__(
        self,
        mode: Mode,
        key: bytes,
        nonce_prefix: bytes,
        chunk_size: int,
        aad: bytes,
        style: Style = "rfc9580",
    ) -> None:
        if mode not in NONCE_SIZE:
            raise UsageError(f"unknown chunked AEAD mode {mode!r}")
        if style not in ("rfc9580", "librepgp"):
            raise UsageError(f"unknown chunk style {style!r}")
        index_size = 8 if style == "rfc9580" else 0
        if len(nonce_prefix) + index_size != NONCE_SIZE[mode]:
            raise UsageError("nonce prefix has the wrong size for the mode")
        if chunk_size <= 0:
            raise UsageError("chunk size must be positive")
        setattr_ = object.__setattr__
        setattr_(self, "mode", mode)
        setattr_(self, "key", key)
        setattr_(self, "nonce_prefix", nonce_prefix)
        setattr_(self, "chunk_size", chunk_size)
        setattr_(self, "aad", aad)
        setattr_(self, "style", style)

    def __repr__(self) -> str:
        # The message key never appears in a repr.
        return (
            f"ChunkParams(mode={self.mode!r}, nonce_prefix={self.nonce_prefix!r}, "
            f"chunk_size={self.chunk_size!r}, aad={self.aad!r}, style={self.style!r})"
        )

    def cipher(self) -> _AEAD:
        """The AEAD object for this key (`cryptography`'s, or ``eax.AESEAX``)."""
        if self.mode == "gcm":
            return AESGCM(self.key)
        if self.mode == "ocb":
            return AESOCB3(self.key)
        from .eax import AESEAX  # LibrePGP only: kept out of every other start-up

        return AESEAX(self.key)

    def nonce(self, index: int) -> bytes:
        """The nonce of chunk ``index``."""
        if self.style == "rfc9580":
            return self.nonce_prefix + index.to_bytes(8, "big")
        iv = self.nonce_prefix
        low = int.from_bytes(iv[-8:], "big") ^ index
        return iv[:-8] + low.to_bytes(8, "big")

    def chunk_aad(self, index: int) -> bytes:
        """Associated data of chunk ``index``."""
        if self.style == "rfc9580":
            return self.aad
        return self.aad + index.to_bytes(8, "big")

    def final_aad(self, total: int, index: int) -> bytes:
        """Associated data of the final tag, whose nonce index is ``index`` (the
        number of chunks), after ``total`` plaintext octets."""
        return self.chunk_aad(index) + total.to_bytes(8, "big")


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


def _crypt_range(
    params: ChunkParams,
    src: memoryview,
    out: memoryview,
    pos: int,
    wpos: int,
    index: int,
    count: int,
    aead: _AEAD | None,
    opening: bool,
    done: Callable[[int], None] | None = None,
) -> None:
    """Seal (or, ``opening``, open) ``count`` chunks of ``src`` from ``pos`` into
    ``out`` at ``wpos``; the last may be short. Everything that differs between the
    two directions is chosen before the loop: the loop itself is the same work.
    ``done(index)`` follows each chunk that went through."""
    aead = aead or params.cipher()
    crypt = aead.decrypt_into if opening else aead.encrypt_into
    step = params.chunk_size + TAG_SIZE if opening else params.chunk_size
    grow = -TAG_SIZE if opening else TAG_SIZE
    aad = params.chunk_aad
    for _ in range(count):
        piece = src[pos : pos + step]
        n = len(piece) + grow
        crypt(params.nonce(index), piece, aad(index), out[wpos : wpos + n])
        if done is not None:
            done(index)
        pos += len(piece)
        wpos += n
        index += 1


def _split(
    work: Callable[[int, int, int, int, _AEAD | None], None],
    count: int,
    in_step: int,
    out_step: int,
    parallel: bool,
    aead: _AEAD,
) -> None:
    """Run ``work(pos, wpos, index, count, aead)`` over the chunks, in two threads
    when ``parallel`` (`cryptography` releases the GIL for bulk AEAD). The
    calling thread uses ``aead``; the second makes its own."""
    if not parallel or count < 2:
        work(0, 0, 0, count, aead)
        return
    half = count // 2
    errors: list[BaseException] = []

    def second() -> None:
        try:
            work(half * in_step, half * out_step, half, count - half, None)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=second, name="e2ee-mail-chunks")
    thread.start()
    try:
        work(0, 0, 0, half, aead)
    finally:
        thread.join()
    if errors:
        raise errors[0]


#: From this many octets of data in the first chunk on, a prefixed first chunk is
#: sealed through GCM's streaming interface instead of joined: 128 KiB is glibc's
#: mmap threshold, above which the joined copy is a fresh allocation whose page
#: faults cost ~10x the copy itself (4 MiB: ~12 ms vs ~1 ms here).
_STREAMED_FIRST_MIN: Final = 1 << 17


def _seal_first_streamed(
    params: ChunkParams, head: bytes, piece: memoryview, out: memoryview
) -> None:
    """Chunk 0 = ``head`` || ``piece`` sealed (GCM) straight into ``out`` (exactly
    their length + the tag); the same octets as the one-shot AEAD."""
    # No buffers of its own: update_into writes into ``out`` directly.
    sealer = GCMStreamSealer(params.key, params.nonce(0), params.chunk_aad(0), 0)
    # update_into wants room for len(data) + block size - 1; GCM writes len(data).
    n = sealer.update_into(head, out[: len(head) + 15])
    n += sealer.update_into(piece, out[n : n + len(piece) + 15])
    out[n : n + TAG_SIZE] = sealer.finalize()


def seal_into(
    params: ChunkParams,
    data: Buffer,
    out: memoryview,
    prefix: Buffer = b"",
    suffix: Buffer | Callable[[], Buffer] = b"",
    suffix_size: int | None = None,
) -> int:
    """Seal ``prefix`` || ``data`` || ``suffix`` into ``out`` (exactly
    :func:`sealed_size` octets).

    ``prefix`` and ``suffix`` (packets around a body, each at most one chunk) are
    joined to the first and last chunks without copying ``data`` as a whole.
    ``suffix`` may be a callable of ``suffix_size`` octets' result: it is called
    only once every chunk that holds no suffix octet is sealed, so that the
    caller can compute it meanwhile (a signature over ``data``). Bodies of
    :data:`PARALLEL_MIN_BYTES` and more are sealed by two threads.
    """
    src = memoryview(data).cast("B")
    size = params.chunk_size
    head = bytes(prefix)
    if callable(suffix):
        if suffix_size is None:
            raise UsageError("a late suffix needs its size")
        tail_size = suffix_size
    else:
        tail_size = len(suffix)
    if len(head) > size or tail_size > size:
        raise UsageError("prefix and suffix must be at most one chunk")
    length = len(head) + len(src) + tail_size
    need = sealed_size(length, size)
    if len(out) < need:
        raise UsageError("output buffer is too small")
    aead = params.cipher()
    if not tail_size:
        _seal_body(params, head, src, out, aead)
    else:
        # The chunks wholly within prefix || data are sealed from the caller's
        # buffer; the rest (less than a chunk of data, then the suffix) is joined.
        full = (len(head) + len(src)) // size
        cut = max(full * size - len(head), 0)
        if full:
            _seal_body(params, head, src[:cut], out, aead)
        made = suffix() if callable(suffix) else suffix
        if len(made) != tail_size:
            raise UsageError("the suffix does not have the announced size")
        rest = (b"" if full else head) + bytes(src[cut:]) + bytes(made)
        _crypt_range(
            params,
            memoryview(rest),
            out,
            0,
            full * (size + TAG_SIZE),
            full,
            -(-len(rest) // size),
            aead,
            False,
        )
    wpos = need - TAG_SIZE
    count = _chunks(length, size)
    aead.encrypt_into(
        params.nonce(count),
        b"",
        params.final_aad(length, count),
        out[wpos : wpos + TAG_SIZE],
    )
    return need


def _seal_body(
    params: ChunkParams, head: bytes, src: memoryview, out: memoryview, aead: _AEAD
) -> None:
    """Seal the chunks of ``head`` || ``src`` (no final tag) into ``out``."""
    size = params.chunk_size
    pos = wpos = index = 0
    if head:
        piece = src[: size - len(head)]
        first = len(head) + len(piece)
        if params.mode == "gcm" and len(piece) >= _STREAMED_FIRST_MIN:
            _seal_first_streamed(params, head, piece, out[: first + TAG_SIZE])
        else:
            aead.encrypt_into(
                params.nonce(0),
                head + bytes(piece),
                params.chunk_aad(0),
                out[: first + TAG_SIZE],
            )
        pos = len(piece)
        wpos = first + TAG_SIZE
        index = 1
    rest = src[pos:]
    body = out[wpos:]
    _split(
        lambda p, w, i, n, a: _crypt_range(
            params, rest, body, p, w, index + i, n, a, False
        ),
        -(-len(rest) // size),
        size,
        size + TAG_SIZE,
        len(rest) >= PARALLEL_MIN_BYTES,
        aead,
    )


#: ``follow(plaintext, offset)``: one authenticated chunk, where it begins.
Follow = Callable[[memoryview, int], None]


def open_into(
    params: ChunkParams, data: Buffer, out: memoryview, follow: Follow | None = None
) -> int:
    """Open all of ``data`` into ``out`` (at least :func:`opened_size` octets).

    Bodies of :data:`PARALLEL_MIN_BYTES` and more are opened by two threads. On any
    failure ``out`` is wiped and DecryptionError raised. ``follow`` sees each
    chunk's plaintext in order, once its tag has verified (a hash of the content
    runs as it opens); the final tag is checked after the last.
    """
    src = memoryview(data).cast("B")
    total = opened_size(len(src), params.chunk_size)
    if len(out) < total:
        raise UsageError("output buffer is too small")
    full = params.chunk_size + TAG_SIZE
    body = len(src) - TAG_SIZE
    chunks = src[:body]
    aead = params.cipher()
    count = -(-body // full)
    step = params.chunk_size

    def opened(index: int) -> None:
        assert follow is not None
        follow(out[index * step : min((index + 1) * step, total)], index * step)

    def run(done: Callable[[int], None] | None) -> None:
        _split(
            lambda p, w, i, n, a: _crypt_range(
                params, chunks, out, p, w, i, n, a, True, done
            ),
            count,
            full,
            step,
            body >= PARALLEL_MIN_BYTES,
            aead,
        )

    def one(index: int, cipher: _AEAD) -> None:
        _crypt_range(
            params, chunks, out, index * full, index * step, index, 1, cipher, True
        )

    try:
        if follow is not None and body >= PARALLEL_MIN_BYTES and count > 1:
            _open_following(one, count, opened, (aead, params.cipher()))
        else:
            run(None if follow is None else opened)
        aead.decrypt_into(
            params.nonce(count),
            src[body:],
            params.final_aad(total, count),
            bytearray(),
        )
    except (InvalidTag, ValueError):
        out[:total] = bytes(total)
        raise DecryptionError() from None
    return total


def _open_following(
    one: Callable[[int, _AEAD], None],
    count: int,
    opened: Callable[[int], None],
    ciphers: tuple[_AEAD, _AEAD],
) -> None:
    """Open chunk 0 here and the others in order in a second thread, while this
    thread hands each chunk to ``opened`` in order as soon as it has verified:
    following the content (a hash) overlaps opening it, with no more threads
    than the plain two-thread opening. A chunk whose tag failed is never handed
    on: the failure is recorded before the waits are released."""
    ready = [threading.Event() for _ in range(count)]
    errors: list[BaseException] = []
    halted: list[bool] = []

    def opener() -> None:
        try:
            for index in range(1, count):
                if halted:
                    return
                one(index, ciphers[1])
                ready[index].set()
        except BaseException as exc:
            errors.append(exc)
            for event in ready:  # wake the follower: it stops at the failure
                event.set()

    thread = threading.Thread(target=opener, name="e2ee-mail-open")
    thread.start()
    try:
        one(0, ciphers[0])
        opened(0)
        for index in range(1, count):
            ready[index].wait()
            if errors:
                break
            opened(index)
    except BaseException:
        halted.append(True)
        raise
    finally:
        thread.join()
    if errors:
        raise errors[0]


def verify_final_tag(params: ChunkParams, sealed_size: int, final_tag: Buffer) -> None:
    """Verify only the final tag of a body of ``sealed_size`` octets (chunks, their
    tags and the final tag) that ends with ``final_tag``.

    The final tag authenticates no plaintext, only the total length, which the body
    length gives: verifying it proves the key in O(1), whatever the body's size. It
    says nothing about the chunks.

    Raises:
        DecryptionError: the tag does not verify under this key, or no chunk layout
            has this length (truncated).
    """
    total = opened_size(sealed_size, params.chunk_size)
    if len(final_tag) != TAG_SIZE:
        raise DecryptionError()
    count = _chunks(sealed_size - TAG_SIZE, params.chunk_size + TAG_SIZE)
    try:
        params.cipher().decrypt_into(
            params.nonce(count), final_tag, params.final_aad(total, count), bytearray()
        )
    except (InvalidTag, ValueError):
        raise DecryptionError() from None
