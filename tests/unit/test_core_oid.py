"""core.oid: the dotted form CMS and OpenPGP both print OIDs in."""

from __future__ import annotations

import pytest

from e2ee_mail.core.oid import dotted


@pytest.mark.parametrize(
    ("content", "text"),
    [
        # id-data (RFC 5652 §4) and NIST P-256 (RFC 9580 §9.2).
        (bytes.fromhex("2a864886f70d010701"), "1.2.840.113549.1.7.1"),
        (bytes.fromhex("2a8648ce3d030107"), "1.2.840.10045.3.1.7"),
        # The first subidentifier of a 2.x OID may exceed 80 (X.690 §8.19.4).
        (bytes.fromhex("8837"), "2.999"),
        (b"\x00", "0.0"),
    ],
)
def test_dotted_form(content: bytes, text: str) -> None:
    assert dotted(content) == text


@pytest.mark.parametrize("content", [b"", b"\x2a\x86", b"\x80"])
def test_malformed_content_gives_none(content: bytes) -> None:
    assert dotted(content) is None
