"""`e2ee-mail keyring rotate|list|export` for an OpenPGP identity: the standard
subkey rotation, seen from the command line."""

from __future__ import annotations

import time
from pathlib import Path

from clirun import ok

import e2ee_mail
from e2ee_mail.keys.ring import Keyring
from e2ee_mail.openpgp.certs import OpenPGPCertificate

ALICE = "alice@example.org"


def test_rotate_keeps_the_fingerprint_and_export_publishes_the_new_subkey(
    tmp_path: Path,
) -> None:
    ring = str(tmp_path / "ring")
    ok("keyring", "--dir", ring, "rotate", ALICE, "--format", "openpgp")
    before = tmp_path / "before.asc"
    ok("keyring", "--dir", ring, "export", ALICE, "-o", str(before))
    ok("keyring", "--dir", ring, "rotate", ALICE)
    listing = ok("keyring", "--dir", ring, "list", ALICE).splitlines()
    assert len(listing) == 2
    fingerprints = {line.split()[5] for line in listing}
    subkeys = [line.split("subkey ")[1] for line in listing]
    assert len(fingerprints) == 1 and len(set(subkeys)) == 2

    after = tmp_path / "after.asc"
    ok("keyring", "--dir", ring, "export", ALICE, "-o", str(after))
    old_cert = e2ee_mail.load_certificate(before)
    new_cert = e2ee_mail.load_certificate(after)
    assert isinstance(new_cert, OpenPGPCertificate)
    assert new_cert.fingerprint == old_cert.fingerprint == fingerprints.pop()
    # The old and new encryption subkeys, and the new signing subkey.
    old_sub, new_sub, signing_sub = new_cert.subkeys
    assert old_sub.expires is not None and new_sub.expires is None
    assert signing_sub.flags == 0x02 and signing_sub.expires is None
    # A rotation within the second of the previous one dates the new subkey one
    # second later (a signature must be newer than the last); the old subkey expires
    # then, so ask about a moment after both rotations.
    later = int(time.time()) + 2
    usable = new_cert.encryption_keys(now=later)
    assert [k.fingerprint.hex().upper() for k in usable] == [subkeys[1]]
    ids = {
        r.id for r in e2ee_mail.inspect(e2ee_mail.encrypt(b"x", new_cert)).recipients
    }
    assert ids == {subkeys[1]}


def test_each_openpgp_rotation_prints_its_new_subkey(tmp_path: Path) -> None:
    ring = str(tmp_path / "ring")
    printed = [
        ok("keyring", "--dir", ring, "rotate", ALICE, "--format", "openpgp")
        for _ in range(3)
    ]
    history = Keyring.open(ring).history(ALICE)
    # One primary fingerprint throughout: the subkey is what each rotation made.
    assert len({v.fingerprint for v in history}) == 1
    for line, version in zip(printed, history, strict=True):
        assert line.split()[4] == version.fingerprint
        assert line.rstrip().endswith(f"subkey {version.subkey}")
    assert len({v.subkey for v in history}) == 3
