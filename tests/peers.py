"""The peer-availability rule for interop tests.

Interop tests call :func:`require_peer`. A missing peer skips the test with the reason,
except in CI (``E2EE_MAIL_REQUIRE_PEERS=1``), where it fails: in CI nothing skips.
"""

from __future__ import annotations

import os
import shutil
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
