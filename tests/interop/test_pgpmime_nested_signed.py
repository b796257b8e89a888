"""PGP/MIME signed and encrypted mail in RFC 3156 §6.1's nested form, made by
GnuPG 2.2 as Thunderbird/Enigmail send it: a multipart/signed entity (the text
part, a detached "PGP SIGNATURE" made by ``gpg --detach-sign``) encrypted whole by
``gpg --encrypt`` inside multipart/encrypted. decrypt_message_verified and
decrypt_message(verify_with=) must verify it; decrypt_message without a
verification gives the multipart/signed entity."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from gpg import GpgHome, gpg_home
from peers import require_peer

import e2ee_mail
from e2ee_mail import SignatureError

pytestmark = pytest.mark.interop

TEXT = b"Hi Bob,\r\nthis was signed, then encrypted, by GnuPG.\r\n"
SIGNED_PART = (
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 7bit\r\n\r\n" + TEXT
)


@dataclass
class World:
    home: GpgHome
    alice_fpr: str
    alice: e2ee_mail.Certificate
    bob: e2ee_mail.SecretKey


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    require_peer("gpg")
    # Bob is ours (a v4 key, which gpg 2.2 encrypts to); Alice signs with gpg.
    bob = e2ee_mail.generate_key("Bob <bob@example.org>", profile="rfc4880")
    with gpg_home() as home:
        home.import_keys(bob.public.export())
        alice_fpr = home.generate("Alice <alice@example.org>")
        alice = e2ee_mail.load_certificate(home.export_public(alice_fpr))
        yield World(home, alice_fpr, alice, bob)


def _crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _nested_mail(world: World, signed_part: bytes = SIGNED_PART) -> bytes:
    """The §6.1 mail: gpg signs ``SIGNED_PART``, and encrypts the multipart/signed
    entity around it; ``signed_part`` is what goes in (the altered-content test
    changes it after signing)."""
    sig = world.home.run(
        ["--armor", "--detach-sign", "--local-user", world.alice_fpr],
        input=SIGNED_PART,
    ).stdout
    entity = (
        b"Content-Type: multipart/signed; micalg=pgp-sha256;\r\n"
        b' protocol="application/pgp-signature"; boundary="sig-b"\r\n\r\n'
        b"This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n"
        b"--sig-b\r\n" + signed_part + b"\r\n--sig-b\r\n"
        b'Content-Type: application/pgp-signature; name="signature.asc"\r\n'
        b"Content-Description: OpenPGP digital signature\r\n\r\n"
        + _crlf(sig)
        + b"\r\n--sig-b--\r\n"
    )
    encrypted = world.home.encrypt(entity, ["bob@example.org"], armor=True)
    return (
        b"From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\n"
        b"Subject: nested\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/encrypted;\r\n"
        b' protocol="application/pgp-encrypted"; boundary="enc-b"\r\n\r\n'
        b"--enc-b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
        b"\r\n--enc-b\r\n"
        b'Content-Type: application/octet-stream; name="encrypted.asc"\r\n\r\n'
        + _crlf(encrypted)
        + b"\r\n--enc-b--\r\n"
    )


def test_nested_form_verifies(world: World) -> None:
    mail = _nested_mail(world)
    verified = e2ee_mail.decrypt_message_verified(
        mail, world.bob, verify_with=world.alice
    )
    assert [s.status for s in verified.signatures] == ["good"]
    assert verified.signatures[0].fingerprint == world.alice.fingerprint
    assert verified.message.get_content_type() == "text/plain"
    assert verified.message.get_content() == TEXT.decode().replace("\r\n", "\n")
    # The outer fields are restored onto the signed entity.
    assert verified.message["Subject"] == "nested"
    opened = e2ee_mail.decrypt_message(mail, world.bob, verify_with=world.alice)
    assert opened.as_bytes() == verified.message.as_bytes()


def test_nested_form_by_someone_else_is_refused(world: World) -> None:
    mail = _nested_mail(world)
    other = e2ee_mail.generate_key("Carol <carol@example.org>")
    with pytest.raises(SignatureError) as info:
        e2ee_mail.decrypt_message(mail, world.bob, verify_with=other.public)
    assert [r.status for r in info.value.results] == ["unknown-signer"]


def test_nested_form_with_altered_content_is_bad(world: World) -> None:
    mail = _nested_mail(world, SIGNED_PART.replace(b"signed", b"SIGNED"))
    verified = e2ee_mail.decrypt_message_verified(
        mail, world.bob, verify_with=world.alice
    )
    assert [s.status for s in verified.signatures] == ["bad"]
    with pytest.raises(SignatureError):
        e2ee_mail.decrypt_message(mail, world.bob, verify_with=world.alice)


def test_nested_form_without_verification_gives_the_signed_entity(
    world: World,
) -> None:
    plain = e2ee_mail.decrypt_message(_nested_mail(world), world.bob)
    assert plain.get_content_type() == "multipart/signed"
    assert plain["Subject"] == "nested"
    first, _signature = plain.iter_parts()
    # A multipart/signed keeps its parts' exact octets (CRLF) for the signature.
    assert first.get_content() == TEXT.decode()


def test_nested_form_through_decrypt_verified_bytes(world: World) -> None:
    verified = e2ee_mail.decrypt_verified(
        _nested_mail(world), world.bob, verify_with=world.alice
    )
    assert [s.status for s in verified.signatures] == ["good"]
    assert verified.data.endswith(TEXT)
