"""Signed-then-encrypted CMS (RFC 8551 §3.7 at the CMS layer): a SignedData
ContentInfo with the content inside, written as the encrypted content of
AuthEnvelopedData, and the reverse.

Signing costs no second pass over the body: :class:`SigningReader` reads a stream
once, hashes each chunk for the signers while framing it into the SignedData's BER
(signing.py), and the encryption reads that framed stream, so every chunk is hashed
and encrypted on its single way through. A body in memory is not copied at all: one
of at most 256 KiB is hashed, then encrypted whole while it is in cache; a larger
one is hashed 256 KiB at a time, each segment then encrypted from where it lies
into the output. The encrypted content type stays id-data and the plaintext is the
whole ContentInfo, as ``openssl cms -sign | openssl cms -encrypt`` writes it:
``openssl cms -decrypt`` then gives a SignedData that ``openssl cms -verify`` reads.

Opening decrypts (the tag checked first, envelope.py), then reads the plaintext as
SignedData and verifies every signature over the content it carries (verification.py).
The shapes we and OpenSSL write are verified in place: the content hashed where it
lies in the plaintext, which is then cut down to it (no copy of the body); nothing
is released before the tag has verified. A plaintext that is not SignedData yields
no signature results, never an error: the caller decides whether an unsigned
message is acceptable.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import BinaryIO, Final

from ..core import aead
from ..core.random import random_bytes
from ..model import Certificate, SecretKey, SignatureResult
from ..policy import Policy
from ..x509.certs import X509SecretKey
from . import build, envelope, pem
from .asn1 import der_length
from .signed import read_signed_data
from .signedcontent import looks_signed, signed_data
from .signing import SignedDataBuilder
from .tlv import EOC
from .verification import ContentHasher, hash_names, verify_signed_data

__all__ = [
    "SigningReader",
    "encrypt_signed",
    "encrypt_signed_stream",
    "open_signed",
    "verify_content",
]

#: Body octets read per chunk: each becomes one OCTET STRING of the BER content.
_CHUNK: Final = 1 << 16
#: Bodies up to this size are signed whole, then encrypted (see encrypt_signed).
_SMALL_BYTES: Final = 256 << 10
#: Body octets hashed then encrypted at a time by encrypt_signed: small enough to
#: stay in cache between the two.
_SEAL_SEGMENT: Final = 256 << 10
#: The most SignerInfos read from one SignedData.
_MAX_SIGNERS: Final = 64


class SigningReader(io.RawIOBase):
    """A readable stream of the BER SignedData around ``src``'s octets, hashing
    each chunk for ``builder``'s signers as it is framed; the signatures are made
    when ``src`` ends."""

    def __init__(self, src: BinaryIO, builder: SignedDataBuilder) -> None:
        super().__init__()
        self._src = src
        self._builder = builder
        self._pending = memoryview(builder.stream_head())
        self._done = False

    def readable(self) -> bool:
        return True

    def _refill(self) -> None:
        while not self._pending and not self._done:
            chunk = self._src.read(_CHUNK)
            if chunk:
                self._pending = memoryview(self._builder.stream_chunk(chunk))
            else:
                self._pending = memoryview(self._builder.stream_tail())
                self._done = True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        self._refill()
        view = memoryview(buffer).cast("B")
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class _Sink:
    """A write-only stream into one bytearray allocated up front and trimmed in
    place at the end: neither the growth of an ``io.BytesIO`` nor a copy out of
    it (each costs about as much as the encryption on a large body)."""

    __slots__ = ("_buf", "_pos", "_view")

    def __init__(self, size: int) -> None:
        self._buf = bytearray(size)
        self._view = memoryview(self._buf)
        self._pos = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        n = len(data)
        self._reserve(n)
        self._view[self._pos : self._pos + n] = data
        self._pos += n
        return n

    def seal(
        self, sealer: aead.GCMStreamSealer, data: bytes | bytearray | memoryview
    ) -> None:
        """Encrypt ``data`` with ``sealer`` straight into the buffer."""
        n = len(data)
        # GCM writes len(data) octets but update_into wants 15 more of room.
        self._reserve(n + 15)
        self._pos += sealer.update_into(
            data, self._view[self._pos : self._pos + n + 15]
        )

    def _reserve(self, n: int) -> None:
        end = self._pos + n
        if end > len(self._buf):
            self._view.release()
            self._buf.extend(bytes(max(end - len(self._buf), len(self._buf) // 2)))
            self._view = memoryview(self._buf)

    def flush(self) -> None:
        """Nothing to flush: for callers that flush what they write to."""

    def result(self) -> bytearray:
        """What was written; the sink is spent."""
        self._view.release()
        del self._buf[self._pos :]
        return self._buf


def encrypt_signed(
    data: bytes | bytearray | memoryview,
    certs: Sequence[Certificate],
    signers: Sequence[X509SecretKey],
    *,
    armor: bool = False,
    policy: Policy,
) -> bytearray:
    """SignedData by ``signers`` over ``data``, encrypted as AuthEnvelopedData."""
    if len(data) <= _SMALL_BYTES:
        # Small enough to stay in cache between the hash and the encryption: the
        # DER SignedData built whole and encrypted in one shot, which spares the
        # stream's buffers (allocating them costs more than both passes here).
        builder = SignedDataBuilder(signers)
        builder.update(data)
        signed = builder.finish(econtent=bytes(data))
        return envelope.encrypt(signed, certs, armor=armor, policy=policy)
    with memoryview(data) as body:
        out = _seal_signed(body.cast("B"), certs, signers, policy)
    return pem.armor(out) if armor else out


def _seal_signed(
    body: memoryview,
    certs: Sequence[Certificate],
    signers: Sequence[X509SecretKey],
    policy: Policy,
) -> bytearray:
    """AuthEnvelopedData around the stream-shaped SignedData of ``body`` (DER
    around BER segments, as ``encrypt_signed_stream`` writes it), in one pass:
    each segment of the body is hashed, then encrypted from where it lies
    straight into the output while it is in cache (no copy of the body)."""
    # The content key and the AuthEnvelopedData opening exactly as
    # envelope.encrypt_stream writes them for a stream of unknown length.
    builder = SignedDataBuilder(signers)
    keys = envelope.sealing_for(
        certs, "aes-256-gcm", policy, "issuer_and_serial_number"
    )
    nonce = random_bytes(aead.GCM_NONCE_SIZE)
    sealer = aead.GCMStreamSealer(keys.cek, nonce)
    n = len(body)
    # Room for the body and what surrounds it (segment headers, certificates,
    # recipient entries, signatures); the sink grows if that was not enough.
    out = _Sink(n + n // 1024 + 4096 * (2 + len(certs) + len(signers)))
    out.write(build.our_prefix(keys, nonce, None))
    opening = builder.stream_head()
    for start in range(0, n, _SEAL_SEGMENT):
        piece = body[start : start + _SEAL_SEGMENT]
        builder.update(piece)
        # One encrypted segment per body segment: the SignedData's octets
        # before it (its opening, the first time), its header, the body's octets.
        header = opening + b"\x04" + der_length(len(piece))
        opening = b""
        out.write(b"\x04" + der_length(len(header) + len(piece)))
        out.seal(sealer, header)
        out.seal(sealer, piece)
    tail = builder.stream_tail()
    out.write(b"\x04" + der_length(len(tail)))
    out.seal(sealer, tail)
    # The encrypted content's and EncryptedContentInfo's ends, the mac, then
    # those of AuthEnvelopedData, [0] and ContentInfo (RFC 5083 §2.1).
    out.write(EOC * 2 + b"\x04\x10" + sealer.finalize() + EOC * 3)
    return out.result()


def encrypt_signed_stream(
    src: BinaryIO,
    dst: BinaryIO,
    certs: Sequence[Certificate],
    signers: Sequence[X509SecretKey],
    *,
    armor: bool = False,
    policy: Policy,
) -> None:
    """Like :func:`encrypt_signed`, stream to stream in one pass over ``src``.

    The signers are checked (key usage, validity) before anything is written.
    """
    builder = SignedDataBuilder(signers)
    reader = SigningReader(src, builder)
    envelope.encrypt_stream(
        reader,  # type: ignore[arg-type]
        dst,
        certs,
        armor=armor,
        policy=policy,
    )


def verify_content(
    plaintext: bytes | bytearray | memoryview,
    certs: Sequence[Certificate],
    *,
    policy: Policy,
    now: float | None = None,
) -> tuple[bytes | bytearray | memoryview, tuple[SignatureResult, ...]]:
    """(the content, the signatures' results) of a decrypted plaintext: the content
    a SignedData carries and its signatures, or the plaintext itself and no
    result when it is not SignedData (or SignedData without its content)."""
    sd = signed_data(plaintext)
    if sd is None or sd.econtent is None:
        return plaintext, ()
    hasher = ContentHasher(hash_names(sd))
    hasher.update(sd.econtent)
    results = verify_signed_data(
        sd, hasher.digests(), certs, content=sd.econtent, policy=policy, now=now
    )
    return sd.econtent, results


def _verify_in_place(
    plaintext: bytearray, certs: Sequence[Certificate], *, policy: Policy
) -> tuple[bytes | bytearray | memoryview, tuple[SignatureResult, ...]] | None:
    """:func:`verify_content` of a plaintext we own, for the shapes
    ``read_signed_data`` reads: the content hashed where it lies, then moved to
    the front of ``plaintext``, which is cut to it and returned (no copy of the
    content). None for other shapes."""
    view = memoryview(plaintext)
    with view:
        fast = read_signed_data(view, max_signers=_MAX_SIGNERS)
        if fast is None:
            return None
        sd, spans = fast
        if spans is None:
            return plaintext, ()
        hasher = ContentHasher(hash_names(sd), keep=False)
        for start, stop in spans:
            hasher.update(view[start:stop])
        whole = None
        if any(info.signed_attrs is None for info in sd.signer_infos):
            # Only a signature without signed attributes covers the content
            # itself (verification.py); it needs the octets.
            whole = b"".join([view[start:stop] for start, stop in spans])
        results = verify_signed_data(
            sd, hasher.digests(), certs, content=whole, policy=policy
        )
        size = 0
        for start, stop in spans:
            if start != size:
                view[size : size + stop - start] = view[start:stop]
            size += stop - start
    del plaintext[size:]
    return plaintext, results


def open_signed(
    data: bytes | bytearray | memoryview,
    keys: Sequence[SecretKey],
    certs: Sequence[Certificate],
    *,
    policy: Policy,
) -> tuple[bytes | bytearray | memoryview, tuple[SignatureResult, ...]]:
    """Decrypt a CMS message, then verify the SignedData inside it, if any (see
    :func:`verify_content`)."""
    plaintext = envelope.decrypt(data, keys, policy=policy)
    if looks_signed(plaintext):
        done = _verify_in_place(plaintext, certs, policy=policy)
        if done is not None:
            return done
    return verify_content(plaintext, certs, policy=policy)
