"""Independent confirmation of our own deterministic vectors (vectors/README.md).

- cms/deterministic.json: ``openssl cms -decrypt`` opens every message with an
  RSA recipient (OAEP, PKCS#1 v1.5, legacy CBC, mixed with X25519) and gives the
  expected plaintext. OpenSSL 3.0 has no X25519 KeyAgreeRecipientInfo, so the
  X25519-only cases are not independently confirmed (said in the README).
- mime/smime.json: ``openssl cms -decrypt -inform SMIME`` opens every mail
  with an RSA recipient and gives the inner entity we decrypt.
- openpgp/deterministic-v6.json and mime/pgpmime.json: OpenPGP.js 6
  decrypts every valid message (and the OpenPGP part of every mail).
- openpgp/deterministic-v4.json: GnuPG 2.2 decrypts every valid message.
- openpgp/deterministic-signatures.json: GnuPG 2.2 verifies every valid v4
  signature, OpenPGP.js 6 every valid v6 one. The CMS signature vectors are not
  independently confirmed: OpenSSL 3.0 does not check Ed25519 SignedData.
"""

from __future__ import annotations

import base64
import json
import subprocess
from email import policy as email_policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from gpg import gpg_home
from peers import node_request, openpgpjs, require_peer

from e2ee_mail.cms import envelope
from e2ee_mail.openpgp import certs, message
from e2ee_mail.policy import DEFAULT, LEGACY_DECRYPT
from e2ee_mail.x509 import certs as x509

pytestmark = pytest.mark.interop
VECTORS = Path(__file__).resolve().parents[2] / "e2ee_mail" / "vectors" / "data"


def _cases(rel: str) -> list[dict[str, Any]]:
    doc = json.loads((VECTORS / rel).read_text(encoding="utf-8"))
    return [
        c
        for g in doc["groups"]
        for c in g["cases"]
        if c["result"] in ("valid", "acceptable")
    ]


def _message(case: dict[str, Any]) -> bytes:
    inputs = case["inputs"]
    if "message" in inputs:
        return str(inputs["message"]).encode("ascii")
    return base64.b64decode(inputs["message_b64"])


def _rsa_key(case: dict[str, Any], directory: str) -> str | None:
    for key in case["inputs"]["keys"]:
        if "rsa" in key and key.endswith(".key.pem"):
            return str((VECTORS / directory / key).resolve())
    return None


CMS_RSA = [c for c in _cases("cms/deterministic.json") if _rsa_key(c, "cms")]
SMIME_RSA = [c for c in _cases("mime/smime.json") if _rsa_key(c, "mime")]


def _openssl_decrypt(tmp_path: Path, data: bytes, inform: str, key: str) -> bytes:
    openssl = require_peer("openssl")
    src = tmp_path / "msg"
    src.write_bytes(data)
    cert = key.replace(".key.pem", ".crt.pem")
    proc = subprocess.run(
        [
            openssl,
            "cms",
            "-decrypt",
            "-binary",
            "-inform",
            inform,
            "-in",
            str(src),
            "-recip",
            cert,
            "-inkey",
            key,
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


@pytest.mark.parametrize("case", CMS_RSA, ids=lambda c: f"cms#{c['id']}")
def test_openssl_opens_deterministic_cms_rsa_case(
    case: dict[str, Any], tmp_path: Path
) -> None:
    data = _message(case)
    inform = "PEM" if data.startswith(b"-----BEGIN") else "DER"
    key = _rsa_key(case, "cms")
    assert key is not None
    got = _openssl_decrypt(tmp_path, data, inform, key)
    assert got.hex() == case["expected"]["plaintext"]


@pytest.mark.parametrize("case", SMIME_RSA, ids=lambda c: f"smime#{c['id']}")
def test_openssl_opens_deterministic_smime_rsa_mail(
    case: dict[str, Any], tmp_path: Path
) -> None:
    data = _message(case)
    key = _rsa_key(case, "mime")
    assert key is not None
    got = _openssl_decrypt(tmp_path, data, "SMIME", key)
    mail = BytesParser(policy=email_policy.default).parsebytes(data)
    body = base64.b64decode(str(mail.get_payload()))
    ours = envelope.decrypt(
        body, [x509.load_key(Path(key).read_bytes(), None)], policy=DEFAULT
    )
    assert got == bytes(ours)
    assert b"Subject: " in got


def _node_decrypt(
    tmp_path: Path, data: bytes, key_files: list[str], passphrase: str | None = None
) -> bytes:
    src, out = tmp_path / "in", tmp_path / "out"
    src.write_bytes(data)
    options = {} if passphrase is None else {"passphrase": passphrase}
    openpgpjs(
        tmp_path,
        op="decrypt",
        keys=key_files,
        input=str(src),
        output=str(out),
        **options,
    )
    return out.read_bytes()


V6 = _cases("openpgp/deterministic-v6.json")


@pytest.mark.parametrize("case", V6, ids=lambda c: f"v6#{c['id']}")
def test_openpgpjs_opens_deterministic_v6_case(
    case: dict[str, Any], tmp_path: Path
) -> None:
    for key in case["inputs"]["keys"]:
        path = str((VECTORS / "openpgp" / key).resolve())
        got = _node_decrypt(
            tmp_path, _message(case), [path], case["inputs"].get("passphrase")
        )
        assert got.hex() == case["expected"]["plaintext"], key


@pytest.mark.parametrize(
    "case", _cases("mime/pgpmime.json"), ids=lambda c: f"pgpmime#{c['id']}"
)
def test_openpgpjs_opens_deterministic_pgpmime_mail(
    case: dict[str, Any], tmp_path: Path
) -> None:
    mail = BytesParser(policy=email_policy.default).parsebytes(_message(case))
    parts = mail.get_payload()
    assert isinstance(parts, list)
    data_part = parts[1]
    assert not isinstance(data_part, str)
    armored = data_part.get_payload(decode=True)
    assert isinstance(armored, bytes)
    for key in case["inputs"]["keys"]:
        path = VECTORS / "mime" / key
        got = _node_decrypt(tmp_path, armored, [str(path.resolve())])
        ours = message.decrypt(
            armored, [certs.load_key(path.read_bytes(), None)], policy=DEFAULT
        )
        assert got == bytes(ours)
        assert b"Subject: " in got


def test_gpg_opens_every_deterministic_v4_case() -> None:
    require_peer("gpg")
    cases = _cases("openpgp/deterministic-v4.json")
    assert len(cases) >= 7
    with gpg_home() as home:
        for stem in ("pgp4-cv25519", "pgp4-rsa3072"):
            home.import_keys((VECTORS / "keys" / f"{stem}.sec.asc").read_bytes())
        for case in cases:
            got = home.decrypt(_message(case))
            assert got.hex() == case["expected"]["plaintext"], case["id"]


def test_legacy_cases_need_the_legacy_preset() -> None:
    # The acceptable CBC cases that openssl opened above must stay closed by default.
    legacy = [c for c in CMS_RSA if c["result"] == "acceptable"]
    assert legacy
    for case in legacy:
        key = x509.load_key(Path(str(_rsa_key(case, "cms"))).read_bytes(), None)
        plain = envelope.decrypt(_message(case), [key], policy=LEGACY_DECRYPT)
        assert plain.hex() == case["expected"]["plaintext"]


def _signature_cases(version: str) -> list[dict[str, Any]]:
    return [
        c
        for c in _cases("openpgp/deterministic-signatures.json")
        if f"V{version}" in c["flags"][0]
    ]


def _signature(case: dict[str, Any]) -> bytes:
    inputs = case["inputs"]
    if "signature" in inputs:
        return str(inputs["signature"]).encode("ascii")
    return base64.b64decode(inputs["signature_b64"])


def test_gpg_verifies_every_deterministic_v4_signature(tmp_path: Path) -> None:
    require_peer("gpg")
    cases = _signature_cases("4")
    assert cases
    with gpg_home() as home:
        home.import_keys((VECTORS / "keys" / "pgp4-cv25519.pub.asc").read_bytes())
        for case in cases:
            sig = tmp_path / f"{case['id']}.sig"
            data = tmp_path / f"{case['id']}.data"
            sig.write_bytes(_signature(case))
            data.write_bytes(bytes.fromhex(case["inputs"]["data"]))
            args = ["--status-fd", "1", "--verify", str(sig)]
            if case["inputs"]["form"] == "detached":
                args.append(str(data))
            out = home.run(args).stdout.decode()
            assert "[GNUPG:] GOODSIG" in out, case["id"]


@pytest.mark.parametrize("case", _signature_cases("6"), ids=lambda c: str(c["id"]))
def test_openpgpjs_verifies_deterministic_v6_signature(
    tmp_path: Path, case: dict[str, Any]
) -> None:
    data = bytes.fromhex(case["inputs"]["data"])
    (tmp_path / "sig").write_bytes(_signature(case))
    (tmp_path / "data").write_bytes(data)
    request: dict[str, str] = {
        "op": "verify",
        "cert": str(VECTORS / "keys" / "pgp6-x25519.pub.asc"),
        "output": str(tmp_path / "verdict.json"),
    }
    if case["inputs"]["form"] == "inline":
        request["input"] = str(tmp_path / "sig")
    else:
        request.update(input=str(tmp_path / "data"), signature=str(tmp_path / "sig"))
    node_request("sign.mjs", tmp_path, **request)
    verdict = json.loads((tmp_path / "verdict.json").read_text())
    assert [s["valid"] for s in verdict["signatures"]] == [True]
    assert bytes.fromhex(verdict["data"]) == data
