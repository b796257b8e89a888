"""X448 key agreement (RFC 7748) with the checks every format needs.

Used by OpenPGP's X448 (algorithm 26, RFC 9580 §5.1.7). An all-zero shared secret
means the peer sent a low-order point (RFC 7748 §6.2); it is refused rather than used
as a key. Both sides run on ``cryptography``: X448 is rare enough that nothing here
is worth a second engine.
"""

from __future__ import annotations

from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import x448
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import DecryptionError, FormatError
from .random import random_bytes

__all__ = [
    "KEY_SIZE",
    "agree",
    "check_public",
    "ephemeral_agree",
    "ephemeral_agree_from_parts",
    "hkdf_sha512",
    "public_bytes",
]

KEY_SIZE: Final = 56
_ALL_ZERO: Final = bytes(KEY_SIZE)


def check_public(public: bytes) -> x448.X448PublicKey:
    """Parse a raw 56-octet X448 public key, or raise FormatError."""
    if len(public) != KEY_SIZE:
        raise FormatError(f"X448 public key must be 56 octets, got {len(public)}")
    return x448.X448PublicKey.from_public_bytes(bytes(public))


def public_bytes(key: x448.X448PrivateKey | x448.X448PublicKey) -> bytes:
    """Raw 56-octet public key."""
    pub = key.public_key() if isinstance(key, x448.X448PrivateKey) else key
    return pub.public_bytes_raw()


def _exchange(private: x448.X448PrivateKey, peer_public: bytes, who: str) -> bytes:
    peer = check_public(peer_public)
    try:
        shared = private.exchange(peer)
    except ValueError:  # OpenSSL refuses the all-zero result itself
        raise FormatError(f"{who} X448 key is a low-order point") from None
    if shared == _ALL_ZERO:  # RFC 7748 §6.2, whatever the OpenSSL version does
        raise FormatError(f"{who} X448 key is a low-order point")
    return shared


def agree(private: x448.X448PrivateKey, peer_public: bytes) -> bytes:
    """Recipient side: the 56-octet shared secret with a peer's raw public key.

    Raises:
        FormatError: the peer key has the wrong size.
        DecryptionError: the peer key is a low-order point (the result would be
            all zero), as core/x25519.py says it.
    """
    if len(peer_public) != KEY_SIZE:
        raise FormatError("X448 ephemeral key must be 56 octets")
    try:
        return _exchange(private, peer_public, "ephemeral")
    except FormatError:
        raise DecryptionError() from None


def ephemeral_agree(recipient_public: bytes) -> tuple[bytes, bytes]:
    """Sender side: (ephemeral public key, shared secret), both 56 octets.

    The ephemeral key is 56 octets from :func:`core.random.random_bytes`, which
    X448 clamps (RFC 7748 §5), so that randomness keeps its single source.

    Raises:
        FormatError: the recipient key has the wrong size or is a low-order point.
    """
    return ephemeral_agree_from_parts(recipient_public, random_bytes(KEY_SIZE))


def ephemeral_agree_from_parts(
    recipient_public: bytes, ephemeral_secret: bytes
) -> tuple[bytes, bytes]:
    """Like :func:`ephemeral_agree` with a pinned ephemeral key (test vectors
    only)."""
    if len(ephemeral_secret) != KEY_SIZE:
        raise FormatError("X448 private key must be 56 octets")
    eph = x448.X448PrivateKey.from_private_bytes(bytes(ephemeral_secret))
    return public_bytes(eph), _exchange(eph, recipient_public, "recipient")


def hkdf_sha512(ikm: bytes, *, salt: bytes | None, info: bytes, length: int) -> bytes:
    """HKDF-SHA512 (RFC 5869) extract-and-expand: the KDF RFC 9580 §5.1.7 pairs
    with X448."""
    return HKDF(algorithm=hashes.SHA512(), length=length, salt=salt, info=info).derive(
        ikm
    )
