"""AES key wrap (RFC 3394), the wrapping every X25519/ECDH recipient uses."""

from __future__ import annotations

from cryptography.hazmat.primitives import keywrap

from ..errors import DecryptionError

__all__ = ["unwrap", "wrap"]


def wrap(kek: bytes, key: bytes) -> bytes:
    """Wrap ``key`` (a multiple of 8 bytes, at least 16) under ``kek``."""
    return keywrap.aes_key_wrap(kek, key)


def unwrap(kek: bytes, wrapped: bytes) -> bytes:
    """Unwrap; any failure (bad length, integrity check) is a DecryptionError."""
    try:
        return keywrap.aes_key_unwrap(kek, wrapped)
    except (keywrap.InvalidUnwrap, ValueError):
        raise DecryptionError() from None
