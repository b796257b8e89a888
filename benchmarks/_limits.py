"""The limit loops (no e2ee_mail code): what each API could at best do here.

Used by bench_core.py (as ``limit.*`` cases) and by bench_formats.py, which times the
matching limit right next to each format case (``extra_info["paired_limit"]``) so that
a busy shared machine disturbs both sides of a ratio alike.
"""

from __future__ import annotations

from pathlib import Path

from _bench import CHUNK
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TAG = 16
KEY = bytes(range(32))
NONCE = bytes(12)


def nonce_for(i: int) -> bytes:
    """Chunk ``i``'s nonce (a counter: the key is a fixed test key)."""
    return i.to_bytes(12, "big")


def seal_chunks(data: bytes) -> bytearray:
    """The fresh-buffer limit: every 4 MiB chunk sealed into one new buffer."""
    n = len(data)
    chunks = max(1, -(-n // CHUNK))
    out = bytearray(n + TAG * chunks)
    aead = AESGCM(KEY)
    src = memoryview(data)
    dst = memoryview(out)
    pos = 0
    for i in range(chunks):
        piece = src[i * CHUNK : (i + 1) * CHUNK]
        aead.encrypt_into(nonce_for(i), piece, None, dst[pos : pos + len(piece) + TAG])
        pos += len(piece) + TAG
    return out


def open_chunks(sealed: bytes | bytearray) -> bytearray:
    """The fresh-buffer limit, decrypting."""
    step = CHUNK + TAG
    chunks = max(1, -(-len(sealed) // step))
    out = bytearray(len(sealed) - TAG * chunks)
    aead = AESGCM(KEY)
    src = memoryview(sealed)
    dst = memoryview(out)
    pos = 0
    for i in range(chunks):
        piece = src[i * step : (i + 1) * step]
        aead.decrypt_into(nonce_for(i), piece, None, dst[pos : pos + len(piece) - TAG])
        pos += len(piece) - TAG
    return out


def seal_file(src_path: Path, dst_path: Path) -> None:
    """The stream limit: the chunk loop file to file over two reused buffers."""
    aead = AESGCM(KEY)
    in_buf = bytearray(CHUNK)
    out_buf = bytearray(CHUNK + TAG)
    in_view = memoryview(in_buf)
    out_view = memoryview(out_buf)
    with open(src_path, "rb") as src, open(dst_path, "wb") as dst:
        i = 0
        while got := src.readinto(in_buf):
            aead.encrypt_into(nonce_for(i), in_view[:got], None, out_view[: got + TAG])
            dst.write(out_view[: got + TAG])
            i += 1


def open_file(src_path: Path, dst_path: Path) -> None:
    """The stream limit, decrypting."""
    aead = AESGCM(KEY)
    in_buf = bytearray(CHUNK + TAG)
    out_buf = bytearray(CHUNK)
    in_view = memoryview(in_buf)
    out_view = memoryview(out_buf)
    with open(src_path, "rb") as src, open(dst_path, "wb") as dst:
        i = 0
        while got := src.readinto(in_buf):
            aead.decrypt_into(nonce_for(i), in_view[:got], None, out_view[: got - TAG])
            dst.write(out_view[: got - TAG])
            i += 1
