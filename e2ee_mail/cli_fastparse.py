"""The plain command lines of ``e2ee-mail``, parsed without argparse, as argparse would.

Importing argparse (and gettext and locale, which it asks for the translation of
every message it registers) and building the command's parser cost about 5 ms of
every start, a tenth of what a 1 KiB OpenPGP command spends above its import floor.
:func:`parse` reads the command lines scripts write: the command word, then only
that command's options, each spelled in full and followed by its value. It reads
them from the same specs argparse gets: the command's ``configure_*`` function
(cli_options.py) runs against a recorder that notes each option's destination,
default, choices and group. The namespace it returns holds what argparse's would.

Anything else is left to argparse, which gives its usual result, help and error
messages: no command or an unknown one, ``-h``, an abbreviated or unknown option,
``--opt=value`` or ``-oVALUE``, a positional argument, a value that starts with
``-`` (other than ``-`` itself), ``--``, an option given twice (unless it
appends), two options of one mutually exclusive group, a missing required option,
a value outside the choices, an option with a ``type`` (its converter's errors
are argparse's), and any command whose options use more than ``store``,
``store_true``, ``store_false`` and ``append`` (keyring's actions, positional
arguments, ``nargs``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

__all__ = ["parse"]

#: The actions read here, and their default when a spec gives none (argparse's).
_ACTIONS: dict[str, Any] = {
    "store": None,
    "store_true": False,
    "store_false": True,
    "append": None,
}


class _Declined(Exception):
    """The command line, or the command's options, are argparse's to parse."""


class _Option:
    __slots__ = ("action", "choices", "default", "dest", "group", "required", "typed")

    def __init__(self, flags: tuple[str, ...], group: object, spec: dict[str, Any]):
        action = spec.get("action", "store")
        if not isinstance(action, str) or action not in _ACTIONS:
            raise _Declined
        if spec.get("nargs") is not None or "const" in spec:
            raise _Declined
        default = spec.get("default", _ACTIONS[action])
        if action == "append" and default is not None:
            raise _Declined  # argparse copies such a list before appending
        if spec.get("type") is not None and isinstance(default, str):
            raise _Declined  # argparse converts such a default
        self.action: str = action
        self.dest: str = spec.get("dest") or _dest(flags)
        self.default: Any = default
        self.choices: Any = spec.get("choices")
        self.required: bool = bool(spec.get("required", False))
        self.typed: bool = spec.get("type") is not None
        self.group = group


def _dest(flags: tuple[str, ...]) -> str:
    """argparse's destination: the first long option, else the first one, without
    its dashes and with ``-`` made ``_``."""
    long = [flag for flag in flags if flag.startswith("--")]
    return (long or list(flags))[0].lstrip("-").replace("-", "_")


class _Recorder:
    """Stands for the command's ArgumentParser (or one of its exclusive groups)
    while its ``configure_*`` function runs; any method but these declines."""

    def __init__(self, options: dict[str, _Option], group: object = None) -> None:
        self.options = options
        self.group = group

    def add_argument(self, *flags: str, **spec: Any) -> None:
        if not flags or not all(f.startswith("-") and len(f) > 1 for f in flags):
            raise _Declined  # a positional argument
        option = _Option(flags, self.group, spec)
        if any(other.dest == option.dest for other in self.options.values()):
            raise _Declined  # two options, one destination: argparse's to settle
        for flag in flags:
            if flag in self.options:
                raise _Declined
            self.options[flag] = option

    def add_mutually_exclusive_group(self, *, required: bool = False) -> _Recorder:
        if required:
            raise _Declined
        return _Recorder(self.options, object())

    def __getattr__(self, name: str) -> Any:
        raise _Declined


def _namespace(
    argv: Sequence[str], options: dict[str, _Option]
) -> dict[str, Any] | None:
    values: dict[str, Any] = {}
    seen: set[_Option] = set()
    groups: dict[object, _Option] = {}
    i = 0
    while i < len(argv):
        option = options.get(argv[i])
        if option is None:
            return None  # a positional, an abbreviation, -h, --opt=value, --
        if option.group is not None:
            first = groups.setdefault(option.group, option)
            if first is not option:
                return None  # argparse: "not allowed with argument"
        if option in seen and option.action != "append":
            return None
        seen.add(option)
        if option.action in ("store_true", "store_false"):
            values[option.dest] = option.action == "store_true"
            i += 1
            continue
        if i + 1 == len(argv) or option.typed:
            return None
        value = argv[i + 1]
        if value.startswith("-") and value != "-":
            return None  # argparse reads it as an option (or a negative number)
        if option.choices is not None and value not in option.choices:
            return None
        if option.action == "append":
            values.setdefault(option.dest, []).append(value)
        else:
            values[option.dest] = value
        i += 2
    for option in set(options.values()):
        if option.dest not in values:
            if option.required:
                return None
            values[option.dest] = option.default
    return values


def parse(
    argv: Sequence[str],
    commands: dict[str, tuple[Callable[[argparse.Namespace], None], Any, Any]],
) -> argparse.Namespace | None:
    """The namespace argparse would make of ``argv``, or None to let argparse parse
    it (see the module docstring).

    ``commands`` maps each command to its handler (the namespace's ``func``), any
    value, and its ``configure_*`` function.
    """
    if not argv or argv[0] not in commands:
        return None
    func, _, configure = commands[argv[0]]
    options: dict[str, _Option] = {}
    try:
        configure(_Recorder(options))
    except _Declined:
        return None
    values = _namespace(argv[1:], options)
    if values is None:
        return None
    # Read as argparse's Namespace is: attributes, vars().
    namespace: Any = SimpleNamespace(command=argv[0], func=func, **values)
    return namespace  # type: ignore[no-any-return]
