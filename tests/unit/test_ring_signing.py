"""The keyring and signing keys: every version names the key that signs for it,
rotation brings a new signing key with the new X.509 X25519 key and a new signing
subkey with the new OpenPGP encryption subkey, and keyrings from before keys
signed load as they are."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import e2ee_mail
from e2ee_mail.cms import signing, verification
from e2ee_mail.keys.ring import Keyring
from e2ee_mail.model import KeyKind
from e2ee_mail.openpgp import keygen, keygen_v4
from e2ee_mail.openpgp import signing as openpgp_signing
from e2ee_mail.openpgp import verifying as openpgp_verifying
from e2ee_mail.openpgp.certs import OpenPGPCertificate, OpenPGPSecretKey
from e2ee_mail.openpgp.rotate import add_signing_subkey
from e2ee_mail.policy import DEFAULT
from e2ee_mail.x509 import certs as kx

ALICE = "alice@example.org"
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=1)


def _cms_round_trip(key: e2ee_mail.SecretKey) -> None:
    assert isinstance(key, kx.X509SecretKey)
    signed = signing.sign(b"from the keyring", [key])
    _, results = verification.verify(signed, [key.public], content=b"from the keyring")
    assert [r.status for r in results] == ["good"]


@pytest.mark.parametrize("passphrase", [None, "ring pw"])
def test_x509_x25519_rotation_brings_a_new_signing_certificate(
    tmp_path: Path, passphrase: str | None
) -> None:
    ring = Keyring.open(tmp_path / "ring", passphrase=passphrase)
    old = ring.rotate(ALICE, format="x509", kind="x25519", now=NOW)
    new = ring.rotate(ALICE, now=LATER)
    assert old.signing is not None and new.signing is not None
    assert old.signing[1] == new.signing[1] == "ed25519"
    assert old.signing[0] != new.signing[0]
    assert old.signing[0] != old.fingerprint
    # Only the active version signs for the identity.
    (signer,) = ring.signing_keys(ALICE)
    assert signer.fingerprint == new.signing[0]
    _cms_round_trip(signer)
    # The signing key is stored with the key and comes back on the next open.
    reopened = Keyring.open(tmp_path / "ring", passphrase=passphrase)
    assert [v.signing for v in reopened.history(ALICE)] == [
        old.signing,
        new.signing,
    ]
    assert reopened.signing_keys(ALICE)[0].fingerprint == new.signing[0]


def test_x509_rsa_version_signs_with_itself(tmp_path: Path) -> None:
    ring = Keyring.open(tmp_path / "ring")
    v = ring.rotate(ALICE, format="x509", kind="rsa3072", now=NOW)
    assert v.signing == (v.fingerprint, "rsa3072")
    (signer,) = ring.signing_keys(ALICE, format="x509")
    assert signer is v.key
    _cms_round_trip(signer)


def _pgp_key(kind: KeyKind, profile: str) -> e2ee_mail.SecretKey:
    """A key made at NOW, so rotations at LATER come after it."""
    make = keygen.generate_v6 if profile == "rfc9580" else keygen_v4.generate_v4
    return make(f"Alice <{ALICE}>", kind=kind, now=int(NOW.timestamp()))


def _pgp_signed(key: e2ee_mail.SecretKey, data: bytes, when: dt.datetime) -> bytes:
    return openpgp_signing.sign_detached(data, key, now=int(when.timestamp()))


def _pgp_status(data: bytes, sig: bytes, cert: e2ee_mail.Certificate) -> str:
    (result,) = openpgp_verifying.verify_detached(data, sig, [cert], policy=DEFAULT)
    return result.status


@pytest.mark.parametrize(
    ("kind", "profile", "algorithm"),
    [
        ("x25519", "rfc9580", "ed25519"),
        ("rsa3072", "rfc9580", "ed25519"),
        ("x25519", "rfc4880", "eddsa-legacy"),
    ],
)
def test_openpgp_rotation_brings_a_new_signing_subkey(
    tmp_path: Path, kind: KeyKind, profile: str, algorithm: str
) -> None:
    ring = Keyring.open(tmp_path / "ring")
    old = ring.add(ALICE, _pgp_key(kind, profile), created=NOW)
    # A new key signs with its primary key.
    assert old.signing is not None and old.signing[0] == old.fingerprint
    before = _pgp_signed(old.key, b"signed before the rotation", NOW)
    new = ring.rotate(ALICE, now=LATER)
    # Both subkeys rotated; the primary key and its fingerprint stayed.
    assert new.fingerprint == old.fingerprint and new.subkey != old.subkey
    assert new.signing is not None and new.signing[1] == algorithm
    assert new.signing[0] not in (old.signing[0], new.subkey)
    (signer,) = ring.signing_keys(ALICE, format="openpgp")
    info, _ = openpgp_signing.signing_key(signer)
    assert info.fingerprint.hex().upper() == new.signing[0]
    after = _pgp_signed(signer, b"signed after the rotation", LATER)
    assert _pgp_status(b"signed after the rotation", after, new.certificate) == "good"
    # The old certificate, kept in the history, does not know the new subkey ...
    assert _pgp_status(b"signed after the rotation", after, old.certificate) != "good"
    # ... and still verifies what was signed before, as the new one does.
    (kept, _) = ring.history(ALICE)
    for cert in (kept.certificate, new.certificate):
        assert _pgp_status(b"signed before the rotation", before, cert) == "good"
    reopened = Keyring.open(tmp_path / "ring")
    assert reopened.history(ALICE)[-1].signing == new.signing


def test_openpgp_second_rotation_expires_the_previous_signing_subkey(
    tmp_path: Path,
) -> None:
    ring = Keyring.open(tmp_path / "ring")
    ring.add(ALICE, _pgp_key("x25519", "rfc9580"), created=NOW)
    middle = ring.rotate(ALICE, now=LATER)
    (signer,) = ring.signing_keys(ALICE)
    by_middle = _pgp_signed(signer, b"between the rotations", LATER)
    last = ring.rotate(ALICE, now=LATER + dt.timedelta(days=1))
    assert middle.signing is not None and last.signing is not None
    assert last.signing != middle.signing
    cert = last.certificate
    assert isinstance(cert, OpenPGPCertificate)
    (old_sub,) = [
        k for k in cert.subkeys if k.fingerprint.hex().upper() == middle.signing[0]
    ]
    assert old_sub.expires == int((LATER + dt.timedelta(days=1)).timestamp())
    # Made while the subkey was current: still good with the newest certificate.
    assert _pgp_status(b"between the rotations", by_middle, cert) == "good"


def test_identity_with_both_formats_has_a_signer_per_format(tmp_path: Path) -> None:
    ring = Keyring.open(tmp_path / "ring")
    ring.rotate(ALICE, format="x509", kind="x25519", now=NOW)
    ring.rotate(ALICE, format="openpgp", kind="x25519", now=NOW)
    formats = sorted(k.format for k in ring.signing_keys(ALICE))
    assert formats == ["openpgp", "x509"]
    assert [k.format for k in ring.signing_keys(ALICE, format="x509")] == ["x509"]


def _single_pair(key: e2ee_mail.SecretKey) -> bytes:
    """The key file as keygen wrote it before X25519 keys had a signing key."""
    blocks = key.export().split(b"-----BEGIN ")[1:3]
    return b"".join(b"-----BEGIN " + b for b in blocks)


def test_old_x25519_version_loads_and_has_no_signer_until_rotated(
    tmp_path: Path,
) -> None:
    generated = e2ee_mail.generate_key(f"Alice <{ALICE}>", format="x509")
    old_key = e2ee_mail.load_key(_single_pair(generated))
    ring = Keyring.open(tmp_path / "ring")
    added = ring.add(ALICE, old_key)
    assert added.signing is None
    assert ring.signing_keys(ALICE) == ()
    reopened = Keyring.open(tmp_path / "ring")
    (v,) = reopened.history(ALICE)
    assert v.signing is None and v.certificate == generated.public
    rotated = reopened.rotate(ALICE, now=LATER)
    assert rotated.signing is not None and rotated.signing[1] == "ed25519"
    assert len(reopened.signing_keys(ALICE)) == 1


def test_a_signing_subkey_signs_only_from_its_creation() -> None:
    # A rotation within the second of the key's last change dates its subkey a
    # second ahead; until then the previous key signs (a reader refuses a
    # signature older than its key).
    key = _pgp_key("x25519", "rfc9580")
    assert isinstance(key, OpenPGPSecretKey)
    made = int(LATER.timestamp())
    rotated = add_signing_subkey(key, created=made)
    before, _ = openpgp_signing.signing_key(rotated, made - 1)
    since, _ = openpgp_signing.signing_key(rotated, made)
    assert before.fingerprint == key.public.primary.fingerprint
    assert since.fingerprint != before.fingerprint and since.packet.created == made
