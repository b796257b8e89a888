"""PGP/MIME (RFC 3156) with header protection (RFC 9788)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

import e2ee_mail
from e2ee_mail.errors import MIMEError, NoMatchingKeyError
from e2ee_mail.mime import detect, pgpmime
from e2ee_mail.openpgp import certs, keygen
from e2ee_mail.policy import DEFAULT


def mail() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "bob@example.org"
    msg["To"] = "alice@example.org"
    msg["Subject"] = "quarterly numbers"
    msg["Keywords"] = "inside only"
    msg.set_content("The numbers are up.\n")
    return msg


def test_outer_shape_is_rfc3156(alice: certs.OpenPGPSecretKey) -> None:
    outer = pgpmime.encrypt_message(mail(), [alice.public], policy=DEFAULT)
    assert outer.get_content_type() == "multipart/encrypted"
    assert outer.get_param("protocol") == "application/pgp-encrypted"
    control, data = outer.get_payload()  # type: ignore[misc]
    assert control.get_content_type() == "application/pgp-encrypted"
    assert "Version: 1" in control.get_payload()
    assert data.get_content_type() == "application/octet-stream"
    assert data.get_payload().startswith("-----BEGIN PGP MESSAGE-----")
    assert outer["Subject"] == "[...]" and "Keywords" not in outer
    raw = detect.serialize(outer)
    assert b"quarterly" not in raw and b"inside only" not in raw


def test_round_trip_restores_protected_headers(alice: certs.OpenPGPSecretKey) -> None:
    raw = detect.serialize(
        e2ee_mail.encrypt_message(mail(), alice.public, format="pgpmime")
    )
    inner = e2ee_mail.decrypt_message(raw, alice)
    assert inner["Subject"] == "quarterly numbers"
    assert inner["Keywords"] == "inside only"
    assert inner.get_content().strip() == "The numbers are up."
    assert e2ee_mail.inspect(raw).format == "pgpmime"


def test_wrong_key_is_no_matching_key(alice: certs.OpenPGPSecretKey) -> None:
    other = keygen.generate("O <o@example.org>", kind="x25519", profile="rfc9580")
    raw = detect.serialize(
        e2ee_mail.encrypt_message(mail(), alice.public, format="pgpmime")
    )
    with pytest.raises(NoMatchingKeyError):
        e2ee_mail.decrypt_message(raw, other)


def test_malformed_pgpmime_is_a_mime_error(alice: certs.OpenPGPSecretKey) -> None:
    outer = pgpmime.encrypt_message(mail(), [alice.public], policy=DEFAULT)
    parts = outer.get_payload()
    assert isinstance(parts, list)
    parts[0].set_payload("Version: 2\r\n")
    with pytest.raises(MIMEError):
        pgpmime.decrypt_message(outer, [alice], policy=DEFAULT)
    single = EmailMessage()
    single["Content-Type"] = 'multipart/encrypted; protocol="application/pgp-encrypted"'
    with pytest.raises(MIMEError):
        pgpmime.decrypt_message(single, [alice], policy=DEFAULT)


@pytest.mark.parametrize("profile", ["rfc9580", "rfc4880"])
def test_armor_is_what_the_openpgp_layer_writes(profile: str) -> None:
    """The armor is encoded when the mail is written: it must be the text
    ``message.encrypt(armor=True)`` gives, CRC24 line for SEIPDv1 included."""
    from e2ee_mail.openpgp import armor

    key = keygen.generate("V <v@example.org>", kind="x25519", profile=profile)  # type: ignore[arg-type]
    outer = pgpmime.encrypt_message(mail(), [key.public], policy=DEFAULT)
    _, data = outer.get_payload()  # type: ignore[misc]
    text = data.get_payload().encode("ascii")
    _, binary = armor.dearmor(text)
    crc = text.split(b"\n")[-3]
    assert crc.startswith(b"=") == (profile == "rfc4880")
    assert text == bytes(armor.enarmor(binary, crc=profile == "rfc4880"))
    inner = e2ee_mail.decrypt_message(detect.serialize(outer), key)
    assert inner["Subject"] == "quarterly numbers"


@pytest.mark.parametrize("profile", ["rfc9580", "rfc4880"])
@pytest.mark.parametrize("linesep", ["\r\n", "\n"])
def test_armor_read_in_place_gives_the_dearmored_message(
    profile: str, linesep: str
) -> None:
    """The armor this module writes is decoded in place (no copy of the mail);
    anything else is left to openpgp.armor.dearmor, with its errors."""
    from email import policy

    from e2ee_mail.mime import wire
    from e2ee_mail.openpgp import armor

    key = keygen.generate("V <v@example.org>", kind="x25519", profile=profile)  # type: ignore[arg-type]
    big = mail()
    big.add_attachment(bytes(range(256)) * 2000, maintype="application", subtype="x")
    outer = pgpmime.encrypt_message(big, [key.public], policy=DEFAULT)
    raw = outer.as_bytes(policy=policy.SMTP.clone(linesep=linesep))
    parsed = wire.from_bytes(raw, keep_raw=True)
    _, data = parsed.get_payload()  # type: ignore[misc]
    text = data.get_payload().encode("ascii")
    span = (raw, raw.find(text[:40]), raw.find(b"-----END PGP MESSAGE-----") + 26)
    expected = armor.dearmor(text)[1]
    assert pgpmime._dearmored(*span) == expected
    assert pgpmime._encrypted_part(parsed) == expected
    inner = e2ee_mail.decrypt_message(raw, key)
    assert inner["Subject"] == "quarterly numbers"
    # Shapes left to dearmor: armor headers, a bad CRC, a foreign character.
    body = bytearray(raw[span[1] : span[2]])
    with_header = body.replace(b"-----\r\n\r\n", b"-----\r\nVersion: x\r\n\r\n", 1)
    with_header = with_header.replace(b"-----\n\n", b"-----\nVersion: x\n\n", 1)
    assert pgpmime._dearmored(bytes(with_header), 0, len(with_header)) is None
    at = body.find(b"\n", 60) + 5
    damaged = body[:at] + b"*" + body[at + 1 :]
    assert pgpmime._dearmored(bytes(damaged), 0, len(damaged)) is None
    if profile == "rfc4880":
        crc = body.rfind(b"\n=") + 2
        bad = body[:crc] + (b"A" if body[crc] != 0x41 else b"B") + body[crc + 1 :]
        assert pgpmime._dearmored(bytes(bad), 0, len(bad)) is None
