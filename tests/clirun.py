"""Running the console command as a subprocess, shared by the CLI test modules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import e2ee_mail
from e2ee_mail.cli_status import EXIT_SIGNATURE


def run(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``e2ee-mail ARGS`` in a fresh interpreter, with ``env`` added to ours."""
    return subprocess.run(
        [sys.executable, "-m", "e2ee_mail.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


def ok(*args: str, env: dict[str, str] | None = None) -> str:
    """Like :func:`run`; the command must succeed. Returns its stdout."""
    proc = run(*args, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def run_in(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """``e2ee-mail ARGS`` run in ``cwd``, output as bytes, importing the e2ee_mail
    these tests import (a worktree's, not only the installed one)."""
    return subprocess.run(
        [sys.executable, "-m", "e2ee_mail.cli", *args],
        cwd=cwd,
        capture_output=True,
        check=False,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(e2ee_mail.__file__).parent.parent)},
    )


def assert_good_signature(proc: subprocess.CompletedProcess[bytes], who: str) -> None:
    """The command succeeded and said, in its one stderr line, who signed."""
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr.decode()
    assert err.startswith(f"e2ee-mail: good signature from {who}")
    assert err.count("\n") == 1


def assert_no_good_signature(
    proc: subprocess.CompletedProcess[bytes], out: Path
) -> None:
    """Exit 6, one error line, and no output file."""
    assert proc.returncode == EXIT_SIGNATURE, proc.stderr
    err = proc.stderr.decode()
    assert err.startswith("e2ee-mail: error: ")
    assert err.count("\n") == 1
    assert not out.exists()
