"""``e2ee-mail rewrap -i/-o`` as a subprocess: every format (CMS DER and PEM,
OpenPGP binary and armored, S/MIME and PGP/MIME mail) re-keyed as a stream, its
sealed body copied; memory bounded by the stream, not by the message; the usual
exit statuses and no output on failure."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

import e2ee_mail
from e2ee_mail import cli

ROOT = str(Path(e2ee_mail.__file__).resolve().parents[1])
CLI = [sys.executable, "-m", "e2ee_mail.cli"]
BODY = bytes(i % 253 for i in range(300_000))
MAIL = (
    b"From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\n"
    b"Subject: the real subject\r\nMessage-ID: <rewrap@example.org>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nHi Bob,\r\nsecret.\r\n"
)


def run(
    cwd: Path, *args: str, stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": ROOT},
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """old/new key pairs in both formats: x_old, x_new (X.509), p_old, p_new."""
    d = tmp_path_factory.mktemp("rewrap")
    for name, fmt in (
        ("x_old", "x509"),
        ("x_new", "x509"),
        ("p_old", "openpgp"),
        ("p_new", "openpgp"),
    ):
        key = e2ee_mail.generate_key(f"{name} <{name}@example.org>", format=fmt)  # type: ignore[arg-type]
        (d / f"{name}.key").write_bytes(key.export())
        (d / f"{name}.pub").write_bytes(key.public.export())
    return d


def _encrypted(keys: Path, fmt: str, armor: bool, data: bytes) -> bytes:
    prefix = "x" if fmt in ("cms", "smime") else "p"
    out = io.BytesIO()
    e2ee_mail.encrypt_stream(
        io.BytesIO(data),
        out,
        e2ee_mail.load_certificate(keys / f"{prefix}_old.pub"),
        format=fmt,  # type: ignore[arg-type]
        armor=armor,
    )
    return out.getvalue()


CASES = [
    ("cms", False),
    ("cms", True),
    ("openpgp", False),
    ("openpgp", True),
    ("smime", False),
    ("pgpmime", False),
]


@pytest.mark.parametrize(("fmt", "armor"), CASES)
def test_rewrap_then_the_new_key_decrypts(
    keys: Path, tmp_path: Path, fmt: str, armor: bool
) -> None:
    mail = fmt in ("smime", "pgpmime")
    prefix = "x" if fmt in ("cms", "smime") else "p"
    (tmp_path / "in").write_bytes(_encrypted(keys, fmt, armor, MAIL if mail else BODY))
    out = tmp_path / "re"
    proc = run(
        keys,
        "rewrap",
        "--key",
        f"{prefix}_old.key",
        "--to",
        f"{prefix}_new.pub",
        "-i",
        str(tmp_path / "in"),
        "-o",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr.decode()
    rekeyed = out.read_bytes()
    assert rekeyed.startswith(b"-----BEGIN") == armor
    new_key = e2ee_mail.load_key(keys / f"{prefix}_new.key")
    if mail:
        opened = e2ee_mail.decrypt_message(rekeyed, new_key)
        assert opened["Subject"] == "the real subject"
        assert "Hi Bob," in opened.get_content()
    else:
        assert e2ee_mail.decrypt(rekeyed, new_key) == BODY
    proc = run(keys, "decrypt", "--key", f"{prefix}_old.key", "-i", str(out), "-o", "-")
    assert proc.returncode == cli.EXIT_NO_KEY, proc.stderr


def test_rewrap_through_stdin_and_stdout(keys: Path) -> None:
    data = _encrypted(keys, "openpgp", True, BODY)
    proc = run(keys, "rewrap", "--key", "p_old.key", "--to", "p_new.pub", stdin=data)
    assert proc.returncode == 0, proc.stderr.decode()
    assert (
        e2ee_mail.decrypt(proc.stdout, e2ee_mail.load_key(keys / "p_new.key")) == BODY
    )


@pytest.mark.parametrize(
    ("key", "damage", "status"),
    [
        ("p_new.key", False, cli.EXIT_NO_KEY),
        ("p_old.key", True, cli.EXIT_BAD_INPUT),
    ],
)
def test_a_failed_rewrap_writes_nothing(
    keys: Path, tmp_path: Path, key: str, damage: bool, status: int
) -> None:
    data = bytearray(_encrypted(keys, "openpgp", False, BODY))
    if damage:
        data[-3] ^= 1  # the final tag: found only once the body went by
    (tmp_path / "in").write_bytes(data)
    out = tmp_path / "re"
    args = ("--key", key, "--to", "p_new.pub", "-i", str(tmp_path / "in"))
    proc = run(keys, "rewrap", *args, "-o", str(out))
    assert proc.returncode == status, proc.stderr
    assert proc.stderr.startswith(b"e2ee-mail: error: ")
    assert proc.stderr.count(b"\n") == 1
    assert not out.exists() and list(tmp_path.iterdir()) == [tmp_path / "in"]


_PEAK = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
"""


@pytest.mark.parametrize("fmt", ["cms", "openpgp"])
def test_rewrap_memory_does_not_grow_with_the_message(
    keys: Path, tmp_path: Path, fmt: str
) -> None:
    # A 64 MiB message: held in memory (as rewrap -i/-o did) it alone would be
    # more than the whole process may use here.
    size = 64 << 20
    prefix = "x" if fmt == "cms" else "p"
    sealed = tmp_path / "big"
    with open(sealed, "wb") as fh:
        e2ee_mail.encrypt_stream(
            io.BytesIO(os.urandom(size)),
            fh,  # type: ignore[arg-type]
            e2ee_mail.load_certificate(keys / f"{prefix}_old.pub"),
            format=fmt,  # type: ignore[arg-type]
        )
    out = tmp_path / "re"
    command = [
        *CLI,
        "rewrap",
        "--key",
        str(keys / f"{prefix}_old.key"),
        "--to",
        str(keys / f"{prefix}_new.pub"),
        "-i",
        str(sealed),
        "-o",
        str(out),
    ]
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK, *command],
        cwd=tmp_path,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": ROOT},
        timeout=300,
        check=True,
    )
    peak = int(proc.stdout)
    assert out.stat().st_size >= size
    assert peak < size, f"peak RSS {peak >> 20} MiB for a {size >> 20} MiB message"
