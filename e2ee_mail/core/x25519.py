"""X25519 key agreement (RFC 7748) with the checks every format needs.

An all-zero shared secret means the peer sent a low-order point (RFC 7748 §6.1); it is
refused rather than used as a key.

Engine choice, made here and nowhere else: the sender side (:func:`ephemeral_agree`)
runs on PyNaCl's libsodium bindings (``crypto_scalarmult_base`` +
``crypto_scalarmult``), which make a whole wrap faster than ``cryptography`` does
(docs/ARCHITECTURE.md has the figures). The ephemeral secret is 32 bytes from
:func:`core.random.random_bytes` (the OS CSPRNG), so randomness still has a single
source; libsodium clamps it (RFC 7748 §5). libsodium refuses an all-zero result itself
(nacl ``RuntimeError``); we check for it explicitly as well, so the refusal does not
depend on the library version. The recipient side (:func:`agree`) stays on
``cryptography``: its private keys are ``cryptography`` objects, and exporting the raw
scalar per message measured slower than its own exchange. PyNaCl is imported on first
use, keeping it out of the CLI's start-up, and only its compiled libsodium module
(``nacl._sodium``): ``nacl.bindings`` imports some twenty binding modules, which
cost as much CPU as the rest of an encrypting command's own work at 1 KiB.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric import x25519

from ..errors import DecryptionError, FormatError
from .random import random_bytes

__all__ = ["KEY_SIZE", "agree", "check_public", "ephemeral_agree", "public_bytes"]

KEY_SIZE = 32


def check_public(public: bytes) -> x25519.X25519PublicKey:
    """Parse a raw 32-byte X25519 public key, or raise FormatError."""
    if len(public) != KEY_SIZE:
        raise FormatError(f"X25519 public key must be 32 bytes, got {len(public)}")
    return x25519.X25519PublicKey.from_public_bytes(bytes(public))


def public_bytes(key: x25519.X25519PrivateKey | x25519.X25519PublicKey) -> bytes:
    """Raw 32-byte public key."""
    pub = key.public_key() if isinstance(key, x25519.X25519PrivateKey) else key
    return pub.public_bytes_raw()


def ephemeral_agree(recipient_public: bytes) -> tuple[bytes, bytes]:
    """Sender side: make an ephemeral key and agree with the recipient.

    Returns:
        (ephemeral public key, shared secret), both 32 bytes.
    """
    return _nacl_agree(recipient_public, random_bytes(KEY_SIZE))


_ALL_ZERO = bytes(KEY_SIZE)


def _nacl_agree(recipient_public: bytes, secret: bytes) -> tuple[bytes, bytes]:
    """Ephemeral public key and shared secret via libsodium (see module docstring)."""
    if len(recipient_public) != KEY_SIZE:
        raise FormatError(
            f"X25519 public key must be 32 bytes, got {len(recipient_public)}"
        )
    ffi, lib = _sodium()
    shared = ffi.new("unsigned char[]", KEY_SIZE)
    # libsodium's own all-zero / small-order refusal is its non-zero return.
    if lib.crypto_scalarmult(shared, secret, bytes(recipient_public)) != 0:
        raise FormatError("recipient X25519 key is a low-order point")
    out = bytes(ffi.buffer(shared, KEY_SIZE))
    if out == _ALL_ZERO:  # RFC 7748 §6.1, whatever the libsodium version does
        raise FormatError("recipient X25519 key is a low-order point")
    public = ffi.new("unsigned char[]", KEY_SIZE)
    if lib.crypto_scalarmult_base(public, secret) != 0:
        raise FormatError("X25519 key generation failed")
    return bytes(ffi.buffer(public, KEY_SIZE)), out


_SODIUM: tuple[Any, Any] | None = None


def _sodium() -> tuple[Any, Any]:
    """libsodium's cffi ``(ffi, lib)``, initialised once (as ``nacl.bindings`` does
    on import: ``sodium_init`` picks the implementations and is idempotent)."""
    global _SODIUM
    if _SODIUM is None:
        from nacl._sodium import ffi, lib

        if lib.sodium_init() == -1:
            raise RuntimeError("could not initialise libsodium")
        _SODIUM = (ffi, lib)
    return _SODIUM


def ephemeral_agree_from_parts(
    recipient_public: bytes, ephemeral_secret: bytes
) -> tuple[bytes, bytes]:
    """Like :func:`ephemeral_agree` with a pinned ephemeral key (test vectors only)."""
    if len(ephemeral_secret) != KEY_SIZE:
        raise FormatError("X25519 private key must be 32 bytes")
    return _nacl_agree(recipient_public, bytes(ephemeral_secret))


def agree(private: x25519.X25519PrivateKey, peer_public: bytes) -> bytes:
    """Recipient side. A low-order ephemeral point is a DecryptionError."""
    if len(peer_public) != KEY_SIZE:
        raise FormatError("X25519 ephemeral key must be 32 bytes")
    try:
        return private.exchange(
            x25519.X25519PublicKey.from_public_bytes(bytes(peer_public))
        )
    except ValueError:
        raise DecryptionError() from None
