"""Mail re-keyed by `e2ee-mail rewrap --mailbox` still opens in real clients.

* OpenSSL: an S/MIME mail (RSA, AuthEnvelopedData) in a Maildir is re-wrapped after
  a rotation; ``openssl cms -decrypt`` opens the stored file with the new key only.
* GnuPG 2.2: a PGP/MIME mail that gpg itself encrypted to a v4 key is re-wrapped
  after the identity rotated; gpg opens it with the new key only.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from gpg import gpg_home
from peers import require_peer

import e2ee_mail
from e2ee_mail.keys.ring import Keyring
from e2ee_mail.mime import detect
from e2ee_mail.mime import scan as mailscan

pytestmark = pytest.mark.interop

ALICE = "alice@example.org"
MAIL = (
    b"From: Bob <bob@example.org>\r\nTo: Alice <alice@example.org>\r\n"
    b"Subject: rotation plans\r\nMessage-ID: <rot@example.org>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nRe-key me, keep me readable.\r\n"
)


def _maildir(root: Path, name: str, data: bytes) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    path = root / "cur" / f"{name}:2,S"
    path.write_bytes(data)
    return path


def _rewrap(maildir: Path, ring: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "e2ee_mail.cli",
            "rewrap",
            "--mailbox",
            str(maildir),
            "--keyring",
            str(ring),
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "re-wrapped 1, skipped 0, failed 0" in proc.stdout


def _openssl_decrypt(
    openssl: str, msg: Path, key: e2ee_mail.SecretKey, tmp: Path
) -> subprocess.CompletedProcess[bytes]:
    (tmp / "k.pem").write_bytes(key.export())
    (tmp / "c.pem").write_bytes(key.public.export())
    return subprocess.run(
        [
            openssl,
            "cms",
            "-decrypt",
            "-inform",
            "SMIME",
            "-in",
            str(msg),
            "-recip",
            str(tmp / "c.pem"),
            "-inkey",
            str(tmp / "k.pem"),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_openssl_opens_a_rewrapped_smime_mail_with_the_new_key(tmp_path: Path) -> None:
    openssl = require_peer("openssl")
    ring = Keyring.open(tmp_path / "ring")
    old = ring.rotate(ALICE, format="x509", kind="rsa3072")
    wire = detect.serialize(
        e2ee_mail.encrypt_message(detect.parse(MAIL), ring.recipients(ALICE))
    )
    msg = _maildir(tmp_path / "Maildir", "1.host", wire)
    assert _openssl_decrypt(openssl, msg, old.key, tmp_path).returncode == 0
    new = ring.rotate(ALICE)
    _rewrap(tmp_path / "Maildir", ring.path)

    proc = _openssl_decrypt(openssl, msg, new.key, tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    inner = detect.parse(proc.stdout)
    assert inner["Subject"] == "rotation plans"
    assert "keep me readable" in inner.get_content()
    assert _openssl_decrypt(openssl, msg, old.key, tmp_path).returncode != 0
    # Only the encrypted body changed: every header line is as it was.
    head = wire.split(b"\r\n\r\n", 1)[0]
    assert msg.read_bytes().startswith(head + b"\r\n\r\n")


def test_gpg_opens_a_rewrapped_pgpmime_mail_with_the_new_key(tmp_path: Path) -> None:
    require_peer("gpg")
    ring = Keyring.open(tmp_path / "ring")
    old = ring.add(ALICE, e2ee_mail.generate_key(f"Alice <{ALICE}>", profile="rfc4880"))
    new = ring.rotate(ALICE)
    assert new.certificate.version == 4  # type: ignore[attr-defined]
    with gpg_home() as home:
        home.import_keys(old.certificate.export())
        armored = home.encrypt(MAIL, [old.fingerprint], armor=True)
        wire = (
            b"From: Bob <bob@example.org>\r\nTo: Alice <alice@example.org>\r\n"
            b"Subject: ...\r\nMIME-Version: 1.0\r\nContent-Type: multipart/encrypted;"
            b' protocol="application/pgp-encrypted"; boundary="gpg"\r\n\r\n'
            b"--gpg\r\nContent-Type: application/pgp-encrypted\r\n\r\n"
            b"Version: 1\r\n\r\n"
            b"--gpg\r\nContent-Type: application/octet-stream\r\n\r\n"
            + armored.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            + b"\r\n--gpg--\r\n"
        )
    msg = _maildir(tmp_path / "Maildir", "2.host", wire)
    _rewrap(tmp_path / "Maildir", ring.path)

    data = msg.read_bytes()
    (part,) = mailscan.find_encrypted(data)
    rewrapped = data[part.start : part.end]
    with gpg_home() as home:
        home.import_keys(new.key.export())
        assert home.decrypt(rewrapped) == MAIL
    with gpg_home() as home:
        home.import_keys(old.key.export())
        proc = home.run(["--decrypt"], input=rewrapped, check=False)
        assert proc.returncode != 0
