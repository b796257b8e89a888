"""Format detection from public bytes."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

import e2ee_mail
from e2ee_mail._detect import detect


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"-----BEGIN PGP MESSAGE-----\n\nwV4D", "openpgp"),
        (b"\r\n  -----BEGIN PGP MESSAGE-----\r\n", "openpgp"),
        (b"-----BEGIN CMS-----\nMIAG", "cms"),
        (b"-----BEGIN PKCS7-----\nMIAG", "cms"),
        (b"\x30\x80\x06\x0b", "cms"),
        (b"\xc1\x5e\x06", "openpgp"),  # new-format PKESK header
        (b"\x84\x5e\x03", "openpgp"),  # old-format PKESK header
        (b"From: a@example.org\r\nTo: b@example.org\r\n", "mime"),
        (b"MIME-Version: 1.0\n", "mime"),
    ],
)
def test_detect_names_each_format(head: bytes, expected: str) -> None:
    assert detect(head) == expected


@pytest.mark.parametrize("head", [b"", b"   \n", b"hello world", b"\x00\x01", b": x"])
def test_detect_refuses_unknown_input_with_format_error(head: bytes) -> None:
    with pytest.raises(e2ee_mail.FormatError):
        detect(head)


@given(st.binary(max_size=200))
def test_detect_never_raises_anything_but_format_error(head: bytes) -> None:
    with contextlib.suppress(e2ee_mail.FormatError):
        assert detect(head) in ("cms", "openpgp", "mime")
