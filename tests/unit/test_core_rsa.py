"""core/rsa.py: OAEP round trips, and failures that all look the same (no oracle)."""

from __future__ import annotations

import functools
import os

import pytest
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa as crsa
from hypothesis import given, settings
from hypothesis import strategies as st

from e2ee_mail.core import rsa
from e2ee_mail.errors import DECRYPTION_FAILED, DecryptionError, Error

CEK = bytes(range(32))
LABEL = b"e2ee_mail test label"


@functools.lru_cache(maxsize=2)
def _key(name: str) -> crsa.RSAPrivateKey:
    return crsa.generate_private_key(public_exponent=65537, key_size=2048)


def _bad_oaep_ciphertexts() -> dict[str, bytes]:
    key, other = _key("a"), _key("b")
    public = key.public_key()
    good = rsa.encrypt_oaep(public, CEK)
    n = public.public_numbers().n
    size = (n.bit_length() + 7) // 8
    return {
        "bit flipped": good[:-1] + bytes([good[-1] ^ 1]),
        "first byte flipped": bytes([good[0] ^ 0x40]) + good[1:],
        "random": os.urandom(size),
        "all zero": bytes(size),
        "one": (1).to_bytes(size, "big"),
        "n - 1": (n - 1).to_bytes(size, "big"),
        "n": n.to_bytes(size, "big"),
        "all ones": b"\xff" * size,
        "empty": b"",
        "truncated": good[:-1],
        "extended": good + b"\x00",
        "leading zero added": b"\x00" + good,
        "other key": rsa.encrypt_oaep(other.public_key(), CEK),
        "other label": rsa.encrypt_oaep(public, CEK, label=LABEL),
        "sha1 oaep": rsa.encrypt_oaep(
            public, CEK, hash_name="sha1", mgf_hash_name="sha1"
        ),
        "pkcs1 v1.5": public.encrypt(CEK, padding.PKCS1v15()),
    }


@pytest.mark.parametrize("label", [None, b"", LABEL])
@pytest.mark.parametrize("size", [0, 1, 32, 190])
def test_oaep_round_trip(label: bytes | None, size: int) -> None:
    key = _key("a")
    message = os.urandom(size)
    ct = rsa.encrypt_oaep(key.public_key(), message, label=label)
    assert rsa.decrypt_oaep(key, ct, label=label) == message


def test_oaep_is_randomized() -> None:
    public = _key("a").public_key()
    assert rsa.encrypt_oaep(public, CEK) != rsa.encrypt_oaep(public, CEK)


def test_every_bad_oaep_ciphertext_fails_with_the_same_error() -> None:
    key = _key("a")
    seen = set()
    for name, ct in _bad_oaep_ciphertexts().items():
        with pytest.raises(DecryptionError) as info:
            rsa.decrypt_oaep(key, ct)
        exc = info.value
        # Same class, same text, no chained cause that could leak which check failed.
        seen.add((type(exc), str(exc), exc.args))
        assert exc.__cause__ is None and exc.__suppress_context__, name
    assert seen == {(DecryptionError, DECRYPTION_FAILED, (DECRYPTION_FAILED,))}


def test_pkcs1v15_round_trip() -> None:
    key = _key("a")
    ct = rsa.encrypt_pkcs1v15(key.public_key(), CEK)
    assert rsa.decrypt_pkcs1v15(key, ct) == CEK


def test_bad_pkcs1v15_ciphertexts_never_say_why() -> None:
    # With implicit rejection a bad padding decrypts to pseudo-random bytes; a bad
    # length is the fixed DecryptionError. Nothing else may come out.
    key = _key("a")
    for name, ct in _bad_oaep_ciphertexts().items():
        if name == "pkcs1 v1.5":
            continue
        try:
            out = rsa.decrypt_pkcs1v15(key, ct)
        except DecryptionError as exc:
            assert str(exc) == DECRYPTION_FAILED, name
            assert exc.__cause__ is None, name
        else:
            assert out != CEK, name


@settings(max_examples=20)
@given(st.binary(max_size=300))
def test_oaep_decrypt_of_any_bytes_raises_only_decryption_error(blob: bytes) -> None:
    with pytest.raises(Error) as info:
        rsa.decrypt_oaep(_key("a"), blob)
    assert type(info.value) is DecryptionError


def test_unwrap_returns_the_key_when_it_unwraps() -> None:
    key = _key("a")
    oaep = rsa.encrypt_oaep(key.public_key(), CEK)
    v15 = rsa.encrypt_pkcs1v15(key.public_key(), CEK)
    assert rsa.unwrap_oaep(key, oaep, 32) == (CEK, True)
    assert rsa.unwrap_pkcs1v15(key, v15, 32) == (CEK, True)


@pytest.mark.parametrize("scheme", ["oaep", "pkcs1v15"])
def test_unwrap_never_fails_it_answers_a_random_stand_in(scheme: str) -> None:
    # Implicit rejection: every bad ciphertext, and a good one of a key of another
    # size, gives random octets of the expected size instead of an error.
    key = _key("a")
    unwrap = rsa.unwrap_oaep if scheme == "oaep" else rsa.unwrap_pkcs1v15
    bad = dict(_bad_oaep_ciphertexts())
    bad["a 16-octet key"] = (
        rsa.encrypt_oaep(key.public_key(), CEK[:16])
        if scheme == "oaep"
        else rsa.encrypt_pkcs1v15(key.public_key(), CEK[:16])
    )
    if scheme == "pkcs1v15":
        # A v1.5 ciphertext of the right key is not a bad one for this scheme.
        bad["pkcs1 v1.5"] = rsa.encrypt_oaep(key.public_key(), CEK)
    for name, ct in bad.items():
        first, flag = unwrap(key, ct, 32)
        second, _ = unwrap(key, ct, 32)
        assert len(first) == 32 and first != CEK, name
        if not flag:
            assert first != second, name  # fresh randomness every time
        else:
            # Only OpenSSL's synthetic v1.5 message can pass for a key (by its
            # size); it is derived from the ciphertext, never the real key.
            assert scheme == "pkcs1v15", name
