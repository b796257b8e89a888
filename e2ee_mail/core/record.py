"""Immutable value records for types built while a command starts.

A frozen dataclass costs about a millisecond of CPU to create (``dataclasses``
compiles its ``__init__``, ``__eq__``, ``__hash__``, ``__repr__`` and the frozen
``__setattr__`` from source, then builds the class a second time for
``__slots__``), and a dozen of them sat on the path of every OpenPGP command. A
:class:`Record` subclass costs what a plain class costs: the methods below are
shared and read the fields from ``_fields``. A subclass lists its fields in
``_fields`` (in order) and makes that its ``__slots__``, annotates them, and
writes an ``__init__`` that sets them with :func:`object.__setattr__` (typed, and
the place for validation), taking them positionally in ``_fields`` order
(:meth:`__reduce__` and :meth:`replace` rely on it).

Behaviour matches ``@dataclass(frozen=True, slots=True)``: equality and hash over
the fields, only between instances of the same class; ``repr`` lists the fields;
assigning or deleting a field raises AttributeError; copies and pickles work;
:meth:`replace` stands for ``dataclasses.replace``.
Internal types only: the public dataclasses stay dataclasses (callers use
``dataclasses.replace`` on them).
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

__all__ = ["Record"]


class Record:
    """Base of immutable ``__slots__`` records (see the module docstring)."""

    __slots__ = ()
    #: The fields in order; a subclass sets ``__slots__ = _fields`` (a literal
    #: ``__slots__`` would be sorted by the linter, and the order is the
    #: positional order of ``__init__``).
    _fields: ClassVar[tuple[str, ...]] = ()

    def _names(self) -> tuple[str, ...]:
        return self._fields

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._names())

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        mine: tuple[Any, ...] = self._values()
        return mine == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._names())
        return f"{type(self).__qualname__}({fields})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` (``dataclasses.replace``'s counterpart); the
        subclass's ``__init__`` checks the new values."""
        names = self._names()
        unknown = set(changes) - set(names)
        if unknown:
            raise TypeError(
                f"{type(self).__name__} has no field {sorted(unknown)[0]!r}"
            )
        return type(self)(*(changes.get(n, getattr(self, n)) for n in names))

    def __reduce__(self) -> tuple[type[Record], tuple[Any, ...]]:
        return type(self), self._values()
