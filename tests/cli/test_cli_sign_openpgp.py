"""The ``e2ee-mail`` signing contract with OpenPGP keys, as a subprocess: ``sign
--format openpgp|pgpmime``, ``verify``, ``encrypt --sign-with`` and ``decrypt
--verify-with``.

Exit 0 only with a good signature by one of the certificates given, and then one
"good signature from ..." line on stderr; otherwise exit 6, one error line, and no
output file."""

from __future__ import annotations

from pathlib import Path

import pytest
from clirun import assert_good_signature, assert_no_good_signature, run_in
from openpgp_signers import signer

import e2ee_mail
from e2ee_mail.cli_status import EXIT_SIGNATURE

MAIL = (
    b"From: Sig Six <six@example.org>\r\nTo: Bob <bob@example.org>\r\n"
    b"Subject: the real subject\r\nMessage-ID: <sign@example.org>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nHi Bob,\r\nsigned.\r\n"
)
BODY = b"binary \x00\x01\x02 body\n" * 1000


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("keys")
    for name, key in (("alice", signer("v6")), ("mallory", signer("v4"))):
        (d / f"{name}.key").write_bytes(key.export())
        (d / f"{name}.pub").write_bytes(key.public.export())
    bob = e2ee_mail.generate_key("Bob <bob@example.org>", format="openpgp")
    (d / "bob.key").write_bytes(bob.export())
    (d / "bob.pub").write_bytes(bob.public.export())
    (d / "body").write_bytes(BODY)
    (d / "mail.eml").write_bytes(MAIL)
    return d


@pytest.mark.parametrize(("fmt", "src"), [("openpgp", "body"), ("pgpmime", "mail.eml")])
def test_sign_then_encrypt_and_decrypt_verify(
    keys: Path, tmp_path: Path, fmt: str, src: str
) -> None:
    ct = tmp_path / "ct"
    proc = run_in(
        keys,
        "encrypt",
        "--format",
        fmt,
        "--to",
        "bob.pub",
        "--sign-with",
        "alice.key",
        "-i",
        src,
        "-o",
        str(ct),
    )
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    proc = run_in(
        keys,
        "decrypt",
        "--key",
        "bob.key",
        "--verify-with",
        "mallory.pub",
        "--verify-with",
        "alice.pub",
        "-i",
        str(ct),
        "-o",
        str(out),
    )
    assert_good_signature(proc, "six@example.org")
    if fmt == "openpgp":
        assert out.read_bytes() == BODY
    else:
        assert b"Subject: the real subject" in out.read_bytes()
    out2 = tmp_path / "out2"
    proc = run_in(
        keys,
        "decrypt",
        "--key",
        "bob.key",
        "--verify-with",
        "mallory.pub",
        "-i",
        str(ct),
        "-o",
        str(out2),
    )
    assert_no_good_signature(proc, out2)


def test_decrypt_verify_with_unsigned_message(keys: Path, tmp_path: Path) -> None:
    ct = tmp_path / "ct"
    proc = run_in(keys, "encrypt", "--to", "bob.pub", "-i", "body", "-o", str(ct))
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    proc = run_in(
        keys,
        "decrypt",
        "--key",
        "bob.key",
        "--verify-with",
        "alice.pub",
        "-i",
        str(ct),
        "-o",
        str(out),
    )
    assert_no_good_signature(proc, out)
    assert b"not signed" in proc.stderr


def test_decrypt_verify_with_stdout_gets_nothing(keys: Path, tmp_path: Path) -> None:
    ct = tmp_path / "ct"
    proc = run_in(
        keys,
        "encrypt",
        "--to",
        "bob.pub",
        "--sign-with",
        "mallory.key",
        "-i",
        "body",
        "-o",
        str(ct),
    )
    assert proc.returncode == 0, proc.stderr
    proc = run_in(
        keys,
        "decrypt",
        "--key",
        "bob.key",
        "--verify-with",
        "alice.pub",
        "-i",
        str(ct),
        "-o",
        "-",
    )
    assert proc.returncode == EXIT_SIGNATURE
    assert proc.stdout == b""


@pytest.mark.parametrize("armor", [False, True])
def test_sign_detached_and_verify(keys: Path, tmp_path: Path, armor: bool) -> None:
    sig = tmp_path / "sig"
    proc = run_in(
        keys,
        "sign",
        "--key",
        "alice.key",
        "--format",
        "openpgp",
        "--detached",
        *(["--armor"] if armor else []),
        "-i",
        "body",
        "-o",
        str(sig),
    )
    assert proc.returncode == 0, proc.stderr
    assert sig.read_bytes().startswith(b"-----BEGIN PGP SIGNATURE-----") == armor
    proc = run_in(
        keys, "verify", "--cert", "alice.pub", "--signature", str(sig), "-i", "body"
    )
    assert_good_signature(proc, "six@example.org")
    (tmp_path / "other").write_bytes(BODY + b"x")
    proc = run_in(
        keys,
        "verify",
        "--cert",
        "alice.pub",
        "--signature",
        str(sig),
        "-i",
        str(tmp_path / "other"),
    )
    assert proc.returncode == EXIT_SIGNATURE


@pytest.mark.parametrize("armor", [False, True])
def test_sign_inline_verify_writes_content(
    keys: Path, tmp_path: Path, armor: bool
) -> None:
    signed = tmp_path / "signed"
    proc = run_in(
        keys,
        "sign",
        "--key",
        "alice.key",
        *(["--armor"] if armor else []),
        "-i",
        "body",
        "-o",
        str(signed),
    )
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    proc = run_in(
        keys, "verify", "--cert", "alice.pub", "-i", str(signed), "-o", str(out)
    )
    assert_good_signature(proc, "six@example.org")
    assert out.read_bytes() == BODY
    out2 = tmp_path / "out2"
    proc = run_in(
        keys, "verify", "--cert", "mallory.pub", "-i", str(signed), "-o", str(out2)
    )
    assert_no_good_signature(proc, out2)


def test_sign_pgpmime_and_verify(keys: Path, tmp_path: Path) -> None:
    signed = tmp_path / "signed.eml"
    proc = run_in(
        keys,
        "sign",
        "--key",
        "alice.key",
        "--format",
        "pgpmime",
        "-i",
        "mail.eml",
        "-o",
        str(signed),
    )
    assert proc.returncode == 0, proc.stderr
    assert b"application/pgp-signature" in signed.read_bytes()
    assert_good_signature(
        run_in(keys, "verify", "--cert", "alice.pub", "-i", str(signed)),
        "six@example.org",
    )
    out = tmp_path / "out"
    proc = run_in(
        keys, "verify", "--cert", "mallory.pub", "-i", str(signed), "-o", str(out)
    )
    assert_no_good_signature(proc, out)
