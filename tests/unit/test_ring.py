"""The keyring: versions, states, the on-disk store, corruption and concurrency."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import e2ee_mail
from e2ee_mail.keys.ring import Keyring, KeyringError, RotationPolicy

ALICE = "alice@example.org"
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def ring(tmp_path: Path) -> Keyring:
    return Keyring.open(tmp_path / "ring")


def _cms_available() -> bool:
    try:
        from e2ee_mail.cms import envelope  # noqa: F401
    except ImportError:
        return False
    return True


needs_cms = pytest.mark.skipif(not _cms_available(), reason="cms not built yet")


# -- store layout and modes ---------------------------------------------------


def test_open_creates_store_with_private_modes(tmp_path: Path) -> None:
    path = tmp_path / "ring"
    ring = Keyring.open(path)
    version = ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    assert _mode(path) == 0o700
    assert _mode(path / "keys") == 0o700
    assert _mode(path / "keyring.json") == 0o600
    assert _mode(path / "lock") == 0o600
    key_files = list((path / "keys").iterdir())
    assert [p.name for p in key_files] == [f"{version.serial:08d}.key"]
    assert _mode(key_files[0]) == 0o600


def test_reopen_gives_the_same_history(tmp_path: Path) -> None:
    ring = Keyring.open(tmp_path / "ring")
    first = ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    second = ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    again = Keyring.open(tmp_path / "ring")
    assert again.history(ALICE) == ring.history(ALICE)
    assert [v.fingerprint for v in again.history(ALICE)] == [
        first.fingerprint,
        second.fingerprint,
    ]
    assert again.history(ALICE)[1].created == T0 + dt.timedelta(days=1)


def test_identity_is_normalized_from_name_and_address(ring: Keyring) -> None:
    ring.rotate("Alice <Alice@Example.org>", format="x509", kind="x25519")
    assert ring.identities() == (ALICE,)
    assert len(ring.recipients("alice@EXAMPLE.org")) == 1


def test_identity_that_is_not_an_address_is_refused(ring: Keyring) -> None:
    with pytest.raises(e2ee_mail.UsageError):
        ring.rotate("alice", format="x509", kind="x25519")


def test_repr_shows_no_key_material(ring: Keyring) -> None:
    version = ring.rotate(ALICE, format="x509", kind="x25519")
    pem = version.key.export().decode()
    body = "".join(pem.splitlines()[1:3])
    for text in (repr(ring), repr(version), str(version)):
        assert body not in text
        assert "PRIVATE" not in text


# -- rotation stages -----------------------------------------------------------


def test_rotate_unknown_identity_creates_the_first_active_version(
    ring: Keyring,
) -> None:
    version = ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    assert (version.version, version.state, version.format) == (1, "active", "x509")
    assert version.algorithm == "x25519"
    assert ring.recipients(ALICE) == (version.certificate,)
    assert ring.decryption_keys() == (version.key,)


def test_rotate_demotes_the_previous_version_to_decrypt_only(ring: Keyring) -> None:
    old = ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    new = ring.rotate(ALICE, now=T0 + dt.timedelta(days=30))
    states = [(v.version, v.state) for v in ring.history(ALICE)]
    assert states == [(1, "decrypt-only"), (2, "active")]
    assert new.fingerprint != old.fingerprint
    assert ring.recipients(ALICE) == (new.certificate,)
    # Active first, so decryption tries the current key before older ones.
    assert [k.fingerprint for k in ring.decryption_keys()] == [
        new.fingerprint,
        old.fingerprint,
    ]


@needs_cms
def test_stage_old_key_only_opens_mail(ring: Keyring) -> None:
    old = ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    mail = e2ee_mail.encrypt(b"stage one", ring.recipients(ALICE), format="cms")
    assert e2ee_mail.decrypt(mail, ring.decryption_keys()) == b"stage one"
    assert ring.decryption_keys() == (old.key,)


@needs_cms
def test_stage_old_and_new_both_open_mail(ring: Keyring) -> None:
    ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    old_mail = e2ee_mail.encrypt(b"old", ring.recipients(ALICE), format="cms")
    ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    new_mail = e2ee_mail.encrypt(b"new", ring.recipients(ALICE), format="cms")
    keys = ring.decryption_keys()
    assert e2ee_mail.decrypt(old_mail, keys) == b"old"
    assert e2ee_mail.decrypt(new_mail, keys) == b"new"


@needs_cms
def test_stage_new_preferred_encrypts_only_to_the_new_key(ring: Keyring) -> None:
    old = ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    new = ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    mail = e2ee_mail.encrypt(b"fresh", ring.recipients(ALICE), format="cms")
    assert e2ee_mail.decrypt(mail, new.key) == b"fresh"
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(mail, old.key)


@needs_cms
def test_stage_old_removed_after_revoke(ring: Keyring) -> None:
    old = ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    old_mail = e2ee_mail.encrypt(b"old", ring.recipients(ALICE), format="cms")
    new = ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    rewrapped = e2ee_mail.rewrap(
        old_mail, ring.decryption_keys(), ring.recipients(ALICE)
    )
    ring.revoke(ALICE, old.fingerprint)
    assert ring.decryption_keys() == (new.key,)
    assert e2ee_mail.decrypt(rewrapped, ring.decryption_keys()) == b"old"
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(old_mail, ring.decryption_keys())


def test_retire_without_fingerprint_retires_every_decrypt_only_version(
    ring: Keyring,
) -> None:
    v1 = ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    v2 = ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    v3 = ring.rotate(ALICE, now=T0 + dt.timedelta(days=2))
    retired = ring.retire(ALICE)
    assert {v.fingerprint for v in retired} == {v1.fingerprint, v2.fingerprint}
    assert [v.state for v in ring.history(ALICE)] == ["retired", "retired", "active"]
    # Retired keys open mail only when the caller asks for them.
    assert ring.decryption_keys() == (v3.key,)
    assert len(ring.decryption_keys(include_retired=True)) == 3


@needs_cms
def test_retired_version_opens_mail_only_on_request(ring: Keyring) -> None:
    old = ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    old_mail = e2ee_mail.encrypt(b"old", ring.recipients(ALICE), format="cms")
    ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    # decrypt-only: opens old mail by default.
    assert e2ee_mail.decrypt(old_mail, ring.decryption_keys()) == b"old"
    ring.retire(ALICE, old.fingerprint)
    # retired: kept, but only opens mail when asked for.
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(old_mail, ring.decryption_keys())
    keys = ring.decryption_keys(ALICE, include_retired=True)
    assert e2ee_mail.decrypt(old_mail, keys) == b"old"


def test_revoked_version_is_never_used_again(ring: Keyring) -> None:
    v1 = ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    ring.revoke(ALICE, v1.fingerprint)
    assert ring.recipients(ALICE) == ()
    assert ring.decryption_keys() == ()
    with pytest.raises(e2ee_mail.UsageError):
        ring.retire(ALICE, v1.fingerprint)
    again = Keyring.open(ring.path)
    assert again.history(ALICE)[0].state == "revoked"


def test_add_an_existing_key_makes_it_active(ring: Keyring) -> None:
    first = ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    key = e2ee_mail.generate_key(f"alice <{ALICE}>", format="x509", kind="x25519")
    added = ring.add(ALICE, key, created=T0 + dt.timedelta(days=3))
    assert added.version == 2
    assert ring.history(ALICE)[0].state == "decrypt-only"
    assert ring.recipients(ALICE) == (key.public,)
    with pytest.raises(e2ee_mail.UsageError):
        ring.add(ALICE, first.key)


def test_add_refuses_an_unknown_state(ring: Keyring) -> None:
    key = e2ee_mail.generate_key(f"alice <{ALICE}>", format="x509", kind="x25519")
    with pytest.raises(e2ee_mail.UsageError):
        ring.add(ALICE, key, state="lost")  # type: ignore[arg-type]


def test_due_lists_identities_whose_active_key_is_too_old(ring: Keyring) -> None:
    ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    ring.rotate("bob@example.org", format="x509", kind="x25519", now=T0)
    ring.rotate("bob@example.org", now=T0 + dt.timedelta(days=20))
    policy = RotationPolicy(max_age=dt.timedelta(days=30))
    assert ring.due(policy, T0 + dt.timedelta(days=29)) == ()
    assert ring.due(policy, T0 + dt.timedelta(days=30)) == (ALICE,)
    assert ring.due(policy, T0 + dt.timedelta(days=50)) == (ALICE, "bob@example.org")


def test_x509_version_is_valid_until_its_certificate_not_after(
    ring: Keyring,
) -> None:
    from cryptography import x509

    version = ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    der = version.certificate.export(armor=False)
    not_after = x509.load_der_x509_certificate(der).not_valid_after_utc
    assert version.expires is None
    assert version.valid_until == not_after


def test_due_lists_an_identity_whose_certificate_has_expired(ring: Keyring) -> None:
    version = ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    assert version.valid_until is not None
    # Far younger than the maximum age, but past the certificate's notAfter.
    policy = RotationPolicy(max_age=dt.timedelta(days=100 * 365))
    assert ring.due(policy, version.valid_until - dt.timedelta(seconds=1)) == ()
    assert ring.due(policy, version.valid_until) == (ALICE,)


def test_rotation_policy_refuses_a_non_positive_age() -> None:
    with pytest.raises(e2ee_mail.UsageError):
        RotationPolicy(max_age=dt.timedelta(0))


def test_rotate_without_format_on_an_unknown_identity_is_a_usage_error(
    ring: Keyring,
) -> None:
    with pytest.raises(e2ee_mail.UsageError):
        ring.rotate(ALICE)


# -- passphrase ------------------------------------------------------------------


def test_passphrase_protects_every_key_file(tmp_path: Path) -> None:
    path = tmp_path / "ring"
    ring = Keyring.open(path, passphrase="correct horse")
    version = ring.rotate(ALICE, format="x509", kind="x25519")
    data = (path / "keys" / f"{version.serial:08d}.key").read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in data
    with pytest.raises(e2ee_mail.PassphraseError):
        Keyring.open(path)
    with pytest.raises(e2ee_mail.PassphraseError):
        Keyring.open(path, passphrase="wrong")
    again = Keyring.open(path, passphrase=b"correct horse")
    assert again.decryption_keys()[0].fingerprint == version.fingerprint


# -- corruption is reported, never repaired --------------------------------------


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    path = tmp_path / "ring"
    ring = Keyring.open(path)
    ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    return path


def _snapshot(path: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(path)): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def _assert_refused(path: Path, match: str) -> None:
    before = _snapshot(path)
    with pytest.raises(KeyringError, match=match):
        Keyring.open(path)
    assert _snapshot(path) == before


def test_half_written_manifest_is_reported(stored: Path) -> None:
    manifest = stored / "keyring.json"
    manifest.write_bytes(manifest.read_bytes()[:100])
    _assert_refused(stored, "not valid JSON")


def test_manifest_checksum_mismatch_is_reported(stored: Path) -> None:
    manifest = stored / "keyring.json"
    doc = json.loads(manifest.read_bytes())
    doc["body"]["identities"][ALICE][0]["state"] = "active"
    manifest.write_text(json.dumps(doc))
    _assert_refused(stored, "checksum")


def test_missing_manifest_in_a_used_directory_is_reported(stored: Path) -> None:
    (stored / "keyring.json").unlink()
    _assert_refused(stored, "not empty")


def test_missing_key_file_is_reported(stored: Path) -> None:
    (stored / "keys" / "00000001.key").unlink()
    _assert_refused(stored, "missing")


def test_truncated_key_file_is_reported(stored: Path) -> None:
    key_file = stored / "keys" / "00000002.key"
    key_file.write_bytes(key_file.read_bytes()[:40])
    _assert_refused(stored, "00000002.key")


def test_key_file_holding_another_key_is_reported(stored: Path) -> None:
    keys = stored / "keys"
    (keys / "00000001.key").write_bytes((keys / "00000002.key").read_bytes())
    _assert_refused(stored, "manifest says")


def test_a_mutation_refuses_a_store_damaged_behind_its_back(stored: Path) -> None:
    ring = Keyring.open(stored)
    (stored / "keyring.json").write_bytes(b"{")
    with pytest.raises(KeyringError):
        ring.rotate(ALICE)
    assert (stored / "keyring.json").read_bytes() == b"{"


def test_orphan_key_file_from_an_interrupted_write_is_overwritten(
    stored: Path,
) -> None:
    # A crash after the key file but before the manifest leaves an orphan with the
    # next serial number; the next write must reuse the slot, not fail.
    (stored / "keys" / "00000003.key").write_bytes(b"half")
    ring = Keyring.open(stored)
    version = ring.rotate(ALICE, now=T0 + dt.timedelta(days=2))
    assert version.serial == 3
    assert Keyring.open(stored).history(ALICE)[-1].fingerprint == version.fingerprint


# -- concurrency -------------------------------------------------------------------

_WRITER = textwrap.dedent(
    """
    import sys
    from e2ee_mail.keys.ring import Keyring

    ring = Keyring.open(sys.argv[1])
    for i in range(int(sys.argv[3])):
        ring.rotate(sys.argv[2], format="x509", kind="x25519")
        ring.rotate(f"{sys.argv[4]}{i}@example.org", format="x509", kind="x25519")
    """
)


def test_concurrent_writers_in_two_processes_both_land(tmp_path: Path) -> None:
    path = tmp_path / "ring"
    Keyring.open(path)
    rounds = 6
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), ALICE, str(rounds), tag],
            env={**os.environ, "PYTHONWARNINGS": "error"},
        )
        for tag in ("p", "q")
    ]
    try:
        for proc in procs:
            assert proc.wait(timeout=120) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    ring = Keyring.open(path)
    history = ring.history(ALICE)
    assert len(history) == 2 * rounds
    assert [v.version for v in history] == list(range(1, 2 * rounds + 1))
    assert [v.state for v in history].count("active") == 1
    assert history[-1].state == "active"
    assert len(ring.identities()) == 1 + 2 * rounds
    assert len({v.serial for i in ring.identities() for v in ring.history(i)}) == (
        4 * rounds
    )


def test_keyring_is_public_api() -> None:
    assert e2ee_mail.Keyring is Keyring
    assert e2ee_mail.RotationPolicy is RotationPolicy
    assert issubclass(e2ee_mail.KeyringError, e2ee_mail.Error)


def test_open_on_a_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"not a keyring")
    with pytest.raises(KeyringError, match="not a directory"):
        Keyring.open(path)


_OPENER = textwrap.dedent(
    """
    import sys
    from e2ee_mail.keys.ring import Keyring

    Keyring.open(sys.argv[1]).rotate(sys.argv[2], format="x509", kind="x25519")
    """
)


def test_two_processes_creating_the_same_keyring_both_succeed(tmp_path: Path) -> None:
    path = tmp_path / "ring"
    procs = [
        subprocess.Popen([sys.executable, "-c", _OPENER, str(path), f"{u}@example.org"])
        for u in ("a", "b")
    ]
    try:
        assert [proc.wait(timeout=120) for proc in procs] == [0, 0]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert Keyring.open(path).identities() == ("a@example.org", "b@example.org")


# -- writers killed mid-write -------------------------------------------------

# Opens (or creates) the keyring argv[1] and, unless argv[3] is "open", rotates
# ALICE; SIGKILLs itself at the rename of the manifest ("manifest") or of the new
# key file ("key"): what a kill at that moment leaves behind.
_KILLED = textwrap.dedent(
    """
    import os, signal, sys
    from e2ee_mail.keys.ring import Keyring

    path, where, what = sys.argv[1:4]
    real_replace = os.replace

    def replace(src, dst):
        if os.fspath(dst).endswith("keyring.json") == (where == "manifest"):
            os.kill(os.getpid(), signal.SIGKILL)
        real_replace(src, dst)

    os.replace = replace
    ring = Keyring.open(path)
    if what == "rotate":
        ring.rotate("alice@example.org", format="x509", kind="x25519")
    """
)


def _killed(path: Path, where: str, what: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED, str(path), where, what],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == -9, proc.stderr.decode()


def test_a_first_open_killed_before_its_manifest_landed_is_redone(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ring"
    _killed(path, "manifest", "open")
    leftovers = [p.name for p in path.iterdir() if p.name not in ("lock", "keys")]
    assert len(leftovers) == 1 and leftovers[0].startswith(".keyring.json.")
    ring = Keyring.open(path)
    ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    assert sorted(p.name for p in path.iterdir()) == ["keyring.json", "keys", "lock"]
    assert len(Keyring.open(path).history(ALICE)) == 1


def test_leftovers_of_killed_rotations_are_removed_by_the_next_writer(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ring"
    ring = Keyring.open(path)
    first = ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    _killed(path, "key", "rotate")
    temps = [p.name for p in (path / "keys").iterdir() if p.name.startswith(".")]
    assert len(temps) == 1  # the new key file's temporary
    # Each killed writer sweeps what the one before it left, then leaves its own:
    # a complete key file that its manifest never named, and the manifest's
    # temporary.
    _killed(path, "key", "rotate")
    _killed(path, "manifest", "rotate")
    keys = sorted(p.name for p in (path / "keys").iterdir())
    assert keys == [f"{first.serial:08d}.key", f"{first.serial + 1:08d}.key"]
    assert len([p for p in path.iterdir() if p.name.startswith(".keyring.json.")]) == 1
    # Someone else's file in the directory is not ours to remove.
    (path / "keys" / "notes.txt").write_bytes(b"mine")
    # A reader changes nothing; the next writer sweeps.
    assert Keyring.open(path).history(ALICE) == ring.history(ALICE)
    second = ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    assert sorted(p.name for p in path.iterdir()) == ["keyring.json", "keys", "lock"]
    assert sorted(p.name for p in (path / "keys").iterdir()) == sorted(
        [f"{first.serial:08d}.key", f"{second.serial:08d}.key", "notes.txt"]
    )
    assert [v.state for v in Keyring.open(path).history(ALICE)] == [
        "decrypt-only",
        "active",
    ]


def test_a_temporary_newer_than_the_operation_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "ring"
    ring = Keyring.open(path)
    ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    stale = path / ".keyring.json.0123456789abcdef"
    stale.write_bytes(b"{")
    future = path / ".keyring.json.fedcba9876543210"
    future.write_bytes(b"{")
    later = os.stat(future).st_mtime + 3600
    os.utime(future, (later, later))
    ring.retire(ALICE)
    assert not stale.exists()
    assert future.exists()
