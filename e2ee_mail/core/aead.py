"""AES-256-GCM over whole bodies: one-shot into preallocated buffers, and streaming.

This is the one place that loops over body bytes for single-tag formats (CMS). The
bytes API writes into one output allocated at its final size and streams reuse their
buffers (``encrypt_into`` / ``update_into``): docs/ARCHITECTURE.md says why.

Decryption through :class:`GCMStreamOpener` writes unauthenticated plaintext to ``dst``;
callers must hand ``dst`` only to a spool (temporary file or private buffer) and release
it after :meth:`GCMStreamOpener.finalize` succeeds.
"""

from __future__ import annotations

from typing import Any, BinaryIO, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import DecryptionError, FormatError, UnsupportedError

__all__ = [
    "GCM_NONCE_SIZE",
    "GCM_TAG_SIZE",
    "KEY_SIZE",
    "STREAM_BUFFER_SIZE",
    "GCMStreamOpener",
    "GCMStreamSealer",
    "gcm_open",
    "gcm_open_into",
    "gcm_seal",
    "gcm_seal_into",
    "pump",
]

KEY_SIZE: Final = 32
GCM_NONCE_SIZE: Final = 12
GCM_TAG_SIZE: Final = 16
#: Read size for streams: 1 MiB reaches about 0.9x of AES-GCM's limit.
STREAM_BUFFER_SIZE: Final = 1 << 20
_BLOCK: Final = 16

Buffer = bytes | bytearray | memoryview
_AES_KEY_SIZES: Final = (16, 24, 32)


def _check_nonce(nonce: Buffer) -> None:
    # GCM takes other nonce sizes, but every format we speak uses 12 bytes (RFC 5084
    # §3.2, RFC 9580 §5.13.2); anything else is refused before it reaches GHASH.
    if len(nonce) != GCM_NONCE_SIZE:
        raise UnsupportedError(
            f"AES-GCM nonce of {len(nonce)} bytes: only {GCM_NONCE_SIZE} is supported"
        )


def _check_open(key: bytes, nonce: Buffer) -> None:
    _check_nonce(nonce)
    # The key comes out of an unwrap: a wrong size is a failed decryption, not a
    # ValueError from the primitive.
    if len(key) not in _AES_KEY_SIZES:
        raise DecryptionError()


def gcm_seal(key: bytes, nonce: bytes, data: Buffer, aad: bytes | None = None) -> bytes:
    """Return ciphertext || 16-byte tag."""
    _check_nonce(nonce)
    return AESGCM(key).encrypt(nonce, data, aad)


def gcm_seal_into(
    key: bytes, nonce: bytes, data: Buffer, out: memoryview, aad: bytes | None = None
) -> None:
    """Write ciphertext || tag into ``out`` (exactly ``len(data) + 16`` bytes)."""
    _check_nonce(nonce)
    AESGCM(key).encrypt_into(nonce, data, aad, out)


def gcm_open(key: bytes, nonce: bytes, data: Buffer, aad: bytes | None = None) -> bytes:
    """Open ciphertext || tag; a wrong tag is a DecryptionError."""
    _check_open(key, nonce)
    try:
        return AESGCM(key).decrypt(nonce, data, aad)
    except InvalidTag:
        raise DecryptionError() from None


def gcm_open_into(
    key: bytes, nonce: bytes, data: Buffer, out: memoryview, aad: bytes | None = None
) -> None:
    """Open ciphertext || tag into ``out`` (``len(data) - 16`` bytes).

    On failure ``out`` is wiped before the DecryptionError is raised.
    """
    _check_open(key, nonce)
    try:
        AESGCM(key).decrypt_into(nonce, data, aad, out)
    except InvalidTag:
        out[:] = bytes(len(out))
        raise DecryptionError() from None


class _Streaming:
    """Shared set-up and buffer handling of the streaming sealer and opener."""

    __slots__ = ("_ctx", "_in", "_out")
    _ctx: Any

    def __init__(self, ctx: Any, aad: bytes | None, buffer_size: int) -> None:
        if aad:
            ctx.authenticate_additional_data(aad)
        self._ctx = ctx
        self._in = bytearray(buffer_size)
        self._out = bytearray(buffer_size + _BLOCK - 1)

    def update(self, data: Buffer, dst: BinaryIO) -> None:
        """Transform ``data`` and write the result to ``dst``."""
        view = memoryview(data)
        step = len(self._in)
        for start in range(0, len(view), step):
            piece = view[start : start + step]
            n = self._ctx.update_into(piece, self._out)
            dst.write(memoryview(self._out)[:n])

    def update_into(self, data: Buffer, out: bytearray | memoryview) -> int:
        """Transform ``data`` straight into ``out``, which must hold at least
        ``len(data) + 15`` bytes (`cryptography`'s rule); returns the bytes written.
        Lets a bytes API fill its one final-size buffer without a copy."""
        written: int = self._ctx.update_into(data, out)
        return written

    def pump(self, src: BinaryIO, dst: BinaryIO, length: int | None) -> int:
        """Transform ``length`` bytes (or all, when None) of ``src`` into ``dst``."""
        return pump(self._ctx, src, dst, length, self._in, self._out)


class GCMStreamSealer(_Streaming):
    """Streaming AES-256-GCM encryption over reused buffers."""

    __slots__ = ()

    def __init__(
        self,
        key: bytes,
        nonce: bytes,
        aad: bytes | None = None,
        buffer_size: int = STREAM_BUFFER_SIZE,
    ) -> None:
        _check_nonce(nonce)
        super().__init__(
            Cipher(algorithms.AES(key), modes.GCM(nonce)).encryptor(), aad, buffer_size
        )

    def finalize(self) -> bytes:
        """Finish and return the 16-byte tag."""
        self._ctx.finalize()
        tag: bytes = self._ctx.tag
        return tag


class GCMStreamOpener(_Streaming):
    """Streaming AES-256-GCM decryption; output is unauthenticated until finalize."""

    __slots__ = ()

    def __init__(
        self,
        key: bytes,
        nonce: bytes,
        aad: bytes | None = None,
        buffer_size: int = STREAM_BUFFER_SIZE,
    ) -> None:
        _check_open(key, nonce)
        # The tag is supplied at finalize, which checks its length.
        super().__init__(
            Cipher(algorithms.AES(key), modes.GCM(nonce)).decryptor(), aad, buffer_size
        )

    def finalize(self, tag: bytes) -> None:
        """Check the tag; a wrong or short tag is a DecryptionError."""
        if len(tag) != GCM_TAG_SIZE:
            raise DecryptionError()
        try:
            self._ctx.finalize_with_tag(tag)
        except InvalidTag:
            raise DecryptionError() from None


def pump(
    ctx: object,
    src: BinaryIO,
    dst: BinaryIO,
    length: int | None,
    in_buf: bytearray,
    out_buf: bytearray,
) -> int:
    """Run ``ctx.update_into`` over ``src`` into ``dst`` with reused buffers.

    Args:
        ctx: a `cryptography` CipherContext (GCM, CBC, CFB ...).
        src: readable binary stream.
        dst: writable binary stream.
        length: exact number of bytes to read, or None for all until EOF.
        in_buf: reused read buffer.
        out_buf: reused output buffer, at least ``len(in_buf) + 15`` bytes.

    Returns:
        The number of input bytes consumed.

    Raises:
        FormatError: ``src`` ended before ``length`` bytes were read.
    """
    update_into = ctx.update_into  # type: ignore[attr-defined]
    in_view = memoryview(in_buf)
    out_view = memoryview(out_buf)
    readinto = src.readinto  # type: ignore[attr-defined]
    total = 0
    while length is None or total < length:
        want = len(in_buf) if length is None else min(len(in_buf), length - total)
        got = readinto(in_view[:want])
        if not got:
            if length is not None:
                raise FormatError("the message is truncated: the body ended early")
            break
        n = update_into(in_view[:got], out_buf)
        dst.write(out_view[:n])
        total += got
    return total
