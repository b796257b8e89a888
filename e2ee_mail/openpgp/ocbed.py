"""LibrePGP's OCB Encrypted Data packet (type 20), read only: what GnuPG 2.3 and later
writes for keys that advertise it, and what rnp writes with ``--aead`` (OCB or EAX).
Specified in draft-koch-librepgp and, as the "AEAD Encrypted Data Packet", in
RFC 4880bis-10 §5.16; RFC 9580 did not adopt it (SEIPDv2 took its place).

Around the chunk loop of ``core/chunked.py`` in its "librepgp" style: the session key
is the message key (no HKDF); chunk i's nonce is the starting IV with i xored into its
last 8 octets; its associated data is the packet type octet (0xD4), version, cipher,
AEAD algorithm, chunk size octet and i (8 octets, big-endian); the final tag's is the
same with i = the number of chunks, then the total plaintext length (8 octets). The
chunk rules, truncation checks and release-after-authentication are SEIPDv2's, through
the same code. Modes: OCB (AES-OCB3, 15-octet nonces) and EAX (``core/eax.py``).

The session key comes from v3 PKESKs, whose cipher octet must name the packet's
cipher. Never written: messages we encrypt use SEIPDv2 or SEIPDv1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from ..core import chunked, chunkstream
from ..core.chunked import TAG_SIZE
from ..core.random import random_bytes
from ..errors import DecryptionError, UnsupportedError
from .certs import OpenPGPSecretKey
from .packets import AEAD_EAX, AEAD_OCB, TAG_OCBED
from .packets.header import PacketBodyReader
from .packets.ocbed import OCBEDHeader, header_size, parse_ocbed_header
from .packets.pkesk import PKESKv3, PKESKv6
from .recipients import session_keys
from .seipdv2 import CIPHER_KEY_SIZE

__all__ = [
    "algorithm_name",
    "check_final_tag",
    "check_supported",
    "checked_key",
    "chunk_params",
    "description",
    "key_for",
    "open_body",
    "open_with_keys",
    "read_header",
    "stream_with_keys",
]

Buffer = bytes | bytearray | memoryview
_MODES: Final = {AEAD_OCB: "ocb", AEAD_EAX: "eax"}


def algorithm_name(header: OCBEDHeader) -> str:
    """E.g. "librepgp-aes256-ocb" (the form of "seipdv2-aes256-gcm")."""
    bits = CIPHER_KEY_SIZE.get(header.cipher, 0) * 8
    cipher = f"aes{bits}" if bits else f"cipher{header.cipher}"
    return f"librepgp-{cipher}-{_MODES[header.aead]}"


def description(header: OCBEDHeader) -> str:
    """E.g. "LibrePGP OCB encrypted data, AES-256, OCB"."""
    bits = CIPHER_KEY_SIZE.get(header.cipher, 0) * 8
    cipher = f"AES-{bits}" if bits else f"cipher {header.cipher}"
    return f"LibrePGP OCB encrypted data, {cipher}, {_MODES[header.aead].upper()}"


def check_supported(header: OCBEDHeader) -> None:
    """Raise UnsupportedError for a cipher we do not implement (the version and
    AEAD algorithm were checked by the parser)."""
    if header.cipher not in CIPHER_KEY_SIZE:
        raise UnsupportedError(
            f"OCB encrypted data with cipher {header.cipher} is not supported "
            "(AES only)"
        )


def chunk_params(header: OCBEDHeader, session_key: bytes) -> chunked.ChunkParams:
    """The chunk loop's parameters for ``session_key``.

    Raises:
        UnsupportedError: a cipher other than AES.
        DecryptionError: the session key does not fit the cipher.
    """
    check_supported(header)
    if len(session_key) != CIPHER_KEY_SIZE[header.cipher]:
        raise DecryptionError()
    aad = bytes(
        (
            0xC0 | TAG_OCBED,
            1,
            header.cipher,
            header.aead,
            header.chunk_size_octet,
        )
    )
    return chunked.ChunkParams(
        _MODES[header.aead],  # type: ignore[arg-type]
        session_key,
        header.iv,
        header.chunk_size,
        aad,
        "librepgp",
    )


def key_for(header: OCBEDHeader, cipher: int | None, session_key: bytes) -> bytes:
    """The key to try for a v3 PKESK's (cipher, session key).

    A PKESK whose cipher octet is not the packet's, or whose key has another size,
    gives a random stand-in of the right size instead of an early refusal, so that it
    fails at the tag like a wrong key (an RSA unwrap that failed already gives an
    AES-256 stand-in; see ``pkesk.unwrap_named``).
    """
    size = CIPHER_KEY_SIZE[header.cipher]
    if cipher != header.cipher or len(session_key) != size:
        return random_bytes(size)
    return session_key


def open_body(
    body: Buffer, session_key: bytes, header: OCBEDHeader | None = None
) -> bytearray:
    """Open a whole packet body; returns the authenticated inner packets.

    Raises:
        PacketError: malformed header. UnsupportedError: version, cipher, AEAD
            algorithm or chunk size.
        DecryptionError: wrong key, or altered or truncated data.
    """
    view = memoryview(body).cast("B")
    if header is None:
        header = parse_ocbed_header(view)
    sealed = view[header.size :]
    params = chunk_params(header, session_key)
    out = bytearray(chunked.opened_size(len(sealed), params.chunk_size))
    chunked.open_into(params, sealed, memoryview(out))
    return out


def check_final_tag(
    header: OCBEDHeader, session_key: bytes, sealed_size: int, final_tag: Buffer
) -> None:
    """Verify ``session_key`` by the final tag alone (rewrap), for a body whose
    chunks and tags after the header (``sealed_size`` octets) end with
    ``final_tag``; see :func:`chunked.verify_final_tag`."""
    chunked.verify_final_tag(chunk_params(header, session_key), sealed_size, final_tag)


def open_with_keys(
    body: Buffer,
    pkesks: Sequence[PKESKv3 | PKESKv6],
    keys: Sequence[OpenPGPSecretKey],
) -> tuple[bytearray, bytes]:
    """Open a packet body with the session key of the first v3 PKESK that opens it.

    Returns:
        (authenticated inner packets, cipher octet || session key).

    Raises:
        NoMatchingKeyError, DecryptionError, UnsupportedError: as
            ``recipients.session_keys``; PacketError: malformed header.
    """
    header = parse_ocbed_header(body)
    check_supported(header)
    for cipher, session_key in session_keys(
        pkesks, keys, 1, key_size=CIPHER_KEY_SIZE[header.cipher]
    ):
        try:
            key = key_for(header, cipher, session_key)
            return open_body(body, key, header), bytes([header.cipher]) + key
        except DecryptionError:
            continue
    raise DecryptionError()  # pragma: no cover - session_keys raises first


def checked_key(
    body: Buffer,
    pkesks: Sequence[PKESKv3 | PKESKv6],
    keys: Sequence[OpenPGPSecretKey],
) -> tuple[int, bytes]:
    """The first (cipher, session key) whose final tag authenticates (rewrap)."""
    view = memoryview(body).cast("B")
    header = parse_ocbed_header(view)
    check_supported(header)
    sealed = view[header.size :]
    for cipher, session_key in session_keys(
        pkesks, keys, 1, key_size=CIPHER_KEY_SIZE[header.cipher]
    ):
        key = key_for(header, cipher, session_key)
        try:
            check_final_tag(header, key, len(sealed), sealed[-TAG_SIZE:])
        except DecryptionError:
            continue
        return header.cipher, key
    raise DecryptionError()  # pragma: no cover - session_keys raises first


def read_header(body: PacketBodyReader) -> OCBEDHeader:
    """Read and parse the header from the start of a streamed packet body."""
    head = body.read_exact(3)
    head += body.read_exact(header_size(head) - 3)
    header = parse_ocbed_header(head)
    check_supported(header)
    return header


def stream_with_keys(
    body: PacketBodyReader,
    pkesks: Sequence[PKESKv3 | PKESKv6],
    keys: Sequence[OpenPGPSecretKey],
    length: int | None,
) -> chunkstream.ChunkOpener:
    """A readable stream of the authenticated inner packets of a streamed packet,
    under the first candidate session key (as SEIPDv2 streams do); ``length``: the
    packet body's length, when its header gives it (no partial lengths)."""
    header = read_header(body)
    cipher, session_key = next(
        session_keys(pkesks, keys, 1, key_size=CIPHER_KEY_SIZE[header.cipher])
    )
    params = chunk_params(header, key_for(header, cipher, session_key))
    hint = None if length is None else length - header.size
    return chunkstream.ChunkOpener(params, body, hint)
