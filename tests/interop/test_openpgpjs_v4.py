"""Our OpenPGP v4 keys and SEIPDv1 messages with OpenPGP.js v6 (tests/interop/node/
pgp.mjs), as a second independent peer besides GnuPG.

OpenPGP.js checks our v4 self-signatures when it reads our keys; it encrypts to our v4
certificates (SEIPDv1, since they do not advertise SEIPDv2) and we decrypt; we encrypt
and it decrypts with our v4 secret key, unprotected and passphrase-protected (S2K usage
254, iterated+salted SHA2-256, AES-256).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from peers import openpgpjs

import e2ee_mail

pytestmark = pytest.mark.interop
BODY = b"v4 interop body \x00\xff" * 200


@pytest.fixture(scope="module", params=["x25519", "rsa3072"])
def ours(request: pytest.FixtureRequest) -> e2ee_mail.SecretKey:
    kind = request.param
    return e2ee_mail.generate_key(
        f"V4 {kind} <v4-{kind}@example.org>", kind=kind, profile="rfc4880"
    )


def test_openpgpjs_reads_our_v4_key(tmp_path: Path, ours: e2ee_mail.SecretKey) -> None:
    (tmp_path / "k.pub").write_bytes(ours.public.export())
    (tmp_path / "k.key").write_bytes(ours.export())
    for path, secret in (("k.pub", False), ("k.key", True)):
        openpgpjs(
            tmp_path,
            op="inspect-key",
            key=str(tmp_path / path),
            secret=secret,
            output=str(tmp_path / "info.json"),
        )
        info = json.loads((tmp_path / "info.json").read_text())
        assert info["version"] == 4
        assert info["fingerprint"] == ours.fingerprint
        enc = ours.public.encryption_keys()[0].fingerprint.hex().upper()
        assert info["encryptionKey"] == enc


@pytest.mark.parametrize("armor", [True, False])
def test_openpgpjs_encrypts_to_our_v4_key(
    tmp_path: Path, ours: e2ee_mail.SecretKey, armor: bool
) -> None:
    (tmp_path / "k.pub").write_bytes(ours.public.export())
    (tmp_path / "plain").write_bytes(BODY)
    openpgpjs(
        tmp_path,
        op="encrypt",
        certs=[str(tmp_path / "k.pub")],
        input=str(tmp_path / "plain"),
        output=str(tmp_path / "sealed"),
        armor=armor,
        aead="default",
    )
    sealed = (tmp_path / "sealed").read_bytes()
    assert e2ee_mail.inspect(sealed).content_algorithm == "seipdv1-cfb-mdc"
    assert e2ee_mail.decrypt(sealed, ours) == BODY


@pytest.mark.parametrize("passphrase", [None, "js pass"])
def test_openpgpjs_decrypts_our_seipdv1_message(
    tmp_path: Path, ours: e2ee_mail.SecretKey, passphrase: str | None
) -> None:
    secret = ours.export(passphrase=passphrase.encode() if passphrase else None)
    (tmp_path / "k.key").write_bytes(secret)
    (tmp_path / "sealed").write_bytes(
        e2ee_mail.encrypt(BODY, [ours.public], armor=True)
    )
    request: dict[str, object] = {
        "op": "decrypt",
        "keys": [str(tmp_path / "k.key")],
        "input": str(tmp_path / "sealed"),
        "output": str(tmp_path / "plain"),
    }
    if passphrase:
        request["passphrase"] = passphrase
    openpgpjs(tmp_path, **request)
    assert (tmp_path / "plain").read_bytes() == BODY


def test_openpgpjs_decrypts_seipdv1_to_our_v6_key(tmp_path: Path) -> None:
    # RFC 9580 allows X25519 (algorithm 25) in a v3 PKESK before SEIPDv1, with the
    # cipher octet in the clear (§5.1.6): the rfc4880 profile writes exactly that.
    key = e2ee_mail.generate_key("Six <six@example.org>")
    (tmp_path / "k.key").write_bytes(key.export())
    sealed = e2ee_mail.encrypt(BODY, [key.public], policy=e2ee_mail.policy.RFC4880)
    assert e2ee_mail.inspect(sealed).recipients[0].type == "PKESKv3"
    (tmp_path / "sealed").write_bytes(sealed)
    openpgpjs(
        tmp_path,
        op="decrypt",
        keys=[str(tmp_path / "k.key")],
        input=str(tmp_path / "sealed"),
        output=str(tmp_path / "plain"),
    )
    assert (tmp_path / "plain").read_bytes() == BODY
