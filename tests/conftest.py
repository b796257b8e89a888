"""Shared test setup: the hypothesis profiles, the keys every module may use, and a
header naming the versions of the interop peers when interop tests were collected.

Helpers that test modules import live in ``tests/peers.py``: test modules must not
import from ``conftest``, because several directories have a ``conftest.py`` and only
one of them can be the module named ``conftest``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from peers import peer_versions

from e2ee_mail.openpgp import certs, keygen
from e2ee_mail.x509 import certs as x509_certs
from e2ee_mail.x509 import keygen as x509_keygen

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=30,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# Keys shared by every test module: generating them once per session instead of once
# per module saves most of the suite's RSA key generation. Keys are values; no test
# may change one.


@pytest.fixture(scope="session")
def alice() -> certs.OpenPGPSecretKey:
    """A v6 OpenPGP key (Ed25519 primary, X25519 encryption subkey)."""
    return keygen.generate(
        "Alice <alice@example.org>", kind="x25519", profile="rfc9580"
    )


@pytest.fixture(scope="session")
def bob() -> certs.OpenPGPSecretKey:
    """A second v6 OpenPGP key, for messages to several recipients."""
    return keygen.generate("Bob <bob@example.org>", kind="x25519", profile="rfc9580")


@pytest.fixture(scope="session")
def xkey() -> x509_certs.X509SecretKey:
    """An X.509 X25519 key and certificate."""
    return x509_keygen.generate("Xavier <x@example.org>", kind="x25519")


@pytest.fixture(scope="session")
def rkey() -> x509_certs.X509SecretKey:
    """An X.509 RSA-3072 key and certificate."""
    return x509_keygen.generate("Rita <r@example.org>", kind="rsa3072")


@pytest.fixture(scope="session")
def other() -> x509_certs.X509SecretKey:
    """An X.509 X25519 key that no test message is addressed to."""
    return x509_keygen.generate("Olga <o@example.org>", kind="x25519")


def pytest_report_collectionfinish(
    config: pytest.Config, start_path: Path, items: list[pytest.Item]
) -> list[str]:
    """The peers' versions, so a run's log says what it interoperated with."""
    if not any(item.get_closest_marker("interop") for item in items):
        return []
    return ["interop peers:"] + [
        f"  {name}: {version or 'missing'}" for name, version in peer_versions().items()
    ]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test whose own hang guard allows more than the per-test timeout (the fuzz
    suite's ``hang_limit`` marker) gets a timeout a minute past its guard: the guard
    fails that test alone, with a message naming it, where the timeout ends the run."""
    for item in items:
        guard = item.get_closest_marker("hang_limit")
        if guard is not None and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(int(guard.args[0]) + 60))
