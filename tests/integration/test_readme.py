"""The README runs: every ```python and ```sh block, in order, in one temporary
directory, as a reader would paste them.

Python blocks share one namespace (a later block uses what an earlier one defined);
shell blocks run under ``bash -eu`` with ``e2ee-mail`` on the PATH, from this
checkout. A block that must not run (it installs the checkout, needs the reader's
GnuPG keyring, or takes many minutes) is preceded by an HTML comment that starts with
``<!-- not run:`` and gives the reason.

What the README leaves to the reader is given here, as stand-ins: ``provider`` (the
mail provider's API client), the reader's files ``mail.eml`` and ``report.pdf``, and a
home directory with an empty ``~/Maildir``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
_FENCE = re.compile(r"^```([a-z]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_NOT_RUN = re.compile(r"<!-- not run: (?P<reason>[^>]+\S) -->$")
_RUNNABLE = ("python", "sh")


@dataclasses.dataclass(frozen=True)
class Block:
    """A fenced code block of the README."""

    language: str
    code: str
    line: int
    not_run: str | None  # the reason given, when marked


def readme_blocks() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    blocks = []
    for match in _FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = _NOT_RUN.match(before)
        blocks.append(
            Block(
                language=match[1],
                code=match[2],
                line=text.count("\n", 0, match.start()) + 1,
                not_run=marker["reason"] if marker else None,
            )
        )
    return blocks


class Provider:
    """Stands in for the provider's API client: keeps what it was given to send."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def send_raw(self, raw: bytes) -> None:
        self.sent.append(bytes(raw))


def _stand_ins(work: Path) -> Path:
    """The reader's files; returns the home directory."""
    mail = EmailMessage()
    mail["From"], mail["To"] = "app@example.org", "alice@example.org"
    mail["Subject"] = "Quarterly report"
    mail.set_content("The report is attached.\n")
    mail.add_attachment(b"%PDF-1.7\n", maintype="application", subtype="pdf")
    (work / "mail.eml").write_bytes(mail.as_bytes())
    (work / "report.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 64)
    home = work / "home"
    for sub in ("cur", "new", "tmp"):
        (home / "Maildir" / sub).mkdir(parents=True)
    return home


def _shell_env(work: Path, home: Path) -> dict[str, str]:
    """``e2ee-mail`` and ``e2ee-sop`` on the PATH, running this checkout under this
    interpreter."""
    bin_dir = work / ".bin"
    bin_dir.mkdir()
    for name, module in ("e2ee-mail", "e2ee_mail.cli"), ("e2ee-sop", "e2ee_mail.sop"):
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m {module} "$@"\n')
        script.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME",)}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    env["HOME"] = str(home)
    return env


def test_the_readme_marks_few_blocks_and_says_why() -> None:
    blocks = readme_blocks()
    skipped = [b for b in blocks if b.not_run]
    runnable = [b for b in blocks if b.language in _RUNNABLE and not b.not_run]
    assert blocks[0].not_run, "the opening install-and-test commands must not run"
    assert len(runnable) >= 6
    assert len(skipped) <= 3, [b.line for b in skipped]
    assert all(b.language in (*_RUNNABLE, "toml") for b in blocks), [
        (b.line, b.language) for b in blocks
    ]


@pytest.mark.slow
@pytest.mark.timeout(900)  # key generation, and every vector through the CLI
def test_the_readme_runs_top_to_bottom(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = _stand_ins(tmp_path)
    env = _shell_env(tmp_path, home)
    provider = Provider()
    namespace: dict[str, object] = {"__name__": "readme", "provider": provider}
    monkeypatch.chdir(tmp_path)
    ran = 0
    for block in readme_blocks():
        if block.not_run or block.language not in _RUNNABLE:
            continue
        where = f"README.md:{block.line}"
        if block.language == "python":
            exec(compile(block.code, where, "exec"), namespace)
        else:
            proc = subprocess.run(
                ["bash", "-eu", "-c", block.code],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            assert proc.returncode == 0, f"{where}\n{proc.stdout}\n{proc.stderr}"
        ran += 1
    assert ran >= 6
    # What the examples did, checked from outside.
    (sent,) = provider.sent
    outer = BytesParser(policy=policy.default).parsebytes(sent)
    assert outer.get_content_type() == "application/pkcs7-mime"
    assert outer["Subject"] != "Invoice"
    opened = BytesParser(policy=policy.default).parsebytes(
        (tmp_path / "opened.eml").read_bytes()
    )
    assert opened["Subject"] == "Quarterly report"
    assert (
        (tmp_path / "for-carol.asc")
        .read_bytes()
        .startswith(b"-----BEGIN PGP MESSAGE-----")
    )
    assert (tmp_path / "dave.key").stat().st_mode & 0o777 == 0o600
