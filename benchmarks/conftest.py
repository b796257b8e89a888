"""pytest-benchmark set-up for e2ee_mail: collection, options and fixtures.

``pytest benchmarks/`` collects the ``bench_*.py`` files here; the default test run
(``testpaths = ["tests"]``) never sees them. The helpers live in ``_bench.py``.

Options: ``--bench-huge`` adds the 256 MiB cases (marker ``huge``);
``--bench-seconds`` sets the time spent measuring each benchmark (default 0.3 s).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from _bench import Keys, Measure

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("e2ee_mail benchmarks")
    group.addoption(
        "--bench-huge",
        action="store_true",
        default=False,
        help="also run the 256 MiB cases (marker 'huge')",
    )
    group.addoption(
        "--bench-seconds",
        type=float,
        default=0.3,
        help="time to spend measuring each benchmark (default 0.3 s)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "huge: 256 MiB cases, run with --bench-huge")


def pytest_collect_file(
    file_path: Path, parent: pytest.Collector
) -> pytest.Module | None:
    # pytest collects test_*.py by default; ours are bench_*.py, so that the test run
    # never collects them. A file named on the command line is collected by pytest
    # itself: do not add it twice.
    if (
        file_path.suffix == ".py"
        and file_path.name.startswith("bench_")
        and not parent.session.isinitpath(file_path)
    ):
        module: pytest.Module = pytest.Module.from_parent(parent, path=file_path)
        return module
    return None


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    if config.getoption("--bench-huge"):
        return
    skip = pytest.mark.skip(reason="256 MiB case: run with --bench-huge")
    for item in items:
        if "huge" in item.keywords:
            item.add_marker(skip)


def pytest_benchmark_update_machine_info(
    config: pytest.Config, machine_info: dict[str, Any]
) -> None:
    """Record what the README must state next to the figures."""
    import cryptography
    import nacl
    import pybase64
    from cryptography.hazmat.backends.openssl.backend import backend

    machine_info["e2ee_mail"] = {
        "cryptography": cryptography.__version__,
        "openssl": str(backend.openssl_version_text()),
        "pynacl": nacl.__version__,
        "pybase64": pybase64.get_version(),
        "cpu_count": os.cpu_count(),
        "commit": _git_commit(),
        "huge": bool(config.getoption("--bench-huge")),
        # Shared machine: a busy second core changes the figures (GIL case above all).
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _git_commit() -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


@pytest.fixture
def measure(benchmark: Any, request: pytest.FixtureRequest) -> Measure:
    """The runner every benchmark uses."""
    return Measure(benchmark, float(request.config.getoption("--bench-seconds")))


@pytest.fixture(scope="session")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory for the file-to-file cases."""
    return tmp_path_factory.mktemp("e2ee-bench")


@pytest.fixture(scope="session")
def keys(request: pytest.FixtureRequest) -> Keys:
    """The session's key store (cached in .pytest_cache across runs)."""
    assert request.config.cache is not None
    return Keys(request.config.cache.mkdir("e2ee-bench-keys"))


@pytest.fixture(scope="session")
def thread_pool() -> Iterator[ThreadPoolExecutor]:
    """Two worker threads that outlive the timed calls (GIL measurement)."""
    with ThreadPoolExecutor(2) as pool:
        yield pool
