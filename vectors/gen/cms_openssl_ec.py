"""Generate e2ee_mail/vectors/data/cms/openssl-ec.json with the real ``openssl`` (3.0
when this was run): CMS ECDH key agreement (RFC 5753) over P-256, P-384 and P-521.

    .venv/bin/python vectors/gen/cms_openssl_ec.py [OUT]

For each curve openssl makes a key and a self-signed certificate with keyUsage
keyAgreement, then messages to it: AES-256-GCM with its default scheme (the X9.63 KDF
with SHA-1), with the SHA-2 KDF matching the curve as a BER stream, with cofactor ECDH,
AES-128 key wrap and a subjectKeyIdentifier recipient, and legacy AES-256-CBC. One
message made by e2ee_mail per curve is included only after ``openssl cms -decrypt``
gave back its plaintext. Invalid cases: the ephemeral point with a bit flipped (off
the curve) and, on P-256, a message to another certificate. Re-running replaces keys
and messages but keeps the case numbering. Test keys only.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from e2ee_mail.cms import derframe, envelope  # noqa: E402
from e2ee_mail.cms.structures import KeyAgreeRecipientInfo  # noqa: E402
from e2ee_mail.policy import DEFAULT  # noqa: E402
from e2ee_mail.x509 import certs as x509  # noqa: E402

PLAINTEXT = b"CMS ECDH vector plaintext\r\nsecond line\n" * 3
#: Short name -> (OpenSSL's curve name, the SHA-2 KDF hash of RFC 5753 §8, the
#: group's first case number).
CURVES = {
    "p256": ("P-256", "sha256", 1),
    "p384": ("P-384", "sha384", 20),
    "p521": ("P-521", "sha512", 40),
}


def _openssl(*args: str) -> bytes:
    proc = subprocess.run(["openssl", *args], capture_output=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"openssl {' '.join(args)} failed: {proc.stderr.decode()}")
    return proc.stdout


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _flip_point(message: bytes) -> bytes:
    """``message`` with the last bit of its ephemeral point flipped: y changes, x
    does not, so the point leaves the curve."""
    framed = derframe.parse(message, DEFAULT)
    assert framed is not None
    (info,) = framed[0].recipient_infos
    assert isinstance(info, KeyAgreeRecipientInfo)
    point = info.originator_public_key
    at = message.index(point) + len(point) - 1
    return message[:at] + bytes((message[at] ^ 1,)) + message[at + 1 :]


def _make_key(tmp: Path, name: str, curve: str) -> None:
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        f"ec_paramgen_curve:{curve}",
        "-nodes",
        "-days",
        "3650",
        "-subj",
        f"/CN=Vector {name}/emailAddress={name}@example.org",
        "-addext",
        f"subjectAltName=email:{name}@example.org",
        "-addext",
        "keyUsage=critical,keyAgreement",
        "-keyout",
        str(tmp / f"{name}.key"),
        "-out",
        str(tmp / f"{name}.pem"),
    )


def main(out: Path) -> None:
    hexed = PLAINTEXT.hex()

    def case(
        id_: int,
        comment: str,
        flags: list[str],
        op: str,
        message: bytes,
        **rest: object,
    ) -> dict[str, object]:
        entry: dict[str, object] = {"id": id_, "comment": comment, "flags": flags}
        entry["result"] = rest.pop("result", "valid")
        entry["inputs"] = {"op": op, "message_b64": _b64(message)}
        entry.update(rest)
        if entry["result"] != "invalid" and "expected" not in entry:
            entry["expected"] = {"plaintext": hexed}
        return entry

    groups = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        plain = tmp / "plain"
        plain.write_bytes(PLAINTEXT)
        _make_key(tmp, "other", "P-256")
        for short, (curve, md, first) in CURVES.items():
            _make_key(tmp, short, curve)

            def enc(
                *opts: str, keyopts: tuple[str, ...] = (), cert: str = short
            ) -> bytes:
                return _openssl(
                    "cms",
                    "-encrypt",
                    "-binary",
                    "-in",
                    str(plain),
                    "-outform",
                    "DER",
                    *opts,
                    "-recip",
                    str(tmp / f"{cert}.pem"),
                    *(a for k in keyopts for a in ("-keyopt", k)),
                )

            default = enc("-aes-256-gcm")
            sha2 = enc("-aes-256-gcm", "-stream", keyopts=(f"ecdh_kdf_md:{md}",))
            cofactor = enc(
                "-aes-256-gcm",
                "-aes128-wrap",
                "-keyid",
                keyopts=("ecdh_cofactor_mode:1", f"ecdh_kdf_md:{md}"),
            )
            cbc = enc("-aes-256-cbc")
            cert = x509.load_certificate((tmp / f"{short}.pem").read_bytes())
            ours = bytes(envelope.encrypt(PLAINTEXT, [cert], policy=DEFAULT))
            (tmp / "ours.der").write_bytes(ours)
            confirmed = _openssl(
                "cms",
                "-decrypt",
                "-binary",
                "-inform",
                "DER",
                "-in",
                str(tmp / "ours.der"),
                "-recip",
                str(tmp / f"{short}.pem"),
                "-inkey",
                str(tmp / f"{short}.key"),
            )
            if confirmed != PLAINTEXT:
                raise SystemExit(f"openssl did not confirm our {curve} message")
            cases = [
                case(
                    first,
                    f"AES-256-GCM, ECDH {curve}, X9.63 KDF with SHA-1, aes256-wrap "
                    "(openssl's default)",
                    ["OpensslMade"],
                    "decrypt",
                    default,
                ),
                case(
                    first + 1,
                    f"-stream (BER), X9.63 KDF with {md.upper()}",
                    ["OpensslMade"],
                    "decrypt_stream",
                    sha2,
                ),
                case(
                    first + 2,
                    f"cofactor ECDH, {md.upper()} KDF, aes128-wrap, recipient by "
                    "subjectKeyIdentifier",
                    ["OpensslMade"],
                    "decrypt",
                    cofactor,
                ),
                case(
                    first + 3,
                    "legacy AES-256-CBC EnvelopedData",
                    ["OpensslMade", "Legacy"],
                    "decrypt",
                    cbc,
                    result="acceptable",
                    preset="LEGACY_DECRYPT",
                ),
                case(
                    first + 4,
                    "inspect names the curve, the KDF and the key wrap",
                    ["OpensslMade"],
                    "inspect",
                    cofactor,
                    expected={
                        "content_algorithm": "aes-256-gcm",
                        "recipient_algorithms": [
                            f"ecdh-{short}-cofactor-x963-{md}+aes128-wrap"
                        ],
                    },
                ),
                case(
                    first + 5,
                    f"made by e2ee_mail (X9.63 KDF with {md.upper()}, aes256-wrap)",
                    ["OpensslConfirmed"],
                    "decrypt",
                    ours,
                ),
                case(
                    first + 6,
                    "the ephemeral point's last bit flipped: off the curve",
                    ["OpensslMade", "Tampered"],
                    "decrypt",
                    _flip_point(default),
                    result="invalid",
                    error="FormatError",
                ),
            ]
            if short == "p256":
                cases.append(
                    case(
                        first + 7,
                        "encrypted to another certificate",
                        ["OpensslMade", "WrongRecipient"],
                        "decrypt",
                        enc("-aes-256-gcm", cert="other"),
                        result="invalid",
                        error="NoMatchingKeyError",
                    )
                )
            groups.append(
                {
                    "comment": f"{curve} recipient (openssl req -x509 -newkey ec)",
                    "certificate": (tmp / f"{short}.pem").read_text(),
                    "key": (tmp / f"{short}.key").read_text(),
                    "cases": cases,
                }
            )
        version = _openssl("version").decode().strip()

    doc = {
        "schema": "cms-openssl.json",
        "kind": "cms-openssl",
        "description": (
            "CMS ECDH KeyAgreeRecipientInfo (RFC 5753) over P-256, P-384 and P-521: "
            "messages made by openssl cms (or made by e2ee_mail and confirmed by "
            "openssl cms -decrypt), opened through e2ee_mail.cms.envelope. Generated "
            "by vectors/gen/cms_openssl_ec.py. Keys are test-only."
        ),
        "source": {
            "name": "openssl cms (generated)",
            "url": "https://docs.openssl.org/3.0/man1/openssl-cms/",
            "revision": version,
            "confirmed_by": [version],
        },
        "notes": {
            "OpensslMade": "The message was made by openssl cms -encrypt.",
            "OpensslConfirmed": "Made by e2ee_mail; openssl cms -decrypt gave back "
            "the plaintext when the file was generated.",
            "Legacy": "Unauthenticated EnvelopedData (AES-CBC): opens only under "
            "LEGACY_DECRYPT.",
            "Tampered": "One bit of the message changed after encryption.",
            "WrongRecipient": "Encrypted to a different certificate.",
        },
        "groups": groups,
    }
    out.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main(
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else ROOT / "e2ee_mail" / "vectors" / "data" / "cms" / "openssl-ec.json"
    )
