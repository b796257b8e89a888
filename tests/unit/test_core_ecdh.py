"""Curve25519Legacy ECDH (RFC 9580 §11.5) in core/ecdh.py."""

from __future__ import annotations

import hashlib
import os

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519 as X

from e2ee_mail.core import ecdh, x25519
from e2ee_mail.core.x25519 import public_bytes
from e2ee_mail.errors import DecryptionError, FormatError

CV25519_OID = bytes.fromhex("2b060104019755010501")
FINGERPRINT = bytes(range(20))


def test_param_block_has_the_rfc_size_for_curve25519legacy_v4() -> None:
    # RFC 9580 §11.5: 56 octets for Curve25519Legacy and a v4 fingerprint.
    param = ecdh.ecdh_param(CV25519_OID, 18, 8, 7, FINGERPRINT)
    assert len(param) == 56
    assert param[:11] == bytes((10,)) + CV25519_OID
    assert param[11:16] == bytes((18, 3, 1, 8, 7))
    assert param[16:36] == b"Anonymous Sender    "
    assert param[36:] == FINGERPRINT


def test_kdf_is_one_hash_over_counter_secret_and_param() -> None:
    shared, param = os.urandom(32), os.urandom(56)
    expected = hashlib.sha256(b"\x00\x00\x00\x01" + shared + param).digest()
    assert ecdh.ecdh_kdf(shared, param, hash_name="sha256", length=16) == expected[:16]
    assert ecdh.ecdh_kdf(shared, param, hash_name="sha256", length=32) == expected


@pytest.mark.parametrize(("kek", "hash_name"), [(16, "sha256"), (32, "sha512")])
def test_wrap_shared_round_trips(kek: int, hash_name: str) -> None:
    private = X.X25519PrivateKey.generate()
    param = ecdh.ecdh_param(CV25519_OID, 18, 8, 7, FINGERPRINT)
    payload = b"\x09" + os.urandom(32) + b"\x12\x34"
    eph, shared = x25519.ephemeral_agree(public_bytes(private))
    wrapped = ecdh.wrap_shared(
        shared, param, payload, hash_name=hash_name, kek_size=kek
    )
    assert len(wrapped) == 48  # 35 octets padded to 40, plus the 8-octet IV
    got = ecdh.unwrap_shared(
        x25519.agree(private, eph), param, wrapped, hash_name=hash_name, kek_size=kek
    )
    assert got == payload


def test_unwrap_shared_binds_the_fingerprint() -> None:
    private = X.X25519PrivateKey.generate()
    param = ecdh.ecdh_param(CV25519_OID, 18, 8, 7, FINGERPRINT)
    eph, shared = x25519.ephemeral_agree(public_bytes(private))
    wrapped = ecdh.wrap_shared(
        shared, param, b"\x09" + bytes(34), hash_name="sha256", kek_size=16
    )
    other = ecdh.ecdh_param(CV25519_OID, 18, 8, 7, bytes(20))
    with pytest.raises(DecryptionError):
        ecdh.unwrap_shared(
            x25519.agree(private, eph), other, wrapped, hash_name="sha256", kek_size=16
        )


@pytest.mark.parametrize("n", range(0, 17))
def test_pkcs5_padding_round_trips(n: int) -> None:
    padded = ecdh.pkcs5_pad(bytes(n))
    assert len(padded) % 8 == 0 and len(padded) > n
    assert ecdh.pkcs5_unpad(padded) == bytes(n)


@pytest.mark.parametrize(
    "block", [b"", bytes(7), bytes(8), b"\x01" * 7 + b"\x09", b"\x00" * 6 + b"\x01\x02"]
)
def test_bad_padding_is_the_same_decryption_error(block: bytes) -> None:
    with pytest.raises(DecryptionError):
        ecdh.pkcs5_unpad(block)


def test_point_encoding_round_trips_and_checks_the_prefix() -> None:
    native = os.urandom(32)
    assert ecdh.decode_point(ecdh.encode_point(native)) == native
    with pytest.raises(FormatError):
        ecdh.decode_point(b"\x04" + native)
    with pytest.raises(FormatError):
        ecdh.decode_point(b"\x40" + native[:31])


def test_legacy_secret_is_reversed_and_clamped() -> None:
    native = os.urandom(32)
    legacy = ecdh.native_to_legacy_secret(native)
    value = int.from_bytes(legacy, "big")
    assert value % 8 == 0 and 2**254 <= value < 2**255
    back = ecdh.legacy_secret_to_native(legacy.lstrip(b"\x00"))
    a = X.X25519PrivateKey.from_private_bytes(native)
    b = X.X25519PrivateKey.from_private_bytes(back)
    assert public_bytes(a) == public_bytes(b)
