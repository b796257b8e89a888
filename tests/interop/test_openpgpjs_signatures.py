"""Signatures with OpenPGP.js v6 (tests/interop/node/sign.mjs), both directions.

* OpenPGP.js signs with a key it generated (v6, Ed25519 signing subkey): inline,
  detached, and encrypted to our v6 certificate → we verify "good";
* we sign with our v6 and v4 keys (inline, detached, and sign-then-encrypt to the
  OpenPGP.js key) → OpenPGP.js reports the signature valid.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpgp_signers import signer
from peers import node_request

import e2ee_mail
from e2ee_mail.openpgp import signing, verifying
from e2ee_mail.openpgp.certs import OpenPGPCertificate
from e2ee_mail.policy import DEFAULT

pytestmark = pytest.mark.interop
BODY = b"OpenPGP.js signs \x00\xff\r\n" * 100


@pytest.fixture(scope="module")
def js_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, OpenPGPCertificate]:
    tmp = tmp_path_factory.mktemp("js")
    node_request(
        "pgp.mjs",
        tmp,
        op="generate",
        name="Js",
        email="js@example.org",
        output=str(tmp / "js"),
    )
    cert = e2ee_mail.load_certificate((tmp / "js.pub").read_bytes())
    assert isinstance(cert, OpenPGPCertificate)
    return tmp / "js", cert


def _sign(tmp_path: Path, key: Path, *, detached: bool, armor: bool) -> bytes:
    (tmp_path / "in").write_bytes(BODY)
    node_request(
        "sign.mjs",
        tmp_path,
        op="sign",
        key=f"{key}.key",
        input=str(tmp_path / "in"),
        output=str(tmp_path / "out"),
        detached=detached,
        armor=armor,
    )
    return (tmp_path / "out").read_bytes()


def _verdict(tmp_path: Path, **request: object) -> tuple[bytes, list[bool]]:
    node_request("sign.mjs", tmp_path, output=str(tmp_path / "verdict.json"), **request)
    found = json.loads((tmp_path / "verdict.json").read_text())
    return bytes.fromhex(found["data"]), [s["valid"] for s in found["signatures"]]


@pytest.mark.parametrize("armor", [True, False])
def test_openpgpjs_signs_inline_we_verify(
    tmp_path: Path, js_key: tuple[Path, OpenPGPCertificate], armor: bool
) -> None:
    key, cert = js_key
    content, results = verifying.verify_inline(
        _sign(tmp_path, key, detached=False, armor=armor), [cert], policy=DEFAULT
    )
    assert content == BODY
    assert [r.status for r in results] == ["good"]


def test_openpgpjs_signs_detached_we_verify(
    tmp_path: Path, js_key: tuple[Path, OpenPGPCertificate]
) -> None:
    key, cert = js_key
    sig = _sign(tmp_path, key, detached=True, armor=True)
    (result,) = verifying.verify_detached(BODY, sig, [cert], policy=DEFAULT)
    assert result.good


def test_openpgpjs_encrypts_and_signs_we_verify(
    tmp_path: Path, js_key: tuple[Path, OpenPGPCertificate]
) -> None:
    key, cert = js_key
    ours = signer("v6")
    (tmp_path / "ours.pub").write_bytes(ours.public.export())
    (tmp_path / "in").write_bytes(BODY)
    node_request(
        "sign.mjs",
        tmp_path,
        op="encrypt-sign",
        key=f"{key}.key",
        cert=str(tmp_path / "ours.pub"),
        input=str(tmp_path / "in"),
        output=str(tmp_path / "sealed"),
    )
    plain, results = verifying.decrypt_verified(
        (tmp_path / "sealed").read_bytes(), [ours], [cert], policy=DEFAULT
    )
    assert plain == BODY
    assert [r.status for r in results] == ["good"]


@pytest.mark.parametrize("kind", ["v6", "v4"])
def test_we_sign_inline_openpgpjs_verifies(tmp_path: Path, kind: str) -> None:
    ours = signer(kind)
    (tmp_path / "ours.pub").write_bytes(ours.public.export())
    (tmp_path / "signed").write_bytes(signing.sign_inline(BODY, ours))
    data, valid = _verdict(
        tmp_path,
        op="verify",
        cert=str(tmp_path / "ours.pub"),
        input=str(tmp_path / "signed"),
    )
    assert data == BODY and valid == [True]


@pytest.mark.parametrize("kind", ["v6", "v4"])
def test_we_sign_detached_openpgpjs_verifies(tmp_path: Path, kind: str) -> None:
    ours = signer(kind)
    (tmp_path / "ours.pub").write_bytes(ours.public.export())
    (tmp_path / "body").write_bytes(BODY)
    (tmp_path / "body.sig").write_bytes(signing.sign_detached(BODY, ours))
    _, valid = _verdict(
        tmp_path,
        op="verify",
        cert=str(tmp_path / "ours.pub"),
        input=str(tmp_path / "body"),
        signature=str(tmp_path / "body.sig"),
    )
    assert valid == [True]


def test_we_encrypt_and_sign_openpgpjs_verifies(
    tmp_path: Path, js_key: tuple[Path, OpenPGPCertificate]
) -> None:
    key, cert = js_key
    ours = signer("v6")
    (tmp_path / "ours.pub").write_bytes(ours.public.export())
    sealed = signing.encrypt_signed(BODY, [cert], ours, armor=False, policy=DEFAULT)
    (tmp_path / "sealed").write_bytes(sealed)
    data, valid = _verdict(
        tmp_path,
        op="decrypt-verify",
        key=f"{key}.key",
        cert=str(tmp_path / "ours.pub"),
        input=str(tmp_path / "sealed"),
    )
    assert data == BODY and valid == [True]
