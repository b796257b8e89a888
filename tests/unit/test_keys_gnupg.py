"""The GnuPG bridge's mapping of gpg status lines to the library's errors
(keys/gnupg.py), without running gpg."""

from __future__ import annotations

import pytest

import e2ee_mail
from e2ee_mail.keys.gnupg import GnuPGKeyring, _addresses, _outcome

ENC = ("ENC_TO", "0011223344556677 18 0")


def test_plaintext_only_with_decryption_okay_and_an_integrity_check() -> None:
    assert _outcome([ENC, ("DECRYPTION_OKAY", ""), ("GOODMDC", "")], b"p") == b"p"
    aead = ("DECRYPTION_INFO", "0 9 2")  # gpg 2.4: AEAD, no MDC line
    assert _outcome([ENC, aead, ("DECRYPTION_OKAY", "")], b"p") == b"p"
    with pytest.raises(e2ee_mail.DecryptionError):
        _outcome([ENC, ("DECRYPTION_OKAY", "")], b"unauthenticated")  # SED
    with pytest.raises(e2ee_mail.DecryptionError):
        _outcome([ENC, ("DECRYPTION_OKAY", ""), ("GOODMDC", ""), ("BADMDC", "")], b"p")


@pytest.mark.parametrize(
    "status",
    [
        ("ERROR", "pkdecrypt_failed 67108875"),  # GPG_ERR_BAD_PASSPHRASE (11)
        ("ERROR", "pkdecrypt_failed 83886179"),  # GPG_ERR_CANCELED (99)
        ("BAD_PASSPHRASE", "0011223344556677"),
        ("MISSING_PASSPHRASE", ""),
    ],
)
def test_unlock_failures_are_passphrase_errors(status: tuple[str, str]) -> None:
    with pytest.raises(e2ee_mail.PassphraseError):
        _outcome([ENC, status, ("DECRYPTION_FAILED", "")], b"")


def test_pinentry_that_cannot_run_is_a_passphrase_error() -> None:
    statuses = [
        ENC,
        ("PINENTRY_LAUNCHED", "1 curses"),
        ("ERROR", "pkdecrypt_failed 83918950"),  # a system error from the pinentry
        ("DECRYPTION_FAILED", ""),
    ]
    with pytest.raises(e2ee_mail.PassphraseError):
        _outcome(statuses, b"")


def test_no_secret_key_for_every_recipient_is_no_matching_key() -> None:
    other = ("ENC_TO", "8899AABBCCDDEEFF 1 0")
    statuses = [
        ENC,
        other,
        ("NO_SECKEY", "0011223344556677"),
        ("NO_SECKEY", "8899AABBCCDDEEFF"),
        ("BEGIN_DECRYPTION", ""),
        ("DECRYPTION_FAILED", ""),
    ]
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        _outcome(statuses, b"")
    # One recipient has a key but decryption failed: not "no key".
    with pytest.raises(e2ee_mail.DecryptionError):
        _outcome([s for s in statuses if s[1] != "8899AABBCCDDEEFF"], b"")


def test_no_recipient_entries_is_a_format_error() -> None:
    with pytest.raises(e2ee_mail.FormatError):
        _outcome([("NODATA", "1")], b"")


def test_addresses_are_whole_and_lower_cased() -> None:
    assert _addresses("Alice Example <Alice@Example.org>") == {"alice@example.org"}
    assert _addresses("bob@example.org") == {"bob@example.org"}
    assert _addresses("Carol (no mail)") == set()


def test_missing_gpg_binary_is_unsupported() -> None:
    with pytest.raises(e2ee_mail.UnsupportedError):
        GnuPGKeyring(gpg_binary="gpg-that-does-not-exist-anywhere")
