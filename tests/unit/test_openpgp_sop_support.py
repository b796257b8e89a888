"""The OpenPGP pieces the sop front end needs: session keys as values and opening
with one, key revocation certificates, signing-only and User ID changes at key
generation, cleartext signatures, several signers inline, and splitting an
inline-signed message."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from e2ee_mail import DEFAULT
from e2ee_mail.errors import DecryptionError, FormatError, UsageError
from e2ee_mail.openpgp import cleartext, keygen, message, sessionkey, signing, verifying
from e2ee_mail.openpgp.certs import OpenPGPSecretKey, load_certificate
from e2ee_mail.openpgp.message import ParsedMessage
from e2ee_mail.openpgp.revocation import revocation_certificate
from e2ee_mail.policy import RFC4880


def test_session_key_text_form() -> None:
    key = sessionkey.SessionKey(9, bytes(range(32)))
    assert key.text() == "9:" + bytes(range(32)).hex().upper()
    assert sessionkey.SessionKey.parse(" " + key.text().lower() + "\n") == key
    assert "key=" not in repr(key)
    for bad in ("", "9", "x:00", "9:", "9:zz", "300:00", "9:0"):
        with pytest.raises(FormatError):
            sessionkey.SessionKey.parse(bad)


@pytest.mark.parametrize("policy", [DEFAULT, RFC4880])
def test_open_with_session_key(alice: OpenPGPSecretKey, policy: object) -> None:
    sealed = message.encrypt(b"body", [alice.public], armor=False, policy=policy)  # type: ignore[arg-type]
    parsed = ParsedMessage(sealed, DEFAULT)
    packets, found = sessionkey.open_message(parsed, [alice])
    assert found.algorithm == 9 and len(found.key) == 32
    again, same = sessionkey.open_message(parsed, [], [found])
    assert again == packets and same == found
    wrong = sessionkey.SessionKey(9, bytes(32))
    other_cipher = sessionkey.SessionKey(7, found.key[:16])
    for bad in (wrong, other_cipher):
        with pytest.raises(DecryptionError):
            sessionkey.open_message(parsed, [], [bad])
    # A failing session key falls back to the secret keys.
    assert sessionkey.open_message(parsed, [alice], [wrong])[1] == found


def test_open_with_password(alice: OpenPGPSecretKey) -> None:
    sealed = message.encrypt(
        b"body", [alice.public], armor=False, policy=DEFAULT, passwords=[b"pw"]
    )
    parsed = ParsedMessage(sealed, DEFAULT)
    by_password = sessionkey.open_message(parsed, [], passwords=[b"pw"])
    by_key = sessionkey.open_message(parsed, [alice])
    assert by_password == by_key
    with pytest.raises(DecryptionError):
        sessionkey.open_message(parsed, [], passwords=[b"wrong"])


def test_decrypt_verified_with_session_key(
    alice: OpenPGPSecretKey, bob: OpenPGPSecretKey
) -> None:
    sealed = signing.encrypt_signed(
        b"signed body", [alice.public], bob, armor=True, policy=DEFAULT
    )
    plain, results, key = sessionkey.decrypt_verified(
        sealed, [alice], [bob.public], policy=DEFAULT
    )
    assert plain == b"signed body" and [r.status for r in results] == ["good"]
    plain, results, same = sessionkey.decrypt_verified(
        sealed, [], [bob.public], policy=DEFAULT, session_keys=[key]
    )
    assert same == key and [r.status for r in results] == ["good"]
    assert results[0].mode == "binary"
    assert results[0].signing_key == results[0].fingerprint == bob.public.fingerprint


def test_revocation_certificate(alice: OpenPGPSecretKey) -> None:
    revoked = revocation_certificate(alice, now=alice.public.primary.packet.created + 5)
    assert revoked.primary.revoked and not alice.public.primary.revoked
    assert load_certificate(revoked.export()).primary.revoked
    assert revoked.fingerprint == alice.public.fingerprint
    with pytest.raises(UsageError):
        revocation_certificate(object())  # type: ignore[arg-type]


def test_key_shapes() -> None:
    key = keygen.generate("A <a@example.org>", kind="x25519", profile="rfc4880")
    more = keygen.add_user_ids(key, ["B", "C <c@example.org>"])
    assert more.public.user_ids == ("A <a@example.org>", "B", "C <c@example.org>")
    assert more.public.subkeys == key.public.subkeys
    only = keygen.signing_only(more)
    assert only.public.subkeys == () and only.public.user_ids == more.public.user_ids
    signing.signing_key(only)  # the primary key still signs
    with pytest.raises(UsageError):
        keygen.without_user_ids(key)
    v6 = keygen.without_user_ids(keygen.generate("X", kind="x25519", profile="rfc9580"))
    assert v6.public.user_ids == () and len(v6.public.subkeys) == 1


TEXTS = [b"hello\n", b"a  \r\nb\t\n\n", b"-dash\n- spaced\nFrom here\n", b"no newline"]


@pytest.mark.parametrize("text", TEXTS)
def test_cleartext_round_trip(
    alice: OpenPGPSecretKey, bob: OpenPGPSecretKey, text: bytes
) -> None:
    signed = cleartext.sign_cleartext(text, [alice, bob])
    assert cleartext.is_cleartext(signed)
    content, results = cleartext.verify_cleartext(
        signed, [alice.public, bob.public], policy=DEFAULT
    )
    expected = b"\n".join(
        line.rstrip(b" \t") for line in text.replace(b"\r\n", b"\n").split(b"\n")
    )
    assert content == expected
    assert [r.status for r in results] == ["good", "good"]
    assert {r.mode for r in results} == {"text"}
    exact, block = cleartext.read_cleartext(signed)
    assert exact == content
    detached = verifying.verify_detached(exact, block, [alice.public], policy=DEFAULT)
    assert [r.status for r in detached] == ["good", "unknown-signer"]


def test_cleartext_v4_hash_header() -> None:
    key = keygen.generate("V4", kind="x25519", profile="rfc4880")
    signed = cleartext.sign_cleartext(b"x\n", [key])
    assert signed.startswith(
        b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n"
        b"x\n\n-----BEGIN PGP SIGNATURE"
    )


def test_cleartext_tampering(alice: OpenPGPSecretKey) -> None:
    signed = cleartext.sign_cleartext(b"pay 10\n", [alice])
    _, results = cleartext.verify_cleartext(
        signed.replace(b"pay 10", b"pay 99"), [alice.public], policy=DEFAULT
    )
    assert [r.status for r in results] == ["bad"]
    for broken in (
        b"plain",
        signed.split(b"-----BEGIN PGP SIGNATURE")[0],
        signed.replace(b"\n\n", b"\nnot a header\n", 1),
    ):
        with pytest.raises(FormatError):
            cleartext.read_cleartext(broken)


@given(st.binary(max_size=300))
def test_read_cleartext_never_crashes(tail: bytes) -> None:
    with contextlib.suppress(FormatError):
        cleartext.read_cleartext(b"-----BEGIN PGP SIGNED MESSAGE-----\n" + tail)


def test_inline_several_signers_and_detach(
    alice: OpenPGPSecretKey, bob: OpenPGPSecretKey
) -> None:
    signed = signing.sign_inline_many(b"data", [alice, bob], text=True, armor=True)
    content, results = verifying.verify_inline(
        signed, [alice.public, bob.public], policy=DEFAULT
    )
    assert content == b"data" and [r.status for r in results] == ["good", "good"]
    body, sigs = verifying.detach_inline(signed, policy=DEFAULT)
    assert body == b"data"
    detached = verifying.verify_detached(
        body, sigs, [alice.public, bob.public], policy=DEFAULT
    )
    assert [r.status for r in detached] == ["good", "good"]
    with pytest.raises(UsageError):
        signing.sign_inline_many(b"data", [])
    one = signing.sign_inline_many(b"data", [alice], armor=False)
    assert verifying.verify_inline(one, [alice.public], policy=DEFAULT)[1][0].good
    literal_only = message.encrypt(b"x", [alice.public], armor=False, policy=DEFAULT)
    with pytest.raises(FormatError):
        verifying.detach_inline(literal_only, policy=DEFAULT)
