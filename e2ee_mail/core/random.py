"""The one source of randomness: the operating system (via os.urandom)."""

from __future__ import annotations

import os

__all__ = ["random_bytes"]


def random_bytes(n: int) -> bytes:
    """Return ``n`` bytes from the OS CSPRNG."""
    return os.urandom(n)
