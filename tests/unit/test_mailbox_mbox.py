"""mbox files shared with delivery agents: scanning, and the in-place rewrite that
a kill may interrupt at any point and the next run completes, keeping the mail
delivered in between."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest

import e2ee_mail
from e2ee_mail.mailbox import mbox as mboxfile

HEAD = b"From a Thu Jan  1 00:00:00 2026\nfirst message\n\n"
OLD = b"From b Thu Jan  1 00:00:00 2026\n" + b"old body line\n" * 20 + b"\n"
NEW = {
    "shorter": b"From b Thu Jan  1 00:00:00 2026\n" + b"new\n" * 10 + b"\n",
    "same size": b"From b Thu Jan  1 00:00:00 2026\n" + b"NEW BODY LINE\n" * 20 + b"\n",
    "longer": b"From b Thu Jan  1 00:00:00 2026\n" + b"a longer body line\n" * 30,
}
DELIVERED = b"From c Thu Jan  1 00:00:00 2026\ndelivered meanwhile\n\n"


class _Killed(BaseException):
    """What a SIGKILL does to the code below: no handler runs, nothing is undone
    (write_back catches OSError only)."""


def _setup(tmp_path: Path, new: bytes) -> tuple[Path, Path, Path]:
    work = tmp_path / "work"
    work.mkdir(parents=True)
    mbox = tmp_path / "inbox"
    mbox.write_bytes(HEAD + OLD)
    (work / "mbox.new").write_bytes(new)
    return mbox, work, work / "mbox.new"


def _write_back(mbox: Path, work: Path, new: Path) -> bool:
    """Run write_back; True when the (simulated) kill interrupted it."""
    fd = os.open(mbox, os.O_RDWR)
    try:
        prefix = hashlib.sha256(HEAD).hexdigest()
        mboxfile.write_back(fd, work, new, len(HEAD), prefix)
    except _Killed:
        return True
    finally:
        os.close(fd)
    return False


def _recover(mbox: Path, work: Path) -> bool:
    fd = os.open(mbox, os.O_RDWR)
    try:
        return mboxfile.recover(fd, work)
    finally:
        os.close(fd)


def test_write_back_rewrites_in_place(tmp_path: Path) -> None:
    for name, new in NEW.items():
        mbox, work, new_path = _setup(tmp_path / name.replace(" ", "-"), new)
        inode = mbox.stat().st_ino
        assert not _write_back(mbox, work, new_path)
        assert mbox.read_bytes() == HEAD + new
        assert mbox.stat().st_ino == inode
        assert not mboxfile.pending(work)
        assert not _recover(mbox, work)


@pytest.mark.parametrize("size", list(NEW))
@pytest.mark.parametrize("kill_at", ["write 1", "write 3", "truncate", "unmark"])
@pytest.mark.parametrize("delivered", [False, True], ids=["quiet", "delivery"])
def test_a_killed_rewrite_is_completed_with_the_mail_delivered_since(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    size: str,
    kill_at: str,
    delivered: bool,
) -> None:
    mbox, work, new_path = _setup(tmp_path, NEW[size])
    monkeypatch.setattr(mboxfile, "_BLOCK", 16)  # many small writes to die among
    writes = []
    real_pwrite, real_truncate = os.pwrite, os.ftruncate
    real_unmark = mboxfile._remove_marker

    def pwrite(fd: int, data: bytes, offset: int) -> int:
        writes.append(offset)
        if kill_at == f"write {len(writes)}":
            raise _Killed
        return real_pwrite(fd, data, offset)

    def ftruncate(fd: int, length: int) -> None:
        if kill_at == "truncate" and length < len(HEAD + OLD):
            raise _Killed
        real_truncate(fd, length)

    def unmark(work: Path) -> None:
        if kill_at == "unmark":
            raise _Killed
        real_unmark(work)

    monkeypatch.setattr(os, "pwrite", pwrite)
    monkeypatch.setattr(os, "ftruncate", ftruncate)
    monkeypatch.setattr(mboxfile, "_remove_marker", unmark)
    killed = _write_back(mbox, work, new_path)
    # Only a shrinking mbox is truncated.
    assert killed == (kill_at != "truncate" or size == "shorter")
    assert mboxfile.pending(work) == killed
    monkeypatch.setattr(os, "pwrite", real_pwrite)
    monkeypatch.setattr(os, "ftruncate", real_truncate)
    monkeypatch.setattr(mboxfile, "_remove_marker", real_unmark)
    if delivered:
        # The agent delivers as soon as our locks died with us: at the end of
        # whatever the file is now.
        with open(mbox, "ab") as fh:
            fh.write(DELIVERED)
    assert _recover(mbox, work) == killed
    assert mbox.read_bytes() == HEAD + NEW[size] + (DELIVERED if delivered else b"")
    assert not mboxfile.pending(work)


def test_a_recovery_killed_in_turn_is_completed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mbox, work, new_path = _setup(tmp_path, NEW["shorter"])
    monkeypatch.setattr(mboxfile, "_BLOCK", 16)
    real_pwrite = os.pwrite
    budget = [3]

    def pwrite(fd: int, data: bytes, offset: int) -> int:
        budget[0] -= 1
        if budget[0] < 0:
            raise _Killed
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", pwrite)
    assert _write_back(mbox, work, new_path)
    with open(mbox, "ab") as fh:
        fh.write(DELIVERED)
    budget[0] = 2
    with pytest.raises(_Killed):
        _recover(mbox, work)
    with open(mbox, "ab") as fh:
        fh.write(DELIVERED.replace(b"From c", b"From d"))
    monkeypatch.setattr(os, "pwrite", real_pwrite)
    assert _recover(mbox, work)
    assert mbox.read_bytes() == (
        HEAD + NEW["shorter"] + DELIVERED + DELIVERED.replace(b"From c", b"From d")
    )


def test_no_space_for_the_growth_leaves_the_mbox_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mbox, work, new_path = _setup(tmp_path, NEW["longer"])

    def full(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "posix_fallocate", full)
    with pytest.raises(OSError, match="No space"):
        _write_back(mbox, work, new_path)
    assert mbox.read_bytes() == HEAD + OLD
    assert not mboxfile.pending(work)


def test_recovery_refuses_an_mbox_changed_before_the_rewritten_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mbox, work, new_path = _setup(tmp_path, NEW["same size"])
    monkeypatch.setattr(mboxfile, "_BLOCK", 16)

    def killed(fd: int, data: bytes, offset: int) -> int:
        raise _Killed

    monkeypatch.setattr(os, "pwrite", killed)
    assert _write_back(mbox, work, new_path)
    edited = mbox.read_bytes().replace(b"first message", b"FIRST MESSAGE")
    mbox.write_bytes(edited)
    with pytest.raises(e2ee_mail.Error, match="kept in"):
        _recover(mbox, work)
    assert mbox.read_bytes() == edited
    assert new_path.read_bytes() == NEW["same size"]


def test_scan_finds_every_message_across_block_edges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = [b"From x%d\n" % i + b"body From here\n" * i + b"\n" for i in range(9)]
    path = tmp_path / "inbox"
    path.write_bytes(b"".join(messages))
    for block in (1, 5, 6, 7, 64, 1 << 20):
        monkeypatch.setattr(mboxfile, "_BLOCK", block)
        offsets = [sum(map(len, messages[:i])) for i in range(len(messages))]
        assert mboxfile.slices_of(path) == [
            (o, len(m)) for o, m in zip(offsets, messages, strict=True)
        ]


def test_scan_of_the_tail_extends_the_first_scan(tmp_path: Path) -> None:
    path = tmp_path / "inbox"
    path.write_bytes(HEAD)
    fd = os.open(path, os.O_RDWR | os.O_APPEND)
    try:
        first = mboxfile.scan(fd)
        os.write(fd, OLD)
        both = mboxfile.scan(fd, first)
        assert both.slices == [(0, len(HEAD)), (len(HEAD), len(OLD))]
        assert both.digest.digest() == hashlib.sha256(HEAD + OLD).digest()
        os.write(fd, b"no From line here\n")
        with pytest.raises(mboxfile.MboxChanged):
            mboxfile.scan(fd, both)
    finally:
        os.close(fd)


def test_a_file_that_is_not_an_mbox_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "notes"
    path.write_bytes(b"Dear diary\nFrom here on\n")
    with pytest.raises(e2ee_mail.UsageError, match="not an mbox"):
        mboxfile.slices_of(path)
