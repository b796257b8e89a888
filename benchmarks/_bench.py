"""Helpers shared by the benchmark modules: sizes, payloads, keys and the runner.

Every benchmark goes through :class:`Measure` (the ``measure`` fixture), which fixes the
rounds from one calibration call (pedantic mode, so the 16 MiB cases stay cheap), names
the group and records ``extra_info``:

- ``case``: a stable id that ``benchmarks/report.py`` pairs with its baseline
  (``limit.*`` cases are the baselines, measured in the same run; ``info.*`` cases are
  investigations);
- ``bytes``: the bytes one call processes, for MB/s;
- anything else the benchmark wants to say (format, op, api, recipients ...).
"""

from __future__ import annotations

import importlib.util
import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

KIB = 1 << 10
MIB = 1 << 20
#: Default sizes (issue 6): 1 KiB, 64 KiB, 1 MiB, 16 MiB.
SIZES = (KIB, 64 * KIB, MIB, 16 * MIB)
#: Opt-in size, behind ``--bench-huge``.
HUGE = 256 * MIB
#: SEIPDv2 chunk the library writes by default (Policy.chunk_size_octet 16: 4 MiB).
CHUNK = 4 * MIB

#: Modules each format needs; a benchmark skips while one is missing.
FORMAT_MODULES: dict[str, tuple[str, ...]] = {
    "openpgp": ("e2ee_mail.openpgp.message", "e2ee_mail.openpgp.certs"),
    "cms": ("e2ee_mail.cms.envelope", "e2ee_mail.keys.x509"),
    "smime": (
        "e2ee_mail.mime.smime",
        "e2ee_mail.mime.detect",
        "e2ee_mail.cms.envelope",
        "e2ee_mail.keys.x509",
    ),
    "pgpmime": (
        "e2ee_mail.mime.pgpmime",
        "e2ee_mail.mime.detect",
        "e2ee_mail.openpgp.message",
        "e2ee_mail.openpgp.certs",
    ),
}
#: Which key format each message format encrypts to.
KEY_FORMAT = {
    "openpgp": "openpgp",
    "cms": "x509",
    "smime": "x509",
    "pgpmime": "openpgp",
}
#: Exceptions that mean "not built yet" rather than "broken".
NOT_YET = (ImportError, AttributeError, NotImplementedError)


def size_id(n: int) -> str:
    """1024 -> "1KiB", 16 MiB -> "16MiB"."""
    return f"{n // MIB}MiB" if n >= MIB else f"{n // KIB}KiB"


def sizes(only: tuple[int, ...] = SIZES, *, huge: bool = True) -> list[Any]:
    """Parametrize values for ``only``, plus 256 MiB marked ``huge``."""
    params: list[Any] = [pytest.param(n, id=size_id(n)) for n in only]
    if huge:
        params.append(pytest.param(HUGE, id=size_id(HUGE), marks=pytest.mark.huge))
    return params


def cases(
    *leads: tuple[Any, ...], only: tuple[int, ...] = SIZES, huge: bool = True
) -> list[Any]:
    """Parametrize values ``(*lead, n)`` for every lead tuple and size."""
    params: list[Any] = []
    for lead in leads or ((),):
        prefix = "-".join(str(x) for x in lead)
        for p in sizes(only, huge=huge):
            n = p.values[0]
            ident = f"{prefix}-{size_id(n)}" if prefix else size_id(n)
            params.append(pytest.param(*lead, n, id=ident, marks=p.marks))
    return params


def require_format(name: str) -> None:
    """Skip (with the reason) while a format's modules have not landed."""
    for module in FORMAT_MODULES[name]:
        try:
            found = importlib.util.find_spec(module)
        except ImportError:
            found = None
        if found is None:
            pytest.skip(f"{module} is not there yet ({name} has not landed)")


def call_or_skip(name: str, fn: Callable[[], T]) -> T:
    """Run ``fn``; an exception saying the format is incomplete skips the benchmark."""
    try:
        return fn()
    except NOT_YET as exc:
        pytest.skip(f"{name} is incomplete: {type(exc).__name__}: {exc}")


class Measure:
    """Calibrate, then run one benchmark in pedantic mode and label it."""

    def __init__(self, benchmark: Any, seconds: float) -> None:
        self._benchmark = benchmark
        self._seconds = seconds

    def __call__(
        self,
        fn: Callable[[], T],
        *,
        case: str,
        group: str,
        nbytes: int,
        max_rounds: int = 200,
        **info: Any,
    ) -> T:
        """Time ``fn`` and return its result (from the calibration call).

        Args:
            fn: the operation; called with no arguments.
            case: stable id that report.py pairs (``limit.*`` for baselines).
            group: pytest-benchmark group (cases compared side by side).
            nbytes: bytes one call processes (throughput).
            max_rounds: cap on rounds.
            info: more extra_info.
        """
        bench = self._benchmark
        bench.group = group
        bench.extra_info.update(case=case, bytes=nbytes, **info)
        start = time.perf_counter()
        result = fn()
        once = max(time.perf_counter() - start, 1e-7)
        # Rounds of at least ~1 ms, so the timer's resolution does not matter.
        iterations = max(1, math.ceil(1e-3 / once))
        rounds = int(min(max_rounds, max(5, self._seconds / (once * iterations))))
        bench.pedantic(
            fn,
            rounds=rounds,
            iterations=iterations,
            warmup_rounds=1 if once < 0.5 else 0,
        )
        return result


_PAYLOADS: dict[int, bytes] = {}


def payload(n: int) -> bytes:
    """``n`` random (incompressible) bytes, the same object for the whole session."""
    if n not in _PAYLOADS:
        _PAYLOADS[n] = os.urandom(n)
    return _PAYLOADS[n]


def payload_file(directory: Path, n: int) -> Path:
    """A file holding :func:`payload` ``(n)`` (written once)."""
    path = directory / f"plain-{n}"
    if not path.exists():
        path.write_bytes(payload(n))
    return path


class Keys:
    """Test keys made with ``e2ee_mail.generate_key``, cached across runs.

    Generating 100 RSA-3072 keys takes ~25 s, so exported keys are kept in pytest's
    cache directory (``.pytest_cache``, ignored by git); a cached key that no longer
    loads is generated again.
    """

    def __init__(self, cache_dir: Path) -> None:
        self._dir = cache_dir
        self._loaded: dict[tuple[str, str, int], Any] = {}

    def secret(self, key_format: str, kind: str, index: int = 0) -> Any:
        """Secret key number ``index`` of that format and kind."""
        return self.secrets(key_format, kind, index + 1)[index]

    def secrets(self, key_format: str, kind: str, count: int) -> list[Any]:
        """The first ``count`` secret keys of that format and kind."""
        missing = [i for i in range(count) if (key_format, kind, i) not in self._loaded]
        if missing:
            workers = 2 if kind.startswith("rsa") and len(missing) > 1 else 1
            with ThreadPoolExecutor(workers) as pool:
                made = pool.map(
                    lambda i: self._load_or_make(key_format, kind, i), missing
                )
                for i, key in zip(missing, made, strict=True):
                    self._loaded[(key_format, kind, i)] = key
        return [self._loaded[(key_format, kind, i)] for i in range(count)]

    def certs(self, key_format: str, kind: str, count: int) -> list[Any]:
        """Certificates of the first ``count`` keys."""
        return [key.public for key in self.secrets(key_format, kind, count)]

    def _load_or_make(self, key_format: str, kind: str, index: int) -> Any:
        import e2ee_mail

        path = self._dir / f"{key_format}-{kind.replace('@', '-')}-{index}.key"
        if path.exists():
            try:
                return e2ee_mail.load_key(path.read_bytes())
            except e2ee_mail.Error:
                path.unlink()
        # "x25519@rfc4880" asks for an OpenPGP v4 key (RFC 4880 profile).
        algorithm, _, profile = kind.partition("@")
        key = e2ee_mail.generate_key(
            f"Bench {index} <bench{index}@example.org>",
            format=key_format,  # type: ignore[arg-type]
            kind=algorithm,  # type: ignore[arg-type]
            profile=profile or "rfc9580",  # type: ignore[arg-type]
        )
        path.write_bytes(key.export())
        return key
