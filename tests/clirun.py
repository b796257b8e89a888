"""Running the console command as a subprocess, shared by the CLI test modules."""

from __future__ import annotations

import os
import subprocess
import sys


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
