"""Re-keying an archive of message files on Dask: a local cluster of two worker
processes, a killed job resumed from its journals, object storage (fsspec's
in-memory file system), and failures collected per message."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import e2ee_mail
from e2ee_mail.keys.ring import Keyring
from e2ee_mail.mailbox import dask_archive
from e2ee_mail.mailbox.rekey import Rekeyer
from e2ee_mail.mime import scan as mailscan

dask = pytest.importorskip("dask", reason="the dask extra is not installed")
fsspec = pytest.importorskip("fsspec", reason="the dask extra is not installed")

ALICE = "alice@example.org"
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(days=30)


def _smime(blob: bytes, n: int) -> bytes:
    text = base64.b64encode(blob)
    lines = b"\r\n".join(text[i : i + 76] for i in range(0, len(text), 76))
    return (
        b"From: bob@example.org\r\nTo: alice@example.org\r\n"
        b"Message-ID: <%d@example.org>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: application/pkcs7-mime; smime-type=authEnveloped-data;"
        b' name="smime.p7m"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        % n
        + lines
        + b"\r\n"
    )


def _plain(n: int) -> bytes:
    return b"From: bob@example.org\r\nMessage-ID: <%d@example.org>\r\n\r\nhi\r\n" % n


@pytest.fixture
def ring(tmp_path: Path) -> Keyring:
    ring = Keyring.open(tmp_path / "ring")
    ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    return ring


def _archive(ring: Keyring, count: int) -> dict[str, tuple[bytes, bytes | None]]:
    """Relative name -> (message, plaintext or None for plain mail), spread over
    a few directories as an archive on disk or in a bucket is."""
    certs = ring.recipients(ALICE)
    out: dict[str, tuple[bytes, bytes | None]] = {}
    for i in range(count):
        name = f"{2024 + i % 3}/{i % 4:02d}/m{i:04d}.eml"
        if i % 5 == 4:
            out[name] = (_plain(i), None)
        else:
            body = b"stored body %d " % i * 7
            out[name] = (_smime(e2ee_mail.encrypt(body, certs, format="cms"), i), body)
    return out


def _write(root: Path, messages: dict[str, tuple[bytes, bytes | None]]) -> None:
    for name, (data, _) in messages.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _check_rekeyed(
    read: dict[str, bytes],
    messages: dict[str, tuple[bytes, bytes | None]],
    ring: Keyring,
) -> None:
    """Every encrypted message opens with the active key alone and gives its
    plaintext; plain mail is byte for byte what it was."""
    active = [v.key for v in ring.history(ALICE) if v.state == "active"]
    retired = [v.key for v in ring.history(ALICE) if v.state != "active"]
    assert set(read) == set(messages)
    for name, (original, body) in messages.items():
        data = read[name]
        if body is None:
            assert data == original
            continue
        (part,) = mailscan.find_encrypted(data)
        blob = mailscan.extract(data, part)
        assert bytes(e2ee_mail.decrypt(blob, active)) == body
        with pytest.raises(e2ee_mail.NoMatchingKeyError):
            e2ee_mail.decrypt(blob, retired)


def _read_tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file()
    }


@pytest.fixture
def cluster_client() -> Iterator[object]:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            worker_dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def test_a_local_cluster_of_two_workers_rekeys_the_archive(
    tmp_path: Path, ring: Keyring, cluster_client: object
) -> None:
    messages = _archive(ring, 40)
    root = tmp_path / "archive"
    _write(root, messages)
    ring.rotate(ALICE, format="x509", kind="x25519", now=T1)
    journals = tmp_path / "journals"

    summary = dask_archive.rekey_archive(
        str(root), ring.path, journals, client=cluster_client, partition_size=6
    )

    assert (summary.rewrapped, summary.skipped, summary.failed) == (32, 8, 0)
    assert summary.resumed == 0
    _check_rekeyed(_read_tree(root), messages, ring)
    assert list(journals.glob("part-*")) == []  # a finished run leaves none

    # The archive is current now: a second run changes nothing.
    again = dask_archive.rekey_archive(
        str(root), ring.path, journals, client=cluster_client, partition_size=6
    )
    assert (again.rewrapped, again.skipped) == (0, 40)


def test_a_killed_job_resumes_from_the_partition_journals(
    tmp_path: Path, ring: Keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = _archive(ring, 30)
    root = tmp_path / "archive"
    _write(root, messages)
    ring.rotate(ALICE, format="x509", kind="x25519", now=T1)
    journals = tmp_path / "journals"
    real = Rekeyer.rekey
    calls = {"n": 0}

    def dies_after_seven(self: Rekeyer, data: bytes) -> object:
        calls["n"] += 1
        if calls["n"] > 7:
            raise KeyboardInterrupt  # the job is killed mid-partition
        return real(self, data)

    monkeypatch.setattr(Rekeyer, "rekey", dies_after_seven)
    with dask.config.set(scheduler="sync"), pytest.raises(KeyboardInterrupt):
        dask_archive.rekey_archive(str(root), ring.path, journals, partition_size=4)
    assert list(journals.glob("part-*.journal"))  # the finished seven are kept

    monkeypatch.setattr(Rekeyer, "rekey", real)
    seen: list[bytes] = []

    def counting(self: Rekeyer, data: bytes) -> object:
        seen.append(hashlib.sha256(data).digest())
        return real(self, data)

    monkeypatch.setattr(Rekeyer, "rekey", counting)
    with dask.config.set(scheduler="sync"):
        summary = dask_archive.rekey_archive(
            str(root), ring.path, journals, partition_size=4
        )

    assert summary.resumed == 7
    assert len(seen) == 30 - 7  # the journaled messages were not read again
    assert (summary.rewrapped, summary.skipped, summary.failed) == (24, 6, 0)
    _check_rekeyed(_read_tree(root), messages, ring)
    assert not [p for p in root.rglob(".e2ee-rewrap.*")]


def test_object_storage_through_fsspec(tmp_path: Path, ring: Keyring) -> None:
    messages = _archive(ring, 12)
    fs = fsspec.filesystem("memory")
    bucket = f"/bucket-{tmp_path.name}"
    for name, (data, _) in messages.items():
        fs.pipe_file(f"{bucket}/{name}", data)
    ring.rotate(ALICE, format="x509", kind="x25519", now=T1)
    try:
        # The in-memory file system lives in this process: the sync scheduler.
        with dask.config.set(scheduler="sync"):
            summary = dask_archive.rekey_archive(
                f"memory://{bucket}", ring.path, tmp_path / "journals"
            )
        read = {path[len(bucket) + 1 :]: fs.cat_file(path) for path in fs.find(bucket)}
    finally:
        fs.rm(bucket, recursive=True)
    assert (summary.rewrapped, summary.skipped, summary.failed) == (10, 2, 0)
    _check_rekeyed(read, messages, ring)


def test_failures_are_collected_and_the_message_kept(
    tmp_path: Path, ring: Keyring
) -> None:
    messages = _archive(ring, 8)
    root = tmp_path / "archive"
    _write(root, messages)
    name = next(n for n, (_, body) in messages.items() if body is not None)
    data, _ = messages[name]
    (part,) = mailscan.find_encrypted(data)
    blob = bytearray(mailscan.extract(data, part))
    blob[40] ^= 0x01  # a damaged recipient entry
    damaged = _smime(bytes(blob), 999)
    (root / name).write_bytes(damaged)
    ring.rotate(ALICE, format="x509", kind="x25519", now=T1)

    with dask.config.set(scheduler="sync"):
        summary = dask_archive.rekey_archive(str(root), ring.path, tmp_path / "j")

    assert summary.failed == 1
    ((failed_name, reason),) = summary.failures
    assert failed_name == name and reason
    assert (root / name).read_bytes() == damaged
    assert (summary.rewrapped, summary.skipped) == (6, 1)


def test_bad_arguments_are_clear_errors(tmp_path: Path, ring: Keyring) -> None:
    with pytest.raises(e2ee_mail.UsageError, match="not a directory"):
        dask_archive.rekey_archive(str(tmp_path / "missing"), ring.path, tmp_path)
    with pytest.raises(e2ee_mail.UsageError, match="partition_size"):
        dask_archive.rekey_archive(
            str(tmp_path), ring.path, tmp_path / "j", partition_size=0
        )


def test_the_example_runs_on_a_local_cluster() -> None:
    example = Path(__file__).parents[2] / "examples" / "dask_rekey_archive.py"
    env = {**os.environ, "PYTHONPATH": str(Path(e2ee_mail.__file__).parents[1])}
    done = subprocess.run(
        [sys.executable, str(example), "--demo", "60", "--workers", "2"],
        capture_output=True,
        env=env,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert done.stdout.startswith(b"re-wrapped 60, skipped 0, failed 0\n")
