"""Re-key an archive of stored messages on a Dask cluster.

One message file is one unit of work: :meth:`Rekeyer.rekey` is pure (bytes in,
bytes out), so the archive becomes a Dask bag of file paths and each partition
re-keys its files where the bag's worker runs. Dask schedules, retries a lost
worker's partitions and collects the results; nothing here schedules.

The archive is any fsspec location: a directory tree (``/srv/mail``,
``file:///srv/mail``) or object storage (``s3://bucket/mail`` with ``s3fs``
installed). Each message is replaced only by a copy that was written, read back
and verified (it opens with the current keys alone and gives the same plaintext).
On a local file system that copy is a temp file beside the message, fsynced and
renamed over it; elsewhere it is a temp object moved over the original.

Every partition keeps a journal of its finished messages in ``journal_dir``, a
directory every worker can write (the same path on each machine: local for a
local cluster, a shared file system for several machines). A job that is killed
resumes from the journals: finished messages are not read again. A message
re-keyed but not yet journaled when the job died is found already current and
skipped, so nothing is done twice. When a run finishes, its journals are removed:
the next key rotation starts afresh.

Requires the ``dask`` extra: ``pip install e2ee_mail[dask]``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from ..errors import Error, UsageError
from ..keys.ring import Keyring
from ..model import Passphrase, passphrase_bytes
from . import worker as mailworker
from .journal import Journal, Outcome, Summary
from .rekey import Rekeyer
from .rewrap import exclusive, stopping

if TYPE_CHECKING:
    import fsspec

__all__ = ["rekey_archive"]

#: Files per partition: large enough that a task's overhead (about a millisecond
#: of scheduling) is small beside its work, small enough to spread a few thousand
#: messages over many workers and to lose little of a killed partition.
PARTITION_SIZE: Final = 256
#: Messages re-keyed between two journal writes: each batch costs one fsync of
#: every directory it renamed in, instead of one per message.
_DURABLE_EVERY: Final = 32
_JOURNAL_PREFIX: Final = "part-"
_JOURNAL_SUFFIX: Final = ".journal"
_LOCK: Final = "e2ee-archive.lock"

# One re-keyer per worker thread, made on first use: a worker re-keys many
# partitions with the keyring it loaded once.
_LOCAL = threading.local()


def _import_dask() -> Any:
    try:
        import dask.bag
        import fsspec  # noqa: F401
    except ImportError:
        raise UsageError(
            "re-keying an archive on Dask needs the dask extra: "
            "pip install 'e2ee_mail[dask]'"
        ) from None
    return dask.bag


def rekey_archive(
    archive: str,
    keyring: str | os.PathLike[str],
    journal_dir: str | os.PathLike[str],
    *,
    passphrase: Passphrase = None,
    identity: str | None = None,
    client: Any = None,
    partition_size: int = PARTITION_SIZE,
    storage_options: dict[str, Any] | None = None,
) -> Summary:
    """Re-wrap every encrypted message file under ``archive`` to current keys.

    Every file below ``archive`` is one message (Maildir files, ``.eml`` files,
    objects in a bucket); files that hold no encrypted part are skipped.

    Args:
        archive: an fsspec URL or a local directory.
        keyring: the keyring directory, at the same path on every worker.
        journal_dir: where the per-partition journals live, writable by every
            worker at the same path (created if missing).
        passphrase: the keyring's passphrase. It travels to the workers in the
            task graph: use Dask's TLS between machines.
        identity: re-wrap only mail owned by this identity.
        client: a ``distributed.Client`` to run on (default: Dask's default
            scheduler, a client made current with ``with Client(...)``
            included).
        partition_size: message files per partition.
        storage_options: passed to fsspec (credentials, endpoint).

    Returns:
        The counts and the failures with their reasons, this run's and those of
        the interrupted runs it resumed.

    Raises:
        UsageError: the dask extra is missing, the archive is not a directory,
            or another job holds the journal directory.
        KeyringError, PassphraseError: the keyring does not open.
        Error: the run stopped on a system error of its own (a full disk under
            the journals); finished messages are kept.
    """
    bag = _import_dask()
    import fsspec

    if partition_size < 1:
        raise UsageError("partition_size must be at least 1")
    secret = passphrase_bytes(passphrase)
    ring_path = os.path.abspath(keyring)
    Keyring.open(ring_path, passphrase=secret)  # fail early, here, not per worker
    options = dict(storage_options or {})
    fs, root = fsspec.core.url_to_fs(archive, **options)
    if not fs.isdir(root):
        raise UsageError(f"{archive} is not a directory")
    journals = Path(journal_dir).absolute()
    journals.mkdir(parents=True, exist_ok=True)
    header: dict[str, object] = {
        "journal": "e2ee-mail-archive-journal",
        "version": 1,
        "archive": fs.unstrip_protocol(root),
    }
    with stopping(archive), exclusive(journals / _LOCK):
        started = time.monotonic()
        done = _finished(journals, header)
        names = _message_names(fs, root, journals)
        todo = [n for n in names if n not in done]
        job = os.urandom(16).hex()
        spec = _Spec(
            job, archive, options, ring_path, secret, identity, str(journals), header
        )
        outcomes = dict(done)
        if todo:
            parts = bag.from_sequence(todo, partition_size=partition_size)
            job = parts.map_partitions(_rekey_partition, spec)
            found = client.compute(job).result() if client else job.compute()
            outcomes.update((o.id, o) for o in found)
        summary = Summary.of(outcomes, len(done), time.monotonic() - started)
        for journal in journals.glob(f"{_JOURNAL_PREFIX}*{_JOURNAL_SUFFIX}"):
            journal.unlink()
    summary.audit("archive.rewrap", archive)
    return summary


def _finished(journals: Path, header: dict[str, object]) -> dict[str, Outcome]:
    """The messages finished by interrupted earlier runs, from their journals.

    Failures of a passing cause are not journaled, and other failures are
    tried again too: a resumed job is often started after fixing something.
    """
    done: dict[str, Outcome] = {}
    for path in sorted(journals.glob(f"{_JOURNAL_PREFIX}*{_JOURNAL_SUFFIX}")):
        with Journal(path, header) as journal:
            done.update(
                (mid, o) for mid, o in journal.done.items() if o.status != "failed"
            )
    return done


def _message_names(
    fs: fsspec.AbstractFileSystem, root: str, journals: Path
) -> list[str]:
    """Every message file under ``root``, relative and sorted (a stable order
    makes stable partitions), without our temp files or the journal directory."""
    prefix = root.rstrip("/") + "/"
    skip = os.fspath(journals) + os.sep
    names = []
    for path in fs.find(root):
        name = path[len(prefix) :] if path.startswith(prefix) else path
        base = name.rsplit("/", 1)[-1]
        if base.startswith(mailworker.TEMP_PREFIX) or (path + "/").startswith(skip):
            continue
        names.append(name)
    names.sort()
    return names


def _rekeyer(
    job: str, ring_path: str, secret: bytes | None, identity: str | None
) -> Rekeyer:
    """This thread's re-keyer for ``job``. A long-lived cluster serves later
    jobs too, after later rotations: a re-keyer is never reused across jobs, or
    it would wrap to the keys that were current when it was made."""
    cached: tuple[str, Rekeyer] | None = getattr(_LOCAL, "rekeyer", None)
    if cached is None or cached[0] != job:
        ring = Keyring.open(ring_path, passphrase=secret)
        cached = _LOCAL.rekeyer = (job, Rekeyer(ring, identity))
    return cached[1]


def _partition_journal(journals: str, names: list[str]) -> Path:
    """One journal per partition, named by its messages: a partition that Dask
    runs again (its worker was lost) appends to the same journal."""
    digest = hashlib.sha256("\n".join(names).encode()).hexdigest()[:20]
    return Path(journals) / f"{_JOURNAL_PREFIX}{digest}{_JOURNAL_SUFFIX}"


class _Spec(NamedTuple):
    """What every partition task needs (pickled into the task graph)."""

    job: str
    archive: str
    storage_options: dict[str, Any]
    ring_path: str
    secret: bytes | None
    identity: str | None
    journals: str
    header: dict[str, object]


def _rekey_partition(names: Iterable[str], spec: _Spec) -> list[Outcome]:
    """Re-key one partition's message files (runs on a Dask worker)."""
    import fsspec

    names = list(names)
    fs, root = fsspec.core.url_to_fs(spec.archive, **spec.storage_options)
    rekeyer = _rekeyer(spec.job, spec.ring_path, spec.secret, spec.identity)
    local = "file" in _protocols(fs)
    prefix = root.rstrip("/")
    results: list[Outcome] = []
    journal_path = _partition_journal(spec.journals, names)
    with Journal(journal_path, spec.header) as journal:
        todo = [n for n in names if n not in journal.done]
        results += (journal.done[n] for n in names if n in journal.done)
        for start in range(0, len(todo), _DURABLE_EVERY):
            batch: list[Outcome] = []
            try:
                for name in todo[start : start + _DURABLE_EVERY]:
                    path = f"{prefix}/{name}"
                    if local:
                        folder = os.path.dirname(path)
                        done = mailworker.maildir_task(path, folder, name, rekeyer)
                    else:
                        done = _rekey_object(fs, path, name, rekeyer)
                    batch.append(done)
            finally:
                # Even when the task is being stopped: what is finished is kept.
                # The renames are durable before the journal says they are done.
                mailworker.sync_renames()
                for outcome in batch:
                    journal.record(outcome)
            results += batch
    return results


def _protocols(fs: fsspec.AbstractFileSystem) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def _rekey_object(
    fs: fsspec.AbstractFileSystem, path: str, name: str, rekeyer: Rekeyer
) -> Outcome:
    """Re-key one object of a non-local store: the new bytes go to a temp
    object, are read back and verified, then moved over the original."""
    folder, base = path.rsplit("/", 1)
    tmp = f"{folder}/{mailworker.TEMP_PREFIX}{base}"
    try:
        result = rekeyer.rekey(fs.cat_file(path))
        if result.data is None:
            return Outcome(name, "skipped", result.reason, result.identity)
        with _removing(fs, tmp):
            fs.pipe_file(tmp, bytes(result.data))
            rekeyer.verify(fs.cat_file(tmp), result.checks)
            fs.mv(tmp, path)
        return Outcome(name, "rewrapped", "", result.identity, result.fingerprints)
    except (Error, OSError) as exc:
        return mailworker.failed(name, exc)
    except Exception as exc:
        return mailworker.internal_failure(name, exc)


@contextlib.contextmanager
def _removing(fs: fsspec.AbstractFileSystem, tmp: str) -> Iterator[None]:
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError, OSError):
            if fs.exists(tmp):
                fs.rm(tmp)
