"""ECDH over the NIST prime curves P-256, P-384 and P-521 with points in the
uncompressed encoding of ANSI X9.62 / SEC 1 §2.3.3 (0x04 || x || y), the form CMS
carries in an originatorKey (RFC 5753 §7.1.2) and certificates carry in their
subjectPublicKeyInfo (RFC 5480 §2.2).

The shared secret is the x-coordinate of the product, as many octets as the field
(SEC 1 §3.3.1, ECSVDP-DH). The three curves have cofactor 1, so the cofactor variant
(SEC 1 §3.3.2) gives the same secret.

A peer's point is decoded by `cryptography`, which refuses a point off the curve, the
point at infinity and a compressed or hybrid encoding: each is a FormatError naming
the curve, raised before any private-key operation. The sender's ephemeral scalar
comes from :func:`core.random.random_bytes`, reduced into [1, n-1] with 64 extra bits
as FIPS 186-5 Appendix A.2.1 does, so that randomness keeps its single source.
"""

from __future__ import annotations

from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ..errors import FormatError
from .random import random_bytes

__all__ = [
    "CURVES",
    "POINT_SIZES",
    "agree",
    "curve_name",
    "decode_point",
    "ephemeral_agree",
    "ephemeral_agree_from_parts",
    "public_bytes",
]

#: Short curve name -> `cryptography` curve (which knows its group order n).
CURVES: Final[dict[str, ec.EllipticCurve]] = {
    "p256": ec.SECP256R1(),
    "p384": ec.SECP384R1(),
    "p521": ec.SECP521R1(),
}
#: Length of an uncompressed point: 1 + 2 * the field size in octets.
POINT_SIZES: Final = {"p256": 65, "p384": 97, "p521": 133}
#: `cryptography`'s curve name -> ours.
_NAMES: Final = {"secp256r1": "p256", "secp384r1": "p384", "secp521r1": "p521"}


def curve_name(
    key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey,
) -> str | None:
    """ "p256", "p384" or "p521" for a key on one of those curves, else None."""
    return _NAMES.get(key.curve.name)


def public_bytes(key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) -> bytes:
    """The uncompressed point of ``key``."""
    pub = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    return pub.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def decode_point(curve: str, point: bytes) -> ec.EllipticCurvePublicKey:
    """The public key of an uncompressed ``point`` on ``curve``.

    Raises:
        FormatError: not an uncompressed point of the curve's size, or not on the
            curve.
    """
    size = POINT_SIZES[curve]
    if len(point) != size or point[0] != 0x04:
        raise FormatError(
            f"an ECDH {curve.upper()} public key must be an uncompressed point of "
            f"{size} octets"
        )
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(CURVES[curve], bytes(point))
    except ValueError:
        raise FormatError(
            f"the ECDH public key is not a point on {curve.upper()}"
        ) from None


def agree(
    private: ec.EllipticCurvePrivateKey, peer: ec.EllipticCurvePublicKey
) -> bytes:
    """Recipient side: the shared secret with a decoded peer point."""
    return private.exchange(ec.ECDH(), peer)


def ephemeral_agree(
    curve: str, recipient: ec.EllipticCurvePublicKey
) -> tuple[bytes, bytes]:
    """Sender side: a fresh ephemeral key agreed with ``recipient``.

    Returns:
        (the ephemeral public key as an uncompressed point, the shared secret).
    """
    n = CURVES[curve].group_order
    # FIPS 186-5 A.2.1: d = (c mod (n - 1)) + 1, c having 64 bits more than n.
    seed = random_bytes((n.bit_length() + 64 + 7) // 8)
    scalar = int.from_bytes(seed, "big") % (n - 1) + 1
    return _agree_as(curve, scalar, recipient)


def ephemeral_agree_from_parts(
    curve: str, recipient: ec.EllipticCurvePublicKey, scalar: bytes
) -> tuple[bytes, bytes]:
    """Like :func:`ephemeral_agree` with the ephemeral scalar given, big-endian
    (test vectors only).

    Raises:
        FormatError: the scalar is not in [1, n-1].
    """
    value = int.from_bytes(scalar, "big")
    if not 1 <= value < CURVES[curve].group_order:
        raise FormatError(f"an ECDH {curve.upper()} scalar must be in [1, n-1]")
    return _agree_as(curve, value, recipient)


def _agree_as(
    curve: str, scalar: int, recipient: ec.EllipticCurvePublicKey
) -> tuple[bytes, bytes]:
    private = ec.derive_private_key(scalar, CURVES[curve])
    return public_bytes(private), private.exchange(ec.ECDH(), recipient)
