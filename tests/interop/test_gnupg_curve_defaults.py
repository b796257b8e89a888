"""The keys GnuPG 2.2 makes for a curve: an ECDSA primary that certifies and signs,
with an ECDH encryption subkey on the same curve. Loading one
checks its ECDSA self-signatures; using it takes the curve's ECDH. Both directions
with gpg, for the NIST and brainpool curves enterprise keys use most.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gpg import GpgHome, gpg_home
from peers import require_peer

import e2ee_mail
from e2ee_mail.openpgp import verifying
from e2ee_mail.openpgp.certs import OpenPGPCertificate
from e2ee_mail.policy import DEFAULT

pytestmark = pytest.mark.interop

BODY = b"Quarterly figures, as promised.\r\n" * 40
CURVES = ("nistp256", "nistp384", "brainpoolP256r1")


@pytest.fixture(scope="module")
def home() -> Iterator[GpgHome]:
    require_peer("gpg")
    with gpg_home() as made:
        for curve in CURVES:
            # What gpg makes for a curve: an ECDSA primary [SC] and an ECDH subkey
            # [E] on the same curve (--quick-gen-key with an algorithm makes the
            # primary alone; the subkey is added as gpg's own key dialog does).
            uid = f"{curve} <{curve.lower()}@example.org>"
            made.run(["--quick-gen-key", uid, curve, "cert,sign", "never"])
            fpr = made.fingerprints(uid)[0]
            made.run(["--quick-add-key", fpr, curve, "encr", "never"])
        yield made


def _key(
    home: GpgHome, curve: str
) -> tuple[str, e2ee_mail.Certificate, e2ee_mail.SecretKey]:
    fpr = home.fingerprints(f"{curve.lower()}@example.org")[0]
    cert = e2ee_mail.load_certificate(home.export_public(fpr))
    key = e2ee_mail.load_key(home.export_secret(fpr))
    return fpr, cert, key


@pytest.mark.parametrize("curve", CURVES)
def test_gpg_default_curve_key_loads_with_nothing_skipped(
    home: GpgHome, curve: str
) -> None:
    fpr, cert, _ = _key(home, curve)
    assert cert.fingerprint == fpr
    assert isinstance(cert, OpenPGPCertificate)
    assert cert.primary.packet.algorithm == 19  # ECDSA
    assert cert.skipped_subkeys() == ()
    assert cert.algorithm == f"ecdh-{curve}"


@pytest.mark.parametrize("curve", CURVES)
def test_we_encrypt_to_a_gpg_default_curve_key_gpg_decrypts(
    home: GpgHome, curve: str
) -> None:
    _, cert, _ = _key(home, curve)
    assert home.decrypt(bytes(e2ee_mail.encrypt(BODY, cert))) == BODY


@pytest.mark.parametrize("curve", CURVES)
def test_gpg_encrypts_to_its_default_curve_key_we_decrypt(
    home: GpgHome, curve: str
) -> None:
    fpr, _, key = _key(home, curve)
    assert e2ee_mail.decrypt(home.encrypt(BODY, [fpr]), key) == BODY


@pytest.mark.parametrize("curve", CURVES)
def test_gpg_ecdsa_document_signature_verifies(home: GpgHome, curve: str) -> None:
    fpr, cert, _ = _key(home, curve)
    # Uncompressed, so that the test below can alter a byte of the signed text.
    signed = home.run(
        ["--local-user", fpr, "--compress-algo", "none", "--sign"], input=BODY
    ).stdout
    content, results = verifying.verify_inline(signed, [cert], policy=DEFAULT)
    assert content == BODY
    (result,) = results
    assert result.status == "good", result
    assert result.algorithm is not None and result.algorithm.startswith("ecdsa-")
    tampered = bytearray(signed)
    tampered[signed.index(BODY[:32]) + 7] ^= 0x01
    altered, bad = verifying.verify_inline(bytes(tampered), [cert], policy=DEFAULT)
    assert altered != BODY
    assert [r.status for r in bad] == ["bad"]
