"""`e2ee-mail keygen/encrypt/decrypt/inspect` with OpenPGP, as a subprocess.

Includes the whole flow with a peer: keygen openpgp x25519, encrypt --armor --to
a.pub, and OpenPGP.js decrypts the result with a.key.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from peers import openpgpjs, require_peer

BODY = b"cli body\nsecond line\n" * 50


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "e2ee_mail.cli", *args],
        capture_output=True,
        input=stdin,
        cwd=cwd,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


def ok(*args: str, cwd: Path, env: dict[str, str] | None = None) -> bytes:
    proc = run(*args, cwd=cwd, env=env)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def keygen(tmp_path: Path, name: str = "a", *extra: str) -> None:
    ok(
        "keygen",
        "--format",
        "openpgp",
        "--kind",
        "x25519",
        "--uid",
        f"{name.upper()} <{name}@example.org>",
        "--out",
        name,
        *extra,
        cwd=tmp_path,
    )


def test_keygen_writes_v6_key_files(tmp_path: Path) -> None:
    keygen(tmp_path)
    pub = (tmp_path / "a.pub").read_bytes()
    assert pub.startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK-----")
    key = tmp_path / "a.key"
    assert key.read_bytes().startswith(b"-----BEGIN PGP PRIVATE KEY BLOCK-----")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


@pytest.mark.parametrize("armor", [True, False])
def test_encrypt_decrypt_inspect_round_trip(tmp_path: Path, armor: bool) -> None:
    keygen(tmp_path)
    (tmp_path / "plain").write_bytes(BODY)
    flags = ["--armor"] if armor else []
    ok(
        "encrypt",
        "--format",
        "openpgp",
        *flags,
        "--to",
        "a.pub",
        "-i",
        "plain",
        "-o",
        "sealed",
        cwd=tmp_path,
    )
    sealed = (tmp_path / "sealed").read_bytes()
    assert sealed.startswith(b"-----BEGIN PGP MESSAGE-----") == armor
    ok("decrypt", "--key", "a.key", "-i", "sealed", "-o", "out", cwd=tmp_path)
    assert (tmp_path / "out").read_bytes() == BODY
    text = ok("inspect", "-i", "sealed", cwd=tmp_path).decode()
    assert "format: openpgp" in text and "seipdv2-aes256-gcm" in text


def test_passphrase_protected_key(tmp_path: Path) -> None:
    env = {"PW": "s3cret"}
    ok(
        "keygen",
        "--format",
        "openpgp",
        "--uid",
        "P <p@example.org>",
        "--out",
        "p",
        "--passphrase-env",
        "PW",
        cwd=tmp_path,
        env=env,
    )
    (tmp_path / "plain").write_bytes(BODY)
    ok("encrypt", "--to", "p.pub", "-i", "plain", "-o", "sealed", cwd=tmp_path)
    proc = run("decrypt", "--key", "p.key", "-i", "sealed", "-o", "out", cwd=tmp_path)
    assert proc.returncode != 0 and not (tmp_path / "out").exists()
    assert (
        proc.stderr.decode().count("\n") == 1 and "passphrase" in proc.stderr.decode()
    )
    ok(
        "decrypt",
        "--key",
        "p.key",
        "--passphrase-env",
        "PW",
        "-i",
        "sealed",
        "-o",
        "out",
        cwd=tmp_path,
        env=env,
    )
    assert (tmp_path / "out").read_bytes() == BODY


def test_wrong_key_fails_with_one_line_and_no_output(tmp_path: Path) -> None:
    keygen(tmp_path, "a")
    keygen(tmp_path, "b")
    (tmp_path / "plain").write_bytes(BODY)
    ok("encrypt", "--to", "a.pub", "-i", "plain", "-o", "sealed", cwd=tmp_path)
    proc = run("decrypt", "--key", "b.key", "-i", "sealed", "-o", "out", cwd=tmp_path)
    assert proc.returncode != 0
    assert proc.stderr.decode().startswith("e2ee-mail: error: ")
    assert proc.stderr.decode().count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_tampered_message_fails_and_writes_nothing(tmp_path: Path) -> None:
    keygen(tmp_path)
    (tmp_path / "plain").write_bytes(BODY)
    ok("encrypt", "--to", "a.pub", "-i", "plain", "-o", "sealed", cwd=tmp_path)
    data = bytearray((tmp_path / "sealed").read_bytes())
    data[-5] ^= 1
    (tmp_path / "sealed").write_bytes(bytes(data))
    proc = run("decrypt", "--key", "a.key", "-i", "sealed", "-o", "out", cwd=tmp_path)
    assert proc.returncode != 0 and not (tmp_path / "out").exists()


def test_pgpmime_encrypt_and_decrypt(tmp_path: Path) -> None:
    keygen(tmp_path)
    mail = (
        b"From: b@example.org\r\nTo: a@example.org\r\nSubject: hidden\r\n"
        b"\r\nhello mail\r\n"
    )
    (tmp_path / "mail.eml").write_bytes(mail)
    ok(
        "encrypt",
        "--format",
        "pgpmime",
        "--to",
        "a.pub",
        "-i",
        "mail.eml",
        "-o",
        "enc.eml",
        cwd=tmp_path,
    )
    enc = (tmp_path / "enc.eml").read_bytes()
    assert (
        b"multipart/encrypted" in enc
        and b"Subject: [...]\r\n" in enc
        and b"hidden" not in enc
    )
    text = ok("inspect", "-i", "enc.eml", cwd=tmp_path).decode()
    assert "format: pgpmime" in text
    ok("decrypt", "--key", "a.key", "-i", "enc.eml", "-o", "dec.eml", cwd=tmp_path)
    dec = (tmp_path / "dec.eml").read_bytes()
    assert b"Subject: hidden" in dec and b"hello mail" in dec


def test_pgpmime_with_a_non_ascii_boundary_fails_with_one_line(tmp_path: Path) -> None:
    keygen(tmp_path)
    # The 89-octet header block a mutation fuzzer found: boundary="\xb8".
    (tmp_path / "enc.eml").write_bytes(
        b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; '
        b'boundary="\xb8"\r\n\r\n'
    )
    proc = run("decrypt", "--key", "a.key", "-i", "enc.eml", "-o", "out", cwd=tmp_path)
    assert proc.returncode != 0
    assert proc.stderr.decode().startswith("e2ee-mail: error: ")
    assert proc.stderr.decode().count("\n") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.interop
def test_done_means_openpgpjs_decrypts_cli_output(tmp_path: Path) -> None:
    require_peer("openpgp.js")
    ok(
        "keygen",
        "--format",
        "openpgp",
        "--kind",
        "x25519",
        "--uid",
        "A <a@example.org>",
        "--out",
        "a",
        cwd=tmp_path,
    )
    proc = run(
        "encrypt",
        "--format",
        "openpgp",
        "--armor",
        "--to",
        "a.pub",
        cwd=tmp_path,
        stdin=BODY,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    (tmp_path / "msg.asc").write_bytes(proc.stdout)
    openpgpjs(
        tmp_path,
        op="decrypt",
        keys=[str(tmp_path / "a.key")],
        input=str(tmp_path / "msg.asc"),
        output=str(tmp_path / "plain"),
    )
    assert (tmp_path / "plain").read_bytes() == BODY
