"""Keys made once per session through ``e2ee-sop generate-key`` itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from soprun import ok


@pytest.fixture(scope="session")
def sop_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sop")


def _pair(directory: Path, name: str, *args: str) -> tuple[Path, Path]:
    key = directory / f"{name}.key"
    cert = directory / f"{name}.cert"
    key.write_bytes(ok("generate-key", *args))
    cert.write_bytes(ok("extract-cert", stdin=key.read_bytes()))
    return key, cert


@pytest.fixture(scope="session")
def alice_files(sop_dir: Path) -> tuple[Path, Path]:
    """A v6 key (the default profile) and its certificate."""
    return _pair(sop_dir, "alice", "Alice <alice@example.org>")


@pytest.fixture(scope="session")
def bob_files(sop_dir: Path) -> tuple[Path, Path]:
    """A v4 key (profile rfc4880) and its certificate."""
    return _pair(sop_dir, "bob", "--profile=rfc4880", "Bob <bob@example.org>")
