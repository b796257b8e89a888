"""AES key wrap (RFC 3394), the wrapping every X25519/ECDH recipient uses."""

from __future__ import annotations

from cryptography.hazmat.primitives import keywrap

from ..errors import DecryptionError, UsageError

__all__ = ["unwrap", "wrap"]


def wrap(kek: bytes, key: bytes) -> bytes:
    """Wrap ``key`` (a multiple of 8 bytes, at least 16) under ``kek``.

    Raises:
        UsageError: ``key`` or ``kek`` has a size key wrap does not take.
    """
    try:
        return keywrap.aes_key_wrap(kek, key)
    except ValueError:
        raise UsageError(
            f"AES key wrap takes a 16/24/32-byte KEK and a key of 16 bytes or more "
            f"in 8-byte steps (got {len(kek)} and {len(key)} bytes)"
        ) from None


def unwrap(kek: bytes, wrapped: bytes) -> bytes:
    """Unwrap; any failure (bad length, integrity check) is a DecryptionError."""
    try:
        return keywrap.aes_key_unwrap(kek, wrapped)
    except (keywrap.InvalidUnwrap, ValueError):
        raise DecryptionError() from None
