"""OpenPGP signatures with the real GnuPG 2.2 (v4), both directions.

* gpg signs (``--sign`` compressed and not, ``--detach-sign``, ``--textmode``,
  ``--encrypt --sign``) with Ed25519, RSA-3072 and an Ed25519 signing subkey
  (with its back-signature) → we verify "good";
* we sign with our v4 EdDSALegacy, RSA-3072 and gpg's own keys (inline, detached,
  encrypted) → ``gpg --verify`` / ``gpg --decrypt`` report GOODSIG;
* the same through the public API: ``e2ee_mail.sign(format="openpgp")`` and a
  PGP/MIME multipart/signed part and a signed and encrypted PGP/MIME mail
  (RFC 3156 §6.2) checked by gpg, and ``gpg --encrypt --sign``
  opened by ``e2ee_mail.decrypt(verify_with=...)``.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from gpg import GpgHome, gpg_home
from openpgp_signers import signer
from peers import require_peer

import e2ee_mail
from e2ee_mail.openpgp import signing, verifying
from e2ee_mail.openpgp.certs import OpenPGPCertificate, OpenPGPSecretKey
from e2ee_mail.policy import DEFAULT

pytestmark = pytest.mark.interop

BODY = b"Dear Bob,\nthe quarterly numbers are attached.\n" * 40


@dataclass
class Peer:
    fpr: str
    cert: OpenPGPCertificate
    key: OpenPGPSecretKey


@dataclass
class World:
    home: GpgHome
    peers: dict[str, Peer]


def _load(home: GpgHome, fpr: str) -> Peer:
    cert = e2ee_mail.load_certificate(home.export_public(fpr))
    key = e2ee_mail.load_key(home.export_secret(fpr))
    assert isinstance(cert, OpenPGPCertificate) and isinstance(key, OpenPGPSecretKey)
    return Peer(fpr, cert, key)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    require_peer("gpg")
    with gpg_home() as home:
        peers = {
            "ed25519": _load(
                home, home.generate("Alice <alice@example.org>", "cv25519")
            ),
            "rsa": _load(home, home.generate("Bob <bob@example.org>", "rsa3072")),
        }
        uid = "Carol <carol@example.org>"
        home.run(["--quick-gen-key", uid, "ed25519", "cert", "never"])
        fpr = home.fingerprints(uid)[0]
        home.run(["--quick-add-key", fpr, "ed25519", "sign", "never"])
        home.run(["--quick-add-key", fpr, "cv25519", "encr", "never"])
        peers["subkey"] = _load(home, fpr)
        for kind in ("v4", "rsa"):
            home.import_keys(signer(kind).public.export())
        yield World(home, peers)


GPG_SIGNERS = ["ed25519", "rsa", "subkey"]


def _good(
    results: tuple[e2ee_mail.SignatureResult, ...], cert: OpenPGPCertificate
) -> None:
    assert [r.status for r in results] == ["good"], results
    assert results[0].fingerprint == cert.fingerprint


@pytest.mark.parametrize("who", GPG_SIGNERS)
@pytest.mark.parametrize("extra", [[], ["--compress-algo", "none"], ["--armor"]])
def test_gpg_sign_we_verify(world: World, who: str, extra: list[str]) -> None:
    peer = world.peers[who]
    signed = world.home.run([*extra, "-u", peer.fpr, "--sign"], input=BODY).stdout
    content, results = verifying.verify_inline(signed, [peer.cert], policy=DEFAULT)
    assert content == BODY
    _good(results, peer.cert)
    out = io.BytesIO()
    streamed = verifying.verify_inline_stream(
        io.BytesIO(signed), out, [peer.cert], policy=DEFAULT
    )
    assert out.getvalue() == BODY
    _good(streamed, peer.cert)


@pytest.mark.parametrize("who", GPG_SIGNERS)
@pytest.mark.parametrize("text", [False, True])
def test_gpg_detach_sign_we_verify(world: World, who: str, text: bool) -> None:
    peer = world.peers[who]
    args = [
        "--armor",
        "-u",
        peer.fpr,
        *(["--textmode"] if text else []),
        "--detach-sign",
    ]
    sig = world.home.run(args, input=BODY).stdout
    _good(verifying.verify_detached(BODY, sig, [peer.cert], policy=DEFAULT), peer.cert)
    if text:
        crlf = BODY.replace(b"\n", b"\r\n")
        _good(
            verifying.verify_detached(crlf, sig, [peer.cert], policy=DEFAULT), peer.cert
        )
    (wrong,) = verifying.verify_detached(BODY + b"!", sig, [peer.cert], policy=DEFAULT)
    assert wrong.status == "bad"


@pytest.mark.parametrize("who", GPG_SIGNERS)
@pytest.mark.parametrize("to", ["v4", "rsa"])
def test_gpg_encrypt_sign_we_decrypt_verify(world: World, who: str, to: str) -> None:
    peer = world.peers[who]
    ours = signer(to)
    sealed = world.home.run(
        [
            "--trust-model",
            "always",
            "-u",
            peer.fpr,
            "-r",
            ours.public.fingerprint,
            "--encrypt",
            "--sign",
        ],
        input=BODY,
    ).stdout
    plain, results = verifying.decrypt_verified(
        sealed, [ours], [peer.cert], policy=DEFAULT
    )
    assert plain == BODY
    _good(results, peer.cert)


def _status(proc_err: bytes) -> str:
    return proc_err.decode("utf-8", "replace")


@pytest.mark.parametrize("kind", ["v4", "rsa"])
@pytest.mark.parametrize("armor", [False, True])
def test_we_sign_gpg_verifies(world: World, kind: str, armor: bool) -> None:
    signed = signing.sign_inline(BODY, signer(kind), armor=armor)
    proc = world.home.run(["--status-fd", "2", "--decrypt"], input=signed)
    assert proc.stdout == BODY
    assert "[GNUPG:] GOODSIG" in _status(proc.stderr)


@pytest.mark.parametrize("kind", ["v4", "rsa"])
@pytest.mark.parametrize("text", [False, True])
def test_we_detach_sign_gpg_verifies(world: World, kind: str, text: bool) -> None:
    sig = signing.sign_detached(BODY, signer(kind), text=text)
    with tempfile.TemporaryDirectory() as tmp:
        sig_path = os.path.join(tmp, "body.asc")
        data_path = os.path.join(tmp, "body")
        with open(sig_path, "wb") as f:
            f.write(sig)
        with open(data_path, "wb") as f:
            f.write(BODY)
        proc = world.home.run(["--status-fd", "1", "--verify", sig_path, data_path])
    assert "[GNUPG:] GOODSIG" in proc.stdout.decode()


@pytest.mark.parametrize("kind", ["v4", "rsa"])
@pytest.mark.parametrize("to", ["ed25519", "rsa"])
def test_we_encrypt_sign_gpg_decrypts_good_signature(
    world: World, kind: str, to: str
) -> None:
    sealed = signing.encrypt_signed(
        BODY, [world.peers[to].cert], signer(kind), armor=True, policy=DEFAULT
    )
    proc = world.home.run(["--status-fd", "2", "--decrypt"], input=sealed)
    assert proc.stdout == BODY
    assert "[GNUPG:] GOODSIG" in _status(proc.stderr)


def test_gpg_signing_subkey_is_selected_with_its_back_signature(world: World) -> None:
    peer = world.peers["subkey"]
    info, _ = signing.signing_key(peer.key)
    assert info.fingerprint != peer.cert.primary.fingerprint
    assert signing.has_back_signature(peer.cert, info)
    signed = signing.sign_inline(BODY, peer.key)
    proc = world.home.run(["--status-fd", "2", "--decrypt"], input=signed)
    assert "[GNUPG:] GOODSIG" in _status(proc.stderr)
    _, results = verifying.verify_inline(signed, [peer.cert], policy=DEFAULT)
    _good(results, peer.cert)


# -- through the public API --------------------------------------------------------


@pytest.mark.parametrize("kind", ["v4", "rsa"])
def test_public_sign_gpg_verifies(world: World, kind: str) -> None:
    sig = e2ee_mail.sign(BODY, signer(kind), format="openpgp", detached=True)
    signed = e2ee_mail.sign(BODY, signer(kind), armor=True)
    with tempfile.TemporaryDirectory() as tmp:
        sig_path = os.path.join(tmp, "body.sig")
        data_path = os.path.join(tmp, "body")
        with open(sig_path, "wb") as f:
            f.write(sig)
        with open(data_path, "wb") as f:
            f.write(BODY)
        proc = world.home.run(["--status-fd", "1", "--verify", sig_path, data_path])
    assert "[GNUPG:] GOODSIG" in proc.stdout.decode()
    proc = world.home.run(["--status-fd", "2", "--decrypt"], input=signed)
    assert proc.stdout == BODY
    assert "[GNUPG:] GOODSIG" in _status(proc.stderr)


@pytest.mark.parametrize("who", ["ed25519", "subkey"])
def test_gpg_encrypt_sign_public_decrypt_verify_with(world: World, who: str) -> None:
    peer = world.peers[who]
    ours = signer("v4")
    sealed = world.home.run(
        [
            "--trust-model",
            "always",
            "-u",
            peer.fpr,
            "-r",
            ours.public.fingerprint,
            "--encrypt",
            "--sign",
        ],
        input=BODY,
    ).stdout
    assert e2ee_mail.decrypt(sealed, ours, verify_with=peer.cert) == BODY
    other = world.peers["rsa"].cert
    with pytest.raises(e2ee_mail.SignatureError):
        e2ee_mail.decrypt(sealed, ours, verify_with=other)


def test_pgpmime_multipart_signed_gpg_verifies(world: World) -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "Sig Four <four@example.org>"
    msg["To"] = "bob@example.org"
    msg["Subject"] = "Plans"
    msg.set_content("See you at 3pm.\n")
    signed = e2ee_mail.sign_message(msg, signer("v4"))
    boundary = signed.get_boundary()
    assert boundary is not None
    delimiter = b"\r\n--" + boundary.encode()
    raw = signed.as_bytes()
    body = raw[raw.index(b"\r\n\r\n") + 2 :]
    # RFC 3156 §5: the first part's octets (the CRLF before the delimiter excluded)
    # are what the second part's signature covers.
    _, first, second, _ = body.split(delimiter)
    content = first.split(b"\r\n", 1)[1]
    sig = second.split(b"\r\n\r\n", 1)[1]
    with tempfile.TemporaryDirectory() as tmp:
        sig_path = os.path.join(tmp, "part.asc")
        data_path = os.path.join(tmp, "part")
        with open(sig_path, "wb") as f:
            f.write(sig)
        with open(data_path, "wb") as f:
            f.write(content)
        proc = world.home.run(["--status-fd", "1", "--verify", sig_path, data_path])
    assert "[GNUPG:] GOODSIG" in proc.stdout.decode()


def test_pgpmime_signed_and_encrypted_gpg_decrypts_good_signature(
    world: World,
) -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "Sig Four <four@example.org>"
    msg["To"] = "alice@example.org"
    msg["Subject"] = "Plans"
    msg.set_content("See you at 3pm.\n")
    sealed = e2ee_mail.encrypt_message(
        msg, world.peers["ed25519"].cert, sign_with=signer("v4")
    )
    parts = sealed.get_payload()
    assert isinstance(parts, list)
    armored = parts[1].get_payload(decode=True)
    # RFC 3156 §6.2: one OpenPGP message, signed then encrypted, holds the entity.
    proc = world.home.run(["--status-fd", "2", "--decrypt"], input=armored)
    assert "[GNUPG:] GOODSIG" in _status(proc.stderr)
    assert b"Subject: Plans" in proc.stdout
