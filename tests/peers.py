"""The interop peers: how each is found, its version, and the availability rule.

Interop tests call :func:`require_peer` (or :func:`require_pysequoia` for the Python
binding of Sequoia). A missing peer skips the test with the reason, except in CI
(``E2EE_MAIL_REQUIRE_PEERS=1``), where it fails: in CI nothing skips.
``scripts/install-peers`` installs every peer named here; pysequoia comes with the
``test`` extra. :func:`peer_versions` feeds the session header that names the versions
the interop tests ran against.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / "tests" / "interop" / "node"

#: Command-line peers -> the commands whose first output lines give the version; a
#: second command names the OpenPGP library behind a Stateless OpenPGP front end.
_COMMANDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "openssl": (("openssl", "version"),),
    "gpg": (("gpg", "--version"),),
    "gpgsm": (("gpgsm", "--version"),),
    "sq": (("sq", "--version"),),
    "sqop": (("sqop", "version"), ("sqop", "version", "--backend")),
    "gosop": (("gosop", "version"), ("gosop", "version", "--backend")),
    "rnp": (("rnp", "--version"),),
}
#: Every peer name :func:`require_peer` knows.
PEERS: tuple[str, ...] = (*_COMMANDS, "openpgp.js", "pysequoia")


def _locate(name: str) -> tuple[str | None, str]:
    """(where peer ``name`` is, or None; the reason it is missing)."""
    if name == "openpgp.js":
        node = shutil.which("node")
        ok = node is not None and (NODE_DIR / "node_modules" / "openpgp").is_dir()
        return (node if ok else None), (
            "OpenPGP.js is not installed: run scripts/install-peers (npm install)"
        )
    if name == "pysequoia":
        spec = importlib.util.find_spec("pysequoia")
        return (spec.origin if spec is not None else None), (
            "pysequoia is not installed: pip install -e '.[test]'"
        )
    if name not in _COMMANDS:
        raise ValueError(f"unknown interop peer {name!r}; known: {', '.join(PEERS)}")
    return shutil.which(name), (
        f"{name} is not on PATH: run scripts/install-peers (as root, on Debian)"
    )


def require_peer(name: str) -> str:
    """Return where peer ``name`` is (a path), or skip.

    ``name`` is one of :data:`PEERS`: a command (openssl, gpg, gpgsm, sq, sqop, gosop,
    rnp), ``openpgp.js`` (node with OpenPGP.js installed; the path is node's) or
    ``pysequoia`` (the module's file). In CI (``E2EE_MAIL_REQUIRE_PEERS=1``) a
    missing peer is a failure, not a skip.
    """
    found, reason = _locate(name)
    if found is None:
        if os.environ.get("E2EE_MAIL_REQUIRE_PEERS") == "1":
            pytest.fail(f"interop peer missing in CI: {reason}")
        pytest.skip(reason)
    return found


def require_pysequoia() -> ModuleType:
    """The pysequoia module, or skip (fail in CI) as :func:`require_peer` does."""
    require_peer("pysequoia")
    return importlib.import_module("pysequoia")


def _first_line(cmd: tuple[str, ...]) -> str:
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    lines = (proc.stdout or proc.stderr).strip().splitlines()
    return lines[0].strip() if proc.returncode == 0 and lines else "?"


@functools.cache
def peer_version(name: str) -> str | None:
    """Peer ``name``'s version as it reports it, or None when it is missing."""
    found, _ = _locate(name)
    if found is None:
        return None
    if name == "openpgp.js":
        package = NODE_DIR / "node_modules" / "openpgp" / "package.json"
        return "OpenPGP.js " + str(json.loads(package.read_text())["version"])
    if name == "pysequoia":
        return "pysequoia " + importlib.metadata.version("pysequoia")
    main, *backends = (_first_line(cmd) for cmd in _COMMANDS[name])
    return f"{main} ({', '.join(backends)})" if backends else main


def peer_versions() -> dict[str, str | None]:
    """Every peer's version (None: missing), in :data:`PEERS` order."""
    return {name: peer_version(name) for name in PEERS}


def node(script: str, *args: str) -> None:
    """Run the OpenPGP.js script tests/interop/node/``script`` with ``args``; fail
    with its stderr."""
    exe = require_peer("openpgp.js")
    proc = subprocess.run(
        [exe, str(NODE_DIR / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=NODE_DIR,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def node_request(script: str, tmp_path: Path, **request: object) -> None:
    """Run one OpenPGP.js operation: ``script`` reads ``request`` as JSON."""
    req = tmp_path / "request.json"
    req.write_text(json.dumps(request))
    node(script, str(req))


def openpgpjs(tmp_path: Path, **request: object) -> None:
    """Run one operation of tests/interop/node/pgp.mjs (see :func:`node_request`)."""
    node_request("pgp.mjs", tmp_path, **request)
