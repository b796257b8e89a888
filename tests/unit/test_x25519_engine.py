"""core/x25519.py sender side on PyNaCl: the secret comes from core.random, and an
all-zero shared secret is refused even if libsodium were to return it."""

from __future__ import annotations

import nacl.bindings
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


def test_all_zero_shared_secret_is_refused_whatever_libsodium_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        nacl.bindings, "crypto_scalarmult", lambda n, p: bytes(32), raising=True
    )
    public = x25519.public_bytes(cx25519.X25519PrivateKey.generate())
    with pytest.raises(FormatError, match="low-order"):
        x25519.ephemeral_agree(public)
