"""OpenPGP v4 interop with the real GnuPG 2.2, both directions, through the public API.

Cases (each a test below):
* gpg-generated cv25519 and RSA-3072 keys → e2ee_mail.encrypt (binary and armored,
  one and two recipients, bytes and stream API) → gpg decrypts;
* a mixed v4 (gpg) + v6 (ours) recipient set → SEIPDv1 → gpg and our v6 key decrypt;
* gpg encrypts with its defaults (compression on) and with --compress-algo none →
  e2ee_mail.decrypt with the gpg-exported secret key, passphrase-protected and not;
* our generated v4 certificates (x25519, rsa3072) imported into gpg, which checks
  their self-signatures → gpg encrypts to them → we decrypt;
* our v4 secret key exported with a passphrase and imported into gpg → gpg decrypts
  our message (gpg reads our S2K usage 254 protection).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from gpg import GpgHome, gpg_home
from peers import require_peer

import e2ee_mail

pytestmark = pytest.mark.interop

BODY = b"Dear Bob,\r\nthe quarterly numbers are attached.\r\n" * 64 + bytes(range(256))


@dataclass
class Peer:
    """A key pair gpg generated, and what e2ee_mail loads from it."""

    fpr: str
    passphrase: str
    cert: e2ee_mail.Certificate
    key: e2ee_mail.SecretKey


@dataclass
class World:
    home: GpgHome
    alice: Peer  # cv25519, passphrase-protected
    bob: Peer  # RSA-3072, no passphrase


def _peer(home: GpgHome, uid: str, kind: str, passphrase: str) -> Peer:
    fpr = home.generate(uid, kind, passphrase=passphrase)
    cert = e2ee_mail.load_certificate(home.export_public(fpr))
    key = e2ee_mail.load_key(
        home.export_secret(fpr, passphrase=passphrase),
        passphrase=passphrase or None,
    )
    return Peer(fpr, passphrase, cert, key)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    require_peer("gpg")
    with gpg_home() as home:
        alice = _peer(home, "Alice <alice@example.org>", "cv25519", "alice pw")
        bob = _peer(home, "Bob <bob@example.org>", "rsa3072", "")
        yield World(home, alice, bob)


def test_gpg_certificates_load_as_v4_without_seipdv2(world: World) -> None:
    for peer, algorithm in ((world.alice, "ecdh-curve25519"), (world.bob, "rsa3072")):
        assert peer.cert.fingerprint == peer.fpr
        assert peer.cert.algorithm == algorithm
        inspection = e2ee_mail.inspect(e2ee_mail.encrypt(b"x", [peer.cert]))
        assert inspection.content_algorithm == "seipdv1-cfb-mdc"


@pytest.mark.parametrize("armor", [False, True])
@pytest.mark.parametrize("who", ["alice", "bob", "both"])
def test_we_encrypt_gpg_decrypts(world: World, armor: bool, who: str) -> None:
    peers = {"alice": [world.alice], "bob": [world.bob]}.get(
        who, [world.alice, world.bob]
    )
    message = e2ee_mail.encrypt(BODY, [p.cert for p in peers], armor=armor)
    if armor:
        assert message.startswith(b"-----BEGIN PGP MESSAGE-----")
    for peer in peers:
        assert world.home.decrypt(message, passphrase=peer.passphrase) == BODY


def test_we_encrypt_a_stream_gpg_decrypts(world: World) -> None:
    body = bytes(range(256)) * 12000  # 3 MiB: several partial body segments
    dst = io.BytesIO()
    e2ee_mail.encrypt_stream(
        io.BytesIO(body), dst, [world.alice.cert, world.bob.cert], armor=True
    )
    assert world.home.decrypt(dst.getvalue(), passphrase="") == body


def test_mixed_v4_and_v6_recipients_use_seipdv1(world: World) -> None:
    ours = e2ee_mail.generate_key("Carol <carol@example.org>")  # v6, X25519
    message = e2ee_mail.encrypt(BODY, [world.bob.cert, ours.public])
    listing = world.home.list_packets(message)
    assert "mdc_method: 2" in listing  # SEIPDv1 (gpg's name for it)
    assert world.home.decrypt(message) == BODY
    assert e2ee_mail.decrypt(message, ours) == BODY


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("who", ["alice", "bob"])
@pytest.mark.parametrize("armor", [False, True])
def test_gpg_encrypts_we_decrypt(
    world: World, compress: bool, who: str, armor: bool
) -> None:
    peer = world.alice if who == "alice" else world.bob
    extra = () if compress else ("--compress-algo", "none")
    message = world.home.encrypt(BODY, [peer.fpr], armor=armor, extra=extra)
    listing = world.home.list_packets(message, passphrase=peer.passphrase)
    assert ("compressed packet" in listing) == compress
    assert e2ee_mail.decrypt(message, peer.key) == BODY
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(io.BytesIO(message), out, peer.key)
    assert out.getvalue() == BODY


def test_gpg_message_to_someone_else_is_no_matching_key(world: World) -> None:
    message = world.home.encrypt(BODY, [world.alice.fpr])
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(message, world.bob.key)


def test_gpg_exported_key_with_wrong_passphrase(world: World) -> None:
    exported = world.home.export_secret(world.alice.fpr, passphrase="alice pw")
    with pytest.raises(e2ee_mail.PassphraseError):
        e2ee_mail.load_key(exported, passphrase="not it")
    with pytest.raises(e2ee_mail.PassphraseError):
        e2ee_mail.load_key(exported)


@pytest.mark.parametrize("kind", ["x25519", "rsa3072"])
def test_our_v4_certificate_imported_into_gpg_receives_mail(
    world: World, kind: str
) -> None:
    ours = e2ee_mail.generate_key(
        f"Dave {kind} <dave-{kind}@example.org>", kind=kind, profile="rfc4880"
    )
    world.home.import_keys(ours.public.export())
    # gpg only lists the key (and encrypts to it) if our self-signatures verify.
    listing = world.home.run(
        ["--with-colons", "--list-keys", ours.fingerprint]
    ).stdout.decode()
    assert "uid:" in listing and "sub:" in listing
    message = world.home.encrypt(BODY, [ours.fingerprint])
    assert e2ee_mail.decrypt(message, ours) == BODY


def test_our_protected_v4_secret_key_imports_into_gpg(world: World) -> None:
    ours = e2ee_mail.generate_key("Erin <erin@example.org>", profile="rfc4880")
    exported = ours.export(passphrase=b"erin pw")
    world.home.run(["--import"], input=exported, passphrase="erin pw")
    message = e2ee_mail.encrypt(BODY, [ours.public], armor=True)
    assert world.home.decrypt(message, passphrase="erin pw") == BODY


def _quarterly_mail(attachment: bytes | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "carol@example.org"
    msg["To"] = "alice@example.org"
    msg["Subject"] = "Quarterly numbers"
    msg.set_content("The numbers are fine.\n")
    if attachment is not None:
        msg.add_attachment(attachment, maintype="application", subtype="x")
    return msg


def _gpg_reads_pgpmime(world: World, encrypted: EmailMessage) -> None:
    """gpg opens the armored part of ``encrypted``, a PGP/MIME mail of
    :func:`_quarterly_mail`, and finds the protected Subject inside."""
    assert encrypted.get_content_type() == "multipart/encrypted"
    assert encrypted["Subject"] != "Quarterly numbers"  # protected (RFC 9788)
    control, payload = list(encrypted.iter_parts())
    assert control.get_content_type() == "application/pgp-encrypted"
    armored = payload.get_payload(decode=True)
    inner = world.home.decrypt(armored, passphrase=world.alice.passphrase)
    assert b"The numbers are fine." in inner
    assert b"Quarterly numbers" in inner


def test_our_pgpmime_part_is_read_by_gpg(world: World) -> None:
    encrypted = e2ee_mail.encrypt_message(
        _quarterly_mail(), [world.alice.cert], format="pgpmime"
    )
    _gpg_reads_pgpmime(world, encrypted)
    restored = e2ee_mail.decrypt_message(encrypted, world.alice.key)
    assert restored["Subject"] == "Quarterly numbers"


def test_our_streamed_pgpmime_part_is_read_by_gpg(world: World) -> None:
    from email import policy
    from email.parser import BytesParser

    mail = _quarterly_mail(os.urandom(300_000)).as_bytes(policy=policy.SMTP)
    out = io.BytesIO()
    e2ee_mail.encrypt_stream(
        io.BytesIO(mail), out, [world.alice.cert], format="pgpmime"
    )
    encrypted = BytesParser(policy=policy.default).parsebytes(out.getvalue())
    assert isinstance(encrypted, EmailMessage)
    _gpg_reads_pgpmime(world, encrypted)


@pytest.mark.parametrize("allow", [False, True])
def test_gpg_sed_without_integrity_protection_is_refused(
    world: World, allow: bool
) -> None:
    # gpg --rfc2440 writes Symmetrically Encrypted Data (tag 9): no MDC. It stays
    # refused even when the caller allows legacy unauthenticated CMS.
    message = world.home.encrypt(BODY, [world.bob.fpr], extra=("--rfc2440",))
    assert "tag=9" in world.home.list_packets(message)
    with pytest.raises(e2ee_mail.PolicyError):
        e2ee_mail.decrypt(message, world.bob.key, allow_unauthenticated=allow)
    out = io.BytesIO()
    with pytest.raises(e2ee_mail.PolicyError):
        e2ee_mail.decrypt_stream(io.BytesIO(message), out, world.bob.key)
    assert out.getvalue() == b""


def test_expired_gpg_key_is_not_encrypted_to() -> None:
    require_peer("gpg")
    with gpg_home() as home:
        t0 = ("--faked-system-time", "20200101T000000")
        home.run(
            [
                *t0,
                "--quick-gen-key",
                "Old <old@example.org>",
                "ed25519",
                "cert,sign",
                "2d",
            ]
        )
        fpr = home.fingerprints("old@example.org")[0]
        home.run([*t0, "--quick-add-key", fpr, "cv25519", "encr", "2d"])
        cert = e2ee_mail.load_certificate(home.export_public(fpr))
        # Expired keys are refused by policy, with the date (an opt-in accepts them).
        with pytest.raises(e2ee_mail.PolicyError, match="expired on 2020-01-03"):
            e2ee_mail.encrypt(BODY, [cert])


def test_revoked_gpg_subkey_is_skipped_for_the_new_one() -> None:
    require_peer("gpg")
    with gpg_home() as home:
        fpr = home.generate("Rev <rev@example.org>", "cv25519")
        old_sub = home.subkey_fingerprints(fpr)[0]
        home.run(
            ["--command-fd", "0", "--edit-key", fpr],
            input=b"key 1\nrevkey\ny\n0\n\ny\nsave\n",
        )
        cert = e2ee_mail.load_certificate(home.export_public(fpr))
        with pytest.raises(e2ee_mail.UnsupportedError, match="no valid encryption"):
            e2ee_mail.encrypt(BODY, [cert])
        home.run(["--quick-add-key", fpr, "cv25519", "encr", "never"])
        cert = e2ee_mail.load_certificate(home.export_public(fpr))
        message = e2ee_mail.encrypt(BODY, [cert])
        (entry,) = e2ee_mail.inspect(message).recipients
        new_sub = next(s for s in home.subkey_fingerprints(fpr) if s != old_sub)
        assert new_sub.endswith(entry.id.upper())
        assert home.decrypt(message) == BODY


def test_gpg_subkeys_only_export_still_decrypts(world: World) -> None:
    # --export-secret-subkeys replaces the primary secret with a GnuPG stub (S2K type
    # 101, "gnu-dummy"): the key loads, and the encryption subkey works.
    exported = world.home.run(
        ["--armor", "--export-secret-subkeys", world.alice.fpr],
        passphrase=world.alice.passphrase,
    ).stdout
    key = e2ee_mail.load_key(exported, passphrase=world.alice.passphrase)
    message = world.home.encrypt(BODY, [world.alice.fpr])
    assert e2ee_mail.decrypt(message, key) == BODY


@pytest.mark.parametrize(
    "cipher", ["AES", "AES192", "CAMELLIA256", "CAST5", "3DES", "BLOWFISH", "IDEA"]
)
def test_gpg_message_with_older_cipher_opens(world: World, cipher: str) -> None:
    # Archives hold SEIPDv1 messages with pre-AES ciphers (gpg 1.x defaults); they
    # still open, MDC-checked. gpg warns that the cipher violates the preferences.
    message = world.home.encrypt(BODY, [world.bob.fpr], extra=("--cipher-algo", cipher))
    assert e2ee_mail.decrypt(message, world.bob.key) == BODY
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(io.BytesIO(message), out, world.bob.key)
    assert out.getvalue() == BODY
    damaged = bytearray(message)
    damaged[-3] ^= 0x40
    with pytest.raises(e2ee_mail.DecryptionError):
        e2ee_mail.decrypt(bytes(damaged), world.bob.key)


def test_gpg_message_to_two_recipients_opens_for_each(world: World) -> None:
    message = world.home.encrypt(BODY, [world.alice.fpr, world.bob.fpr])
    assert e2ee_mail.decrypt(message, world.alice.key) == BODY
    assert e2ee_mail.decrypt(message, world.bob.key) == BODY
    assert e2ee_mail.decrypt(message, [world.bob.key, world.alice.key]) == BODY


def test_gpg_hidden_recipients_are_tried_with_every_key(world: World) -> None:
    # --throw-keyids writes key ID 0 (anonymous recipient, RFC 9580 §5.1.8).
    message = world.home.encrypt(BODY, [world.bob.fpr], extra=("--throw-keyids",))
    assert "keyid 0000000000000000" in world.home.list_packets(message)
    assert e2ee_mail.decrypt(message, [world.alice.key, world.bob.key]) == BODY
    # The anonymous entry is RSA: it cannot be for Alice's ECDH key.
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(message, world.alice.key)


def test_gpg_hidden_ecdh_recipient_opens(world: World) -> None:
    message = world.home.encrypt(BODY, [world.alice.fpr], extra=("--throw-keyids",))
    assert e2ee_mail.decrypt(message, [world.bob.key, world.alice.key]) == BODY
