"""core.signature's checks: what OpenPGP self-signatures and CMS signatures go through.

The Wycheproof subsets (core-signature vectors) cover the algorithms broadly; these
cases pin the rules the module adds around `cryptography`: strict DER, positive r
and s, the digest length, the EdDSA signature length, and one refusal text; and that
the bool-answering :func:`verify_digest` applies the same rules.
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from e2ee_mail.core import signature
from e2ee_mail.errors import FormatError

DIGEST = hashlib.sha256(b"signed data").digest()


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _ec_sig(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.sign(DIGEST, ec.ECDSA(Prehashed(hashes.SHA256())))


def test_ecdsa_accepts_its_own_signature(ec_key: ec.EllipticCurvePrivateKey) -> None:
    sig = _ec_sig(ec_key)
    signature.check_digest(ec_key.public_key(), sig, DIGEST, hashes.SHA256())


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
    with pytest.raises(FormatError, match=signature.BAD_SIGNATURE):
        signature.check_digest(ec_key.public_key(), sig, DIGEST, hashes.SHA256())


def test_ecdsa_refuses_a_digest_of_the_wrong_size(
    ec_key: ec.EllipticCurvePrivateKey,
) -> None:
    with pytest.raises(FormatError):
        signature.check_digest(
            ec_key.public_key(), _ec_sig(ec_key), DIGEST[:20], hashes.SHA256()
        )


@pytest.mark.parametrize(("r", "s"), [(0, 1), (1, 0), (-1, 1)])
def test_dss_der_refuses_zero_and_negative_values(r: int, s: int) -> None:
    with pytest.raises(FormatError):
        signature.dss_der(r, s)


def test_rsa_signature_longer_than_the_modulus_is_refused() -> None:
    key = rsa.generate_private_key(65537, 2048)
    sig = key.sign(DIGEST, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
    signature.check_digest(key.public_key(), sig, DIGEST, hashes.SHA256())
    with pytest.raises(FormatError):
        signature.check_digest(key.public_key(), b"\x00" + sig, DIGEST, hashes.SHA256())


def test_eddsa_checks_the_signature_length() -> None:
    for private in (
        ed25519.Ed25519PrivateKey.generate(),
        ed448.Ed448PrivateKey.generate(),
    ):
        sig = private.sign(DIGEST)
        signature.check_message(private.public_key(), sig, DIGEST)
        with pytest.raises(FormatError):
            signature.check_message(private.public_key(), sig + b"\x00", DIGEST)
        with pytest.raises(FormatError):
            signature.check_message(private.public_key(), sig, DIGEST + b"x")


def test_verify_digest_answers_false_for_what_check_digest_refuses(
    ec_key: ec.EllipticCurvePrivateKey,
) -> None:
    scheme = signature.Scheme("ecdsa", "sha256")
    sig = _ec_sig(ec_key)
    assert signature.verify_digest(ec_key.public_key(), scheme, sig, DIGEST)
    for bad in (_ber_long_form(sig), sig + b"\x00", b""):
        assert not signature.verify_digest(ec_key.public_key(), scheme, bad, DIGEST)
    assert not signature.verify_digest(ec_key.public_key(), scheme, sig, DIGEST[:20])


def test_only_check_digest_pads_a_short_rsa_signature() -> None:
    # An OpenPGP MPI drops a signature's leading zero octets, so check_digest pads
    # it back; a CMS signature value has all k octets (RFC 8017 §8.2.2 step 1), so
    # verify_digest refuses a short one. About one signature in 256 starts with a
    # zero octet: search the digests of a counter for one.
    key = rsa.generate_private_key(65537, 1024)
    scheme = signature.Scheme("rsa-pkcs1v15", "sha256")
    for counter in range(8192):
        digest = hashlib.sha256(counter.to_bytes(2, "big")).digest()
        sig = signature.sign_digest(key, scheme, digest)
        if sig[0] == 0:
            break
    else:
        pytest.fail("no signature with a leading zero octet")
    public = key.public_key()
    signature.check_digest(public, sig[1:], digest, hashes.SHA256())
    assert signature.verify_digest(public, scheme, sig, digest)
    assert not signature.verify_digest(public, scheme, sig[1:], digest)
