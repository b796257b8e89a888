"""The public signing API for OpenPGP and PGP/MIME: sign and verify (inline,
detached, binary and armored), encrypt with sign_with, decrypt with verify_with,
bytes and streams, and the PGP/MIME mail forms (RFC 3156 §5 multipart/signed and
§6.2 signed and encrypted), round trip by round trip, with the refusals."""

from __future__ import annotations

import io
from email.message import EmailMessage

import pytest
from openpgp_signers import KINDS, signer

import e2ee_mail
from e2ee_mail import SignatureError, UsageError
from e2ee_mail.openpgp import certs

BODY = b"Meeting moved to 3pm.\n" * 20 + bytes(range(256))


@pytest.fixture(scope="module")
def bob() -> certs.OpenPGPSecretKey:
    key = e2ee_mail.generate_key("Bob <bob@example.org>", format="openpgp")
    assert isinstance(key, certs.OpenPGPSecretKey)
    return key


def _mail(text: str = "See you at 3pm, café?\n") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Sig Six <six@example.org>"
    msg["To"] = "bob@example.org"
    msg["Subject"] = "Plans"
    msg.set_content(text)
    return msg


def _good(results: tuple[e2ee_mail.SignatureResult, ...], key: object) -> None:
    assert isinstance(key, certs.OpenPGPSecretKey)
    assert [r.status for r in results] == ["good"], results
    assert results[0].fingerprint == key.public.fingerprint


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("armor", [False, True])
def test_sign_inline_and_verify(kind: str, armor: bool) -> None:
    alice = signer(kind)
    signed = e2ee_mail.sign(BODY, alice, armor=armor)
    assert signed.startswith(b"-----BEGIN PGP MESSAGE-----") == armor
    verified = e2ee_mail.verify(signed, alice.public)
    assert verified.data == BODY
    _good(verified.signatures, alice)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("armor", [False, True])
def test_sign_detached_and_verify(kind: str, armor: bool) -> None:
    alice = signer(kind)
    sig = e2ee_mail.sign(BODY, alice, format="openpgp", detached=True, armor=armor)
    assert sig.startswith(b"-----BEGIN PGP SIGNATURE-----") == armor
    assert BODY not in sig
    verified = e2ee_mail.verify(BODY, [alice.public], signature=sig)
    assert verified.data == BODY
    _good(verified.signatures, alice)
    with pytest.raises(SignatureError) as info:
        e2ee_mail.verify(BODY + b"!", alice.public, signature=sig)
    assert [r.status for r in info.value.results] == ["bad"]


@pytest.mark.parametrize("kind", KINDS)
def test_encrypt_signed_and_decrypt_verified(
    kind: str, bob: certs.OpenPGPSecretKey
) -> None:
    alice = signer(kind)
    sealed = e2ee_mail.encrypt(BODY, bob.public, sign_with=alice)
    assert e2ee_mail.decrypt(sealed, bob, verify_with=alice.public) == BODY
    verified = e2ee_mail.decrypt_verified(sealed, bob, verify_with=[alice.public])
    assert verified.data == BODY
    _good(verified.signatures, alice)
    # Without verify_with the signed message decrypts to its content as before.
    assert e2ee_mail.decrypt(sealed, bob) == BODY


@pytest.mark.parametrize("armor", [False, True])
def test_stream_sign_encrypt_and_decrypt_verify(
    armor: bool, bob: certs.OpenPGPSecretKey
) -> None:
    alice = signer("v6")
    body = bytes(range(256)) * 5000  # more than one chunk
    sealed = io.BytesIO()
    e2ee_mail.encrypt_stream(
        io.BytesIO(body), sealed, [bob.public], sign_with=alice, armor=armor
    )
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(
        io.BytesIO(sealed.getvalue()), out, bob, verify_with=alice.public
    )
    assert out.getvalue() == body
    # The bytes API reads what the stream API wrote.
    assert e2ee_mail.decrypt(sealed.getvalue(), bob, verify_with=alice.public) == body


def test_wrong_signer_is_refused(bob: certs.OpenPGPSecretKey) -> None:
    alice, mallory = signer("v6"), signer("v4")
    sealed = e2ee_mail.encrypt(BODY, bob.public, sign_with=mallory)
    with pytest.raises(SignatureError) as info:
        e2ee_mail.decrypt(sealed, bob, verify_with=alice.public)
    assert [r.status for r in info.value.results] == ["unknown-signer"]
    out = io.BytesIO()
    with pytest.raises(SignatureError):
        e2ee_mail.decrypt_stream(
            io.BytesIO(sealed), out, bob, verify_with=[alice.public]
        )
    assert out.getvalue() == b""  # nothing released
    with pytest.raises(SignatureError):
        e2ee_mail.verify(e2ee_mail.sign(BODY, mallory), alice.public)
    # decrypt_verified reports without deciding.
    verified = e2ee_mail.decrypt_verified(sealed, bob, verify_with=alice.public)
    assert verified.data == BODY
    assert [r.status for r in verified.signatures] == ["unknown-signer"]


def test_unsigned_message_fails_verify_with(bob: certs.OpenPGPSecretKey) -> None:
    sealed = e2ee_mail.encrypt(BODY, bob.public)
    with pytest.raises(SignatureError, match="not signed") as info:
        e2ee_mail.decrypt(sealed, bob, verify_with=signer("v6").public)
    assert info.value.results == ()
    out = io.BytesIO()
    with pytest.raises(SignatureError, match="not signed"):
        e2ee_mail.decrypt_stream(
            io.BytesIO(sealed), out, bob, verify_with=signer("v6").public
        )
    assert out.getvalue() == b""
    assert e2ee_mail.decrypt_verified(sealed, bob).signatures == ()


def test_one_openpgp_signer_at_a_time(bob: certs.OpenPGPSecretKey) -> None:
    with pytest.raises(UsageError, match="exactly one key"):
        e2ee_mail.sign(BODY, [signer("v6"), signer("v4")])
    with pytest.raises(UsageError, match="exactly one key"):
        e2ee_mail.encrypt(BODY, bob.public, sign_with=[signer("v6"), signer("v4")])


def test_pgpmime_signed_and_encrypted(bob: certs.OpenPGPSecretKey) -> None:
    alice = signer("v6")
    sealed = e2ee_mail.encrypt_message(_mail(), bob.public, sign_with=alice)
    assert sealed.get_content_type() == "multipart/encrypted"
    opened = e2ee_mail.decrypt_message(sealed, bob, verify_with=alice.public)
    assert opened["Subject"] == "Plans"
    assert "café" in opened.get_content()
    verified = e2ee_mail.decrypt_message_verified(
        sealed.as_bytes(), bob, verify_with=[alice.public]
    )
    _good(verified.signatures, alice)
    assert verified.message["Subject"] == "Plans"
    # The bytes API reports the same mail.
    as_data = e2ee_mail.decrypt_verified(
        sealed.as_bytes(), bob, verify_with=alice.public
    )
    assert b"Subject: Plans" in as_data.data
    with pytest.raises(SignatureError):
        e2ee_mail.decrypt_message(sealed, bob, verify_with=signer("v4").public)
    # Without verify_with the mail decrypts as any PGP/MIME mail.
    assert e2ee_mail.decrypt_message(sealed, bob)["Subject"] == "Plans"


def test_pgpmime_unsigned_fails_verify_with(bob: certs.OpenPGPSecretKey) -> None:
    sealed = e2ee_mail.encrypt_message(_mail(), bob.public)
    with pytest.raises(SignatureError, match="not signed"):
        e2ee_mail.decrypt_message(sealed, bob, verify_with=signer("v6").public)


def test_pgpmime_stream_signed_and_encrypted(bob: certs.OpenPGPSecretKey) -> None:
    alice = signer("v4")
    sealed = io.BytesIO()
    e2ee_mail.encrypt_stream(
        io.BytesIO(_mail().as_bytes()),
        sealed,
        bob.public,
        format="pgpmime",
        sign_with=alice,
    )
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(
        io.BytesIO(sealed.getvalue()), out, bob, verify_with=alice.public
    )
    assert b"Subject: Plans" in out.getvalue()


@pytest.mark.parametrize("kind", ["v6", "v4"])
def test_pgpmime_multipart_signed(kind: str) -> None:
    alice = signer(kind)
    signed = e2ee_mail.sign_message(_mail(), alice)
    assert signed.get_content_type() == "multipart/signed"
    assert signed.get_param("protocol") == "application/pgp-signature"
    assert signed.get_param("micalg") == "pgp-sha512"
    raw = signed.as_bytes()
    assert raw.isascii()  # the signed part is 7-bit (RFC 3156 §5)
    verified = e2ee_mail.verify_message(raw, alice.public)
    _good(verified.signatures, alice)
    assert verified.message["Subject"] == "Plans"
    assert "café" in verified.message.get_content()
    _good(e2ee_mail.verify_message(signed, alice.public).signatures, alice)
    # A mail store that turned CRLF into LF does not break the text signature.
    lf = raw.replace(b"\r\n", b"\n")
    _good(e2ee_mail.verify_message(lf, alice.public).signatures, alice)
    # Through the bytes API, sign(format="pgpmime") and verify().
    again = e2ee_mail.sign(raw_mail := _mail().as_bytes(), alice, format="pgpmime")
    assert b"application/pgp-signature" in again and raw_mail != again
    _good(e2ee_mail.verify(again, alice.public).signatures, alice)


def test_pgpmime_multipart_signed_refusals() -> None:
    alice = signer("v6")
    raw = e2ee_mail.sign_message(_mail(), alice).as_bytes()
    tampered = raw.replace(b"See you at 3pm", b"See you at 4pm")
    with pytest.raises(SignatureError) as info:
        e2ee_mail.verify_message(tampered, alice.public)
    assert [r.status for r in info.value.results] == ["bad"]
    with pytest.raises(SignatureError) as info:
        e2ee_mail.verify_message(raw, signer("v4").public)
    assert [r.status for r in info.value.results] == ["unknown-signer"]
    with pytest.raises(UsageError):
        e2ee_mail.sign_message(_mail(), alice, opaque=True)
    with pytest.raises(UsageError, match="trust applies to S/MIME"):
        e2ee_mail.verify_message(raw, alice.public, trust=[alice.public])
    with pytest.raises(UsageError):
        e2ee_mail.sign(_mail().as_bytes(), alice, format="pgpmime", armor=True)
    # multipart/signed is PGP/MIME's one shape, detached or not.
    raw = e2ee_mail.sign(_mail().as_bytes(), alice, format="pgpmime", detached=True)
    _good(e2ee_mail.verify(raw, alice.public).signatures, alice)


def test_plain_openpgp_encryption_unchanged(bob: certs.OpenPGPSecretKey) -> None:
    assert e2ee_mail.decrypt(e2ee_mail.encrypt(b"x", bob.public), bob) == b"x"
