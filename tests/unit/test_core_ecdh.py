"""Curve25519Legacy ECDH (RFC 9580 §11.5) and X25519 PKESK wrapping (§5.1.6) in
core/ecdh.py.

Published data: RFC 9580 (July 2024) Appendix A.8.2 "X25519 Encryption/Decryption of
the Session Key", https://www.rfc-editor.org/rfc/rfc9580#appendix-A.8.2.
"""

from __future__ import annotations

import hashlib
import os

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519 as X

from e2ee_mail.core import ecdh
from e2ee_mail.core.x25519 import public_bytes
from e2ee_mail.errors import DecryptionError, FormatError

A8_EPHEMERAL_SECRET = bytes.fromhex(
    "af1e43c0d123efe893a7d4d390f3a761e3fac33dfc7f3edaa830c9011352c779"
)
A8_EPHEMERAL_PUBLIC = bytes.fromhex(
    "87cf18d5f1b53f817cce5a004cf393cc8958bddc065f25f84af509b17dd36764"
)
A8_RECIPIENT_PUBLIC = bytes.fromhex(
    "8693248367f9e5015db922f8f48095dda784987f2d5985b12fbad16caf5e4435"
)
A8_RECIPIENT_SECRET = bytes.fromhex(
    "4d600a4f794d44775c57a26e0feefed558e9afffd6ad0d582d57fb2ba2dcedb8"
)
A8_ESK = bytes.fromhex("dea355437956617901e06957fbca8a6a47a5b5153e8d3ab7")
A8_SESSION_KEY = bytes.fromhex("dd708f6fa1ed65114d68d2343e7c2f1d")

CV25519_OID = bytes.fromhex("2b060104019755010501")
FINGERPRINT = bytes(range(20))


def test_rfc9580_a8_x25519_wrap_with_pinned_ephemeral() -> None:
    eph, wrapped = ecdh.x25519_wrap(
        A8_RECIPIENT_PUBLIC, A8_SESSION_KEY, _ephemeral_secret=A8_EPHEMERAL_SECRET
    )
    assert eph == A8_EPHEMERAL_PUBLIC
    assert wrapped == A8_ESK


def test_rfc9580_a8_x25519_unwrap() -> None:
    private = X.X25519PrivateKey.from_private_bytes(A8_RECIPIENT_SECRET)
    assert ecdh.x25519_unwrap(private, A8_EPHEMERAL_PUBLIC, A8_ESK) == A8_SESSION_KEY


def test_x25519_unwrap_with_wrong_key_is_decryption_error() -> None:
    with pytest.raises(DecryptionError):
        ecdh.x25519_unwrap(X.X25519PrivateKey.generate(), A8_EPHEMERAL_PUBLIC, A8_ESK)


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
def test_ecdh_wrap_round_trips(kek: int, hash_name: str) -> None:
    private = X.X25519PrivateKey.generate()
    param = ecdh.ecdh_param(CV25519_OID, 18, 8, 7, FINGERPRINT)
    payload = b"\x09" + os.urandom(32) + b"\x12\x34"
    eph, wrapped = ecdh.ecdh_wrap(
        public_bytes(private), param, payload, hash_name=hash_name, kek_size=kek
    )
    assert len(wrapped) == 48  # 35 octets padded to 40, plus the 8-octet IV
    got = ecdh.ecdh_unwrap(
        private, eph, param, wrapped, hash_name=hash_name, kek_size=kek
    )
    assert got == payload


def test_ecdh_unwrap_binds_the_fingerprint() -> None:
    private = X.X25519PrivateKey.generate()
    param = ecdh.ecdh_param(CV25519_OID, 18, 8, 7, FINGERPRINT)
    eph, wrapped = ecdh.ecdh_wrap(
        public_bytes(private),
        param,
        b"\x09" + bytes(34),
        hash_name="sha256",
        kek_size=16,
    )
    other = ecdh.ecdh_param(CV25519_OID, 18, 8, 7, bytes(20))
    with pytest.raises(DecryptionError):
        ecdh.ecdh_unwrap(private, eph, other, wrapped, hash_name="sha256", kek_size=16)


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
