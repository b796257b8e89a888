"""SEIPDv1 bulk cipher: AES-CFB with the random prefix and the SHA-1 MDC (core/cfb.py).

Published data: RFC 9580 (July 2024) Appendix A.12 "Sample Messages Encrypted Using
Argon2", https://www.rfc-editor.org/rfc/rfc9580#appendix-A.12 — each message is a v4
SKESK (Argon2, passphrase "password") and a v1 SEIPD packet; the session keys are the
ones printed in the armor comments. The SEIPD bodies below are those packets' bodies.
"""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from e2ee_mail.core import cfb
from e2ee_mail.errors import DecryptionError
from e2ee_mail.openpgp import s2k


def open_stream(
    key: bytes, src: io.BytesIO, dst: io.BytesIO, *, algorithm: str = "aes"
) -> int:
    """Drive CFBStreamOpener as openpgp/seipdv1.py does: hold every octet back until
    finalize() has checked the MDC, then release it."""
    opener = cfb.CFBStreamOpener(key, algorithm=algorithm)
    held = io.BytesIO()
    while chunk := src.read(5000):
        held.write(opener.update(chunk))
    opener.finalize()
    return dst.write(held.getvalue())


LITERAL_HELLO = b"\xcb\x13b\x00\x00\x00\x00\x00Hello, world!"
A12 = {
    "A.12.1 AES-128": (
        "01FE16BBACFD1E7B78EF3B865187374F",
        "019818a63e609cf8bba17e0c394304eaf9351417b7f28921fe26e263a52b20bfbaa2dba672c9"
        "64c9d3ab7a3bf46c414dd21d3b38475df037a6a578993cc5",
    ),
    "A.12.2 AES-192": (
        "27006DAE68E509022CE45A14E569E91001C2955AF8DFE194",
        "01d2754b0e7a3d16222998c2bc783ed9b9ead36b37dc0249a3205ec4123840a0131519327b3d"
        "a095d265751cac2d583beccc307e09769ff779ef659c8803",
    ),
    "A.12.3 AES-256": (
        "BBEDA55B9AAE63DAC45D4F49D89DACF4AF37FEFC13BAB2F1F8E18FB74580D8B0",
        "01f8abb5b204dd268f3b5f55abba9ee5d30272a5996cdb553077aee6f64a05eb479e7c7fcaf7"
        "90f5bac9625ce126f1ac90250999ae37fa2babfd3d6c2a31",
    ),
}
# A.12.1's v4 SKESK body: version 4, AES-128, Argon2 S2K (t=1, p=4, m=21), ESK.
A12_1_SKESK = bytes.fromhex(
    "0407049c52f83c27f95e50d535440ecdff31360104159e52fcad22cf3f956542cba794ef840b11"
)
KEY = bytes(range(32))


@pytest.mark.parametrize("name", sorted(A12))
def test_rfc9580_a12_seipd_v1_opens_with_published_session_key(name: str) -> None:
    key_hex, body_hex = A12[name]
    body = bytes.fromhex(body_hex)
    assert body[0] == 1  # SEIPD version 1: the cipher text follows
    assert cfb.cfb_open(bytes.fromhex(key_hex), body[1:]) == LITERAL_HELLO
    out = io.BytesIO()
    open_stream(bytes.fromhex(key_hex), io.BytesIO(body[1:]), out)
    assert out.getvalue() == LITERAL_HELLO


@pytest.mark.slow
def test_rfc9580_a12_argon2_derives_the_published_session_key() -> None:
    """Argon2 with t=1, p=4, m=2**21 KiB as published (about 6 s, 2 GiB), then the
    v4 SKESK's encrypted session key opened with the derived key."""
    spec, end = s2k.parse_s2k(A12_1_SKESK, 2)
    kek = s2k.derive_key(spec, b"password", 16)
    # RFC 9580 §5.3.1: the encrypted session key is CFB (zero IV) of alg || key.
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

    dec = Cipher(algorithms.AES(kek), CFB(bytes(16))).decryptor()
    esk = dec.update(A12_1_SKESK[end:]) + dec.finalize()
    assert esk[0] == 7
    assert esk[1:] == bytes.fromhex(A12["A.12.1 AES-128"][0])


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 4095, 65536, (1 << 20) + 3])
@pytest.mark.parametrize("key_size", [16, 24, 32])
def test_seal_then_open_round_trips(size: int, key_size: int) -> None:
    key = KEY[:key_size]
    data = os.urandom(size)
    sealed = cfb.cfb_seal(key, data)
    assert len(sealed) == cfb.sealed_size(size)
    assert cfb.cfb_open(key, sealed) == data


def test_prefix_repeats_its_last_two_octets() -> None:
    sealed = cfb.cfb_seal(KEY, b"x", _random_block=bytes(range(16)))
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

    dec = Cipher(algorithms.AES(KEY), CFB(bytes(16))).decryptor()
    plain = dec.update(sealed) + dec.finalize()
    assert plain[:18] == bytes(range(16)) + bytes((14, 15))
    assert plain[19:21] == b"\xd3\x14"


def test_every_single_bit_flip_fails_closed() -> None:
    sealed = bytearray(cfb.cfb_seal(KEY, b"attack at dawn" * 3))
    for i in range(len(sealed)):
        sealed[i] ^= 0x01
        with pytest.raises(DecryptionError):
            cfb.cfb_open(KEY, bytes(sealed))
        sealed[i] ^= 0x01


def test_quick_check_octets_are_not_an_oracle() -> None:
    # Damaging only the repeated prefix octets fails exactly like any other damage:
    # after the whole body is processed, with the same fixed error.
    sealed = bytearray(cfb.cfb_seal(KEY, b"data"))
    sealed[16] ^= 0xFF
    with pytest.raises(DecryptionError) as bad_prefix:
        cfb.cfb_open(KEY, bytes(sealed))
    sealed[16] ^= 0xFF
    sealed[-1] ^= 0xFF
    with pytest.raises(DecryptionError) as bad_mdc:
        cfb.cfb_open(KEY, bytes(sealed))
    assert str(bad_prefix.value) == str(bad_mdc.value)


@pytest.mark.parametrize("cut", [1, 2, 21, 22, 23, 40])
def test_truncated_message_fails_closed(cut: int) -> None:
    sealed = cfb.cfb_seal(KEY, b"some plaintext that matters")
    with pytest.raises(DecryptionError):
        cfb.cfb_open(KEY, sealed[:-cut])
    out = io.BytesIO()
    with pytest.raises(DecryptionError):
        open_stream(KEY, io.BytesIO(sealed[:-cut]), out)
    assert out.getvalue() == b""


def test_missing_mdc_fails_closed() -> None:
    # An SED-style body (prefix + data, no MDC trailer) must not open.
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

    enc = Cipher(algorithms.AES(KEY), CFB(bytes(16))).encryptor()
    body = enc.update(os.urandom(16) + b"\x00\x00" + b"plaintext without mdc" * 4)
    with pytest.raises(DecryptionError):
        cfb.cfb_open(KEY, body)


def test_wrong_key_fails_closed() -> None:
    sealed = cfb.cfb_seal(KEY, b"data")
    with pytest.raises(DecryptionError):
        cfb.cfb_open(bytes(32), sealed)


def test_failed_open_into_wipes_the_output() -> None:
    sealed = bytearray(cfb.cfb_seal(KEY, b"A" * 100))
    sealed[-1] ^= 1
    out = bytearray(100)
    with pytest.raises(DecryptionError):
        cfb.cfb_open_into(KEY, bytes(sealed), memoryview(out))
    assert out == bytes(100)


def test_stream_opener_releases_nothing_on_tampering() -> None:
    data = os.urandom(3 << 20)
    sealed = bytearray(cfb.cfb_seal(KEY, data))
    sealed[len(sealed) // 2] ^= 4
    out = io.BytesIO()
    with pytest.raises(DecryptionError):
        open_stream(KEY, io.BytesIO(bytes(sealed)), out)
    assert out.getvalue() == b""


def test_stream_seal_and_open_agree_with_bytes_api() -> None:
    data = os.urandom((2 << 20) + 11)
    dst = io.BytesIO()
    n = cfb.seal_stream(KEY, io.BytesIO(data), dst, _random_block=bytes(16))
    assert n == cfb.sealed_size(len(data))
    assert dst.getvalue() == cfb.cfb_seal(KEY, data, _random_block=bytes(16))
    out = io.BytesIO()
    assert open_stream(KEY, io.BytesIO(dst.getvalue()), out) == len(data)
    assert out.getvalue() == data


@given(st.binary(max_size=300), st.lists(st.integers(1, 64), max_size=20))
def test_stream_opener_handles_any_feeding_pattern(
    data: bytes, pieces: list[int]
) -> None:
    sealed = cfb.cfb_seal(KEY, data)
    opener = cfb.CFBStreamOpener(KEY)
    got = bytearray()
    pos = 0
    for n in [*pieces, len(sealed)]:
        got += opener.update(sealed[pos : pos + n])
        pos += n
    opener.finalize()
    assert got == data


def _legacy_seal(cls: type, key: bytes, block: int, data: bytes) -> bytes:
    """SEIPDv1 ciphertext written the long way with a decrepit cipher (test only)."""
    import hashlib

    from cryptography.hazmat.decrepit.ciphers.modes import CFB
    from cryptography.hazmat.primitives.ciphers import Cipher

    prefix = os.urandom(block)
    prefix += prefix[-2:]
    mdc = hashlib.sha1(prefix + data + b"\xd3\x14").digest()
    enc = Cipher(cls(key), CFB(bytes(block))).encryptor()
    return enc.update(prefix + data + b"\xd3\x14" + mdc) + enc.finalize()


@pytest.mark.parametrize(
    ("name", "size", "block"),
    [
        ("cast5", 16, 8),
        ("3des", 24, 8),
        ("blowfish", 16, 8),
        ("idea", 16, 8),
        ("camellia", 32, 16),
    ],
)
@pytest.mark.parametrize("length", [0, 1, 7, 8, 9, 1000])
def test_pre_aes_ciphers_open_with_their_block_size(
    name: str, size: int, block: int, length: int
) -> None:
    from cryptography.hazmat.decrepit.ciphers import algorithms as old

    cls = {
        "cast5": old.CAST5,
        "3des": old.TripleDES,
        "blowfish": old.Blowfish,
        "idea": old.IDEA,
        "camellia": old.Camellia,
    }[name]
    key = os.urandom(size)
    data = os.urandom(length)
    sealed = _legacy_seal(cls, key, block, data)
    assert cfb.cfb_open(key, sealed, algorithm=name) == data
    out = io.BytesIO()
    open_stream(key, io.BytesIO(sealed), out, algorithm=name)
    assert out.getvalue() == data
    damaged = bytearray(sealed)
    damaged[-1] ^= 1
    with pytest.raises(DecryptionError):
        cfb.cfb_open(key, bytes(damaged), algorithm=name)


def test_sealing_is_aes_only_and_unknown_algorithms_are_refused() -> None:
    from e2ee_mail.errors import UsageError

    with pytest.raises(UsageError):
        cfb.cfb_open(bytes(16), bytes(64), algorithm="twofish")
    with pytest.raises(UsageError):
        cfb.cfb_open(bytes(32), bytes(64), algorithm="cast5")  # wrong key size
    with pytest.raises(UsageError):
        cfb.cfb_seal(bytes(8), b"x")
