"""The SEIPDv1 bulk cipher: AES CFB with a random prefix and the SHA-1 MDC.

Implements the encryption of RFC 9580 §5.13.1 (Version 1 Symmetrically Encrypted and
Integrity Protected Data): one CFB pass with an all-zero IV over

    prefix (16 random octets + a copy of the last two) || plaintext || 0xD3 0x14 || MDC

where MDC = SHA-1(prefix || plaintext || 0xD3 0x14). This module sees only the
ciphertext that follows the packet's version octet; packet framing is the caller's.

Security properties kept here:

* No plaintext is released before the MDC verifies: :func:`cfb_open_into` wipes its
  output on failure; :class:`CFBStreamOpener` hands out plaintext that its caller
  must hold back (openpgp/seipdv1.py spools it) until :meth:`~CFBStreamOpener.finalize`
  has checked the MDC.
* The "quick check" (the two repeated prefix octets) is never used to reject anything
  (RFC 9580 §13.4: it would be a decryption oracle); every failure is the same
  DecryptionError, raised only after the whole body has been processed.

Sealing is AES only (the key length picks AES-128/192/256). Opening also accepts the
pre-AES ciphers old archives hold (Camellia, CAST5, TripleDES, Blowfish, IDEA, from
``cryptography``'s decrepit module; 8-octet blocks make a 10-octet prefix): the MDC
still authenticates them. Not provided: Twofish, and the MDC-less SED packet (tag 9),
which the library refuses elsewhere.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import BinaryIO, Final

from cryptography.hazmat.decrepit.ciphers.modes import CFB
from cryptography.hazmat.primitives.ciphers import (
    BlockCipherAlgorithm,
    Cipher,
    algorithms,
)

from ..errors import DecryptionError, UsageError
from . import random

__all__ = [
    "MDC_TRAILER_SIZE",
    "OVERHEAD",
    "PREFIX_SIZE",
    "CFBStreamOpener",
    "CFBStreamSealer",
    "cfb_open",
    "cfb_open_into",
    "cfb_seal",
    "cfb_seal_into",
    "opened_size",
    "seal_stream",
    "sealed_size",
]

_BLOCK: Final = 16
_ZERO_IV: Final = bytes(_BLOCK)
#: Random block plus the two repeated octets (RFC 9580 §5.13.1).
PREFIX_SIZE: Final = _BLOCK + 2
#: The MDC "packet" header 0xD3 0x14 (tag 19, length 20) and the SHA-1 digest.
_MDC_HEADER: Final = b"\xd3\x14"
MDC_TRAILER_SIZE: Final = 2 + 20
OVERHEAD: Final = PREFIX_SIZE + MDC_TRAILER_SIZE
#: Read size for the stream functions: about 1 MiB keeps the cipher near its limit.
STREAM_BUFFER_SIZE: Final = 1 << 20

Buffer = bytes | bytearray | memoryview


def _cipher(key: bytes) -> Cipher[CFB]:
    if len(key) not in (16, 24, 32):
        raise UsageError("SEIPDv1 key must be an AES-128/192/256 key")
    return Cipher(algorithms.AES(bytes(key)), CFB(_ZERO_IV))


#: Ciphers that may be *opened* (old archives): name -> (key sizes, block size).
#: Sealing is AES only.
OPEN_ALGORITHMS: Final = {
    "aes": ((16, 24, 32), 16),
    "camellia": ((16, 24, 32), 16),
    "cast5": ((16,), 8),
    "3des": ((24,), 8),
    "blowfish": ((16,), 8),
    "idea": ((16,), 8),
}


def _opening_cipher(key: bytes, algorithm: str) -> tuple[Cipher[CFB], int]:
    """(cipher with an all-zero IV, block size) for opening with ``algorithm``."""
    if algorithm == "aes":
        return _cipher(key), _BLOCK
    spec = OPEN_ALGORITHMS.get(algorithm)
    if spec is None or len(key) not in spec[0]:
        raise UsageError(f"cannot open SEIPDv1 with {algorithm} and this key size")
    from cryptography.hazmat.decrepit.ciphers import algorithms as old

    classes: dict[str, type[BlockCipherAlgorithm]] = {
        "camellia": old.Camellia,
        "cast5": old.CAST5,
        "3des": old.TripleDES,
        "blowfish": old.Blowfish,
        "idea": old.IDEA,
    }
    block = spec[1]
    algo = classes[algorithm](bytes(key))  # type: ignore[call-arg]
    return Cipher(algo, CFB(bytes(block))), block


def _prefix(random_block: bytes | None) -> bytes:
    block = random.random_bytes(_BLOCK) if random_block is None else random_block
    if len(block) != _BLOCK:
        raise UsageError("the SEIPDv1 random prefix is one cipher block")
    return block + block[-2:]


def sealed_size(n: int) -> int:
    """Ciphertext size for ``n`` octets of plaintext."""
    return n + OVERHEAD


def opened_size(n: int, *, algorithm: str = "aes") -> int:
    """Plaintext size for ``n`` octets of ciphertext (may be negative if too short)."""
    block = OPEN_ALGORITHMS[algorithm][1] if algorithm in OPEN_ALGORITHMS else _BLOCK
    return n - (block + 2 + MDC_TRAILER_SIZE)


def cfb_seal_into(
    key: bytes,
    data: Buffer,
    out: memoryview,
    *,
    head: bytes = b"",
    _random_block: bytes | None = None,
) -> None:
    """Encrypt ``head || data`` into ``out`` (exactly :func:`sealed_size` octets of
    the combined length). ``head`` (a few octets, e.g. a packet header) saves the
    caller from concatenating it with a large body.

    ``_random_block`` pins the prefix for test vectors only.
    """
    n = len(head) + len(data)
    if len(out) != sealed_size(n):
        raise UsageError("output buffer has the wrong size")
    prefix = _prefix(_random_block)
    enc = _cipher(key).encryptor()
    h = hashlib.sha1(prefix)
    h.update(head)
    h.update(data)
    h.update(_MDC_HEADER)
    start = PREFIX_SIZE + len(head)
    out[:start] = enc.update(prefix + head)
    # update_into needs len(data) + 15 octets of room: the 22-octet trailer slot that
    # follows the body provides it, so the body is written in place, never copied.
    if len(data):
        enc.update_into(data, out[start:])
    out[PREFIX_SIZE + n :] = enc.update(_MDC_HEADER + h.digest())
    enc.finalize()


def cfb_seal(key: bytes, data: Buffer, *, _random_block: bytes | None = None) -> bytes:
    """Encrypt ``data``; returns prefix || body || MDC, all CFB-encrypted."""
    out = bytearray(sealed_size(len(data)))
    cfb_seal_into(key, data, memoryview(out), _random_block=_random_block)
    return bytes(out)


def cfb_open_into(
    key: bytes, data: Buffer, out: memoryview, *, algorithm: str = "aes"
) -> None:
    """Decrypt ``data`` into ``out`` (exactly :func:`opened_size` octets) and check the
    MDC. On any failure ``out`` is wiped and DecryptionError raised.

    ``algorithm`` (see :data:`OPEN_ALGORITHMS`) opens old messages written with a
    pre-AES cipher; their random prefix is one 8-octet block plus two.
    """
    cipher, block = _opening_cipher(key, algorithm)
    prefix_size = block + 2
    view = memoryview(data)
    n = len(view) - prefix_size - MDC_TRAILER_SIZE
    if n < 0:
        raise DecryptionError()
    if len(out) != n:
        raise UsageError("output buffer has the wrong size")
    dec = cipher.decryptor()
    prefix = dec.update(view[:prefix_size])
    body = view[prefix_size : prefix_size + n]
    # update_into needs block - 1 octets of slack: decrypt all but the last block in
    # place and the last block through update().
    split = max(0, n - block)
    if split:
        dec.update_into(body[:split], out)
    out[split:n] = dec.update(body[split:])
    trailer = dec.update(view[prefix_size + n :])
    dec.finalize()
    h = hashlib.sha1(prefix)
    h.update(out)
    h.update(trailer[:2])
    ok = hmac.compare_digest(trailer[:2], _MDC_HEADER) & hmac.compare_digest(
        h.digest(), trailer[2:]
    )
    if not ok:
        out[:] = bytes(n)
        raise DecryptionError()


def cfb_open(key: bytes, data: Buffer, *, algorithm: str = "aes") -> bytes:
    """Decrypt and authenticate; returns the plaintext only if the MDC matches."""
    n = opened_size(len(data), algorithm=algorithm)
    if n < 0:
        raise DecryptionError()
    out = bytearray(n)
    cfb_open_into(key, data, memoryview(out), algorithm=algorithm)
    return bytes(out)


class CFBStreamSealer:
    """Incremental SEIPDv1 encryption: start, update(_into), finalize."""

    __slots__ = ("_enc", "_hash")

    def __init__(self, key: bytes) -> None:
        self._enc = _cipher(key).encryptor()
        self._hash = hashlib.sha1()

    def start(self, *, _random_block: bytes | None = None) -> bytes:
        """The encrypted prefix (first 18 octets of the ciphertext)."""
        prefix = _prefix(_random_block)
        self._hash.update(prefix)
        return self._enc.update(prefix)

    def update_into(self, data: Buffer, out: memoryview) -> int:
        """Encrypt ``data`` into ``out`` (at least ``len(data) + 15`` octets)."""
        self._hash.update(data)
        return self._enc.update_into(data, out)

    def update(self, data: Buffer) -> bytes:
        """Encrypt ``data``."""
        self._hash.update(data)
        return self._enc.update(data)

    def finalize(self) -> bytes:
        """The encrypted MDC trailer (last 22 octets of the ciphertext)."""
        self._hash.update(_MDC_HEADER)
        tail = self._enc.update(_MDC_HEADER + self._hash.digest())
        self._enc.finalize()
        return tail


class CFBStreamOpener:
    """Incremental SEIPDv1 decryption.

    :meth:`update` returns plaintext that is **not yet authenticated**: hand it only to
    a private spool and release it after :meth:`finalize` returns. The last 22
    decrypted octets are held back because they are the MDC trailer.
    """

    __slots__ = ("_buf", "_dec", "_hash", "_held", "_prefix_left", "_tail_at")

    def __init__(self, key: bytes, *, algorithm: str = "aes") -> None:
        cipher, block = _opening_cipher(key, algorithm)
        self._dec = cipher.decryptor()
        self._hash = hashlib.sha1()
        self._buf = bytearray(MDC_TRAILER_SIZE + STREAM_BUFFER_SIZE + _BLOCK)
        self._held = 0  # decrypted octets not yet known to be plaintext
        self._tail_at = 0  # where they sit in _buf
        self._prefix_left = block + 2

    def update(self, data: Buffer) -> memoryview:
        """Decrypt ``data``; returns the plaintext now known not to be the trailer.

        The returned view points into a reused buffer: it is valid only until the
        next call.
        """
        view = memoryview(data)
        if len(view) > STREAM_BUFFER_SIZE:
            raise UsageError("feed the SEIPDv1 opener at most 1 MiB at a time")
        if self._tail_at:
            # Move the held-back octets (at most 22) to the front: the only copy.
            start = self._tail_at
            self._buf[: self._held] = self._buf[start : start + self._held]
            self._tail_at = 0
        buf = memoryview(self._buf)
        n = self._dec.update_into(view, buf[self._held :])
        total = self._held + n
        ready = max(0, total - MDC_TRAILER_SIZE)
        self._hash.update(buf[:ready])
        skip = min(self._prefix_left, ready)
        self._prefix_left -= skip
        self._tail_at = ready
        self._held = total - ready
        return buf[skip:ready]

    def finalize(self) -> None:
        """Check the MDC; DecryptionError if it is missing, truncated or wrong."""
        self._dec.finalize()
        start = self._tail_at
        trailer = bytes(self._buf[start : start + self._held])
        if self._prefix_left or len(trailer) != MDC_TRAILER_SIZE:
            raise DecryptionError()
        self._hash.update(trailer[:2])
        ok = hmac.compare_digest(trailer[:2], _MDC_HEADER) & hmac.compare_digest(
            self._hash.digest(), trailer[2:]
        )
        if not ok:
            raise DecryptionError()


def seal_stream(
    key: bytes, src: BinaryIO, dst: BinaryIO, *, _random_block: bytes | None = None
) -> int:
    """Encrypt everything from ``src`` to ``dst`` with reused buffers.

    Returns:
        The number of ciphertext octets written.
    """
    sealer = CFBStreamSealer(key)
    written = dst.write(sealer.start(_random_block=_random_block)) or 0
    inbuf = bytearray(STREAM_BUFFER_SIZE)
    outbuf = bytearray(STREAM_BUFFER_SIZE + _BLOCK)
    inview, outview = memoryview(inbuf), memoryview(outbuf)
    while True:
        got = src.readinto(inview)  # type: ignore[attr-defined]
        if not got:
            break
        n = sealer.update_into(inview[:got], outview)
        written += dst.write(outview[:n]) or 0
    written += dst.write(sealer.finalize()) or 0
    return written
