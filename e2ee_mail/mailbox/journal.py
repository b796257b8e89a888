"""The re-wrap journal and its result types.

The journal is a text file: a JSON header line naming the mailbox, then one JSON line
per finished message, ``[status, id, reason, identity, [fingerprints]]``. A failure
with a passing cause (a full disk, an I/O error: :data:`RETRIED`) is not journaled,
so that a resumed run tries that message again. It is
appended and flushed after every message (a killed process loses nothing the kernel
has) and fsynced every :data:`FSYNC_EVERY` lines and at the end (a lost tail after a
power cut only means re-doing messages, which is idempotent). A half-written last
line is cut off on open. A header that no longer matches the mailbox (an mbox that
was modified, replaced or already committed) starts the journal afresh.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Final, Literal

from .._io import atomic_writer
from ..keys import audit

__all__ = [
    "FSYNC_EVERY",
    "RETRIED",
    "Journal",
    "Outcome",
    "Summary",
    "journal_header",
]

FSYNC_EVERY: Final = 64
MAGIC: Final = "e2ee-mail-rewrap-journal"
Status = Literal["rewrapped", "skipped", "failed"]
_STATUSES: Final = ("rewrapped", "skipped", "failed")


#: The OS errors of a failure worth trying again: out of space (ENOSPC, EDQUOT),
#: an I/O error (EIO), memory (ENOMEM), or a resource busy for now (EAGAIN).
RETRIED: Final = frozenset(
    (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.ENOMEM, errno.EAGAIN)
)


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one message (public facts only).

    ``os_error`` is the errno of a failure the system reported (0 otherwise).
    """

    id: str
    status: Status
    reason: str = ""
    identity: str | None = None
    fingerprints: tuple[str, ...] = ()
    os_error: int = 0

    @property
    def retried(self) -> bool:
        """Whether a resumed run tries this message again (see :data:`RETRIED`)."""
        return self.status == "failed" and self.os_error in RETRIED


@dataclasses.dataclass(frozen=True, slots=True)
class Summary:
    """The result of a mailbox re-wrap.

    Attributes:
        rewrapped, skipped, failed: message counts (including a resumed run's).
        failures: (message id, reason) for every failed message.
        resumed: messages already done by an interrupted earlier run.
        seconds: the wall time of this run.
    """

    rewrapped: int
    skipped: int
    failed: int
    failures: tuple[tuple[str, str], ...]
    resumed: int
    seconds: float

    @classmethod
    def of(cls, outcomes: dict[str, Outcome], resumed: int, seconds: float) -> Summary:
        count = {s: 0 for s in _STATUSES}
        for o in outcomes.values():
            count[o.status] += 1
        failures = tuple(
            sorted((o.id, o.reason) for o in outcomes.values() if o.status == "failed")
        )
        return cls(
            count["rewrapped"],
            count["skipped"],
            count["failed"],
            failures,
            resumed,
            seconds,
        )

    @property
    def total(self) -> int:
        """Every message of the mailbox."""
        return self.rewrapped + self.skipped + self.failed

    @property
    def rate(self) -> float:
        """Messages per second processed by this run."""
        return (self.total - self.resumed) / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        """One line of counts."""
        return (
            f"re-wrapped {self.rewrapped}, skipped {self.skipped}, failed {self.failed}"
        )

    def audit(self, event: str, where: str) -> None:
        """Log the run's counts as the audit event ``event`` about ``where``."""
        audit.record(
            event,
            f"re-wrapped {where}: {self.line()}",
            rewrapped=self.rewrapped,
            skipped=self.skipped,
            failed=self.failed,
        )

    def __str__(self) -> str:
        lines = [self.line()]
        if self.resumed:
            lines.append(f"resumed after {self.resumed} already done")
        lines += [f"failed {mid}: {reason}" for mid, reason in self.failures]
        return "\n".join(lines)


def journal_header(kind: str, root: Path) -> dict[str, object]:
    """The header naming a mailbox; an mbox is also pinned by inode, size, mtime."""
    header: dict[str, object] = {
        "journal": MAGIC,
        "version": 1,
        "kind": kind,
        "path": os.path.abspath(root),
    }
    if kind == "mbox":
        st = os.stat(root)
        header.update(ino=st.st_ino, size=st.st_size, mtime_ns=st.st_mtime_ns)
    return header


def _parse(line: bytes) -> Outcome | None:
    try:
        status, mid, reason, ident, fprs = json.loads(line)
    except (ValueError, TypeError):
        return None
    if (
        status not in _STATUSES
        or not isinstance(mid, str)
        or not isinstance(reason, str)
        or not (ident is None or isinstance(ident, str))
        or not isinstance(fprs, list)
        or not all(isinstance(f, str) for f in fprs)
    ):
        return None  # damaged: the line and everything after it are redone
    return Outcome(mid, status, reason, ident, tuple(fprs))


class Journal:
    """An append-only record of finished messages. Use as a context manager."""

    def __init__(self, path: Path, header: dict[str, object]) -> None:
        self._path = path
        self._header = header
        self.done: dict[str, Outcome] = {}
        self.fresh = True
        self._count = 0
        self._fh: BinaryIO | None = None

    def __enter__(self) -> Journal:
        good = 0
        if self._path.exists():
            data = self._path.read_bytes()
            lines = data.split(b"\n")
            try:
                same = json.loads(lines[0]) == self._header
            except ValueError:
                same = False
            if same:
                good = len(lines[0]) + 1
                # The last element is b"" for a complete file or a half-written line.
                for line in lines[1:-1]:
                    outcome = _parse(line)
                    if outcome is None:
                        break
                    self.done[outcome.id] = outcome
                    good += len(line) + 1
                self.fresh = not self.done
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        fh = self._fh = os.fdopen(fd, "r+b")
        fh.truncate(good)
        fh.seek(good)
        if not good:
            fh.write(json.dumps(self._header).encode() + b"\n")
            fh.flush()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._fh is not None
        with self._fh:
            self._fh.flush()
            os.fsync(self._fh.fileno())
        self._fh = None

    def record(self, outcome: Outcome) -> None:
        """Append one finished message."""
        assert self._fh is not None
        self.done[outcome.id] = outcome
        if outcome.retried:
            return  # kept for this run's summary only
        self._fh.write(_line(outcome))
        self._fh.flush()
        self._count += 1
        if self._count % FSYNC_EVERY == 0:
            os.fsync(self._fh.fileno())

    def outcomes(self) -> dict[str, Outcome]:
        """Every finished message, this run's and earlier ones'."""
        return dict(self.done)

    def rebase(self, header: dict[str, object]) -> None:
        """Pin the journal to a new header (mail was appended to the mbox): the
        journal is rewritten, atomically, with every outcome so far."""
        assert self._fh is not None
        with atomic_writer(self._path, mode=0o600) as fh:
            fh.write(json.dumps(header).encode() + b"\n")
            fh.writelines(_line(o) for o in self.done.values() if not o.retried)
        self._fh.close()
        self._header = header
        self._fh = open(self._path, "ab")  # noqa: SIM115


def _line(outcome: Outcome) -> bytes:
    row = [
        outcome.status,
        outcome.id,
        " ".join(outcome.reason.split()),
        outcome.identity,
        list(outcome.fingerprints),
    ]
    return json.dumps(row).encode() + b"\n"
