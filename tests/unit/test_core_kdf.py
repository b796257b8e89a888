"""core/kdf.py: HKDF-SHA256 against RFC 5869, the X9.63 KDF against NIST's CAVP
vectors, and its inputs all matter."""

from __future__ import annotations

import pytest

from e2ee_mail.core import kdf


def test_hkdf_sha256_matches_rfc5869_test_case_1() -> None:
    # RFC 5869 Appendix A.1.
    okm = kdf.hkdf_sha256(
        b"\x0b" * 22,
        salt=bytes(range(13)),
        info=bytes(range(0xF0, 0xFA)),
        length=42,
    )
    assert okm == bytes.fromhex(
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
        "34007208d5b887185865"
    )


def test_hkdf_sha256_matches_rfc5869_test_case_3_without_salt() -> None:
    # RFC 5869 Appendix A.3: zero-length salt and info.
    okm = kdf.hkdf_sha256(b"\x0b" * 22, salt=None, info=b"", length=42)
    assert okm == bytes.fromhex(
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
        "9d201395faa4b61a96c8"
    )


# NIST CAVP ANS X9.63-2001 KDF vectors (CAVS 12.0), [SHA-256], as published in
# pyca/cryptography's vectors/cryptography_vectors/KDF/ansx963_2001.txt: one block
# without SharedInfo, and four blocks with 128 bits of SharedInfo.
_X963_SHA256 = [
    (
        "96c05619d56c328ab95fe84b18264b08725b85e33fd34f08",
        "",
        "443024c3dae66b95e6f5670601558f71",
    ),
    (
        "22518b10e70f2a3f243810ae3254139efbee04aa57c7af7d",
        "75eef81aa3041e33b80971203d2c0c52",
        "c498af77161cc59f2962b9a713e2b215152d139766ce34a776df11866a69bf2e"
        "52a13d9c7c6fc878c50c5ea0bc7b00e0da2447cfd874f6cf92f30d0097111485"
        "500c90c3af8b487872d04685d14c8d1dc8d7fa08beb0ce0ababc11f0bd496269"
        "142d43525a78e5bc79a17f59676a5706dc54d54d4d1f0bd7e386128ec26afc21",
    ),
]


@pytest.mark.parametrize(("z", "shared_info", "key_data"), _X963_SHA256)
def test_x963_kdf_matches_nist_cavp(z: str, shared_info: str, key_data: str) -> None:
    out = kdf.x963_kdf(
        bytes.fromhex(z),
        shared_info=bytes.fromhex(shared_info),
        length=len(key_data) // 2,
        hash_name="sha256",
    )
    assert out.hex() == key_data


@pytest.mark.parametrize("hash_name", ["sha1", "sha256", "sha384", "sha512"])
def test_x963_kdf_output_depends_on_every_input(hash_name: str) -> None:
    base = kdf.x963_kdf(b"s" * 32, shared_info=b"info", length=32, hash_name=hash_name)
    assert len(base) == 32
    assert base == kdf.x963_kdf(
        b"s" * 32, shared_info=b"info", length=32, hash_name=hash_name
    )
    assert base != kdf.x963_kdf(
        b"t" * 32, shared_info=b"info", length=32, hash_name=hash_name
    )
    assert base != kdf.x963_kdf(
        b"s" * 32, shared_info=b"infx", length=32, hash_name=hash_name
    )
    longer = kdf.x963_kdf(
        b"s" * 32, shared_info=b"info", length=48, hash_name=hash_name
    )
    assert longer[:32] == base
