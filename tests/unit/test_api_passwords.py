"""passwords= of the public encrypt/decrypt: OpenPGP messages a password opens,
alone or beside recipients; every misuse a clear UsageError."""

from __future__ import annotations

import pytest

import e2ee_mail
from e2ee_mail.openpgp import certs
from e2ee_mail.policy import RFC4880
from e2ee_mail.x509.certs import X509SecretKey

BODY = b"for whoever knows the password\n"


def test_password_only_round_trip() -> None:
    sealed = e2ee_mail.encrypt(BODY, [], passwords="s3cret", armor=True)
    assert e2ee_mail.decrypt(sealed, [], passwords=["wrong", "s3cret"]) == BODY
    with pytest.raises(e2ee_mail.DecryptionError):
        e2ee_mail.decrypt(sealed, [], passwords=b"wrong")


def test_a_password_beside_a_recipient(alice: certs.OpenPGPSecretKey) -> None:
    sealed = e2ee_mail.encrypt(BODY, alice.public, passwords=b"pw", policy=RFC4880)
    assert e2ee_mail.decrypt(sealed, alice) == BODY
    assert e2ee_mail.decrypt(sealed, [], passwords="pw") == BODY


def test_signed_for_a_password(alice: certs.OpenPGPSecretKey) -> None:
    sealed = e2ee_mail.encrypt(
        BODY, [], passwords="pw", sign_with=alice, policy=RFC4880
    )
    opened = e2ee_mail.decrypt(sealed, [], passwords="pw", verify_with=alice.public)
    assert opened == BODY
    verified = e2ee_mail.decrypt_verified(
        sealed, [], passwords="pw", verify_with=alice.public
    )
    assert [s.status for s in verified.signatures] == ["good"]


def test_misuse_is_a_usage_error(xkey: X509SecretKey) -> None:
    with pytest.raises(e2ee_mail.UsageError, match="at least one recipient"):
        e2ee_mail.encrypt(BODY, [])
    with pytest.raises(e2ee_mail.UsageError, match="empty password"):
        e2ee_mail.encrypt(BODY, [], passwords=[""])
    with pytest.raises(e2ee_mail.UsageError, match="str or bytes"):
        e2ee_mail.encrypt(BODY, [], passwords=[42])  # type: ignore[list-item]
    with pytest.raises(e2ee_mail.UsageError, match="OpenPGP"):
        e2ee_mail.encrypt(BODY, [], passwords="pw", format="cms")
    with pytest.raises(e2ee_mail.UsageError, match="OpenPGP"):
        e2ee_mail.encrypt(BODY, xkey.public, passwords="pw")
    cms = e2ee_mail.encrypt(BODY, xkey.public)
    with pytest.raises(e2ee_mail.UsageError, match="OpenPGP"):
        e2ee_mail.decrypt(cms, [], passwords="pw")
    with pytest.raises(e2ee_mail.UsageError, match="at least one secret key"):
        e2ee_mail.decrypt(cms, [])
