"""ECDH over the prime curves, for CMS and OpenPGP alike: NIST P-256, P-384 and P-521
(FIPS 186-5) and brainpoolP256r1, P384r1 and P512r1 (RFC 5639).

Points are in the uncompressed encoding of ANSI X9.62 / SEC 1 §2.3.3
(``04 || x || y``), the only form CMS carries in an originatorKey (RFC 5753 §7.1.2,
RFC 5480 §2.2) and OpenPGP writes (RFC 9580 §11.2.1). The shared secret is the x
coordinate of the product, as many octets as the field (SEC 1 §3.3.1, ECSVDP-DH).
All six curves have cofactor 1, so the cofactor variant (SEC 1 §3.3.2) gives the
same secret.

A peer's point is decoded by :func:`decode_point`, which refuses a compressed or
hybrid encoding, a wrong length, the point at infinity and a point off the curve
(an invalid-curve point would leak the private key in a few messages): each is a
FormatError naming the curve, raised before any private-key operation. The sender's
ephemeral scalar comes from :func:`core.random.random_bytes`, reduced into [1, n-1]
with 64 extra bits as FIPS 186-5 Appendix A.2.1 does, so that randomness keeps its
single source. The key derivation that follows (the X9.63 KDF of CMS, the
SP 800-56A one of OpenPGP) is the caller's: core/kdf.py, core/ecdh.py.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from cryptography.hazmat.primitives.asymmetric import ec

from ..errors import FormatError
from .random import random_bytes

__all__ = [
    "CURVES",
    "Curve",
    "agree",
    "curve_of",
    "decode_point",
    "encode_point",
    "ephemeral_agree",
    "ephemeral_agree_from_parts",
    "private_key",
]


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Curve:
    """One prime curve.

    Attributes:
        name: the short name the library gives it ("p256", "brainpoolP256r1").
        label: how messages name it ("P256", "brainpoolP256r1").
        curve: the ``cryptography`` curve (which knows its group order n).
        field_size: octets of a coordinate (and of the shared secret).
    """

    name: str
    label: str
    curve: ec.EllipticCurve
    field_size: int

    @property
    def point_size(self) -> int:
        """Octets of an uncompressed point: 1 + 2 * the field size."""
        return 1 + 2 * self.field_size


def _curves(*curves: Curve) -> dict[str, Curve]:
    return {c.name: c for c in curves}


#: The supported curves by name.
CURVES: Final = _curves(
    Curve("p256", "P256", ec.SECP256R1(), 32),
    Curve("p384", "P384", ec.SECP384R1(), 48),
    Curve("p521", "P521", ec.SECP521R1(), 66),
    Curve("brainpoolP256r1", "brainpoolP256r1", ec.BrainpoolP256R1(), 32),
    Curve("brainpoolP384r1", "brainpoolP384r1", ec.BrainpoolP384R1(), 48),
    Curve("brainpoolP512r1", "brainpoolP512r1", ec.BrainpoolP512R1(), 64),
)
#: `cryptography`'s curve name -> the curve.
_BY_KEY_CURVE: Final = {c.curve.name: c for c in CURVES.values()}
_UNCOMPRESSED: Final = 0x04


def curve_of(
    key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey,
) -> Curve | None:
    """The curve of a key, or None for a curve not supported here."""
    return _BY_KEY_CURVE.get(key.curve.name)


def _curve_of(key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) -> Curve:
    curve = curve_of(key)
    if curve is None:
        raise FormatError(f"ECDH over {key.curve.name} is not supported")
    return curve


def encode_point(key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) -> bytes:
    """The uncompressed point of ``key`` (of its public part)."""
    # From the coordinates rather than through public_bytes: that needs the
    # serialization package, which a CMS encrypt or decrypt otherwise never imports.
    pub = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    nums = pub.public_numbers()
    size = (pub.curve.key_size + 7) // 8
    return (
        bytes((_UNCOMPRESSED,))
        + nums.x.to_bytes(size, "big")
        + nums.y.to_bytes(size, "big")
    )


def decode_point(curve: Curve, point: bytes) -> ec.EllipticCurvePublicKey:
    """The public key of an uncompressed ``point`` on ``curve``.

    Raises:
        FormatError: not an uncompressed point of the curve's size, the point at
            infinity (which has no uncompressed form), or not on the curve.
    """
    if len(point) != curve.point_size or point[0] != _UNCOMPRESSED:
        raise FormatError(
            f"an ECDH {curve.label} public key must be an uncompressed point of "
            f"{curve.point_size} octets (04 || x || y)"
        )
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(curve.curve, bytes(point))
    except ValueError:
        raise FormatError(
            f"the ECDH public key is not a point on {curve.label} (a point not on "
            "the curve could reveal the private key)"
        ) from None


def private_key(curve: Curve, scalar: bytes) -> ec.EllipticCurvePrivateKey:
    """The private key of a big-endian ``scalar`` on ``curve``.

    Raises:
        FormatError: the scalar is not in [1, n-1].
    """
    value = int.from_bytes(scalar, "big")
    if not 1 <= value < curve.curve.group_order:
        raise FormatError(f"an ECDH {curve.label} scalar must be in [1, n-1]")
    return ec.derive_private_key(value, curve.curve)


def agree(
    private: ec.EllipticCurvePrivateKey, peer: ec.EllipticCurvePublicKey
) -> bytes:
    """Recipient side: the shared secret with a point :func:`decode_point` gave.

    Raises:
        FormatError: the peer point is on another curve than the private key.
    """
    try:
        return private.exchange(ec.ECDH(), peer)
    except ValueError:
        raise FormatError(
            f"ECDH key agreement over {private.curve.name} failed"
        ) from None


def ephemeral_agree(recipient: ec.EllipticCurvePublicKey) -> tuple[bytes, bytes]:
    """Sender side: a fresh ephemeral key on the recipient's curve agreed with it.

    Returns:
        (the ephemeral public key as an uncompressed point, the shared secret).
    """
    curve = _curve_of(recipient)
    n = curve.curve.group_order
    # FIPS 186-5 A.2.1: d = (c mod (n - 1)) + 1, c having 64 bits more than n.
    seed = random_bytes((n.bit_length() + 64 + 7) // 8)
    scalar = int.from_bytes(seed, "big") % (n - 1) + 1
    private = ec.derive_private_key(scalar, curve.curve)
    return encode_point(private), private.exchange(ec.ECDH(), recipient)


def ephemeral_agree_from_parts(
    recipient: ec.EllipticCurvePublicKey, scalar: bytes
) -> tuple[bytes, bytes]:
    """Like :func:`ephemeral_agree` with the ephemeral scalar given, big-endian
    (test vectors only).

    Raises:
        FormatError: the scalar is not in [1, n-1].
    """
    private = private_key(_curve_of(recipient), scalar)
    return encode_point(private), private.exchange(ec.ECDH(), recipient)
