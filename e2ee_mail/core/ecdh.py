"""Session-key wrapping to ECDH recipients the way OpenPGP v4 keys do it.

Implements, over bytes only (no packet knowledge: the caller passes the curve OID, the
algorithm octets and the recipient fingerprint):

* RFC 9580 §11.4-§11.5 (formerly RFC 6637 §7-§8), ECDH over Curve25519Legacy: X25519
  agreement, the SP 800-56A single-step KDF (``cryptography``'s ConcatKDFHash) over the
  parameter block ``len(OID) || OID || alg || 03 01 hash kek || "Anonymous Sender    "
  || fingerprint``, AES key wrap (RFC 3394) of the session-key block padded PKCS#5
  style to a multiple of 8 octets (RFC 8018 §6.1.1), and the 0x40-prefixed native
  point encoding (RFC 9580 §11.2.2).

* The same over the NIST curves P-256/P-384/P-521 and brainpoolP256r1/P384r1/P512r1
  (RFC 9580 §9.2, RFC 6637 §6-§8): the SEC1 uncompressed point ``04 || x || y``
  (RFC 9580 §11.2.1), the shared secret the x coordinate of the agreed point, padded
  to the field size, and the same KDF and key wrap.

Every failure after the private-key operation is the same DecryptionError. A peer
point that is not uncompressed, not on the curve or the point at infinity is a
FormatError naming the curve (:func:`prime_agree`, what the Wycheproof runners
call). X25519 (v6 algorithm 25) and X448 (26) are wrapped by openpgp/pkesk.py with
core/x25519.py, core/x448.py and core/kdf.py.
"""

from __future__ import annotations

import hmac
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import x25519 as _x25519
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash

from ..errors import DecryptionError, FormatError, UsageError
from . import keywrap, x25519
from .random import random_bytes

__all__ = [
    "ANONYMOUS_SENDER",
    "PRIME_CURVES",
    "decode_point",
    "decode_prime_point",
    "ecdh_kdf",
    "ecdh_param",
    "ecdh_unwrap",
    "ecdh_wrap",
    "encode_point",
    "legacy_secret_to_native",
    "native_to_legacy_secret",
    "pkcs5_pad",
    "pkcs5_unpad",
    "prime_agree",
    "prime_ephemeral_agree",
    "prime_ephemeral_agree_from_parts",
    "prime_private_key",
    "prime_public_point",
    "prime_unwrap",
    "prime_wrap",
]

#: RFC 9580 §11.5: "Anonymous Sender" padded with spaces to 20 octets.
ANONYMOUS_SENDER: Final = b"Anonymous Sender    "
_POINT_PREFIX: Final = 0x40
_HASHES: Final[dict[str, type[hashes.HashAlgorithm]]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


#: The prime curves by the names OpenPGP tools give them (GnuPG's), with the
#: ``cryptography`` curve and the field size in octets.
PRIME_CURVES: Final[dict[str, tuple[type[ec.EllipticCurve], int]]] = {
    "nistp256": (ec.SECP256R1, 32),
    "nistp384": (ec.SECP384R1, 48),
    "nistp521": (ec.SECP521R1, 66),
    "brainpoolP256r1": (ec.BrainpoolP256R1, 32),
    "brainpoolP384r1": (ec.BrainpoolP384R1, 48),
    "brainpoolP512r1": (ec.BrainpoolP512R1, 64),
}
_UNCOMPRESSED: Final = 0x04


def _prime_curve(curve: str) -> tuple[type[ec.EllipticCurve], int]:
    found = PRIME_CURVES.get(curve)
    if found is None:
        raise UsageError(f"unknown elliptic curve {curve!r}")
    return found


def decode_prime_point(curve: str, encoded: bytes) -> ec.EllipticCurvePublicKey:
    """The public key of an uncompressed SEC1 point on ``curve``.

    OpenPGP writes only the uncompressed form (RFC 9580 §11.2.1); a compressed or
    hybrid point, a wrong length, the point at infinity or a point off the curve is
    refused (an invalid-curve point would leak the private key in a few messages).

    Raises:
        FormatError: naming the curve and what is wrong.
    """
    cls, size = _prime_curve(curve)
    if len(encoded) != 1 + 2 * size or encoded[0] != _UNCOMPRESSED:
        raise FormatError(
            f"{curve} point must be 04 followed by {2 * size} octets "
            "(the uncompressed form)"
        )
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(cls(), bytes(encoded))
    except ValueError:
        raise FormatError(f"{curve} point is not on the curve") from None


def prime_public_point(
    key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey,
) -> bytes:
    """The uncompressed SEC1 encoding of a key's public point."""
    pub = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    nums = pub.public_numbers()
    size = (pub.curve.key_size + 7) // 8
    return (
        bytes((_UNCOMPRESSED,))
        + nums.x.to_bytes(size, "big")
        + nums.y.to_bytes(size, "big")
    )


def prime_private_key(curve: str, scalar: bytes) -> ec.EllipticCurvePrivateKey:
    """The private key of a big-endian scalar on ``curve``.

    Raises:
        FormatError: the scalar is zero or not below the group order.
    """
    cls, _ = _prime_curve(curve)
    try:
        return ec.derive_private_key(int.from_bytes(scalar, "big"), cls())
    except ValueError:
        raise FormatError(f"{curve} secret scalar is out of range") from None


def prime_agree(private: ec.EllipticCurvePrivateKey, peer_point: bytes) -> bytes:
    """The shared secret (x coordinate, field-size octets) with a peer point.

    Raises:
        FormatError: the peer point is not an uncompressed point on the private
            key's curve (:func:`decode_prime_point`).
    """
    curve = _curve_name(private.curve)
    public = decode_prime_point(curve, peer_point)
    try:
        return private.exchange(ec.ECDH(), public)
    except ValueError:
        raise FormatError(f"{curve} key agreement failed") from None


def _curve_name(curve: ec.EllipticCurve) -> str:
    for name, (cls, _) in PRIME_CURVES.items():
        if isinstance(curve, cls):
            return name
    raise UsageError(f"elliptic curve {curve.name} is not supported")


def prime_ephemeral_agree(curve: str, recipient_point: bytes) -> tuple[bytes, bytes]:
    """Sender side: (ephemeral uncompressed point, shared secret) with a recipient.

    The ephemeral scalar comes from :func:`core.random.random_bytes`, 64 bits longer
    than the group order and reduced into [1, n-1] as FIPS 186-5 Appendix A.2.1
    does, so that randomness keeps its single source.
    """
    cls, _ = _prime_curve(curve)
    n = cls().group_order
    seed = random_bytes((n.bit_length() + 64 + 7) // 8)
    scalar = int.from_bytes(seed, "big") % (n - 1) + 1
    return _prime_agree_as(
        curve, scalar.to_bytes((n.bit_length() + 7) // 8, "big"), recipient_point
    )


def prime_ephemeral_agree_from_parts(
    curve: str, recipient_point: bytes, ephemeral_secret: bytes
) -> tuple[bytes, bytes]:
    """Like :func:`prime_ephemeral_agree` with the ephemeral scalar given,
    big-endian (test vectors only).

    Raises:
        FormatError: the scalar is not in [1, n-1], or the recipient point is
            invalid.
    """
    return _prime_agree_as(curve, ephemeral_secret, recipient_point)


def _prime_agree_as(
    curve: str, scalar: bytes, recipient_point: bytes
) -> tuple[bytes, bytes]:
    eph = prime_private_key(curve, scalar)
    return prime_public_point(eph), prime_agree(eph, recipient_point)


def encode_point(native: bytes) -> bytes:
    """The prefixed native point: 0x40 || 32-octet X25519 public key."""
    if len(native) != x25519.KEY_SIZE:
        raise UsageError("an X25519 point is 32 octets")
    return bytes((_POINT_PREFIX,)) + native


def decode_point(encoded: bytes) -> bytes:
    """The 32-octet native key from a 0x40-prefixed point, or FormatError."""
    if len(encoded) != 1 + x25519.KEY_SIZE or encoded[0] != _POINT_PREFIX:
        raise FormatError("Curve25519 point must be 0x40 followed by 32 octets")
    return bytes(encoded[1:])


def legacy_secret_to_native(value: bytes) -> bytes:
    """Curve25519Legacy secret (big-endian MPI value, RFC 9580 §5.5.5.6.1.1) → the
    little-endian native X25519 private key."""
    if len(value) > x25519.KEY_SIZE:
        raise FormatError("Curve25519 secret key is longer than 32 octets")
    return value.rjust(x25519.KEY_SIZE, b"\x00")[::-1]


def native_to_legacy_secret(native: bytes) -> bytes:
    """Native X25519 private key → the clamped big-endian value OpenPGP v4 stores.

    Clamping (RFC 7748 §5) does not change the public key and makes the integer of the
    form RFC 9580 §5.5.5.6.1.1 requires (a multiple of 8, in [2**254, 2**255)).
    """
    if len(native) != x25519.KEY_SIZE:
        raise UsageError("an X25519 private key is 32 octets")
    k = bytearray(native)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    return bytes(k[::-1])


def ecdh_param(
    curve_oid: bytes,
    pk_algo: int,
    kdf_hash_id: int,
    kek_algo_id: int,
    fingerprint: bytes,
) -> bytes:
    """The KDF parameter block of RFC 9580 §11.5 (the SP 800-56A OtherInfo)."""
    return (
        bytes((len(curve_oid),))
        + curve_oid
        + bytes((pk_algo, 3, 1, kdf_hash_id, kek_algo_id))
        + ANONYMOUS_SENDER
        + fingerprint
    )


def ecdh_kdf(shared: bytes, param: bytes, *, hash_name: str, length: int) -> bytes:
    """Hash(00 00 00 01 || shared || param), truncated (RFC 9580 §11.4)."""
    algo = _HASHES.get(hash_name)
    if algo is None:
        raise UsageError(f"ECDH KDF hash must be SHA-256/384/512, not {hash_name}")
    return ConcatKDFHash(algorithm=algo(), length=length, otherinfo=param).derive(
        shared
    )


def pkcs5_pad(block: bytes) -> bytes:
    """Pad to a multiple of 8 octets, each pad octet holding the pad length."""
    n = 8 - len(block) % 8
    return block + bytes((n,)) * n


def pkcs5_unpad(block: bytes) -> bytes:
    """Remove PKCS#5 padding; any inconsistency is a DecryptionError."""
    if not block or len(block) % 8:
        raise DecryptionError()
    n = block[-1]
    ok = 1 <= n <= 8 and hmac.compare_digest(block[-n:], bytes((n,)) * n)
    if not ok:
        raise DecryptionError()
    return block[:-n]


def ecdh_wrap(
    recipient_public: bytes,
    param: bytes,
    payload: bytes,
    *,
    hash_name: str,
    kek_size: int,
    _ephemeral_secret: bytes | None = None,
) -> tuple[bytes, bytes]:
    """Wrap ``payload`` (alg ID || session key || checksum) to a Curve25519 key.

    Args:
        recipient_public: the recipient's native 32-octet X25519 public key.
        param: :func:`ecdh_param` for the recipient subkey.
        payload: the block to wrap (padded here).
        hash_name: the KDF hash from the recipient's KDF parameters.
        kek_size: the KEK size of the recipient's key-wrap algorithm (16/24/32).
        _ephemeral_secret: pins the ephemeral key, for test vectors only.

    Returns:
        (native ephemeral public key, wrapped key).
    """
    if _ephemeral_secret is None:
        eph, shared = x25519.ephemeral_agree(recipient_public)
    else:
        eph, shared = x25519.ephemeral_agree_from_parts(
            recipient_public, _ephemeral_secret
        )
    kek = ecdh_kdf(shared, param, hash_name=hash_name, length=kek_size)
    return eph, keywrap.wrap(kek, pkcs5_pad(payload))


def prime_wrap(
    curve: str,
    recipient_point: bytes,
    param: bytes,
    payload: bytes,
    *,
    hash_name: str,
    kek_size: int,
    _ephemeral_secret: bytes | None = None,
) -> tuple[bytes, bytes]:
    """:func:`ecdh_wrap` to a key on a prime curve: (ephemeral uncompressed point,
    wrapped key)."""
    if _ephemeral_secret is None:
        eph, shared = prime_ephemeral_agree(curve, recipient_point)
    else:
        eph, shared = prime_ephemeral_agree_from_parts(
            curve, recipient_point, _ephemeral_secret
        )
    kek = ecdh_kdf(shared, param, hash_name=hash_name, length=kek_size)
    return eph, keywrap.wrap(kek, pkcs5_pad(payload))


def prime_unwrap(
    private: ec.EllipticCurvePrivateKey,
    ephemeral_point: bytes,
    param: bytes,
    wrapped: bytes,
    *,
    hash_name: str,
    kek_size: int,
) -> bytes:
    """:func:`ecdh_unwrap` with a key on a prime curve; an invalid ephemeral point
    is a FormatError (the caller turns every failure into one DecryptionError)."""
    shared = prime_agree(private, ephemeral_point)
    kek = ecdh_kdf(shared, param, hash_name=hash_name, length=kek_size)
    return pkcs5_unpad(keywrap.unwrap(kek, wrapped))


def ecdh_unwrap(
    private: _x25519.X25519PrivateKey,
    ephemeral: bytes,
    param: bytes,
    wrapped: bytes,
    *,
    hash_name: str,
    kek_size: int,
) -> bytes:
    """Recover the unpadded payload; every failure is the same DecryptionError."""
    shared = x25519.agree(private, ephemeral)
    kek = ecdh_kdf(shared, param, hash_name=hash_name, length=kek_size)
    return pkcs5_unpad(keywrap.unwrap(kek, wrapped))
