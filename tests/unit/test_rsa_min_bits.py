"""Policy.min_rsa_bits, one rule for both formats: encrypt, encrypt_stream and rewrap
refuse an RSA recipient key below it (PolicyError); decrypting with one's own smaller
RSA key works in CMS and OpenPGP alike.

The RSA-1024 keys are made by the library's own key generators, with a 1024-bit kind
added for the duration of each test.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator

import pytest

import e2ee_mail
from e2ee_mail import model
from e2ee_mail.openpgp import keygen, keygen_v4
from e2ee_mail.policy import DEFAULT
from e2ee_mail.x509 import keygen as x509_keygen

BODY = b"mail from before the keys grew\n"
#: What it took to write to a 1024-bit key in the first place.
OLD_POLICY = dataclasses.replace(DEFAULT, min_rsa_bits=1024)


@pytest.fixture
def rsa1024(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(model.RSA_BITS, "rsa1024", 1024)
    yield


@pytest.fixture
def small_keys(rsa1024: None) -> dict[str, e2ee_mail.SecretKey]:
    return {
        "cms": x509_keygen.generate("Old <old@example.org>", kind="rsa1024"),  # type: ignore[arg-type]
        "openpgp-v6": keygen.generate_v6("Old <old@example.org>", kind="rsa1024"),
        "openpgp-v4": keygen_v4.generate_v4("Old <old@example.org>", kind="rsa1024"),
    }


def _format(which: str) -> str:
    return "cms" if which == "cms" else "openpgp"


def _policy(which: str, policy: e2ee_mail.Policy) -> e2ee_mail.Policy:
    if which == "openpgp-v4":
        return dataclasses.replace(policy, profile="rfc4880")
    return policy


def _key_bits(key: e2ee_mail.SecretKey) -> int:
    return int(key.public.algorithm.removeprefix("rsa"))


WHICH = ["cms", "openpgp-v6", "openpgp-v4"]


@pytest.mark.parametrize("which", WHICH)
def test_encrypting_to_a_1024_bit_key_is_refused(
    small_keys: dict[str, e2ee_mail.SecretKey], which: str
) -> None:
    key = small_keys[which]
    assert _key_bits(key) == 1024
    fmt = _format(which)
    policy = _policy(which, DEFAULT)
    with pytest.raises(e2ee_mail.PolicyError, match="1024"):
        e2ee_mail.encrypt(BODY, key.public, format=fmt, policy=policy)  # type: ignore[arg-type]
    with pytest.raises(e2ee_mail.PolicyError, match="1024"):
        e2ee_mail.encrypt_stream(
            io.BytesIO(BODY),
            io.BytesIO(),
            key.public,
            format=fmt,  # type: ignore[arg-type]
            policy=policy,
        )
    if fmt == "cms":
        # The legacy profile (PKCS#1 v1.5 key transport) follows the same rule.
        with pytest.raises(e2ee_mail.PolicyError, match="1024"):
            e2ee_mail.encrypt(BODY, key.public, format="cms", cipher="aes-256-cbc")


@pytest.mark.parametrize("which", WHICH)
def test_rewrapping_to_a_1024_bit_key_is_refused(
    small_keys: dict[str, e2ee_mail.SecretKey], which: str
) -> None:
    fmt = _format(which)
    old = small_keys[which]
    if fmt == "cms":
        current = e2ee_mail.generate_key("New <n@example.org>", format="x509")
    else:
        current = e2ee_mail.generate_key(
            "New <n@example.org>",
            profile="rfc4880" if which == "openpgp-v4" else "rfc9580",
        )
    data = e2ee_mail.encrypt(BODY, current.public, format=fmt)  # type: ignore[arg-type]
    with pytest.raises(e2ee_mail.PolicyError, match="1024"):
        e2ee_mail.rewrap(data, current, [old.public], policy=_policy(which, DEFAULT))


@pytest.mark.parametrize(
    ("which", "pkcs1v15"),
    # OpenPGP RSA is always PKCS#1 v1.5; CMS writes OAEP unless asked for v1.5.
    [("cms", False), ("cms", True), ("openpgp-v6", True), ("openpgp-v4", True)],
)
def test_decrypting_with_ones_own_1024_bit_key_works(
    small_keys: dict[str, e2ee_mail.SecretKey], which: str, pkcs1v15: bool
) -> None:
    key = small_keys[which]
    fmt = _format(which)
    written = _policy(
        which, dataclasses.replace(OLD_POLICY, allow_rsa_pkcs1v15_encrypt=pkcs1v15)
    )
    data = bytes(e2ee_mail.encrypt(BODY, key.public, format=fmt, policy=written))  # type: ignore[arg-type]
    # Opened under the default policy, whose minimum the key is below.
    assert e2ee_mail.decrypt(data, key) == BODY
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(io.BytesIO(data), out, key)
    assert out.getvalue() == BODY
    # Re-keying old mail away from the small key is what the owner wants to do.
    if fmt == "cms":
        current = e2ee_mail.generate_key("New <n@example.org>", format="x509")
    else:
        current = e2ee_mail.generate_key(
            "New <n@example.org>",
            profile="rfc4880" if which == "openpgp-v4" else "rfc9580",
        )
    rewrapped = e2ee_mail.rewrap(data, key, [current.public])
    assert e2ee_mail.decrypt(rewrapped, current) == BODY
