"""Key rotation end to end: rotate, fill a Maildir, re-key it with two processes, kill
the run mid-way with SIGKILL, resume, and open every message with the newest keys only.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import e2ee_mail
from e2ee_mail.keys.ring import Keyring
from e2ee_mail.mailbox import rewrap as mailbox
from e2ee_mail.mailbox import scan as mailscan

ALICE = "alice@example.org"
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
COUNT = 1000
VERSIONS = 3


def _b64(blob: bytes) -> bytes:
    text = base64.b64encode(blob)
    return b"\r\n".join(text[i : i + 76] for i in range(0, len(text), 76))


def _head(n: int, ctype: bytes) -> bytes:
    return (
        b"Return-Path: <bob@example.org>\r\nFrom: Bob <bob@example.org>\r\n"
        b"To: Alice <alice@example.org>\r\nMessage-ID: <%d@example.org>\r\n"
        b"Date: Thu, 01 Jan 2026 00:00:00 +0000\r\nSubject: ...\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: %s\r\n" % (n, ctype)
    )


def make_message(n: int, ring: Keyring, version: int) -> tuple[bytes, bytes | None]:
    """Message ``n`` of the mix, encrypted to key ``version``; (bytes, plaintext)."""
    body = b"message %d under v%d\r\n" % (n, version) + os.urandom(n % 300)
    x509 = ring.history(ALICE)[version - 1].certificate
    pgp = ring.history(ALICE)[VERSIONS + version - 1].certificate
    kind = n % 10
    if kind < 3:  # S/MIME body
        blob = e2ee_mail.encrypt(body, x509, format="cms")
        head = _head(
            n,
            b'application/pkcs7-mime; smime-type=authEnveloped-data; name="smime.p7m"',
        )
        return head + b"Content-Transfer-Encoding: base64\r\n\r\n" + _b64(
            blob
        ) + b"\r\n", body
    if kind < 5:  # a bare CMS attachment next to a text part
        blob = e2ee_mail.encrypt(body, x509, format="cms")
        return (
            _head(n, b'multipart/mixed; boundary="b%d"' % n)
            + b"\r\n--b%d\r\nContent-Type: text/plain\r\n\r\nattached\r\n" % n
            + b"--b%d\r\nContent-Type: application/octet-stream\r\n" % n
            + b'Content-Disposition: attachment; filename="doc.p7m"\r\n'
            + b"Content-Transfer-Encoding: base64\r\n\r\n"
            + _b64(blob)
            + b"\r\n--b%d--\r\n" % n
        ), body
    if kind < 7:  # PGP/MIME
        armored = e2ee_mail.encrypt(body, pgp, armor=True).replace(b"\n", b"\r\n")
        return (
            _head(
                n,
                b'multipart/encrypted; protocol="application/pgp-encrypted";'
                b' boundary="p%d"' % n,
            )
            + b"\r\n--p%d\r\nContent-Type: application/pgp-encrypted\r\n\r\n" % n
            + b"Version: 1\r\n\r\n--p%d\r\n" % n
            + b"Content-Type: application/octet-stream; name=encrypted.asc\r\n\r\n"
            + armored
            + b"\r\n--p%d--\r\n" % n
        ), body
    if kind < 8:  # a binary .gpg attachment
        blob = e2ee_mail.encrypt(body, pgp)
        return (
            _head(n, b'multipart/mixed; boundary="g%d"' % n)
            + b"\r\n--g%d\r\nContent-Type: application/octet-stream\r\n" % n
            + b'Content-Disposition: attachment; filename="notes.txt.gpg"\r\n'
            + b"Content-Transfer-Encoding: base64\r\n\r\n"
            + _b64(blob)
            + b"\r\n--g%d--\r\n" % n
        ), body
    if kind < 9:  # inline PGP in a text body
        armored = e2ee_mail.encrypt(body, pgp, armor=True).replace(b"\n", b"\r\n")
        text = b"Hi Alice,\r\n\r\n" + armored + b"\r\n-- \r\nBob\r\n"
        return _head(n, b"text/plain; charset=us-ascii") + b"\r\n" + text, body
    return _head(n, b"text/plain") + b"\r\nplain message %d\r\n" % n, None


def _ids(blob: bytes) -> list[tuple[str, str]]:
    return sorted((r.type, r.id) for r in e2ee_mail.inspect(blob).recipients)


def _journal_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n") - 1
    except FileNotFoundError:
        return 0


def _open_with(data: bytes, keys: tuple[e2ee_mail.SecretKey, ...]) -> list[bytes]:
    return [
        bytes(e2ee_mail.decrypt(mailscan.extract(data, part), keys))
        for part in mailscan.find_encrypted(data)
    ]


def test_rekey_a_maildir_of_1000_messages_killed_and_resumed(tmp_path: Path) -> None:
    ring_dir = tmp_path / "ring"
    ring = Keyring.open(ring_dir)
    for v in range(VERSIONS):
        ring.rotate(ALICE, format="x509", kind="x25519", now=T0 + dt.timedelta(days=v))
    for v in range(VERSIONS):
        ring.rotate(
            ALICE, format="openpgp", kind="x25519", now=T0 + dt.timedelta(days=v)
        )
    history = ring.history(ALICE)
    assert [(v.format, v.version) for v in history] == [
        ("x509", 1),
        ("x509", 2),
        ("x509", 3),
        ("openpgp", 1),
        ("openpgp", 2),
        ("openpgp", 3),
    ]

    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    expected: dict[str, tuple[bytes, bytes | None]] = {}
    for n in range(COUNT):
        data, body = make_message(n, ring, 1 + n % VERSIONS)
        name = f"{1767225600 + n}.M{n}P1.host"
        sub, suffix = ("new", "") if n % 5 == 0 else ("cur", ":2,S")
        (maildir / sub / (name + suffix)).write_bytes(data)
        expected[name] = (data, body)

    env = {**os.environ, "PYTHONWARNINGS": "error"}
    cmd = [
        sys.executable,
        "-m",
        "e2ee_mail.cli",
        "rewrap",
        "--mailbox",
        str(maildir),
        "--keyring",
        str(ring_dir),
        "--workers",
        "2",
    ]
    journal = maildir / "e2ee-rewrap.journal"
    first = subprocess.Popen(
        cmd,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while _journal_lines(journal) < 150 and first.poll() is None:
        assert time.monotonic() < deadline, "the re-wrap made no progress"
        time.sleep(0.005)
    # Kill the whole run (parent and workers) as a crash would.
    os.killpg(first.pid, signal.SIGKILL)
    first.communicate(timeout=60)
    assert first.returncode == -signal.SIGKILL, "the run finished before the kill"
    done_before = _journal_lines(journal)
    assert 0 < done_before < COUNT

    def files() -> dict[str, Path]:
        return {
            p.name.split(":")[0]: p
            for sub in ("cur", "new")
            for p in (maildir / sub).iterdir()
        }

    # Nothing lost: every message is there and opens with the keyring's keys.
    every_key = ring.decryption_keys()
    assert set(files()) == set(expected)
    for name, path in files().items():
        data, body = expected[name]
        if body is None:
            assert path.read_bytes() == data
        else:
            assert _open_with(path.read_bytes(), every_key) == [body]

    started = time.monotonic()
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.monotonic() - started
    assert second.returncode == 0, second.stderr
    counts = re.search(r"re-wrapped (\d+), skipped (\d+), failed (\d+)", second.stdout)
    assert counts is not None, second.stdout
    rewrapped, skipped, failed = map(int, counts.groups())
    assert failed == 0 and rewrapped + skipped == COUNT
    assert f"resumed after {done_before} already done" in second.stdout
    print(
        f"\nresumed run: {COUNT - done_before} messages in {elapsed:.2f} s "
        f"({second.stdout.strip().splitlines()[-1]})"
    )

    # Every encrypted message opens with the newest keys alone, and names only them.
    newest = tuple(v.key for v in history if v.version == VERSIONS)
    current_ids = {
        "x509": _ids(e2ee_mail.encrypt(b"x", newest[0].public, format="cms")),
        "openpgp": _ids(e2ee_mail.encrypt(b"x", newest[1].public)),
    }
    assert set(files()) == set(expected)
    for name, path in files().items():
        data, body = expected[name]
        new = path.read_bytes()
        if body is None:
            assert new == data
            continue
        assert _open_with(new, newest) == [body]
        (part,) = mailscan.find_encrypted(new)
        fmt = "x509" if part.kind == "cms" else "openpgp"
        assert _ids(mailscan.extract(new, part)) == current_ids[fmt]
        # Outside the encrypted span, not a byte changed.
        (old_part,) = mailscan.find_encrypted(data)
        assert new[: part.start] == data[: old_part.start]
        assert new[part.end :] == data[old_part.end :]
    assert list((maildir / "tmp").iterdir()) == []
    assert not journal.exists()


def test_rekey_an_mbox_killed_and_resumed(tmp_path: Path) -> None:
    ring_dir = tmp_path / "ring"
    ring = Keyring.open(ring_dir)
    for fmt in ("x509", "openpgp"):
        for v in range(VERSIONS):
            ring.rotate(ALICE, format=fmt, kind="x25519", now=T0 + dt.timedelta(days=v))
    mbox = tmp_path / "inbox"
    expected = [make_message(n, ring, 1 + n % VERSIONS) for n in range(300)]
    mbox.write_bytes(
        b"".join(
            b"From bob@example.org Thu Jan  1 00:00:00 2026\n" + data + b"\n"
            for data, _ in expected
        )
    )
    original = mbox.read_bytes()
    cmd = [
        sys.executable,
        "-m",
        "e2ee_mail.cli",
        "rewrap",
        "--mailbox",
        str(mbox),
        "--keyring",
        str(ring_dir),
        "--workers",
        "2",
    ]
    journal = tmp_path / "inbox.e2ee-rewrap" / "journal"
    first = subprocess.Popen(
        cmd,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while _journal_lines(journal) < 40 and first.poll() is None:
        assert time.monotonic() < deadline, "the re-wrap made no progress"
        time.sleep(0.005)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL, "the run finished before the kill"
    assert mbox.read_bytes() == original  # untouched until the final rename

    second = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    assert "failed 0" in second.stdout and "resumed after" in second.stdout
    newest = tuple(v.key for v in ring.history(ALICE) if v.version == VERSIONS)
    data = mbox.read_bytes()
    slices = mailbox.mbox_slices(mbox)
    assert len(slices) == len(expected)
    for (offset, length), (old, body) in zip(slices, expected, strict=True):
        message = data[offset : offset + length].split(b"\n", 1)[1]
        if body is None:
            assert message == old + b"\n"
        else:
            assert _open_with(message, newest) == [body]
    assert not (tmp_path / "inbox.e2ee-rewrap").exists()
