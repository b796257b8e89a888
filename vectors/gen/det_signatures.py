# ruff: noqa: E501  (the case tables and descriptions read best one per line)
"""Generate our own deterministic signature vectors:
e2ee_mail/vectors/data/openpgp/deterministic-signatures.json and
e2ee_mail/vectors/data/cms/deterministic-signatures.json.

    .venv/bin/python vectors/gen/det_signatures.py [OUT_DIR]

Ed25519 signatures are deterministic (RFC 8032), so a fixed key, message and
creation time (and, for OpenPGP v6, salt) give known bytes: OpenPGP v6 Ed25519
(salted, RFC 9580) and v4 EdDSALegacy signatures by the TEST-ONLY keys
pgp6-x25519 and pgp4-cv25519, and CMS SignedData by cms-ed25519 (RFC 8419) with a
fixed signing-time. Salts come from _det.pinned; running this twice gives the
same files. When the peers are installed, every valid OpenPGP signature is
checked by them before anything is written: ``gpg --verify`` (v4) and OpenPGP.js
(v6, ``tests/interop/node/sign.mjs``). No peer here checks the CMS ones: OpenSSL
3.0 neither makes nor verifies Ed25519 SignedData with signed attributes.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _det import ROOT, VECTORS, b64, key_path, pinned, plaintext, write

from e2ee_mail.cms import pem
from e2ee_mail.cms import signing as cms_signing
from e2ee_mail.openpgp import certs, signing
from e2ee_mail.x509 import certs as x509

#: The creation / signing time of every signature (after the keys were made).
CREATED = 1796601600  # 2026-12-07T00:00:00Z
SIGNING_TIME = datetime.datetime.fromtimestamp(CREATED, datetime.UTC)
PGP_KEYS = {6: "pgp6-x25519", 4: "pgp4-cv25519"}
CMS_KEY = "cms-ed25519"
CONFIRMED: list[str] = []


def _flip(data: bytes, pos: int) -> bytes:
    return data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1 :]


def _signature_input(sig: bytes, armor: bool) -> dict[str, str]:
    if armor:
        return {"signature": sig.decode("ascii")}
    return {"signature_b64": b64(sig)}


def _verify_only(
    inputs: dict[str, Any], signing_only: tuple[str, ...], **changes: Any
) -> dict[str, Any]:
    """A valid case's inputs made a verify-only case: without what only signing
    needs, with ``changes`` applied."""
    keep = {k: v for k, v in inputs.items() if k not in signing_only}
    keep.update(op="verify", **changes)
    return keep


def _invalid_cases(
    rows: list[tuple[int, str, list[str], dict[str, Any]]],
) -> list[dict[str, Any]]:
    """The cases that must fail with SignatureError, from (id, comment, flags,
    inputs) rows."""
    return [
        {
            "id": i,
            "comment": c,
            "flags": f,
            "result": "invalid",
            "inputs": inputs,
            "error": "SignatureError",
        }
        for i, c, f, inputs in rows
    ]


def _run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(cmd, capture_output=True, check=False, **kw)


def _confirm_openpgp(version: int, data: bytes, sig: bytes, inline: bool) -> None:
    """Have a peer verify a valid signature: gpg (v4) or sqop (v6)."""
    cert = key_path(f"{PGP_KEYS[version]}.pub.asc")
    with tempfile.TemporaryDirectory() as tmp:
        sig_file = Path(tmp, "sig")
        data_file = Path(tmp, "data")
        sig_file.write_bytes(sig)
        data_file.write_bytes(data)
        if version == 4:
            if shutil.which("gpg") is None:
                return
            env = dict(os.environ, GNUPGHOME=tmp)
            _run(["gpg", "--batch", "--import", str(cert)], env=env)
            cmd = ["gpg", "--batch", "--status-fd", "1", "--verify", str(sig_file)]
            if not inline:
                cmd.append(str(data_file))
            done = _run(cmd, env=env)
            assert b"[GNUPG:] GOODSIG" in done.stdout, done.stderr
            tool = "GnuPG 2.2 gpg --verify (v4)"
        else:
            node_dir = ROOT / "tests" / "interop" / "node"
            if shutil.which("node") is None or not (node_dir / "node_modules").exists():
                return
            request = {"op": "verify", "cert": str(cert), "output": str(Path(tmp, "v"))}
            if inline:
                request["input"] = str(sig_file)
            else:
                request.update(input=str(data_file), signature=str(sig_file))
            Path(tmp, "req.json").write_text(json.dumps(request))
            done = _run(["node", "sign.mjs", str(Path(tmp, "req.json"))], cwd=node_dir)
            assert done.returncode == 0, done.stderr
            verdict = json.loads(Path(tmp, "v").read_text())
            assert [v["valid"] for v in verdict["signatures"]] == [True], verdict
            assert bytes.fromhex(verdict["data"]) == data
            tool = "OpenPGP.js 6.3.2 verify (v6, tests/interop/node/sign.mjs)"
    if tool not in CONFIRMED:
        CONFIRMED.append(tool)


def _pgp_case(
    cid: int, version: int, *, inline: bool, text: bool, armor: bool, size: int
) -> tuple[dict[str, Any], bytes, bytes]:
    label = f"openpgp/deterministic-signatures#{cid}"
    data = plaintext(label, size)
    stem = PGP_KEYS[version]
    key = certs.load_key(key_path(f"{stem}.sec.asc").read_bytes(), None)
    salt = pinned(label + "/salt", 32) if version == 6 else None
    make = signing.sign_inline if inline else signing.sign_detached
    sig = make(data, key, text=text, armor=armor, now=CREATED, _salt=salt)
    _confirm_openpgp(version, data, sig, inline)
    inputs: dict[str, Any] = {
        "op": "sign",
        "key": f"../keys/{stem}.sec.asc",
        "cert": f"../keys/{stem}.pub.asc",
        "form": "inline" if inline else "detached",
        "text": text,
        "armor": armor,
        "created": CREATED,
    }
    if salt is not None:
        inputs["salt"] = salt.hex()
    inputs["data"] = data.hex()
    inputs.update(_signature_input(sig, armor))
    return inputs, sig, data


def openpgp(out: Path) -> None:
    fingerprints = {
        v: certs.load_certificate(key_path(f"{s}.pub.asc").read_bytes()).fingerprint
        for v, s in PGP_KEYS.items()
    }
    valid: list[dict[str, Any]] = []
    made: dict[int, tuple[dict[str, Any], bytes, bytes]] = {}
    shapes = [
        ("detached binary signature, binary output", False, False, False, 100),
        ("detached text signature (CR LF lines), armored", False, True, True, 300),
        ("inline-signed message, binary", True, False, False, 64),
        ("inline-signed message, armored, empty content", True, False, True, 0),
    ]
    cid = 0
    for version in (6, 4):
        flag = "V6Ed25519" if version == 6 else "V4EdDSALegacy"
        for comment, inline, text, armor, size in shapes:
            cid += 1
            made[cid] = _pgp_case(
                cid, version, inline=inline, text=text, armor=armor, size=size
            )
            flags = [flag, "Inline" if inline else "Detached"]
            flags += ["Text"] if text else []
            flags += ["Armored"] if armor else []
            valid.append(
                {
                    "id": cid,
                    "comment": f"v{version}: {comment}",
                    "flags": flags,
                    "result": "valid",
                    "inputs": made[cid][0],
                    "expected": {"fingerprint": fingerprints[version]},
                }
            )

    def verify_only(inputs: dict[str, Any], **changes: Any) -> dict[str, Any]:
        return _verify_only(inputs, ("key", "salt", "created"), **changes)

    v6_detached, _, v6_data = made[1]
    v4_detached, _, v4_data = made[5]
    _, v4_inline_sig, _ = made[7]
    invalid = [
        (
            9,
            "v6 detached signature over data with one octet changed",
            ["V6Ed25519", "Detached", "Altered"],
            verify_only(v6_detached, data=_flip(v6_data, 10).hex()),
        ),
        (
            10,
            "v4 detached signature over data with one octet changed",
            ["V4EdDSALegacy", "Detached", "Altered"],
            verify_only(v4_detached, data=_flip(v4_data, 0).hex()),
        ),
        (
            11,
            "v4 inline-signed message with the last octet of the signature changed",
            ["V4EdDSALegacy", "Inline", "Altered"],
            verify_only(
                made[7][0],
                signature_b64=b64(_flip(v4_inline_sig, len(v4_inline_sig) - 1)),
            ),
        ),
        (
            12,
            "v6 detached signature checked against the v4 certificate",
            ["V6Ed25519", "Detached", "WrongCert"],
            verify_only(v6_detached, cert=f"../keys/{PGP_KEYS[4]}.pub.asc"),
        ),
    ]
    bad = _invalid_cases(invalid)
    write(
        out,
        {
            "schema": "openpgp-signatures-deterministic.json",
            "kind": "openpgp-signatures-deterministic",
            "description": "Our own OpenPGP Ed25519 signatures by the TEST-ONLY keys in ../keys/, made at a fixed creation time (and, for v6, with a pinned salt): every case must verify (or, when invalid, fail with SignatureError) through the public e2ee_mail.verify, and op sign also signs the data again through openpgp.signing.sign_detached / sign_inline with the recorded time and salt and compares the bytes.",
            "source": {
                "name": "generated by vectors/gen/det_signatures.py",
                "url": "https://www.rfc-editor.org/rfc/rfc9580#section-5.2",
                "confirmed_by": list(CONFIRMED),
            },
            "notes": {
                "V6Ed25519": "A v6 signature by an Ed25519 key (algorithm 27, RFC 9580 §5.2.3), SHA-512 with a 32-octet salt (input salt).",
                "V4EdDSALegacy": "A v4 signature by an EdDSALegacy key (algorithm 22, Ed25519 over the SHA-512 digest, r and s as MPIs).",
                "Detached": "A detached signature (a Signature packet alone) over input data.",
                "Inline": "An inline-signed message (One-Pass Signature, Literal Data, Signature; RFC 9580 §10.3); input data is its content.",
                "Text": "A text signature (type 0x01) over CR LF line endings.",
                "Armored": "The signature or message is ASCII-armored (input signature); else binary (signature_b64).",
                "Altered": "One octet of the data or of the signature changed after signing.",
                "WrongCert": "Checked against a certificate that did not make the signature.",
            },
            "groups": [
                {
                    "comment": "made with a fixed time and salt: verify, then sign again and compare",
                    "cases": valid,
                },
                {
                    "comment": "altered signatures and a wrong certificate: no good signature",
                    "cases": bad,
                },
            ],
        },
    )


def _cms_case(
    cid: int, *, detached: bool, armor: bool, size: int
) -> tuple[dict[str, Any], bytes, bytes]:
    data = plaintext(f"cms/deterministic-signatures#{cid}", size)
    key = x509.load_key(key_path(f"{CMS_KEY}.key.pem").read_bytes(), None)
    builder = cms_signing.SignedDataBuilder(
        [key], signing_time=SIGNING_TIME, now=CREATED
    )
    builder.update(data)
    sig = builder.finish(econtent=None if detached else data)
    if armor:
        sig = bytes(pem.armor(sig))
    inputs: dict[str, Any] = {
        "op": "sign",
        "key": f"../keys/{CMS_KEY}.key.pem",
        "cert": f"../keys/{CMS_KEY}.crt.pem",
        "detached": detached,
        "armor": armor,
        "signing_time": SIGNING_TIME.isoformat(),
        "data": data.hex(),
    }
    inputs.update(_signature_input(sig, armor))
    return inputs, sig, data


def cms(out: Path) -> None:
    fingerprint = x509.load_certificate(
        key_path(f"{CMS_KEY}.crt.pem").read_bytes()
    ).fingerprint
    shapes = [
        (1, "detached SignedData (eContent absent), DER", True, False, 100),
        (2, "SignedData with the content inside, DER", False, False, 200),
        (3, "SignedData with the content inside, PEM", False, True, 64),
        (4, "detached SignedData over 4 KiB, PEM", True, True, 4096),
    ]
    made = {}
    valid = []
    for cid, comment, detached, armor, size in shapes:
        made[cid] = _cms_case(cid, detached=detached, armor=armor, size=size)
        flags = [
            "Ed25519",
            "Detached" if detached else "Attached",
            "Pem" if armor else "Der",
        ]
        valid.append(
            {
                "id": cid,
                "comment": comment,
                "flags": flags,
                "result": "valid",
                "inputs": made[cid][0],
                "expected": {"fingerprint": fingerprint},
            }
        )

    def verify_only(inputs: dict[str, Any], **changes: Any) -> dict[str, Any]:
        return _verify_only(inputs, ("key", "signing_time"), **changes)

    detached_inputs, _, detached_data = made[1]
    attached_inputs, attached_sig, _ = made[2]
    invalid = [
        (
            5,
            "detached SignedData over content with one octet changed",
            ["Ed25519", "Detached", "Altered"],
            verify_only(detached_inputs, data=_flip(detached_data, 5).hex()),
        ),
        (
            6,
            "the last octet of the signature value changed",
            ["Ed25519", "Attached", "Altered"],
            verify_only(
                attached_inputs,
                signature_b64=b64(_flip(attached_sig, len(attached_sig) - 1)),
            ),
        ),
        (
            7,
            "checked against another certificate",
            ["Ed25519", "Detached", "WrongCert"],
            verify_only(detached_inputs, cert="../keys/cms-rsa3072.crt.pem"),
        ),
    ]
    bad = _invalid_cases(invalid)
    write(
        out,
        {
            "schema": "cms-signatures-deterministic.json",
            "kind": "cms-signatures-deterministic",
            "description": "Our own CMS SignedData by the TEST-ONLY Ed25519 key ../keys/cms-ed25519 (RFC 8419: id-Ed25519, digest SHA-512), with the signed attributes content-type, signing-time (fixed), message-digest and smimeCapabilities: every case must verify (or, when invalid, fail with SignatureError) through the public e2ee_mail.verify, and op sign also signs the data again through cms.signing.SignedDataBuilder with the recorded signing-time and compares the bytes.",
            "source": {
                "name": "generated by vectors/gen/det_signatures.py",
                "url": "https://www.rfc-editor.org/rfc/rfc8419",
                "confirmed_by": [],
            },
            "notes": {
                "Ed25519": "SignerInfo with signatureAlgorithm id-Ed25519 and digestAlgorithm SHA-512 (RFC 8419 §3), signed attributes present.",
                "Detached": "eContent absent: input data is the content beside the signature.",
                "Attached": "The content inside the SignedData.",
                "Der": "DER (signature_b64).",
                "Pem": "PEM, -----BEGIN CMS----- (signature).",
                "Altered": "One octet of the content or of the signature changed after signing.",
                "WrongCert": "Checked against a certificate that did not make the signature.",
            },
            "groups": [
                {
                    "comment": "made with a fixed signing-time: verify, then sign again and compare",
                    "cases": valid,
                },
                {
                    "comment": "altered signatures and a wrong certificate: no good signature",
                    "cases": bad,
                },
            ],
        },
    )


def main(out_dir: Path) -> None:
    openpgp(out_dir / "openpgp" / "deterministic-signatures.json")
    cms(out_dir / "cms" / "deterministic-signatures.json")
    print("confirmed by:", CONFIRMED)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else VECTORS)
