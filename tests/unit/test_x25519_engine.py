"""core/x25519.py sender side on PyNaCl: the secret comes from core.random, and an
all-zero shared secret is refused even if libsodium were to return it."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519 as cx25519

from e2ee_mail.core import x25519
from e2ee_mail.errors import FormatError

SECRET = bytes(range(1, 33))


def test_ephemeral_secret_is_drawn_from_core_random(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn: list[int] = []

    def fake_random(n: int) -> bytes:
        drawn.append(n)
        return SECRET

    monkeypatch.setattr(x25519, "random_bytes", fake_random)
    recipient = cx25519.X25519PrivateKey.generate()
    public = x25519.public_bytes(recipient)
    assert x25519.ephemeral_agree(public) == x25519.ephemeral_agree_from_parts(
        public, SECRET
    )
    assert drawn == [32]
    ephemeral, shared = x25519.ephemeral_agree(public)
    assert x25519.agree(recipient, ephemeral) == shared


class _ZeroSodium:
    """libsodium's ``lib`` whose scalar multiplication reports success but
    writes an all-zero result (a version that stopped refusing it)."""

    def __init__(self, lib: Any) -> None:
        self._lib = lib

    def crypto_scalarmult(self, out: Any, n: bytes, p: bytes) -> int:
        return 0  # `out` stays as ffi.new made it: zeros

    def crypto_scalarmult_base(self, out: Any, n: bytes) -> int:
        return int(self._lib.crypto_scalarmult_base(out, n))


def test_all_zero_shared_secret_is_refused_whatever_libsodium_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ffi, lib = x25519._sodium()
    monkeypatch.setattr(x25519, "_SODIUM", (ffi, _ZeroSodium(lib)))
    public = x25519.public_bytes(cx25519.X25519PrivateKey.generate())
    with pytest.raises(FormatError, match="low-order"):
        x25519.ephemeral_agree(public)


def test_libsodium_refusal_is_a_format_error() -> None:
    # A low-order point (RFC 7748 §6.1): libsodium refuses the exchange itself.
    with pytest.raises(FormatError, match="low-order"):
        x25519.ephemeral_agree(bytes(32))


def test_agrees_with_cryptography() -> None:
    recipient = cx25519.X25519PrivateKey.generate()
    ephemeral, shared = x25519.ephemeral_agree_from_parts(
        x25519.public_bytes(recipient), SECRET
    )
    mine = cx25519.X25519PrivateKey.from_private_bytes(SECRET)
    assert ephemeral == x25519.public_bytes(mine)
    assert shared == mine.exchange(recipient.public_key())
    assert x25519.agree(recipient, ephemeral) == shared
