"""core/ecdh_prime.py: prime-curve ECDH with uncompressed points, both sides, as CMS
and OpenPGP use it."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from e2ee_mail.core import ecdh_prime
from e2ee_mail.errors import FormatError


@pytest.mark.parametrize("name", sorted(ecdh_prime.CURVES))
def test_both_sides_agree(name: str) -> None:
    curve = ecdh_prime.CURVES[name]
    recipient = ec.generate_private_key(curve.curve)
    point, shared = ecdh_prime.ephemeral_agree(recipient.public_key())
    assert len(point) == curve.point_size
    assert point[0] == 0x04
    peer = ecdh_prime.decode_point(curve, point)
    assert ecdh_prime.agree(recipient, peer) == shared
    # The x-coordinate, as many octets as the field (SEC 1 §3.3.1).
    assert len(shared) == curve.field_size
    assert ecdh_prime.curve_of(recipient) is curve
    assert ecdh_prime.encode_point(recipient) == ecdh_prime.encode_point(
        recipient.public_key()
    )


@pytest.mark.parametrize("name", sorted(ecdh_prime.CURVES))
def test_pinned_scalar_and_its_range(name: str) -> None:
    curve = ecdh_prime.CURVES[name]
    recipient = ec.generate_private_key(curve.curve).public_key()
    n = curve.curve.group_order
    width = (n.bit_length() + 7) // 8
    point, _ = ecdh_prime.ephemeral_agree_from_parts(
        recipient, (n - 1).to_bytes(width, "big")
    )
    # (n-1)G = -G: the base point's x-coordinate.
    one, _ = ecdh_prime.ephemeral_agree_from_parts(recipient, b"\x01")
    assert point[1 : 1 + width] == one[1 : 1 + width] and point != one
    for bad in (b"\x00", n.to_bytes(width, "big")):
        with pytest.raises(FormatError, match=r"\[1, n-1\]"):
            ecdh_prime.ephemeral_agree_from_parts(recipient, bad)
        with pytest.raises(FormatError, match=r"\[1, n-1\]"):
            ecdh_prime.private_key(curve, bad)


def test_other_curves_are_not_supported() -> None:
    other = ec.generate_private_key(ec.SECP256K1())
    assert ecdh_prime.curve_of(other) is None
    with pytest.raises(FormatError, match="secp256k1"):
        ecdh_prime.ephemeral_agree(other.public_key())


def test_points_off_the_curve_or_of_another_form_are_refused() -> None:
    p256, p384 = ecdh_prime.CURVES["p256"], ecdh_prime.CURVES["p384"]
    good = ecdh_prime.encode_point(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(FormatError, match="not a point on P256"):
        ecdh_prime.decode_point(p256, good[:-1] + bytes((good[-1] ^ 1,)))
    with pytest.raises(FormatError, match="uncompressed point of 97"):
        ecdh_prime.decode_point(p384, good)
    # The point at infinity has no uncompressed form: its one-octet encoding.
    with pytest.raises(FormatError, match="uncompressed point of 65"):
        ecdh_prime.decode_point(p256, b"\x00")


def test_a_point_on_another_curve_does_not_agree() -> None:
    p384_point = ec.generate_private_key(ec.SECP384R1()).public_key()
    with pytest.raises(FormatError, match="secp256r1"):
        ecdh_prime.agree(ec.generate_private_key(ec.SECP256R1()), p384_point)
