"""Fuzz-suite plumbing: a hang guard per test and the per-format input counts.

The hang guard is a SIGALRM fixture (no wall-clock *assertion*: a generous limit that
only turns a genuine hang into a clear failure instead of a stuck CI job). The counts
come from ``strategies.COUNTS`` and are printed in the terminal summary, so a run
says how many inputs each format received.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import strategies

#: Seconds one fuzz test may run before it is declared hung (far above the real cost).
HANG_LIMIT_SECONDS = 120


@pytest.fixture(autouse=True)
def hang_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test with a clear message if it runs for HANG_LIMIT_SECONDS."""

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        pytest.fail(
            f"{request.node.nodeid} did not finish within {HANG_LIMIT_SECONDS} s: "
            "a parser hang on hostile input?",
            pytrace=True,
        )

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(HANG_LIMIT_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not strategies.COUNTS:
        return
    tr = terminalreporter
    tr.section("fuzz inputs tried per format")
    for family in sorted(strategies.COUNTS):
        outcomes = ", ".join(
            f"{name} {n}" for name, n in strategies.OUTCOMES[family].most_common()
        )
        tr.write_line(f"{family:10s} {strategies.COUNTS[family]:6d}  ({outcomes})")
    tr.write_line(f"{'total':10s} {sum(strategies.COUNTS.values()):6d}")
