"""``--require-pq`` on encrypt, rewrap and rewrap --mailbox, as a subprocess: a
mixed recipient set (one post-quantum, one classic recipient) is sent by default
and refused with the option, naming the classic recipient, with nothing written."""

from __future__ import annotations

import email
import email.policy
import subprocess
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

import pytest
from clirun import ok, run

import e2ee_mail
from e2ee_mail.cli_status import EXIT_ERROR
from e2ee_mail.keys.ring import Keyring

Fmt = Literal["openpgp", "x509"]
_PQ_KIND = {"openpgp": "mlkem768-x25519", "x509": "mlkem768"}
BODY = b"board minutes\n"


def _write(tmp: Path, name: str, key: e2ee_mail.SecretKey) -> tuple[str, str]:
    pub, sec = tmp / f"{name}.pub", tmp / f"{name}.key"
    pub.write_bytes(key.public.export())
    sec.write_bytes(key.export())
    return str(pub), str(sec)


@pytest.fixture(scope="module", params=["openpgp", "x509"])
def files(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    fmt: Fmt = request.param
    tmp = tmp_path_factory.mktemp(fmt)
    quinn = e2ee_mail.generate_key(
        "Quinn <quinn@example.org>", format=fmt, kind=_PQ_KIND[fmt]
    )
    carl = e2ee_mail.generate_key("Carl <carl@example.org>", format=fmt)
    (tmp / "plain").write_bytes(BODY)
    quinn_pub, quinn_key = _write(tmp, "quinn", quinn)
    carl_pub, carl_key = _write(tmp, "carl", carl)
    return {
        "dir": str(tmp),
        "plain": str(tmp / "plain"),
        "quinn.pub": quinn_pub,
        "quinn.key": quinn_key,
        "carl.pub": carl_pub,
        "carl.key": carl_key,
        "carl": carl.public.fingerprint,
    }


def _refused(proc: subprocess.CompletedProcess[str], out: Path, carl: str) -> None:
    assert proc.returncode == EXIT_ERROR
    err = proc.stderr
    assert err.startswith("e2ee-mail: error: ")
    assert err.count("\n") == 1
    assert "post-quantum" in err
    assert carl in err
    assert "quinn@" not in err
    assert not out.exists()


def test_encrypt_default_sends_and_require_pq_refuses_a_mixed_set(
    files: dict[str, str],
) -> None:
    out = Path(files["dir"]) / "mixed.out"
    common = ["encrypt", "--to", files["quinn.pub"], "--to", files["carl.pub"]]
    proc = run(*common, "--require-pq", "-i", files["plain"], "-o", str(out))
    _refused(proc, out, files["carl"])
    ok(*common, "-i", files["plain"], "-o", str(out))
    for who in ("quinn", "carl"):
        opened = ok("decrypt", "--key", files[f"{who}.key"], "-i", str(out))
        assert opened.encode() == BODY
    out.unlink()
    ok(
        "encrypt",
        "--require-pq",
        "--to",
        files["quinn.pub"],
        "-i",
        files["plain"],
        "-o",
        str(out),
    )
    assert "mlkem" in ok("inspect", "-i", str(out))
    out.unlink()


def test_rewrap_require_pq(files: dict[str, str]) -> None:
    tmp = Path(files["dir"])
    sealed = tmp / "old.msg"
    ok("encrypt", "--to", files["carl.pub"], "-i", files["plain"], "-o", str(sealed))
    out = tmp / "rewrapped.msg"
    rewrap = ["rewrap", "--key", files["carl.key"], "-i", str(sealed), "-o", str(out)]
    proc = run(
        *rewrap, "--to", files["quinn.pub"], "--to", files["carl.pub"], "--require-pq"
    )
    _refused(proc, out, files["carl"])
    ok(*rewrap, "--to", files["quinn.pub"], "--require-pq")
    info = ok("inspect", "-i", str(out))
    assert "recipients: 1" in info
    assert "mlkem" in info
    opened = ok("decrypt", "--key", files["quinn.key"], "-i", str(out))
    assert opened.encode() == BODY
    out.unlink()


ALICE = "alice@example.org"


def _mail(ring: Keyring) -> bytes:
    msg = EmailMessage()
    msg["From"] = "bob@example.org"
    msg["To"] = ALICE
    msg["Subject"] = "archived"
    msg.set_content("kept for years\n")
    sealed = e2ee_mail.encrypt_message(msg, ring.recipients(ALICE, format="openpgp"))
    return sealed.as_bytes(policy=email.policy.SMTP)


def test_rewrap_mailbox_require_pq_refuses_a_classic_keyring(tmp_path: Path) -> None:
    ring_dir = tmp_path / "ring"
    ring = Keyring.open(ring_dir)
    ring.rotate(ALICE, format="openpgp", kind="x25519")
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    stored = maildir / "cur" / "1.host:2,S"
    original = _mail(ring)
    stored.write_bytes(original)
    command = ["rewrap", "--mailbox", str(maildir), "--keyring", str(ring_dir)]
    command += ["--workers", "1", "--require-pq"]
    # Rotated to a new classic key: the upgrade would leave the mail classic.
    ok("keyring", "--dir", str(ring_dir), "rotate", ALICE, "--kind", "x25519")
    proc = run(*command)
    assert proc.returncode == EXIT_ERROR, proc.stderr
    assert "post-quantum" in proc.stderr
    assert ALICE in proc.stderr
    assert stored.read_bytes() == original
    assert sorted(p.name for p in maildir.iterdir()) == ["cur", "new", "tmp"]
    ok("keyring", "--dir", str(ring_dir), "rotate", ALICE, "--kind", "mlkem768-x25519")
    proc = run(*command)
    assert proc.returncode == 0, proc.stderr
    assert "re-wrapped 1, skipped 0, failed 0" in proc.stdout
    assert stored.read_bytes() != original
