"""``e2ee-mail vectors verify [DIR]`` as a subprocess: report lines and exit status."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "e2ee_mail" / "vectors" / "data"
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$")
FILE_LINE = re.compile(r"^(PASS|FAIL) (\S+): (\d+) cases")


def _console_script() -> str:
    script = Path(sys.executable).parent / "e2ee-mail"
    if not script.exists():
        pytest.skip(f"console script not installed next to {sys.executable}")
    return str(script)


def _verify(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_console_script(), "vectors", "verify", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _copy_tree(tmp_path: Path, *files: str) -> Path:
    """A vector tree in tmp_path with the schemas and the named files of VECTORS."""
    root = tmp_path / "vectors"
    shutil.copytree(VECTORS / "schema", root / "schema")
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(VECTORS / name, root / name)
    return root


def test_verify_core_vectors_passes_with_summary_line() -> None:
    proc = _verify(str(VECTORS / "core"))
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == ""
    match = SUMMARY.match(lines[-1])
    assert match is not None, lines[-1]
    passed, failed = int(match[1]), int(match[2])
    assert failed == 0
    assert passed >= 100
    file_lines = [FILE_LINE.match(line) for line in lines[:-1]]
    assert all(m is not None and m[1] == "PASS" for m in file_lines), lines
    assert sum(int(m[3]) for m in file_lines if m) == passed
    assert len(file_lines) == len(list((VECTORS / "core").glob("*.json")))


def test_verify_default_tree_passes_on_a_fresh_checkout() -> None:
    # Every file of every format passes, with at least 100 cases.
    proc = _verify()
    lines = proc.stdout.splitlines()
    match = SUMMARY.match(lines[-1])
    assert match is not None, proc.stdout
    assert (proc.returncode, int(match[2])) == (0, 0), proc.stdout
    assert int(match[1]) >= 100
    assert "PASS core/aes_kw_rfc3394.json: 6 cases" in lines
    assert all(FILE_LINE.match(line) for line in lines[:-1]), lines


def test_verify_fails_on_a_vector_with_a_wrong_expected_value(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path, "core/aes_kw_rfc3394.json")
    path = root / "core" / "aes_kw_rfc3394.json"
    doc = json.loads(path.read_text())
    case = doc["groups"][0]["cases"][0]
    wrapped = case["expected"]["wrapped"]
    case["expected"]["wrapped"] = ("00" if wrapped[:2] != "00" else "01") + wrapped[2:]
    path.write_text(json.dumps(doc))
    proc = _verify(str(root))
    lines = proc.stdout.splitlines()
    assert proc.returncode == 1
    assert lines[-1] == "5 passed, 1 failed"
    assert lines[0].startswith("FAIL core/aes_kw_rfc3394.json: 6 cases, 1 failed (#1:")


def test_verify_fails_on_an_invalid_case_that_passes(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path, "core/aes_kw_rfc3394.json")
    path = root / "core" / "aes_kw_rfc3394.json"
    doc = json.loads(path.read_text())
    good, case = doc["groups"][0]["cases"][:2]
    # A good key wrap marked invalid: the verifier must notice that it succeeds.
    case["result"] = "invalid"
    case["error"] = "DecryptionError"
    del case["expected"]
    case["inputs"] = {**good["inputs"], "op": "unwrap"}
    case["inputs"]["wrapped"] = good["expected"]["wrapped"]
    path.write_text(json.dumps(doc))
    proc = _verify(str(root))
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[-1] == "5 passed, 1 failed"
    assert "succeeded, expected DecryptionError" in proc.stdout


def test_verify_fails_on_a_file_that_breaks_its_schema(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path, "core/aes_kw_rfc3394.json")
    (root / "core" / "broken.json").write_text(
        json.dumps({"schema": "core-aes-kw.json", "kind": "core-aes-kw"})
    )
    proc = _verify(str(root))
    lines = proc.stdout.splitlines()
    assert proc.returncode == 1
    assert any(
        line.startswith("FAIL core/broken.json: 0 cases (does not load:")
        for line in lines
    )
    assert "PASS core/aes_kw_rfc3394.json: 6 cases" in lines
    assert lines[-1] == "6 passed, 1 failed"


def test_verify_missing_directory_is_a_one_line_error(tmp_path: Path) -> None:
    proc = _verify(str(tmp_path / "nowhere"))
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert proc.stderr.startswith("e2ee-mail: error: ")
    assert proc.stderr.count("\n") == 1


def test_verify_empty_directory_is_an_error(tmp_path: Path) -> None:
    proc = _verify(str(tmp_path))
    assert proc.returncode != 0
    assert "no vector files" in proc.stderr


def _clean_env() -> dict[str, str]:
    """The environment without anything that would import this checkout instead of
    the installed copy."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        args,
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.mark.slow
@pytest.mark.timeout(900)  # a build, an install from the index and every vector
def test_an_installed_wheel_verifies_the_vectors_it_ships(tmp_path: Path) -> None:
    # A regular (non-editable) install: a wheel built from a copy of the package,
    # installed in a fresh virtualenv, the command run far from any checkout.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "e2ee_mail",
        source / "e2ee_mail",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    wheels = tmp_path / "wheels"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(wheels),
            str(source),
        ],
        tmp_path,
    )
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    (wheel,) = wheels.glob("e2ee_mail-*.whl")
    _run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
        tmp_path,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import e2ee_mail.vectors as v; print(v.default_dir())",
        ],
        elsewhere,
    ).stdout.strip()
    installed = Path(where)
    assert installed.is_relative_to(venv), where
    shipped = sorted(
        p.relative_to(installed).as_posix() for p in installed.rglob("*") if p.is_file()
    )
    assert shipped == sorted(
        p.relative_to(VECTORS).as_posix() for p in VECTORS.rglob("*") if p.is_file()
    )
    proc = _run([str(venv / "bin" / "e2ee-mail"), "vectors", "verify"], elsewhere)
    lines = proc.stdout.splitlines()
    match = SUMMARY.match(lines[-1])
    assert match is not None, proc.stdout
    assert int(match[1]) >= 100
    assert int(match[2]) == 0
