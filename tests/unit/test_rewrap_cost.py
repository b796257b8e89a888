"""rewrap checks the key without opening the whole body where the unwrap is itself
authenticated (O(1) in the body size), and still fails closed."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

import e2ee_mail
from e2ee_mail import errors
from e2ee_mail.cms import rekey
from e2ee_mail.core import chunked
from e2ee_mail.openpgp import certs, message, seipdv2
from e2ee_mail.openpgp import rekey as openpgp_rekey
from e2ee_mail.policy import DEFAULT, LEGACY_DECRYPT
from e2ee_mail.x509 import certs as kx

SMALL_CHUNKS = dataclasses.replace(DEFAULT, chunk_size_octet=0)  # 64-octet chunks
BODY = bytes(i % 251 for i in range(5000))  # ~79 SEIPDv2 chunks of 64 octets


@pytest.fixture
def no_bulk_open(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record every whole-body open a rewrap attempts (and let it proceed)."""
    calls: list[str] = []
    real_open_into = chunked.open_into
    real_opens_with = rekey._opens_with

    def open_into(*args: object, **kwargs: object) -> int:
        calls.append("chunked.open_into")
        return real_open_into(*args, **kwargs)  # type: ignore[arg-type]

    def opens_with(*args: object, **kwargs: object) -> bool:
        calls.append("cms._opens_with")
        return real_opens_with(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(chunked, "open_into", open_into)
    monkeypatch.setattr(rekey, "_opens_with", opens_with)
    yield calls


def test_openpgp_rewrap_checks_the_final_tag_not_the_body(
    alice: certs.OpenPGPSecretKey,
    bob: certs.OpenPGPSecretKey,
    no_bulk_open: list[str],
) -> None:
    sealed = bytes(
        message.encrypt(BODY, [alice.public], armor=False, policy=SMALL_CHUNKS)
    )
    seipd = message.ParsedMessage(sealed, DEFAULT).seipd_span
    rewrapped = openpgp_rekey.rewrap(sealed, [alice], [bob.public], policy=DEFAULT)
    assert no_bulk_open == []
    old_body = sealed[seipd[0] : seipd[1]]
    assert bytes(rewrapped).endswith(old_body)
    assert message.decrypt(rewrapped, [bob], policy=DEFAULT) == BODY


def test_openpgp_rewrap_of_an_empty_body_round_trips(
    alice: certs.OpenPGPSecretKey, bob: certs.OpenPGPSecretKey
) -> None:
    sealed = bytes(message.encrypt(b"", [alice.public], armor=False, policy=DEFAULT))
    rewrapped = openpgp_rekey.rewrap(sealed, [alice], [bob.public], policy=DEFAULT)
    assert message.decrypt(rewrapped, [bob], policy=DEFAULT) == b""


def test_openpgp_rewrap_with_a_key_that_does_not_open_the_body_fails(
    alice: certs.OpenPGPSecretKey, bob: certs.OpenPGPSecretKey
) -> None:
    # Alice's PKESK from one message in front of the body of another: her key
    # unwraps a session key, which the final tag rejects.
    first = bytes(message.encrypt(BODY, [alice.public], armor=False, policy=DEFAULT))
    second = bytes(message.encrypt(BODY, [alice.public], armor=False, policy=DEFAULT))
    start, _ = message.ParsedMessage(first, DEFAULT).seipd_span
    other_start, _ = message.ParsedMessage(second, DEFAULT).seipd_span
    spliced = first[:start] + second[other_start:]
    with pytest.raises(errors.DecryptionError):
        openpgp_rekey.rewrap(spliced, [alice], [bob.public], policy=DEFAULT)
    with pytest.raises(errors.NoMatchingKeyError):
        openpgp_rekey.rewrap(first, [bob], [bob.public], policy=DEFAULT)


def test_seipdv2_final_tag_check_rejects_a_wrong_session_key(
    alice: certs.OpenPGPSecretKey,
) -> None:
    sealed = bytes(message.encrypt(BODY, [alice.public], armor=False, policy=DEFAULT))
    parsed = message.ParsedMessage(sealed, DEFAULT)
    with pytest.raises(errors.DecryptionError):
        seipdv2.check_session_key(parsed.seipd_body, bytes(32))


@pytest.mark.parametrize("kind", ["x25519", "rsa-oaep"])
def test_cms_rewrap_skips_the_body_when_the_unwrap_authenticates(
    kind: str,
    xkey: kx.X509SecretKey,
    rkey: kx.X509SecretKey,
    no_bulk_open: list[str],
) -> None:
    key = xkey if kind == "x25519" else rkey
    ct = bytes(e2ee_mail.encrypt(BODY, [key.public], format="cms"))
    rewrapped = e2ee_mail.rewrap(ct, key, [xkey.public, rkey.public])
    assert no_bulk_open == []
    assert bytes(rewrapped).endswith(ct[-(len(BODY) + 18) :])
    assert e2ee_mail.decrypt(rewrapped, xkey) == BODY
    assert e2ee_mail.decrypt(rewrapped, rkey) == BODY


def test_cms_rewrap_opens_the_body_after_an_rsa_pkcs1v15_unwrap(
    xkey: kx.X509SecretKey, rkey: kx.X509SecretKey, no_bulk_open: list[str]
) -> None:
    # PKCS#1 v1.5 with implicit rejection never fails: only the tag proves the key.
    writes_v15 = dataclasses.replace(DEFAULT, allow_rsa_pkcs1v15_encrypt=True)
    ct = bytes(e2ee_mail.encrypt(BODY, [rkey.public], format="cms", policy=writes_v15))
    rewrapped = e2ee_mail.rewrap(ct, rkey, [xkey.public], policy=LEGACY_DECRYPT)
    assert no_bulk_open == ["cms._opens_with"]
    assert bytes(rewrapped).endswith(ct[-(len(BODY) + 18) :])
    assert e2ee_mail.decrypt(rewrapped, xkey) == BODY


def test_cms_rewrap_with_an_unnamed_key_is_no_matching_key(
    xkey: kx.X509SecretKey, rkey: kx.X509SecretKey
) -> None:
    ct = bytes(e2ee_mail.encrypt(BODY, [xkey.public], format="cms"))
    with pytest.raises(errors.NoMatchingKeyError):
        e2ee_mail.rewrap(ct, rkey, [rkey.public])
