"""Our own deterministic signature vectors (openpgp/ and cms/
deterministic-signatures.json): each valid case is signed again byte for byte, so
a changed time or salt fails it; the invalid ones fail with SignatureError; the
generator gives the committed files again."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from e2ee_mail.vectors import Case, VectorFailure, load_file, run_case

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "e2ee_mail" / "vectors" / "data"
FILES = ["openpgp/deterministic-signatures.json", "cms/deterministic-signatures.json"]


def _cases(rel: str) -> tuple[Case, ...]:
    return load_file(VECTORS / rel, VECTORS).cases


def test_every_shape_is_there() -> None:
    pgp = _cases(FILES[0])
    flags = {f for c in pgp for f in c.flags}
    assert {"V6Ed25519", "V4EdDSALegacy", "Detached", "Inline", "Text"} <= flags
    # v6 signatures carry a salt, v4 ones none.
    for case in pgp:
        if case.inputs["op"] == "sign":
            assert ("salt" in case.inputs) == ("V6Ed25519" in case.flags)
    cms = _cases(FILES[1])
    assert {c.inputs["detached"] for c in cms} == {True, False}
    assert {c.error for c in (*pgp, *cms) if c.result == "invalid"} == {
        "SignatureError"
    }


@pytest.mark.parametrize("rel", FILES)
def test_every_case_passes(rel: str) -> None:
    for case in _cases(rel):
        run_case(case)


def _shift_time(case: Case) -> dict[str, object]:
    if "created" in case.inputs:
        return {"created": int(str(case.inputs["created"])) + 1}
    return {"signing_time": str(case.inputs["signing_time"]).replace(":00+", ":01+")}


def _change_salt(case: Case) -> dict[str, object]:
    salt = str(case.inputs["salt"])
    return {"salt": ("00" if salt[:2] != "00" else "01") + salt[2:]}


@pytest.mark.parametrize(
    ("rel", "flag", "change"),
    [
        (FILES[0], "V6Ed25519", _shift_time),
        (FILES[0], "V4EdDSALegacy", _shift_time),
        (FILES[0], "V6Ed25519", _change_salt),
        (FILES[1], "Ed25519", _shift_time),
    ],
)
def test_a_changed_time_or_salt_fails_the_vector(rel, flag, change) -> None:  # type: ignore[no-untyped-def]
    for case in _cases(rel):
        if case.inputs["op"] != "sign" or flag not in case.flags:
            continue
        run_case(case)
        bad = dataclasses.replace(case, inputs={**case.inputs, **change(case)})
        with pytest.raises(VectorFailure, match="other bytes"):
            run_case(bad)


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "vectors" / "gen" / "det_signatures.py"),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for rel in FILES:
        assert (tmp_path / rel).read_bytes() == (VECTORS / rel).read_bytes()
