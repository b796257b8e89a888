"""AES-EAX from CTR and CMAC (core/eax.py), and the chunk loop in its LibrePGP style
with each mode. Published vectors: vectors/data/core/aes_eax_wycheproof.json."""

from __future__ import annotations

import io

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

from e2ee_mail.core import chunked, chunkstream, eax
from e2ee_mail.errors import DecryptionError, UsageError

KEY = bytes(range(32))
NONCE = bytes(range(100, 116))


def _omac(key: bytes, t: int, data: bytes) -> bytes:
    mac = CMAC(algorithms.AES(key))
    mac.update(t.to_bytes(16, "big") + data)
    return mac.finalize()


def _reference(key: bytes, nonce: bytes, msg: bytes, ad: bytes) -> bytes:
    """EAX as the paper writes it, one CMAC object per OMAC."""
    n = _omac(key, 0, nonce)
    h = _omac(key, 1, ad)
    ctr = Cipher(algorithms.AES(key), modes.CTR(n)).encryptor()
    c = ctr.update(msg) + ctr.finalize()
    tag = bytes(a ^ b ^ d for a, b, d in zip(n, h, _omac(key, 2, c), strict=True))
    return c + tag


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 31, 32, 33, 1000])
@pytest.mark.parametrize("key_size", [16, 24, 32])
def test_matches_the_definition_and_round_trips(size: int, key_size: int) -> None:
    key = KEY[:key_size]
    msg = bytes(i % 251 for i in range(size))
    sealed = eax.eax_seal(key, NONCE, msg, b"ad")
    assert sealed == _reference(key, NONCE, msg, b"ad")
    assert eax.eax_open(key, NONCE, sealed, b"ad") == msg
    assert eax.AESEAX(key).decrypt(NONCE, sealed, b"ad") == msg


def test_no_associated_data_is_the_empty_string() -> None:
    aead = eax.AESEAX(KEY)
    assert aead.encrypt(NONCE, b"m", None) == aead.encrypt(NONCE, b"m", b"")


def test_into_buffers_and_nothing_written_on_failure() -> None:
    aead = eax.AESEAX(KEY)
    msg = bytes(range(50))
    out = bytearray(len(msg) + 16)
    assert aead.encrypt_into(NONCE, memoryview(msg), b"x", memoryview(out)) == 66
    back = bytearray(50)
    assert aead.decrypt_into(NONCE, out, b"x", back) == 50
    assert back == msg
    for damaged in (
        out[:-1] + bytes([out[-1] ^ 1]),
        bytes([out[0] ^ 1]) + out[1:],
        out[:-1],
    ):
        buf = bytearray(b"\xaa" * 50)
        with pytest.raises(InvalidTag):
            aead.decrypt_into(NONCE, damaged, b"x", buf)
        assert buf == b"\xaa" * 50
    with pytest.raises(InvalidTag):
        aead.decrypt_into(NONCE, out, b"y", bytearray(50))
    with pytest.raises(InvalidTag):
        aead.decrypt_into(NONCE, b"short", b"", bytearray(0))


def test_errors() -> None:
    with pytest.raises(UsageError):
        eax.AESEAX(bytes(20))
    with pytest.raises(DecryptionError):
        eax.eax_open(bytes(20), NONCE, bytes(32))
    with pytest.raises(DecryptionError):
        eax.eax_open(KEY, NONCE, bytes(32))
    with pytest.raises(UsageError):
        eax.AESEAX(KEY).encrypt_into(NONCE, b"abc", None, bytearray(18))


# -- the chunk loop, LibrePGP style ----------------------------------------------------

CHUNK = 64


def params(mode: chunked.Mode) -> chunked.ChunkParams:
    iv = bytes(range(1, chunked.NONCE_SIZE[mode] + 1))
    return chunked.ChunkParams(
        mode, KEY, iv, CHUNK, b"\xd4\x01\x09\x02\x00", "librepgp"
    )


def test_librepgp_nonces_and_associated_data() -> None:
    p = params("ocb")
    assert p.nonce(0) == bytes(range(1, 16))
    assert p.nonce(3) == bytes(range(1, 14)) + bytes([14, 15 ^ 3])
    assert p.nonce(1 << 56)[7] == 8 ^ 1
    assert p.chunk_aad(2) == b"\xd4\x01\x09\x02\x00" + (2).to_bytes(8, "big")
    assert p.final_aad(100, 2) == p.chunk_aad(2) + (100).to_bytes(8, "big")
    rfc = chunked.ChunkParams("ocb", KEY, bytes(7), CHUNK, b"aad")
    assert rfc.chunk_aad(5) == b"aad"
    assert rfc.final_aad(9, 5) == b"aad" + (9).to_bytes(8, "big")
    with pytest.raises(UsageError):
        chunked.ChunkParams("ocb", KEY, bytes(7), CHUNK, b"", "librepgp")
    with pytest.raises(UsageError):
        chunked.ChunkParams("ocb", KEY, bytes(15), CHUNK, b"", "other")  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["gcm", "ocb", "eax"])
@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK])
def test_librepgp_style_round_trips(mode: chunked.Mode, size: int) -> None:
    p = params(mode)
    data = bytes(i % 256 for i in range(size))
    out = bytearray(chunked.sealed_size(size, CHUNK))
    chunked.seal_into(p, data, memoryview(out))
    stream = io.BytesIO()
    sealer = chunkstream.ChunkSealer(p, stream)
    sealer.write(data)
    sealer.close()
    assert stream.getvalue() == out
    back = bytearray(size)
    chunked.open_into(p, out, memoryview(back))
    assert back == data
    assert chunkstream.ChunkOpener(p, io.BytesIO(bytes(out))).read() == data
    chunked.verify_final_tag(p, len(out), out[-16:])
    with pytest.raises(DecryptionError):
        chunked.verify_final_tag(p, len(out), bytes(16))


def test_the_two_styles_differ() -> None:
    data = bytes(3 * CHUNK)
    librepgp = params("ocb")
    rfc = chunked.ChunkParams("ocb", KEY, bytes(range(1, 8)), CHUNK, librepgp.aad)
    a = bytearray(chunked.sealed_size(len(data), CHUNK))
    b = bytearray(len(a))
    chunked.seal_into(librepgp, data, memoryview(a))
    chunked.seal_into(rfc, data, memoryview(b))
    assert a != b
    with pytest.raises(DecryptionError):
        chunked.open_into(rfc, a, memoryview(bytearray(len(data))))
