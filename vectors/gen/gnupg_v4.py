"""Generate e2ee_mail/vectors/data/openpgp/gnupg-v4.json with the real GnuPG (2.2 when
this was run).

    .venv/bin/python vectors/gen/gnupg_v4.py [OUT]

Every key and message in the file is made by gpg in a temporary GNUPGHOME (nothing in
it comes from e2ee_mail): a cv25519 key (Ed25519 primary, passphrase-protected export)
and an RSA-3072 key (unprotected export), messages with gpg's default compression,
without compression, ZLIB and BZip2, armored and binary, an SED message (--rfc2440)
and a damaged message. Then gpg itself decrypts every "valid" message again, so the
file is confirmed by gpg, and the RFC 9580 A.12 SEIPDv1 packets (published) are added.
Re-running replaces the keys and messages but keeps the case numbering.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "interop"))

from gpg import GpgHome, gpg_home  # noqa: E402

PLAINTEXT = b"Hello from GnuPG\r\nline two\n" * 4
PASSPHRASE = "vector passphrase"
# RFC 9580 A.12 (published): SEIPDv1 packets and the session keys in their comments.
A12 = [
    (
        7,
        "01FE16BBACFD1E7B78EF3B865187374F",
        "019818a63e609cf8bba17e0c394304eaf9351417b7f28921fe26e263a52b20bfbaa2dba672c9"
        "64c9d3ab7a3bf46c414dd21d3b38475df037a6a578993cc5",
    ),
    (
        8,
        "27006DAE68E509022CE45A14E569E91001C2955AF8DFE194",
        "01d2754b0e7a3d16222998c2bc783ed9b9ead36b37dc0249a3205ec4123840a0131519327b3d"
        "a095d265751cac2d583beccc307e09769ff779ef659c8803",
    ),
    (
        9,
        "BBEDA55B9AAE63DAC45D4F49D89DACF4AF37FEFC13BAB2F1F8E18FB74580D8B0",
        "01f8abb5b204dd268f3b5f55abba9ee5d30272a5996cdb553077aee6f64a05eb479e7c7fcaf7"
        "90f5bac9625ce126f1ac90250999ae37fa2babfd3d6c2a31",
    ),
]


def _version() -> str:
    out = subprocess.run(["gpg", "--version"], capture_output=True, check=True)
    return out.stdout.decode().splitlines()[0]


def _key_group(
    home: GpgHome, kind: str, uid: str, passphrase: str
) -> dict[str, object]:
    fpr = home.generate(uid, kind, passphrase=passphrase)
    sub = home.subkey_fingerprints(fpr)[0]
    cert = home.export_public(fpr).decode()
    key = home.export_secret(fpr, passphrase=passphrase).decode()
    return {"fpr": fpr, "sub": sub, "certificate": cert, "key": key}


def main(out: Path) -> None:
    cases: list[dict[str, object]] = []
    groups: list[dict[str, object]] = []
    next_id = 1

    def case(comment: str, flags: list[str], inputs: dict[str, object], **kw: object):
        nonlocal next_id
        item: dict[str, object] = {
            "id": next_id,
            "comment": comment,
            "flags": flags,
            "result": kw.pop("result", "valid"),
            "inputs": inputs,
        }
        item.update(kw)
        next_id += 1
        cases.append(item)

    with gpg_home() as home:
        for kind, uid, pw in (
            ("cv25519", "Vector Alice <alice@example.org>", PASSPHRASE),
            ("rsa3072", "Vector Bob <bob@example.org>", ""),
        ):
            info = _key_group(home, kind, uid, pw)
            expected = {"fingerprint": info["fpr"], "encryption_key": info["sub"]}
            cases = []
            case(
                f"gpg {kind} certificate",
                [],
                {"op": "load_certificate"},
                expected=expected,
            )
            case(
                f"gpg {kind} secret key export",
                ["protected"] if pw else [],
                {"op": "load_key"},
                expected=expected,
            )
            if pw:
                case(
                    "wrong passphrase",
                    ["protected"],
                    {"op": "load_key", "passphrase": "not the passphrase"},
                    result="invalid",
                    error="PassphraseError",
                )
            variants = [
                (
                    "default settings (ZIP compression), armored",
                    [],
                    True,
                    ["compressed"],
                ),
                (
                    "--compress-algo none, binary",
                    ["--compress-algo", "none"],
                    False,
                    [],
                ),
                (
                    "--compress-algo zlib, binary",
                    ["--compress-algo", "zlib"],
                    False,
                    ["compressed"],
                ),
                (
                    "--compress-algo bzip2, armored",
                    ["--compress-algo", "bzip2"],
                    True,
                    ["compressed"],
                ),
            ]
            for comment, extra, armor, flags in variants:
                msg = home.encrypt(
                    PLAINTEXT, [str(info["fpr"])], armor=armor, extra=extra
                )
                assert home.decrypt(msg, passphrase=pw) == PLAINTEXT  # confirmed
                inputs: dict[str, object] = {"op": "decrypt"}
                if armor:
                    inputs["message"] = msg.decode()
                else:
                    inputs["message_b64"] = base64.b64encode(msg).decode()
                case(
                    f"gpg message: {comment}",
                    flags,
                    inputs,
                    expected={"plaintext": PLAINTEXT.hex()},
                )
            sed = home.encrypt(PLAINTEXT, [str(info["fpr"])], extra=["--rfc2440"])
            case(
                "gpg --rfc2440: Symmetrically Encrypted Data without MDC",
                ["sed"],
                {"op": "decrypt", "message_b64": base64.b64encode(sed).decode()},
                result="invalid",
                error="PolicyError",
            )
            damaged = bytearray(
                home.encrypt(
                    PLAINTEXT, [str(info["fpr"])], extra=["--compress-algo", "none"]
                )
            )
            damaged[-5] ^= 0x01  # inside the encrypted MDC
            case(
                "gpg message with one bit flipped in the MDC",
                ["tampered"],
                {"op": "decrypt", "message_b64": base64.b64encode(damaged).decode()},
                result="invalid",
                error="DecryptionError",
            )
            group: dict[str, object] = {
                "comment": f"GnuPG {kind} key {info['fpr']}",
                "certificate": info["certificate"],
                "key": info["key"],
                "cases": cases,
            }
            if pw:
                group["passphrase"] = pw
            groups.append(group)
    cases = []
    for cipher, key, body_hex in A12:
        body = bytes.fromhex(body_hex)
        packet = (bytes((0xD2, len(body))) + body).hex()  # SEIPD, one-octet length
        case(
            f"RFC 9580 A.12 SEIPDv1 (cipher {cipher}) with its published session key",
            ["published"],
            {
                "op": "open_seipd_v1",
                "seipd": packet,
                "cipher": cipher,
                "session_key": key.lower(),
            },
            expected={"plaintext": b"Hello, world!".hex()},
        )
    groups.append({"comment": "RFC 9580 Appendix A.12 (published)", "cases": cases})
    doc = {
        "schema": "openpgp-gnupg.json",
        "kind": "openpgp-gnupg",
        "description": "OpenPGP v4 keys and messages made by GnuPG (v3 PKESK with ECDH "
        "Curve25519Legacy or RSA, SEIPDv1, compressed or not), opened by e2ee_mail; "
        "and the RFC 9580 A.12 SEIPDv1 packets.",
        "source": {
            "name": f"generated by vectors/gen/gnupg_v4.py with {_version()}; "
            "RFC 9580 Appendix A.12",
            "url": "https://www.rfc-editor.org/rfc/rfc9580#appendix-A.12",
            "confirmed_by": [_version()],
        },
        "notes": {
            "protected": "the secret key export is passphrase-protected by gpg "
            "(S2K usage 254, iterated+salted S2K)",
            "compressed": "gpg put a Compressed Data packet inside the SEIPDv1 packet",
            "sed": "Symmetrically Encrypted Data (tag 9) has no integrity protection: "
            "always refused",
            "tampered": "one bit flipped in the encrypted MDC: the MDC check fails",
            "published": "published RFC 9580 sample, not generated",
        },
        "groups": groups,
    }
    out.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else ROOT / "e2ee_mail" / "vectors" / "data" / "openpgp" / "gnupg-v4.json"
    )
