"""The Stateless OpenPGP interop matrix under pytest: one test per cell.

Ids read ``producer->consumer:cell`` (the producer encrypts or signs, the consumer
generated the keys and decrypts or verifies); what each cell does, and when it is
skipped or an expected failure, is in ``sop_matrix.py``. The keys are made once per
session. A missing peer skips (fails under ``E2EE_MAIL_REQUIRE_PEERS=1``, as every
interop test, ``e2ee-sop`` included); a cell a peer says it cannot do (69, 37) is an
expected failure with the peer's answer.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sop_matrix
from peers import require_peer

pytestmark = pytest.mark.interop
CASES = sop_matrix.cases()


@pytest.fixture(scope="session")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sop_matrix.Matrix]:
    yield sop_matrix.Matrix(tmp_path_factory.mktemp("sop-matrix"))


def require(name: str) -> None:
    if name == "e2ee-sop":
        why = sop_matrix.missing(name)
        if why and os.environ.get("E2EE_MAIL_REQUIRE_PEERS") == "1":
            pytest.fail(why)
        if why:
            pytest.skip(why)
    else:
        require_peer(name)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_cell(matrix: sop_matrix.Matrix, case: sop_matrix.Case) -> None:
    require(case.producer)
    require(case.consumer)
    try:
        matrix.run(case)
    except sop_matrix.Skip as exc:
        # The peer's own answer that it cannot (69, 37): a limit of the peer,
        # shown as an expected failure with that answer, as every peer limit is.
        pytest.xfail(str(exc))
    except sop_matrix.Gap as exc:
        pytest.xfail(str(exc))


def shim(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    require_peer("pysequoia")
    return subprocess.run(
        [
            sys.executable,
            str(Path(sop_matrix.__file__).parent / "pysequoia_sop.py"),
            *args,
        ],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )


def test_pysequoia_shim_answers_what_it_cannot_do() -> None:
    """The shim says 69 for a subcommand and 37 for an option beyond the binding,
    so the matrix skips those cells with the draft's answers."""
    assert shim("inline-detach").returncode == 69
    assert shim("decrypt", "--session-key-out=sk", "key").returncode == 37
    assert shim("sign", "--as=text", "key").returncode == 37
    listed = shim("list-profiles", "generate-key")
    assert listed.returncode == 0
    assert [line.split(":")[0] for line in listed.stdout.decode().splitlines()] == [
        "rfc4880",
        "rfc9580",
        "mlkem768-x25519",
    ]


def test_pysequoia_shim_opens_an_unsigned_message_asked_to_verify(
    tmp_path: Path,
) -> None:
    """decrypt --verify-with on an unsigned message: the plaintext, and an empty
    VERIFICATIONS (the binding alone would refuse the message)."""
    key = tmp_path / "k"
    key.write_bytes(shim("generate-key", "K <k@example.org>").stdout)
    cert = tmp_path / "c"
    cert.write_bytes(shim("extract-cert", stdin=key.read_bytes()).stdout)
    message = shim("encrypt", str(cert), stdin=b"unsigned").stdout
    out = tmp_path / "v"
    opened = shim(
        "decrypt",
        f"--verifications-out={out}",
        f"--verify-with={cert}",
        str(key),
        stdin=message,
    )
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout == b"unsigned"
    assert out.read_bytes() == b""


def test_pysequoia_shim_refuses_bad_input_with_sop_codes(tmp_path: Path) -> None:
    """Garbage is 41 BAD_DATA; a missing file 61 MISSING_INPUT; never a traceback."""
    bad = shim("extract-cert", stdin=b"not a key")
    assert bad.returncode == 41
    assert b"Traceback" not in bad.stderr
    gone = shim("verify", str(tmp_path / "nothing.sig"), str(tmp_path / "nothing"))
    assert gone.returncode == 61


def test_table_numbers_each_reason_once() -> None:
    """The Markdown table: one row per pair, a mark per cell, each reason once."""
    case = sop_matrix.Case
    outcomes = [
        sop_matrix.Outcome(case("sqop", "gosop", "encrypt-sign"), "pass"),
        sop_matrix.Outcome(case("sqop", "gosop", "inline-text"), "skip", "gosop: 69"),
        sop_matrix.Outcome(case("sqop", "gosop", "inline-binary"), "skip", "gosop: 69"),
        sop_matrix.Outcome(
            case("gosop", "sqop", "encrypt-sign", "rfc9580"), "fail", "x"
        ),
    ]
    lines = sop_matrix.table(outcomes, ["gosop: older draft"]).splitlines()
    header = lines[0].split(" | ")
    assert header[1:4] == ["encrypt-sign", "inline-binary", "inline-text"]
    assert "encrypt-sign@rfc9580 |" in lines[0]
    assert lines[2].startswith("| sqop → gosop | pass | skip [1] | skip [1] |")
    assert "**FAIL** [2]" in lines[3]
    assert "1. gosop: 69" in lines
    assert "2. x" in lines
    assert "* gosop: older draft" in lines


def test_verifications_must_name_the_signer() -> None:
    """A VERIFICATIONS line counts only with the signer's primary key third."""
    fpr = "A" * 40
    keys = sop_matrix.Keys(Path("k"), Path("c"), fpr, v6=False)
    sop = sop_matrix.Sop("x", ("x",), Path("."))
    sop_matrix.verified(
        f"2026-01-01T00:00:00Z {'B' * 40} {fpr}\n".encode(), keys, sop, "verify"
    )
    with pytest.raises(sop_matrix.Failure, match="primary key"):
        sop_matrix.verified(
            f"2026-01-01T00:00:00Z {fpr} {'B' * 40}\n".encode(), keys, sop, "verify"
        )


def test_table_script_runs() -> None:
    """``--table`` exists and documents itself (the full run is the matrix above)."""
    proc = subprocess.run(
        [sys.executable, "-m", "tests.interop.sop_matrix", "--help"],
        cwd=Path(sop_matrix.__file__).parent.parent.parent,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert b"--table" in proc.stdout
