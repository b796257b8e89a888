"""Known-attack regression tests share the fuzz suite's envelope builders and its
hang guard (a SIGALRM fixture: a hang fails with a message, never a timing assert)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fuzz"))

HANG_LIMIT_SECONDS = 120


@pytest.fixture(autouse=True)
def hang_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    def on_alarm(signum: int, frame: FrameType | None) -> None:
        pytest.fail(
            f"{request.node.nodeid} did not finish within {HANG_LIMIT_SECONDS} s"
        )

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(HANG_LIMIT_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
