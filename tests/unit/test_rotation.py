"""Key rotation per format, and the audit trail it leaves."""

from __future__ import annotations

import base64
import datetime as dt
import logging
from pathlib import Path

import pytest

import e2ee_mail
from e2ee_mail.keys import rotation
from e2ee_mail.keys.ring import Keyring

ALICE = "alice@example.org"
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def test_x509_rotation_makes_a_new_key_and_certificate() -> None:
    old = e2ee_mail.generate_key(f"Alice Example <{ALICE}>", format="x509")
    rotated = rotation.rotate_key(old, ALICE, format="x509", kind="x25519", now=NOW)
    assert rotated.method == "new-key"
    assert rotated.previous_expires is None
    new = rotated.key
    assert new.format == "x509" and new.public.algorithm == "x25519"
    assert new.fingerprint != old.fingerprint
    assert ALICE in new.public.user_ids
    # The name travels from the old certificate to the new one.
    assert any("CN=Alice Example" in uid for uid in new.public.user_ids)


def test_first_rotation_names_the_key_after_the_address() -> None:
    rotated = rotation.rotate_key(None, ALICE, format="x509", kind="x25519", now=NOW)
    assert ALICE in rotated.key.public.user_ids


def test_rotation_can_change_the_algorithm() -> None:
    old = e2ee_mail.generate_key(f"a <{ALICE}>", format="x509", kind="x25519")
    rotated = rotation.rotate_key(old, ALICE, format="x509", kind="rsa3072", now=NOW)
    assert rotated.key.public.algorithm == "rsa3072"


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(e2ee_mail.UsageError):
        rotation.rotate_key(None, ALICE, format="x509", kind="dsa", now=NOW)  # type: ignore[arg-type]


def test_openpgp_user_id_is_kept_verbatim() -> None:
    class _Cert:
        user_ids = (f"Alice Example <{ALICE}>",)

    class _Key:
        public = _Cert()

    assert rotation.user_id_for(ALICE, _Key()) == f"Alice Example <{ALICE}>"  # type: ignore[arg-type]


def _secret_strings(ring: Keyring) -> list[str]:
    found = []
    for ident in ring.identities():
        for version in ring.history(ident):
            der = version.key.export(armor=False)
            pem = version.key.export().decode()
            found += [der.hex(), der.hex().upper(), base64.b64encode(der).decode()]
            found += [line for line in pem.splitlines() if "-----" not in line]
    return found


def test_rotation_audit_records_carry_fingerprints_and_no_secrets(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="e2ee_mail")
    ring = Keyring.open(tmp_path / "ring", passphrase="correct-horse-battery")
    v1 = ring.rotate(ALICE, format="x509", kind="x25519", now=NOW)
    v2 = ring.rotate(ALICE, now=NOW + dt.timedelta(days=1))
    ring.retire(ALICE)
    ring.revoke(ALICE, v1.fingerprint)
    records = [r for r in caplog.records if r.name == "e2ee_mail.audit"]
    events = [r.event for r in records]  # type: ignore[attr-defined]
    assert events == ["key.rotate", "key.rotate", "key.retire", "key.revoke"]
    second = records[1]
    assert second.identity == ALICE  # type: ignore[attr-defined]
    assert second.fingerprints == (v1.fingerprint, v2.fingerprint)  # type: ignore[attr-defined]
    text = "\n".join(
        f"{r.getMessage()} {sorted(vars(r).items())!r}" for r in caplog.records
    )
    assert "correct-horse-battery" not in text
    for secret in _secret_strings(ring):
        assert secret not in text


def test_openpgp_v4_identity_rotates_to_a_v4_key() -> None:
    old = e2ee_mail.generate_key(f"Alice <{ALICE}>", profile="rfc4880")
    rotated = rotation.rotate_key(old, ALICE, format="openpgp", kind="x25519", now=NOW)
    assert rotated.key.public.version == 4  # type: ignore[attr-defined]
    assert rotated.key.public.user_ids == (f"Alice <{ALICE}>",)


def test_openpgp_v6_identity_rotates_to_a_v6_key() -> None:
    old = e2ee_mail.generate_key(f"Alice <{ALICE}>")
    rotated = rotation.rotate_key(old, ALICE, format="openpgp", kind="x25519", now=NOW)
    assert rotated.key.public.version == 6  # type: ignore[attr-defined]


def test_openpgp_rotation_adds_a_subkey_and_old_mail_still_opens(
    tmp_path: Path,
) -> None:
    ring = Keyring.open(tmp_path / "ring")
    old = ring.rotate(ALICE, format="openpgp", kind="x25519", now=NOW)
    old_mail = e2ee_mail.encrypt(b"before rotation", ring.recipients(ALICE))
    new = ring.rotate(ALICE, now=NOW + dt.timedelta(days=1))
    # RFC 9580 subkey rotation: same primary key, a new encryption subkey.
    assert new.fingerprint == old.fingerprint
    assert new.subkey is not None and old.subkey is not None
    assert new.subkey != old.subkey
    assert [v.state for v in ring.history(ALICE)] == ["decrypt-only", "active"]
    assert ring.history(ALICE)[0].expires is not None
    assert ring.recipients(ALICE) == (new.certificate,)
    assert e2ee_mail.decrypt(old_mail, ring.decryption_keys()) == b"before rotation"
    # The new key alone still opens mail sent to the old subkey.
    assert e2ee_mail.decrypt(old_mail, new.key) == b"before rotation"
    new_mail = e2ee_mail.encrypt(b"after", ring.recipients(ALICE))
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(new_mail, old.key)


def test_openpgp_rotation_falls_back_to_a_new_key_when_no_subkey_can_be_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise e2ee_mail.UnsupportedError("the primary key cannot sign here")

    monkeypatch.setattr(rotation, "add_encryption_subkey", refuse)
    old = e2ee_mail.generate_key(f"Alice <{ALICE}>")
    rotated = rotation.rotate_key(old, ALICE, format="openpgp", kind="x25519", now=NOW)
    assert rotated.method == "new-key"
    assert rotated.key.fingerprint != old.fingerprint
