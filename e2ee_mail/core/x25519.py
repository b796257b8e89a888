"""X25519 key agreement (RFC 7748) with the checks every format needs.

An all-zero shared secret means the peer sent a low-order point (RFC 7748 §6.1); it is
refused rather than used as a key.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ..errors import DecryptionError, FormatError

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
    return pub.public_bytes(Encoding.Raw, PublicFormat.Raw)


def ephemeral_agree(recipient_public: bytes) -> tuple[bytes, bytes]:
    """Sender side: make an ephemeral key and agree with the recipient.

    Returns:
        (ephemeral public key, shared secret), both 32 bytes.
    """
    peer = check_public(recipient_public)
    eph = x25519.X25519PrivateKey.generate()
    try:
        shared = eph.exchange(peer)
    except ValueError:
        raise FormatError("recipient X25519 key is a low-order point") from None
    return public_bytes(eph), shared


def ephemeral_agree_from_parts(
    recipient_public: bytes, ephemeral_secret: bytes
) -> tuple[bytes, bytes]:
    """Like :func:`ephemeral_agree` with a pinned ephemeral key (test vectors only)."""
    eph = x25519.X25519PrivateKey.from_private_bytes(ephemeral_secret)
    try:
        shared = eph.exchange(check_public(recipient_public))
    except ValueError:
        raise FormatError("recipient X25519 key is a low-order point") from None
    return public_bytes(eph), shared


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
