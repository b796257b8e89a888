"""The GnuPG keyring bridge (keys/gnupg.py) against a temporary GNUPGHOME.

Certificates are found by email address and loaded as recipients; decryption through
gpg-agent maps gpg's failures onto the library's own errors.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from gpg import GpgHome, gpg_home
from peers import require_peer

import e2ee_mail
from e2ee_mail.keys.gnupg import GnuPGKeyring, _outcome

pytestmark = pytest.mark.interop

BODY = b"agent-held secret body\n" * 50


@dataclass
class Env:
    home: GpgHome
    ring: GnuPGKeyring
    alice: str
    bob: str


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    require_peer("gpg")
    with gpg_home() as home:
        alice = home.generate(
            "Alice Example <Alice@Example.org>", "cv25519", "alice pw"
        )
        bob = home.generate("Bob <bob@example.org>", "rsa3072", "")
        yield Env(home, GnuPGKeyring(home.path), alice, bob)


def _forget_passphrases(home: GpgHome) -> None:
    subprocess.run(
        ["gpgconf", "--homedir", home.path, "--reload", "gpg-agent"],
        check=True,
        capture_output=True,
        env=home.env(),
    )


def test_find_certificates_by_email_is_case_insensitive(env: Env) -> None:
    certs = env.ring.find_certificates("ALICE@example.ORG")
    assert [c.fingerprint for c in certs] == [env.alice]
    assert certs[0].user_ids == ("Alice Example <Alice@Example.org>",)


def test_find_certificates_matches_whole_addresses_only(env: Env) -> None:
    assert env.ring.find_certificates("lice@example.org") == []
    assert env.ring.find_certificates("nobody@example.org") == []


def test_find_certificates_rejects_non_addresses(env: Env) -> None:
    with pytest.raises(e2ee_mail.UsageError):
        env.ring.find_certificates("alice")


def test_revoked_keys_are_not_returned() -> None:
    require_peer("gpg")
    with gpg_home() as home:
        fpr = home.generate("Carol <carol@example.org>", "cv25519", "")
        ring = GnuPGKeyring(home.path)
        assert len(ring.find_certificates("carol@example.org")) == 1
        # gpg 2.2 writes a revocation certificate at key generation, with the armor
        # line prefixed by ":" against accidental import.
        rev = Path(home.path, "openpgp-revocs.d", f"{fpr}.rev").read_bytes()
        home.import_keys(rev.replace(b":-----BEGIN", b"-----BEGIN"))
        assert ring.find_certificates("carol@example.org") == []


def test_found_certificates_are_usable_recipients(env: Env) -> None:
    certs = env.ring.find_certificates("bob@example.org")
    message = e2ee_mail.encrypt(BODY, certs)
    assert env.home.decrypt(message) == BODY


def test_agent_decrypts_our_message(env: Env) -> None:
    certs = env.ring.find_certificates("alice@example.org")
    message = e2ee_mail.encrypt(BODY, certs, armor=True)
    assert env.ring.decrypt(message, passphrase="alice pw") == BODY


def test_agent_decrypts_gpg_message_with_unprotected_key(env: Env) -> None:
    message = env.home.encrypt(BODY, [env.bob])
    assert env.ring.decrypt(message) == BODY


def test_agent_wrong_passphrase_is_passphrase_error(env: Env) -> None:
    _forget_passphrases(env.home)
    message = e2ee_mail.encrypt(BODY, env.ring.find_certificates("alice@example.org"))
    with pytest.raises(e2ee_mail.PassphraseError):
        env.ring.decrypt(message, passphrase="wrong")


def test_agent_without_pinentry_or_passphrase_is_passphrase_error(env: Env) -> None:
    _forget_passphrases(env.home)
    message = e2ee_mail.encrypt(BODY, env.ring.find_certificates("alice@example.org"))
    with pytest.raises(e2ee_mail.PassphraseError):
        env.ring.decrypt(message)


def test_message_for_someone_else_is_no_matching_key(env: Env) -> None:
    stranger = e2ee_mail.generate_key("S <s@example.org>", profile="rfc4880")
    message = e2ee_mail.encrypt(BODY, [stranger.public])
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        env.ring.decrypt(message)


def test_not_a_message_is_format_error(env: Env) -> None:
    with pytest.raises(e2ee_mail.FormatError):
        env.ring.decrypt(b"this is not OpenPGP at all")


def test_tampered_message_is_decryption_error_and_no_plaintext(env: Env) -> None:
    message = bytearray(
        e2ee_mail.encrypt(BODY, env.ring.find_certificates("bob@example.org"))
    )
    message[-30] ^= 0x20
    with pytest.raises(e2ee_mail.DecryptionError) as info:
        env.ring.decrypt(bytes(message))
    assert str(info.value) == str(e2ee_mail.DecryptionError())


def test_status_without_integrity_check_never_releases_plaintext() -> None:
    # A SED packet (no MDC) that gpg might decrypt still must not be returned.
    statuses = [("ENC_TO", "0011223344556677 18 0"), ("DECRYPTION_OKAY", "")]
    with pytest.raises(e2ee_mail.DecryptionError):
        _outcome(statuses, b"unauthenticated")
    statuses.append(("GOODMDC", ""))
    assert _outcome(statuses, b"ok") == b"ok"
    statuses.append(("BADMDC", ""))
    with pytest.raises(e2ee_mail.DecryptionError):
        _outcome(statuses, b"ok")
