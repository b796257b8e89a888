"""A hostile keyring manifest (valid checksum) fails only with e2ee_mail.Error."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import e2ee_mail
from e2ee_mail.keys.ring import Keyring

ALICE = "alice@example.org"

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    "format",
    "version",
    "serial",
    "fingerprint",
    "algorithm",
    "created",
    "expires",
    "state",
]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ring") / "ring"
    ring = Keyring.open(path)
    ring.rotate(
        ALICE, format="x509", kind="x25519", now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    ring.rotate(ALICE)
    return path


def _write(path: Path, body: object) -> None:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    doc = {
        "e2ee_mail_keyring": 1,
        "body": body,
        "sha256": hashlib.sha256(canonical).hexdigest(),
    }
    (path / "keyring.json").write_text(json.dumps(doc))


def _open(path: Path) -> None:
    with contextlib.suppress(e2ee_mail.Error):
        Keyring.open(path)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(FIELDS), json_values, st.integers(min_value=0, max_value=1))
def test_a_mangled_entry_field_fails_only_with_error(
    template: Path, tmp_path: Path, field: str, value: object, index: int
) -> None:
    path = tmp_path / "copy"
    shutil.rmtree(path, ignore_errors=True)
    shutil.copytree(template, path)
    doc = json.loads((path / "keyring.json").read_bytes())
    doc["body"]["identities"][ALICE][index][field] = value
    _write(path, doc["body"])
    _open(path)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(json_values)
def test_a_mangled_body_fails_only_with_error(
    template: Path, tmp_path: Path, body: object
) -> None:
    path = tmp_path / "copy"
    shutil.rmtree(path, ignore_errors=True)
    shutil.copytree(template, path)
    _write(path, body)
    _open(path)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["protected", "next_serial", "identities"]), json_values)
def test_a_mangled_top_level_field_fails_only_with_error(
    template: Path, tmp_path: Path, field: str, value: object
) -> None:
    path = tmp_path / "copy"
    shutil.rmtree(path, ignore_errors=True)
    shutil.copytree(template, path)
    doc = json.loads((path / "keyring.json").read_bytes())
    doc["body"][field] = value
    _write(path, doc["body"])
    _open(path)
