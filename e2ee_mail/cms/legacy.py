"""Legacy CMS EnvelopedData content encryption: CBC with PKCS#7 padding.

RFC 5652 §6.3 (padding), RFC 3565 §4 (AES-128/192/256-CBC) and RFC 3370 §5.1
(des-ede3-cbc, the default of ``openssl smime`` and of many older clients), the IV
as the parameters. This content has NO integrity protection: CBC without a MAC lets
anyone alter ciphertext blocks undetected (the EFAIL malleability gadgets), so it
is fenced off here and reached only when the caller opts in
(Policy.allow_unauthenticated to open; cipher="aes-256-cbc" to write, for clients
that predate S/MIME 4.0). We write AES-256-CBC only; the other ciphers are read so
that old archives open. Padding errors are reported as the same fixed
DecryptionError as a wrong content key and every other failure after a secret-key
operation: a distinct message would be a padding oracle.

RC2 (RFC 3370 §5.2) and single DES are refused outright, opt-in or not: DES keys
(56 bits) are found by exhaustive search, and RC2 was mostly used with the 40-bit
keys of the old export rules, found faster still.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO, Final, NamedTuple

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import (
    BlockCipherAlgorithm,
    Cipher,
    algorithms,
    modes,
)

from ..errors import DecryptionError
from . import oids

__all__ = [
    "BLOCK_SIZE",
    "CIPHERS",
    "REFUSED",
    "CBCCipher",
    "CBCDecryptor",
    "CBCEncryptor",
    "padded_length",
]

#: AES's block size, that of everything we write.
BLOCK_SIZE: Final = 16


class CBCCipher(NamedTuple):
    """A block cipher EnvelopedData may name: what builds it, its key and block
    sizes in octets (the IV is one block)."""

    algorithm: Callable[[bytes], BlockCipherAlgorithm]
    key_size: int
    block_size: int


#: The content ciphers read with the opt-in, by OID.
CIPHERS: Final = {
    oids.AES128_CBC: CBCCipher(algorithms.AES, 16, 16),
    oids.AES192_CBC: CBCCipher(algorithms.AES, 24, 16),
    oids.AES256_CBC: CBCCipher(algorithms.AES, 32, 16),
    # Three-key triple DES (RFC 3370 §5.1): 24 key octets whose parity bits are
    # ignored, a 64-bit block.
    oids.DES_EDE3_CBC: CBCCipher(TripleDES, 24, 8),
}
#: Content ciphers refused whatever the policy, by OID: why, naming them.
REFUSED: Final = {
    oids.RC2_CBC: "RC2 is obsolete, its keys mostly 40-bit, found by exhaustive search",
    oids.DES_CBC: "single DES has 56-bit keys, found by exhaustive search",
}


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
    """CBC decryption with one of :data:`CIPHERS` (by OID); writes to a spool and
    checks the padding at the end.

    The last block is held back so that the padding can be stripped.
    """

    def __init__(self, key: bytes, iv: bytes, algorithm: str) -> None:
        spec = CIPHERS[algorithm]
        # The key comes out of an unwrap: a wrong size is a failed decryption.
        if len(key) != spec.key_size or len(iv) != spec.block_size:
            raise DecryptionError()
        self._block = spec.block_size
        self._ctx = Cipher(spec.algorithm(key), modes.CBC(iv)).decryptor()
        self._held = b""
        self._total = 0

    def update(self, data: bytes | bytearray | memoryview, dst: BinaryIO) -> None:
        """Decrypt ``data``, writing all but the last block to ``dst``."""
        out = self._held + self._ctx.update(bytes(data))
        self._total += len(data)
        if len(out) > self._block:
            dst.write(out[: -self._block])
            out = out[-self._block :]
        self._held = out

    def finalize(self, dst: BinaryIO) -> None:
        """Strip the padding and write the rest; bad padding is a DecryptionError.

        The error is the same fixed DecryptionError whatever went wrong: a wrong key
        almost always shows here as bad padding, and telling the two apart, or one
        padding fault from another, would make this a padding oracle.
        """
        if self._total == 0 or self._total % self._block:
            raise DecryptionError()
        last = self._held + self._ctx.finalize()
        unpad = padding.PKCS7(self._block * 8).unpadder()
        try:
            dst.write(unpad.update(last) + unpad.finalize())
        except ValueError:
            raise DecryptionError() from None
