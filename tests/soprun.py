"""Running ``e2ee-sop`` for the tests: in this process (fast, through
``e2ee_mail.sop.cli.main`` with standard streams swapped) or as a subprocess."""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import e2ee_mail
from e2ee_mail.sop.cli import main


@dataclasses.dataclass(frozen=True)
class Result:
    code: int
    out: bytes
    err: str


@contextmanager
def _streams(stdin: bytes) -> Iterator[tuple[io.BytesIO, io.BytesIO]]:
    saved = sys.stdin, sys.stdout, sys.stderr
    raw_in, raw_out, raw_err = io.BytesIO(stdin), io.BytesIO(), io.BytesIO()
    wrappers = [
        io.TextIOWrapper(raw_in),
        io.TextIOWrapper(raw_out, write_through=True),
        io.TextIOWrapper(raw_err, write_through=True),
    ]
    sys.stdin, sys.stdout, sys.stderr = wrappers
    try:
        yield raw_out, raw_err
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
        for wrapper in wrappers:
            wrapper.detach()


def sop(*args: str | Path, stdin: bytes = b"") -> Result:
    """``e2ee-sop ARGS`` in this process."""
    with _streams(stdin) as (out, err):
        code = main([str(a) for a in args])
        return Result(code, out.getvalue(), err.getvalue().decode())


def ok(*args: str | Path, stdin: bytes = b"") -> bytes:
    """Like :func:`sop`; the command must succeed, silently. Returns stdout."""
    result = sop(*args, stdin=stdin)
    assert result.code == 0, result.err
    assert result.err == ""
    return result.out


def fails(code: int, *args: str | Path, stdin: bytes = b"") -> str:
    """The command fails with ``code``, one line on stderr and no output."""
    result = sop(*args, stdin=stdin)
    assert result.code == code, (result.code, result.err)
    assert result.out == b""
    assert result.err.startswith("e2ee-sop: ") and result.err.count("\n") == 1
    assert "Traceback" not in result.err
    return result.err


def subprocess_sop(
    *args: str | Path,
    stdin: bytes = b"",
    env: dict[str, str] | None = None,
    pass_fds: tuple[int, ...] = (),
) -> subprocess.CompletedProcess[bytes]:
    """``python -m e2ee_mail.sop ARGS`` importing the e2ee_mail these tests import."""
    root = str(Path(e2ee_mail.__file__).parent.parent)
    return subprocess.run(
        [sys.executable, "-m", "e2ee_mail.sop", *map(str, args)],
        input=stdin,
        capture_output=True,
        check=False,
        timeout=120,
        pass_fds=pass_fds,
        env={**os.environ, "PYTHONPATH": root, **(env or {})},
    )
