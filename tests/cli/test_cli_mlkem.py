"""``e2ee-mail`` with ML-KEM certificates (RFC 9935, RFC 9936), as a subprocess:
keygen --kind mlkem768 / mlkem1024, encrypt and decrypt as CMS and S/MIME, inspect
naming the KEM, and the post-quantum re-key of a message stored for an RSA key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import e2ee_mail

ROOT = str(Path(e2ee_mail.__file__).resolve().parents[1])
BODY = b"stored for years\n" * 100
MAIL = (
    b"From: Alice <alice@example.org>\r\nTo: Quinn <quinn@example.org>\r\n"
    b"Subject: the real subject\r\nMessage-ID: <pq@example.org>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nHi Quinn,\r\nsecret.\r\n"
)


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "e2ee_mail.cli", *args],
        cwd=cwd,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": ROOT},
        timeout=120,
        check=False,
    )


def _ok(cwd: Path, *args: str) -> bytes:
    proc = run(cwd, *args)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("pq")
    for name, kind in (
        ("rita", "rsa3072"),
        ("quinn", "mlkem768"),
        ("max", "mlkem1024"),
    ):
        _ok(
            d,
            "keygen",
            "--format",
            "x509",
            "--kind",
            kind,
            "--uid",
            f"{name} <{name}@example.org>",
            "--out",
            name,
        )
    (d / "body").write_bytes(BODY)
    return d


def test_keygen_mlkem_certificate_loads(keys: Path) -> None:
    for name, kind in (("quinn", "mlkem768"), ("max", "mlkem1024")):
        cert = e2ee_mail.load_certificate((keys / f"{name}.pub").read_bytes())
        assert cert.algorithm == kind
        key = (keys / f"{name}.key").read_bytes()
        assert key.startswith(b"-----BEGIN PRIVATE KEY-----")


def test_encrypt_inspect_decrypt(keys: Path) -> None:
    _ok(
        keys,
        "encrypt",
        "--to",
        "quinn.pub",
        "--to",
        "max.pub",
        "--to",
        "rita.pub",
        "-i",
        "body",
        "-o",
        "ct",
    )
    text = _ok(keys, "inspect", "-i", "ct").decode()
    assert "KEMRecipientInfo mlkem768-hkdf-sha256+aes256-wrap" in text
    assert "KEMRecipientInfo mlkem1024-hkdf-sha256+aes256-wrap" in text
    for name in ("quinn", "max", "rita"):
        assert _ok(keys, "decrypt", "--key", f"{name}.key", "-i", "ct") == BODY


def test_smime_round_trip(keys: Path) -> None:
    (keys / "mail.eml").write_bytes(MAIL)
    _ok(
        keys,
        "encrypt",
        "--format",
        "smime",
        "--to",
        "quinn.pub",
        "-i",
        "mail.eml",
        "-o",
        "out.eml",
    )
    out = _ok(keys, "decrypt", "--key", "quinn.key", "-i", "out.eml")
    assert b"Subject: the real subject" in out
    assert b"secret." in out


def test_rewrap_an_rsa_message_to_post_quantum(keys: Path) -> None:
    _ok(keys, "encrypt", "--to", "rita.pub", "-i", "body", "-o", "old")
    _ok(
        keys,
        "rewrap",
        "--key",
        "rita.key",
        "--to",
        "quinn.pub",
        "-i",
        "old",
        "-o",
        "new",
    )
    assert _ok(keys, "decrypt", "--key", "quinn.key", "-i", "new") == BODY
    assert run(keys, "decrypt", "--key", "rita.key", "-i", "new").returncode != 0
    # The sealed body is the same octets: only the recipient entries changed.
    old, new = (keys / "old").read_bytes(), (keys / "new").read_bytes()
    assert old[-len(BODY) - 18 :] == new[-len(BODY) - 18 :]


def test_openpgp_keygen_refuses_mlkem(keys: Path) -> None:
    proc = run(
        keys,
        "keygen",
        "--format",
        "openpgp",
        "--kind",
        "mlkem768",
        "--uid",
        "q@example.org",
        "--out",
        "pgp",
    )
    assert proc.returncode != 0
    err = proc.stderr.decode()
    assert err.startswith("e2ee-mail: error: ") and "x509 only" in err
    assert not (keys / "pgp.pub").exists()


def test_mailbox_upgrade_to_post_quantum(tmp_path: Path) -> None:
    # The archive recipe: rotate the identity to an ML-KEM certificate, then re-wrap
    # the stored mail; only the recipient entries change.
    _ok(tmp_path, "keyring", "--dir", "keys", "init")
    _ok(
        tmp_path,
        "keyring",
        "--dir",
        "keys",
        "rotate",
        "a@example.org",
        "--format",
        "x509",
        "--kind",
        "rsa3072",
    )
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "Maildir" / sub).mkdir(parents=True)
    (tmp_path / "m.eml").write_bytes(MAIL.replace(b"quinn@", b"a@"))
    _ok(
        tmp_path,
        "encrypt",
        "--format",
        "smime",
        "--to",
        "a@example.org",
        "--keyring",
        "keys",
        "-i",
        "m.eml",
        "-o",
        "Maildir/cur/1.eml",
    )
    _ok(
        tmp_path,
        "keyring",
        "--dir",
        "keys",
        "rotate",
        "a@example.org",
        "--format",
        "x509",
        "--kind",
        "mlkem768",
    )
    assert b"re-wrapped 1" in _ok(
        tmp_path, "rewrap", "--mailbox", "Maildir", "--keyring", "keys"
    )
    text = _ok(tmp_path, "inspect", "-i", "Maildir/cur/1.eml").decode()
    assert "KEMRecipientInfo mlkem768" in text
    assert "KeyTransRecipientInfo" not in text
    out = _ok(tmp_path, "decrypt", "--keyring", "keys", "-i", "Maildir/cur/1.eml")
    assert b"secret." in out
