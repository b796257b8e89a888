"""Bulk re-keying of stored mail: an mbox file or a Maildir directory.

Mailboxes: mbox as RFC 4155 describes it (a message begins at each line starting
"From ", read as Python's ``mailbox.mbox`` reads it; From-quoting is left as it is,
since re-keying changes only base64 and armor lines), and Maildir as maildir(5)
lays it out (``cur/`` and ``new/``, with ``tmp/`` for files being written).

Every encrypted message (S/MIME, PGP/MIME, bare OpenPGP/CMS attachments, inline PGP;
see ``mime/scan.py``) is re-wrapped to its owner's current keys
(``mailbox/rekey.py``); unencrypted messages are not touched.

Safety, message by message:

* Maildir: the new message is written to the Maildir's ``tmp/``, fsynced, read back
  and verified to open with the current keys alone to the same plaintext, given the
  original's owner, group, mode and mtime, and only then renamed over the original
  (atomic on POSIX). A kill at any point leaves either the old or the new message.
* mbox: each re-keyed message is written to its own file in ``MBOX.e2ee-rewrap/``;
  when all are done, the mbox is rewritten in place from its first re-keyed message
  on (``mailbox/mbox.py``: in place, so that it keeps its owner, group and mode and a
  delivery agent waiting for the lock appends to the right file). Until then the
  original is untouched; a kill during the rewrite is completed by the next run.

A journal (one JSON line per finished message, plus a header naming the mailbox)
makes a run resumable: an interrupted run picks up where it stopped. A re-keyed
message processed twice (killed between rename and journal line) is recognized as
already current, so resuming is idempotent. Runs on one mailbox are serialized with
flock(2). An mbox is scanned and rewritten holding every lock delivery agents use
(dot-lock, fcntl, flock); mail appended between the scan and the rewrite is scanned
and re-keyed too, and any other change stops the run before the rewrite (its journal
is then discarded on the next run). A Maildir needs no lock: deliveries land under
new names, and MUAs renaming a message meanwhile make that message fail.

Workers are processes (threads lose to the GIL on small messages), each
opening the keyring itself; they receive paths and write files themselves, so no
message body crosses a process boundary. The calling process is one of them: it
re-keys batches while the others start and whenever none of theirs is done.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TextIO

from ..errors import Error, UsageError
from ..keys import audit
from ..keys.ring import Keyring
from ..policy import DEFAULT, Policy
from . import mbox as mboxfile
from . import worker as mailworker
from .journal import Journal, Outcome, Summary, journal_header
from .rekey import Rekeyer

__all__ = ["Outcome", "Summary", "exclusive", "rewrap_mailbox", "stopping"]

_WORK_SUFFIX = ".e2ee-rewrap"
_MAILDIR_JOURNAL = "e2ee-rewrap.journal"
_MAILDIR_LOCK = "e2ee-rewrap.lock"
_INLINE_BATCH = 16
_OUT_OF_SPACE = frozenset((errno.ENOSPC, errno.EDQUOT))
#: How many times mail appended during a run is re-keyed before the rewrite.
_APPEND_ROUNDS = 8
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


def mbox_slices(path: str | os.PathLike[str]) -> list[tuple[int, int]]:
    """The (offset, length) of each message of an mbox (a line starting "From "
    begins a message, as Python's ``mailbox.mbox`` reads it)."""
    return mboxfile.slices_of(path)


def _mbox_tasks(
    root: Path, work: Path, slices: list[tuple[int, int]], first: int
) -> list[tuple[str, tuple[object, ...]]]:
    return [
        ("mbox", (str(root), off, n, str(work / f"{i:08d}.msg"), str(i)))
        for i, (off, n) in enumerate(slices, first)
    ]


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
def exclusive(lock_path: Path, owner: os.stat_result | None = None) -> Iterator[None]:
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
    policy: Policy = DEFAULT,
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
        policy: what the new recipient entries may be. With
            ``require_post_quantum`` every identity re-wrapped to must have only
            post-quantum active keys, checked before any message is touched.

    Returns:
        The counts and the failures with their reasons.

    Raises:
        UsageError: not a mailbox, another run holds the mailbox, or a program
            holds the mbox's lock for too long.
        KeyringError, PassphraseError: the keyring does not open.
        PolicyError: ``policy`` refuses an identity's active certificates.
        Error: the mbox changed during the run other than by new mail, or the run
            stopped on a system error (a full disk): finished messages are kept,
            and messages that failed for such a cause are tried again by the next
            run.
    """
    from ..model import passphrase_bytes

    secret = passphrase_bytes(passphrase)
    ring = Keyring.open(keyring, passphrase=secret)  # fail early, in this process
    _check_recipients(ring, identity, policy)
    root = Path(path)
    if root.is_dir():
        if not all((root / d).is_dir() for d in ("cur", "new", "tmp")):
            raise UsageError(f"{root} is not a Maildir (needs cur/, new/ and tmp/)")
        lock, journal_path, work = root / _MAILDIR_LOCK, root / _MAILDIR_JOURNAL, None
    elif root.is_file():
        work = root.with_name(root.name + _WORK_SUFFIX)
        try:
            work.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create {work}: {exc.strerror}") from None
        lock, journal_path = work / "lock", work / "journal"
    else:
        raise UsageError(f"{root} is neither an mbox file nor a Maildir directory")
    with stopping(root), exclusive(lock, os.stat(root) if work is None else None):
        started = time.monotonic()
        if work is None:
            # Temp files of a killed run (we hold the lock: no run is active).
            for stale in (root / "tmp").glob(mailworker.TEMP_PREFIX + "*"):
                stale.unlink(missing_ok=True)
            tasks = _maildir_messages(root)
            header = journal_header("maildir", root)
        else:
            with mboxfile.locked(root) as fd:
                # A rewrite that a kill interrupted is completed first.
                mboxfile.recover(fd, work)
                seen = mboxfile.scan(fd, name=str(root))
                header = journal_header("mbox", root)
            tasks = _mbox_tasks(root, work, seen.slices, 0)
        with Journal(journal_path, header) as journal:
            if work is not None and journal.fresh:
                for stale in [*work.glob("*.msg*"), *work.glob("mbox.new*")]:
                    stale.unlink()
            todo = [t for t in tasks if str(t[1][-1]) not in journal.done]
            bar = _Progress(len(tasks), len(tasks) - len(todo), progress)

            def record(outcome: Outcome) -> None:
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
                if outcome.os_error in _OUT_OF_SPACE:
                    # Every message after this one would fail the same way.
                    raise OSError(outcome.os_error, os.strerror(outcome.os_error))

            run = _run_pool if _use_pool(workers, len(todo)) else _run_inline
            for outcome in run(todo, ring, secret, identity, workers, policy):
                record(outcome)
            if work is not None:
                _commit_mbox(root, work, seen, journal, record, ring, identity, policy)
            outcomes = journal.outcomes()
        summary = Summary.of(
            outcomes, len(tasks) - len(todo), time.monotonic() - started
        )
        if work is None:
            journal_path.unlink()
        else:
            shutil.rmtree(work)
    summary.audit("mailbox.rewrap", os.fspath(root))
    return summary


def _check_recipients(ring: Keyring, identity: str | None, policy: Policy) -> None:
    """Refuse, before any message is read, the active certificates ``policy``
    would refuse to re-wrap to (each message would fail the same way)."""
    if not policy.require_post_quantum:
        return
    from .. import _api

    for ident in (identity,) if identity else ring.identities():
        for fmt in ("openpgp", "x509"):
            certs = ring.recipients(ident, format=fmt)
            if certs:
                # A probe through the encryption path: the same refusal, text
                # and all, as the re-wrap of each message would raise.
                _api.encrypt(b"", certs, policy=policy)


@contextlib.contextmanager
def stopping(root: str | os.PathLike[str]) -> Iterator[None]:
    """Turn a failed system call of the run itself (a full disk under the journal
    or the rewrite) into an :class:`Error`; what is finished stays journaled."""
    try:
        yield
    except OSError as exc:
        raise Error(
            f"the re-wrap of {root} stopped: {exc.strerror or exc}; finished "
            "messages are kept: run it again once the cause is fixed"
        ) from None


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
    policy: Policy,
) -> Iterator[Outcome]:
    mailworker.set_rekeyer(Rekeyer(ring, identity, policy))
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
    policy: Policy,
) -> Iterator[Outcome]:
    import multiprocessing

    n = workers or os.cpu_count() or 1
    size = max(1, min(16, len(todo) // (n * 8)))
    batches = [todo[i : i + size] for i in range(0, len(todo), size)]
    # spawn, not fork: the caller may run threads, and workers open the keyring
    # themselves from its path.
    ctx = multiprocessing.get_context("spawn")
    args = (os.fspath(ring.path), secret, identity, os.getpid(), policy)
    queue = iter(batches)
    # This process is one of the n workers: it re-keys batches itself whenever
    # none of the others' has finished, above all while they start (each takes
    # about half a second to import the library and open the keyring, as long
    # as a few hundred re-wraps).
    mailworker.set_rekeyer(Rekeyer(ring, identity, policy))
    try:
        with ProcessPoolExecutor(
            n - 1, mp_context=ctx, initializer=mailworker.init_worker, initargs=args
        ) as pool:
            # At most two batches per worker are submitted ahead (one running, one
            # waiting): when the parent stops (a full disk on the journal, a kill),
            # only those finish; the rest of the mailbox is never started.
            running: set[Future[list[Outcome]]] = set()
            try:
                while True:
                    while len(running) < 2 * (n - 1) and (batch := next(queue, None)):
                        running.add(pool.submit(mailworker.run_batch, batch))
                    done = {future for future in running if future.done()}
                    if not done:
                        if (batch := next(queue, None)) is not None:
                            yield from mailworker.run_batch(batch)
                            continue
                        if not running:
                            break
                        done, _ = wait(running, return_when=FIRST_COMPLETED)
                    running -= done
                    for future in done:
                        yield from future.result()
            except BrokenProcessPool:
                raise Error(
                    "a re-wrap worker process died; finished messages are "
                    "journaled: run again to resume"
                ) from None
            finally:
                for future in running:
                    future.cancel()
    finally:
        mailworker.set_rekeyer(None)


def _commit_mbox(
    root: Path,
    work: Path,
    seen: mboxfile.Scan,
    journal: Journal,
    record: Callable[[Outcome], None],
    ring: Keyring,
    identity: str | None,
    policy: Policy,
) -> None:
    """Rewrite the mbox with the re-keyed messages, holding every mbox lock.

    Mail appended since the scan is scanned, re-keyed (with the locks released:
    this process must not open the mbox meanwhile, see ``mailbox/mbox.py``) and
    checked again, a bounded number of times.
    """
    for _ in range(_APPEND_ROUNDS):
        with mboxfile.locked(root) as fd:
            size = os.fstat(fd).st_size
            try:
                if size == seen.size:
                    _write_mbox(fd, root, work, seen, journal.outcomes())
                    return
                if size < seen.size:
                    raise mboxfile.MboxChanged("the mbox shrank")
                count = len(seen.slices)
                seen = mboxfile.scan(fd, seen)
            except mboxfile.MboxChanged:
                raise Error(f"{root} changed during the re-wrap: run again") from None
            journal.rebase(journal_header("mbox", root))
        appended = _mbox_tasks(root, work, seen.slices[count:], count)
        for outcome in _run_inline(appended, ring, None, identity, None, policy):
            record(outcome)
    raise Error(f"{root} keeps receiving mail during the re-wrap: run again")


def _write_mbox(
    fd: int, root: Path, work: Path, seen: mboxfile.Scan, outcomes: dict[str, Outcome]
) -> None:
    replaced = {
        i: work / f"{i:08d}.msg"
        for i in range(len(seen.slices))
        if (done := outcomes.get(str(i))) is not None and done.status == "rewrapped"
    }
    new = work / "mbox.new"
    placed = mboxfile.assemble(fd, seen, replaced, new)
    if placed is None:
        return
    start, prefix = placed
    try:
        mboxfile.write_back(fd, work, new, start, prefix)
    except OSError as exc:
        if mboxfile.pending(work):
            raise Error(
                f"rewriting {root} failed half-way ({exc.strerror}): run the "
                "re-wrap again to complete it"
            ) from None
        new.unlink(missing_ok=True)
        raise
