"""Bulk re-keying of stored mail: an mbox file or a Maildir directory.

Mailboxes: mbox as RFC 4155 describes it (a message begins at each line starting
"From ", read as Python's ``mailbox.mbox`` reads it; From-quoting is left as it is,
since re-keying changes only base64 and armor lines), and Maildir as maildir(5)
lays it out (``cur/`` and ``new/``, with ``tmp/`` for files being written).

Every encrypted message (S/MIME, PGP/MIME, bare OpenPGP/CMS attachments, inline PGP;
see ``keys/mailscan.py``) is re-wrapped to its owner's current keys
(``keys/rekey.py``); unencrypted messages are not touched.

Safety, message by message:

* Maildir: the new message is written to the Maildir's ``tmp/``, fsynced, read back
  and verified to open with the current keys alone to the same plaintext, given the
  original's owner, group, mode and mtime, and only then renamed over the original
  (atomic on POSIX). A kill at any point leaves either the old or the new message.
* mbox: each re-keyed message is written to its own file in ``MBOX.e2ee-rewrap/``;
  when all are done they are concatenated in order into a temporary mbox that is
  fsynced and renamed over the original. A kill leaves the original untouched.

A journal (one JSON line per finished message, plus a header naming the mailbox)
makes a run resumable: an interrupted run picks up where it stopped. A re-keyed
message processed twice (killed between rename and journal line) is recognized as
already current, so resuming is idempotent. Runs on one mailbox are serialized with
flock(2); mail delivery and MUAs should be stopped meanwhile. An mbox that changes
under a run makes it stop before the rename (its journal is then discarded on the
next run); the final check-and-rename holds the mbox's dot-lock (``MBOX.lock``), which
delivery agents honour.

Workers are processes (PERF.md: threads lose to the GIL on small messages), each
opening the keyring itself; they receive paths and write files themselves, so no
message body crosses a process boundary.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TextIO

from ..errors import Error, UsageError
from ..keys import audit
from ..keys.ring import Keyring
from . import worker as mailworker
from .journal import Journal, Outcome, Summary, journal_header
from .rekey import Rekeyer

__all__ = ["Outcome", "Summary", "rewrap_mailbox"]

_WORK_SUFFIX = ".e2ee-rewrap"
_MAILDIR_JOURNAL = "e2ee-rewrap.journal"
_MAILDIR_LOCK = "e2ee-rewrap.lock"
_INLINE_BATCH = 16
_DOTLOCK_WAIT_S = 10.0
#: Below this many messages a default run stays in one process: starting a spawned
#: worker (~0.5 s: imports and keyring) costs about what 150 re-wraps do.
_POOL_MIN_MESSAGES = 300


def _maildir_messages(root: Path) -> list[tuple[str, tuple[object, ...]]]:
    tasks: list[tuple[str, tuple[object, ...]]] = []
    for sub in ("new", "cur"):
        for entry in sorted(os.scandir(root / sub), key=lambda e: e.name):
            if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
                continue
            mid = entry.name.split(":", 1)[0]
            tasks.append(("maildir", (entry.path, str(root / "tmp"), mid)))
    return tasks


def mbox_slices(path: Path) -> list[tuple[int, int]]:
    """The (offset, length) of each message of an mbox (a line starting "From "
    begins a message, as Python's ``mailbox.mbox`` reads it)."""
    starts: list[int] = []
    offset = 0
    with open(path, "rb") as fh:
        for line in fh:
            if line.startswith(b"From "):
                starts.append(offset)
            offset += len(line)
    if starts[:1] != [0] and offset:
        raise UsageError(f"{path} is not an mbox file (no leading 'From ' line)")
    return [(s, e - s) for s, e in zip(starts, [*starts[1:], offset], strict=True)]


class _Progress:
    """Counts and rate on a terminal; nothing otherwise."""

    def __init__(self, total: int, done: int, stream: TextIO | None) -> None:
        self._stream = stream if stream is not None and stream.isatty() else None
        self._total, self._done, self._start = total, done, time.monotonic()
        self._counts = {"rewrapped": 0, "skipped": 0, "failed": 0}
        self._last = 0.0

    def update(self, outcome: Outcome) -> None:
        self._done += 1
        self._counts[outcome.status] += 1
        now = time.monotonic()
        if self._stream is None or (
            now - self._last < 0.2 and self._done < self._total
        ):
            return
        self._last = now
        rate = sum(self._counts.values()) / max(now - self._start, 1e-9)
        c = self._counts
        self._stream.write(
            f"\rrewrap: {self._done}/{self._total}  re-wrapped {c['rewrapped']}  "
            f"skipped {c['skipped']}  failed {c['failed']}  {rate:.1f} msg/s"
        )
        if self._done >= self._total:
            self._stream.write("\n")
        self._stream.flush()


@contextlib.contextmanager
def _exclusive(lock_path: Path, owner: os.stat_result | None = None) -> Iterator[None]:
    """Hold flock(2) on ``lock_path`` or refuse at once. With ``owner`` (the
    mailbox's stat), the lock file, which stays in the mailbox, is given the
    mailbox's owner and group: one made by a run as root must not lock its owner out
    of the next run."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if owner is not None and os.fstat(fd).st_uid != owner.st_uid:
            with contextlib.suppress(PermissionError):
                os.fchown(fd, owner.st_uid, owner.st_gid)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"another re-wrap is running on {lock_path}") from None
        yield
    finally:
        os.close(fd)


def rewrap_mailbox(
    path: str | os.PathLike[str],
    keyring: str | os.PathLike[str],
    *,
    passphrase: str | bytes | None = None,
    identity: str | None = None,
    workers: int | None = None,
    progress: TextIO | None = None,
) -> Summary:
    """Re-wrap every encrypted message of an mbox file or Maildir to current keys.

    Args:
        path: an mbox file or a Maildir directory (with cur/, new/, tmp/).
        keyring: the keyring directory (see :class:`e2ee_mail.Keyring`).
        passphrase: the keyring's passphrase, if it has one.
        identity: re-wrap only mail owned by this identity (default: any identity
            of the keyring whose keys open the message).
        workers: processes to use (default: all cores, or this process alone for
            fewer than 300 messages; 1 runs in this process).
        progress: a stream for the progress line, used only if it is a terminal.

    Returns:
        The counts and the failures with their reasons.

    Raises:
        UsageError: not a mailbox, or another run holds the mailbox.
        KeyringError, PassphraseError: the keyring does not open.
    """
    from .._api import _passphrase_bytes

    secret = _passphrase_bytes(passphrase)
    ring = Keyring.open(keyring, passphrase=secret)  # fail early, in this process
    root = Path(path)
    if root.is_dir():
        if not all((root / d).is_dir() for d in ("cur", "new", "tmp")):
            raise UsageError(f"{root} is not a Maildir (needs cur/, new/ and tmp/)")
        lock, journal_path, work = root / _MAILDIR_LOCK, root / _MAILDIR_JOURNAL, None
    elif root.is_file():
        work = root.with_name(root.name + _WORK_SUFFIX)
        work.mkdir(mode=0o700, exist_ok=True)
        lock, journal_path = work / "lock", work / "journal"
    else:
        raise UsageError(f"{root} is neither an mbox file nor a Maildir directory")
    with _exclusive(lock, os.stat(root) if work is None else None):
        started = time.monotonic()
        if work is None:
            # Temp files of a killed run (we hold the lock: no run is active).
            for stale in (root / "tmp").glob(".e2ee-rewrap.*"):
                stale.unlink(missing_ok=True)
            tasks = _maildir_messages(root)
            header = journal_header("maildir", root)
        else:
            header = journal_header("mbox", root)
            slices = mbox_slices(root)
            tasks = [
                ("mbox", (str(root), off, n, str(work / f"{i:08d}.msg"), str(i)))
                for i, (off, n) in enumerate(slices)
            ]
        with Journal(journal_path, header) as journal:
            if work is not None and journal.fresh:
                for stale in work.glob("*.msg*"):
                    stale.unlink()
            todo = [t for t in tasks if str(t[1][-1]) not in journal.done]
            bar = _Progress(len(tasks), len(tasks) - len(todo), progress)
            run = _run_pool if _use_pool(workers, len(todo)) else _run_inline
            for outcome in run(todo, ring, secret, identity, workers):
                journal.record(outcome)
                bar.update(outcome)
                if outcome.status == "rewrapped":
                    audit.record(
                        "mail.rewrap",
                        f"re-wrapped message {outcome.id} for {outcome.identity}",
                        identity=outcome.identity,
                        fingerprints=outcome.fingerprints,
                        mail_id=outcome.id,
                    )
            outcomes = journal.outcomes()
            if work is not None:
                _commit_mbox(root, work, slices, outcomes, journal)
        summary = Summary.of(
            outcomes, len(tasks) - len(todo), time.monotonic() - started
        )
        if work is None:
            journal_path.unlink()
        else:
            shutil.rmtree(work)
    audit.record(
        "mailbox.rewrap",
        f"re-wrapped {os.fspath(root)}: {summary.line()}",
        rewrapped=summary.rewrapped,
        skipped=summary.skipped,
        failed=summary.failed,
    )
    return summary


def _use_pool(workers: int | None, count: int) -> bool:
    """A pool when asked for, or by default when there is enough work to repay
    starting the workers (each imports the library and opens the keyring)."""
    if workers is not None:
        return workers > 1
    return (os.cpu_count() or 1) > 1 and count >= _POOL_MIN_MESSAGES


def _run_inline(
    todo: list[tuple[str, tuple[object, ...]]],
    ring: Keyring,
    secret: bytes | None,
    identity: str | None,
    workers: int | None,
) -> Iterator[Outcome]:
    mailworker.set_rekeyer(Rekeyer(ring, identity))
    try:
        for i in range(0, len(todo), _INLINE_BATCH):
            yield from mailworker.run_batch(todo[i : i + _INLINE_BATCH])
    finally:
        mailworker.set_rekeyer(None)


def _run_pool(
    todo: list[tuple[str, tuple[object, ...]]],
    ring: Keyring,
    secret: bytes | None,
    identity: str | None,
    workers: int | None,
) -> Iterator[Outcome]:
    import multiprocessing

    n = workers or os.cpu_count() or 1
    size = max(1, min(16, len(todo) // (n * 8)))
    batches = [todo[i : i + size] for i in range(0, len(todo), size)]
    # spawn, not fork: the caller may run threads, and workers open the keyring
    # themselves from its path.
    ctx = multiprocessing.get_context("spawn")
    args = (os.fspath(ring.path), secret, identity, os.getpid())
    with ProcessPoolExecutor(
        n, mp_context=ctx, initializer=mailworker.init_worker, initargs=args
    ) as pool:
        futures = [pool.submit(mailworker.run_batch, batch) for batch in batches]
        try:
            for future in as_completed(futures):
                yield from future.result()
        except BrokenProcessPool:
            raise Error(
                "a re-wrap worker process died; finished messages are journaled: "
                "run again to resume"
            ) from None


def _commit_mbox(
    root: Path,
    work: Path,
    slices: list[tuple[int, int]],
    outcomes: dict[str, Outcome],
    journal: Journal,
) -> None:
    """Assemble the new mbox in order and rename it over the original, holding the
    mbox's dot-lock so that mail delivery (which honours it) waits meanwhile."""
    with _dotlock(root):
        if journal.header_changed(root):
            raise Error(f"{root} changed during the re-wrap: run again")
        _assemble(root, work, slices, outcomes)


@contextlib.contextmanager
def _dotlock(mbox: Path) -> Iterator[None]:
    """The traditional ``MBOX.lock`` file (created O_EXCL), taken for a few seconds
    at most; a lock left by a killed re-wrap of ours (dead pid) is broken."""
    lock = mbox.with_name(mbox.name + ".lock")
    marker = f"e2ee-mail rewrap {os.getpid()}\n".encode()
    deadline = time.monotonic() + _DOTLOCK_WAIT_S
    while True:
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            break
        except FileExistsError:
            if _stale_dotlock(lock):
                lock.unlink(missing_ok=True)
                continue
            if time.monotonic() > deadline:
                raise UsageError(
                    f"{mbox} is locked ({lock} exists): retry later"
                ) from None
            time.sleep(0.1)
    try:
        os.write(fd, marker)
        os.close(fd)
        yield
    finally:
        lock.unlink(missing_ok=True)


def _stale_dotlock(lock: Path) -> bool:
    try:
        text = lock.read_bytes()
    except OSError:
        return False
    if not text.startswith(b"e2ee-mail rewrap "):
        return False  # someone else's lock: theirs to remove
    try:
        os.kill(int(text.split()[2]), 0)
    except (ValueError, IndexError, ProcessLookupError):
        return True
    except PermissionError:
        return False
    return False


def _assemble(
    root: Path, work: Path, slices: list[tuple[int, int]], outcomes: dict[str, Outcome]
) -> None:
    tmp = work / "mbox.tmp"
    with open(root, "rb") as src, open(tmp, "wb") as dst:
        os.fchmod(dst.fileno(), os.stat(root).st_mode & 0o7777)
        for i, (offset, length) in enumerate(slices):
            done = outcomes.get(str(i))
            if done is not None and done.status == "rewrapped":
                dst.write((work / f"{i:08d}.msg").read_bytes())
                continue
            src.seek(offset)
            dst.write(src.read(length))
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(tmp, root)
    mailworker.fsync_dir(str(root.parent))
