"""core/random.py: the one source of randomness gives what is asked, never repeats."""

from __future__ import annotations

import pytest

from e2ee_mail.core import random


@pytest.mark.parametrize("n", [0, 1, 12, 32, 4096])
def test_random_bytes_has_the_requested_length(n: int) -> None:
    out = random.random_bytes(n)
    assert type(out) is bytes
    assert len(out) == n


def test_random_bytes_do_not_repeat() -> None:
    draws = {random.random_bytes(16) for _ in range(64)}
    assert len(draws) == 64
    assert bytes(16) not in draws
