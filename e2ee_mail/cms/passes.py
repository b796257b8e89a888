"""Opening a CMS message from a stream: two passes over the sealed body.

AuthEnvelopedData (RFC 5083 §2.1) authenticates the whole body with one GCM tag
(RFC 5084 §3.2) that comes after it, so nothing may be released before the body
has been read to its end. The body is read twice: a first pass decrypts and drops
the plaintext to check the tag, the second decrypts into ``dst`` and checks the tag
again. A seekable source is read twice where it is; any other (a pipe, PEM, a MIME
part) is spooled as it arrives, *as the ciphertext it is*: the spool holds the
message's own octets, sealed under the content key, which never leaves memory. So
no plaintext rests on disk whatever stops the process (a spool is also nameless:
SIGKILL leaves none). Legacy EnvelopedData (AES-CBC or 3DES-CBC, RFC 5652 §6.3,
opened only by opt-in) takes the same two passes, its padding checked by the first.

Large bodies overlap reading, decrypting and writing on threads (core/pipeline.py);
reads get a thread of their own only from a seekable source or our spool, writes
only into a regular file, so that no thread can block for good.

Left out: authAttrs (they follow the body, too late for GCM's associated data: the
bytes API opens such messages).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Sequence
from typing import BinaryIO, Final

from .. import _io
from ..core import aead, pipeline
from ..errors import ASN1Error, DecryptionError, FormatError, UnsupportedError
from ..model import SecretKey
from ..policy import Policy
from . import common, legacy, pem
from .framing import EnvelopeReader, Trailer

__all__ = ["decrypt_stream"]


def _stream_source(src: BinaryIO) -> BinaryIO:
    head = src.read(64)
    stream: BinaryIO = _io.PrefixedReader(head, src)  # type: ignore[assignment]
    if pem.is_pem(head):
        return pem.PemReader(stream)  # type: ignore[return-value]
    return stream


def decrypt_stream(
    src: BinaryIO,
    dst: BinaryIO,
    keys: Sequence[SecretKey],
    *,
    policy: Policy,
    spool_dir: str | None = None,
) -> None:
    """Open a CMS message from ``src`` into ``dst`` in bounded memory, in two
    passes over its body (see the module's docstring).

    Args:
        spool_dir: where the spool goes (default: the system temporary directory).

    Raises:
        DecryptionError: the tag failed (nothing was written to ``dst``), or
            ``src`` (or the spool) changed between the two passes: then ``dst``
            holds plaintext of the altered octets, which only a reader that
            ignores the error could take for the message (the CLI writes to a
            temporary file that it removes).
    """
    source = _stream_source(src)
    seekable = _seekable(source)
    start = source.tell() if seekable else 0
    reader = common.reader(source, policy)
    header = reader.read_header()
    authenticated, nonce, size, algorithm = common.content_params(header, policy)
    ceks, _ = common.content_keys(header, keys, policy, size)
    with contextlib.ExitStack() as stack:
        first: _Opening | None = None
        if seekable:
            # Frame the message first (skipping the body: seeks), then read the body.
            ranges: list[tuple[int, int]] = []
            for length in reader.segments():
                ranges.append((start + reader.pos, length))
                reader.skip(length)
            trailer = reader.read_trailer(authenticated=authenticated)
            _check_trailer(trailer, authenticated)
            end = source.tell()
            body = _Body(source, ranges)
            buffers = pipeline.Buffers(_buffer_size(body.size))
        else:
            spool = stack.enter_context(_io.spool(spool_dir))
            segments = _Segments(reader)
            # The segments' sizes come as they arrive: buffers for the first one
            # (64 KiB at least; build.py writes 1 MiB segments).
            buffers = pipeline.Buffers(_buffer_size(max(segments.first, _HINT)))
            first = _Opening(ceks[0], nonce, algorithm, authenticated)
            first.keep(segments, spool, buffers)
            trailer = reader.read_trailer(authenticated=authenticated)
            _check_trailer(trailer, authenticated)
            body = _Body(spool, [(0, segments.total)])
            if buffers.size < _buffer_size(segments.total):
                buffers = pipeline.Buffers(_buffer_size(segments.total))
        cek = _first_that_opens(
            first, ceks, nonce, authenticated, trailer, body, buffers, algorithm
        )
        if cek is None:
            raise DecryptionError()
        second = _Opening(cek, nonce, algorithm, authenticated)
        second.update(body, dst, buffers)
        second.finalize(trailer, dst)
        if seekable:
            source.seek(end)


def _seekable(stream: BinaryIO) -> bool:
    seekable = getattr(stream, "seekable", None)
    try:
        return bool(seekable and seekable())
    except (OSError, ValueError):
        return False


def _regular_file(stream: BinaryIO | None) -> bool:
    """Whether ``stream`` is a regular file (a write to it never blocks for long)."""
    # No fileno() at all, or io.UnsupportedOperation (an OSError): not one.
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)  # type: ignore[union-attr]
    except (AttributeError, OSError, ValueError):
        return False


def _first_that_opens(
    first: _Opening | None,
    ceks: list[bytes],
    nonce: bytes,
    authenticated: bool,
    trailer: Trailer,
    body: _Body,
    buffers: pipeline.Buffers,
    algorithm: str,
) -> bytes | None:
    """The content key whose tag (or CBC padding) verifies, or None.

    ``first``, when given, has already read the body once with ``ceks[0]``; every
    other candidate (keys loaded without certificates) reads it from ``body``.
    """
    for i, cek in enumerate(ceks):
        opening = first if i == 0 and first is not None else None
        if opening is None:
            opening = _Opening(cek, nonce, algorithm, authenticated)
            opening.update(body, None, buffers)
        try:
            opening.finalize(trailer, None)
        except DecryptionError:
            continue
        return cek
    return None


class _Body:
    """Where the sealed body is read from: ``(offset, length)`` ranges of ``source``
    (offset -1: read on from where it is)."""

    def __init__(
        self, source: BinaryIO, ranges: list[tuple[int, int]], *, threads: bool = True
    ) -> None:
        self.source = source
        self.ranges = ranges
        self.size = sum(n for _, n in ranges)
        # Reads on a thread of their own only where they cannot block for long: a
        # seekable source or our own spool, never a pipe (see core/pipeline.py).
        self.threads = threads and self.size >= _OVERLAP_MIN_BYTES and _cores() > 1


def _cores() -> int:
    """The CPUs this process may run on: with one, threads only add hand-overs."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return len(affinity(0))
    return os.cpu_count() or 1


def _buffer_size(body_size: int) -> int:
    """Buffers no larger than the body, and a quarter of the usual size below the
    threads' threshold: a smaller body pays more for first touching 1 MiB buffers
    (several passes share them, but each first touch costs about as much as its
    decryption) than the larger ones save it in calls (about a tenth)."""
    cap = aead.STREAM_BUFFER_SIZE
    if body_size < _OVERLAP_MIN_BYTES:
        cap = _SMALL_BUFFER_SIZE
    return max(1, min(body_size, cap))


#: The least body size a stream's first segment is taken to announce.
_HINT: Final = 64 << 10
#: Buffers for bodies too small for the threads.
_SMALL_BUFFER_SIZE: Final = 256 << 10
#: Bodies from this size on overlap reading, decrypting and writing on threads;
#: below it, the threads and the buffers they need in flight (``DEPTH`` of each
#: kind, first touched) cost more than the overlap saves.
_OVERLAP_MIN_BYTES: Final = 8 << 20


class _Discard:
    """Where the plaintext of a first pass goes: nowhere."""

    def write(self, data: bytes | bytearray | memoryview) -> int:
        return len(data)


_DISCARD: Final = _Discard()


class _Segments:
    """The encrypted content of a stream read as one stream: each segment's octets
    in turn (BER's constructed form puts a header between them), each segment
    reported consumed to ``reader`` as it ends."""

    def __init__(self, reader: EnvelopeReader) -> None:
        self._reader = reader
        self._lengths = reader.segments()
        self._left = self.first = next(self._lengths, 0)
        self._current: int | None = self.first
        self.total = 0
        #: Where to pretend the body ends (None: where it does).
        self.pause_at: int | None = None

    def readinto(self, buf: bytearray | memoryview) -> int:
        view = memoryview(buf)
        if self.pause_at is not None:
            view = view[: max(0, self.pause_at - self.total)]
            if not view:
                return 0
        while not self._left:
            if self._current is None:
                return 0
            self._reader.advance(self._current)
            self._current = self._left = next(self._lengths, None)  # type: ignore[assignment]
            if self._current is None:
                return 0
        n: int = self._reader.src.readinto(view[: min(len(view), self._left)])  # type: ignore[attr-defined]
        if not n:
            raise FormatError("the CMS message is truncated")
        self._left -= n
        self.total += n
        return n


class _Opening:
    """One pass of one content key over the body: GCM, or opted-in legacy CBC
    (``algorithm``: the content cipher's OID)."""

    def __init__(
        self, cek: bytes, nonce: bytes, algorithm: str, authenticated: bool
    ) -> None:
        self._gcm: aead.GCMStreamOpener | None = None
        self._cbc: legacy.CBCDecryptor | None = None
        if authenticated:
            # No buffers of its own: core/pipeline.py brings the caller's.
            self._gcm = aead.GCMStreamOpener(cek, nonce, buffer_size=0)
        else:
            self._cbc = legacy.CBCDecryptor(cek, nonce, algorithm)

    def keep(
        self, segments: _Segments, spool: BinaryIO, buffers: pipeline.Buffers
    ) -> None:
        """The first pass over a stream: decrypt (the plaintext dropped) and copy
        every octet read, the ciphertext, into ``spool``.

        The spool is written on a thread of its own once the body has proved large
        (its size is not known before its end): the first :data:`_OVERLAP_MIN_BYTES`
        go on this thread.
        """

        def check(data: memoryview, out: bytearray) -> int:
            # The plaintext goes into a scratch buffer and is dropped; the spool
            # gets the buffer read, the ciphertext (write_input: no copy of it).
            if self._gcm is not None:
                self._gcm.update_into(data, out)
            else:
                assert self._cbc is not None
                self._cbc.update(data, _DISCARD)  # type: ignore[arg-type]
            return len(data)

        overlap = _cores() > 1
        for pause_at, write_thread in ((_OVERLAP_MIN_BYTES, False), (None, overlap)):
            segments.pause_at = pause_at
            pipeline.pump(
                check,
                segments,  # type: ignore[arg-type]
                spool,
                [(None, None)],
                buffers=buffers,
                read_thread=False,  # a pipe may block for good
                write_thread=write_thread,
                write_input=True,
            )
            if segments.total < _OVERLAP_MIN_BYTES:
                return

    def update(
        self, body: _Body, dst: BinaryIO | None, buffers: pipeline.Buffers
    ) -> None:
        """Decrypt ``body`` into ``dst`` (None: check only, the plaintext dropped)."""
        if self._gcm is not None:
            pipeline.pump(
                self._gcm.update_into,
                body.source,
                dst,
                [(None if o < 0 else o, n) for o, n in body.ranges],
                buffers=buffers,
                read_thread=body.threads,
                write_thread=body.threads and _regular_file(dst),
            )
            return
        assert self._cbc is not None
        sink: BinaryIO = dst if dst is not None else _DISCARD  # type: ignore[assignment]
        for offset, length in body.ranges:
            if offset >= 0:
                body.source.seek(offset)
            left = length
            while left:
                chunk = body.source.read(min(left, 1 << 20))
                if not chunk:
                    raise FormatError("the CMS message is truncated")
                self._cbc.update(chunk, sink)
                left -= len(chunk)

    def finalize(self, trailer: Trailer, dst: BinaryIO | None) -> None:
        """Check the tag (or the CBC padding, writing the last block to ``dst``)."""
        if self._gcm is not None:
            self._gcm.finalize(trailer.mac or b"")
        else:
            assert self._cbc is not None
            sink: BinaryIO = dst if dst is not None else _DISCARD  # type: ignore[assignment]
            self._cbc.finalize(sink)


def _check_trailer(trailer: Trailer, authenticated: bool) -> None:
    if not authenticated:
        return
    # authAttrs come after the content, so a stream cannot feed them to GCM before
    # the body; messages with authAttrs are opened by the bytes API.
    if trailer.auth_attrs is not None:
        raise UnsupportedError(
            "AuthEnvelopedData with authAttrs cannot be streamed: use decrypt()"
        )
    if trailer.mac is None or len(trailer.mac) != aead.GCM_TAG_SIZE:
        raise ASN1Error("AuthEnvelopedData mac must be exactly 16 bytes")
