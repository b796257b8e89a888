"""Invalid-curve points in a CMS ECDH originator key (RFC 5753): a point that is not
on the recipient's curve would let a sender learn the private key modulo small
orders, one message at a time. Every such point is refused before the private key
is used, as a FormatError that says so; none reaches the agreement."""

from __future__ import annotations

import pytest
from ec_keys import ec_key

import e2ee_mail
from e2ee_mail.cms import asn1, recipients, templates
from e2ee_mail.cms.structures import KeyAgreeRecipientInfo
from e2ee_mail.core import ecdh_prime
from e2ee_mail.policy import DEFAULT
from e2ee_mail.x509 import certs as kx

#: The P-256 field prime (SEC 2 §2.4.2).
_P = int("FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF", 16)


def _coordinates(x: int, y: int) -> bytes:
    return b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")


_BAD_POINTS = {
    # (0, 0) lies on y^2 = x^3 - 3x + b only for b = 0: a singular curve.
    "origin": _coordinates(0, 0),
    # On y^2 = x^3 - 3x + 3 (another b): the classic invalid-curve point.
    "other-b": _coordinates(1, 1),
    # A coordinate equal to the field prime is not a field element.
    "x-is-p": _coordinates(_P, 1),
    # The point at infinity's one-octet encoding, and the hybrid form (X9.62 §4.3.6).
    "infinity": b"\x00",
    "hybrid": b"\x06" + bytes(64),
}


@pytest.fixture(scope="module")
def key() -> kx.X509SecretKey:
    return ec_key("p256", "victim@example.org")


@pytest.mark.parametrize("name", sorted(_BAD_POINTS))
def test_invalid_point_is_refused_before_the_agreement(
    key: kx.X509SecretKey, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    der = templates.wrap_der(key.public, bytes(32), policy=DEFAULT)
    (info,) = asn1.parse_recipient_infos(asn1.set_of([der]), max_recipients=1)
    assert isinstance(info, KeyAgreeRecipientInfo)
    bad = info.replace(originator_public_key=_BAD_POINTS[name])

    def no_agreement(*args: object) -> bytes:
        raise AssertionError("the private key was used with an invalid point")

    monkeypatch.setattr(ecdh_prime, "agree", no_agreement)
    with pytest.raises(e2ee_mail.FormatError, match="ECDH"):
        recipients.check_supported(bad, key, DEFAULT)
    with pytest.raises(e2ee_mail.DecryptionError):
        recipients.unwrap(bad, 0, key)
