"""core/keywrap.py: RFC 3394 known answers, round trips, and uniform unwrap failures."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from e2ee_mail.core import keywrap
from e2ee_mail.errors import DECRYPTION_FAILED, DecryptionError, UsageError

# RFC 3394 §4.6: 256 bits of key data with a 256-bit KEK.
KEK = bytes.fromhex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F")
KEY = bytes.fromhex("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F")
WRAPPED = bytes.fromhex(
    "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"
)


def test_wrap_matches_rfc3394_section_4_6() -> None:
    assert keywrap.wrap(KEK, KEY) == WRAPPED
    assert keywrap.unwrap(KEK, WRAPPED) == KEY


@given(
    kek=st.sampled_from([16, 24, 32]).flatmap(
        lambda n: st.binary(min_size=n, max_size=n)
    ),
    blocks=st.integers(min_value=2, max_value=8),
    data=st.data(),
)
def test_wrap_then_unwrap_returns_the_key(
    kek: bytes, blocks: int, data: st.DataObject
) -> None:
    key = data.draw(st.binary(min_size=8 * blocks, max_size=8 * blocks))
    wrapped = keywrap.wrap(kek, key)
    assert len(wrapped) == len(key) + 8
    assert keywrap.unwrap(kek, wrapped) == key


def _bad_wraps() -> list[bytes]:
    flips = [
        WRAPPED[:i] + bytes([WRAPPED[i] ^ (1 << (i % 8))]) + WRAPPED[i + 1 :]
        for i in range(0, len(WRAPPED), 5)
    ]
    return [*flips, WRAPPED[:-8], WRAPPED[:-1], WRAPPED + b"\x00", b"", WRAPPED[:16]]


@pytest.mark.parametrize("bad", _bad_wraps(), ids=lambda b: f"{len(b)}:{b[:4].hex()}")
def test_every_bad_wrap_gives_the_same_decryption_error(bad: bytes) -> None:
    with pytest.raises(DecryptionError) as info:
        keywrap.unwrap(KEK, bad)
    assert str(info.value) == DECRYPTION_FAILED
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.parametrize("kek", [bytes(32), KEK[:16], KEK[:24], KEK[:31], b""])
def test_wrong_or_malformed_kek_gives_the_same_decryption_error(kek: bytes) -> None:
    with pytest.raises(DecryptionError) as info:
        keywrap.unwrap(kek, WRAPPED)
    assert str(info.value) == DECRYPTION_FAILED


@pytest.mark.parametrize("size", [0, 1, 7, 8, 15, 17, 20, 33])
def test_wrap_refuses_key_sizes_rfc3394_cannot_take(size: int) -> None:
    with pytest.raises(UsageError, match="key wrap"):
        keywrap.wrap(KEK, bytes(size))


def test_wrap_refuses_a_kek_that_is_not_an_aes_key() -> None:
    with pytest.raises(UsageError):
        keywrap.wrap(KEK[:20], KEY)
