"""`e2ee-mail keyring ...` and `e2ee-mail rewrap --mailbox` as a subprocess."""

from __future__ import annotations

import base64
import datetime as dt
import stat
import subprocess
from pathlib import Path

import pytest
from clirun import ok, run

import e2ee_mail
from e2ee_mail.keys.ring import Keyring

ALICE = "alice@example.org"


def assert_one_line_error(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode != 0
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("e2ee-mail: error: "), proc.stderr


def test_init_creates_a_private_store(tmp_path: Path) -> None:
    ring = tmp_path / "ring"
    assert "0 identities" in ok("keyring", "--dir", str(ring), "init")
    assert stat.S_IMODE(ring.stat().st_mode) == 0o700
    assert ok("keyring", "--dir", str(ring), "list") == ""


def test_rotate_twice_lists_both_versions(tmp_path: Path) -> None:
    ring = str(tmp_path / "ring")
    first = ok("keyring", "--dir", ring, "rotate", ALICE, "--format", "x509")
    assert "x509 v1" in first and "active" in first
    ok("keyring", "--dir", ring, "rotate", ALICE)
    listing = ok("keyring", "--dir", ring, "list", ALICE).splitlines()
    assert len(listing) == 2
    assert "v1  decrypt-only" in listing[0]
    assert "v2  active" in listing[1]


def test_export_writes_the_active_certificate(tmp_path: Path) -> None:
    ring = tmp_path / "ring"
    ok("keyring", "--dir", str(ring), "rotate", ALICE, "--format", "x509")
    out = tmp_path / "alice.pem"
    ok("keyring", "--dir", str(ring), "export", ALICE, "-o", str(out))
    cert = e2ee_mail.load_certificate(out)
    assert cert == Keyring.open(ring).recipients(ALICE)[0]


def test_export_of_an_identity_without_active_key_writes_nothing(
    tmp_path: Path,
) -> None:
    ring = tmp_path / "ring"
    ok("keyring", "--dir", str(ring), "rotate", ALICE, "--format", "x509")
    fpr = Keyring.open(ring).history(ALICE)[0].fingerprint
    ok("keyring", "--dir", str(ring), "revoke", ALICE, fpr)
    out = tmp_path / "alice.pem"
    proc = run("keyring", "--dir", str(ring), "export", ALICE, "-o", str(out))
    assert_one_line_error(proc)
    assert not out.exists()


def test_due_lists_identities_past_the_max_age(tmp_path: Path) -> None:
    ring = str(tmp_path / "ring")
    ok("keyring", "--dir", ring, "rotate", ALICE, "--format", "x509")
    assert ok("keyring", "--dir", ring, "due", "--max-age", "365d") == ""
    later = "2999-01-01T00:00:00+00:00"
    assert ok("keyring", "--dir", ring, "due", "--max-age", "24h", "--now", later) == (
        ALICE + "\n"
    )


@pytest.mark.parametrize(
    ("age", "days"), [("2w", 14), ("6m", 180), ("1y", 365), ("1Y", 365), ("30", 30)]
)
def test_due_takes_weeks_months_and_years(tmp_path: Path, age: str, days: int) -> None:
    ring = str(tmp_path / "ring")
    ok("keyring", "--dir", ring, "rotate", ALICE, "--format", "x509")
    created = Keyring.open(ring).history(ALICE)[0].created
    before = (created + dt.timedelta(days=days, seconds=-1)).isoformat()
    at = (created + dt.timedelta(days=days)).isoformat()
    assert ok("keyring", "--dir", ring, "due", "--max-age", age, "--now", before) == ""
    assert ok("keyring", "--dir", ring, "due", "--max-age", age, "--now", at) == (
        ALICE + "\n"
    )


def test_due_help_documents_the_units() -> None:
    text = ok("keyring", "--dir", "unused", "due", "--help")
    for unit in ("h (hours)", "d (days", "w (weeks)", "m (months", "y (years"):
        assert unit in " ".join(text.split())


def test_list_shows_the_certificate_expiry_of_x509_versions(tmp_path: Path) -> None:
    from cryptography import x509

    ring = str(tmp_path / "ring")
    ok("keyring", "--dir", ring, "rotate", ALICE, "--format", "x509")
    der = Keyring.open(ring).recipients(ALICE)[0].export(armor=False)
    not_after = x509.load_der_x509_certificate(der).not_valid_after_utc
    (line,) = ok("keyring", "--dir", ring, "list").splitlines()
    assert line.endswith(f"expires {not_after:%Y-%m-%d}")


def test_revoke_takes_an_openpgp_key_id(tmp_path: Path) -> None:
    ring = str(tmp_path / "ring")
    ok("keyring", "--dir", ring, "rotate", ALICE, "--format", "openpgp")
    ok("keyring", "--dir", ring, "rotate", ALICE)
    old, new = Keyring.open(ring).history(ALICE)
    # v6 key IDs are the first 16 hex digits of the fingerprint (RFC 9580 §5.5.4).
    assert old.subkey is not None
    retired = ok("keyring", "--dir", ring, "retire", ALICE, old.subkey[:16].lower())
    assert retired.startswith("retired ") and f"subkey {old.subkey}" in retired
    revoked = ok("keyring", "--dir", ring, "revoke", ALICE, "0x" + new.fingerprint[:16])
    assert len(revoked.splitlines()) == 2
    assert [v.state for v in Keyring.open(ring).history(ALICE)] == [
        "revoked",
        "revoked",
    ]


@pytest.mark.parametrize("age", ["soon", "0d", "90x", "999999999y", "9" * 5000])
def test_due_refuses_a_bad_age(tmp_path: Path, age: str) -> None:
    proc = run("keyring", "--dir", str(tmp_path / "r"), "due", "--max-age", age)
    assert_one_line_error(proc)


def test_add_retire_and_revoke(tmp_path: Path) -> None:
    ring = str(tmp_path / "ring")
    ok("keyring", "--dir", ring, "rotate", ALICE, "--format", "x509")
    prefix = str(tmp_path / "k")
    ok("keygen", "--format", "x509", "--uid", f"alice <{ALICE}>", "--out", prefix)
    added = ok("keyring", "--dir", ring, "add", ALICE, "--key", prefix + ".key")
    assert "v2" in added and "(active)" in added
    retired = ok("keyring", "--dir", ring, "retire", ALICE)
    assert retired.startswith("retired ") and " v1 " in retired
    fpr = added.split()[4]
    assert ok("keyring", "--dir", ring, "revoke", ALICE, fpr).startswith("revoked ")
    assert [v.state for v in Keyring.open(ring).history(ALICE)] == [
        "retired",
        "revoked",
    ]


def test_revoke_of_an_unknown_fingerprint_fails_in_one_line(tmp_path: Path) -> None:
    ring = str(tmp_path / "ring")
    ok("keyring", "--dir", ring, "rotate", ALICE, "--format", "x509")
    assert_one_line_error(run("keyring", "--dir", ring, "revoke", ALICE, "ABCD"))


def test_a_damaged_keyring_is_reported_and_left_alone(tmp_path: Path) -> None:
    ring = tmp_path / "ring"
    ok("keyring", "--dir", str(ring), "rotate", ALICE, "--format", "x509")
    manifest = ring / "keyring.json"
    manifest.write_bytes(manifest.read_bytes()[:-30])
    damaged = manifest.read_bytes()
    proc = run("keyring", "--dir", str(ring), "rotate", ALICE)
    assert_one_line_error(proc)
    assert "JSON" in proc.stderr
    assert manifest.read_bytes() == damaged


def test_passphrase_protected_keyring_needs_the_variable(tmp_path: Path) -> None:
    ring = str(tmp_path / "ring")
    env = {"RING_PW": "hunter2"}
    ok(
        "keyring",
        "--dir",
        ring,
        "--passphrase-env",
        "RING_PW",
        "rotate",
        ALICE,
        "--format",
        "x509",
        env=env,
    )
    assert_one_line_error(run("keyring", "--dir", ring, "list"))
    assert ALICE in ok(
        "keyring", "--dir", ring, "--passphrase-env", "RING_PW", "list", env=env
    )


def _smime(blob: bytes) -> bytes:
    text = base64.b64encode(blob)
    return (
        b"From: bob@example.org\r\nMIME-Version: 1.0\r\nContent-Type: "
        b"application/pkcs7-mime; smime-type=authEnveloped-data\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + b"\r\n".join(text[i : i + 76] for i in range(0, len(text), 76))
        + b"\r\n"
    )


def test_rewrap_mailbox_rekeys_a_maildir(tmp_path: Path) -> None:
    ring_dir = tmp_path / "ring"
    ring = Keyring.open(ring_dir)
    ring.rotate(ALICE, format="x509", kind="x25519")
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    blob = e2ee_mail.encrypt(b"old mail", ring.recipients(ALICE), format="cms")
    (maildir / "cur" / "1.host:2,S").write_bytes(_smime(blob))
    (maildir / "cur" / "2.host:2,S").write_bytes(b"From: x@y.example\r\n\r\nplain\r\n")
    new = ring.rotate(ALICE)
    proc = run(
        "rewrap",
        "--mailbox",
        str(maildir),
        "--keyring",
        str(ring_dir),
        "--workers",
        "1",
    )
    assert proc.returncode == 0, proc.stderr
    assert "re-wrapped 1, skipped 1, failed 0" in proc.stdout
    assert proc.stderr == ""  # no progress bar when stderr is not a terminal
    from e2ee_mail.mime import scan as mailscan

    data = (maildir / "cur" / "1.host:2,S").read_bytes()
    (part,) = mailscan.find_encrypted(data)
    assert e2ee_mail.decrypt(mailscan.extract(data, part), new.key) == b"old mail"


def test_rewrap_mailbox_with_failures_exits_non_zero(tmp_path: Path) -> None:
    ring_dir = tmp_path / "ring"
    Keyring.open(ring_dir).rotate(ALICE, format="x509", kind="x25519")
    stranger = e2ee_mail.generate_key("eve <eve@example.org>", format="x509")
    mbox = tmp_path / "mbox"
    blob = e2ee_mail.encrypt(b"not ours", stranger.public, format="cms")
    mbox.write_bytes(b"From eve Thu Jan  1 00:00:00 2026\n" + _smime(blob) + b"\n")
    before = mbox.read_bytes()
    proc = run("rewrap", "--mailbox", str(mbox), "--keyring", str(ring_dir))
    assert_one_line_error(proc)
    assert "failed 0: no key in the keyring opens this message" in proc.stdout
    assert mbox.read_bytes() == before


@pytest.mark.parametrize(
    "extra",
    [[], ["--keyring", "RING", "--key", "k.pem"]],
    ids=["no-keyring", "mixed-modes"],
)
def test_rewrap_mailbox_usage_errors(tmp_path: Path, extra: list[str]) -> None:
    args = [a.replace("RING", str(tmp_path)) for a in extra]
    proc = run("rewrap", "--mailbox", str(tmp_path), *args)
    assert_one_line_error(proc)


def test_rewrap_without_key_or_mailbox_is_a_usage_error() -> None:
    proc = run("rewrap")
    assert proc.returncode == 2
    assert proc.stderr.startswith("e2ee-mail: error: rewrap needs --key")


def test_list_shows_the_key_that_signs(tmp_path: Path) -> None:
    ring = str(tmp_path / "ring")
    ok("keyring", "--dir", ring, "rotate", ALICE, "--format", "x509")
    ok(
        "keyring",
        "--dir",
        ring,
        "rotate",
        ALICE,
        "--format",
        "x509",
        "--kind",
        "rsa3072",
    )
    ok("keyring", "--dir", ring, "rotate", ALICE, "--format", "openpgp")
    x25519, rsa, openpgp = ok("keyring", "--dir", ring, "list", ALICE).splitlines()
    (v1, _, _) = Keyring.open(ring).history(ALICE)
    assert v1.signing is not None
    assert f"signs with ed25519 {v1.signing[0]}  created" in x25519
    assert "signs with itself  created" in rsa
    assert "signs with itself  created" in openpgp
    # An OpenPGP rotation brings a signing subkey, which list names.
    ok("keyring", "--dir", ring, "rotate", ALICE, "--format", "openpgp")
    rotated = ok("keyring", "--dir", ring, "list", ALICE).splitlines()[-1]
    newest = Keyring.open(ring).history(ALICE)[-1]
    assert newest.signing is not None and newest.signing[0] != newest.fingerprint
    assert f"signs with ed25519 {newest.signing[0]}  created" in rotated


def test_export_appends_the_signing_certificate_of_an_x25519_identity(
    tmp_path: Path,
) -> None:
    ring = tmp_path / "ring"
    ok("keyring", "--dir", str(ring), "rotate", ALICE, "--format", "x509")
    out = tmp_path / "alice.pem"
    ok("keyring", "--dir", str(ring), "export", ALICE, "-o", str(out))
    (signer,) = Keyring.open(ring).signing_keys(ALICE)
    data = out.read_bytes()
    assert data.count(b"-----BEGIN CERTIFICATE-----") == 2
    assert data.endswith(signer.public.export())
    assert e2ee_mail.load_certificate(data).algorithm == "x25519"
