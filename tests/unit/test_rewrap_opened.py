"""rewrap_opened (the mailbox re-key's step): one unwrap gives the new message and
the plaintext; the new message opens with the new key alone to that plaintext, the
sealed body is copied byte for byte, and a key that does not open the body fails."""

from __future__ import annotations

import pytest
from ocbed_messages import message as ocbed_message

import e2ee_mail
from e2ee_mail import errors
from e2ee_mail.cms import rekey as cms_rekey
from e2ee_mail.openpgp import certs, keygen
from e2ee_mail.openpgp import rekey as openpgp_rekey
from e2ee_mail.openpgp.message import ParsedMessage
from e2ee_mail.policy import DEFAULT
from e2ee_mail.x509 import certs as x509_certs

BODY = bytes(i % 251 for i in range(3000))


@pytest.fixture(scope="module")
def v4() -> certs.OpenPGPSecretKey:
    return keygen.generate("Vera <v@example.org>", kind="x25519", profile="rfc4880")


@pytest.fixture(scope="module")
def otto() -> certs.OpenPGPSecretKey:
    return keygen.generate("Otto <o@example.org>", kind="x25519", profile="rfc4880")


def test_cms_rewrap_opened_gives_the_plaintext_and_a_message_for_the_new_key(
    xkey: x509_certs.X509SecretKey, other: x509_certs.X509SecretKey
) -> None:
    sealed = bytes(e2ee_mail.encrypt(BODY, [xkey.public], format="cms"))
    for data in (sealed, cms_rekey.ParsedEnvelope(sealed, DEFAULT)):
        new, plaintext = cms_rekey.rewrap_opened(
            data, [xkey], [other.public], policy=DEFAULT
        )
        assert plaintext == BODY
        assert e2ee_mail.decrypt(new, other) == BODY
        with pytest.raises(errors.NoMatchingKeyError):
            e2ee_mail.decrypt(new, xkey)
        assert bytes(new)[-64:] == sealed[-64:]


def test_cms_parsed_envelope_opens_with_the_named_key(
    xkey: x509_certs.X509SecretKey, other: x509_certs.X509SecretKey
) -> None:
    sealed = bytes(e2ee_mail.encrypt(BODY, [xkey.public], format="cms"))
    env = cms_rekey.ParsedEnvelope(sealed, DEFAULT)
    assert len(env.recipient_infos) == 1
    assert env.open([xkey], DEFAULT)[1] == BODY
    with pytest.raises(errors.NoMatchingKeyError):
        env.open([other], DEFAULT)


def test_cms_rewrap_opened_refuses_a_body_its_key_does_not_open(
    xkey: x509_certs.X509SecretKey, other: x509_certs.X509SecretKey
) -> None:
    sealed = bytearray(e2ee_mail.encrypt(BODY, [xkey.public], format="cms"))
    sealed[-40] ^= 1  # inside the body: the tag no longer matches
    with pytest.raises(errors.DecryptionError):
        cms_rekey.rewrap_opened(bytes(sealed), [xkey], [other.public], policy=DEFAULT)


@pytest.mark.parametrize("armor", [False, True])
def test_openpgp_rewrap_opened_seipdv2(
    alice: certs.OpenPGPSecretKey, bob: certs.OpenPGPSecretKey, armor: bool
) -> None:
    sealed = bytes(e2ee_mail.encrypt(BODY, [alice.public], armor=armor))
    for data in (sealed, ParsedMessage(sealed, DEFAULT)):
        new, plaintext = openpgp_rekey.rewrap_opened(
            data, [alice], [bob.public], policy=DEFAULT
        )
        assert plaintext == BODY
        assert e2ee_mail.decrypt(new, bob) == BODY
        with pytest.raises(errors.NoMatchingKeyError):
            e2ee_mail.decrypt(new, alice)


@pytest.mark.parametrize("packet", ["seipdv1", "ocb-encrypted-data"])
def test_openpgp_rewrap_opened_v3_pkesk_messages(
    v4: certs.OpenPGPSecretKey, otto: certs.OpenPGPSecretKey, packet: str
) -> None:
    if packet == "seipdv1":
        sealed = bytes(e2ee_mail.encrypt(BODY, [v4.public]))
    else:
        sealed = ocbed_message(v4.public, BODY)
    new, plaintext = openpgp_rekey.rewrap_opened(
        sealed, [v4], [otto.public], policy=DEFAULT
    )
    assert plaintext == BODY
    assert e2ee_mail.decrypt(new, otto) == BODY
    with pytest.raises(errors.NoMatchingKeyError):
        e2ee_mail.decrypt(new, v4)
    start, end = ParsedMessage(sealed, DEFAULT).seipd_span
    assert bytes(new).endswith(sealed[start:end])


def test_openpgp_rewrap_opened_with_a_key_not_named_fails(
    alice: certs.OpenPGPSecretKey, bob: certs.OpenPGPSecretKey
) -> None:
    sealed = bytes(e2ee_mail.encrypt(BODY, [alice.public]))
    with pytest.raises(errors.NoMatchingKeyError):
        openpgp_rekey.rewrap_opened(sealed, [bob], [bob.public], policy=DEFAULT)
