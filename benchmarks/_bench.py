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
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

KIB = 1 << 10
MIB = 1 << 20
#: Default sizes: 1 KiB, 64 KiB, 1 MiB, 16 MiB.
SIZES = (KIB, 64 * KIB, MIB, 16 * MIB)
#: Opt-in size, behind ``--bench-huge``.
HUGE = 256 * MIB
#: SEIPDv2 chunk the library writes by default (Policy.chunk_size_octet 16: 4 MiB).
CHUNK = 4 * MIB

#: Modules each format needs; a benchmark skips while one is missing.
FORMAT_MODULES: dict[str, tuple[str, ...]] = {
    "openpgp": ("e2ee_mail.openpgp.message", "e2ee_mail.openpgp.certs"),
    "cms": ("e2ee_mail.cms.envelope", "e2ee_mail.x509.certs"),
    "smime": (
        "e2ee_mail.mime.smime",
        "e2ee_mail.mime.detect",
        "e2ee_mail.cms.envelope",
        "e2ee_mail.x509.certs",
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
#: Most different RSA keys generated per format (see Keys.certs).
RSA_DISTINCT = 10
#: A call slower than this gets three rounds and no warm-up.
SLOW_SECONDS = 0.25
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

    @property
    def extra_info(self) -> dict[str, Any]:
        """The case's extra_info, for a measurement made after it."""
        info: dict[str, Any] = self._benchmark.extra_info
        return info

    def __call__(
        self,
        fn: Callable[[], T],
        *,
        case: str,
        group: str,
        nbytes: int,
        max_rounds: int = 200,
        paired: Callable[[], object] | None = None,
        **info: Any,
    ) -> T:
        """Time ``fn`` and return its result (from the calibration call).

        Args:
            fn: the operation; called with no arguments.
            case: stable id that report.py pairs (``limit.*`` for baselines).
            group: pytest-benchmark group (cases compared side by side).
            nbytes: bytes one call processes (throughput).
            max_rounds: cap on rounds.
            paired: the limit this case is divided by; timed right before and right
                after ``fn`` (as many calls as ``fn`` gets rounds, half each side) and
                stored as ``extra_info["paired_limit"]`` = {"min", "median"} seconds.
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
        warmup = 1
        if once >= SLOW_SECONDS:
            # Slow calls (the 16 MiB MIME cases): the calibration call was the warm-up;
            # three rounds keep the whole suite within a few minutes.
            rounds, warmup = 3, 0
        paired_times: list[float] = []
        half = max(2, min(rounds, 20) // 2)
        if paired is not None:
            paired()
            paired_times += _time_calls(paired, half)
        bench.pedantic(fn, rounds=rounds, iterations=iterations, warmup_rounds=warmup)
        if paired is not None:
            paired_times += _time_calls(paired, half)
            bench.extra_info["paired_limit"] = {
                "min": min(paired_times),
                "median": statistics.median(paired_times),
            }
        return result


def _time_calls(fn: Callable[[], object], n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


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

    Exported keys and certificates are kept in pytest's cache directory
    (``.pytest_cache``, ignored by git); an entry that no longer loads is generated
    again. Certificates load without the secret key: loading an RSA secret key costs
    0.2-0.4 s (cryptography validates the primes), so secrets load only when asked.
    RSA keys are made ``RSA_DISTINCT`` at a time at most: 100 RSA recipients are 10
    keys each named 10 times (separate certificate objects), which costs the sender
    the same 100 wraps (see :meth:`certs`).
    """

    def __init__(self, cache_dir: Path) -> None:
        self._dir = cache_dir
        self._secrets: dict[tuple[str, str, int], Any] = {}
        self._certs: dict[tuple[str, str, int], Any] = {}

    def _path(self, key_format: str, kind: str, index: int, suffix: str) -> Path:
        return self._dir / f"{key_format}-{kind.replace('@', '-')}-{index}.{suffix}"

    def secret(self, key_format: str, kind: str, index: int = 0) -> Any:
        """Secret key number ``index`` of that format and kind."""
        import e2ee_mail

        slot = (key_format, kind, index)
        if slot not in self._secrets:
            path = self._path(key_format, kind, index, "key")
            if path.exists():
                try:
                    self._secrets[slot] = e2ee_mail.load_key(path.read_bytes())
                except e2ee_mail.Error:
                    path.unlink()
            if slot not in self._secrets:
                self._make(key_format, kind, index)
        return self._secrets[slot]

    def cert(self, key_format: str, kind: str, index: int = 0) -> Any:
        """Certificate of key number ``index``."""
        import e2ee_mail

        slot = (key_format, kind, index)
        if slot not in self._certs:
            path = self._path(key_format, kind, index, "pub")
            if path.exists():
                try:
                    self._certs[slot] = e2ee_mail.load_certificate(path.read_bytes())
                except e2ee_mail.Error:
                    path.unlink()
            if slot not in self._certs:
                if self._path(key_format, kind, index, "key").exists():
                    # A cache from before certificates were stored beside keys.
                    cert = self.secret(key_format, kind, index).public
                    path.write_bytes(cert.export())
                    self._certs[slot] = cert
                else:
                    self._make(key_format, kind, index)
        return self._certs[slot]

    def distinct(self, kind: str, count: int) -> int:
        """How many different keys stand behind ``count`` recipients."""
        return min(count, RSA_DISTINCT) if kind.startswith("rsa") else count

    def certs(self, key_format: str, kind: str, count: int) -> list[Any]:
        """``count`` recipient certificates (RSA: ``distinct`` keys, repeated)."""
        import e2ee_mail

        distinct = self.distinct(kind, count)
        missing = [
            i
            for i in range(distinct)
            if (key_format, kind, i) not in self._certs
            and not self._path(key_format, kind, i, "pub").exists()
        ]
        if len(missing) > 1:
            # RSA generation releases the GIL: use both cores for a cold cache.
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(lambda i: self._make(key_format, kind, i), missing))
        found = [self.cert(key_format, kind, i) for i in range(distinct)]
        if distinct == count:
            return found
        # Separate objects for the repeats, so no per-object cache is shared.
        blobs = [
            self._path(key_format, kind, i, "pub").read_bytes() for i in range(distinct)
        ]
        return [
            found[i]
            if i < distinct
            else e2ee_mail.load_certificate(blobs[i % distinct])
            for i in range(count)
        ]

    def _make(self, key_format: str, kind: str, index: int) -> None:
        import e2ee_mail

        # "x25519@rfc4880" asks for an OpenPGP v4 key (RFC 4880 profile).
        algorithm, _, profile = kind.partition("@")
        key = e2ee_mail.generate_key(
            f"Bench {index} <bench{index}@example.org>",
            format=key_format,  # type: ignore[arg-type]
            kind=algorithm,  # type: ignore[arg-type]
            profile=profile or "rfc9580",  # type: ignore[arg-type]
        )
        self._path(key_format, kind, index, "key").write_bytes(key.export())
        self._path(key_format, kind, index, "pub").write_bytes(key.public.export())
        self._secrets[(key_format, kind, index)] = key
        self._certs[(key_format, kind, index)] = key.public
