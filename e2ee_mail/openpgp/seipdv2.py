"""SEIPDv2 (RFC 9580 §5.13.2): message key derivation and the packet around the
chunk loop of ``core/chunked.py``.

HKDF-SHA256 with the packet's salt, over the session key, with info = packet type
octet (0xD2) || version || cipher || AEAD mode || chunk size octet gives the message
key and the nonce prefix (nonce size - 8 octets); those five octets are also every
chunk's associated data. Modes: GCM (3) and OCB (2); EAX (1) is not implemented.

:func:`check_session_key` (used by rewrap) authenticates a session key in O(1): the
final tag (an empty chunk whose associated data carries the total plaintext length,
derivable from the body length) is computed under the message key derived from the
session key, so verifying it proves the key is the sender's, whatever the PKESK's wrap
did (RSA PKCS#1 v1.5 included). It is cheaper than the first chunk (up to 4 MiB with
the default chunk size) and just as binding. It says nothing about the chunks, which
rewrap copies unchanged and the eventual reader verifies one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESOCB3

from ..core import chunked, chunkstream, kdf
from ..core.chunked import TAG_SIZE
from ..core.random import random_bytes
from ..errors import DecryptionError, UnsupportedError
from .packets import (
    AEAD_EAX,
    AEAD_GCM,
    AEAD_OCB,
    CIPHER_KEY_SIZE,
    TAG_SEIPD,
)
from .packets.seipd import (
    SALT_SIZE,
    SEIPDV2_HEADER_SIZE,
    SEIPDv2Header,
    chunk_size,
    parse_seipdv2_header,
    serialize_seipdv2_header,
)

__all__ = [
    "CIPHER_KEY_SIZE",
    "algorithm_name",
    "check_final_tag",
    "check_session_key",
    "check_supported",
    "chunk_params",
    "new_header",
    "open_body",
    "open_stream",
    "seal_into",
    "sealed_body_size",
]

_MODES: Final = {AEAD_GCM: "gcm", AEAD_OCB: "ocb"}
_MODE_NAMES: Final = {AEAD_GCM: "gcm", AEAD_OCB: "ocb", AEAD_EAX: "eax"}
_AEADS: Final[dict[str, type[AESGCM] | type[AESOCB3]]] = {"gcm": AESGCM, "ocb": AESOCB3}
#: Chunk indexes 0 and 1 as the nonce's last 8 octets (RFC 9580 §5.13.2).
_INDEX_0: Final = bytes(8)
_INDEX_1: Final = (1).to_bytes(8, "big")


def algorithm_name(header: SEIPDv2Header) -> str:
    """E.g. "seipdv2-aes256-gcm"."""
    bits = CIPHER_KEY_SIZE.get(header.cipher, 0) * 8
    cipher = f"aes{bits}" if bits else f"cipher{header.cipher}"
    mode = _MODE_NAMES.get(header.aead, f"aead{header.aead}")
    return f"seipdv2-{cipher}-{mode}"


def new_header(cipher: int, aead: int, chunk_size_octet: int) -> SEIPDv2Header:
    """A header with a fresh random salt."""
    chunk_size(chunk_size_octet)
    return SEIPDv2Header(cipher, aead, chunk_size_octet, random_bytes(SALT_SIZE))


def check_supported(header: SEIPDv2Header) -> None:
    """Raise UnsupportedError for a cipher or AEAD mode we do not implement."""
    if header.cipher not in CIPHER_KEY_SIZE:
        raise UnsupportedError(
            f"SEIPDv2 cipher {header.cipher} is not supported (AES only)"
        )
    if header.aead not in _MODES:
        name = _MODE_NAMES.get(header.aead, str(header.aead)).upper()
        raise UnsupportedError(
            f"SEIPDv2 AEAD mode {name} is not supported (GCM and OCB are)"
        )


def chunk_params(header: SEIPDv2Header, session_key: bytes) -> chunked.ChunkParams:
    """Derive the message key and nonce prefix (RFC 9580 §5.13.2).

    Raises:
        UnsupportedError: cipher or mode not implemented.
        DecryptionError: the session key does not fit the cipher.
    """
    mode, key, nonce_prefix, info = _derive(header, session_key)
    return chunked.ChunkParams(
        mode,  # type: ignore[arg-type]
        key,
        nonce_prefix,
        chunk_size(header.chunk_size_octet),
        info,
    )


def _derive(
    header: SEIPDv2Header, session_key: bytes
) -> tuple[str, bytes, bytes, bytes]:
    """(mode, message key, nonce prefix, info = every chunk's associated data)."""
    check_supported(header)
    key_size = CIPHER_KEY_SIZE[header.cipher]
    if len(session_key) != key_size:
        raise DecryptionError()
    mode = _MODES[header.aead]
    prefix_size = chunked.NONCE_SIZE[mode] - 8
    info = bytes(
        (0xC0 | TAG_SEIPD, 2, header.cipher, header.aead, header.chunk_size_octet)
    )
    derived = kdf.hkdf_sha256(
        session_key, salt=header.salt, info=info, length=key_size + prefix_size
    )
    return mode, derived[:key_size], derived[key_size:], info


def sealed_body_size(header: SEIPDv2Header, plaintext_size: int) -> int:
    """Octets of the SEIPDv2 body for ``plaintext_size`` octets of packets."""
    return SEIPDV2_HEADER_SIZE + chunked.sealed_size(
        plaintext_size, chunk_size(header.chunk_size_octet)
    )


def seal_into(
    header: SEIPDv2Header,
    session_key: bytes,
    prefix: bytes,
    data: bytes | bytearray | memoryview,
    out: memoryview,
    suffix: bytes | Callable[[], bytes] = b"",
    suffix_size: int | None = None,
) -> None:
    """Write the SEIPDv2 body for plaintext ``prefix || data || suffix`` into
    ``out``; ``suffix`` may be computed late (see ``chunked.seal_into``)."""
    out[:SEIPDV2_HEADER_SIZE] = serialize_seipdv2_header(header)
    params = chunk_params(header, session_key)
    chunked.seal_into(
        params, data, out[SEIPDV2_HEADER_SIZE:], prefix, suffix, suffix_size
    )


def open_body(
    body: bytes | bytearray | memoryview,
    session_key: bytes,
    header: SEIPDv2Header | None = None,
    follow: chunked.Follow | None = None,
) -> bytearray:
    """Open a whole SEIPDv2 body; returns the authenticated inner packets.

    Args:
        body: the SEIPD packet body, header included.
        session_key: the candidate session key.
        header: the header already parsed from ``body`` (the caller parsed it to
            choose keys); parsed here when None.
        follow: sees each authenticated chunk's plaintext in order, as it opens
            (see ``chunked.open_into``).

    Raises:
        PacketError: malformed header. UnsupportedError: cipher/mode.
        DecryptionError: wrong key or altered/truncated data.
    """
    view = memoryview(body).cast("B")
    if header is None:
        header = parse_seipdv2_header(view)
    sealed = view[SEIPDV2_HEADER_SIZE:]
    size = chunk_size(header.chunk_size_octet)
    if len(sealed) <= size + 2 * TAG_SIZE:
        out = _open_one_chunk(header, session_key, sealed)
        if follow is not None:
            follow(memoryview(out), 0)
        return out
    params = chunk_params(header, session_key)
    out = bytearray(chunked.opened_size(len(sealed), size))
    chunked.open_into(params, sealed, memoryview(out), follow)
    return out


def _open_one_chunk(
    header: SEIPDv2Header, session_key: bytes, sealed: memoryview
) -> bytearray:
    """:func:`chunked.open_into` for a body of at most one chunk (most mail), with
    the same nonces (prefix || index), associated data, layout checks and failure
    (output wiped, DecryptionError), minus the chunk loop's set-up, which is a
    noticeable share of a 1 KiB decrypt. The AEAD objects are
    ``cryptography``'s, as in ``chunked.ChunkParams.cipher``.
    """
    mode, key, nonce_prefix, info = _derive(header, session_key)
    # RFC 9580 §5.13.2: no chunk and the final tag (16 octets), or one chunk of
    # 1..chunk size octets plus its tag, then the final tag.
    total = len(sealed) - 2 * TAG_SIZE
    if total < 1:
        if total != -TAG_SIZE:
            raise DecryptionError()
        total = 0
    out = bytearray(total)
    aead = _AEADS[mode](key)
    try:
        if total:
            aead.decrypt_into(nonce_prefix + _INDEX_0, sealed[:-TAG_SIZE], info, out)
        # The final tag's nonce index is the number of chunks; its associated
        # data ends with the total plaintext length.
        aead.decrypt_into(
            nonce_prefix + (_INDEX_1 if total else _INDEX_0),
            sealed[-TAG_SIZE:],
            info + total.to_bytes(8, "big"),
            bytearray(),
        )
    except (InvalidTag, ValueError):
        out[:] = bytes(total)
        raise DecryptionError() from None
    return out


def check_session_key(body: bytes | bytearray | memoryview, session_key: bytes) -> None:
    """Verify ``session_key`` against the final tag only (rewrap self-check).

    The final tag authenticates no plaintext, only the total length (RFC 9580
    §5.13.2), so the check costs the same for any body size.

    Raises:
        PacketError: malformed header. UnsupportedError: cipher/mode.
        DecryptionError: the key does not authenticate the final tag, or the body
            length fits no chunk layout (truncated).
    """
    view = memoryview(body).cast("B")
    header = parse_seipdv2_header(view)
    sealed = view[SEIPDV2_HEADER_SIZE:]
    check_final_tag(header, session_key, len(sealed), sealed[-chunked.TAG_SIZE :])


def check_final_tag(
    header: SEIPDv2Header,
    session_key: bytes,
    sealed_size: int,
    final_tag: bytes | bytearray | memoryview,
) -> None:
    """Verify ``session_key`` against the final tag of a body whose chunks and tags
    after the header (``sealed_size`` octets) end with ``final_tag``: what
    :func:`check_session_key` checks, for a body that streams past (rewrap_stream).

    Raises:
        UnsupportedError: cipher/mode.
        DecryptionError: the key does not authenticate the final tag, or the body
            length fits no chunk layout (truncated).
    """
    chunked.verify_final_tag(chunk_params(header, session_key), sealed_size, final_tag)


def open_stream(
    src: BinaryIO,
    session_key: bytes,
    header: SEIPDv2Header,
    size_hint: int | None = None,
) -> chunkstream.ChunkOpener:
    """A readable stream of authenticated inner packets; ``src`` is positioned after
    the 36-octet header; ``size_hint``: the sealed octets that follow, if known."""
    params = chunk_params(header, session_key)
    return chunkstream.ChunkOpener(params, src, size_hint)
