"""A container for secret bytes that never shows them in repr, str or tracebacks."""

from __future__ import annotations

import hmac

__all__ = ["Secret"]


class Secret:
    """Holds key material; ``repr`` and ``str`` say only how long it is."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes | bytearray | memoryview) -> None:
        self._value = bytes(value)

    def reveal(self) -> bytes:
        """Return the secret bytes, for handing to a primitive."""
        return self._value

    def __len__(self) -> int:
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash((Secret, len(self._value)))

    def __repr__(self) -> str:
        return f"<Secret {len(self._value)} bytes>"

    __str__ = __repr__

    def __reduce__(self) -> None:  # type: ignore[override]
        raise TypeError("secrets are not picklable")
