"""Zero-copy reads on the SEIPDv2 stream path: ChunkOpener.readview and
PacketBodyReader.readview hand out the same authenticated bytes as readinto."""

from __future__ import annotations

import io

import pytest

from e2ee_mail import errors
from e2ee_mail.core import chunked, chunkstream
from e2ee_mail.openpgp.packets.header import PacketBodyReader

PARAMS = chunked.ChunkParams("gcm", bytes(range(32)), bytes(4), 64, b"aad")
DATA = bytes(i % 253 for i in range(1000))


def _sealed(data: bytes) -> bytes:
    out = bytearray(chunked.sealed_size(len(data), PARAMS.chunk_size))
    chunked.seal_into(PARAMS, data, memoryview(out))
    return bytes(out)


def _drain_views(reader: chunkstream.ChunkOpener | PacketBodyReader) -> bytes:
    out = bytearray()
    while view := reader.readview(100):
        assert len(view) <= 100
        out += view
    return bytes(out)


def test_chunk_opener_views_match_the_plaintext() -> None:
    opener = chunkstream.ChunkOpener(PARAMS, io.BytesIO(_sealed(DATA)))
    assert _drain_views(opener) == DATA


def test_chunk_opener_view_of_a_forged_chunk_is_a_decryption_error() -> None:
    sealed = bytearray(_sealed(DATA))
    sealed[10] ^= 1
    opener = chunkstream.ChunkOpener(PARAMS, io.BytesIO(bytes(sealed)))
    with pytest.raises(errors.DecryptionError):
        opener.readview(100)


def test_packet_body_views_stop_at_the_body_end() -> None:
    opener = chunkstream.ChunkOpener(PARAMS, io.BytesIO(_sealed(DATA)))
    body = PacketBodyReader(opener, 600, False)  # type: ignore[arg-type]
    assert _drain_views(body) == DATA[:600]
    assert opener.read() == DATA[600:]


def test_packet_body_view_of_a_short_source_is_a_packet_error() -> None:
    opener = chunkstream.ChunkOpener(PARAMS, io.BytesIO(_sealed(DATA)))
    body = PacketBodyReader(opener, len(DATA) + 1, False)  # type: ignore[arg-type]
    with pytest.raises(errors.PacketError):
        _drain_views(body)
