"""`e2ee-mail encrypt --to ADDRESS --keyring DIR` and `decrypt --keyring DIR`:
recipients and keys taken from a keyring, as a subprocess."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from clirun import ok, run

import e2ee_mail
from e2ee_mail.keys.ring import Keyring

ALICE = "alice@example.org"
MAIL = (
    b"From: app@example.org\r\nTo: alice@example.org\r\nSubject: Invoice\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Your invoice is attached.\r\n"
)


def one_line_error(proc: subprocess.CompletedProcess[str], status: int = 2) -> str:
    """The one error line; ``status``: 2 usage, 3 no matching key, 5 passphrase."""
    assert proc.returncode == status, proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith("e2ee-mail: error: ")
    return line


@pytest.fixture
def ring(tmp_path: Path) -> Path:
    path = tmp_path / "ring"
    keyring = Keyring.open(path)
    keyring.rotate(ALICE, format="openpgp", kind="x25519")
    keyring.rotate("bob@example.org", format="x509", kind="x25519")
    return path


@pytest.mark.parametrize(
    ("fmt", "to"),
    [("openpgp", ALICE), ("pgpmime", ALICE), ("smime", "bob@example.org")],
)
def test_encrypt_to_an_address_and_decrypt_with_the_keyring(
    ring: Path, tmp_path: Path, fmt: str, to: str
) -> None:
    src, sealed, opened = tmp_path / "in", tmp_path / "sealed", tmp_path / "opened"
    src.write_bytes(MAIL)
    encrypt = ["encrypt", "--format", fmt, "--to", to.upper(), "--keyring", str(ring)]
    ok(*encrypt, "-i", str(src), "-o", str(sealed))
    # Encrypted to the identity's active certificate, and to nothing else.
    keys = Keyring.open(ring).decryption_keys(to)
    if fmt == "openpgp":
        assert e2ee_mail.decrypt(sealed.read_bytes(), keys) == MAIL
    else:
        assert e2ee_mail.decrypt_message(sealed.read_bytes(), keys)["Subject"] == (
            "Invoice"
        )
    assert len(e2ee_mail.inspect(sealed.read_bytes()).recipients) == 1
    ok("decrypt", "--keyring", str(ring), "-i", str(sealed), "-o", str(opened))
    assert b"Your invoice is attached." in opened.read_bytes()
    assert b"Subject: Invoice" in opened.read_bytes()


def test_addresses_and_certificate_files_mix(ring: Path, tmp_path: Path) -> None:
    carol = e2ee_mail.generate_key("Carol <carol@example.org>")
    (tmp_path / "carol.pub").write_bytes(carol.public.export())
    (tmp_path / "in").write_bytes(b"for two")
    sealed = tmp_path / "sealed"
    to = ["--to", ALICE, "--to", str(tmp_path / "carol.pub")]
    ok(
        "encrypt",
        *to,
        "--keyring",
        str(ring),
        "-i",
        str(tmp_path / "in"),
        "-o",
        str(sealed),
    )
    assert e2ee_mail.decrypt(sealed.read_bytes(), carol) == b"for two"
    keys = Keyring.open(ring).decryption_keys(ALICE)
    assert e2ee_mail.decrypt(sealed.read_bytes(), keys) == b"for two"


def test_an_address_without_a_key_of_the_format_is_refused(
    ring: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    to = ["--format", "smime", "--to", ALICE, "--keyring", str(ring)]
    proc = run("encrypt", *to, "-i", os.devnull, "-o", str(out))
    assert "no active X.509 key" in one_line_error(proc)
    assert not out.exists()
    to = ["--to", "nobody@example.org", "--keyring", str(ring)]
    proc = run("encrypt", *to, "-i", os.devnull)
    assert "no identity" in one_line_error(proc)


def test_an_address_without_keyring_says_to_give_one() -> None:
    proc = run("encrypt", "--to", ALICE, "-i", os.devnull)
    assert "--keyring DIR" in one_line_error(proc)


def test_a_missing_keyring_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    proc = run("encrypt", "--to", ALICE, "--keyring", str(missing), "-i", os.devnull)
    assert "no keyring there" in one_line_error(proc)
    proc = run("decrypt", "--keyring", str(missing), "-i", os.devnull)
    assert "no keyring there" in one_line_error(proc)
    assert not missing.exists()


def test_decrypt_needs_a_key_or_a_keyring() -> None:
    proc = run("decrypt", "-i", os.devnull)
    assert proc.returncode == 2
    assert proc.stderr == "e2ee-mail: error: decrypt needs --key KEY or --keyring DIR\n"


def test_retired_keys_open_mail_only_with_include_retired(
    ring: Path, tmp_path: Path
) -> None:
    sealed, opened = tmp_path / "sealed", tmp_path / "opened"
    (tmp_path / "in").write_bytes(b"old mail")
    to = ["--format", "cms", "--to", "bob@example.org", "--keyring", str(ring)]
    ok("encrypt", *to, "-i", str(tmp_path / "in"), "-o", str(sealed))
    ok("keyring", "--dir", str(ring), "rotate", "bob@example.org")
    keyring = ["--keyring", str(ring)]
    ok("decrypt", *keyring, "-i", str(sealed), "-o", str(opened))
    ok("keyring", "--dir", str(ring), "retire", "bob@example.org")
    opened.unlink()
    proc = run("decrypt", *keyring, "-i", str(sealed), "-o", str(opened))
    assert "none of the supplied keys is a recipient" in one_line_error(proc, 3)
    assert not opened.exists()
    ok("decrypt", *keyring, "--include-retired", "-i", str(sealed), "-o", str(opened))
    assert opened.read_bytes() == b"old mail"


def test_a_protected_keyring_takes_the_passphrase_variable(tmp_path: Path) -> None:
    path = tmp_path / "ring"
    Keyring.open(path, passphrase="hunter2").rotate(ALICE, format="openpgp")
    (tmp_path / "in").write_bytes(b"guarded")
    sealed, opened = tmp_path / "sealed", tmp_path / "opened"
    src = str(tmp_path / "in")
    encrypt = ("encrypt", "--to", ALICE, "--keyring", str(path), "-i", src)
    refused = run(*encrypt, "-o", str(sealed))
    assert "passphrase-protected" in one_line_error(refused, 5)
    env = {"RING_PW": "hunter2"}
    ok(*encrypt, "-o", str(sealed), "--passphrase-env", "RING_PW", env=env)
    decrypt = ("decrypt", "--keyring", str(path), "-i", str(sealed), "-o", str(opened))
    assert "passphrase-protected" in one_line_error(run(*decrypt), 5)
    ok(*decrypt, "--passphrase-env", "RING_PW", env=env)
    assert opened.read_bytes() == b"guarded"
