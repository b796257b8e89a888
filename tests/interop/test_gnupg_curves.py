"""OpenPGP ECDH over the NIST and brainpool curves with the real GnuPG 2.2, Sequoia's
``sq``, GopenPGP's ``gosop`` and ``rnp``, both directions.

GnuPG makes one key per curve (an Ed25519 primary with an encryption subkey on the
curve: ``--quick-add-key FPR nistp256 encr``); the P-256 and brainpoolP256r1 keys are
passphrase-protected. For each curve: its certificate loads and names the curve; we
encrypt (binary and armored) and gpg decrypts; gpg encrypts and we decrypt, in
memory and as a stream, with the gpg-exported secret key. ``sq`` 0.27 (built on
Nettle) has no brainpool curves and no NIST key generation: it encrypts to and
decrypts with the gpg-made NIST keys. ``gosop`` and ``rnp`` do the same with the
gpg-made keys on every curve.
"""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from gpg import GpgHome, gpg_home, split_packets
from peers import require_peer

import e2ee_mail

pytestmark = pytest.mark.interop

BODY = b"Dear Bob,\r\nthe numbers are attached.\r\n" * 50 + bytes(range(256))
CURVES = (
    "nistp256",
    "nistp384",
    "nistp521",
    "brainpoolP256r1",
    "brainpoolP384r1",
    "brainpoolP512r1",
)
PROTECTED = {"nistp256": "p256 pw", "brainpoolP256r1": "bp256 pw"}
NIST = ("nistp256", "nistp384", "nistp521")


@dataclass
class Peer:
    fpr: str
    passphrase: str
    public: bytes
    secret: bytes
    cert: e2ee_mail.Certificate
    key: e2ee_mail.SecretKey


@dataclass
class World:
    home: GpgHome
    peers: dict[str, Peer]


def _make(home: GpgHome, curve: str) -> Peer:
    uid = f"{curve} <{curve.lower()}@example.org>"
    passphrase = PROTECTED.get(curve, "")
    home.run(
        ["--quick-gen-key", uid, "ed25519", "cert", "never"], passphrase=passphrase
    )
    fpr = home.fingerprints(uid)[0]
    home.run(["--quick-add-key", fpr, curve, "encr", "never"], passphrase=passphrase)
    public = home.export_public(fpr)
    secret = home.export_secret(fpr, passphrase=passphrase)
    cert = e2ee_mail.load_certificate(public)
    key = e2ee_mail.load_key(secret, passphrase=passphrase or None)
    return Peer(fpr, passphrase, public, secret, cert, key)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    require_peer("gpg")
    with gpg_home() as home:
        yield World(home, {curve: _make(home, curve) for curve in CURVES})


@pytest.mark.parametrize("curve", CURVES)
def test_gpg_curve_certificates_load_and_name_the_curve(
    world: World, curve: str
) -> None:
    peer = world.peers[curve]
    assert peer.cert.fingerprint == peer.fpr
    assert peer.cert.algorithm == f"ecdh-{curve}"
    assert peer.key.public.fingerprint == peer.fpr


@pytest.mark.parametrize("armor", [False, True])
@pytest.mark.parametrize("curve", CURVES)
def test_we_encrypt_gpg_decrypts(world: World, curve: str, armor: bool) -> None:
    peer = world.peers[curve]
    message = e2ee_mail.encrypt(BODY, peer.cert, armor=armor)
    assert world.home.decrypt(bytes(message), passphrase=peer.passphrase) == BODY
    listing = world.home.list_packets(bytes(message), passphrase=peer.passphrase)
    assert "pubkey enc packet: version 3, algo 18" in listing


def test_we_encrypt_to_every_curve_at_once(world: World) -> None:
    message = bytes(e2ee_mail.encrypt(BODY, [p.cert for p in world.peers.values()]))
    for peer in world.peers.values():
        assert e2ee_mail.decrypt(message, peer.key) == BODY
    # gpg holds every secret key: each PKESK it tries must open for it.
    assert world.home.decrypt(message, passphrase="") == BODY


@pytest.mark.parametrize("armor", [False, True])
@pytest.mark.parametrize("curve", CURVES)
def test_gpg_encrypts_we_decrypt(world: World, curve: str, armor: bool) -> None:
    peer = world.peers[curve]
    message = world.home.encrypt(BODY, [peer.fpr], armor=armor)
    assert e2ee_mail.decrypt(message, peer.key) == BODY
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(io.BytesIO(message), out, peer.key)
    assert out.getvalue() == BODY


@pytest.mark.parametrize("curve", ["nistp256", "brainpoolP512r1"])
def test_we_recover_the_session_key_gpg_wrapped(world: World, curve: str) -> None:
    from e2ee_mail.openpgp import certs, pkesk
    from e2ee_mail.openpgp.packets.pkesk import parse_pkesk

    peer = world.peers[curve]
    message = world.home.encrypt(BODY, [peer.fpr])
    want = world.home.session_key(message, passphrase=peer.passphrase)
    assert [r.algorithm for r in e2ee_mail.inspect(message).recipients] == ["ecdh"]
    (body,) = [b for tag, b in split_packets(message) if tag == 1]
    packet = parse_pkesk(body)
    assert isinstance(peer.key, certs.OpenPGPSecretKey)
    ((info, private),) = peer.key.decryption_keys()
    assert pkesk.unwrap(packet, private, info) == want


@pytest.mark.parametrize("curve", ["nistp384", "brainpoolP256r1"])
def test_gpg_hidden_recipient_is_found_by_trying_our_key(
    world: World, curve: str
) -> None:
    peer = world.peers[curve]
    message = world.home.encrypt(BODY, [peer.fpr], extra=("--throw-keyids",))
    (recipient,) = e2ee_mail.inspect(message).recipients
    assert recipient.id == "anonymous"
    assert e2ee_mail.decrypt(message, peer.key) == BODY


def test_gpg_message_to_another_curve_is_no_matching_key(world: World) -> None:
    message = world.home.encrypt(BODY, [world.peers["nistp384"].fpr])
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(message, world.peers["brainpoolP384r1"].key)


def test_protected_export_needs_its_passphrase(world: World) -> None:
    peer = world.peers["brainpoolP256r1"]
    with pytest.raises(e2ee_mail.PassphraseError):
        e2ee_mail.load_key(peer.secret, passphrase="not it")


# -- Sequoia sq ---------------------------------------------------------------------


def _sq(home: Path, *args: str, input: bytes | None = None) -> bytes:
    exe = require_peer("sq")
    proc = subprocess.run(
        [exe, *args],
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, "HOME": str(home), "LC_ALL": "C"},
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    return proc.stdout


def _unprotected_secret(world: World, peer: Peer) -> bytes:
    """The peer's secret key exported without protection, for ``sq decrypt``."""
    if not peer.passphrase:
        return peer.secret
    return bytes(peer.key.export())


@pytest.mark.parametrize("curve", NIST)
def test_sq_encrypts_to_gpg_nist_keys_we_decrypt(
    world: World, curve: str, tmp_path: Path
) -> None:
    peer = world.peers[curve]
    (tmp_path / "cert.asc").write_bytes(peer.public)
    message = _sq(
        tmp_path,
        "encrypt",
        "--binary",
        "--recipient-cert",
        str(tmp_path / "cert.asc"),
        input=BODY,
    )
    assert e2ee_mail.decrypt(message, peer.key) == BODY
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(io.BytesIO(message), out, peer.key)
    assert out.getvalue() == BODY


@pytest.mark.parametrize("curve", NIST)
def test_we_encrypt_sq_decrypts_with_gpg_nist_keys(
    world: World, curve: str, tmp_path: Path
) -> None:
    peer = world.peers[curve]
    (tmp_path / "key.asc").write_bytes(_unprotected_secret(world, peer))
    (tmp_path / "msg.pgp").write_bytes(bytes(e2ee_mail.encrypt(BODY, peer.cert)))
    opened = _sq(
        tmp_path,
        "decrypt",
        "--recipient-key",
        str(tmp_path / "key.asc"),
        str(tmp_path / "msg.pgp"),
    )
    assert opened == BODY


# -- GopenPGP (gosop) and rnp -------------------------------------------------------


def _run(exe: str, args: list[str], data: bytes | None = None) -> bytes:
    proc = subprocess.run(
        [exe, *args],
        input=data,
        stdin=subprocess.DEVNULL if data is None else None,
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, "LC_ALL": "C"},
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    return proc.stdout


#: gosop (GopenPGP 2.5) writes what it decrypts as UTF-8 text with LF line ends,
#: whatever the Literal Data format octet says: its body is plain text.
TEXT_BODY = b"Dear Bob,\nthe numbers are attached.\n" * 50


@pytest.mark.parametrize("curve", CURVES)
def test_gosop_both_ways(world: World, curve: str, tmp_path: Path) -> None:
    exe = require_peer("gosop")
    peer = world.peers[curve]
    (tmp_path / "cert.asc").write_bytes(peer.public)
    (tmp_path / "key.asc").write_bytes(_unprotected_secret(world, peer))
    sealed = _run(exe, ["encrypt", str(tmp_path / "cert.asc")], TEXT_BODY)
    assert e2ee_mail.decrypt(sealed, peer.key) == TEXT_BODY
    ours = bytes(e2ee_mail.encrypt(TEXT_BODY, peer.cert))
    assert _run(exe, ["decrypt", str(tmp_path / "key.asc")], ours) == TEXT_BODY


@pytest.mark.parametrize("curve", CURVES)
def test_rnp_both_ways(world: World, curve: str, tmp_path: Path) -> None:
    exe = require_peer("rnp")
    peer = world.peers[curve]
    home = tmp_path / "rnp"
    home.mkdir()
    (tmp_path / "cert.asc").write_bytes(peer.public)
    (tmp_path / "key.asc").write_bytes(_unprotected_secret(world, peer))
    (tmp_path / "plain").write_bytes(BODY)
    _run(
        exe,
        [
            "--homedir",
            str(home),
            "--keyfile",
            str(tmp_path / "cert.asc"),
            "--encrypt",
            "-r",
            peer.fpr,
            str(tmp_path / "plain"),
            "--output",
            str(tmp_path / "sealed"),
        ],
    )
    assert e2ee_mail.decrypt((tmp_path / "sealed").read_bytes(), peer.key) == BODY
    (tmp_path / "ours").write_bytes(bytes(e2ee_mail.encrypt(BODY, peer.cert)))
    opened = _run(
        exe,
        [
            "--homedir",
            str(home),
            "--keyfile",
            str(tmp_path / "key.asc"),
            "--decrypt",
            str(tmp_path / "ours"),
            "--output",
            "-",
        ],
    )
    assert opened == BODY
