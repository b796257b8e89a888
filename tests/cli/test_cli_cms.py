"""The ``e2ee-mail`` command for X.509 / CMS / S/MIME, as a subprocess: keygen x509,
encrypt/decrypt cms and smime, inspect, rewrap, demo; exit codes, the one-line
stderr and that no output file appears on failure."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

MAIL = (
    b"From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\n"
    b"Subject: the real subject\r\nMessage-ID: <cli@example.org>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nHi Bob,\r\nsecret.\r\n"
)
BODY = b"binary \x00\x01\x02 body\n" * 1000


def _cli() -> list[str]:
    script = Path(sys.executable).parent / "e2ee-mail"
    return [str(script)] if script.exists() else [sys.executable, "-m", "e2ee_mail.cli"]


def run(
    cwd: Path, *args: str, env: dict[str, str] | None = None, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*_cli(), *args],
        cwd=cwd,
        capture_output=True,
        check=False,
        timeout=120,
        env=env,
        input=stdin,
    )


def _assert_one_line_error(proc: subprocess.CompletedProcess[bytes]) -> str:
    assert proc.returncode != 0
    err = proc.stderr.decode()
    assert err.startswith("e2ee-mail: error: ")
    assert err.count("\n") == 1
    return err


def _encrypt_body(keys: Path, tmp_path: Path, *options: str) -> Path:
    """BODY encrypted as cms with ``options`` (recipients, armor, cipher) into
    tmp_path/ct, which is returned."""
    (tmp_path / "in").write_bytes(BODY)
    ct = tmp_path / "ct"
    proc = run(
        keys,
        "encrypt",
        "--format",
        "cms",
        *options,
        "-i",
        str(tmp_path / "in"),
        "-o",
        str(ct),
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return ct


def _decrypt(
    keys: Path, key: str, src: Path, out: Path, *options: str
) -> subprocess.CompletedProcess[bytes]:
    return run(keys, "decrypt", *options, "--key", key, "-i", str(src), "-o", str(out))


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cli")
    for name, kind in (("bob", "x25519"), ("carol", "rsa3072"), ("dave", "x25519")):
        proc = run(
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
        assert proc.returncode == 0, proc.stderr.decode()
        assert b"fingerprint" in proc.stdout
    return d


def test_keygen_writes_pem_certificate_and_0600_key(keys: Path) -> None:
    assert (keys / "bob.pub").read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    key = (keys / "bob.key").read_bytes()
    assert key.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE((keys / "bob.key").stat().st_mode) == 0o600


def test_keygen_x25519_pub_carries_the_signing_certificate_after_it(
    keys: Path,
) -> None:
    import e2ee_mail
    from e2ee_mail.x509 import certs as kx

    pub = (keys / "bob.pub").read_bytes()
    assert pub.count(b"-----BEGIN CERTIFICATE-----") == 2
    # One-certificate readers take the first: the X25519 one, to encrypt to.
    assert e2ee_mail.load_certificate(pub).algorithm == "x25519"
    key = e2ee_mail.load_key(keys / "bob.key")
    assert isinstance(key, kx.X509SecretKey)
    signing_pem = key.signing_key.public.export()
    assert pub.endswith(signing_pem)
    # Carol's RSA key signs with itself: one certificate.
    assert (keys / "carol.pub").read_bytes().count(b"BEGIN CERTIFICATE") == 1


def test_keygen_with_passphrase_then_decrypt_needs_it(
    keys: Path, tmp_path: Path
) -> None:
    env = dict(os.environ, KEYPASS="s3cret")
    proc = run(
        tmp_path,
        "keygen",
        "--format",
        "x509",
        "--kind",
        "x25519",
        "--uid",
        "P <p@example.org>",
        "--out",
        "p",
        "--passphrase-env",
        "KEYPASS",
        env=env,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"ENCRYPTED PRIVATE KEY" in (tmp_path / "p.key").read_bytes()
    (tmp_path / "in").write_bytes(BODY)
    assert (
        run(
            tmp_path,
            "encrypt",
            "--format",
            "cms",
            "--to",
            "p.pub",
            "-i",
            "in",
            "-o",
            "ct",
        ).returncode
        == 0
    )
    err = _assert_one_line_error(
        run(tmp_path, "decrypt", "--key", "p.key", "-i", "ct", "-o", "out")
    )
    assert "passphrase" in err
    assert not (tmp_path / "out").exists()
    proc = run(
        tmp_path,
        "decrypt",
        "--key",
        "p.key",
        "--passphrase-env",
        "KEYPASS",
        "-i",
        "ct",
        "-o",
        "out",
        env=env,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert (tmp_path / "out").read_bytes() == BODY


@pytest.mark.parametrize("armor", [[], ["--armor"]])
def test_cms_encrypt_decrypt_round_trip(
    keys: Path, tmp_path: Path, armor: list[str]
) -> None:
    ct = _encrypt_body(keys, tmp_path, "--to", "bob.pub", "--to", "carol.pub", *armor)
    assert ct.read_bytes().startswith(b"-----BEGIN CMS-----") == bool(armor)
    for name in ("bob", "carol"):
        out = tmp_path / f"out-{name}"
        proc = _decrypt(keys, f"{name}.key", ct, out)
        assert proc.returncode == 0, proc.stderr.decode()
        assert out.read_bytes() == BODY


def test_cms_through_stdin_and_stdout(keys: Path) -> None:
    enc = run(keys, "encrypt", "--format", "cms", "--to", "bob.pub", stdin=BODY)
    assert enc.returncode == 0, enc.stderr.decode()
    dec = run(keys, "decrypt", "--key", "bob.key", stdin=enc.stdout)
    assert dec.returncode == 0, dec.stderr.decode()
    assert dec.stdout == BODY


def test_encrypt_without_format_follows_the_certificates(keys: Path) -> None:
    enc = run(keys, "encrypt", "--to", "bob.pub", "--to", "carol.pub", stdin=BODY)
    assert enc.returncode == 0, enc.stderr.decode()
    assert enc.stdout.startswith(b"\x30")  # DER: a CMS ContentInfo, not OpenPGP
    dec = run(keys, "decrypt", "--key", "carol.key", stdin=enc.stdout)
    assert dec.returncode == 0, dec.stderr.decode()
    assert dec.stdout == BODY


def test_smime_round_trip_restores_subject(keys: Path, tmp_path: Path) -> None:
    (tmp_path / "mail.eml").write_bytes(MAIL)
    proc = run(
        keys,
        "encrypt",
        "--format",
        "smime",
        "--to",
        "carol.pub",
        "-i",
        str(tmp_path / "mail.eml"),
        "-o",
        str(tmp_path / "out.eml"),
    )
    assert proc.returncode == 0, proc.stderr.decode()
    wire = (tmp_path / "out.eml").read_bytes()
    assert b"application/pkcs7-mime" in wire
    assert b"the real subject" not in wire
    assert b"Subject: [...]\r\n" in wire
    proc = run(keys, "decrypt", "--key", "carol.key", "-i", str(tmp_path / "out.eml"))
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Subject: the real subject" in proc.stdout
    assert b"secret." in proc.stdout
    insp = run(keys, "inspect", "-i", str(tmp_path / "out.eml"))
    assert insp.returncode == 0
    assert b"format: smime" in insp.stdout
    assert b"KeyTransRecipientInfo rsaes-oaep-sha256" in insp.stdout


@pytest.mark.parametrize(
    ("hcp", "outer_from", "outer_subject"),
    [
        ("shy", b"From: alice@example.org\r\n", b"Subject: [...]\r\n"),
        ("no-confidentiality", b"From: Alice <alice@example.org>\r\n", None),
    ],
)
def test_smime_hcp_chooses_the_outer_fields(
    keys: Path,
    tmp_path: Path,
    hcp: str,
    outer_from: bytes,
    outer_subject: bytes | None,
) -> None:
    (tmp_path / "mail.eml").write_bytes(MAIL)
    out = tmp_path / "out.eml"
    proc = run(
        keys,
        *("encrypt", "--format", "smime", "--to", "carol.pub", "--hcp", hcp),
        *("-i", str(tmp_path / "mail.eml"), "-o", str(out)),
    )
    assert proc.returncode == 0, proc.stderr.decode()
    head = out.read_bytes().split(b"\r\n\r\n", 1)[0] + b"\r\n"
    assert outer_from in head
    assert (outer_subject or b"Subject: the real subject\r\n") in head
    proc = run(keys, "decrypt", "--key", "carol.key", "-i", str(out))
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"From: Alice <alice@example.org>\r\n" in proc.stdout
    assert b"Subject: the real subject\r\n" in proc.stdout


def test_hcp_needs_a_mail_format(keys: Path, tmp_path: Path) -> None:
    (tmp_path / "in").write_bytes(BODY)
    proc = run(
        keys,
        *("encrypt", "--format", "cms", "--to", "carol.pub", "--hcp", "shy"),
        *("-i", str(tmp_path / "in"), "-o", str(tmp_path / "ct")),
    )
    err = _assert_one_line_error(proc)
    assert "--hcp applies to --format smime and pgpmime only" in err
    assert not (tmp_path / "ct").exists()
    proc = run(keys, "encrypt", "--format", "smime", "--to", "carol.pub", "--hcp", "x")
    assert proc.returncode == 2


def test_inspect_cms_lists_recipients(keys: Path, tmp_path: Path) -> None:
    ct = _encrypt_body(keys, tmp_path, "--to", "bob.pub", "--to", "carol.pub")
    proc = run(keys, "inspect", "-i", str(ct))
    assert proc.returncode == 0, proc.stderr.decode()
    text = proc.stdout.decode()
    assert "format: cms" in text
    assert "recipients: 2" in text
    assert "KeyAgreeRecipientInfo x25519-x963-sha256+aes256-wrap" in text


def test_wrong_key_fails_with_one_line_and_no_output(
    keys: Path, tmp_path: Path
) -> None:
    ct = _encrypt_body(keys, tmp_path, "--to", "bob.pub")
    out = tmp_path / "out"
    err = _assert_one_line_error(_decrypt(keys, "dave.key", ct, out))
    assert "none of the supplied keys" in err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_tampered_message_fails_closed_with_no_output(
    keys: Path, tmp_path: Path
) -> None:
    ct = bytearray(_encrypt_body(keys, tmp_path, "--to", "bob.pub").read_bytes())
    ct[-100] ^= 1
    (tmp_path / "bad").write_bytes(bytes(ct))
    out = tmp_path / "out"
    err = _assert_one_line_error(_decrypt(keys, "bob.key", tmp_path / "bad", out))
    assert "decryption failed" in err
    assert not out.exists()


def test_legacy_cbc_needs_allow_unauthenticated(keys: Path, tmp_path: Path) -> None:
    ct = _encrypt_body(keys, tmp_path, "--cipher", "aes-256-cbc", "--to", "carol.pub")
    out = tmp_path / "out"
    err = _assert_one_line_error(_decrypt(keys, "carol.key", ct, out))
    assert "--allow-unauthenticated" in err
    assert not out.exists()
    proc = _decrypt(keys, "carol.key", ct, out, "--allow-unauthenticated")
    assert proc.returncode == 0, proc.stderr.decode()
    assert out.read_bytes() == BODY


def test_smime_whose_entity_has_no_header_fields_opens(
    keys: Path, tmp_path: Path
) -> None:
    # A bare text encrypted as it is (what `openssl smime -encrypt` does with a text
    # file): the CLI opens it as decrypt_message does, the outer fields restored.
    import base64

    import e2ee_mail

    text = b"no header fields here\r\njust text\r\n"
    cert = e2ee_mail.load_certificate((keys / "carol.pub").read_bytes())
    der = bytes(e2ee_mail.encrypt(text, cert, format="cms"))
    mail = (
        b"Subject: the outer one\r\nMIME-Version: 1.0\r\nContent-Type: "
        b"application/pkcs7-mime; smime-type=authEnveloped-data\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(der)
    )
    (tmp_path / "bare.eml").write_bytes(mail)
    out = tmp_path / "out.eml"
    proc = _decrypt(keys, "carol.key", tmp_path / "bare.eml", out)
    assert proc.returncode == 0, proc.stderr.decode()
    assert out.read_bytes() == b"Subject: the outer one\r\n\r\n" + text


def test_rewrap_moves_message_to_new_recipient(keys: Path, tmp_path: Path) -> None:
    ct = _encrypt_body(keys, tmp_path, "--to", "bob.pub")
    proc = run(
        keys,
        "rewrap",
        "--key",
        "bob.key",
        "--to",
        "dave.pub",
        "-i",
        str(ct),
        "-o",
        str(tmp_path / "re"),
    )
    assert proc.returncode == 0, proc.stderr.decode()
    proc = run(keys, "decrypt", "--key", "dave.key", "-i", str(tmp_path / "re"))
    assert proc.stdout == BODY


def test_not_an_encrypted_mail_is_an_error(keys: Path, tmp_path: Path) -> None:
    (tmp_path / "plain.eml").write_bytes(MAIL)
    _assert_one_line_error(run(keys, "inspect", "-i", str(tmp_path / "plain.eml")))
    out = tmp_path / "out"
    _assert_one_line_error(
        run(
            keys,
            "decrypt",
            "--key",
            "bob.key",
            "-i",
            str(tmp_path / "plain.eml"),
            "-o",
            str(out),
        )
    )
    assert not out.exists()


def test_demo_runs_and_reports_success(tmp_path: Path) -> None:
    proc = run(tmp_path, "demo")
    assert proc.returncode == 0, proc.stderr.decode()
    text = proc.stdout.decode()
    assert "Subject: [...]" in text
    assert "Subject restored: 'Quarterly numbers (confidential)'" in text
    assert text.rstrip().splitlines()[-1].startswith("OK:")
    assert list(tmp_path.iterdir()) == []
