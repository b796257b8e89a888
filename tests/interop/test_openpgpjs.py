"""Interop with OpenPGP.js v6 (tests/interop/node/pgp.mjs), both directions.

OpenPGP.js encrypts to our generated v6 certificates (SEIPDv2 with GCM and OCB) and we
decrypt; we encrypt and OpenPGP.js decrypts with our generated secret key, which also
shows it accepts our self-signatures. One and two recipients, armored and binary,
streamed output (partial lengths), a passphrase-protected key, PGP/MIME, and keys
OpenPGP.js generated itself.
"""

from __future__ import annotations

import io
import json
from email.message import EmailMessage
from pathlib import Path

import pytest
from doubles import Pipe
from peers import openpgpjs

import e2ee_mail
from e2ee_mail.openpgp import certs, inspection, keygen

pytestmark = pytest.mark.interop
BODY = b"interop body \x00\xff" * 300


def node_decrypt(
    tmp_path: Path, keys: list[str], sealed: bytes, **options: object
) -> bytes:
    """``sealed`` decrypted by OpenPGP.js with the secret key files ``keys``."""
    (tmp_path / "sealed").write_bytes(sealed)
    openpgpjs(
        tmp_path,
        op="decrypt",
        keys=keys,
        input=str(tmp_path / "sealed"),
        output=str(tmp_path / "plain"),
        **options,
    )
    return (tmp_path / "plain").read_bytes()


def node_encrypt(
    tmp_path: Path, certs: list[str], data: bytes, *, armor: bool, aead: str
) -> bytes:
    """``data`` encrypted by OpenPGP.js to the certificate files ``certs``."""
    (tmp_path / "to-seal").write_bytes(data)
    openpgpjs(
        tmp_path,
        op="encrypt",
        certs=certs,
        input=str(tmp_path / "to-seal"),
        output=str(tmp_path / "sealed-by-js"),
        armor=armor,
        aead=aead,
    )
    return (tmp_path / "sealed-by-js").read_bytes()


def write_keys(
    tmp_path: Path, *keys: certs.OpenPGPSecretKey
) -> tuple[list[str], list[str]]:
    pubs, secs = [], []
    for i, key in enumerate(keys):
        pub, sec = tmp_path / f"k{i}.pub", tmp_path / f"k{i}.key"
        pub.write_bytes(key.public.export())
        sec.write_bytes(key.export())
        pubs.append(str(pub))
        secs.append(str(sec))
    return pubs, secs


def test_openpgpjs_accepts_our_certificate_and_secret_key(
    tmp_path: Path, alice: certs.OpenPGPSecretKey
) -> None:
    pubs, secs = write_keys(tmp_path, alice)
    for path, secret in ((pubs[0], False), (secs[0], True)):
        out = tmp_path / "info.json"
        openpgpjs(tmp_path, op="inspect-key", key=path, secret=secret, output=str(out))
        info = json.loads(out.read_text())
        assert info["fingerprint"] == alice.fingerprint
        assert info["version"] == 6
        enc = alice.public.encryption_keys()[0].fingerprint.hex().upper()
        assert info["encryptionKey"] == enc
        assert info["userID"] == "Alice <alice@example.org>"


@pytest.mark.parametrize("aead", ["gcm", "ocb", "default"])
@pytest.mark.parametrize("armored", [True, False])
@pytest.mark.parametrize("two", [False, True])
def test_openpgpjs_encrypts_we_decrypt(
    tmp_path: Path,
    alice: certs.OpenPGPSecretKey,
    bob: certs.OpenPGPSecretKey,
    aead: str,
    armored: bool,
    two: bool,
) -> None:
    recipients = (alice, bob) if two else (alice,)
    pubs, _ = write_keys(tmp_path, *recipients)
    sealed = node_encrypt(tmp_path, pubs, BODY, armor=armored, aead=aead)
    # "default": OpenPGP.js follows our preferences, AES-256 with GCM first.
    expected = "seipdv2-aes256-" + ("gcm" if aead == "default" else aead)
    assert inspection.inspect(sealed).content_algorithm == expected
    for key in recipients:
        assert e2ee_mail.decrypt(sealed, key) == BODY
        out = io.BytesIO()
        e2ee_mail.decrypt_stream(io.BytesIO(sealed), out, key)
        assert out.getvalue() == BODY


@pytest.mark.parametrize("armored", [True, False])
@pytest.mark.parametrize("two", [False, True])
def test_we_encrypt_openpgpjs_decrypts(
    tmp_path: Path,
    alice: certs.OpenPGPSecretKey,
    bob: certs.OpenPGPSecretKey,
    armored: bool,
    two: bool,
) -> None:
    recipients = (alice, bob) if two else (alice,)
    _, secs = write_keys(tmp_path, *recipients)
    sealed = e2ee_mail.encrypt(BODY, [k.public for k in recipients], armor=armored)
    for sec in secs:
        assert node_decrypt(tmp_path, [sec], sealed) == BODY


def test_openpgpjs_decrypts_our_streamed_message(
    tmp_path: Path, alice: certs.OpenPGPSecretKey
) -> None:
    _, secs = write_keys(tmp_path, alice)
    data = bytes(range(256)) * 12_000  # 3 MiB: several partial body segments
    out = io.BytesIO()
    with Pipe(data) as src:  # not seekable: partial body lengths
        e2ee_mail.encrypt_stream(src, out, alice.public, armor=True)  # type: ignore[arg-type]
    assert node_decrypt(tmp_path, secs, out.getvalue()) == data


def test_multi_chunk_messages_both_ways(
    tmp_path: Path, alice: certs.OpenPGPSecretKey
) -> None:
    pubs, secs = write_keys(tmp_path, alice)
    # Ours: 4 MiB chunks (octet 16), so 9 MiB + 1 is three chunks and a short one.
    data = bytes(range(256)) * (9 * 4096) + b"!"
    assert node_decrypt(tmp_path, secs, e2ee_mail.encrypt(data, alice.public)) == data
    # Theirs: OpenPGP.js's 256 KiB chunks, many of them.
    sealed = node_encrypt(tmp_path, pubs, data, armor=False, aead="gcm")
    assert e2ee_mail.decrypt(sealed, alice) == data
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(io.BytesIO(sealed), out, alice)
    assert out.getvalue() == data


def test_openpgpjs_reads_our_passphrase_protected_key(
    tmp_path: Path, alice: certs.OpenPGPSecretKey
) -> None:
    locked = tmp_path / "locked.key"
    locked.write_bytes(alice.export(passphrase=b"correct horse"))
    assert (
        node_decrypt(
            tmp_path,
            [str(locked)],
            e2ee_mail.encrypt(b"locked", alice.public),
            passphrase="correct horse",
        )
        == b"locked"
    )


def test_openpgpjs_decrypts_the_part_of_our_pgpmime_mail(
    tmp_path: Path, alice: certs.OpenPGPSecretKey
) -> None:
    _, secs = write_keys(tmp_path, alice)
    msg = EmailMessage()
    msg["From"] = "bob@example.org"
    msg["To"] = "alice@example.org"
    msg["Subject"] = "the real subject"
    msg.set_content("PGP/MIME body\n")
    outer = e2ee_mail.encrypt_message(msg, alice.public, format="pgpmime")
    assert outer["Subject"] == "..."
    part = outer.get_payload()[1].get_payload(decode=True)  # type: ignore[index, union-attr]
    inner = node_decrypt(tmp_path, secs, part)
    assert b"Subject: the real subject" in inner and b"PGP/MIME body" in inner


def test_keys_generated_by_openpgpjs_work_both_ways(tmp_path: Path) -> None:
    prefix = tmp_path / "js"
    openpgpjs(
        tmp_path, op="generate", name="Js", email="js@example.org", output=str(prefix)
    )
    cert = e2ee_mail.load_certificate(prefix.with_suffix(".pub"))
    key = e2ee_mail.load_key(prefix.with_suffix(".key"))
    assert cert.fingerprint == key.fingerprint
    assert (
        node_decrypt(
            tmp_path,
            [str(prefix.with_suffix(".key"))],
            e2ee_mail.encrypt(BODY, cert, armor=True),
        )
        == BODY
    )
    js_cert = [str(prefix.with_suffix(".pub"))]
    sealed = node_encrypt(tmp_path, js_cert, b"from js", armor=False, aead="gcm")
    # OpenPGP.js leaves SEIPDv2 out of its own v6 keys' Features unless asked, so
    # it may write SEIPDv1; that container belongs to the v4 compatibility module.
    if inspection.inspect(sealed).content_algorithm.startswith("seipdv2"):
        assert e2ee_mail.decrypt(sealed, key) == b"from js"


def test_we_read_an_openpgpjs_key_locked_with_argon2(tmp_path: Path) -> None:
    prefix = tmp_path / "locked"
    openpgpjs(
        tmp_path,
        op="generate",
        name="Lock",
        email="lock@example.org",
        passphrase="open sesame",
        output=str(prefix),
    )
    locked = prefix.with_suffix(".key").read_bytes()
    with pytest.raises(e2ee_mail.PassphraseError):
        e2ee_mail.load_key(locked, "wrong")
    key = e2ee_mail.load_key(locked, "open sesame")
    sealed = e2ee_mail.encrypt(b"argon2", key.public)
    assert e2ee_mail.decrypt(sealed, key) == b"argon2"


def test_rsa_v6_keys_interoperate(tmp_path: Path) -> None:
    rsa_key = keygen.generate(
        "Rsa <rsa@example.org>", kind="rsa3072", profile="rfc9580"
    )
    pubs, secs = write_keys(tmp_path, rsa_key)
    assert node_decrypt(tmp_path, secs, e2ee_mail.encrypt(BODY, rsa_key.public)) == BODY
    sealed = node_encrypt(tmp_path, pubs, BODY, armor=True, aead="gcm")
    assert e2ee_mail.decrypt(sealed, rsa_key) == BODY
