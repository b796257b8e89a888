"""AES-EAX (Bellare, Rogaway and Wagner, "The EAX Mode of Operation", FSE 2004), the
AEAD algorithm 1 of OpenPGP (RFC 9580 §5.13.2 and the LibrePGP AEAD packet), built from
the AES-CTR and AES-CMAC (OMAC1, NIST SP 800-38B) of `cryptography`.

With [t] the 16-octet block holding the number t and OMAC^t(x) = CMAC_K([t] || x):
N' = OMAC^0(nonce), H' = OMAC^1(associated data), C = AES-CTR_K with initial counter
block N' over the message (the whole 128-bit block counts, as in the paper), and the
tag is N' xor H' xor OMAC^2(C), 16 octets. Opening checks the tag (in constant time)
before anything is decrypted, so a failed open never writes plaintext.

:class:`AESEAX` has the interface of `cryptography`'s AEAD classes (``encrypt``,
``decrypt`` and their ``*_into`` forms, ``InvalidTag`` on a bad tag), so the chunk loop
of ``chunked.py`` drives it like AES-GCM and AES-OCB; :func:`eax_seal` and
:func:`eax_open` are the one-shot forms with this package's errors. Nonces of any
length are accepted (OpenPGP uses 16 octets); tags are always 16 octets.
"""

from __future__ import annotations

import hmac
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

from ..errors import DecryptionError, UsageError

__all__ = ["AESEAX", "TAG_SIZE", "eax_open", "eax_seal"]

TAG_SIZE: Final = 16
_KEY_SIZES: Final = (16, 24, 32)
Buffer = bytes | bytearray | memoryview


class AESEAX:
    """AES-EAX under one key, with 16-octet tags.

    The three OMAC instances are keyed and fed their [t] block once, here; each use
    copies one, so a chunk costs no key schedule.
    """

    __slots__ = ("_aes", "_omac")

    def __init__(self, key: bytes) -> None:
        if len(key) not in _KEY_SIZES:
            raise UsageError("AES-EAX key must be 16, 24 or 32 octets")
        self._aes = algorithms.AES(bytes(key))
        base = CMAC(self._aes)
        omac = []
        for t in range(3):
            tagged = base.copy()
            tagged.update(t.to_bytes(16, "big"))
            omac.append(tagged)
        self._omac = tuple(omac)

    def _mac(self, t: int, data: Buffer) -> bytes:
        ctx = self._omac[t].copy()
        if len(data):
            # `cryptography` takes any buffer; its stubs say bytes.
            ctx.update(data)  # type: ignore[arg-type]
        return ctx.finalize()

    def _tag(self, n: bytes, associated_data: bytes | None, sealed: Buffer) -> bytes:
        h = int.from_bytes(self._mac(1, associated_data or b""), "big")
        c = int.from_bytes(self._mac(2, sealed), "big")
        return (int.from_bytes(n, "big") ^ h ^ c).to_bytes(TAG_SIZE, "big")

    def _ctr(self, n: bytes, data: Buffer, out: memoryview) -> None:
        # CTR is a stream mode: update_into writes exactly len(data) octets.
        ctx = Cipher(self._aes, modes.CTR(n)).encryptor()
        if len(data):
            ctx.update_into(data, out)
        ctx.finalize()

    def encrypt_into(
        self, nonce: Buffer, data: Buffer, associated_data: bytes | None, buf: Buffer
    ) -> int:
        """Write ciphertext || tag into ``buf`` (at least ``len(data) + 16``
        octets); returns the octets written."""
        src = memoryview(data).cast("B")
        out = memoryview(buf).cast("B")
        size = len(src)
        if len(out) < size + TAG_SIZE:
            raise UsageError("output buffer is too small")
        n = self._mac(0, nonce)
        self._ctr(n, src, out[:size])
        out[size : size + TAG_SIZE] = self._tag(n, associated_data, out[:size])
        return size + TAG_SIZE

    def decrypt_into(
        self, nonce: Buffer, data: Buffer, associated_data: bytes | None, buf: Buffer
    ) -> int:
        """Check the tag of ciphertext || tag, then write the plaintext into ``buf``
        (at least ``len(data) - 16`` octets); returns the octets written.

        Raises:
            InvalidTag: ``data`` is shorter than a tag or the tag does not verify;
                nothing was written to ``buf``.
        """
        src = memoryview(data).cast("B")
        out = memoryview(buf).cast("B")
        size = len(src) - TAG_SIZE
        if size < 0:
            raise InvalidTag()
        if len(out) < size:
            raise UsageError("output buffer is too small")
        n = self._mac(0, nonce)
        want = self._tag(n, associated_data, src[:size])
        if not hmac.compare_digest(want, bytes(src[size:])):
            raise InvalidTag()
        self._ctr(n, src[:size], out[:size])
        return size

    def encrypt(
        self, nonce: Buffer, data: Buffer, associated_data: bytes | None
    ) -> bytes:
        """Ciphertext || 16-octet tag."""
        out = bytearray(len(data) + TAG_SIZE)
        self.encrypt_into(nonce, data, associated_data, out)
        return bytes(out)

    def decrypt(
        self, nonce: Buffer, data: Buffer, associated_data: bytes | None
    ) -> bytes:
        """The plaintext of ciphertext || tag; InvalidTag when it does not verify."""
        out = bytearray(max(0, len(data) - TAG_SIZE))
        self.decrypt_into(nonce, data, associated_data, out)
        return bytes(out)


def eax_seal(
    key: bytes, nonce: Buffer, data: Buffer, aad: bytes | None = None
) -> bytes:
    """Ciphertext || 16-octet tag."""
    return AESEAX(key).encrypt(nonce, data, aad)


def eax_open(
    key: bytes, nonce: Buffer, data: Buffer, aad: bytes | None = None
) -> bytes:
    """Open ciphertext || tag; a wrong tag or a key of the wrong size (it comes out
    of an unwrap) is a DecryptionError."""
    if len(key) not in _KEY_SIZES:
        raise DecryptionError()
    try:
        return AESEAX(key).decrypt(nonce, data, aad)
    except InvalidTag:
        raise DecryptionError() from None
