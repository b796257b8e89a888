"""Post-quantum OpenPGP (ML-KEM-768+X25519, RFC 9980) from the command line: keygen,
inspect, and the archive upgrade (keyring rotate to a PQ subkey, then
``rewrap --mailbox``), as a subprocess."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from clirun import ok, run

import e2ee_mail
from e2ee_mail.keys.ring import Keyring
from e2ee_mail.mime import scan as mailscan
from e2ee_mail.openpgp import inspection

ALICE = "alice@example.org"


def test_keygen_makes_a_pq_key_that_encrypts_and_inspects(tmp_path: Path) -> None:
    prefix = tmp_path / "pq"
    ok(
        "keygen",
        "--format",
        "openpgp",
        "--kind",
        "mlkem768-x25519",
        "--uid",
        "PQ <pq@example.org>",
        "--out",
        str(prefix),
    )
    plain = tmp_path / "note.txt"
    plain.write_bytes(b"quantum-safe note\n")
    sealed = tmp_path / "note.pgp"
    ok("encrypt", "--to", f"{prefix}.pub", "-i", str(plain), "-o", str(sealed))
    assert "mlkem768-x25519" in ok("inspect", "-i", str(sealed))
    opened = tmp_path / "note.out"
    ok("decrypt", "--key", f"{prefix}.key", "-i", str(sealed), "-o", str(opened))
    assert opened.read_bytes() == plain.read_bytes()


def test_keygen_refuses_the_pq_kind_for_x509(tmp_path: Path) -> None:
    proc = run(
        "keygen",
        "--format",
        "x509",
        "--kind",
        "mlkem768-x25519",
        "--uid",
        ALICE,
        "--out",
        str(tmp_path / "x"),
    )
    assert proc.returncode == 2, proc.stderr
    assert "openpgp only" in proc.stderr
    assert not list(tmp_path.iterdir())


def _pgpmime_mail(ring: Keyring) -> bytes:
    msg = EmailMessage()
    msg["From"] = "bob@example.org"
    msg["To"] = ALICE
    msg["Subject"] = "sent before the upgrade"
    msg.set_content("stored for years\n")
    sealed = e2ee_mail.encrypt_message(
        msg, ring.recipients(ALICE, format="openpgp"), format="pgpmime"
    )
    return sealed.as_bytes(policy=email.policy.SMTP)


def test_upgrade_a_maildir_to_post_quantum(tmp_path: Path) -> None:
    ring_dir = tmp_path / "ring"
    ring = Keyring.open(ring_dir)
    old = ring.rotate(ALICE, format="openpgp", kind="x25519")
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    stored = maildir / "cur" / "1.host:2,S"
    stored.write_bytes(_pgpmime_mail(ring))

    ok("keyring", "--dir", str(ring_dir), "rotate", ALICE, "--kind", "mlkem768-x25519")
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
    assert "re-wrapped 1, skipped 0, failed 0" in proc.stdout

    data = stored.read_bytes()
    (part,) = mailscan.find_encrypted(data)
    blob = mailscan.extract(data, part)
    assert [r.algorithm for r in inspection.inspect(blob).recipients] == [
        "mlkem768-x25519"
    ]
    current = Keyring.open(ring_dir).decryption_keys()
    opened = e2ee_mail.decrypt_message(email.message_from_bytes(data), current)
    assert "stored for years" in str(opened)
    # The old X25519 subkey no longer opens it: only the PQ wrap is left.
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(blob, old.key)
