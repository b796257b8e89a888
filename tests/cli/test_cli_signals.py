"""Signals during ``e2ee-mail decrypt`` of a 64 MiB CMS message, as a subprocess.

SIGTERM and SIGHUP end the command as SIGINT does: exit 128 + the signal number, its
temporary files removed. Whatever ends it, SIGKILL included, no file it leaves or
holds (in $TMPDIR, pointed at a directory of the test's own, or next to the output)
contains plaintext: the plaintext is made of a marker line, searched for in every
file under both directories, and in every file the process has open, nameless
spools included (through /proc), at the moment the signal is sent.

No sleeps: each test feeds the message through a pipe and waits (bounded) for a
state it can observe, the spool growing or the output starting, so the signal
always lands in the phase the test names.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

import e2ee_mail

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="watches the process through /proc"
)

MARKER = b"E2EE-MAIL SIGNAL TEST PLAINTEXT MARKER 5f3a\n"
SIZE = 64 << 20
#: Every wait is bounded by this.
DEADLINE_SECONDS = 60.0


def _cli() -> list[str]:
    script = Path(sys.executable).parent / "e2ee-mail"
    return [str(script)] if script.exists() else [sys.executable, "-m", "e2ee_mail.cli"]


@pytest.fixture(scope="module")
def message(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the secret key's path, a 64 MiB CMS message of marker lines' path)."""
    d = tmp_path_factory.mktemp("signals")
    key = e2ee_mail.generate_key("Sig <sig@example.org>", format="x509")
    (d / "key.pem").write_bytes(key.export())
    plain = d / "plain"
    with plain.open("wb") as fh:
        block = MARKER * ((1 << 20) // len(MARKER) + 1)
        left = SIZE
        while left:
            left -= fh.write(block[: min(len(block), left)])
    sealed = d / "sealed"
    with plain.open("rb") as src, sealed.open("wb") as dst:
        e2ee_mail.encrypt_stream(src, dst, key.public, format="cms")
    plain.unlink()
    return d / "key.pem", sealed


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    """(the command's $TMPDIR, the output's directory), both empty."""
    tmpdir, outdir = tmp_path / "tmp", tmp_path / "out"
    tmpdir.mkdir()
    outdir.mkdir()
    return tmpdir, outdir


def _start(
    key: Path, tmpdir: Path, *output: str, stdin: int | BinaryIO = subprocess.PIPE
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    return subprocess.Popen(
        [*_cli(), "decrypt", "--key", str(key), *output],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def _open_files(pid: int, roots: tuple[Path, ...]) -> Iterator[tuple[str, int]]:
    """(the /proc path to read it through, its size) of each regular file ``pid``
    has open under ``roots``, deleted (nameless) ones included."""
    fds = f"/proc/{pid}/fd"
    for fd in os.listdir(fds):
        link = os.path.join(fds, fd)
        try:
            target = os.readlink(link)
            st = os.stat(link)
        except OSError:
            continue  # closed meanwhile
        if any(target.startswith(str(root)) for root in roots) and (
            st.st_mode & 0o170000 == 0o100000
        ):
            yield link, st.st_size


def _wait_for_spool(proc: subprocess.Popen[bytes], roots: tuple[Path, ...]) -> None:
    """Until a file ``proc`` has open under ``roots`` holds 4 MiB: the body is
    being spooled."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()  # type: ignore[union-attr]
        if any(size >= 4 << 20 for _, size in _open_files(proc.pid, roots)):
            return
        time.sleep(0.01)
    pytest.fail("the decrypt never started spooling")


def _assert_no_plaintext_open(pid: int, roots: tuple[Path, ...]) -> None:
    for link, _ in _open_files(pid, roots):
        with open(link, "rb") as fh:
            assert MARKER not in fh.read(), f"{os.readlink(link)} holds plaintext"


def _assert_no_plaintext_left(*roots: Path) -> None:
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                assert MARKER not in path.read_bytes(), f"{path} holds plaintext"


def _feed_half(proc: subprocess.Popen[bytes], sealed: Path) -> None:
    """Write the first half of the message and keep the pipe open: the command
    then waits for the rest, in its first pass, until it is signalled."""
    assert proc.stdin is not None
    data = sealed.read_bytes()
    proc.stdin.write(data[: len(data) // 2])
    proc.stdin.flush()


def _finish(proc: subprocess.Popen[bytes]) -> tuple[int, bytes]:
    """Wait (bounded) for the end; communicate() closes stdin and drains stdout."""
    try:
        _, err = proc.communicate(timeout=DEADLINE_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("the command did not end after the signal")
    return proc.returncode, err


@pytest.mark.parametrize(
    ("signum", "name"), [(signal.SIGTERM, "SIGTERM"), (signal.SIGHUP, "SIGHUP")]
)
def test_terminating_signal_cleans_up_and_exits_128_plus_signal(
    message: tuple[Path, Path], dirs: tuple[Path, Path], signum: int, name: str
) -> None:
    key, sealed = message
    tmpdir, outdir = dirs
    proc = _start(key, tmpdir, "-o", str(outdir / "out"))
    _feed_half(proc, sealed)
    _wait_for_spool(proc, (tmpdir, outdir))
    _assert_no_plaintext_open(proc.pid, (tmpdir, outdir))
    proc.send_signal(signum)
    status, err = _finish(proc)
    assert status == 128 + signum
    assert err.decode() == f"e2ee-mail: error: terminated by {name}\n"
    assert list(outdir.iterdir()) == []  # no temporary next to the output
    assert list(tmpdir.iterdir()) == []


def test_sigkill_leaves_no_plaintext(
    message: tuple[Path, Path], dirs: tuple[Path, Path]
) -> None:
    key, sealed = message
    tmpdir, outdir = dirs
    proc = _start(key, tmpdir, "-o", str(outdir / "out"))
    _feed_half(proc, sealed)
    _wait_for_spool(proc, (tmpdir, outdir))
    _assert_no_plaintext_open(proc.pid, (tmpdir, outdir))
    proc.kill()
    status, _ = _finish(proc)
    assert status == -signal.SIGKILL
    # Leftovers may exist (the output's empty temporary); none holds plaintext.
    _assert_no_plaintext_left(tmpdir, outdir)
    assert [p.stat().st_size for p in outdir.iterdir()] in ([], [0])


def test_sigterm_while_releasing_to_stdout_leaves_nothing_in_clear(
    message: tuple[Path, Path], dirs: tuple[Path, Path]
) -> None:
    # Decrypted to stdout, the plaintext waits in a spool in $TMPDIR until the tag
    # verified; the test reads nothing, so the command blocks releasing it.
    key, sealed = message
    tmpdir, _ = dirs
    with sealed.open("rb") as src:
        proc = _start(key, tmpdir, stdin=src)
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], DEADLINE_SECONDS)
    assert ready, "the command never started its output"
    _assert_no_plaintext_open(proc.pid, (tmpdir,))
    proc.send_signal(signal.SIGTERM)
    status, err = _finish(proc)
    assert status == 128 + signal.SIGTERM
    assert err.decode() == "e2ee-mail: error: terminated by SIGTERM\n"
    assert list(tmpdir.iterdir()) == []
