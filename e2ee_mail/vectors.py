"""Load, check and run the JSON test vectors in vectors/ (STYLE.md "Test vectors").

One loader serves ``e2ee-mail vectors verify [DIR]`` and the test suite. It finds the
vector files under a directory, checks each against the schema it names (a small
checker in :mod:`e2ee_mail._vectorschema`, no third-party dependency), and runs every
case through the runner registered for the file's ``kind``. Runners call the same
wrappers the formats use (``e2ee_mail.core.*``, or a format's own API), so a vector
checks the code that ships, not a copy of it.

Outcomes: a ``valid`` case must succeed with the expected output; an ``invalid`` case
must raise the ``e2ee_mail.Error`` subclass it names (a :class:`DecryptionError` always
with its one fixed text); an ``acceptable`` case must succeed under the Policy preset
it names and fail under :data:`~e2ee_mail.policy.DEFAULT`. Any other exception is a
failure.

Format packages add kinds by registering a runner with :func:`register` in a module
named by :data:`RUNNER_MODULES` (imported on first use); vectors/README.md says how.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final, TextIO

from . import policy as _policy
from ._vectorcase import Case, Mismatch, VectorFailure, VectorFile
from ._vectorschema import SchemaError, SchemaStore, validate
from .errors import DECRYPTION_FAILED, DecryptionError, Error, FormatError, UsageError
from .policy import DEFAULT, Policy

__all__ = [
    "RUNNER_MODULES",
    "Case",
    "Mismatch",
    "Runner",
    "VectorFailure",
    "VectorFile",
    "default_dir",
    "iter_cases",
    "iter_files",
    "load_file",
    "register",
    "run_case",
    "verify_cli",
]

#: Kind prefix (the part before the first "-") -> module whose import registers the
#: runners of those kinds. A missing module just leaves its kinds without a runner.
RUNNER_MODULES: Final[Mapping[str, str]] = {
    "core": "e2ee_mail._vectorcore",
    "cms": "e2ee_mail.cms._vectors",
    "smime": "e2ee_mail.mime._vectors",
    "pgpmime": "e2ee_mail.mime._vectors",
    "openpgp": "e2ee_mail.openpgp._vectors",
}
#: Directories under a vector tree that hold no vector files.
_SKIP_DIRS: Final = frozenset({"schema", "keys", "gen"})
_PRESETS: Final = ("DEFAULT", "RFC9580", "RFC4880", "LEGACY_DECRYPT")
#: How many failing cases a FAIL line names before it says "...".
_SHOWN_FAILURES: Final = 3


#: A runner performs a case's operation under a Policy. It returns when the output is
#: as expected, raises :class:`Mismatch` when it is not, and lets the library's
#: ``e2ee_mail.Error`` propagate when the library refuses.
Runner = Callable[[Case, Policy], None]
_RUNNERS: dict[str, Runner] = {}


def register(kind: str) -> Callable[[Runner], Runner]:
    """Return a decorator that makes a function the runner for ``kind``.

    Args:
        kind: the ``kind`` field of the files the runner handles, e.g. "cms-decrypt";
            its prefix before the first "-" must be a key of :data:`RUNNER_MODULES`.

    Returns:
        A decorator that registers and returns the function unchanged.

    Raises:
        UsageError: ``kind`` already has a runner.
    """

    def decorate(func: Runner) -> Runner:
        if _RUNNERS.get(kind, func) is not func:
            raise UsageError(f"vector kind {kind!r} already has a runner")
        _RUNNERS[kind] = func
        return func

    return decorate


def _runner_for(kind: str) -> Runner:
    if kind not in _RUNNERS:
        module = RUNNER_MODULES.get(kind.split("-", 1)[0])
        if module is not None:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name != module:
                    raise VectorFailure(f"cannot load {module}: {exc}") from None
    if kind not in _RUNNERS:
        raise VectorFailure(f"no runner is registered for kind {kind!r}")
    return _RUNNERS[kind]


def default_dir() -> Path:
    """The vectors/ directory of the source tree this package runs from.

    Raises:
        UsageError: the package is installed without its source tree.
    """
    path = Path(__file__).resolve().parent.parent / "vectors"
    if not path.is_dir():
        raise UsageError(
            "no vectors/ directory next to the installed package: run from a source "
            "checkout or pass the directory, e2ee-mail vectors verify DIR"
        )
    return path


def _root(directory: str | Path | None) -> Path:
    if directory is None:
        return default_dir()
    path = Path(directory)
    if not path.is_dir():
        raise UsageError(f"{str(directory)!r} is not a directory")
    return path


def iter_files(directory: str | Path | None = None) -> list[Path]:
    """Return the vector files under ``directory`` (default: :func:`default_dir`).

    Every ``*.json`` file counts except those under ``schema/``, ``keys/`` and
    ``gen/`` and those whose name starts with "." or "_".
    """
    root = _root(directory)
    found = []
    for path in sorted(root.rglob("*.json")):
        parts = path.relative_to(root).parts
        if any(p in _SKIP_DIRS or p.startswith((".", "_")) for p in parts):
            continue
        found.append(path)
    return found


def load_file(path: Path, root: Path | None = None) -> VectorFile:
    """Parse vector file ``path`` and check it against its schema.

    Args:
        path: the file.
        root: the directory searched, for the file's display name (default: its
            own directory).

    Raises:
        FormatError: the file is not JSON, names no schema, or does not match it
            (:class:`~e2ee_mail._vectorschema.SchemaError`), or breaks a rule a
            schema cannot state (duplicate ids, flags missing from notes).
    """
    name = path.relative_to(root).as_posix() if root is not None else path.name
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FormatError(f"{name}: not readable JSON: {exc}") from None
    schema = doc.get("schema") if isinstance(doc, dict) else None
    if not isinstance(schema, str):
        raise SchemaError(f'{name}: no "schema" field naming its schema')
    try:
        validate(doc, schema, _store_for(path.parent, schema))
    except SchemaError as exc:
        raise SchemaError(f"{name}: {exc}") from None
    return VectorFile(
        path, name, doc["kind"], doc["source"]["name"], _cases(doc, name, path.parent)
    )


_STORES: dict[Path, SchemaStore] = {}


def _store_for(directory: Path, schema: str) -> SchemaStore:
    # The schema lives in a schema/ directory of the file's directory or of one of its
    # parents, so a subdirectory of vectors/ can be checked alone.
    for parent in (directory.resolve(), *directory.resolve().parents):
        candidate = parent / "schema"
        if (candidate / schema).is_file():
            return _STORES.setdefault(candidate, SchemaStore(candidate))
    raise SchemaError(f"schema {schema!r} not found in any schema/ directory above")


def _cases(doc: dict[str, Any], name: str, directory: Path) -> tuple[Case, ...]:
    notes = doc["notes"]
    cases: list[Case] = []
    seen: set[int] = set()
    for group in doc["groups"]:
        shared = {k: v for k, v in group.items() if k != "cases"}
        for raw in group["cases"]:
            if raw["id"] in seen:
                raise SchemaError(f"{name}: case id {raw['id']} is used twice")
            seen.add(raw["id"])
            missing = [f for f in raw["flags"] if f not in notes]
            if missing:
                raise SchemaError(f"{name}#{raw['id']}: flags {missing} not in notes")
            cases.append(
                Case(
                    file=name,
                    kind=doc["kind"],
                    id=raw["id"],
                    comment=raw["comment"],
                    flags=tuple(raw["flags"]),
                    result=raw["result"],
                    error=raw.get("error"),
                    preset=raw.get("preset"),
                    inputs=raw["inputs"],
                    expected=raw.get("expected", {}),
                    group=shared,
                    directory=directory,
                )
            )
    return tuple(cases)


def iter_cases(directory: str | Path | None = None) -> Iterator[Case]:
    """Yield every case of every vector file under ``directory``.

    Raises:
        FormatError: a file does not load (see :func:`load_file`).
    """
    root = _root(directory)
    for path in iter_files(root):
        yield from load_file(path, root).cases


def run_case(case: Case) -> None:
    """Run ``case`` and check it behaves as its ``result`` says.

    Raises:
        VectorFailure: it did not; the message says what happened instead.
    """
    runner = _runner_for(case.kind)
    if case.result == "valid":
        _expect_success(runner, case, DEFAULT)
    elif case.result == "invalid":
        _expect_error(runner, case, DEFAULT, case.error or "Error")
    else:
        preset_name = case.preset or ""
        if preset_name not in _PRESETS:
            raise VectorFailure(f"unknown preset {preset_name!r}")
        preset: Policy = getattr(_policy, preset_name)
        _expect_success(runner, case, preset)
        if preset != DEFAULT:
            _expect_error(runner, case, DEFAULT, "Error")


def _expect_success(runner: Runner, case: Case, policy: Policy) -> None:
    try:
        runner(case, policy)
    except Mismatch as exc:
        raise VectorFailure(f"wrong output: {exc}") from None
    except Error as exc:
        raise VectorFailure(f"refused with {type(exc).__name__}: {exc}") from None
    except Exception as exc:
        raise VectorFailure(f"crashed with {type(exc).__name__}: {exc}") from exc


def _expect_error(runner: Runner, case: Case, policy: Policy, error: str) -> None:
    try:
        runner(case, policy)
    except Mismatch as exc:
        raise VectorFailure(f"expected {error}, got wrong output: {exc}") from None
    except Error as exc:
        names = {cls.__name__ for cls in type(exc).__mro__}
        if error not in names:
            raise VectorFailure(
                f"expected {error}, got {type(exc).__name__}: {exc}"
            ) from None
        if isinstance(exc, DecryptionError) and str(exc) != DECRYPTION_FAILED:
            raise VectorFailure(f"DecryptionError with a custom text: {exc}") from None
        return
    except Exception as exc:
        raise VectorFailure(
            f"expected {error}, crashed with {type(exc).__name__}: {exc}"
        ) from exc
    raise VectorFailure(f"succeeded, expected {error}")


def verify_cli(dir: str | None, out: TextIO) -> int:
    """Verify every vector file under ``dir``; print a report to ``out``.

    Prints ``PASS <file>: N cases`` or ``FAIL <file>: N cases, ...`` per file, then
    exactly ``N passed, M failed`` (cases; a file that does not load counts as one
    failed case).

    Args:
        dir: the directory to search, or None for the source tree's vectors/.
        out: where the report goes.

    Returns:
        The number of failed cases.

    Raises:
        UsageError: ``dir`` is not a directory, holds no vector files, or is None
            and the package runs without its source tree.
    """
    root = _root(dir)
    files = iter_files(root)
    if not files:
        raise UsageError(f"no vector files under {str(root)!r}")
    passed = failed = 0
    for path in files:
        name = path.relative_to(root).as_posix()
        try:
            vector_file = load_file(path, root)
        except Error as exc:
            failed += 1
            out.write(f"FAIL {name}: 0 cases (does not load: {_one_line(exc)})\n")
            continue
        problems = []
        for case in vector_file.cases:
            try:
                run_case(case)
            except VectorFailure as exc:
                problems.append(f"#{case.id}: {_one_line(exc)}")
        count = len(vector_file.cases)
        failed += len(problems)
        passed += count - len(problems)
        if problems:
            shown = "; ".join(problems[:_SHOWN_FAILURES])
            more = "; ..." if len(problems) > _SHOWN_FAILURES else ""
            out.write(
                f"FAIL {name}: {count} cases, {len(problems)} failed ({shown}{more})\n"
            )
        else:
            out.write(f"PASS {name}: {count} cases\n")
    out.write(f"{passed} passed, {failed} failed\n")
    return failed


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]
