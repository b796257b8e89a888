"""Shared helpers of the deterministic-vector generators (det_*.py), not a generator.

Every "random" value a generator pins comes from :func:`pinned`: SHAKE-256 over a
fixed label naming the file, case and purpose, so running a generator twice gives
the same file. These values are public test data, never keys for real mail.

RSA padding (OAEP seed, PKCS#1 v1.5 padding string) cannot be pinned through
``cryptography``; a generator records the RSA-wrapped key as an input of the case,
and on a re-run keeps the blob already recorded in the committed file when it still
unwraps to the same (pinned) key, so the output does not change.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "e2ee_mail" / "vectors" / "data"
KEYS = VECTORS / "keys"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def pinned(label: str, n: int) -> bytes:
    """``n`` octets derived from ``label`` (deterministic, public: tests only)."""
    return hashlib.shake_256(b"e2ee_mail test vector/" + label.encode()).digest(n)


def plaintext(label: str, n: int) -> bytes:
    """A readable deterministic plaintext of ``n`` octets."""
    line = f"{label}: e2ee_mail deterministic vector plaintext.\r\n".encode()
    return (line * (n // len(line) + 1))[:n]


def b64(data: bytes | bytearray) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


def key_path(name: str) -> Path:
    return KEYS / name


def previous_cases(out: Path) -> dict[int, dict[str, Any]]:
    """The cases of the committed file, by id (empty when there is none)."""
    if not out.is_file():
        return {}
    doc = json.loads(out.read_text(encoding="utf-8"))
    return {c["id"]: c for g in doc["groups"] for c in g["cases"]}


def write(out: Path, doc: dict[str, Any]) -> None:
    ids = [c["id"] for g in doc["groups"] for c in g["cases"]]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
