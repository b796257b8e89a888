"""``e2ee_mail.rewrap``: re-keying must be O(1) in the body size (only the recipient
entries change; the sealed body is copied). And the bulk re-key of a mailbox
(``rewrap --mailbox``) against the bare loop doing the same reads, unwrap, wrap and
fsync'd atomic writes.

Case ids ``{fmt}.rewrap.{size}`` (one X25519 recipient in, another out); report.py
compares 16 MiB with 1 KiB, and with a decrypt of the same message.
``{fmt}.mailbox.{disk|tmpfs}.w{workers}``: a Maildir of 300 S/MIME or PGP/MIME mails
re-keyed with 1 and 2 worker processes, the limit (``_limits.rekey_loop``, split
over as many processes) timed between its rounds; report.py prints messages/s,
per core, and the ratio to the limit.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import _limits
import pytest
from _bench import (
    KIB,
    MIB,
    Keys,
    Measure,
    call_or_skip,
    cases,
    payload,
    require_format,
    size_id,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

import e2ee_mail
from e2ee_mail.model import KeyFormat

FORMATS = {"openpgp": "openpgp", "cms": "x509"}


@pytest.mark.parametrize(
    ("fmt", "n"), cases(*((f,) for f in FORMATS), only=(KIB, MIB, 16 * MIB))
)
def test_rewrap(measure: Measure, keys: Keys, fmt: str, n: int) -> None:
    require_format(fmt)
    old = call_or_skip(fmt, lambda: keys.secret(FORMATS[fmt], "x25519", 0))
    new = call_or_skip(fmt, lambda: keys.secret(FORMATS[fmt], "x25519", 1))
    data = payload(n)
    sealed = bytes(
        call_or_skip(
            fmt,
            lambda: e2ee_mail.encrypt(data, [old.public], format=fmt),  # type: ignore[arg-type]
        )
    )
    call_or_skip(fmt, lambda: e2ee_mail.rewrap(sealed, old, [new.public]))
    out = measure(
        lambda: e2ee_mail.rewrap(sealed, old, [new.public]),
        case=f"{fmt}.rewrap.{size_id(n)}",
        group=f"rewrap {fmt}",
        nbytes=n,
        format=fmt,
        size=n,
    )
    assert e2ee_mail.decrypt(out, new) == data
    # The sealed body travels byte for byte: the tail of both messages is the same.
    tail = min(n, 4096)
    assert out[-tail:] == sealed[-tail:]


# --- mailbox re-key: messages/s against the bare loop ---------------------------------

#: Messages in the benchmark's Maildir (the size of the mailbox the target names).
MAILBOX_COUNT = 300
#: Plaintext of each stored mail: a short MIME entity (a few KiB, as most mail is).
MAILBOX_BODY = 4000
ALICE = "alice@example.org"


def _mail(fmt: str, n: int, cert: Any) -> bytes:
    """Mail ``n`` of the benchmark's Maildir, encrypted to ``cert``."""
    body = (
        b"Content-Type: text/plain\r\n\r\nmessage %d\r\n" % n
        + os.urandom(MAILBOX_BODY // 2).hex().encode()
    )
    head = (
        b"From: Bob <bob@example.org>\r\nTo: Alice <alice@example.org>\r\n"
        b"Message-ID: <%d@example.org>\r\nSubject: hello %d\r\n"
        b"MIME-Version: 1.0\r\n" % (n, n)
    )
    if fmt == "pgpmime":
        armored = bytes(e2ee_mail.encrypt(body, cert, armor=True))
        return (
            head + b"Content-Type: multipart/encrypted; "
            b'protocol="application/pgp-encrypted"; boundary="p%d"\r\n\r\n'
            % n
            + b"--p%d\r\nContent-Type: application/pgp-encrypted\r\n\r\n" % n
            + b"Version: 1\r\n\r\n--p%d\r\n" % n
            + b"Content-Type: application/octet-stream; name=encrypted.asc\r\n\r\n"
            + armored.replace(b"\n", b"\r\n")
            + b"\r\n--p%d--\r\n" % n
        )
    blob = bytes(e2ee_mail.encrypt(body, cert, format="cms"))
    return (
        head + b"Content-Type: application/pkcs7-mime; smime-type=authEnveloped-data;"
        b' name="smime.p7m"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + _limits.b64_crlf76(blob)
    )


class _Mailboxes:
    """Pristine Maildirs (S/MIME and PGP/MIME, encrypted to Alice's first keys),
    the keyring that has since rotated to second keys, and the limit's Maildir of
    mails of the same sizes; each round re-keys a fresh copy."""

    def __init__(self, base: Path) -> None:
        import datetime as dt

        from e2ee_mail.keys.ring import Keyring

        self.base = base
        self.ring = base / "ring"
        ring = Keyring.open(self.ring)
        t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        key_formats: tuple[KeyFormat, ...] = ("x509", "openpgp")
        for key_format in key_formats:
            ring.rotate(ALICE, format=key_format, kind="x25519", now=t0)
        first = {v.format: v.certificate for v in ring.history(ALICE)}
        self.sizes: dict[str, int] = {}
        for fmt in ("pgpmime", "smime"):
            cert = first["openpgp" if fmt == "pgpmime" else "x509"]
            mails = [_mail(fmt, n, cert) for n in range(MAILBOX_COUNT)]
            _write_maildir(base / f"pristine-{fmt}", mails)
            self.sizes[fmt] = sum(len(m) for m in mails)
        for key_format in key_formats:
            ring.rotate(
                ALICE, format=key_format, kind="x25519", now=t0 + dt.timedelta(1)
            )
        # The limit's keys and mails: one X25519 entry, the S/MIME mail's size.
        old = X25519PrivateKey.generate()
        self.limit_secret = old.private_bytes_raw()
        self.limit_public = _limits.raw_public(old.public_key())
        self.limit_new = _limits.raw_public(X25519PrivateKey.generate().public_key())
        body = (self.sizes["smime"] // MAILBOX_COUNT - len(_limits.REKEY_HEAD)) * 3 // 4
        mails = [
            _limits.rekey_mail(self.limit_public, body - _limits.REKEY_ENTRY)
            for _ in range(MAILBOX_COUNT)
        ]
        _write_maildir(base / "pristine-limit", mails)

    def fresh(self, name: str) -> Path:
        """A fresh copy of Maildir ``name``, its writes flushed to the disk first
        (so that the first fsync of the round does not pay for the copy)."""
        work = self.base / f"work-{name}"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(self.base / f"pristine-{name}", work)
        os.sync()
        return work

    def limit_round(self, workers: int) -> float:
        work = self.fresh("limit")
        paths = sorted(str(p) for p in (work / "cur").iterdir())
        start = time.perf_counter()
        done = _limits.rekey_pool(
            paths, self.limit_secret, self.limit_public, self.limit_new, workers
        )
        seconds = time.perf_counter() - start
        assert done == MAILBOX_COUNT
        return seconds


def _write_maildir(root: Path, mails: list[bytes]) -> None:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for n, data in enumerate(mails):
        (root / "cur" / f"{1767225600 + n}.M{n}P1.bench:2,S").write_bytes(data)


_STORES: dict[Path, _Mailboxes] = {}


def _mailboxes(base: Path) -> _Mailboxes:
    if base not in _STORES:
        base.mkdir(parents=True, exist_ok=True)
        _STORES[base] = _Mailboxes(base)
    return _STORES[base]


def _places() -> list[Any]:
    """Where the Maildir lives: the disk (the target), and tmpfs when there is one
    (no fsync cost: what is left is the CPU time per message)."""
    places = [pytest.param("disk", id="disk")]
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        places.append(pytest.param("tmpfs", id="tmpfs"))
    return places


@pytest.mark.parametrize("where", _places())
@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("fmt", ["pgpmime", "smime"])
def test_rewrap_mailbox(
    benchmark: Any,
    request: pytest.FixtureRequest,
    scratch: Path,
    fmt: str,
    workers: int,
    where: str,
) -> None:
    """``rewrap_mailbox`` of a Maildir of 300 mails (X25519 keys, rotated once)
    against the bare loop (``_limits.rekey_loop``) over as many mails of the same
    size, the two alternating round by round (the limit runs in each round's
    untimed set-up)."""
    require_format(fmt)
    from e2ee_mail.mailbox import rewrap as mailbox

    if where == "tmpfs":
        base = Path(tempfile.mkdtemp(prefix="e2ee-bench-", dir="/dev/shm"))
        request.addfinalizer(lambda: shutil.rmtree(base, ignore_errors=True))
        store = _mailboxes(base)
    else:
        store = _mailboxes(scratch / "mailbox")
    limit_times: list[float] = []
    work: list[Path] = []

    def setup() -> None:
        limit_times.append(store.limit_round(workers))
        work[:] = [store.fresh(fmt)]

    def run() -> None:
        summary = mailbox.rewrap_mailbox(work[0], store.ring, workers=workers)
        assert (summary.rewrapped, summary.failed) == (MAILBOX_COUNT, 0), summary

    seconds = float(request.config.getoption("--bench-seconds"))
    rounds = max(3, round(seconds * 10))
    benchmark.group = f"rewrap mailbox {where}"
    benchmark.extra_info.update(
        case=f"{fmt}.mailbox.{where}.w{workers}",
        bytes=store.sizes[fmt],
        messages=MAILBOX_COUNT,
        workers=workers,
        where=where,
    )
    benchmark.pedantic(run, setup=setup, rounds=rounds, warmup_rounds=0)
    limit_times.append(store.limit_round(workers))
    benchmark.extra_info["paired_limit"] = {
        "min": min(limit_times),
        "median": statistics.median(limit_times),
    }
    # Every message opens with the new keys alone, to the same plaintext.
    from e2ee_mail.keys.ring import Keyring

    ring = Keyring.open(store.ring)
    active = [v.key for v in ring.history(ALICE) if v.state == "active"]
    pristine = sorted((store.base / f"pristine-{fmt}" / "cur").iterdir())
    for path in pristine[:: MAILBOX_COUNT // 10]:
        done = work[0] / "cur" / path.name
        assert e2ee_mail.decrypt_message(done.read_bytes(), active) is not None
