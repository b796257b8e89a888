"""Bulk re-keying of Maildir and mbox mailboxes (X.509 / CMS keys: fast)."""

from __future__ import annotations

import base64
import datetime as dt
import errno
import fcntl
import io
import logging
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import BinaryIO

import pytest

import e2ee_mail
from e2ee_mail.keys.ring import Keyring
from e2ee_mail.mailbox import mbox as mboxfile
from e2ee_mail.mailbox import rewrap as mailbox
from e2ee_mail.mailbox import scan as mailscan
from e2ee_mail.mailbox import worker as mailworker

ALICE = "alice@example.org"
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _b64(blob: bytes) -> bytes:
    text = base64.b64encode(blob)
    return b"\r\n".join(text[i : i + 76] for i in range(0, len(text), 76))


def smime_mail(blob: bytes, n: int) -> bytes:
    return (
        b"From: bob@example.org\r\nTo: alice@example.org\r\n"
        b"Message-ID: <%d@example.org>\r\nSubject: ...\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: application/pkcs7-mime; smime-type=authEnveloped-data;"
        b' name="smime.p7m"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        % n
        + _b64(blob)
        + b"\r\n"
    )


def attachment_mail(blob: bytes, n: int) -> bytes:
    return (
        b"From: bob@example.org\r\nMessage-ID: <%d@example.org>\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="zz"\r\n\r\n'
        b"--zz\r\nContent-Type: text/plain\r\n\r\nsee the attachment\r\n"
        b"--zz\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="data.p7m"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        % n
        + _b64(blob)
        + b"\r\n--zz--\r\n"
    )


def plain_mail(n: int) -> bytes:
    return (
        b"From: bob@example.org\r\nMessage-ID: <%d@example.org>\r\n\r\nhello %d\r\n"
        % (
            n,
            n,
        )
    )


@pytest.fixture
def ring(tmp_path: Path) -> Keyring:
    ring = Keyring.open(tmp_path / "ring")
    ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    return ring


def _messages(ring: Keyring, count: int) -> dict[str, tuple[bytes, bytes | None]]:
    """name -> (message bytes, plaintext or None for plain mail)."""
    out: dict[str, tuple[bytes, bytes | None]] = {}
    certs = ring.recipients(ALICE)
    for i in range(count):
        body = b"secret body %d " % i * 5
        blob = e2ee_mail.encrypt(body, certs, format="cms")
        kind = i % 3
        if kind == 0:
            out[f"m{i:04d}"] = (smime_mail(blob, i), body)
        elif kind == 1:
            out[f"m{i:04d}"] = (attachment_mail(blob, i), body)
        else:
            out[f"m{i:04d}"] = (plain_mail(i), None)
    return out


def _maildir(root: Path, messages: dict[str, tuple[bytes, bytes | None]]) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    for i, (name, (data, _)) in enumerate(sorted(messages.items())):
        sub = "new" if i % 4 == 0 else "cur"
        path = root / sub / (name + ("" if sub == "new" else ":2,S"))
        path.write_bytes(data)
        os.chmod(path, 0o640)
    return root


def _find(root: Path, name: str) -> Path:
    (path,) = [p for sub in ("cur", "new") for p in (root / sub).glob(name + "*")]
    return path


def _open_all(data: bytes, keys: object) -> list[bytes]:
    return [
        bytes(e2ee_mail.decrypt(mailscan.extract(data, p), keys))  # type: ignore[arg-type]
        for p in mailscan.find_encrypted(data)
    ]


def test_maildir_rewrap_moves_encrypted_mail_to_the_newest_key(
    ring: Keyring, tmp_path: Path
) -> None:
    messages = _messages(ring, 9)
    root = _maildir(tmp_path / "Maildir", messages)
    old = ring.history(ALICE)[0]
    new = ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    summary = mailbox.rewrap_mailbox(root, ring.path, workers=1)
    assert (summary.rewrapped, summary.skipped, summary.failed) == (6, 3, 0)
    for name, (original, body) in messages.items():
        path = _find(root, name)
        data = path.read_bytes()
        if body is None:
            assert data == original
            continue
        assert _open_all(data, new.key) == [body]
        with pytest.raises(e2ee_mail.NoMatchingKeyError):
            _open_all(data, old.key)
        # Everything outside the encrypted span is byte-identical.
        (part,) = mailscan.find_encrypted(original)
        assert data.startswith(original[: part.start])
        assert data.endswith(original[part.end :])
        assert (path.stat().st_mode & 0o777) == 0o640
    assert sorted(p.name for p in (root / "tmp").iterdir()) == []
    assert not (root / "e2ee-rewrap.journal").exists()


def test_mail_for_a_retired_key_is_still_rekeyed(ring: Keyring, tmp_path: Path) -> None:
    # Retired keys open mail only when asked for; the re-key asks, since moving
    # the mail they still open to the current key is its job.
    messages = _messages(ring, 3)
    root = _maildir(tmp_path / "Maildir", messages)
    new = ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    ring.retire(ALICE)
    summary = mailbox.rewrap_mailbox(root, ring.path, workers=1)
    assert (summary.rewrapped, summary.skipped, summary.failed) == (2, 1, 0)
    for name, (_, body) in messages.items():
        if body is not None:
            assert _open_all(_find(root, name).read_bytes(), new.key) == [body]


def test_second_run_skips_mail_already_on_the_current_key(
    ring: Keyring, tmp_path: Path
) -> None:
    root = _maildir(tmp_path / "Maildir", _messages(ring, 4))
    ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    mailbox.rewrap_mailbox(root, ring.path, workers=1)
    before = {p: p.read_bytes() for p in root.rglob("m*")}
    again = mailbox.rewrap_mailbox(root, ring.path, workers=1)
    assert (again.rewrapped, again.skipped, again.failed) == (0, 4, 0)
    assert {p: p.read_bytes() for p in root.rglob("m*")} == before


def test_failures_are_reported_and_leave_the_message_untouched(
    ring: Keyring, tmp_path: Path
) -> None:
    stranger = e2ee_mail.generate_key("eve <eve@example.org>", format="x509")
    messages = {
        "foreign": (
            smime_mail(e2ee_mail.encrypt(b"x", stranger.public, format="cms"), 1),
            b"x",
        ),
        "damaged": (smime_mail(b"\x30\x82" + bytes(40), 2), b"y"),
    }
    blob = e2ee_mail.encrypt(b"z", ring.recipients(ALICE), format="cms")
    tampered = bytearray(blob)
    tampered[-5] ^= 1
    messages["tampered"] = (smime_mail(bytes(tampered), 3), b"z")
    root = _maildir(tmp_path / "Maildir", messages)
    ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    summary = mailbox.rewrap_mailbox(root, ring.path, workers=1)
    assert summary.failed == 3
    reasons = dict(summary.failures)
    assert "no key" in reasons["foreign"]
    assert reasons["tampered"].startswith("decryption failed")
    for name, (data, _) in messages.items():
        assert _find(root, name).read_bytes() == data
    assert "failed foreign" in str(summary)


def test_mbox_rewrap_keeps_order_and_from_lines(ring: Keyring, tmp_path: Path) -> None:
    messages = _messages(ring, 7)
    mbox = tmp_path / "inbox.mbox"
    items = sorted(messages.items())
    mbox.write_bytes(
        b"".join(
            b"From bob@example.org Thu Jan  1 00:00:00 2026\n" + data + b"\n"
            for _, (data, _) in items
        )
    )
    new = ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    summary = mailbox.rewrap_mailbox(mbox, ring.path, workers=1)
    assert (summary.rewrapped, summary.skipped, summary.failed) == (5, 2, 0)
    data = mbox.read_bytes()
    slices = mailbox.mbox_slices(mbox)
    assert len(slices) == 7
    for (offset, length), (_, (original, body)) in zip(slices, items, strict=True):
        chunk = data[offset : offset + length]
        assert chunk.startswith(b"From bob@example.org Thu Jan  1 00:00:00 2026\n")
        message = chunk.split(b"\n", 1)[1]
        if body is None:
            assert message == original + b"\n"
        else:
            assert _open_all(message, new.key) == [body]
    assert not (tmp_path / "inbox.mbox.e2ee-rewrap").exists()


def test_interrupted_run_resumes_from_its_journal(
    ring: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = _messages(ring, 30)
    root = _maildir(tmp_path / "Maildir", messages)
    new = ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    real = mailworker.maildir_task
    calls = []

    def dying(*args: str) -> mailbox.Outcome:
        calls.append(args)
        if len(calls) == 20:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(mailworker, "maildir_task", dying)
    with pytest.raises(KeyboardInterrupt):
        mailbox.rewrap_mailbox(root, ring.path, workers=1)
    assert (root / "e2ee-rewrap.journal").exists()
    monkeypatch.setattr(mailworker, "maildir_task", real)
    summary = mailbox.rewrap_mailbox(root, ring.path, workers=1)
    # The first batch was journaled; the interrupted batch's finished messages
    # are found already current when they are done again.
    assert summary.resumed == mailbox._INLINE_BATCH
    assert summary.failed == 0
    assert summary.rewrapped + summary.skipped == 30
    assert summary.rewrapped <= 20
    for name, (_, body) in messages.items():
        if body is not None:
            assert _open_all(_find(root, name).read_bytes(), new.key) == [body]


def test_half_written_journal_line_is_dropped_on_resume(
    ring: Keyring, tmp_path: Path
) -> None:
    root = _maildir(tmp_path / "Maildir", _messages(ring, 3))
    ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    header = mailbox.journal_header("maildir", root)
    import json

    (root / "e2ee-rewrap.journal").write_bytes(
        json.dumps(header).encode() + b'\n["rewrapped", "m00'
    )
    summary = mailbox.rewrap_mailbox(root, ring.path, workers=1)
    assert (summary.resumed, summary.rewrapped, summary.skipped) == (0, 2, 1)


def test_two_worker_processes_rewrap_a_maildir(ring: Keyring, tmp_path: Path) -> None:
    messages = _messages(ring, 12)
    root = _maildir(tmp_path / "Maildir", messages)
    new = ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    summary = mailbox.rewrap_mailbox(root, ring.path, workers=2)
    assert (summary.rewrapped, summary.skipped, summary.failed) == (8, 4, 0)
    for name, (_, body) in messages.items():
        if body is not None:
            assert _open_all(_find(root, name).read_bytes(), new.key) == [body]


def test_a_second_concurrent_run_is_refused(ring: Keyring, tmp_path: Path) -> None:
    root = _maildir(tmp_path / "Maildir", _messages(ring, 1))
    fd = os.open(root / "e2ee-rewrap.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(e2ee_mail.UsageError, match="another re-wrap"):
            mailbox.rewrap_mailbox(root, ring.path, workers=1)
    finally:
        os.close(fd)


def test_not_a_mailbox_is_a_usage_error(ring: Keyring, tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(e2ee_mail.UsageError):
        mailbox.rewrap_mailbox(tmp_path / "dir", ring.path, workers=1)
    with pytest.raises(e2ee_mail.UsageError):
        mailbox.rewrap_mailbox(tmp_path / "absent", ring.path, workers=1)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_shown_only_on_a_terminal(ring: Keyring, tmp_path: Path) -> None:
    root = _maildir(tmp_path / "Maildir", _messages(ring, 3))
    quiet, tty = io.StringIO(), _Tty()
    mailbox.rewrap_mailbox(root, ring.path, workers=1, progress=quiet)
    mailbox.rewrap_mailbox(root, ring.path, workers=1, progress=tty)
    assert quiet.getvalue() == ""
    assert "rewrap: 3/3" in tty.getvalue() and "msg/s" in tty.getvalue()


def test_audit_records_name_fingerprints_and_leak_no_secrets(
    ring: Keyring, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    messages = _messages(ring, 3)
    root = _maildir(tmp_path / "Maildir", messages)
    caplog.set_level(logging.INFO, logger="e2ee_mail.audit")
    new = ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    mailbox.rewrap_mailbox(root, ring.path, workers=1)
    events = [r.event for r in caplog.records]  # type: ignore[attr-defined]
    assert events.count("mail.rewrap") == 2
    assert "key.rotate" in events and "mailbox.rewrap" in events
    rewrap = next(r for r in caplog.records if r.event == "mail.rewrap")  # type: ignore[attr-defined]
    assert rewrap.identity == ALICE  # type: ignore[attr-defined]
    assert rewrap.fingerprints == (new.fingerprint,)  # type: ignore[attr-defined]
    text = "\n".join(
        f"{r.getMessage()} {sorted(vars(r).items())!r}" for r in caplog.records
    )
    secrets = [body for _, body in messages.values() if body]
    for version in ring.history(ALICE):
        der = version.key.export(armor=False)
        secrets += [der, der.hex().encode(), der.hex().upper().encode()]
        secrets += [base64.b64encode(der)[8:40]]
    for secret in secrets:
        assert secret.decode("latin-1") not in text


def test_interrupted_mbox_run_leaves_the_mbox_untouched_and_resumes(
    ring: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = sorted(_messages(ring, 30).items())
    mbox = tmp_path / "inbox"
    mbox.write_bytes(
        b"".join(
            b"From bob Thu Jan  1 00:00:00 2026\n" + d + b"\n" for _, (d, _) in messages
        )
    )
    original = mbox.read_bytes()
    new = ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    real = mailworker.mbox_task
    calls = []

    def dying(*args: object) -> mailbox.Outcome:
        calls.append(args)
        if len(calls) == 20:
            raise KeyboardInterrupt
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(mailworker, "mbox_task", dying)
    with pytest.raises(KeyboardInterrupt):
        mailbox.rewrap_mailbox(mbox, ring.path, workers=1)
    assert mbox.read_bytes() == original
    monkeypatch.setattr(mailworker, "mbox_task", real)
    summary = mailbox.rewrap_mailbox(mbox, ring.path, workers=1)
    assert summary.resumed == mailbox._INLINE_BATCH
    assert (summary.rewrapped, summary.skipped, summary.failed) == (20, 10, 0)
    data = mbox.read_bytes()
    slices = mailbox.mbox_slices(mbox)
    for (offset, length), (_, (_, body)) in zip(slices, messages, strict=True):
        message = data[offset : offset + length].split(b"\n", 1)[1]
        if body is not None:
            assert _open_all(message, new.key) == [body]


FROM_LINE = b"From bob Thu Jan  1 00:00:00 2026\n"


def _mbox(path: Path, messages: list[bytes]) -> Path:
    path.write_bytes(b"".join(FROM_LINE + m + b"\n" for m in messages))
    return path


def _mbox_messages(path: Path) -> list[bytes]:
    """Each message of an mbox without its From line."""
    data = path.read_bytes()
    return [
        data[offset : offset + length].split(b"\n", 1)[1]
        for offset, length in mailbox.mbox_slices(path)
    ]


def test_mail_appended_during_the_run_is_kept_and_rekeyed(
    ring: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    certs = ring.recipients(ALICE)
    first = smime_mail(e2ee_mail.encrypt(b"first", certs, format="cms"), 1)
    late = smime_mail(e2ee_mail.encrypt(b"late", certs, format="cms"), 2)
    mbox = _mbox(tmp_path / "inbox", [first])
    new = ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    real = mailworker.mbox_task
    calls = []

    def delivering(*args: object) -> mailbox.Outcome:
        calls.append(args)
        if len(calls) == 1:  # a delivery while the re-wrap works
            with open(mbox, "ab") as fh:
                fh.write(FROM_LINE + late + b"\n")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(mailworker, "mbox_task", delivering)
    summary = mailbox.rewrap_mailbox(mbox, ring.path, workers=1)
    assert (summary.rewrapped, summary.failed) == (2, 0)
    assert [_open_all(m, new.key) for m in _mbox_messages(mbox)] == [
        [b"first"],
        [b"late"],
    ]


def test_mbox_modified_during_the_run_is_not_rewritten(
    ring: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (data, _) = _messages(ring, 1)["m0000"]
    mbox = _mbox(tmp_path / "inbox", [data, plain_mail(7)])
    ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    real = mailworker.mbox_task

    def editing(*args: object) -> mailbox.Outcome:
        # A mail reader rewrites the mbox meanwhile (same size, other bytes).
        mbox.write_bytes(mbox.read_bytes().replace(b"hello 7", b"HELLO 7"))
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(mailworker, "mbox_task", editing)
    with pytest.raises(e2ee_mail.Error, match="changed during the re-wrap"):
        mailbox.rewrap_mailbox(mbox, ring.path, workers=1)
    assert _mbox_messages(mbox) == [
        data + b"\n",
        plain_mail(7).replace(b"hello 7", b"HELLO 7") + b"\n",
    ]


def test_mbox_that_keeps_receiving_mail_is_left_whole(
    ring: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (data, _) = _messages(ring, 1)["m0000"]
    mbox = _mbox(tmp_path / "inbox", [data])
    ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    real = mailworker.mbox_task

    def flooding(*args: object) -> mailbox.Outcome:
        with open(mbox, "ab") as fh:
            fh.write(FROM_LINE + plain_mail(9) + b"\n")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(mailworker, "mbox_task", flooding)
    with pytest.raises(e2ee_mail.Error, match="keeps receiving mail"):
        mailbox.rewrap_mailbox(mbox, ring.path, workers=1)
    messages = _mbox_messages(mbox)
    assert messages[0] == data + b"\n"
    assert messages[1:] == [plain_mail(9) + b"\n"] * (len(messages) - 1)


def test_two_worker_processes_rewrap_an_mbox(ring: Keyring, tmp_path: Path) -> None:
    messages = sorted(_messages(ring, 12).items())
    mbox = tmp_path / "inbox"
    mbox.write_bytes(
        b"".join(
            b"From bob Thu Jan  1 00:00:00 2026\n" + d + b"\n" for _, (d, _) in messages
        )
    )
    new = ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    summary = mailbox.rewrap_mailbox(mbox, ring.path, workers=2)
    assert (summary.rewrapped, summary.skipped, summary.failed) == (8, 4, 0)
    data = mbox.read_bytes()
    for (offset, length), (_, (original, body)) in zip(
        mailbox.mbox_slices(mbox), messages, strict=True
    ):
        message = data[offset : offset + length].split(b"\n", 1)[1]
        if body is None:
            assert message == original + b"\n"
        else:
            assert _open_all(message, new.key) == [body]


def test_identity_option_leaves_other_identities_mail_alone(
    ring: Keyring, tmp_path: Path
) -> None:
    bob = "bob@example.org"
    ring.rotate(bob, format="x509", kind="x25519", now=T0)
    for_alice = e2ee_mail.encrypt(b"to alice", ring.recipients(ALICE), format="cms")
    for_bob = e2ee_mail.encrypt(b"to bob", ring.recipients(bob), format="cms")
    messages = {
        "a": (smime_mail(for_alice, 1), b""),
        "b": (smime_mail(for_bob, 2), b""),
    }
    root = _maildir(tmp_path / "Maildir", messages)
    ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    ring.rotate(bob, now=T0 + dt.timedelta(days=1))
    summary = mailbox.rewrap_mailbox(root, ring.path, identity=ALICE, workers=1)
    assert (summary.rewrapped, summary.skipped, summary.failed) == (1, 1, 0)
    assert _find(root, "b").read_bytes() == messages["b"][0]
    new_alice = ring.recipients(ALICE)[0]
    data = _find(root, "a").read_bytes()
    (part,) = mailscan.find_encrypted(data)
    ids = {r.id for r in e2ee_mail.inspect(mailscan.extract(data, part)).recipients}
    probe = e2ee_mail.encrypt(b"", new_alice, format="cms")
    assert ids == {r.id for r in e2ee_mail.inspect(probe).recipients}
    # Without the option, bob's mail is re-keyed too: both identities are in the ring.
    again = mailbox.rewrap_mailbox(root, ring.path, workers=1)
    assert (again.rewrapped, again.skipped) == (1, 1)


def test_mbox_commit_waits_for_no_one_else_s_dot_lock(
    ring: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mbox = tmp_path / "inbox"
    (data, _) = _messages(ring, 1)["m0000"]
    mbox.write_bytes(b"From bob Thu Jan  1 00:00:00 2026\n" + data + b"\n")
    original = mbox.read_bytes()
    ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    real = mailworker.mbox_task

    def locking(*args: object) -> mailbox.Outcome:
        # A delivery agent takes the dot-lock while the re-wrap works.
        (tmp_path / "inbox.lock").write_bytes(b"12345\n")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(mailworker, "mbox_task", locking)
    monkeypatch.setattr(mboxfile, "LOCK_WAIT_S", 0.2)
    with pytest.raises(e2ee_mail.UsageError, match="is locked"):
        mailbox.rewrap_mailbox(mbox, ring.path, workers=1)
    assert mbox.read_bytes() == original
    (tmp_path / "inbox.lock").unlink()
    # The work already done is journaled: the next run only commits.
    monkeypatch.setattr(mailworker, "mbox_task", real)
    summary = mailbox.rewrap_mailbox(mbox, ring.path, workers=1)
    assert (summary.resumed, summary.rewrapped) == (1, 1)
    assert not (tmp_path / "inbox.lock").exists()


def test_a_dot_lock_left_by_a_killed_rewrap_is_broken(
    ring: Keyring, tmp_path: Path
) -> None:
    mbox = tmp_path / "inbox"
    (data, _) = _messages(ring, 1)["m0000"]
    mbox.write_bytes(b"From bob Thu Jan  1 00:00:00 2026\n" + data + b"\n")
    ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (tmp_path / "inbox.lock").write_bytes(f"e2ee-mail rewrap {dead}\n".encode())
    summary = mailbox.rewrap_mailbox(mbox, ring.path, workers=1)
    assert summary.rewrapped == 1
    assert not (tmp_path / "inbox.lock").exists()


def test_protected_keyring_opens_in_every_worker(tmp_path: Path) -> None:
    ring = Keyring.open(tmp_path / "ring", passphrase="s3cret words")
    ring.rotate(ALICE, format="x509", kind="x25519", now=T0)
    messages = _messages(ring, 6)
    root = _maildir(tmp_path / "Maildir", messages)
    new = ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    with pytest.raises(e2ee_mail.PassphraseError):
        mailbox.rewrap_mailbox(root, ring.path, workers=2)
    summary = mailbox.rewrap_mailbox(
        root, ring.path, passphrase="s3cret words", workers=2
    )
    assert (summary.rewrapped, summary.skipped, summary.failed) == (4, 2, 0)
    for name, (_, body) in messages.items():
        if body is not None:
            assert _open_all(_find(root, name).read_bytes(), new.key) == [body]


def test_default_run_uses_a_pool_only_for_enough_messages() -> None:
    assert not mailbox._use_pool(None, 10)
    assert mailbox._use_pool(None, 10_000) == ((os.cpu_count() or 1) > 1)
    assert mailbox._use_pool(2, 1)
    assert not mailbox._use_pool(1, 10_000)


@pytest.mark.parametrize(
    "line",
    [b'["rewrapped", "m0000", "", null, 5]', b'[["x"], "m0000", "", null, []]', b"{}"],
)
def test_a_damaged_journal_line_is_redone(
    ring: Keyring, tmp_path: Path, line: bytes
) -> None:
    import json

    root = _maildir(tmp_path / "Maildir", _messages(ring, 3))
    ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    header = json.dumps(mailbox.journal_header("maildir", root)).encode()
    (root / "e2ee-rewrap.journal").write_bytes(header + b"\n" + line + b"\n")
    summary = mailbox.rewrap_mailbox(root, ring.path, workers=1)
    assert (summary.resumed, summary.rewrapped, summary.skipped) == (0, 2, 1)


def test_an_unexpected_exception_fails_one_message_not_the_run(
    ring: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = _messages(ring, 3)
    root = _maildir(tmp_path / "Maildir", messages)
    ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    real = mailscan.find_encrypted

    def buggy(data: bytes) -> tuple[mailscan.EncryptedPart, ...]:
        if b"<0@example.org>" in data:
            raise IndexError("secret bytes must not show")
        return real(data)

    monkeypatch.setattr(mailscan, "find_encrypted", buggy)
    summary = mailbox.rewrap_mailbox(root, ring.path, workers=1)
    assert (summary.rewrapped, summary.skipped, summary.failed) == (1, 1, 1)
    (reason,) = [r for _, r in summary.failures]
    assert reason.startswith("internal error (IndexError)")
    assert "secret" not in reason
    assert _find(root, "m0000").read_bytes() == messages["m0000"][0]


# -- files keep their owners ---------------------------------------------------

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="giving files to another user needs root"
)
OTHER = (12345, 12345)


def _owner_and_mode(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_uid, st.st_gid, st.st_mode & 0o7777


@needs_root
def test_maildir_rewrap_as_root_keeps_each_message_s_owner_and_mode(
    ring: Keyring, tmp_path: Path
) -> None:
    messages = _messages(ring, 6)
    root = _maildir(tmp_path / "Maildir", messages)
    for path in [root, *root.iterdir(), *root.rglob("m*")]:
        os.chown(path, *OTHER)
    new = ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    summary = mailbox.rewrap_mailbox(root, ring.path, workers=1)
    assert (summary.rewrapped, summary.failed) == (4, 0)
    for name, (_, body) in messages.items():
        path = _find(root, name)
        assert _owner_and_mode(path) == (*OTHER, 0o640)
        if body is not None:
            assert _open_all(path.read_bytes(), new.key) == [body]
    # The lock file stays in the Maildir: it is the owner's too, so that their own
    # next run can open it.
    assert _owner_and_mode(root / "e2ee-rewrap.lock")[:2] == OTHER


def test_a_message_whose_owner_cannot_be_kept_is_not_replaced(
    ring: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = _messages(ring, 1)
    root = _maildir(tmp_path / "Maildir", messages)
    ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    real_fstat = os.fstat

    def foreign_owner(fd: int) -> os.stat_result:
        # Every file looks as if it belonged to someone else, and chown refuses:
        # what a user who is not root sees for another user's message.
        st = list(real_fstat(fd))
        st[4], st[5] = OTHER
        return os.stat_result(st)

    def refuse(fd: int, uid: int, gid: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "fstat", foreign_owner)
    monkeypatch.setattr(os, "fchown", refuse)
    summary = mailbox.rewrap_mailbox(root, ring.path, workers=1)
    assert summary.failed == 1
    assert "cannot keep the message's owner" in summary.failures[0][1]
    assert _find(root, "m0000").read_bytes() == messages["m0000"][0]
    assert list((root / "tmp").iterdir()) == []


@needs_root
def test_mbox_rewrap_as_root_keeps_the_mbox_s_owner_and_mode(
    ring: Keyring, tmp_path: Path
) -> None:
    (data, body) = _messages(ring, 1)["m0000"]
    mbox = _mbox(tmp_path / "inbox", [data, plain_mail(1)])
    os.chown(mbox, *OTHER)
    os.chmod(mbox, 0o640)
    inode = mbox.stat().st_ino
    new = ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    summary = mailbox.rewrap_mailbox(mbox, ring.path, workers=1)
    assert (summary.rewrapped, summary.failed) == (1, 0)
    assert _owner_and_mode(mbox) == (*OTHER, 0o640)
    assert mbox.stat().st_ino == inode  # rewritten in place, not replaced
    assert _open_all(_mbox_messages(mbox)[0], new.key) == [body]


# -- mbox locking ----------------------------------------------------------------

WAIT_S = 60  # a bound on every wait below; none is reached when all goes well


class _FlockAgent(threading.Thread):
    """A delivery agent that locks the mbox with flock(2) only, then appends.

    Started while the mbox is free, it takes the lock and holds it until ``go``;
    started while someone holds the lock, it is refused once (``refused``), then
    waits for the lock, as agents do.
    """

    def __init__(self, path: Path, message: bytes) -> None:
        super().__init__(daemon=True)
        self.path, self.message = path, message
        self.holding, self.refused = threading.Event(), threading.Event()
        self.go, self.appended = threading.Event(), threading.Event()

    def run(self) -> None:
        with open(self.path, "ab") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.refused.set()
                fcntl.flock(fh, fcntl.LOCK_EX)
            else:
                self.holding.set()
                self.go.wait(WAIT_S)
            fh.write(FROM_LINE + self.message + b"\n")
            fh.flush()
            fcntl.flock(fh, fcntl.LOCK_UN)
        self.appended.set()


def test_a_delivery_holding_flock_at_commit_time_is_waited_for_and_kept(
    ring: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    certs = ring.recipients(ALICE)
    first = smime_mail(e2ee_mail.encrypt(b"first", certs, format="cms"), 1)
    late = smime_mail(e2ee_mail.encrypt(b"late", certs, format="cms"), 2)
    mbox = _mbox(tmp_path / "inbox", [first])
    new = ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    agent = _FlockAgent(mbox, late)
    real_task = mailworker.mbox_task

    def task(*args: object) -> mailbox.Outcome:
        if not agent.is_alive() and not agent.appended.is_set():
            agent.start()  # the agent locks the mbox while the re-wrap works
            assert agent.holding.wait(WAIT_S)
        return real_task(*args)  # type: ignore[arg-type]

    def pause() -> None:
        # The re-wrap found the mbox locked and waits: the agent delivers now.
        agent.go.set()
        assert agent.appended.wait(WAIT_S)

    monkeypatch.setattr(mailworker, "mbox_task", task)
    monkeypatch.setattr(mboxfile, "_pause", pause, raising=False)
    try:
        summary = mailbox.rewrap_mailbox(mbox, ring.path, workers=1)
    finally:
        agent.go.set()
        agent.join(WAIT_S)
    assert agent.appended.is_set()
    assert (summary.rewrapped, summary.failed) == (2, 0)
    assert [_open_all(m, new.key) for m in _mbox_messages(mbox)] == [
        [b"first"],
        [b"late"],
    ]


def test_a_delivery_waiting_on_flock_during_the_commit_is_kept(
    ring: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    certs = ring.recipients(ALICE)
    first = smime_mail(e2ee_mail.encrypt(b"first", certs, format="cms"), 1)
    late = plain_mail(2)
    mbox = _mbox(tmp_path / "inbox", [first])
    new = ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    agent = _FlockAgent(mbox, late)
    real_assemble = mboxfile.assemble

    def assemble(*args: object, **kwargs: object) -> object:
        # The re-wrap holds the locks: the agent opens the mbox and waits.
        agent.start()
        assert agent.refused.wait(WAIT_S)
        return real_assemble(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(mboxfile, "assemble", assemble)
    try:
        summary = mailbox.rewrap_mailbox(mbox, ring.path, workers=1)
    finally:
        agent.go.set()
        agent.join(WAIT_S)
    assert agent.appended.is_set()
    assert summary.rewrapped == 1
    messages = _mbox_messages(mbox)
    assert _open_all(messages[0], new.key) == [b"first"]
    assert messages[1:] == [late + b"\n"]


_HOLDER = textwrap.dedent(
    """
    import fcntl, os, sys
    path, kind = sys.argv[1:3]
    if kind == "dotlock":
        os.close(os.open(path + ".lock", os.O_WRONLY | os.O_CREAT | os.O_EXCL))
    else:
        fd = os.open(path, os.O_RDWR)
        (fcntl.lockf if kind == "fcntl" else fcntl.flock)(fd, fcntl.LOCK_EX)
    print("locked", flush=True)
    sys.stdin.readline()
    if kind == "dotlock":
        os.unlink(path + ".lock")
    """
)


@pytest.mark.parametrize("kind", ["dotlock", "fcntl", "flock"])
def test_every_mbox_lock_kind_held_by_another_program_is_honoured(
    ring: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    (data, _) = _messages(ring, 1)["m0000"]
    mbox = _mbox(tmp_path / "inbox", [data])
    original = mbox.read_bytes()
    ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    monkeypatch.setattr(mboxfile, "LOCK_WAIT_S", 0.3, raising=False)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(mbox), kind],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        with pytest.raises(e2ee_mail.UsageError, match="is locked"):
            mailbox.rewrap_mailbox(mbox, ring.path, workers=1)
        assert mbox.read_bytes() == original
    finally:
        holder.communicate(b"\n", timeout=WAIT_S)
    summary = mailbox.rewrap_mailbox(mbox, ring.path, workers=1)
    assert summary.rewrapped == 1


# -- full disks and other passing faults --------------------------------------


class _Budgeted:
    """A file open for writing on a :class:`_Disk`."""

    def __init__(self, fh: BinaryIO, disk: _Disk) -> None:
        self._fh, self._disk = fh, disk

    def write(self, data: bytes) -> int:
        n = min(len(data), self._disk.free)
        self._fh.write(data[:n])
        self._disk.free -= n
        if n < len(data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return n

    def __enter__(self) -> _Budgeted:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()

    def __getattr__(self, name: str) -> object:
        return getattr(self._fh, name)


class _Disk:
    """Files written whose path contains one of ``names`` share ``free`` bytes: a
    write past them writes what fits, then fails with ENOSPC, as write(2) does on a
    full disk. Install with :meth:`install`."""

    def __init__(self, free: int, *names: str) -> None:
        self.free, self.names = free, names

    def _counts(self, path: str) -> bool:
        return any(name in path for name in self.names)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real_fdopen, real_open = os.fdopen, open

        def fdopen(fd: int, mode: str = "r", *args: object, **kw: object) -> object:
            fh = real_fdopen(fd, mode, *args, **kw)  # type: ignore[call-overload]
            target = os.readlink(f"/proc/self/fd/{fd}")
            return _Budgeted(fh, self) if "w" in mode and self._counts(target) else fh

        def open_(file: object, mode: str = "r", *args: object, **kw: object) -> object:
            fh = real_open(file, mode, *args, **kw)  # type: ignore[call-overload]
            counted = "w" in mode and self._counts(os.fspath(file))  # type: ignore[arg-type]
            return _Budgeted(fh, self) if counted else fh

        monkeypatch.setattr(os, "fdopen", fdopen)
        monkeypatch.setattr(mboxfile, "open", open_, raising=False)


def _encrypted_mbox(ring: Keyring, tmp_path: Path, count: int) -> tuple[Path, list]:
    messages = sorted(_messages(ring, count).items())
    mbox = _mbox(tmp_path / "inbox", [data for _, (data, _) in messages])
    return mbox, messages


def test_a_full_disk_stops_the_run_leaves_no_partial_file_and_is_resumed(
    ring: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mbox, messages = _encrypted_mbox(ring, tmp_path, 12)
    original = mbox.read_bytes()
    new = ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    work = tmp_path / "inbox.e2ee-rewrap"
    # Room for about three re-wrapped messages, then the disk is full.
    _Disk(3 * len(messages[0][1][0]) + 100, ".msg.tmp").install(monkeypatch)
    with pytest.raises(e2ee_mail.Error, match="No space left on device"):
        mailbox.rewrap_mailbox(mbox, ring.path, workers=1)
    assert mbox.read_bytes() == original
    left = sorted(p.name for p in work.iterdir())
    done = [name for name in left if name.endswith(".msg")]
    assert done  # whole messages, journaled: the resume keeps them
    assert left == sorted(["journal", "lock", *done])
    monkeypatch.undo()
    summary = mailbox.rewrap_mailbox(mbox, ring.path, workers=1)
    # The message that met the full disk is tried again, not reported as failed.
    assert (summary.rewrapped, summary.skipped, summary.failed) == (8, 4, 0)
    assert summary.resumed > len(done)  # plain messages too
    for message, (_, (_, body)) in zip(_mbox_messages(mbox), messages, strict=True):
        if body is not None:
            assert _open_all(message, new.key) == [body]
    assert not work.exists()


def test_no_space_for_the_new_mbox_leaves_no_partial_copy(
    ring: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mbox, _ = _encrypted_mbox(ring, tmp_path, 6)
    original = mbox.read_bytes()
    ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    work = tmp_path / "inbox.e2ee-rewrap"
    _Disk(1000, "mbox.new").install(monkeypatch)
    with pytest.raises(e2ee_mail.Error, match="No space left on device"):
        mailbox.rewrap_mailbox(mbox, ring.path, workers=1)
    assert mbox.read_bytes() == original
    assert sorted(p.name for p in work.iterdir() if not p.name.endswith(".msg")) == [
        "journal",
        "lock",
    ]
    monkeypatch.undo()
    summary = mailbox.rewrap_mailbox(mbox, ring.path, workers=1)
    assert (summary.resumed, summary.rewrapped, summary.failed) == (6, 4, 0)


def test_a_message_failed_by_an_io_error_is_tried_again_on_resume(
    ring: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = _messages(ring, 30)
    root = _maildir(tmp_path / "Maildir", messages)
    new = ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    bad = str(_find(root, "m0003"))
    real_task = mailworker.maildir_task
    calls = []

    def task(*args: str) -> mailbox.Outcome:
        calls.append(args)
        if len(calls) == 20:
            raise KeyboardInterrupt
        return real_task(*args)

    def read_error(file: str, *args: object, **kw: object) -> object:
        if file == bad:  # the disk fails to read this message, this time
            raise OSError(errno.EIO, os.strerror(errno.EIO), file)
        return open(file, *args, **kw)  # type: ignore[call-overload]

    monkeypatch.setattr(mailworker, "maildir_task", task)
    monkeypatch.setattr(mailworker, "open", read_error, raising=False)
    with pytest.raises(KeyboardInterrupt):
        mailbox.rewrap_mailbox(root, ring.path, workers=1)
    monkeypatch.undo()
    summary = mailbox.rewrap_mailbox(root, ring.path, workers=1)
    assert summary.resumed == mailbox._INLINE_BATCH - 1
    assert summary.failed == 0
    assert _open_all(_find(root, "m0003").read_bytes(), new.key) == [
        messages["m0003"][1]
    ]


def test_a_full_disk_under_the_journal_stops_the_workers_promptly(
    ring: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = _messages(ring, 100)
    root = _maildir(tmp_path / "Maildir", messages)
    before = {p.name: p.read_bytes() for p in root.rglob("m*")}
    ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))

    def full(self: object, outcome: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(mailbox.Journal, "record", full)
    with pytest.raises(e2ee_mail.Error, match="No space left on device"):
        mailbox.rewrap_mailbox(root, ring.path, workers=2)
    changed = [p for p in root.rglob("m*") if p.read_bytes() != before[p.name]]
    # Batches of 6 (100 messages, 2 workers); at most two per worker were ever
    # handed out. Before, the pool re-wrapped the whole Maildir before stopping.
    assert len(changed) <= 2 * 2 * 6
    monkeypatch.undo()
    again = mailbox.rewrap_mailbox(root, ring.path, workers=2)
    assert again.failed == 0
    assert again.rewrapped + len(changed) == 67


def test_an_mbox_whose_directory_refuses_the_work_directory_is_a_usage_error(
    ring: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mbox = _mbox(tmp_path / "inbox", [plain_mail(1)])
    real_mkdir = Path.mkdir

    def mkdir(self: Path, *args: object, **kw: object) -> None:
        if self.name.endswith(".e2ee-rewrap"):
            raise PermissionError(13, os.strerror(13), str(self))
        real_mkdir(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "mkdir", mkdir)
    with pytest.raises(e2ee_mail.UsageError, match="cannot create"):
        mailbox.rewrap_mailbox(mbox, ring.path, workers=1)


# Re-wraps the mbox argv[1] with the keyring argv[2], SIGKILLing itself at the
# third write into the mbox: a kill in the middle of the in-place rewrite.
_KILLED_COMMIT = textwrap.dedent(
    """
    import os, signal, sys
    from e2ee_mail.mailbox import mbox, rewrap

    mbox._BLOCK = 64
    real_pwrite, writes = os.pwrite, []

    def pwrite(fd, data, offset):
        writes.append(offset)
        if len(writes) == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_pwrite(fd, data, offset)

    os.pwrite = pwrite
    rewrap.rewrap_mailbox(sys.argv[1], sys.argv[2], workers=1)
    """
)


def test_a_run_killed_while_rewriting_the_mbox_is_completed_by_the_next(
    ring: Keyring, tmp_path: Path
) -> None:
    mbox, messages = _encrypted_mbox(ring, tmp_path, 6)
    new = ring.rotate(ALICE, now=T0 + dt.timedelta(days=1))
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_COMMIT, str(mbox), str(ring.path)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr.decode()
    assert mboxfile.pending(tmp_path / "inbox.e2ee-rewrap")
    with open(mbox, "ab") as fh:  # a delivery while nobody holds the locks
        fh.write(FROM_LINE + plain_mail(99) + b"\n")
    summary = mailbox.rewrap_mailbox(mbox, ring.path, workers=1)
    assert summary.failed == 0
    stored = _mbox_messages(mbox)
    assert stored[-1] == plain_mail(99) + b"\n"
    for message, (_, (_, body)) in zip(stored[:-1], messages, strict=True):
        if body is not None:
            assert _open_all(message, new.key) == [body]
    assert not (tmp_path / "inbox.e2ee-rewrap").exists()
    assert not (tmp_path / "inbox.lock").exists()
