"""The ``e2ee-mail`` signing contract, as a subprocess: ``sign``, ``verify``,
``encrypt --sign-with`` and ``decrypt --verify-with`` for cms and smime.

Exit 0 only with a good signature by one of the certificates given, and then one
"good signature from ..." line on stderr; otherwise exit 6 (the documented
signature status), one error line, and no output file."""

from __future__ import annotations

from pathlib import Path

import pytest
from clirun import assert_good_signature, assert_no_good_signature, run_in
from signing_keys import make_signer, signer

from e2ee_mail.cli_status import EXIT_SIGNATURE
from e2ee_mail.x509 import keygen

MAIL = (
    b"From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\n"
    b"Subject: the real subject\r\nMessage-ID: <sign@example.org>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nHi Bob,\r\nsigned.\r\n"
)
BODY = b"binary \x00\x01\x02 body\n" * 1000


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("keys")
    alice = signer("p256")
    (d / "alice.key").write_bytes(alice.export())
    (d / "alice.pub").write_bytes(alice.public.export())
    mallory = make_signer("p256", "alice@example.org")
    (d / "mallory.key").write_bytes(mallory.export())
    (d / "mallory.pub").write_bytes(mallory.public.export())
    bob = keygen.generate("Bob <bob@example.org>", kind="x25519")
    (d / "bob.key").write_bytes(bob.export())
    (d / "bob.pub").write_bytes(bob.public.export())
    (d / "body").write_bytes(BODY)
    (d / "mail.eml").write_bytes(MAIL)
    return d


@pytest.mark.parametrize(("fmt", "src"), [("cms", "body"), ("smime", "mail.eml")])
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
    assert_good_signature(proc, "alice@example.org")
    if fmt == "cms":
        assert out.read_bytes() == BODY
    else:
        assert b"Subject: the real subject" in out.read_bytes()
    # Only a stranger's certificate: exit 6 and nothing written.
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
    assert (
        run_in(
            keys, "encrypt", "--to", "bob.pub", "-i", "body", "-o", str(ct)
        ).returncode
        == 0
    )
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
    assert (
        run_in(
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
        ).returncode
        == 0
    )
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
        "--detached",
        *(["--armor"] if armor else []),
        "-i",
        "body",
        "-o",
        str(sig),
    )
    assert proc.returncode == 0, proc.stderr
    proc = run_in(
        keys, "verify", "--cert", "alice.pub", "--signature", str(sig), "-i", "body"
    )
    assert_good_signature(proc, "alice@example.org")
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


def test_sign_encapsulated_verify_writes_content(keys: Path, tmp_path: Path) -> None:
    signed = tmp_path / "signed"
    assert (
        run_in(
            keys, "sign", "--key", "alice.key", "-i", "body", "-o", str(signed)
        ).returncode
        == 0
    )
    out = tmp_path / "out"
    proc = run_in(
        keys, "verify", "--cert", "alice.pub", "-i", str(signed), "-o", str(out)
    )
    assert_good_signature(proc, "alice@example.org")
    assert out.read_bytes() == BODY
    out2 = tmp_path / "out2"
    proc = run_in(
        keys, "verify", "--cert", "mallory.pub", "-i", str(signed), "-o", str(out2)
    )
    assert_no_good_signature(proc, out2)


@pytest.mark.parametrize("detached", [True, False])
def test_sign_smime_and_verify(keys: Path, tmp_path: Path, detached: bool) -> None:
    signed = tmp_path / "signed.eml"
    proc = run_in(
        keys,
        "sign",
        "--key",
        "alice.key",
        "--format",
        "smime",
        *(["--detached"] if detached else []),
        "-i",
        "mail.eml",
        "-o",
        str(signed),
    )
    assert proc.returncode == 0, proc.stderr
    kind = b"multipart/signed" if detached else b"signed-data"
    assert kind in signed.read_bytes()
    assert_good_signature(
        run_in(keys, "verify", "--cert", "alice.pub", "-i", str(signed)),
        "alice@example.org",
    )


def test_sign_openpgp_format_is_refused_clearly(keys: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_in(
        keys,
        "sign",
        "--key",
        "alice.key",
        "--format",
        "openpgp",
        "-i",
        "body",
        "-o",
        str(out),
    )
    assert proc.returncode == 2  # X.509 keys cannot make OpenPGP signatures
    assert not out.exists()


def test_help_documents_exit_6(keys: Path) -> None:
    proc = run_in(keys, "--help")
    assert b"  6    no good signature" in proc.stdout
