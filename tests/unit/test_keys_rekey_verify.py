"""mailbox/rekey.py verification: a re-keyed message must be addressed to the current
certificates, not merely open with the active key (an OpenPGP key keeps its retired
subkeys, so mail still wrapped to an old subkey opens too)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

import e2ee_mail
from e2ee_mail.keys.ring import Keyring
from e2ee_mail.mailbox.rekey import Rekeyer

ALICE = "Alice <alice@example.org>"


def _mail(blob: bytes) -> bytes:
    armored = base64.encodebytes(blob).replace(b"\n", b"\r\n")
    return (
        b"From: alice@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: application/pkcs7-mime; smime-type=authEnveloped-data\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + armored
    )


def _pgp_mail(armored: bytes) -> bytes:
    return b"From: alice@example.org\r\nSubject: x\r\n\r\n" + armored


@pytest.fixture
def ring(tmp_path: Path) -> Keyring:
    ring = Keyring.open(tmp_path / "ring")
    ring.rotate(ALICE, format="openpgp", kind="x25519")
    ring.rotate(ALICE, format="x509", kind="x25519")
    return ring


@pytest.mark.parametrize("fmt", ["openpgp", "x509"])
def test_verify_refuses_a_message_still_addressed_to_the_old_key(
    ring: Keyring, fmt: str
) -> None:
    old_cert = ring.recipients(ALICE, format=fmt)[0]  # type: ignore[arg-type]
    if fmt == "openpgp":
        blob = e2ee_mail.encrypt(b"secret", old_cert, format="openpgp", armor=True)
        original = _pgp_mail(bytes(blob))
    else:
        original = _mail(bytes(e2ee_mail.encrypt(b"secret", old_cert, format="cms")))
    ring.rotate(ALICE, format=fmt)  # type: ignore[arg-type]
    rekeyer = Rekeyer(ring, None)
    result = rekeyer.rekey(original)
    assert result.data is not None
    rekeyer.verify(result.data, result.checks)  # the re-keyed message passes

    # The original still opens with the active key when that key kept the old
    # subkey (OpenPGP rotation), but it is not what the re-keying promised.
    with pytest.raises(e2ee_mail.Error, match="not addressed to the current keys"):
        rekeyer.verify(original, result.checks)
