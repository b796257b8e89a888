"""Files the command writes: permissions that follow the umask (private for
plaintext), and a key pair that lands whole or not at all."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import e2ee_mail
from e2ee_mail import cli

BODY = b"a body to seal\n" * 50


def run(cwd: Path, *args: str, umask: int = 0o022) -> None:
    # The package under test, wherever the interpreter's installed copy is.
    root = str(Path(e2ee_mail.__file__).resolve().parents[1])
    proc = subprocess.run(
        [sys.executable, "-m", "e2ee_mail.cli", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": root},
        capture_output=True,
        check=False,
        timeout=120,
        umask=umask,
    )
    assert proc.returncode == 0, proc.stderr.decode()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with a key pair (bob.key, bob.pub) and a message to it (ct)."""
    d = tmp_path_factory.mktemp("files")
    run(
        d,
        "keygen",
        "--format",
        "x509",
        "--uid",
        "Bob <bob@example.org>",
        "--out",
        "bob",
    )
    (d / "in").write_bytes(BODY)
    run(d, "encrypt", "--format", "cms", "--to", "bob.pub", "-i", "in", "-o", "ct")
    return d


@pytest.mark.parametrize(("umask", "expected"), [(0o077, 0o600), (0o022, 0o644)])
def test_encrypt_output_honours_the_umask(
    sealed: Path, tmp_path: Path, umask: int, expected: int
) -> None:
    out = tmp_path / "out"
    run(
        sealed,
        "encrypt",
        "--format",
        "cms",
        "--to",
        "bob.pub",
        "-i",
        "in",
        "-o",
        str(out),
        umask=umask,
    )
    assert _mode(out) == expected


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o600), (0o077, 0o600)])
def test_decrypted_plaintext_is_private_by_default(
    sealed: Path, tmp_path: Path, umask: int, expected: int
) -> None:
    out = tmp_path / "plain"
    run(sealed, "decrypt", "--key", "bob.key", "-i", "ct", "-o", str(out), umask=umask)
    assert out.read_bytes() == BODY
    assert _mode(out) == expected


def test_decrypt_mode_option_sets_exactly_what_is_asked(
    sealed: Path, tmp_path: Path
) -> None:
    out = tmp_path / "plain"
    args = ("decrypt", "--key", "bob.key", "-i", "ct", "-o", str(out))
    run(sealed, *args, "--mode", "0640", umask=0o077)
    assert _mode(out) == 0o640
    # Replacing an existing file gives the new one the mode asked for, not the old.
    run(sealed, *args)
    assert _mode(out) == 0o600


def test_decrypt_mode_option_refuses_what_is_not_an_octal_mode(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for bad in ("rw", "1777", "-1"):
        with pytest.raises(SystemExit) as exc:
            cli.main(["decrypt", "--key", "k", "--mode", bad])
        assert exc.value.code == cli.EXIT_USAGE
    assert "not an octal mode" in capsys.readouterr().err


def test_keygen_files_honour_the_umask(tmp_path: Path) -> None:
    run(tmp_path, "keygen", "--uid", "K <k@example.org>", "--out", "k", umask=0o077)
    assert (_mode(tmp_path / "k.pub"), _mode(tmp_path / "k.key")) == (0o600, 0o600)
    run(tmp_path, "keygen", "--uid", "L <l@example.org>", "--out", "l", umask=0o022)
    assert (_mode(tmp_path / "l.pub"), _mode(tmp_path / "l.key")) == (0o644, 0o600)


@pytest.mark.parametrize("failing", ["key", "pub"])
def test_keygen_on_a_full_disk_writes_neither_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    failing: str,
) -> None:
    # A first pair is in place; the second keygen runs out of space while flushing
    # one of its files: the old pair must stay, whole, with nothing beside it.
    monkeypatch.chdir(tmp_path)
    argv = ["keygen", "--format", "x509", "--uid", "K <k@example.org>", "--out", "k"]
    assert cli.main(argv) == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert sorted(before) == ["k.key", "k.pub"]
    real_fsync = os.fsync

    def full_disk(fd: int) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").startswith(
            str(tmp_path / f".k.{failing}.")
        ):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full_disk)
    capsys.readouterr()
    assert cli.main(argv) == cli.EXIT_ERROR
    assert "No space left on device" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
