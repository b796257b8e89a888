"""An mbox file shared with delivery agents: locking, scanning, rewriting in place.

Locking follows the mbox conventions that delivery agents and mail readers use
(procmail, Postfix local(8), mutt): a dot-lock file ``MBOX.lock`` created O_EXCL, an
fcntl(2) record lock (what lockf(3) takes) and an flock(2) lock on the mbox itself.
An agent may honour only one of them, so :func:`locked` takes all three. They are
tried together without waiting; on any refusal all are dropped and tried again after
a pause, for a bounded time, so a program that takes them in another order can never
deadlock with us. Holding them, the caller re-reads the mbox and compares it with
what it scanned (mutt does the same before it rewrites a mailbox): new mail appended
meanwhile is scanned and kept, any other change stops the rewrite.

A message begins at each line starting "From " (RFC 4155, as Python's
``mailbox.mbox`` reads it).

Rewriting happens in place (:func:`write_back`), never by renaming a new file over
the mbox: an agent that opened the mbox and waits for our lock appends to the file
it opened, which a rename would have unlinked, losing that mail. The file also keeps
its owner, group and mode that way. Before the first byte is overwritten, a marker
in the work directory records what the mbox is turning into (the new content is in a
file beside it); a kill in the middle leaves the marker, and :func:`recover` finishes
the rewrite on the next run, keeping any mail appended since, which it finds from
what the marker recorded about the file's end. Growth is allocated before anything
is overwritten, so a full disk stops the rewrite before it starts.

Note: POSIX record locks belong to the process, and closing *any* descriptor of the
mbox releases them; while :func:`locked` holds them, this process must read the mbox
only through the descriptor it yields.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from .._io import atomic_writer, fsync_dir
from ..errors import Error, UsageError

__all__ = [
    "LOCK_WAIT_S",
    "MboxChanged",
    "Scan",
    "assemble",
    "locked",
    "pending",
    "recover",
    "scan",
    "slices_of",
    "write_back",
]

#: How long :func:`locked` keeps trying before it gives up.
LOCK_WAIT_S: Final = 10.0
#: The pause between two attempts.
_RETRY_S: Final = 0.1
_BLOCK: Final = 1 << 20
_MARKER: Final = "commit"
_DOTLOCK_TAG: Final = b"e2ee-mail rewrap "
_BUSY: Final = frozenset((errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK))


class MboxChanged(Error):
    """The mbox changed, other than by appended mail, since it was scanned."""


@dataclasses.dataclass(slots=True)
class Scan:
    """What a scan found: each message's (offset, length), the size scanned, and a
    SHA-256 of those bytes (a running hash: a later scan of the tail extends it)."""

    slices: list[tuple[int, int]]
    size: int
    digest: hashlib._Hash = dataclasses.field(repr=False)


# -- locking ------------------------------------------------------------------


def _pause() -> None:
    time.sleep(_RETRY_S)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[int]:
    """Hold the dot-lock, an fcntl lock and an flock lock on the mbox ``path``;
    yield a read-write descriptor of it (the file the path names while they are
    held).

    Raises:
        UsageError: another program holds a lock for longer than
            :data:`LOCK_WAIT_S`, or the dot-lock cannot be created.
    """
    deadline = time.monotonic() + LOCK_WAIT_S
    while (fd := _try_locks(path)) is None:
        if time.monotonic() >= deadline:
            raise UsageError(f"{path} is locked by another program: retry later")
        _pause()
    try:
        yield fd
    finally:
        os.close(fd)  # releases the fcntl and flock locks
        _dotlock(path).unlink(missing_ok=True)


def _dotlock(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def _try_locks(path: Path) -> int | None:
    """Every lock, or none of them and None."""
    lock = _dotlock(path)
    try:
        dot = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if _stale_dotlock(lock):
            lock.unlink(missing_ok=True)
        return None
    except OSError as exc:
        raise UsageError(f"cannot create the dot-lock {lock}: {exc.strerror}") from None
    fd = -1
    held = False
    try:
        try:
            os.write(dot, _DOTLOCK_TAG + b"%d\n" % os.getpid())
        finally:
            os.close(dot)
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in _BUSY:
                raise
            return None
        mine, named = os.fstat(fd), os.stat(path)
        # Replaced between our open and our lock: the next attempt locks the new
        # file.
        held = (mine.st_dev, mine.st_ino) == (named.st_dev, named.st_ino)
        return fd if held else None
    finally:
        if not held:
            if fd >= 0:
                os.close(fd)
            lock.unlink(missing_ok=True)


def _stale_dotlock(lock: Path) -> bool:
    """Whether ``lock`` was left by a re-wrap of ours that has died; another
    program's lock is theirs to remove."""
    try:
        text = lock.read_bytes()
    except OSError:
        return False
    if not text.startswith(_DOTLOCK_TAG):
        return False
    try:
        os.kill(int(text.split()[2]), 0)
    except (ValueError, IndexError, ProcessLookupError):
        return True
    except PermissionError:
        return False
    return False


# -- scanning -----------------------------------------------------------------


def scan(fd: int, previous: Scan | None = None, *, name: str = "the file") -> Scan:
    """Scan the mbox open on ``fd``, or only what was appended after ``previous``
    (which must then end where a message begins).

    Raises:
        UsageError: the file is not an mbox (no "From " line first).
        MboxChanged: the bytes after ``previous`` do not begin a message.
    """
    start = 0 if previous is None else previous.size
    digest = hashlib.sha256() if previous is None else previous.digest.copy()
    # The bytes before each block, so that "\nFrom " across a block edge is found;
    # a virtual line break before the first byte of the file.
    before = b"\n" if start == 0 else os.pread(fd, 5, max(0, start - 5))
    starts: list[int] = []
    offset = start
    while block := os.pread(fd, _BLOCK, offset):
        digest.update(block)
        window = before + block
        base = offset - len(before)
        at = window.find(b"\nFrom ")
        while at >= 0:
            starts.append(base + at + 1)
            at = window.find(b"\nFrom ", at + 1)
        offset += len(block)
        before = window[-5:]
    if offset > start and starts[:1] != [start]:
        if previous is not None:
            raise MboxChanged("the mail appended to the mbox does not begin a message")
        raise UsageError(f"{name} is not an mbox file (no leading 'From ' line)")
    ends = [*starts[1:], offset]
    slices = [(s, e - s) for s, e in zip(starts, ends, strict=True)]
    if previous is not None:
        slices = previous.slices + slices
    return Scan(slices, offset, digest)


def slices_of(path: str | os.PathLike[str]) -> list[tuple[int, int]]:
    """The (offset, length) of each message of the mbox ``path``, unlocked."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return scan(fd).slices
    finally:
        os.close(fd)


# -- rewriting ----------------------------------------------------------------


def assemble(
    fd: int, seen: Scan, replaced: dict[int, Path], out: Path
) -> tuple[int, str] | None:
    """Write to ``out`` what the mbox becomes from its first replaced message on:
    message ``i`` taken from ``replaced[i]`` when there, else from the mbox. Every
    byte of the mbox is hashed on the way and compared with ``seen``.

    Returns:
        The offset where ``out`` goes and the SHA-256 (hex) of the bytes before it,
        or None when no message is replaced (``out`` is then not written).

    Raises:
        MboxChanged: the mbox is not what ``seen`` scanned.
    """
    if os.fstat(fd).st_size != seen.size:
        raise MboxChanged("the mbox changed size")
    first = min(replaced, default=None)
    digest = hashlib.sha256()
    if first is None:
        _hash_range(fd, 0, seen.size, digest)
        _check(digest, seen)
        return None
    start = seen.slices[first][0]
    _hash_range(fd, 0, start, digest)
    prefix = digest.hexdigest()
    try:
        with open(out, "wb") as dst:
            for i, (offset, length) in enumerate(seen.slices[first:], first):
                original = _read_range(fd, offset, length)
                digest.update(original)
                if i in replaced:
                    dst.write(replaced[i].read_bytes())
                else:
                    dst.write(original)
            dst.flush()
            os.fsync(dst.fileno())
        _check(digest, seen)
    except BaseException:
        out.unlink(missing_ok=True)  # a partial copy must not fill the disk
        raise
    return start, prefix


def _check(digest: hashlib._Hash, seen: Scan) -> None:
    if digest.digest() != seen.digest.digest():
        raise MboxChanged("the mbox was modified")


def _hash_range(fd: int, offset: int, end: int, digest: hashlib._Hash) -> None:
    while offset < end:
        block = os.pread(fd, min(_BLOCK, end - offset), offset)
        if not block:
            raise MboxChanged("the mbox was truncated")
        digest.update(block)
        offset += len(block)


def _read_range(fd: int, offset: int, length: int) -> bytes:
    data = os.pread(fd, length, offset)
    if len(data) != length:
        raise MboxChanged("the mbox was truncated")
    return data


def write_back(fd: int, work: Path, new: Path, start: int, prefix: str) -> None:
    """Make the mbox open on ``fd`` (every lock held) its first ``start`` bytes
    followed by the content of ``new``, in place.

    ``prefix`` is the SHA-256 (hex) of those first bytes. A marker in ``work``
    records the rewrite before the mbox is touched and goes when it is durable; if
    the process dies in between, :func:`recover` completes it.

    Raises:
        OSError: the rewrite failed; if it failed before the mbox was touched (no
            space for the growth), the marker is gone and the mbox is as it was.
    """
    old_size = os.fstat(fd).st_size
    new_size = start + new.stat().st_size
    tail = ""
    if new_size < old_size:
        tail_digest = hashlib.sha256()
        _hash_range(fd, new_size, old_size, tail_digest)
        tail = tail_digest.hexdigest()
    held = os.fstat(fd)
    marker = {
        "dev": held.st_dev,
        "ino": held.st_ino,
        "start": start,
        "prefix": prefix,
        "old_size": old_size,
        "new_size": new_size,
        # When the mbox shrinks, the bytes past its new end until the truncation:
        # how recover() tells whether the truncation happened.
        "tail": tail,
        "new": new.name,
    }
    _write_marker(work, marker)
    if new_size > old_size:
        try:
            os.posix_fallocate(fd, old_size, new_size - old_size)
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                os.ftruncate(fd, old_size)
                _remove_marker(work)
                raise
            os.ftruncate(fd, new_size)
    _copy_into(fd, start, new)
    if new_size < old_size:
        os.ftruncate(fd, new_size)
    os.fsync(fd)
    _remove_marker(work)


def recover(fd: int, work: Path) -> bool:
    """Complete a :func:`write_back` that a kill interrupted, keeping the mail
    appended to the mbox since; False when there is none to complete.

    Raises:
        Error: the mbox is another file now, or its bytes before the rewritten
            part changed: it is left alone, and the re-wrapped copy stays in
            ``work`` for a person to look at.
        OSError: as :func:`write_back`.
    """
    try:
        marker: dict[str, Any] = json.loads((work / _MARKER).read_bytes())
    except FileNotFoundError:
        return False
    new = work / str(marker["new"])
    held = os.fstat(fd)
    start = int(marker["start"])
    prefix = hashlib.sha256()
    if (held.st_dev, held.st_ino) == (marker["dev"], marker["ino"]) and (
        held.st_size >= start
    ):
        _hash_range(fd, 0, start, prefix)
    if prefix.hexdigest() != marker["prefix"]:
        raise Error(
            "the mbox changed after an interrupted re-wrap rewrote part of it; "
            f"the re-wrapped copy of its end is kept in {new}"
        )
    appended_at = _end_when_interrupted(fd, new, marker)
    if held.st_size < appended_at:
        raise Error(
            f"the mbox is shorter than an interrupted re-wrap left it: see {new}"
        )
    if held.st_size > appended_at:
        # Mail delivered since the interruption: it goes after the new content.
        following = _unused(work, "mbox.new")
        with open(following, "wb") as dst:
            dst.write(new.read_bytes())
            offset = appended_at
            while block := os.pread(fd, _BLOCK, offset):
                dst.write(block)
                offset += len(block)
            dst.flush()
            os.fsync(dst.fileno())
        new = following
    write_back(fd, work, new, start, str(marker["prefix"]))
    return True


def _unused(work: Path, stem: str) -> Path:
    n = 1
    while (work / f"{stem}.{n}").exists():
        n += 1
    return work / f"{stem}.{n}"


def _end_when_interrupted(fd: int, new: Path, marker: dict[str, Any]) -> int:
    """Where the mbox ended when the rewrite was interrupted: mail delivered since
    was appended there."""
    start, old_size, new_size = (
        int(marker["start"]),
        int(marker["old_size"]),
        int(marker["new_size"]),
    )
    size = os.fstat(fd).st_size
    if new_size > old_size:
        # The growth was allocated (zeros) before anything was written, then the
        # new content was copied from the start: the grown part holds a prefix of
        # the new content followed by zeros. Delivered mail holds no zeros.
        if size < new_size:
            return old_size
        grown = _read_range(fd, old_size, new_size - old_size)
        with open(new, "rb") as fh:
            fh.seek(old_size - start)
            expected = fh.read(new_size - old_size)
        same = 0
        while same < len(grown) and grown[same] == expected[same]:
            same += 1
        return old_size if grown[same:].strip(b"\0") else new_size
    if new_size < old_size and size >= old_size:
        # Until the truncation, the bytes past the new end are the old ones.
        tail = hashlib.sha256()
        _hash_range(fd, new_size, old_size, tail)
        if tail.hexdigest() == marker["tail"]:
            return old_size
    return min(old_size, new_size)


def _copy_into(fd: int, offset: int, src: Path) -> None:
    with open(src, "rb") as fh:
        while block := fh.read(_BLOCK):
            view = memoryview(block)
            while view:
                n = os.pwrite(fd, view, offset)
                view, offset = view[n:], offset + n


def pending(work: Path) -> bool:
    """Whether a rewrite recorded in ``work`` is incomplete."""
    return (work / _MARKER).exists()


def _write_marker(work: Path, marker: dict[str, object]) -> None:
    with atomic_writer(work / _MARKER, mode=0o600) as fh:
        fh.write(json.dumps(marker).encode())
    fsync_dir(work)


def _remove_marker(work: Path) -> None:
    (work / _MARKER).unlink(missing_ok=True)
    fsync_dir(work)
