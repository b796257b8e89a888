"""Keys GnuPG 2.2 and OpenPGP.js make with algorithms we only verify or skip.

Made on the fly in a temporary GNUPGHOME:
* a DSA-2048 primary with an ElGamal-2048 and an RSA-2048 encryption subkey
  (``--quick-add-key``): it loads, the ElGamal subkey is skipped with its reason
  (repr, ``inspect`` and the CLI), we encrypt to the RSA subkey and gpg decrypts;
  gpg encrypts to the whole key and we decrypt, also after we re-export the secret
  key with a passphrase (which gpg imports and decrypts with); gpg encrypts to the
  ElGamal subkey only and we refuse with an UnsupportedError naming ElGamal;
* ECDSA primaries over nistp256 and brainpoolP256r1 with a cv25519 encryption
  subkey: they load, and both directions work with gpg;
* for each gpg primary (DSA, ECDSA, RSA, EdDSALegacy), a User ID certification
  with one octet flipped is refused;
* an OpenPGP.js v6 curve448 key: its Ed448 primary key's self-signatures verify (a
  tampered one is refused); its X448 subkey is used when X448 is implemented, or
  else skipped naming X448.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from clirun import ok
from gpg import GpgHome, gpg_home, split_packets
from peers import openpgpjs, require_peer

import e2ee_mail
from e2ee_mail.openpgp import certs
from e2ee_mail.openpgp.packets.header import serialize_packet

pytestmark = pytest.mark.interop

BODY = b"tolerant key loading\r\n" * 40


@dataclass
class Made:
    fpr: str
    cert: certs.OpenPGPCertificate
    key: certs.OpenPGPSecretKey
    public: bytes


@dataclass
class Home:
    gpg: GpgHome
    dsa: Made  # DSA primary, ElGamal + RSA encryption subkeys
    nist: Made  # ECDSA nistp256 primary, cv25519 subkey
    brainpool: Made  # ECDSA brainpoolP256r1 primary, cv25519 subkey
    rsa: Made  # RSA primary, RSA subkey
    ed25519: Made  # EdDSALegacy primary, cv25519 subkey


def _make(home: GpgHome, uid: str, primary: str, subkeys: list[str]) -> Made:
    home.run(["--quick-gen-key", uid, primary, "cert,sign", "never"])
    fpr = home.fingerprints(uid)[0]
    for algo in subkeys:
        home.run(["--quick-add-key", fpr, algo, "encr", "never"])
    public = home.export_public(fpr, armor=False)
    cert = certs.load_certificate(public)
    key = certs.load_key(home.export_secret(fpr, armor=False), None)
    return Made(fpr, cert, key, public)


@pytest.fixture(scope="module")
def home() -> Iterator[Home]:
    require_peer("gpg")
    with gpg_home() as gpg:
        yield Home(
            gpg,
            _make(gpg, "Dee <dee@example.org>", "dsa2048", ["elg2048", "rsa2048"]),
            _make(gpg, "Nia <nia@example.org>", "nistp256", ["cv25519"]),
            _make(gpg, "Bea <bea@example.org>", "brainpoolP256r1", ["cv25519"]),
            _make(gpg, "Ray <ray@example.org>", "rsa2048", ["rsa2048"]),
            _make(gpg, "Eve <eve@example.org>", "ed25519", ["cv25519"]),
        )


def _subkeys_by_algorithm(made: Made) -> dict[int, str]:
    return {k.packet.algorithm: k.fingerprint.hex().upper() for k in made.cert.subkeys}


def test_dsa_key_loads_with_its_elgamal_subkey_skipped(home: Home) -> None:
    cert = home.dsa.cert
    assert cert.fingerprint == home.dsa.fpr
    assert cert.primary.packet.algorithm == 17
    subs = _subkeys_by_algorithm(home.dsa)
    (skipped,) = cert.skipped_subkeys()
    assert skipped[0] == subs[16] and "ElGamal" in skipped[1]
    chosen = cert.encryption_key()
    assert chosen is not None and chosen.packet.algorithm == 1
    assert cert.algorithm == "rsa2048"
    assert "ElGamal" in repr(cert) and "ElGamal" in repr(home.dsa.key)


def test_inspect_shows_the_skipped_elgamal_subkey(home: Home, tmp_path: Path) -> None:
    elgamal = _subkeys_by_algorithm(home.dsa)[16]
    text = str(e2ee_mail.inspect(home.dsa.public))
    assert f"{elgamal} elgamal: skipped: ElGamal" in text
    path = tmp_path / "dee.asc"
    path.write_bytes(home.gpg.export_public(home.dsa.fpr))
    out = ok("inspect", "-i", str(path))
    assert "content: v4 certificate" in out
    assert f"{elgamal} elgamal: skipped: ElGamal" in out


def test_we_encrypt_to_the_rsa_subkey_and_gpg_decrypts(home: Home) -> None:
    rsa_sub = _subkeys_by_algorithm(home.dsa)[1]
    sealed = bytes(e2ee_mail.encrypt(BODY, home.dsa.cert))
    (recipient,) = e2ee_mail.inspect(sealed).recipients
    assert recipient.algorithm == "rsa" and rsa_sub.endswith(recipient.id)
    assert home.gpg.decrypt(sealed) == BODY


def test_gpg_encrypts_to_the_dsa_key_we_decrypt(home: Home) -> None:
    # gpg picks the newest encryption subkey; the ElGamal and RSA subkeys may carry
    # the same creation second, so name the RSA one ("!": exactly this subkey).
    rsa_subkey = _subkeys_by_algorithm(home.dsa)[1]
    sealed = home.gpg.encrypt(BODY, [rsa_subkey + "!"])
    assert e2ee_mail.decrypt(sealed, home.dsa.key) == BODY
    # Exported with a passphrase (the DSA and ElGamal secrets too, which we carry
    # without using) and loaded again, it still decrypts; gpg reads it back.
    locked = home.dsa.key.export(passphrase="pw")
    again = certs.load_key(locked, b"pw")
    assert e2ee_mail.decrypt(sealed, again) == BODY
    with gpg_home() as other:
        other.run(["--import"], input=locked, passphrase="pw")
        assert other.decrypt(sealed, passphrase="pw") == BODY


def test_a_message_to_the_elgamal_subkey_only_names_elgamal(home: Home) -> None:
    elgamal = _subkeys_by_algorithm(home.dsa)[16]
    # "!" makes gpg use exactly this subkey.
    sealed = home.gpg.encrypt(BODY, [elgamal + "!"])
    (recipient,) = e2ee_mail.inspect(sealed).recipients
    assert recipient.algorithm == "elgamal"
    with pytest.raises(e2ee_mail.UnsupportedError, match="ElGamal") as caught:
        e2ee_mail.decrypt(sealed, home.dsa.key)
    assert elgamal in str(caught.value)


@pytest.mark.parametrize("which", ["nist", "brainpool"])
def test_ecdsa_primary_keys_work_both_ways(home: Home, which: str) -> None:
    made: Made = getattr(home, which)
    assert made.cert.primary.packet.algorithm == 19
    assert made.cert.skipped_subkeys() == ()
    sealed = bytes(e2ee_mail.encrypt(BODY, made.cert))
    assert home.gpg.decrypt(sealed) == BODY
    back = home.gpg.encrypt(BODY, [made.fpr])
    assert e2ee_mail.decrypt(back, made.key) == BODY


def _flip_certification(public: bytes) -> bytes:
    """The certificate with the last octet of its User ID certification's
    signature flipped."""
    packets = split_packets(public)
    uid = next(i for i, (tag, _) in enumerate(packets) if tag == 13)
    assert packets[uid + 1][0] == 2
    return _flipped(packets, [uid + 1])


@pytest.mark.parametrize("which", ["dsa", "nist", "brainpool", "rsa", "ed25519"])
def test_a_tampered_gpg_self_signature_is_refused(home: Home, which: str) -> None:
    made: Made = getattr(home, which)
    with pytest.raises(e2ee_mail.KeyLoadError, match="no self-signature"):
        certs.load_certificate(_flip_certification(made.public))


def test_openpgpjs_ed448_key_loads_and_a_tampered_one_is_refused(
    tmp_path: Path,
) -> None:
    prefix = tmp_path / "c448"
    openpgpjs(
        tmp_path,
        op="generate",
        type="curve448",
        name="Ed",
        email="ed@example.org",
        output=str(prefix),
    )
    public = prefix.with_suffix(".pub").read_bytes()
    cert = certs.load_certificate(public)
    assert cert.primary.packet.algorithm == 28
    assert cert.user_ids == ("Ed <ed@example.org>",)
    skipped = dict(cert.skipped_subkeys())
    (sub,) = cert.subkeys
    assert sub.packet.algorithm == 26 and sub.bound
    if cert.encryption_key() is None:
        assert "X448" in skipped[sub.fingerprint.hex().upper()]
    packets = split_packets(cert.export(armor=False))
    sigs = [i for i, (tag, _) in enumerate(packets) if tag == 2]
    # The direct-key signature and the User ID certification flipped: nothing
    # the primary key signed holds any more.
    with pytest.raises(e2ee_mail.KeyLoadError, match="no self-signature"):
        certs.load_certificate(_flipped(packets, sigs[:-1]))
    # The subkey binding flipped: the key loads, the subkey is skipped.
    flipped = certs.load_certificate(_flipped(packets, sigs[-1:]))
    assert sub.fingerprint.hex().upper() in dict(flipped.skipped_subkeys())
    assert not flipped.subkeys[0].bound and flipped.encryption_key() is None


def _flipped(packets: list[tuple[int, bytes]], indexes: list[int]) -> bytes:
    out = list(packets)
    for index in indexes:
        tag, body = out[index]
        out[index] = (tag, body[:-1] + bytes([body[-1] ^ 0x01]))
    return b"".join(serialize_packet(t, b) for t, b in out)
