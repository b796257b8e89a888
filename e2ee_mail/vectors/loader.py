"""Load, check and run the JSON test vectors shipped in ``e2ee_mail/vectors/data/``.

One loader serves ``e2ee-mail vectors verify [DIR]`` and the test suite. It finds the
vector files under a directory, checks each against the schema it names (a small
checker in :mod:`e2ee_mail.vectors.schema`, no third-party dependency), and runs
every case through the runner :func:`runners` names for the file's ``kind``. Runners
call the same wrappers the formats use (``e2ee_mail.core.*``, or a format's own API),
so a vector checks the code that ships, not a copy of it.

Outcomes: a ``valid`` case must succeed with the expected output; an ``invalid`` case
must raise the ``e2ee_mail.Error`` subclass it names (a :class:`DecryptionError` always
with its one fixed text); an ``acceptable`` case must succeed under the Policy preset
it names and fail under :data:`~e2ee_mail.policy.DEFAULT`. Any other exception is a
failure.

A new kind gets a runner in a module of this package and a line in :func:`runners`;
vectors/README.md says how.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final, TextIO

from .. import policy as _policy
from ..errors import DECRYPTION_FAILED, DecryptionError, Error, FormatError, UsageError
from ..policy import DEFAULT, Policy
from .case import Case, Mismatch, VectorFailure, VectorFile
from .schema import SchemaError, SchemaStore, validate

#: Directories under a vector tree that hold no vector files.
_SKIP_DIRS: Final = frozenset({"schema", "keys", "gen"})
_PRESETS: Final = ("DEFAULT", "RFC9580", "RFC4880", "LEGACY_DECRYPT")
#: How many failing cases a FAIL line names before it says "...".
_SHOWN_FAILURES: Final = 3


#: A runner performs a case's operation under a Policy. It returns when the output is
#: as expected, raises :class:`Mismatch` when it is not, and lets the library's
#: ``e2ee_mail.Error`` propagate when the library refuses.
Runner = Callable[[Case, Policy], None]


def runners() -> dict[str, Runner]:
    """Every vector kind this package runs, with its runner.

    The runner modules are imported here, on first use, so that listing or loading
    vector files does not load every format.
    """
    from . import (
        cms,
        cms_det,
        cms_kem,
        core,
        core_ecdh,
        core_mlkem,
        mime,
        openpgp,
        openpgp_det,
        openpgp_librepgp,
        openpgp_pq,
        openpgp_sig,
        openpgp_v4,
    )

    return {
        "core-aes-kw": core.run_aes_kw,
        "core-aes-gcm": core.run_aes_gcm,
        "core-aes-eax": core.run_aes_eax,
        "core-x25519": core.run_x25519,
        "core-rsa-oaep": core.run_rsa_oaep,
        "core-ecdh": core_ecdh.run_ecdh,
        "core-x448": core_ecdh.run_x448,
        "core-mlkem768": core_mlkem.run_mlkem768,
        "core-mlkem": cms_kem.run_mlkem,
        "cms-rfc9936": cms_kem.run_rfc9936,
        "core-signature": core.run_signature,
        "cms-openssl": cms.run_openssl,
        "cms-deterministic": cms_det.run_deterministic,
        "cms-signatures-deterministic": cms_det.run_signature,
        "openpgp-rfc9580": openpgp.run_rfc9580,
        "openpgp-deterministic": openpgp_det.run_deterministic,
        "openpgp-signatures-deterministic": openpgp_det.run_signature,
        "openpgp-gnupg": openpgp_v4.run_gnupg,
        "openpgp-librepgp": openpgp_librepgp.run_librepgp,
        "openpgp-signatures": openpgp_sig.run_signatures,
        "openpgp-rfc9980": openpgp_pq.run_rfc9980,
        "smime-deterministic": mime.run_smime,
        "pgpmime-deterministic": mime.run_pgpmime,
    }


def _runner_for(kind: str) -> Runner:
    runner = runners().get(kind)
    if runner is None:
        raise VectorFailure(f"no runner handles vector kind {kind!r}")
    return runner


def default_dir() -> Path:
    """The vector files shipped inside this package (``e2ee_mail/vectors/data/``).

    They are package data, so an installed copy verifies itself as a source
    checkout does.

    Raises:
        UsageError: the package runs from an archive (a zip file) rather than from
            files, or was installed without its data.
    """
    from importlib import resources

    data = resources.files(__package__ or "e2ee_mail.vectors") / "data"
    if not isinstance(data, Path) or not (data / "schema").is_dir():
        raise UsageError(
            "the vector files are not installed next to the package (an archive "
            "install?): pass their directory, e2ee-mail vectors verify DIR"
        )
    return data


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
            (:class:`~e2ee_mail.vectors.schema.SchemaError`), or breaks a rule a
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
    # parents, so a subdirectory of a vector tree can be checked alone.
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


def run_case(case: Case, *, runner: Runner | None = None) -> None:
    """Run ``case`` and check it behaves as its ``result`` says.

    Args:
        case: the case.
        runner: the runner to use instead of the one :func:`runners` names for the
            case's kind (for testing the loader's own rules).

    Raises:
        VectorFailure: it did not; the message says what happened instead.
    """
    if runner is None:
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
        dir: the directory to search, or None for the vectors shipped with the
            package.
        out: where the report goes.

    Returns:
        The number of failed cases.

    Raises:
        UsageError: ``dir`` is not a directory, holds no vector files, or is None
            and the package's vector files are not installed as files.
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
