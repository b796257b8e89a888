"""A keyring rotation's new signing subkey is accepted by peers: GnuPG 2.2 checks
a signature by a rotated v4 key (EdDSALegacy subkey with its back-signature) and
OpenPGP.js v6 one by a rotated v6 key (Ed25519 subkey), each given the
certificate ``keyring export`` writes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from gpg import gpg_home
from peers import node_request, require_peer

import e2ee_mail
from e2ee_mail.keys.ring import Keyring
from e2ee_mail.openpgp import keygen, keygen_v4

pytestmark = pytest.mark.interop

ALICE = "alice@example.org"
BODY = b"signed by the rotated signing subkey\n" * 10


def _rotated(tmp_path: Path, profile: str) -> Keyring:
    # Made two days ago and rotated yesterday: the new subkey exists well before
    # the signature made now.
    made = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    generate = keygen.generate_v6 if profile == "rfc9580" else keygen_v4.generate_v4
    key = generate(f"Alice <{ALICE}>", kind="x25519", now=int(made.timestamp()))
    ring = Keyring.open(tmp_path / "ring")
    ring.add(ALICE, key, created=made)
    v = ring.rotate(ALICE, now=made + dt.timedelta(days=1))
    assert v.signing is not None and v.signing[0] != v.fingerprint
    return ring


def test_gpg_verifies_a_rotated_v4_signing_subkey(tmp_path: Path) -> None:
    require_peer("gpg")
    ring = _rotated(tmp_path, "rfc4880")
    (signer,) = ring.signing_keys(ALICE)
    sig = e2ee_mail.sign(BODY, signer, format="openpgp", detached=True, armor=True)
    (cert,) = ring.recipients(ALICE)
    (tmp_path / "body").write_bytes(BODY)
    (tmp_path / "body.sig").write_bytes(sig)
    with gpg_home() as home:
        home.import_keys(cert.export())
        proc = home.run(
            [
                "--status-fd",
                "1",
                "--verify",
                str(tmp_path / "body.sig"),
                str(tmp_path / "body"),
            ]
        )
    status = proc.stdout.decode()
    assert "[GNUPG:] GOODSIG" in status
    (version,) = ring.history(ALICE)[-1:]
    assert version.signing is not None
    # VALIDSIG names the signing subkey first, then the primary key.
    assert f"VALIDSIG {version.signing[0][:40]}" in status


def test_openpgpjs_verifies_a_rotated_v6_signing_subkey(tmp_path: Path) -> None:
    require_peer("openpgp.js")
    ring = _rotated(tmp_path, "rfc9580")
    (signer,) = ring.signing_keys(ALICE)
    (cert,) = ring.recipients(ALICE)
    (tmp_path / "body").write_bytes(BODY)
    (tmp_path / "body.sig").write_bytes(
        e2ee_mail.sign(BODY, signer, format="openpgp", detached=True, armor=True)
    )
    (tmp_path / "alice.pub").write_bytes(cert.export())
    node_request(
        "sign.mjs",
        tmp_path,
        op="verify",
        cert=str(tmp_path / "alice.pub"),
        input=str(tmp_path / "body"),
        signature=str(tmp_path / "body.sig"),
        output=str(tmp_path / "verdict.json"),
    )
    verdict = json.loads((tmp_path / "verdict.json").read_text())
    assert [s["valid"] for s in verdict["signatures"]] == [True]
    version = ring.history(ALICE)[-1]
    assert version.signing is not None
    # OpenPGP.js names the key that signed by its key ID: the new subkey's.
    assert verdict["signatures"][0]["keyID"].upper() == version.signing[0][:16]
