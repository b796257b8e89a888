"""The keyring with OpenPGP subkey rotation: versions that share a primary key.

Each stage of a rotation (old only, old and new, new preferred, old removed), the
manifest's "subkey" field (written, read back, absent in older manifests, checked
against the key file), and retire/revoke/add with subkey fingerprints.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from pathlib import Path
from typing import Any

import pytest

import e2ee_mail
from e2ee_mail.keys.ring import Keyring, KeyringError
from e2ee_mail.keys.ringstore import Store
from e2ee_mail.openpgp.certs import OpenPGPCertificate, OpenPGPSecretKey
from e2ee_mail.openpgp.rotate import add_encryption_subkey

ALICE = "alice@example.org"
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


@pytest.fixture
def ring(tmp_path: Path) -> Keyring:
    return Keyring.open(tmp_path / "ring")


def _recipient_ids(message: bytes) -> set[str]:
    return {r.id for r in e2ee_mail.inspect(message).recipients}


def _edit_manifest(path: Path, change: Any) -> None:
    store = Store(path)
    with store.locked(exclusive=True):
        body = store.read_manifest()
        change(body)
        store.write_manifest(body)


def test_stage_old_key_only(ring: Keyring) -> None:
    old = ring.rotate(ALICE, format="openpgp", kind="x25519", now=T0)
    assert old.subkey is not None
    mail = bytes(e2ee_mail.encrypt(b"one", ring.recipients(ALICE)))
    assert _recipient_ids(mail) == {old.subkey}
    assert e2ee_mail.decrypt(mail, ring.decryption_keys()) == b"one"


def test_stage_old_and_new_both_open_mail(ring: Keyring) -> None:
    ring.rotate(ALICE, format="openpgp", kind="x25519", now=T0)
    old_mail = bytes(e2ee_mail.encrypt(b"old", ring.recipients(ALICE)))
    ring.rotate(ALICE, now=T0 + DAY)
    new_mail = bytes(e2ee_mail.encrypt(b"new", ring.recipients(ALICE)))
    keys = ring.decryption_keys()
    assert e2ee_mail.decrypt(old_mail, keys) == b"old"
    assert e2ee_mail.decrypt(new_mail, keys) == b"new"


def test_stage_new_preferred_encrypts_only_to_the_new_subkey(ring: Keyring) -> None:
    old = ring.rotate(ALICE, format="openpgp", kind="x25519", now=T0)
    new = ring.rotate(ALICE, now=T0 + DAY)
    assert new.fingerprint == old.fingerprint
    assert new.subkey != old.subkey
    assert ring.history(ALICE)[0].expires is not None
    mail = bytes(e2ee_mail.encrypt(b"fresh", ring.recipients(ALICE)))
    assert _recipient_ids(mail) == {new.subkey}
    assert e2ee_mail.decrypt(mail, new.key) == b"fresh"
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(mail, old.key)


def test_stage_old_removed_after_revoking_the_old_subkey(ring: Keyring) -> None:
    old = ring.rotate(ALICE, format="openpgp", kind="x25519", now=T0)
    old_mail = bytes(e2ee_mail.encrypt(b"old", ring.recipients(ALICE)))
    new = ring.rotate(ALICE, now=T0 + DAY)
    rewrapped = bytes(
        e2ee_mail.rewrap(old_mail, ring.decryption_keys(), ring.recipients(ALICE))
    )
    assert old.subkey is not None
    changed = ring.revoke(ALICE, old.subkey)
    assert [v.version for v in changed] == [1]
    assert [v.state for v in ring.history(ALICE)] == ["revoked", "active"]
    keys = ring.decryption_keys()
    assert e2ee_mail.decrypt(rewrapped, keys) == b"old"
    # The active key still holds the old subkey's secret, but the keyring leaves
    # a revoked subkey out of what it hands out for decryption.
    assert e2ee_mail.decrypt(old_mail, new.key) == b"old"
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(old_mail, keys)


def test_retired_subkey_opens_mail_only_on_request(ring: Keyring) -> None:
    ring.rotate(ALICE, format="openpgp", kind="x25519", now=T0)
    old_mail = bytes(e2ee_mail.encrypt(b"old", ring.recipients(ALICE)))
    new = ring.rotate(ALICE, now=T0 + DAY)
    ring.retire(ALICE)
    keys = ring.decryption_keys(include_retired=True)
    assert keys[0] is new.key
    assert e2ee_mail.decrypt(old_mail, keys) == b"old"
    # The new version's key holds the retired subkey too: left out by default.
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(old_mail, ring.decryption_keys())


def test_revoking_the_primary_fingerprint_revokes_every_version(ring: Keyring) -> None:
    old = ring.rotate(ALICE, format="openpgp", kind="x25519", now=T0)
    ring.rotate(ALICE, now=T0 + DAY)
    changed = ring.revoke(ALICE, old.fingerprint)
    assert len(changed) == 2
    assert ring.recipients(ALICE) == ()
    assert ring.decryption_keys() == ()


@pytest.mark.parametrize("profile", ["rfc9580", "rfc4880"])
def test_versions_are_named_by_key_id_too(ring: Keyring, profile: str) -> None:
    key = e2ee_mail.generate_key(f"Alice <{ALICE}>", profile=profile)  # type: ignore[arg-type]
    old = ring.add(ALICE, key, created=T0)
    new = ring.rotate(ALICE, now=T0 + DAY)
    cert = new.key.public
    assert isinstance(cert, OpenPGPCertificate)
    # RFC 9580 §5.5.4: a v6 key ID is the fingerprint's first 8 octets, a v4 one
    # its last 8.
    v6 = profile == "rfc9580"
    new_sub = new.subkey or ""
    sub_id = new_sub[:16] if v6 else new_sub[-16:]
    assert ring.retire(ALICE, "0x" + sub_id.lower()) == (
        dataclasses.replace(new, state="retired"),
    )
    primary_id = old.fingerprint[:16] if v6 else old.fingerprint[-16:]
    assert cert.primary.key_id.hex().upper() == primary_id
    spaced = " ".join(primary_id[i : i + 4] for i in range(0, 16, 4))
    changed = ring.revoke(ALICE, spaced)
    assert [v.version for v in changed] == [1, 2]
    assert [v.state for v in ring.history(ALICE)] == ["revoked", "revoked"]


def test_a_key_id_of_no_version_is_a_usage_error(ring: Keyring) -> None:
    ring.rotate(ALICE, format="openpgp", kind="x25519", now=T0)
    with pytest.raises(e2ee_mail.UsageError, match="no usable key"):
        ring.revoke(ALICE, "0123456789ABCDEF")


def test_openpgp_versions_are_valid_until_their_subkey_expires(ring: Keyring) -> None:
    old = ring.rotate(ALICE, format="openpgp", kind="x25519", now=T0)
    new = ring.rotate(ALICE, now=T0 + DAY)
    assert old.valid_until is None
    demoted, active = ring.history(ALICE)
    # The rotation gave the old subkey an expiration time; the new one has none.
    assert demoted.valid_until is not None and demoted.valid_until >= T0 + DAY
    assert active == new and active.valid_until is None


def test_three_rotations_newest_key_alone_opens_all_mail(ring: Keyring) -> None:
    mails = []
    for n in range(3):
        ring.rotate(ALICE, format="openpgp", kind="x25519", now=T0 + n * DAY)
        mails.append(bytes(e2ee_mail.encrypt(b"v%d" % n, ring.recipients(ALICE))))
    history = ring.history(ALICE)
    assert len({v.fingerprint for v in history}) == 1
    assert len({v.subkey for v in history}) == 3
    newest = history[-1].key
    assert [e2ee_mail.decrypt(m, newest) for m in mails] == [b"v0", b"v1", b"v2"]


def test_v4_identity_rotates_by_subkey_and_stays_v4(ring: Keyring) -> None:
    key = e2ee_mail.generate_key(f"Alice <{ALICE}>", profile="rfc4880")
    old = ring.add(ALICE, key, created=T0)
    new = ring.rotate(ALICE, now=T0 + DAY)
    assert new.fingerprint == old.fingerprint
    assert new.key.public.version == 4  # type: ignore[attr-defined]
    assert new.algorithm == "ecdh-curve25519"
    mail = bytes(e2ee_mail.encrypt(b"v4", ring.recipients(ALICE)))
    assert e2ee_mail.decrypt(mail, new.key) == b"v4"


def test_manifest_records_the_subkey_and_reopens(ring: Keyring) -> None:
    ring.rotate(ALICE, format="openpgp", kind="x25519", now=T0)
    ring.rotate(ALICE, now=T0 + DAY)
    body = Store(ring.path).read_manifest()
    entries = body["identities"][ALICE]  # type: ignore[index]
    assert [e["subkey"] for e in entries] == [v.subkey for v in ring.history(ALICE)]
    again = Keyring.open(ring.path)
    assert again.history(ALICE) == ring.history(ALICE)
    assert [v.subkey for v in again.history(ALICE)] == [
        v.subkey for v in ring.history(ALICE)
    ]


def test_manifest_without_subkeys_still_loads(ring: Keyring) -> None:
    ring.rotate(ALICE, format="openpgp", kind="x25519", now=T0)
    ring.rotate(ALICE, now=T0 + DAY)
    subkeys = [v.subkey for v in ring.history(ALICE)]

    def strip(body: dict[str, Any]) -> None:
        for entry in body["identities"][ALICE]:
            del entry["subkey"]

    _edit_manifest(ring.path, strip)
    again = Keyring.open(ring.path)
    # Taken from each version's key file: the subkey it encrypts to.
    assert [v.subkey for v in again.history(ALICE)] == subkeys


def test_manifest_naming_a_foreign_subkey_is_refused(ring: Keyring) -> None:
    ring.rotate(ALICE, format="openpgp", kind="x25519", now=T0)

    def swap(body: dict[str, Any]) -> None:
        body["identities"][ALICE][0]["subkey"] = "AB" * 32

    _edit_manifest(ring.path, swap)
    with pytest.raises(KeyringError):
        Keyring.open(ring.path)


def test_manifest_subkey_of_the_wrong_type_is_refused(ring: Keyring) -> None:
    ring.rotate(ALICE, format="openpgp", kind="x25519", now=T0)

    def spoil(body: dict[str, Any]) -> None:
        body["identities"][ALICE][0]["subkey"] = 7

    _edit_manifest(ring.path, spoil)
    with pytest.raises(KeyringError):
        Keyring.open(ring.path)


def test_add_takes_a_key_rotated_elsewhere_but_not_twice(ring: Keyring) -> None:
    first = ring.rotate(ALICE, format="openpgp", kind="x25519", now=T0)
    assert isinstance(first.key, OpenPGPSecretKey)
    updated = add_encryption_subkey(first.key)
    added = ring.add(ALICE, updated, created=T0 + DAY)
    assert added.fingerprint == first.fingerprint and added.subkey != first.subkey
    assert [v.state for v in ring.history(ALICE)] == ["decrypt-only", "active"]
    with pytest.raises(e2ee_mail.UsageError):
        ring.add(ALICE, updated)


def test_x509_versions_carry_no_subkey(ring: Keyring) -> None:
    version = ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    assert version.subkey is None
    entry = Store(ring.path).read_manifest()["identities"][ALICE][0]  # type: ignore[index]
    assert "subkey" not in entry


def test_rotation_audit_record_names_both_subkeys(
    ring: Keyring, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="e2ee_mail")
    old = ring.rotate(ALICE, format="openpgp", kind="x25519", now=T0)
    new = ring.rotate(ALICE, now=T0 + DAY)
    record = [r for r in caplog.records if r.name == "e2ee_mail.audit"][-1]
    assert record.method == "new-subkey"  # type: ignore[attr-defined]
    assert record.old_subkey == old.subkey  # type: ignore[attr-defined]
    assert record.new_subkey == new.subkey  # type: ignore[attr-defined]
    assert record.new_fingerprint == record.old_fingerprint == new.fingerprint  # type: ignore[attr-defined]
