"""The package as a type checker sees it: a misspelled public name is an error, and
the public values carry precise types.

``mypy`` runs as a subprocess over small files that use ``e2ee_mail`` as an
application would, with an empty configuration so the repository's own settings do
not leak in, and ``--follow-imports=silent`` so only the probe file is judged.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import e2ee_mail

ROOT = Path(__file__).resolve().parents[2]


def _mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("mypy")
    probe = tmp_path / "probe.py"
    probe.write_text(textwrap.dedent(source), encoding="utf-8")
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n", encoding="utf-8")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(config),
            "--strict",
            "--follow-imports=silent",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(probe),
        ],
        cwd=ROOT,
        env={**os.environ, "MYPYPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_mypy_rejects_a_misspelled_public_name(tmp_path: Path) -> None:
    result = _mypy(
        tmp_path,
        """
        import e2ee_mail

        sealed = e2ee_mail.encrpyt(b"body", [])
        """,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'has no attribute "encrpyt"' in result.stdout


def test_mypy_accepts_the_public_names_with_their_types(tmp_path: Path) -> None:
    result = _mypy(
        tmp_path,
        """
        from typing import Literal

        import e2ee_mail


        def describe(key: e2ee_mail.SecretKey, body: bytes) -> str:
            sealed = e2ee_mail.encrypt(body, [key.public])
            info = e2ee_mail.inspect(sealed)
            kind: Literal["cms", "openpgp", "smime", "pgpmime"] = info.format
            return kind


        def newest(versions: list[e2ee_mail.KeyVersion]) -> int:
            return max(v.version for v in versions)
        """,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_key_version_is_exported_lazily() -> None:
    from e2ee_mail.keys.ring import KeyVersion

    assert "KeyVersion" in e2ee_mail.__all__
    assert e2ee_mail.KeyVersion is KeyVersion


def test_a_misspelled_name_is_still_an_attribute_error_at_run_time() -> None:
    with pytest.raises(AttributeError, match="encrpyt"):
        e2ee_mail.encrpyt  # type: ignore[attr-defined]  # noqa: B018
