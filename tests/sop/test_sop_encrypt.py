"""e2ee-sop: encrypt and decrypt, session keys, signatures inside."""

from __future__ import annotations

from pathlib import Path

import pytest
from soprun import fails, ok

from e2ee_mail.openpgp.sessionkey import SessionKey
from e2ee_mail.sop import status

PLAIN = b"the eagle lands at dawn\n"


def _file(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("profile", ["auto", "rfc9580", "rfc4880", "default"])
def test_round_trip(
    tmp_path: Path,
    alice_files: tuple[Path, Path],
    bob_files: tuple[Path, Path],
    profile: str,
) -> None:
    message = ok(
        "encrypt", f"--profile={profile}", alice_files[1], bob_files[1], stdin=PLAIN
    )
    assert message.startswith(b"-----BEGIN PGP MESSAGE-----")
    assert ok("decrypt", alice_files[0], stdin=message) == PLAIN
    assert ok("decrypt", bob_files[0], stdin=message) == PLAIN


def test_session_keys(
    tmp_path: Path, alice_files: tuple[Path, Path], bob_files: tuple[Path, Path]
) -> None:
    for cert, key in (alice_files[1], alice_files[0]), (bob_files[1], bob_files[0]):
        message = ok("encrypt", "--no-armor", cert, stdin=PLAIN)
        out = tmp_path / f"sk-{key.name}"
        assert ok("decrypt", "--session-key-out", out, key, stdin=message) == PLAIN
        text = out.read_text()
        assert text.endswith("\n")
        parsed = SessionKey.parse(text)
        assert parsed.algorithm == 9 and len(parsed.key) == 32
        assert text.strip() == parsed.text()
        # The session key alone opens it; a wrong one does not.
        assert ok("decrypt", "--with-session-key", out, stdin=message) == PLAIN
        wrong = _file(tmp_path, "wrong", f"9:{'00' * 32}".encode())
        fails(
            status.CANNOT_DECRYPT, "decrypt", "--with-session-key", wrong, stdin=message
        )
        assert ok("decrypt", "--with-session-key", wrong, key, stdin=message) == PLAIN
    bad = _file(tmp_path, "bad", b"nine:zz")
    fails(status.BAD_DATA, "decrypt", "--with-session-key", bad, stdin=message)


def test_signed_encryption(
    tmp_path: Path, alice_files: tuple[Path, Path], bob_files: tuple[Path, Path]
) -> None:
    message = ok(
        "encrypt", "--sign-with", bob_files[0], "--as=text", alice_files[1], stdin=PLAIN
    )
    verifications = tmp_path / "verifications"
    plain = ok(
        "decrypt",
        "--verify-with",
        bob_files[1],
        "--verifications-out",
        verifications,
        alice_files[0],
        stdin=message,
    )
    assert plain == PLAIN
    line = verifications.read_text()
    assert line.count("\n") == 1
    from e2ee_mail.openpgp.certs import load_certificate

    fpr = load_certificate(bob_files[1].read_bytes()).fingerprint
    assert line.split(" ")[2] == fpr
    assert line.split(" ")[3] == "mode:text"  # --as=text signs in text mode
    # Verified against another signer: the content, and no verification.
    other = tmp_path / "other"
    assert (
        ok(
            "decrypt",
            "--verify-with",
            alice_files[1],
            "--verifications-out",
            other,
            alice_files[0],
            stdin=message,
        )
        == PLAIN
    )
    assert other.read_bytes() == b""
    # A session key and no secret key: the signature still verifies.
    sk = tmp_path / "sk"
    ok("decrypt", "--session-key-out", sk, alice_files[0], stdin=message)
    again = tmp_path / "again"
    ok(
        "decrypt",
        "--with-session-key",
        sk,
        "--verify-with",
        bob_files[1],
        "--verifications-out",
        again,
        stdin=message,
    )
    assert again.read_text().split(" ")[1:] == line.split(" ")[1:]


def test_encrypt_refusals(
    tmp_path: Path, alice_files: tuple[Path, Path], bob_files: tuple[Path, Path]
) -> None:
    fails(status.MISSING_ARG, "encrypt", stdin=PLAIN)
    fails(
        status.UNSUPPORTED_PROFILE,
        "encrypt",
        "--profile=rfc1991",
        alice_files[1],
        stdin=PLAIN,
    )
    fails(status.EXPECTED_TEXT, "encrypt", "--as=text", alice_files[1], stdin=b"\xff")
    fails(status.BAD_DATA, "encrypt", _file(tmp_path, "junk", b"junk"), stdin=PLAIN)
    signing_only = _file(tmp_path, "so", ok("generate-key", "--signing-only", "S"))
    so_cert = _file(
        tmp_path, "so.cert", ok("extract-cert", stdin=signing_only.read_bytes())
    )
    fails(status.CERT_CANNOT_ENCRYPT, "encrypt", so_cert, stdin=PLAIN)
    fails(
        status.BAD_DATA,
        "encrypt",
        "--sign-with",
        alice_files[1],
        alice_files[1],
        stdin=PLAIN,
    )


def _container(message: bytes) -> tuple[int, int]:
    """(SKESK version, SEIPD version) of a password-only message."""
    from e2ee_mail.openpgp.packets.header import iter_packet_spans

    versions = {
        tag: body[0]
        for tag, body, _, _ in iter_packet_spans(ok("dearmor", stdin=message))
    }
    return versions[3], versions[18]


def test_passwords(tmp_path: Path, alice_files: tuple[Path, Path]) -> None:
    password = _file(tmp_path, "pw", b"hunter2\n")
    message = ok("encrypt", "--with-password", password, stdin=PLAIN)
    # Passwords alone: what every implementation reads, unless asked otherwise.
    assert _container(message) == (4, 1)
    modern = ok(
        "encrypt", "--profile=rfc9580", "--with-password", password, stdin=PLAIN
    )
    assert _container(modern) == (6, 2)
    assert ok("decrypt", "--with-password", password, stdin=modern) == PLAIN
    # Read as given and without the trailing newline: both are tried.
    assert ok("decrypt", "--with-password", password, stdin=message) == PLAIN
    both = ok("encrypt", "--with-password", password, alice_files[1], stdin=PLAIN)
    assert ok("decrypt", alice_files[0], stdin=both) == PLAIN
    assert ok("decrypt", "--with-password", password, stdin=both) == PLAIN
    wrong = _file(tmp_path, "wrong", b"hunter3")
    fails(status.CANNOT_DECRYPT, "decrypt", "--with-password", wrong, stdin=message)
    empty = _file(tmp_path, "empty", b"\n")
    fails(
        status.PASSWORD_NOT_HUMAN_READABLE,
        "encrypt",
        "--with-password",
        empty,
        stdin=PLAIN,
    )
    binary = _file(tmp_path, "binary", b"\xff\xfe")
    fails(
        status.PASSWORD_NOT_HUMAN_READABLE,
        "encrypt",
        "--with-password",
        binary,
        stdin=PLAIN,
    )


def test_password_with_signature(
    tmp_path: Path, alice_files: tuple[Path, Path], bob_files: tuple[Path, Path]
) -> None:
    password = _file(tmp_path, "pw", b"hunter2\n")
    for mode in ("binary", "text"):
        message = ok(
            "encrypt",
            "--with-password",
            password,
            "--sign-with",
            bob_files[0],
            f"--as={mode}",
            alice_files[1],
            stdin=PLAIN,
        )
        verifications = tmp_path / f"verifications-{mode}"
        sk = tmp_path / f"sk-{mode}"
        plain = ok(
            "decrypt",
            "--with-password",
            password,
            "--session-key-out",
            sk,
            "--verify-with",
            bob_files[1],
            "--verifications-out",
            verifications,
            stdin=message,
        )
        assert plain == PLAIN
        assert f"mode:{mode}" in verifications.read_text()
        assert ok("decrypt", "--with-session-key", sk, stdin=message) == PLAIN
        assert ok("decrypt", alice_files[0], stdin=message) == PLAIN


def test_decrypt_refusals(
    tmp_path: Path, alice_files: tuple[Path, Path], bob_files: tuple[Path, Path]
) -> None:
    message = ok("encrypt", alice_files[1], stdin=PLAIN)
    fails(status.CANNOT_DECRYPT, "decrypt", bob_files[0], stdin=message)
    fails(status.MISSING_ARG, "decrypt", stdin=message)
    fails(
        status.INCOMPLETE_VERIFICATION,
        "decrypt",
        "--verify-with",
        bob_files[1],
        alice_files[0],
        stdin=message,
    )
    fails(
        status.INCOMPLETE_VERIFICATION,
        "decrypt",
        "--verifications-out",
        tmp_path / "v",
        alice_files[0],
        stdin=message,
    )
    fails(status.BAD_DATA, "decrypt", alice_files[0], stdin=b"not a message")
    signed = ok("inline-sign", alice_files[0], stdin=PLAIN)
    fails(status.BAD_DATA, "decrypt", alice_files[0], stdin=signed)
    exists = _file(tmp_path, "exists", b"")
    fails(
        status.OUTPUT_EXISTS,
        "decrypt",
        "--session-key-out",
        exists,
        alice_files[0],
        stdin=message,
    )
    assert exists.read_bytes() == b""
