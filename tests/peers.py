"""The peer-availability rule for interop tests.

Interop tests call :func:`require_peer`. A missing peer skips the test with the reason,
except in CI (``E2EE_MAIL_REQUIRE_PEERS=1``), where it fails: in CI nothing skips.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / "tests" / "interop" / "node"


def require_peer(name: str) -> str:
    """Return the path of peer ``name`` (openssl, gpg, gpgsm, node+openpgp), or skip.

    In CI (``E2EE_MAIL_REQUIRE_PEERS=1``) a missing peer is a failure, not a skip.
    """
    if name == "openpgp.js":
        node = shutil.which("node")
        ok = node is not None and (NODE_DIR / "node_modules" / "openpgp").is_dir()
        path = node or ""
        reason = "OpenPGP.js is not installed: run scripts/test (npm install)"
    else:
        found = shutil.which(name)
        ok = found is not None
        path = found or ""
        reason = f"{name} is not on PATH"
    if not ok:
        if os.environ.get("E2EE_MAIL_REQUIRE_PEERS") == "1":
            pytest.fail(f"interop peer missing in CI: {reason}")
        pytest.skip(reason)
    return path


def openpgpjs(tmp_path: Path, **request: object) -> None:
    """Run one OpenPGP.js operation (tests/interop/node/pgp.mjs reads ``request``
    as JSON); fail with its stderr."""
    exe = require_peer("openpgp.js")
    req = tmp_path / "request.json"
    req.write_text(json.dumps(request))
    proc = subprocess.run(
        [exe, str(NODE_DIR / "pgp.mjs"), str(req)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=NODE_DIR,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
