"""core.sigverify: the signature checks OpenPGP self-signatures go through.

The Wycheproof subsets (core-signature vectors) cover the algorithms broadly; these
cases pin the rules the module adds around `cryptography`: strict DER, positive r
and s, the digest length, the EdDSA signature length, and one refusal text.
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from e2ee_mail.core import sigverify
from e2ee_mail.errors import FormatError

DIGEST = hashlib.sha256(b"signed data").digest()


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _ec_sig(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.sign(DIGEST, ec.ECDSA(Prehashed(hashes.SHA256())))


def test_ecdsa_accepts_its_own_signature(ec_key: ec.EllipticCurvePrivateKey) -> None:
    sig = _ec_sig(ec_key)
    sigverify.verify_ecdsa(ec_key.public_key(), sig, DIGEST, hashes.SHA256())


def _ber_long_form(der: bytes) -> bytes:
    """The same SEQUENCE with its length in the (non-DER) long form."""
    assert der[0] == 0x30 and der[1] < 0x80
    return b"\x30\x81" + der[1:]


@pytest.mark.parametrize(
    "mangle",
    [
        _ber_long_form,
        lambda der: der + b"\x00",
        lambda der: der[:-1] + bytes([der[-1] ^ 1]),
        lambda der: b"",
    ],
    ids=["ber-length", "trailing-octet", "flipped", "empty"],
)
def test_ecdsa_refuses_non_der_and_altered_signatures(
    ec_key: ec.EllipticCurvePrivateKey, mangle: object
) -> None:
    sig = mangle(_ec_sig(ec_key))  # type: ignore[operator]
    with pytest.raises(FormatError, match=sigverify.BAD_SIGNATURE):
        sigverify.verify_ecdsa(ec_key.public_key(), sig, DIGEST, hashes.SHA256())


def test_ecdsa_refuses_a_digest_of_the_wrong_size(
    ec_key: ec.EllipticCurvePrivateKey,
) -> None:
    with pytest.raises(FormatError):
        sigverify.verify_ecdsa(
            ec_key.public_key(), _ec_sig(ec_key), DIGEST[:20], hashes.SHA256()
        )


@pytest.mark.parametrize(("r", "s"), [(0, 1), (1, 0), (-1, 1)])
def test_dss_der_refuses_zero_and_negative_values(r: int, s: int) -> None:
    with pytest.raises(FormatError):
        sigverify.dss_der(r, s)


def test_rsa_signature_longer_than_the_modulus_is_refused() -> None:
    key = rsa.generate_private_key(65537, 2048)
    sig = key.sign(DIGEST, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
    sigverify.verify_rsa_pkcs1v15(key.public_key(), sig, DIGEST, hashes.SHA256())
    with pytest.raises(FormatError):
        sigverify.verify_rsa_pkcs1v15(
            key.public_key(), b"\x00" + sig, DIGEST, hashes.SHA256()
        )


def test_eddsa_checks_the_signature_length() -> None:
    for private in (
        ed25519.Ed25519PrivateKey.generate(),
        ed448.Ed448PrivateKey.generate(),
    ):
        sig = private.sign(DIGEST)
        sigverify.verify_eddsa(private.public_key(), sig, DIGEST)
        with pytest.raises(FormatError):
            sigverify.verify_eddsa(private.public_key(), sig + b"\x00", DIGEST)
        with pytest.raises(FormatError):
            sigverify.verify_eddsa(private.public_key(), sig, DIGEST + b"x")
