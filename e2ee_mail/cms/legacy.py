"""Legacy CMS EnvelopedData content encryption: AES-CBC with PKCS#7 padding.

RFC 5652 §6.3 (padding) and RFC 3565 §4 (AES-CBC, the IV as the parameters). This
content has NO integrity protection: anyone can alter ciphertext blocks undetected
(the EFAIL malleability gadgets). It is fenced off here and reached only when the
caller opts in (Policy.allow_unauthenticated to open; cipher="aes-256-cbc" to write,
for clients that predate S/MIME 4.0). Padding errors are reported as the same fixed
DecryptionError as every other failure after a secret-key operation.
"""

from __future__ import annotations

from typing import BinaryIO, Final

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ..errors import DecryptionError

__all__ = ["BLOCK_SIZE", "CBCDecryptor", "CBCEncryptor", "padded_length"]

BLOCK_SIZE: Final = 16


def padded_length(n: int) -> int:
    """Ciphertext length for ``n`` plaintext bytes (PKCS#7 always adds 1..16)."""
    return (n // BLOCK_SIZE + 1) * BLOCK_SIZE


class CBCEncryptor:
    """AES-CBC + PKCS#7 padding, incremental."""

    def __init__(self, key: bytes, iv: bytes) -> None:
        self._pad = padding.PKCS7(128).padder()
        self._ctx = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()

    def update(self, data: bytes | bytearray | memoryview) -> bytes:
        """Encrypt more input; returns whole blocks only."""
        return self._ctx.update(self._pad.update(bytes(data)))

    def finalize(self) -> bytes:
        """The last block(s), padding included."""
        return self._ctx.update(self._pad.finalize()) + self._ctx.finalize()


class CBCDecryptor:
    """AES-CBC decryption; writes to a spool and checks the padding at the end.

    The last block is held back so that the padding can be stripped.
    """

    def __init__(self, key: bytes, iv: bytes) -> None:
        self._ctx = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        self._held = b""
        self._total = 0

    def update(self, data: bytes | bytearray | memoryview, dst: BinaryIO) -> None:
        """Decrypt ``data``, writing all but the last block to ``dst``."""
        out = self._held + self._ctx.update(bytes(data))
        self._total += len(data)
        if len(out) > BLOCK_SIZE:
            dst.write(out[:-BLOCK_SIZE])
            out = out[-BLOCK_SIZE:]
        self._held = out

    def finalize(self, dst: BinaryIO) -> None:
        """Strip the padding and write the rest; bad padding is a DecryptionError."""
        if self._total == 0 or self._total % BLOCK_SIZE:
            raise DecryptionError()
        last = self._held + self._ctx.finalize()
        unpad = padding.PKCS7(128).unpadder()
        try:
            dst.write(unpad.update(last) + unpad.finalize())
        except ValueError:
            raise DecryptionError() from None
