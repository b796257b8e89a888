"""SEIPDv1 messages: the RFC 4880 container for recipients without SEIPDv2 support.

The seam :mod:`.message` calls when :func:`.recipients.choose_container` picks SEIPDv1
(RFC 9580 §5.13.1, §10.3.2.1): v3 PKESK packets (§5.1.1) followed by a v1 SEIPD packet
whose body is the version octet 1 and the AES-CFB + MDC ciphertext of one binary
Literal Data packet (core/cfb.py does the cipher). The cipher is the strongest AES
every recipient lists in its Preferred Symmetric Ciphers (§5.2.3.14, §12.2; AES-128
is implicitly accepted by all), which is AES-256 for GnuPG 2.x keys and ours. Never
compresses, never writes SED (tag 9).

Opening: the MDC is checked before anything is returned — :func:`open_body` returns
the inner packets only after the check; :func:`open_stream` decrypts into a spool
sealed under a key held only in memory (a nameless 0600 file) and hands out a reader
over it only once the MDC has verified.
Besides AES, the pre-AES ciphers of old archives open (IDEA, TripleDES, CAST5,
Blowfish, Camellia; never written). Any other cipher, or a session key of the wrong
size for it, is the same DecryptionError as a bad key (the cipher octet is
secret-derived for RSA and ECDH recipients).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO, Final

from .. import _io
from ..core import cfb
from ..core.random import random_bytes
from ..errors import DecryptionError, PacketError
from ..policy import Policy
from . import armor as armor_mod
from . import pkesk
from .certs import KeyInfo, OpenPGPCertificate
from .packets import CIPHER_KEY_SIZE, TAG_LITERAL, TAG_PKESK, TAG_SEIPD
from .packets.header import PartialBodyWriter, serialize_header, serialize_packet
from .packets.literal import LiteralHeader, serialize_literal_header
from .packets.pkesk import serialize_pkesk
from .recipients import has_pq_key, recipient_keys

if TYPE_CHECKING:
    from ..core.chunkstream import ChunkOpener

__all__ = [
    "choose_cipher",
    "encrypt",
    "encrypt_stream",
    "new_session",
    "open_body",
    "open_stream",
    "pkesk_packets",
    "stream_opener",
]

#: AES-256, AES-192, AES-128 (RFC 9580 §9.3), best first.
_AES: Final = (9, 8, 7)
#: Ciphers accepted when opening (RFC 9580 §9.3 IDs): name for core/cfb, key size.
#: The pre-AES ones are read so old archives still open; nothing writes them.
_OPEN_CIPHERS: Final = {
    1: ("idea", 16),
    2: ("3des", 24),
    3: ("cast5", 16),
    4: ("blowfish", 16),
    7: ("aes", 16),
    8: ("aes", 24),
    9: ("aes", 32),
    11: ("camellia", 16),
    12: ("camellia", 24),
    13: ("camellia", 32),
}
_VERSION: Final = b"\x01"
_READ_SIZE: Final = cfb.STREAM_BUFFER_SIZE

Buffer = bytes | bytearray | memoryview


def choose_cipher(recipients: Sequence[OpenPGPCertificate]) -> int:
    """The strongest AES all ``recipients`` accept (AES-128 is implicit, §12.2, and
    AES-256 for a certificate with a post-quantum key, RFC 9980 §7.1)."""
    if all(_AES[0] in c.symmetric_preferences or has_pq_key(c) for c in recipients):
        return _AES[0]
    if all(_AES[1] in c.symmetric_preferences for c in recipients):
        return _AES[1]
    return _AES[-1]


def pkesk_packets(session_key: bytes, cipher: int, keys: Sequence[KeyInfo]) -> bytes:
    """The v3 PKESK packets (RFC 9580 §5.1.1) wrapping ``session_key`` for ``keys``,
    as encrypt writes them and rewrap replaces them."""
    return b"".join(
        serialize_packet(
            TAG_PKESK, serialize_pkesk(pkesk.wrap_v3(session_key, cipher, key))
        )
        for key in keys
    )


def new_session(
    recipients: Sequence[OpenPGPCertificate], policy: Policy
) -> tuple[bytes, bytes]:
    """A fresh session key for the strongest AES all ``recipients`` accept, and its
    PKESK packets. A refusal (the policy, an unusable certificate) comes first."""
    keys = recipient_keys(recipients, policy)
    cipher = choose_cipher(recipients)
    session_key = random_bytes(CIPHER_KEY_SIZE[cipher])
    return session_key, pkesk_packets(session_key, cipher, keys)


def encrypt(
    data: Buffer,
    recipients: Sequence[OpenPGPCertificate],
    *,
    armor: bool,
    policy: Policy,
    passwords: Sequence[bytes] = (),
) -> bytearray:
    """v3 PKESKs (and v4 SKESKs for ``passwords``) + one SEIPDv1 packet, allocated
    once at its final size."""
    from .message import password_entries

    session_key, pkesks = new_session(recipients, policy)
    pkesks += password_entries(session_key, passwords, 1)
    return _encrypt_from_parts(data, session_key, pkesks, None, armor=armor)


def _encrypt_from_parts(
    data: Buffer,
    session_key: bytes,
    pkesks: bytes,
    random_block: bytes | None,
    *,
    armor: bool,
) -> bytearray:
    """The rest of :func:`encrypt` with the session key, the serialized PKESK
    packets and (when not None) the CFB random prefix block given. For test-vector
    generators and runners only (the *_from_parts seams); never for real mail."""
    literal_head = serialize_literal_header(LiteralHeader())
    prefix = serialize_header(TAG_LITERAL, len(literal_head) + len(data)) + literal_head
    body_size = 1 + cfb.sealed_size(len(prefix) + len(data))
    head = pkesks + serialize_header(TAG_SEIPD, body_size)
    out = bytearray(len(head) + body_size)
    out[: len(head)] = head
    out[len(head)] = 1
    cfb.cfb_seal_into(
        session_key,
        data,
        memoryview(out)[len(head) + 1 :],
        head=prefix,
        _random_block=random_block,
    )
    if armor:
        return armor_mod.enarmor(out, crc=True)  # GnuPG 2.2 requires the CRC24
    return out


class _Encrypting:
    """A write-only sink: encrypts what it is given into the SEIPD body writer."""

    __slots__ = ("_dst", "_sealer")

    def __init__(self, sealer: cfb.CFBStreamSealer, dst: PartialBodyWriter) -> None:
        self._sealer = sealer
        self._dst = dst

    def write(self, data: Buffer) -> int:
        self._dst.write(self._sealer.update(data))
        return len(data)


def encrypt_stream(
    src: BinaryIO,
    dst: BinaryIO,
    recipients: Sequence[OpenPGPCertificate],
    *,
    armor: bool,
    policy: Policy,
) -> None:
    """Encrypt ``src`` to ``dst`` in bounded memory (partial body lengths)."""
    session_key, pkesks = new_session(recipients, policy)
    out: BinaryIO = armor_mod.ArmorWriter(dst, crc=True) if armor else dst  # type: ignore[assignment]
    out.write(pkesks)
    seipd = PartialBodyWriter(out, TAG_SEIPD)
    seipd.write(_VERSION)
    sealer = cfb.CFBStreamSealer(session_key)
    seipd.write(sealer.start())
    literal = PartialBodyWriter(_Encrypting(sealer, seipd), TAG_LITERAL)  # type: ignore[arg-type]
    literal.write(serialize_literal_header(LiteralHeader()))
    buf = bytearray(_READ_SIZE)
    view = memoryview(buf)
    readinto = getattr(src, "readinto", None)
    while True:
        if readinto is not None:
            n = readinto(buf) or 0
            piece: Buffer = view[:n]
        else:
            piece = src.read(_READ_SIZE)
            n = len(piece)
        if not n:
            break
        literal.write(piece)
    literal.close()
    seipd.write(sealer.finalize())
    seipd.close()
    if armor:
        out.close()


def _key_for(cipher: int, session_key: bytes) -> tuple[bytes, str]:
    name, size = _OPEN_CIPHERS.get(cipher, ("", -1))
    if size != len(session_key):
        raise DecryptionError()
    return session_key, name


def open_body(body: Buffer, cipher: int, session_key: bytes) -> bytearray:
    """The authenticated inner packets of a SEIPDv1 body (version octet included).

    Raises:
        DecryptionError: wrong key, non-AES cipher, altered, truncated, no MDC.
        PacketError: not a version 1 body.
    """
    view = memoryview(body).cast("B")
    if len(view) < 1 or view[0] != 1:
        raise PacketError("not a version 1 SEIPD packet")
    key, name = _key_for(cipher, session_key)
    n = cfb.opened_size(len(view) - 1, algorithm=name)
    if n < 0:
        raise DecryptionError()
    out = bytearray(n)
    cfb.cfb_open_into(key, view[1:], memoryview(out), algorithm=name)
    return out


class _VerifiedSpool:
    """Reads the authenticated plaintext back from the sealed spool; closes (and so
    removes) the spool at the end."""

    __slots__ = ("_reader", "_stack")

    def __init__(self, reader: ChunkOpener, stack: contextlib.ExitStack) -> None:
        self._reader: ChunkOpener | None = reader
        self._stack = stack

    def read(self, size: int = -1) -> bytes:
        if self._reader is None:
            return b""
        data = self._reader.read(size)
        if not data and size != 0:
            self.close()
        return data

    def readinto(self, buf: bytearray | memoryview) -> int:
        if self._reader is None:
            return 0
        n = self._reader.readinto(buf)
        if not n and len(buf):
            self.close()
        return n

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._reader = None
        self._stack.close()

    def __del__(self) -> None:
        self.close()


def stream_opener(cipher: int, session_key: bytes) -> cfb.CFBStreamOpener:
    """The incremental decryptor of a SEIPDv1 body after its version octet, fed at
    most ``cfb.STREAM_BUFFER_SIZE`` octets at a time; its plaintext is not
    authenticated until ``finalize`` checked the MDC (rewrap_stream's self-check
    reads nothing of it).

    Raises:
        DecryptionError: a non-AES cipher or a session key of the wrong size.
    """
    key, name = _key_for(cipher, session_key)
    return cfb.CFBStreamOpener(key, algorithm=name)


def open_stream(
    src: BinaryIO, cipher: int, session_key: bytes, *, spool_dir: str | None = None
) -> BinaryIO:
    """A reader of the authenticated inner packets; ``src`` is positioned after the
    version octet. Nothing is readable until the MDC has verified: the plaintext
    waits in a :class:`~e2ee_mail._io.SealedSpool` (in ``spool_dir``, by default the
    system temporary directory), encrypted under a key that exists only in memory,
    so no plaintext rests on disk in clear whatever stops the process.

    Raises:
        DecryptionError: wrong key, non-AES cipher, altered, truncated, no MDC.
    """
    key, name = _key_for(cipher, session_key)
    opener = cfb.CFBStreamOpener(key, algorithm=name)
    stack = contextlib.ExitStack()
    try:
        spool = stack.enter_context(_io.sealed_spool(spool_dir))
        buf = bytearray(_READ_SIZE)
        view = memoryview(buf)
        while n := src.readinto(view):  # type: ignore[attr-defined]
            spool.write(opener.update(view[:n]))
        opener.finalize()
        reader = spool.reader()
    except BaseException:
        stack.close()
        raise
    return _VerifiedSpool(reader, stack)  # type: ignore[return-value]
