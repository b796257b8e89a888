"""OpenPGP keys from keygen sign with their primary key: its key flags, in the
direct-key signature (v6) and the User ID self-signature (v4 and v6), are
certify + sign (RFC 9580 §5.2.3.29), the subkey's are encryption only, and a
keyring rotation leaves the primary key as it is."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import pytest

import e2ee_mail
from e2ee_mail.keys.rotation import rotate_key
from e2ee_mail.keys.versions import signing_key_of
from e2ee_mail.model import KeyKind
from e2ee_mail.openpgp.certs import (
    KEY_FLAG_CERTIFY,
    KEY_FLAG_ENCRYPT,
    KEY_FLAG_SIGN,
    OpenPGPCertificate,
)

Profile = Literal["rfc9580", "rfc4880"]
CASES = [
    ("rfc9580", "x25519"),
    ("rfc4880", "x25519"),
    ("rfc9580", "rsa3072"),
    ("rfc4880", "rsa3072"),
    ("rfc9580", "mldsa65-ed25519"),
]


@pytest.mark.parametrize(("profile", "kind"), CASES)
def test_primary_key_certifies_and_signs(profile: Profile, kind: KeyKind) -> None:
    key = e2ee_mail.generate_key("Sig <sig@example.org>", kind=kind, profile=profile)
    cert = key.public
    assert isinstance(cert, OpenPGPCertificate)
    assert cert.primary.flags == KEY_FLAG_CERTIFY | KEY_FLAG_SIGN
    (subkey,) = cert.subkeys
    assert subkey.flags & KEY_FLAG_ENCRYPT and not subkey.flags & KEY_FLAG_SIGN
    assert signing_key_of(key) == (cert.fingerprint, _signing_name(profile, kind))
    # The primary key signs; no separate key to hand a signer.
    assert key.signing_key is key


def _signing_name(profile: Profile, kind: KeyKind) -> str:
    if kind != "x25519":
        return kind
    return "ed25519" if profile == "rfc9580" else "eddsa-legacy"


@pytest.mark.parametrize("profile", ["rfc9580", "rfc4880"])
def test_rotation_keeps_the_signing_primary_key(profile: Profile) -> None:
    key = e2ee_mail.generate_key("Sig <sig@example.org>", profile=profile)
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    rotated = rotate_key(
        key, "sig@example.org", format="openpgp", kind="x25519", now=now
    )
    assert rotated.method == "new-subkey"
    assert signing_key_of(rotated.key) == signing_key_of(key)
    cert = rotated.key.public
    assert isinstance(cert, OpenPGPCertificate)
    assert cert.primary.flags & KEY_FLAG_SIGN
