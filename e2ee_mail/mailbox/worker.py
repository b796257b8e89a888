"""The worker side of a mailbox re-wrap: one process re-keys the messages it is
given by path and writes the results itself: pickling message bodies to a pool
measured slower than doing the work serially.

Each task returns an :class:`~e2ee_mail.mailbox.journal.Outcome`; a failure is an
outcome with its reason, never an exception, so one bad message cannot stop a run.
Renames are made durable (directory fsync) at the end of each batch, before the
parent journals the batch's outcomes.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
import time
from collections.abc import Sequence
from typing import Final

from .._io import fsync_dir
from ..errors import Error
from ..keys.ring import Keyring
from ..policy import DEFAULT, Policy
from .journal import Outcome
from .rekey import Rekeyed, Rekeyer

__all__ = [
    "TEMP_PREFIX",
    "failed",
    "fsync_dir",
    "init_worker",
    "internal_failure",
    "keep_owner_and_mode",
    "maildir_task",
    "mbox_task",
    "run_batch",
    "set_rekeyer",
    "sync_renames",
]

# One per worker process, set by init_worker (or in-process for workers=1).
_REKEYER: Rekeyer | None = None
#: The name prefix of a message's temp file while it is re-keyed.
TEMP_PREFIX: Final = ".e2ee-rewrap."
# Directories with renames not yet fsynced (see sync_renames).
_DIRTY_DIRS: set[str] = set()


def init_worker(
    ring_path: str,
    passphrase: bytes | None,
    identity: str | None,
    parent: int,
    policy: Policy = DEFAULT,
) -> None:
    global _REKEYER
    ring = Keyring.open(ring_path, passphrase=passphrase)
    _REKEYER = Rekeyer(ring, identity, policy)
    if parent:

        def watch() -> None:
            # A killed parent must not leave workers behind (they would idle forever
            # on the pool's queue).
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()


def _flat(name: str) -> str:
    return name.replace("/", "_")


def internal_failure(mid: str, exc: Exception) -> Outcome:
    # A bug below us (a parser raising something other than Error) must not stop a
    # bulk run: the message stays as it was and is reported. Only the exception's
    # type is shown; its text might quote message bytes.
    return Outcome(
        mid, "failed", f"internal error ({type(exc).__name__}): please report"
    )


def failed(mid: str, exc: Error | OSError) -> Outcome:
    # The errno tells a passing cause (a full disk) from the message's own fault.
    os_error = (exc.errno or 0) if isinstance(exc, OSError) else 0
    return Outcome(mid, "failed", _one_line(exc), os_error=os_error)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def keep_owner_and_mode(fd: int, like: os.stat_result) -> None:
    """Give the file open on ``fd`` the owner, group and permission bits of
    ``like``, the file it is to replace.

    A re-wrap run by root or a mail administrator must not take the owner's mail
    from them (nor from the delivery agent, which writes as the owner). When the
    owner cannot be kept (a user who is not in the file's group), the message is
    not replaced.

    Raises:
        Error: the owner or group cannot be kept.
    """
    st = os.fstat(fd)
    if (st.st_uid, st.st_gid) != (like.st_uid, like.st_gid):
        try:
            os.fchown(fd, like.st_uid, like.st_gid)
        except PermissionError:
            raise Error(
                f"cannot keep the message's owner and group ({like.st_uid}:"
                f"{like.st_gid}): run the re-wrap as its owner or as root"
            ) from None
    # After the chown, which clears the set-user-ID and set-group-ID bits.
    os.fchmod(fd, stat.S_IMODE(like.st_mode))


def _write_verified(
    path: str,
    prefix: bytes,
    result: Rekeyed,
    like: os.stat_result | None,
    rekeyer: Rekeyer,
) -> None:
    """Write ``prefix`` and the re-keyed message to ``path`` (a fresh temp name,
    created 0600, or given the owner and mode of ``like``, the file it is to
    replace), fsync, read it back and verify it."""
    assert result.data is not None
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        if like is not None:
            keep_owner_and_mode(fh.fileno(), like)
        fh.write(prefix)
        fh.write(result.data)
        fh.flush()
        os.fsync(fh.fileno())
    with open(path, "rb") as fh:
        written = fh.read()
    if written[: len(prefix)] != prefix:
        raise Error("verification failed: the re-keyed message was not written")
    rekeyer.verify(written[len(prefix) :], result.checks)


def maildir_task(
    path: str, tmpdir: str, mid: str, rekeyer: Rekeyer | None = None
) -> Outcome:
    """Re-key the message file ``path`` in place (through a temp file in
    ``tmpdir``, on the same file system), with ``rekeyer`` or this process's."""
    rekeyer = rekeyer or _REKEYER
    assert rekeyer is not None
    # The thread id too: several threads of one process may share a directory;
    # an archive's message ids are relative paths.
    tmp = os.path.join(
        tmpdir,
        f"{TEMP_PREFIX}{os.getpid()}.{threading.get_ident()}.{_flat(mid)}",
    )
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        result = rekeyer.rekey(data)
        if result.data is None:
            return Outcome(mid, "skipped", result.reason, result.identity)
        st = os.stat(path)
        replaced = False
        try:
            _write_verified(tmp, b"", result, st, rekeyer)
            os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
            if not os.path.exists(path):
                raise Error("the message was moved or deleted during the re-wrap")
            os.replace(tmp, path)
            replaced = True
        finally:
            if not replaced:  # once renamed, the name is gone: no failing unlink
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        _DIRTY_DIRS.add(os.path.dirname(path))
        return Outcome(mid, "rewrapped", "", result.identity, result.fingerprints)
    except (Error, OSError) as exc:
        return failed(mid, exc)
    except Exception as exc:
        return internal_failure(mid, exc)


def mbox_task(mbox: str, offset: int, length: int, out: str, mid: str) -> Outcome:
    assert _REKEYER is not None
    try:
        with open(mbox, "rb") as fh:
            fh.seek(offset)
            chunk = fh.read(length)
        nl = chunk.find(b"\n") + 1
        result = _REKEYER.rekey(chunk[nl:])
        if result.data is None:
            return Outcome(mid, "skipped", result.reason, result.identity)
        tmp = out + ".tmp"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        replaced = False
        try:
            _write_verified(tmp, chunk[:nl], result, None, _REKEYER)
            os.replace(tmp, out)
            replaced = True
        finally:
            if not replaced:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        return Outcome(mid, "rewrapped", "", result.identity, result.fingerprints)
    except (Error, OSError) as exc:
        return failed(mid, exc)
    except Exception as exc:
        return internal_failure(mid, exc)


def run_batch(tasks: Sequence[tuple[str, tuple[object, ...]]]) -> list[Outcome]:
    funcs = {"maildir": maildir_task, "mbox": mbox_task}
    try:
        return [funcs[name](*args) for name, args in tasks]  # type: ignore[operator]
    finally:
        sync_renames()


def sync_renames() -> None:
    """Make the renames done so far durable (one fsync per directory): called
    before the outcomes are journaled, so that a journaled message is on disk."""
    while _DIRTY_DIRS:
        with contextlib.suppress(KeyError):
            fsync_dir(_DIRTY_DIRS.pop())


def set_rekeyer(rekeyer: Rekeyer | None) -> None:
    """Install the re-keyer for in-process runs (``workers=1``)."""
    global _REKEYER
    _REKEYER = rekeyer
