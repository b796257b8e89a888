"""e2ee-sop: version, list-profiles, generate-key, extract-cert,
change-key-password, revoke-key."""

from __future__ import annotations

from pathlib import Path

import pytest
from soprun import fails, ok

from e2ee_mail.openpgp.certs import load_certificate, load_key
from e2ee_mail.sop import status


def test_version_forms() -> None:
    assert ok("version") == b"e2ee-sop 0.1.0\n"
    assert ok("version", "--backend").startswith(b"e2ee_mail ")
    extended = ok("version", "--extended").decode().splitlines()
    assert extended[0] == "e2ee-sop 0.1.0"
    assert any(line.startswith("cryptography ") for line in extended)
    spec = ok("version", "--sop-spec").decode().splitlines()
    assert spec[0].startswith("~draft-dkg-openpgp-stateless-cli-")
    assert all(line.startswith("~ ") for line in spec[1:])
    fails(status.INCOMPATIBLE_OPTIONS, "version", "--backend", "--extended")


def test_list_profiles() -> None:
    lines = ok("list-profiles", "generate-key").decode().splitlines()
    names = [line.split(":")[0] for line in lines]
    assert names == ["rfc9580", "rfc4880", "mlkem768-x25519", "mldsa65-ed25519"]
    assert lines[0].endswith("(default)")
    encrypt = ok("list-profiles", "encrypt").decode().splitlines()
    assert [line.split(":")[0] for line in encrypt] == ["auto", "rfc9580", "rfc4880"]
    fails(status.UNSUPPORTED_PROFILE, "list-profiles", "sign")
    fails(status.MISSING_ARG, "list-profiles")


@pytest.mark.parametrize(
    ("profile", "version", "algorithm"),
    [
        ("rfc9580", 6, 25),
        ("default", 6, 25),
        ("rfc4880", 4, 18),
        ("mlkem768-x25519", 6, 35),
        ("mldsa65-ed25519", 6, 35),
    ],
)
def test_generate_key_profiles(
    tmp_path: Path, profile: str, version: int, algorithm: int
) -> None:
    key = ok("generate-key", f"--profile={profile}", "Carol <carol@example.org>")
    assert key.startswith(b"-----BEGIN PGP PRIVATE KEY BLOCK-----")
    loaded = load_key(key, None)
    assert loaded.public.version == version
    assert loaded.public.user_ids == ("Carol <carol@example.org>",)
    assert [k.packet.algorithm for k in loaded.public.subkeys] == [algorithm]
    # Each profile's key signs and decrypts through the same subcommands.
    key_file = tmp_path / "key"
    key_file.write_bytes(key)
    cert = tmp_path / "cert"
    cert.write_bytes(ok("extract-cert", stdin=key))
    sealed = ok("encrypt", "--sign-with", key_file, cert, stdin=b"pq?")
    verified = tmp_path / "verified"
    assert (
        ok(
            "decrypt",
            "--verify-with",
            cert,
            "--verifications-out",
            verified,
            key_file,
            stdin=sealed,
        )
        == b"pq?"
    )
    assert verified.read_text().count("\n") == 1


def test_generate_key_options() -> None:
    binary = ok(
        "generate-key", "--no-armor", "--signing-only", "A", "B <b@example.org>"
    )
    assert binary[0] & 0x80
    key = load_key(binary, None)
    assert key.public.user_ids == ("A", "B <b@example.org>")
    assert key.public.subkeys == ()
    bare = load_key(ok("generate-key"), None)
    assert bare.public.user_ids == ()
    fails(status.UNSUPPORTED_OPTION, "generate-key", "--profile=rfc4880")
    fails(status.UNSUPPORTED_PROFILE, "generate-key", "--profile=rsa1024", "A")


def test_generate_key_with_password(tmp_path: Path) -> None:
    password = tmp_path / "pw"
    password.write_bytes(b"correct horse\n")
    key = ok("generate-key", "--with-key-password", password, "D")
    with pytest.raises(Exception, match="passphrase"):
        load_key(key, None)
    # The trailing newline of the password file is not part of the password.
    assert load_key(key, b"correct horse").public.user_ids == ("D",)
    password.write_bytes(b"\xff\xfe")
    fails(
        status.PASSWORD_NOT_HUMAN_READABLE,
        "generate-key",
        "--with-key-password",
        password,
        "E",
    )


def test_extract_cert(alice_files: tuple[Path, Path]) -> None:
    key, cert = alice_files
    armored = cert.read_bytes()
    assert armored.startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert load_certificate(armored) == load_key(key.read_bytes(), None).public
    binary = ok("extract-cert", "--no-armor", stdin=key.read_bytes())
    assert load_certificate(binary) == load_certificate(armored)
    fails(status.BAD_DATA, "extract-cert", stdin=armored)


def test_change_key_password(tmp_path: Path, alice_files: tuple[Path, Path]) -> None:
    key, _ = alice_files
    old, new = tmp_path / "old", tmp_path / "new"
    old.write_bytes(b"first")
    new.write_bytes(b"second")
    locked = ok(
        "change-key-password", "--new-key-password", old, stdin=key.read_bytes()
    )
    # A locked key's certificate needs no password.
    assert ok("extract-cert", stdin=locked) == ok(
        "extract-cert", stdin=key.read_bytes()
    )
    fails(
        status.KEY_IS_PROTECTED,
        "change-key-password",
        "--new-key-password",
        new,
        stdin=locked,
    )
    relocked = ok(
        "change-key-password",
        "--old-key-password",
        new,
        "--old-key-password",
        old,
        "--new-key-password",
        new,
        stdin=locked,
    )
    assert (
        load_key(relocked, b"second").public == load_key(key.read_bytes(), None).public
    )
    plain = ok("change-key-password", "--old-key-password", new, stdin=relocked)
    assert (
        load_key(plain, None).public.fingerprint
        == load_key(relocked, b"second").fingerprint
    )


def test_revoke_key(tmp_path: Path, bob_files: tuple[Path, Path]) -> None:
    key, cert = bob_files
    revoked = load_certificate(ok("revoke-key", stdin=key.read_bytes()))
    assert revoked.fingerprint == load_certificate(cert.read_bytes()).fingerprint
    assert revoked.primary.revoked
    fails(
        status.CERT_CANNOT_ENCRYPT,
        "encrypt",
        _write(tmp_path, revoked.export()),
        stdin=b"x",
    )
    fails(status.BAD_DATA, "revoke-key", stdin=cert.read_bytes())


def test_revoke_locked_key(tmp_path: Path, alice_files: tuple[Path, Path]) -> None:
    key, _ = alice_files
    password = _write(tmp_path, b"pw")
    locked = ok(
        "change-key-password", "--new-key-password", password, stdin=key.read_bytes()
    )
    fails(status.KEY_IS_PROTECTED, "revoke-key", stdin=locked)
    revoked = ok(
        "revoke-key", "--with-key-password", password, "--no-armor", stdin=locked
    )
    assert load_certificate(revoked).primary.revoked


def _write(directory: Path, data: bytes, name: str = "file") -> Path:
    path = directory / name
    path.write_bytes(data)
    return path
