"""What a shell user expects of ``e2ee-mail``, run as a subprocess: --version, help
text for every option, passphrases from a file, a descriptor or a terminal prompt,
exit statuses a script can act on, no binary data on a terminal, a quiet end when
the reader of stdout goes away, and plain words for input that is no message.

Terminals are pseudo-terminals (``pty``); the command runs in a session of its own,
so it never reaches the terminal the tests were started from.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import e2ee_mail
from e2ee_mail import cli

ROOT = str(Path(e2ee_mail.__file__).resolve().parents[1])
CLI = [sys.executable, "-m", "e2ee_mail.cli"]
PASSPHRASE = "correct horse"
BODY = b"binary \x00\x01\x02 body\n" * 64
TEXT = "Grüße, a text body\n".encode() * 64
NOT_A_MESSAGE = "e2ee-mail: error: not an encrypted message (S/MIME, CMS or OpenPGP)\n"
BINARY_REFUSED = (
    "e2ee-mail: error: refusing to write binary data to a terminal; use -o FILE, "
    "--armor, or -o -\n"
)


def _env(**extra: str) -> dict[str, str]:
    # The package under test, wherever the interpreter's installed copy is.
    return {**os.environ, "PYTHONPATH": ROOT, **extra}


def run(
    cwd: Path,
    *args: str,
    env: dict[str, str] | None = None,
    **kwargs: object,
) -> subprocess.CompletedProcess[bytes]:
    """Run the command; stdin empty and stdout/stderr captured unless given."""
    options: dict[str, object] = {"stdin": subprocess.DEVNULL}
    if "stdout" not in kwargs:
        options["stdout"] = subprocess.PIPE
    if "stderr" not in kwargs:
        options["stderr"] = subprocess.PIPE
    options.update(kwargs)
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [*CLI, *args],
        cwd=cwd,
        env=env or _env(),
        timeout=120,
        check=False,
        **options,
    )


def failed(proc: subprocess.CompletedProcess[bytes], status: int) -> str:
    """The one error line of a command that exited with ``status``."""
    err = proc.stderr.decode()
    assert proc.returncode == status, err
    assert err.startswith("e2ee-mail: error: ") and err.count("\n") == 1, err
    return err


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """a (OpenPGP), b (another), p (OpenPGP, passphrase-protected), x (X.509), and
    messages: to_a.gpg (BODY), to_p.gpg (BODY), text_to_a.gpg (TEXT), to_x.p7m."""
    d = tmp_path_factory.mktemp("habits")
    made = {
        name: e2ee_mail.generate_key(f"{name} <{name}@example.org>", format=fmt)
        for name, fmt in (("a", "openpgp"), ("b", "openpgp"), ("p", "openpgp"))
    }
    made["x"] = e2ee_mail.generate_key("X <x@example.org>", format="x509")
    for name, key in made.items():
        secret = PASSPHRASE.encode() if name == "p" else None
        (d / f"{name}.key").write_bytes(key.export(passphrase=secret))
        (d / f"{name}.pub").write_bytes(key.public.export())
    (d / "body").write_bytes(BODY)
    (d / "to_a.gpg").write_bytes(e2ee_mail.encrypt(BODY, made["a"].public))
    (d / "to_p.gpg").write_bytes(e2ee_mail.encrypt(BODY, made["p"].public))
    (d / "text_to_a.gpg").write_bytes(e2ee_mail.encrypt(TEXT, made["a"].public))
    (d / "to_x.p7m").write_bytes(
        e2ee_mail.encrypt(BODY, made["x"].public, format="cms")
    )
    return d


# --- version and help ---------------------------------------------------------------


def test_version_names_the_package_version(tmp_path: Path) -> None:
    proc = run(tmp_path, "--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == f"e2ee-mail {e2ee_mail.__version__}\n"


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_every_option_and_argument_has_help_text() -> None:
    missing = [
        f"{parser.prog} {'/'.join(action.option_strings) or action.dest}"
        for parser in _parsers(cli._build_parser(None))
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not action.help
    ]
    assert missing == []


def test_help_says_what_the_defaults_are(tmp_path: Path) -> None:
    text = run(tmp_path, "encrypt", "--help").stdout.decode()
    flat = " ".join(text.split())
    assert "-i IN read from IN (default: stdin)" in flat
    assert "-o OUT write to OUT" in flat and "(default: stdout;" in flat
    assert "--to CERT recipient certificate file" in flat
    assert "auto picks SEIPDv2" in flat and "(default: auto)" in flat
    assert "--key KEY secret key file" in " ".join(
        run(tmp_path, "decrypt", "--help").stdout.decode().split()
    )


@pytest.mark.parametrize("argv", [["--help"], ["decrypt", "--help"]])
def test_help_lists_the_exit_statuses(tmp_path: Path, argv: list[str]) -> None:
    text = run(tmp_path, *argv).stdout.decode()
    assert "exit status:" in text
    for code, meaning in cli.EXIT_CODES.items():
        assert f"  {code:<5}{meaning}\n" in text


# --- exit statuses ------------------------------------------------------------------


def test_exit_statuses_are_distinct() -> None:
    assert len(set(cli.EXIT_CODES)) == len(cli.EXIT_CODES)
    assert (cli.EXIT_USAGE, cli.EXIT_NO_KEY, cli.EXIT_BAD_INPUT) == (2, 3, 4)
    assert cli.EXIT_PASSPHRASE == 5


def test_a_key_the_message_does_not_name_exits_3(keys: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run(keys, "decrypt", "--key", "b.key", "-i", "to_a.gpg", "-o", str(out))
    assert "none of the supplied keys" in failed(proc, cli.EXIT_NO_KEY)
    assert not out.exists()


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_damaged_input_exits_4(keys: Path, tmp_path: Path, damage: str) -> None:
    data = bytearray((keys / "to_a.gpg").read_bytes())
    if damage == "flip":
        data[-20] ^= 1
    else:
        del data[len(data) // 2 :]
    (tmp_path / "bad.gpg").write_bytes(data)
    out = tmp_path / "out"
    args = ("--key", str(keys / "a.key"), "-i", "bad.gpg", "-o", str(out))
    failed(run(tmp_path, "decrypt", *args), cli.EXIT_BAD_INPUT)
    assert not out.exists()


def test_a_wrong_passphrase_exits_5(keys: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run(
        keys,
        "decrypt",
        "--key",
        "p.key",
        "--passphrase-env",
        "PW",
        "-i",
        "to_p.gpg",
        "-o",
        str(out),
        env=_env(PW="wrong"),
    )
    assert "passphrase" in failed(proc, cli.EXIT_PASSPHRASE)
    assert not out.exists()


def test_a_missing_passphrase_without_a_terminal_exits_5(
    keys: Path, tmp_path: Path
) -> None:
    # stdin is a pipe here: no prompt, a script must not hang.
    out = tmp_path / "out"
    proc = run(keys, "decrypt", "--key", "p.key", "-i", "to_p.gpg", "-o", str(out))
    failed(proc, cli.EXIT_PASSPHRASE)
    assert not out.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["decrypt", "--key", "a.key", "-i", "no-such-file"],
        ["decrypt", "--key", "a.key", "--bogus"],
        ["decrypt", "--key", "a.key", "--passphrase-env", "UNSET_E2EE_TEST_VAR"],
        ["decrypt", "--key", "a.key", "--passphrase-env", "V", "--passphrase-fd", "3"],
        ["decrypt", "--key", "a.key", "--passphrase-fd", "x"],
        ["decrypt", "--key", "a.key", "--passphrase-fd", "0"],
        ["rewrap"],
    ],
)
def test_usage_errors_exit_2(keys: Path, argv: list[str]) -> None:
    failed(run(keys, *argv), cli.EXIT_USAGE)


# --- passphrases --------------------------------------------------------------------


def test_passphrase_from_a_file_is_its_first_line(keys: Path, tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text(PASSPHRASE + "\nnot part of it\n")
    out = tmp_path / "out"
    args = ("--key", "p.key", "--passphrase-file", str(pw), "-i", "to_p.gpg")
    proc = run(keys, "decrypt", *args, "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == BODY


def test_passphrase_from_a_descriptor(keys: Path, tmp_path: Path) -> None:
    r, w = os.pipe()
    os.write(w, PASSPHRASE.encode() + b"\n")
    os.close(w)
    out = tmp_path / "out"
    try:
        proc = run(
            keys,
            "decrypt",
            "--key",
            "p.key",
            "--passphrase-fd",
            str(r),
            "-i",
            "to_p.gpg",
            "-o",
            str(out),
            pass_fds=(r,),
        )
    finally:
        os.close(r)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == BODY


def test_keygen_takes_its_passphrase_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text(PASSPHRASE + "\n")
    args = ("--uid", "K <k@example.org>", "--out", "k", "--passphrase-file", "pw")
    proc = run(tmp_path, "keygen", *args)
    assert proc.returncode == 0, proc.stderr
    with pytest.raises(e2ee_mail.PassphraseError):
        e2ee_mail.load_key(tmp_path / "k.key")
    e2ee_mail.load_key(tmp_path / "k.key", PASSPHRASE)


class _Terminal:
    """A pseudo-terminal: ``fd`` is the command's side, ``output()`` what it wrote."""

    def __init__(self) -> None:
        self.master, self.fd = pty.openpty()
        self._seen = bytearray()

    def pump(self, timeout: float = 0.05) -> None:
        if select.select([self.master], [], [], timeout)[0]:
            # EIO once the command's side is closed: nothing more to read.
            with contextlib.suppress(OSError):
                self._seen += os.read(self.master, 1 << 16)

    def output(self) -> bytes:
        return bytes(self._seen)

    def close(self) -> None:
        os.close(self.master)
        os.close(self.fd)


def _wait(proc: subprocess.Popen[bytes], term: _Terminal) -> None:
    deadline = time.monotonic() + 120
    while proc.poll() is None:
        assert time.monotonic() < deadline, "the command did not end"
        term.pump()
    term.pump(0)


def _read_until(stream: int, wanted: bytes) -> bytes:
    seen = b""
    deadline = time.monotonic() + 120
    while wanted not in seen:
        assert time.monotonic() < deadline, f"no {wanted!r} in {seen!r}"
        if select.select([stream], [], [], 0.1)[0]:
            chunk = os.read(stream, 4096)
            assert chunk, f"stream ended before {wanted!r}: {seen!r}"
            seen += chunk
    return seen


@pytest.mark.parametrize(("answer", "status"), [(PASSPHRASE, 0), ("wrong", 5)])
def test_a_protected_key_asks_on_the_terminal(
    keys: Path, tmp_path: Path, answer: str, status: int
) -> None:
    term = _Terminal()
    out = tmp_path / "out"
    try:
        proc = subprocess.Popen(
            [*CLI, "decrypt", "--key", "p.key", "-i", "to_p.gpg", "-o", str(out)],
            cwd=keys,
            env=_env(),
            stdin=term.fd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        assert proc.stderr is not None and proc.stdout is not None
        prompt = _read_until(proc.stderr.fileno(), b": ")
        assert prompt == b"Passphrase for p.key: "
        os.write(term.master, answer.encode() + b"\n")
        _wait(proc, term)
        rest = proc.stderr.read().decode()
        proc.stdout.close()
        proc.stderr.close()
    finally:
        term.close()
    assert proc.returncode == status, rest
    assert PASSPHRASE.encode() not in term.output()  # no echo
    if status == 0:
        assert out.read_bytes() == BODY
    else:
        assert rest.startswith("\ne2ee-mail: error: ") and not out.exists()


# --- terminals and pipes ------------------------------------------------------------


def _on_terminal(cwd: Path, *args: str) -> tuple[int, bytes, str]:
    """Run with stdout on a terminal: (status, what the terminal got, stderr)."""
    term = _Terminal()
    try:
        proc = subprocess.Popen(
            [*CLI, *args],
            cwd=cwd,
            env=_env(),
            stdin=subprocess.DEVNULL,
            stdout=term.fd,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        _wait(proc, term)
        assert proc.stderr is not None
        err = proc.stderr.read().decode()
        proc.stderr.close()
    finally:
        term.close()
    return proc.returncode, term.output(), err


@pytest.mark.parametrize(
    "argv",
    [
        ["encrypt", "--to", "a.pub", "-i", "body"],
        ["encrypt", "--format", "cms", "--to", "x.pub", "-i", "body"],
        ["decrypt", "--key", "a.key", "-i", "to_a.gpg"],
        ["rewrap", "--key", "a.key", "--to", "b.pub", "-i", "to_a.gpg"],
    ],
)
def test_binary_output_to_a_terminal_is_refused(keys: Path, argv: list[str]) -> None:
    status, shown, err = _on_terminal(keys, *argv)
    assert (status, err) == (cli.EXIT_USAGE, BINARY_REFUSED)
    assert shown == b""


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["encrypt", "--to", "a.pub", "-i", "body", "-o", "-"], b"\xc1"),
        (["encrypt", "--armor", "--to", "a.pub", "-i", "body"], b"-----BEGIN PGP"),
        (["decrypt", "--key", "a.key", "-i", "text_to_a.gpg"], "Grüße".encode()),
        (["decrypt", "--key", "a.key", "-i", "to_a.gpg", "-o", "-"], b"binary \x00"),
    ],
)
def test_text_or_dash_o_dash_reaches_the_terminal(
    keys: Path, argv: list[str], expected: bytes
) -> None:
    status, shown, err = _on_terminal(keys, *argv)
    assert status == 0, err
    assert shown.startswith(expected)


@pytest.fixture(scope="module")
def large(keys: Path) -> str:
    """A 2 MiB body: its output is larger than any pipe buffer."""
    (keys / "large").write_bytes(os.urandom(2 << 20))
    return "large"


@pytest.mark.parametrize(
    "argv",
    [
        ["encrypt", "--armor", "--to", "a.pub", "-i", "large"],
        ["decrypt", "--key", "a.key", "-i", "to_a.gpg", "-o", "-"],
        ["inspect", "-i", "to_a.gpg"],
        ["rewrap", "--key", "a.key", "--to", "b.pub", "-i", "to_a.gpg", "-o", "-"],
    ],
)
def test_a_closed_stdout_ends_quietly_with_141(
    keys: Path, large: str, argv: list[str]
) -> None:
    r, w = os.pipe()
    os.close(r)  # the reader is gone before the first write
    try:
        proc = run(keys, *argv, stdout=w)
    finally:
        os.close(w)
    assert (proc.returncode, proc.stderr) == (cli.EXIT_BROKEN_PIPE, b"")


def test_piped_into_head_ends_quietly(keys: Path, large: str) -> None:
    script = (
        f"{' '.join(CLI)} encrypt --armor --to a.pub -i {large} | head -c 100 "
        '>/dev/null; echo "status ${PIPESTATUS[0]}"'
    )
    proc = subprocess.run(
        ["bash", "-c", script],
        cwd=keys,
        env=_env(),
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert proc.stdout == b"status 141\n" and proc.stderr == b""


# --- files and input that is no message ---------------------------------------------


@pytest.mark.parametrize("slash", ["", "/"])
def test_output_to_a_directory_is_a_plain_usage_error(
    keys: Path, tmp_path: Path, slash: str
) -> None:
    target = str(tmp_path) + slash
    proc = run(keys, "encrypt", "--to", "a.pub", "-i", "body", "-o", target)
    err = failed(proc, cli.EXIT_USAGE)
    assert err == f"e2ee-mail: error: cannot write {target!r}: is a directory\n"
    assert list(tmp_path.iterdir()) == []


def _der_certificate(keys: Path) -> bytes:
    pem = (keys / "x.pub").read_text().splitlines()
    return base64.b64decode("".join(line for line in pem if "-----" not in line))


NOT_MESSAGES = {
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
    # What the OpenPGP parser read as "unexpected packet type 34": text whose first
    # octet has its top bit set (a UTF-8 quotation mark).
    "quote": "\u2019twas a text file, not a message\n".encode(),
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(32),
    "empty": b"",
}


@pytest.mark.parametrize("command", ["inspect", "decrypt"])
@pytest.mark.parametrize("kind", [*NOT_MESSAGES, "certificate"])
def test_input_that_is_no_message_is_named_so(
    keys: Path, tmp_path: Path, command: str, kind: str
) -> None:
    data = _der_certificate(keys) if kind == "certificate" else NOT_MESSAGES[kind]
    (tmp_path / "in").write_bytes(data)
    out = tmp_path / "out"
    extra = (
        ["--key", str(keys / "a.key"), "-o", str(out)] if command != "inspect" else []
    )
    proc = run(tmp_path, command, *extra, "-i", "in")
    assert failed(proc, cli.EXIT_BAD_INPUT) == NOT_A_MESSAGE
    assert not out.exists()


def test_messages_still_inspect(keys: Path) -> None:
    for name in ("to_a.gpg", "to_x.p7m"):
        proc = run(keys, "inspect", "-i", name)
        assert proc.returncode == 0, proc.stderr
        assert b"recipient" in proc.stdout
