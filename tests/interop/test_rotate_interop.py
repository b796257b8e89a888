"""Real peers accept a certificate after subkey rotation (openpgp/rotate.py).

* OpenPGP.js v6 (tests/interop/node/rotated.mjs, pgp.mjs) reads our rotated v6
  certificate (X25519 and RSA): same primary fingerprint, the old subkey expired at
  the time our re-issued binding says, the new subkey valid and chosen; it encrypts
  to the new subkey (checked in the PKESK) and we decrypt; it also decrypts, with our
  rotated secret key, what we encrypt.
* GnuPG 2.2 imports our rotated v4 certificate (ECDH Curve25519Legacy and RSA), lists
  the old subkey as expired and the new one valid, encrypts to the new subkey and we
  decrypt; it imports the rotated secret key and opens what we encrypt.
* Keys the peers generated themselves: we rotate a GnuPG key and gpg merges the
  update (new subkey, old one expiring) and encrypts to the new subkey; we rotate an
  OpenPGP.js v6 key and OpenPGP.js picks the new subkey.
* The other way: GnuPG rotates its own key (--quick-add-key, --quick-set-expire on
  the old subkey) and we pick the new subkey from the newest binding.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from gpg import gpg_home
from peers import node_request, require_peer

import e2ee_mail
from e2ee_mail.openpgp import keygen, keygen_v4
from e2ee_mail.openpgp.certs import OpenPGPCertificate, OpenPGPSecretKey
from e2ee_mail.openpgp.rotate import add_encryption_subkey, earliest_time

pytestmark = pytest.mark.interop
UID = "Alice <alice@example.org>"
BODY = b"rotated interop body \x00\xff" * 50
# Everything in the past: peers ignore signatures made in the future.
T_KEY = int(time.time()) - 86_400
T_ROTATE = T_KEY + 82_800


def _rotated(version: int, kind: str) -> tuple[OpenPGPSecretKey, OpenPGPSecretKey]:
    if version == 6:
        old = keygen.generate_v6(UID, kind=kind, now=T_KEY)
    else:
        old = keygen_v4.generate_v4(UID, kind=kind, now=T_KEY)
    return old, add_encryption_subkey(old, created=T_ROTATE)


def _pkesk_ids(message: bytes) -> list[str]:
    return [r.id for r in e2ee_mail.inspect(message).recipients]


@pytest.mark.parametrize("kind", ["x25519", "rsa3072"])
def test_openpgpjs_reads_the_rotated_v6_certificate_and_encrypts_to_the_new_subkey(
    tmp_path: Path, kind: str
) -> None:
    old, new = _rotated(6, kind)
    old_sub, new_sub = (s.fingerprint.hex().upper() for s in new.public.subkeys)
    cert = tmp_path / "alice.asc"
    cert.write_bytes(new.public.export())

    node_request(
        "rotated.mjs", tmp_path, cert=str(cert), output=str(tmp_path / "v.json")
    )
    seen = json.loads((tmp_path / "v.json").read_text())
    assert seen["fingerprint"] == old.fingerprint == new.fingerprint
    assert seen["version"] == 6
    assert seen["encryptionKey"] == new_sub
    assert seen["subkeys"] == [
        {"fingerprint": old_sub, "expires": T_ROTATE, "valid": False},
        {"fingerprint": new_sub, "expires": None, "valid": True},
    ]

    plain = tmp_path / "plain"
    plain.write_bytes(BODY)
    sealed = tmp_path / "sealed.pgp"
    node_request(
        "pgp.mjs",
        tmp_path,
        op="encrypt",
        certs=[str(cert)],
        input=str(plain),
        output=str(sealed),
        aead="default",
    )
    message = sealed.read_bytes()
    assert _pkesk_ids(message) == [new_sub]
    assert e2ee_mail.decrypt(message, new) == BODY
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(message, old)


def test_openpgpjs_decrypts_with_the_rotated_v6_secret_key(tmp_path: Path) -> None:
    _, new = _rotated(6, "x25519")
    key = tmp_path / "alice.key"
    key.write_bytes(new.export(passphrase=b"rotation pass"))
    sealed = tmp_path / "to-new.pgp"
    sealed.write_bytes(bytes(e2ee_mail.encrypt(BODY, [new.public])))
    assert _pkesk_ids(sealed.read_bytes()) == [
        new.public.subkeys[-1].fingerprint.hex().upper()
    ]
    out = tmp_path / "out"
    node_request(
        "pgp.mjs",
        tmp_path,
        op="decrypt",
        keys=[str(key)],
        passphrase="rotation pass",
        input=str(sealed),
        output=str(out),
    )
    assert out.read_bytes() == BODY


def _colon_subkeys(listing: str) -> list[tuple[str, str, str]]:
    """(validity, key ID, expiry) of each "sub" line of ``gpg --with-colons``."""
    return [
        (f[1], f[4], f[6])
        for f in (line.split(":") for line in listing.splitlines())
        if f[0] == "sub"
    ]


@pytest.mark.parametrize("kind", ["x25519", "rsa3072"])
def test_gnupg_imports_the_rotated_v4_certificate_and_encrypts_to_the_new_subkey(
    kind: str,
) -> None:
    require_peer("gpg")
    old, new = _rotated(4, kind)
    old_sub, new_sub = (s.key_id.hex().upper() for s in new.public.subkeys)
    with gpg_home() as home:
        home.import_keys(new.public.export())
        assert home.fingerprints(new.fingerprint) == [new.fingerprint]
        listing = home.run(["--with-colons", "--list-keys"]).stdout.decode()
        assert _colon_subkeys(listing) == [
            ("e", old_sub, str(T_ROTATE)),  # expired, by our re-issued binding
            ("-", new_sub, ""),
        ]
        message = home.encrypt(BODY, [new.fingerprint])
    assert _pkesk_ids(message) == [new_sub]
    assert e2ee_mail.decrypt(message, new) == BODY
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(message, old)


def test_gnupg_decrypts_with_the_rotated_v4_secret_key() -> None:
    require_peer("gpg")
    old, new = _rotated(4, "x25519")
    to_old = bytes(e2ee_mail.encrypt(b"before", [old.public]))
    to_new = bytes(e2ee_mail.encrypt(b"after", [new.public]))
    with gpg_home() as home:
        home.import_keys(new.export(passphrase=b"rotation pass"))
        assert home.decrypt(to_new, passphrase="rotation pass") == b"after"
        # The expired subkey's secret travels too: gpg opens old mail with it.
        assert home.decrypt(to_old, passphrase="rotation pass") == b"before"


def _wait_until(when: int) -> None:
    # Peers refuse keys and signatures from the future: rotate no earlier than the
    # clock allows for a key made a moment ago.
    while time.time() < when:
        time.sleep(0.05)


def test_we_rotate_a_gnupg_key_and_gnupg_takes_the_update() -> None:
    require_peer("gpg")
    with gpg_home() as home:
        fpr = home.generate("Bob <bob@example.org>", "cv25519", passphrase="pw")
        key = e2ee_mail.load_key(home.export_secret(fpr, passphrase="pw"), b"pw")
        assert isinstance(key, OpenPGPSecretKey)
        _wait_until(earliest_time(key))
        new = add_encryption_subkey(key)
        created = new.public.subkeys[-1].packet.created
        old_sub, new_sub = (s.key_id.hex().upper() for s in new.public.subkeys)
        # Publishing the update: gpg merges the new subkey and the new binding.
        home.import_keys(new.public.export())
        listing = home.run(["--with-colons", "--list-keys", fpr]).stdout.decode()
        subs = _colon_subkeys(listing)
        assert [(k, e) for _, k, e in subs] == [(old_sub, str(created)), (new_sub, "")]
        message = home.encrypt(BODY, [fpr])
    assert new.fingerprint == fpr
    assert _pkesk_ids(message) == [new_sub]
    assert e2ee_mail.decrypt(message, new) == BODY


def test_we_rotate_an_openpgpjs_key_and_openpgpjs_encrypts_to_the_new_subkey(
    tmp_path: Path,
) -> None:
    node_request(
        "pgp.mjs",
        tmp_path,
        op="generate",
        name="Carol",
        email="carol@example.org",
        output=str(tmp_path / "carol"),
    )
    key = e2ee_mail.load_key((tmp_path / "carol.key").read_bytes(), None)
    assert isinstance(key, OpenPGPSecretKey)
    _wait_until(earliest_time(key))
    new = add_encryption_subkey(key)
    new_sub = new.public.subkeys[-1].fingerprint.hex().upper()
    cert = tmp_path / "carol-rotated.asc"
    cert.write_bytes(new.public.export())
    node_request(
        "rotated.mjs", tmp_path, cert=str(cert), output=str(tmp_path / "v.json")
    )
    seen = json.loads((tmp_path / "v.json").read_text())
    assert seen["fingerprint"] == key.fingerprint
    assert seen["encryptionKey"] == new_sub
    assert [s["valid"] for s in seen["subkeys"]] == [False, True]
    plain = tmp_path / "plain"
    plain.write_bytes(BODY)
    sealed = tmp_path / "sealed.pgp"
    node_request(
        "pgp.mjs",
        tmp_path,
        op="encrypt",
        certs=[str(cert)],
        input=str(plain),
        output=str(sealed),
        aead="default",
    )
    # A key OpenPGP.js made itself gets SEIPDv1 with a PKESK v3 (key ID) by default.
    added = new.public.subkeys[-1]
    names = {new_sub, added.key_id.hex().upper()}
    ids = _pkesk_ids(sealed.read_bytes())
    assert len(ids) == 1 and ids[0] in names
    assert e2ee_mail.decrypt(sealed.read_bytes(), new) == BODY


def test_we_follow_gnupgs_own_subkey_rotation() -> None:
    require_peer("gpg")
    with gpg_home() as home:
        fpr = home.generate("Dan <dan@example.org>", "cv25519")
        (old_sub,) = home.subkey_fingerprints(fpr)
        time.sleep(1.1)  # the new subkey must be strictly newer
        home.run(["--quick-add-key", fpr, "cv25519", "encr", "never"])
        home.run(["--quick-set-expire", fpr, "seconds=1", old_sub])
        time.sleep(2.1)
        _, new_sub = home.subkey_fingerprints(fpr)
        cert = e2ee_mail.load_certificate(home.export_public(fpr))
        assert isinstance(cert, OpenPGPCertificate)
        old_info = cert.subkeys[0]
        assert old_info.fingerprint.hex().upper() == old_sub
        assert old_info.expires is not None and old_info.expires <= time.time()
        assert [k.fingerprint.hex().upper() for k in cert.encryption_keys()] == [
            new_sub
        ]
        message = bytes(e2ee_mail.encrypt(BODY, [cert]))
        assert _pkesk_ids(message) == [new_sub[-16:]]
        assert home.decrypt(message) == BODY
