"""core/ecdh_x963.py: NIST-curve ECDH with uncompressed points, both sides."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from e2ee_mail.core import ecdh_x963
from e2ee_mail.errors import FormatError


@pytest.mark.parametrize("curve", sorted(ecdh_x963.CURVES))
def test_both_sides_agree(curve: str) -> None:
    recipient = ec.generate_private_key(ecdh_x963.CURVES[curve])
    point, shared = ecdh_x963.ephemeral_agree(curve, recipient.public_key())
    assert len(point) == ecdh_x963.POINT_SIZES[curve]
    assert point[0] == 0x04
    peer = ecdh_x963.decode_point(curve, point)
    assert ecdh_x963.agree(recipient, peer) == shared
    # The x-coordinate, as many octets as the field (SEC 1 §3.3.1).
    assert len(shared) == (ecdh_x963.POINT_SIZES[curve] - 1) // 2
    assert ecdh_x963.curve_name(recipient) == curve


@pytest.mark.parametrize("curve", sorted(ecdh_x963.CURVES))
def test_pinned_scalar_and_its_range(curve: str) -> None:
    recipient = ec.generate_private_key(ecdh_x963.CURVES[curve]).public_key()
    n = ecdh_x963.CURVES[curve].group_order
    width = (n.bit_length() + 7) // 8
    point, _ = ecdh_x963.ephemeral_agree_from_parts(
        curve, recipient, (n - 1).to_bytes(width, "big")
    )
    # (n-1)G = -G: the base point's x-coordinate.
    one, _ = ecdh_x963.ephemeral_agree_from_parts(curve, recipient, b"\x01")
    assert point[1 : 1 + width] == one[1 : 1 + width] and point != one
    for bad in (b"\x00", n.to_bytes(width, "big")):
        with pytest.raises(FormatError, match=r"\[1, n-1\]"):
            ecdh_x963.ephemeral_agree_from_parts(curve, recipient, bad)


def test_other_curves_have_no_name() -> None:
    assert ecdh_x963.curve_name(ec.generate_private_key(ec.SECP256K1())) is None


def test_points_off_the_curve_or_of_another_form_are_refused() -> None:
    good = ecdh_x963.public_bytes(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(FormatError, match="not a point on P256"):
        ecdh_x963.decode_point("p256", good[:-1] + bytes((good[-1] ^ 1,)))
    with pytest.raises(FormatError, match="uncompressed point of 97"):
        ecdh_x963.decode_point("p384", good)
