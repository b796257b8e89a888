"""e2ee-sop's contract: the draft's exit codes, indirect data (files, @ENV:,
@FD:), outputs that never replace a file, one line on standard error and never
a traceback, whatever the input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from soprun import fails, ok, sop, subprocess_sop

from e2ee_mail.errors import DecryptionError, PassphraseError, UnsupportedError
from e2ee_mail.sop import status

MESSAGE = b"hello\n"


def test_codes_are_the_drafts() -> None:
    assert {name: code for code, name in status.EXIT_CODES.items()} == {
        "NO_SIGNATURE": 3,
        "UNSUPPORTED_ASYMMETRIC_ALGO": 13,
        "CERT_CANNOT_ENCRYPT": 17,
        "MISSING_ARG": 19,
        "INCOMPLETE_VERIFICATION": 23,
        "CANNOT_DECRYPT": 29,
        "PASSWORD_NOT_HUMAN_READABLE": 31,
        "UNSUPPORTED_OPTION": 37,
        "BAD_DATA": 41,
        "EXPECTED_TEXT": 53,
        "OUTPUT_EXISTS": 59,
        "MISSING_INPUT": 61,
        "KEY_IS_PROTECTED": 67,
        "UNSUPPORTED_SUBCOMMAND": 69,
        "UNSUPPORTED_SPECIAL_PREFIX": 71,
        "AMBIGUOUS_INPUT": 73,
        "KEY_CANNOT_SIGN": 79,
        "INCOMPATIBLE_OPTIONS": 83,
        "UNSUPPORTED_PROFILE": 89,
    }


def test_parser_failures(alice_files: tuple[Path, Path]) -> None:
    assert "frobnicate" in fails(status.UNSUPPORTED_SUBCOMMAND, "frobnicate")
    fails(status.UNSUPPORTED_SUBCOMMAND)
    for name in ("merge-certs", "update-key", "certify-userid", "validate-userid"):
        fails(status.UNSUPPORTED_SUBCOMMAND, name)
    fails(status.UNSUPPORTED_OPTION, "sign", "--frob", alice_files[0], stdin=MESSAGE)
    fails(status.UNSUPPORTED_OPTION, "armor", "--label=sig", stdin=MESSAGE)
    fails(status.MISSING_ARG, "sign", "--micalg-out")
    assert ok("--help").startswith(b"usage: e2ee-sop")


def test_indirect_inputs(
    tmp_path: Path, alice_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    key, cert = alice_files
    monkeypatch.setenv("SOP_TEST_KEY", key.read_text())
    sig = ok("sign", "@ENV:SOP_TEST_KEY", stdin=MESSAGE)
    fd = os.open(cert, os.O_RDONLY)
    try:
        (tmp_path / "sig").write_bytes(sig)
        assert ok("verify", tmp_path / "sig", f"@FD:{fd}", stdin=MESSAGE)
    finally:
        os.close(fd)
    fails(status.MISSING_INPUT, "sign", "@ENV:SOP_TEST_UNSET", stdin=MESSAGE)
    fails(status.MISSING_INPUT, "sign", tmp_path / "absent", stdin=MESSAGE)
    fails(status.UNSUPPORTED_SPECIAL_PREFIX, "sign", "@HTTP:example", stdin=MESSAGE)
    fails(status.UNSUPPORTED_SPECIAL_PREFIX, "sign", "@FD:x", stdin=MESSAGE)
    monkeypatch.chdir(tmp_path)
    Path("@ENV:SOP_TEST_KEY").write_bytes(key.read_bytes())
    fails(status.AMBIGUOUS_INPUT, "sign", "@ENV:SOP_TEST_KEY", stdin=MESSAGE)


def test_outputs_never_replace(tmp_path: Path, alice_files: tuple[Path, Path]) -> None:
    key, cert = alice_files
    existing = tmp_path / "existing"
    existing.write_bytes(b"keep me")
    fails(status.OUTPUT_EXISTS, "sign", "--micalg-out", existing, key, stdin=MESSAGE)
    signed = ok("inline-sign", key, stdin=MESSAGE)
    fails(
        status.OUTPUT_EXISTS,
        "inline-detach",
        "--signatures-out",
        existing,
        stdin=signed,
    )
    fails(
        status.OUTPUT_EXISTS,
        "inline-verify",
        "--verifications-out",
        existing,
        cert,
        stdin=signed,
    )
    assert existing.read_bytes() == b"keep me"
    fails(
        status.UNSUPPORTED_SPECIAL_PREFIX,
        "inline-detach",
        "--signatures-out",
        "@ENV:X",
        stdin=signed,
    )
    read, write = os.pipe()
    try:
        ok("inline-detach", "--signatures-out", f"@FD:{write}", stdin=signed)
        os.close(write)
        write = -1
        assert os.read(read, 100).startswith(b"-----BEGIN PGP SIGNATURE-----")
    finally:
        os.close(read)
        if write >= 0:
            os.close(write)


_SUBCOMMANDS = [
    ("armor",),
    ("dearmor",),
    ("extract-cert",),
    ("change-key-password",),
    ("revoke-key",),
]


@given(st.binary(max_size=400), st.sampled_from(_SUBCOMMANDS))
def test_garbage_never_a_traceback(data: bytes, command: tuple[str, ...]) -> None:
    result = sop(*command, stdin=data)
    assert "Traceback" not in result.err
    if result.code != 0:
        assert result.code in status.EXIT_CODES or result.code == status.GENERIC
        assert result.err.count("\n") == 1 and result.out == b""


@given(st.binary(max_size=400))
def test_garbage_messages(alice_files: tuple[Path, Path], data: bytes) -> None:
    key, cert = alice_files
    for command in (("decrypt", key), ("inline-verify", cert)):
        result = sop(*command, stdin=data)
        assert result.code in (
            status.BAD_DATA,
            status.CANNOT_DECRYPT,
            status.NO_SIGNATURE,
        )
        assert result.err.count("\n") == 1 and "Traceback" not in result.err


def test_garbage_keys(tmp_path: Path) -> None:
    for blob in (
        b"",
        b"\x99\x00",
        b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n"
        b"-----END PGP PUBLIC KEY BLOCK-----\n",
    ):
        junk = tmp_path / "junk"
        junk.write_bytes(blob)
        fails(status.BAD_DATA, "encrypt", junk, stdin=MESSAGE)
        junk.unlink()


def test_as_a_process(tmp_path: Path) -> None:
    proc = subprocess_sop("version")
    assert proc.returncode == 0 and proc.stdout.startswith(b"e2ee-sop ")
    proc = subprocess_sop("decrypt", tmp_path / "missing.key", stdin=b"x")
    assert proc.returncode == status.MISSING_INPUT
    assert proc.stderr.count(b"\n") == 1 and b"Traceback" not in proc.stderr
    key = subprocess_sop("generate-key", "Eve <eve@example.org>").stdout
    (tmp_path / "eve.key").write_bytes(key)
    read, write = os.pipe()
    os.write(write, key)
    os.close(write)
    try:
        cert = subprocess_sop("extract-cert", stdin=key).stdout
        proc = subprocess_sop("sign", f"@FD:{read}", stdin=b"hi", pass_fds=(read,))
    finally:
        os.close(read)
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "sig").write_bytes(proc.stdout)
    (tmp_path / "cert").write_bytes(cert)
    proc = subprocess_sop("verify", tmp_path / "sig", tmp_path / "cert", stdin=b"hi")
    assert proc.returncode == 0 and proc.stdout.count(b"\n") == 1


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (IndexError("list index out of range"), status.BAD_DATA),
        (ValueError("a\nb"), status.BAD_DATA),
        (UnsupportedError("no such algorithm"), status.UNSUPPORTED_ASYMMETRIC_ALGO),
        (DecryptionError(), status.CANNOT_DECRYPT),
        (PassphraseError("locked"), status.KEY_IS_PROTECTED),
        (OSError(28, "No space left on device"), status.GENERIC),
    ],
)
def test_unexpected_exceptions(
    monkeypatch: pytest.MonkeyPatch, exc: Exception, code: int
) -> None:
    from e2ee_mail.sop import commands

    def boom(*_: object) -> None:
        raise exc

    monkeypatch.setitem(commands.COMMANDS, "armor", (boom, True))
    err = fails(code, "armor", stdin=b"x")
    assert type(exc).__name__ in err
