"""core/kdf.py: HKDF-SHA256 against RFC 5869, and the X9.63 KDF's inputs all matter."""

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


@pytest.mark.parametrize("hash_name", ["sha256", "sha384", "sha512"])
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
