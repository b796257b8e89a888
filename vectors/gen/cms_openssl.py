"""Generate e2ee_mail/vectors/data/cms/openssl.json with the real ``openssl`` (3.0
when this was run).

    .venv/bin/python vectors/gen/cms_openssl.py [OUT]

The RSA recipient (a self-signed RSA-3072 certificate) and every RSA message are made
by openssl itself in a temporary directory: AES-256-GCM with RSA PKCS#1 v1.5, OAEP
SHA-1 and OAEP SHA-256 key transport, DER, PEM and streamed BER, legacy AES-CBC, and
AES-128-GCM (which we refuse). One message made by e2ee_mail is included only after
``openssl cms -decrypt`` gave back its plaintext. The X25519 recipient (an X25519
certificate issued by an Ed25519 key, both made by openssl) gets messages from
e2ee_mail with pinned content key, nonce and ephemeral key, which OpenSSL 3.0 cannot
open (it has no X25519 KeyAgreeRecipientInfo): those are our own, flagged so.
Re-running replaces keys and messages but keeps the case numbering. Test keys only.
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

from e2ee_mail.cms import build, envelope  # noqa: E402
from e2ee_mail.policy import DEFAULT  # noqa: E402
from e2ee_mail.x509 import certs as x509  # noqa: E402

PLAINTEXT = b"CMS vector plaintext\r\nsecond line\n" * 3


def _openssl(*args: str, data: bytes | None = None) -> bytes:
    proc = subprocess.run(
        ["openssl", *args], input=data, capture_output=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"openssl {' '.join(args)} failed: {proc.stderr.decode()}")
    return proc.stdout


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        plain = tmp / "plain"
        plain.write_bytes(PLAINTEXT)
        # RSA-3072 recipient, self-signed, with an email SAN (openssl req).
        for name in ("rsa", "other"):
            _openssl(
                "req",
                "-x509",
                "-newkey",
                "rsa:3072",
                "-nodes",
                "-days",
                "3650",
                "-subj",
                f"/CN=Vector {name}/emailAddress={name}@example.org",
                "-addext",
                f"subjectAltName=email:{name}@example.org",
                "-addext",
                "keyUsage=critical,keyEncipherment",
                "-keyout",
                str(tmp / f"{name}.key"),
                "-out",
                str(tmp / f"{name}.pem"),
            )
        # X25519 recipient: key and certificate issued by an Ed25519 key.
        _openssl("genpkey", "-algorithm", "ed25519", "-out", str(tmp / "ca.key"))
        _openssl(
            "req",
            "-x509",
            "-new",
            "-key",
            str(tmp / "ca.key"),
            "-days",
            "3650",
            "-subj",
            "/CN=Vector X25519 issuer",
            "-out",
            str(tmp / "ca.pem"),
        )
        _openssl("genpkey", "-algorithm", "x25519", "-out", str(tmp / "x.key"))
        _openssl(
            "pkey", "-in", str(tmp / "x.key"), "-pubout", "-out", str(tmp / "x.pub")
        )
        ext = tmp / "ext.cnf"
        ext.write_text(
            "subjectAltName=email:x@example.org\nkeyUsage=critical,keyAgreement\n"
            "subjectKeyIdentifier=hash\n"
        )
        _openssl(
            "x509",
            "-new",
            "-subj",
            "/CN=Vector x/emailAddress=x@example.org",
            "-force_pubkey",
            str(tmp / "x.pub"),
            "-CA",
            str(tmp / "ca.pem"),
            "-CAkey",
            str(tmp / "ca.key"),
            "-days",
            "3650",
            "-extfile",
            str(ext),
            "-out",
            str(tmp / "x.pem"),
        )

        def enc(*opts: str, cert: str = "rsa") -> bytes:
            return _openssl(
                "cms",
                "-encrypt",
                "-binary",
                "-in",
                str(plain),
                "-recip",
                str(tmp / f"{cert}.pem"),
                *opts,
            )

        gcm = ("-aes-256-gcm", "-outform", "DER")
        pkcs1 = enc(*gcm)
        oaep1 = enc(*gcm, "-keyopt", "rsa_padding_mode:oaep")
        oaep256 = enc(
            *gcm, "-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256"
        )
        streamed = enc("-aes-256-gcm", "-stream", "-outform", "DER")
        pem = enc("-aes-256-gcm", "-outform", "PEM")
        cbc256 = enc("-aes-256-cbc", "-outform", "DER")
        cbc128 = enc("-aes-128-cbc", "-outform", "DER")
        gcm128 = enc("-aes-128-gcm", "-outform", "DER")
        to_other = enc(*gcm, cert="other")
        tampered = pkcs1[:-1] + bytes([pkcs1[-1] ^ 1])

        rsa_cert = x509.load_certificate((tmp / "rsa.pem").read_bytes())
        ours = bytes(envelope.encrypt(PLAINTEXT, [rsa_cert], policy=DEFAULT))
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
            str(tmp / "rsa.pem"),
            "-inkey",
            str(tmp / "rsa.key"),
        )
        if confirmed != PLAINTEXT:
            raise SystemExit("openssl did not confirm our RSA message")

        x_cert = x509.load_certificate((tmp / "x.pem").read_bytes())
        pinned = bytes(
            build.encrypt_bytes_from_parts(
                PLAINTEXT,
                [x_cert],
                cek=bytes(range(32)),
                nonce=bytes(range(12)),
                ephemeral_secrets=[bytes(range(32, 64))],
                policy=DEFAULT,
            )
        )
        rsa_pem = (tmp / "rsa.pem").read_text()
        rsa_key = (tmp / "rsa.key").read_text()
        x_pem = (tmp / "x.pem").read_text()
        x_key = (tmp / "x.key").read_text()
        version = _openssl("version").decode().strip()

    hexed = PLAINTEXT.hex()

    def case(
        id_: int,
        comment: str,
        flags: list[str],
        op: str,
        message: bytes | str,
        **rest: object,
    ) -> dict[str, object]:
        inputs: dict[str, object] = {"op": op}
        if isinstance(message, str):
            inputs["message"] = message
        else:
            inputs["message_b64"] = _b64(message)
        entry: dict[str, object] = {"id": id_, "comment": comment, "flags": flags}
        entry["result"] = rest.pop("result", "valid")
        entry["inputs"] = inputs
        entry.update(rest)
        if entry["result"] != "invalid" and "expected" not in entry:
            entry["expected"] = {"plaintext": hexed}
        return entry

    doc = {
        "schema": "cms-openssl.json",
        "kind": "cms-openssl",
        "description": (
            "CMS AuthEnvelopedData / EnvelopedData made by openssl cms (or made by "
            "e2ee_mail and confirmed by openssl cms -decrypt), opened through "
            "e2ee_mail.cms.envelope. Generated by vectors/gen/cms_openssl.py. "
            "Keys are test-only."
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
            "OurOwn": "Made by e2ee_mail with pinned CEK, nonce and ephemeral key; "
            "OpenSSL 3.0 cannot open X25519 KeyAgreeRecipientInfo, so no "
            "independent tool confirmed it.",
            "Legacy": "Unauthenticated EnvelopedData (AES-CBC): opens only under "
            "LEGACY_DECRYPT.",
            "Tampered": "One byte of the message changed after encryption.",
            "Truncated": "The message cut short.",
            "WrongRecipient": "Encrypted to a different certificate.",
            "Unsupported": "Well formed, but an algorithm we refuse.",
        },
        "groups": [
            {
                "comment": "RSA-3072 recipient (openssl req -x509)",
                "certificate": rsa_pem,
                "key": rsa_key,
                "cases": [
                    case(
                        1,
                        "AES-256-GCM, RSA PKCS#1 v1.5 (openssl's default)",
                        ["OpensslMade"],
                        "decrypt",
                        pkcs1,
                    ),
                    case(
                        2,
                        "AES-256-GCM, RSA-OAEP SHA-1",
                        ["OpensslMade"],
                        "decrypt",
                        oaep1,
                    ),
                    case(
                        3,
                        "AES-256-GCM, RSA-OAEP SHA-256",
                        ["OpensslMade"],
                        "decrypt",
                        oaep256,
                    ),
                    case(
                        4,
                        "-stream: BER, indefinite lengths, segmented content",
                        ["OpensslMade"],
                        "decrypt_stream",
                        streamed,
                    ),
                    case(
                        5,
                        "PEM (-----BEGIN CMS-----)",
                        ["OpensslMade"],
                        "decrypt",
                        pem.decode("ascii"),
                    ),
                    case(
                        6,
                        "legacy AES-256-CBC EnvelopedData",
                        ["OpensslMade", "Legacy"],
                        "decrypt",
                        cbc256,
                        result="acceptable",
                        preset="LEGACY_DECRYPT",
                    ),
                    case(
                        7,
                        "legacy AES-128-CBC EnvelopedData",
                        ["OpensslMade", "Legacy"],
                        "decrypt",
                        cbc128,
                        result="acceptable",
                        preset="LEGACY_DECRYPT",
                    ),
                    case(
                        8,
                        "last byte of the mac flipped",
                        ["OpensslMade", "Tampered"],
                        "decrypt",
                        tampered,
                        result="invalid",
                        error="DecryptionError",
                    ),
                    case(
                        9,
                        "cut in the middle",
                        ["OpensslMade", "Truncated"],
                        "decrypt",
                        pkcs1[: len(pkcs1) // 2],
                        result="invalid",
                        error="FormatError",
                    ),
                    case(
                        10,
                        "inspect names the algorithms",
                        ["OpensslMade"],
                        "inspect",
                        oaep256,
                        expected={
                            "content_algorithm": "aes-256-gcm",
                            "recipient_algorithms": ["rsaes-oaep-sha256"],
                        },
                    ),
                    case(
                        11,
                        "made by e2ee_mail (RSA-OAEP SHA-256)",
                        ["OpensslConfirmed"],
                        "decrypt",
                        ours,
                    ),
                    case(
                        12,
                        "encrypted to another certificate",
                        ["OpensslMade", "WrongRecipient"],
                        "decrypt",
                        to_other,
                        result="invalid",
                        error="NoMatchingKeyError",
                    ),
                    case(
                        13,
                        "AES-128-GCM (openssl cms -aes-128-gcm): opens; we write "
                        "AES-256-GCM only",
                        ["OpensslMade"],
                        "decrypt",
                        gcm128,
                    ),
                ],
            },
            {
                "comment": "X25519 recipient issued by an Ed25519 key (openssl)",
                "certificate": x_pem,
                "key": x_key,
                "cases": [
                    case(
                        20,
                        "RFC 8418 KARI, X9.63-SHA256 KDF, aes256-wrap",
                        ["OurOwn"],
                        "decrypt",
                        pinned,
                    ),
                    case(
                        21,
                        "the same, through the stream API",
                        ["OurOwn"],
                        "decrypt_stream",
                        pinned,
                    ),
                    case(
                        22,
                        "inspect",
                        ["OurOwn"],
                        "inspect",
                        pinned,
                        expected={
                            "content_algorithm": "aes-256-gcm",
                            "recipient_algorithms": ["x25519-x963-sha256+aes256-wrap"],
                        },
                    ),
                ],
            },
        ],
    }
    out.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main(
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else ROOT / "e2ee_mail" / "vectors" / "data" / "cms" / "openssl.json"
    )
