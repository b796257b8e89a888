"""Decrypting a signed-then-encrypted message without asking for a verification
gives the signed content, as ``gpg --decrypt`` gives a signed message's plaintext:
the CMS SignedData's eContent, the OpenPGP literal data, the S/MIME signed mail
(not its opaque signed-data). Asking for a verification still verifies."""

from __future__ import annotations

import io
from email.message import EmailMessage
from pathlib import Path

import pytest
from clirun import run_in
from signing_keys import signer

import e2ee_mail
from e2ee_mail import SignatureError
from e2ee_mail.cms import signedcontent
from e2ee_mail.cms import signing as cms_signing
from e2ee_mail.x509 import certs, keygen

BODY = b"signed, then encrypted\r\n" * 50


@pytest.fixture(scope="module")
def bob() -> certs.X509SecretKey:
    return keygen.generate("Bob <bob@example.org>", kind="x25519")


@pytest.fixture(scope="module")
def pgp_keys() -> tuple[e2ee_mail.SecretKey, e2ee_mail.SecretKey]:
    alice = e2ee_mail.generate_key("Alice <alice@example.org>")
    bob = e2ee_mail.generate_key("Bob <bob@example.org>")
    return alice, bob


def _signed_sealed(
    data: bytes,
    recipient: e2ee_mail.Certificate,
    signer_key: e2ee_mail.SecretKey,
    *,
    streamed: bool,
) -> bytes | bytearray:
    """``data`` signed then encrypted, by the bytes API or the stream API."""
    if not streamed:
        return e2ee_mail.encrypt(data, recipient, sign_with=signer_key)
    out = io.BytesIO()
    e2ee_mail.encrypt_stream(io.BytesIO(data), out, recipient, sign_with=signer_key)
    return out.getvalue()


def _decrypted_stream(data: bytes, key: e2ee_mail.SecretKey) -> bytes:
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(io.BytesIO(data), out, key)
    return out.getvalue()


@pytest.mark.parametrize("streamed", [False, True])
def test_cms_signed_then_encrypted_decrypts_to_the_content(
    bob: certs.X509SecretKey, streamed: bool
) -> None:
    alice = signer("ed25519")
    body = bytes(range(256)) * 600 if streamed else BODY  # several BER chunks
    sealed = _signed_sealed(body, bob.public, alice, streamed=streamed)
    assert e2ee_mail.decrypt(sealed, bob) == body
    assert _decrypted_stream(sealed, bob) == body
    # Verifying is unchanged: the same content, and only with a good signature.
    verified = e2ee_mail.decrypt_verified(sealed, bob, verify_with=alice.public)
    assert verified.data == body
    assert [s.status for s in verified.signatures] == ["good"]
    with pytest.raises(SignatureError):
        e2ee_mail.decrypt(sealed, bob, verify_with=signer("p256").public)


@pytest.mark.parametrize("size", [0, 5, 31, 32, 33, 100_000])
def test_cms_unsigned_plaintext_passes_through(
    bob: certs.X509SecretKey, size: int
) -> None:
    # Sizes around the octets the stream writer looks at before deciding.
    body = bytes((i * 7) & 0xFF for i in range(size))
    sealed = e2ee_mail.encrypt(body, bob.public)
    assert e2ee_mail.decrypt(sealed, bob) == body
    assert _decrypted_stream(sealed, bob) == body


def test_cms_detached_signature_encrypted_is_returned_as_it_is(
    bob: certs.X509SecretKey,
) -> None:
    # A detached SignedData has no content to give: the plaintext is the file
    # that was encrypted (a signature), not something to unwrap.
    detached = cms_signing.sign(b"elsewhere", [signer("p256")], detached=True)
    sealed = e2ee_mail.encrypt(detached, bob.public)
    assert e2ee_mail.decrypt(sealed, bob) == detached
    assert _decrypted_stream(sealed, bob) == detached


def test_signed_content_leaves_malformed_signed_data_alone() -> None:
    der = cms_signing.sign(BODY, [signer("p256")], detached=False)
    assert signedcontent.signed_content(der) == BODY
    cut = der[: len(der) // 2]
    assert signedcontent.looks_signed(cut)
    assert signedcontent.signed_content(cut) is cut


def test_content_writer_holds_nothing_back_for_plain_data() -> None:
    dst = io.BytesIO()
    writer = signedcontent.ContentWriter(dst)
    writer.write(b"x" * 40)
    assert dst.getvalue() == b"x" * 40  # decided at 32 octets, then streamed
    writer.write(b"y")
    writer.close()
    assert dst.getvalue() == b"x" * 40 + b"y"


@pytest.mark.parametrize("streamed", [False, True])
def test_openpgp_signed_then_encrypted_decrypts_to_the_content(
    pgp_keys: tuple[e2ee_mail.SecretKey, e2ee_mail.SecretKey], streamed: bool
) -> None:
    alice, bob = pgp_keys
    sealed = _signed_sealed(BODY, bob.public, alice, streamed=streamed)
    assert e2ee_mail.decrypt(sealed, bob) == BODY
    assert _decrypted_stream(sealed, bob) == BODY
    assert e2ee_mail.decrypt(sealed, bob, verify_with=alice.public) == BODY


def _mail() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Alice <alice@example.org>"
    msg["To"] = "bob@example.org"
    msg["Subject"] = "the real subject"
    msg.set_content("signed, then encrypted\n")
    return msg


def test_smime_signed_then_encrypted_mail_decrypts_to_the_signed_mail(
    bob: certs.X509SecretKey,
) -> None:
    alice = signer("ed25519")
    sealed = e2ee_mail.encrypt_message(
        _mail(), bob.public, format="smime", sign_with=alice
    )
    plain = e2ee_mail.decrypt_message(sealed, bob)
    assert plain.get_content_type() == "text/plain"
    assert plain["Subject"] == "the real subject"
    assert plain.get_content() == "signed, then encrypted\n"
    verified = e2ee_mail.decrypt_message_verified(sealed, bob, verify_with=alice.public)
    assert [s.status for s in verified.signatures] == ["good"]
    assert plain.as_bytes() == verified.message.as_bytes()
    with pytest.raises(SignatureError):
        e2ee_mail.decrypt_message(sealed, bob, verify_with=signer("p256").public)


def test_pgpmime_signed_then_encrypted_mail_decrypts_to_the_signed_mail(
    pgp_keys: tuple[e2ee_mail.SecretKey, e2ee_mail.SecretKey],
) -> None:
    alice, bob = pgp_keys
    sealed = e2ee_mail.encrypt_message(
        _mail(), bob.public, format="pgpmime", sign_with=alice
    )
    plain = e2ee_mail.decrypt_message(sealed, bob)
    assert plain["Subject"] == "the real subject"
    assert plain.get_content() == "signed, then encrypted\n"
    verified = e2ee_mail.decrypt_message_verified(sealed, bob, verify_with=alice.public)
    assert [s.status for s in verified.signatures] == ["good"]
    assert plain.as_bytes() == verified.message.as_bytes()


def test_cli_decrypt_without_verify_with_writes_the_content(
    bob: certs.X509SecretKey, tmp_path: Path
) -> None:
    alice = signer("ed25519")
    (tmp_path / "bob.key").write_bytes(bob.export())
    (tmp_path / "ct").write_bytes(
        _signed_sealed(bytes(range(256)) * 600, bob.public, alice, streamed=True)
    )
    proc = run_in(tmp_path, "decrypt", "--key", "bob.key", "-i", "ct", "-o", "out")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out").read_bytes() == bytes(range(256)) * 600
    assert proc.stderr == b""


def test_smime_signed_then_encrypted_mail_stream_gives_the_signed_mail(
    bob: certs.X509SecretKey, tmp_path: Path
) -> None:
    alice = signer("ed25519")
    sealed = e2ee_mail.encrypt_message(
        _mail(), bob.public, format="smime", sign_with=alice
    ).as_bytes()
    streamed = _decrypted_stream(sealed, bob)
    assert b"pkcs7" not in streamed
    assert b"Subject: the real subject\r\n" in streamed
    assert streamed.endswith(b"\r\n\r\nsigned, then encrypted\r\n")
    whole = e2ee_mail.decrypt_message(sealed, bob)
    assert streamed.replace(b"\r\n", b"\n") == whole.as_bytes()
    # The CLI decrypts mail through the same stream.
    (tmp_path / "bob.key").write_bytes(bob.export())
    (tmp_path / "mail.eml").write_bytes(sealed)
    proc = run_in(
        tmp_path, "decrypt", "--key", "bob.key", "-i", "mail.eml", "-o", "out"
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out").read_bytes() == streamed
