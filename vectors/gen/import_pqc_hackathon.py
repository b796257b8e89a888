"""Write e2ee_mail/vectors/data/cms/pqc-hackathon.json: ML-KEM CMS messages made by
other implementations (data only; run by hand).

Usage: python vectors/gen/import_pqc_hackathon.py PQC_CERTIFICATES_CHECKOUT

PQC_CERTIFICATES_CHECKOUT is a checkout of
https://github.com/IETF-Hackathon/pqc-certificates, where implementers publish the
artifacts of the IETF hackathon's CMS interoperability rounds. From each provider's
providers/NAME/artifacts_cms_v3.zip the ML-KEM-768 and ML-KEM-1024 files are taken:
the recipient's certificate (``*_ee.der``), its private key (``*_priv.der``,
``*_expandedkey_priv.der``) and the KEMRecipientInfo messages (``*_kemri*.der``),
AuthEnvelopedData (AES-256-GCM) or EnvelopedData (AES-256-CBC, opened only under
LEGACY_DECRYPT); the plaintext is the provider's expected_plaintext.txt. The key and
certificate are written as PEM, the form the cms-openssl runner reads. Like
import_published.py, this script selects and re-labels published data and computes
nothing, so its output is checked by ``e2ee-mail vectors verify``.

Left out: the ML-KEM-512 files (no ML-KEM-512 in `cryptography`), and Chunghwa
Telecom's AuthEnvelopedData files, whose recipient entry names another certificate
than the one published beside them.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[2] / "e2ee_mail" / "vectors" / "data" / "cms"
URL = "https://github.com/IETF-Hackathon/pqc-certificates/tree/{rev}/providers"
PROVIDERS = {
    "bc": "Bouncy Castle",
    "cryptonext": "CryptoNext Security",
    "cht": "Chunghwa Telecom",
}
PARAMETER_SETS = ("768-2.16.840.1.101.3.4.4.2", "1024-2.16.840.1.101.3.4.4.3")
#: Files whose entry names no certificate the provider published (see above).
SKIPPED = re.compile(r"^cht/.*_kemri_auth")
DESCRIPTION = (
    "ML-KEM-768 and ML-KEM-1024 CMS messages (RFC 9629 KEMRecipientInfo, RFC 9936) "
    "made by other implementations for the IETF hackathon's CMS interoperability "
    "round: each group is one provider's recipient certificate and private key "
    "(RFC 9935), each case one of its messages, decrypted through "
    "e2ee_mail.cms.envelope.decrypt. AuthEnvelopedData cases are valid; "
    "EnvelopedData (AES-256-CBC) cases are acceptable under LEGACY_DECRYPT only."
)


def _pem(label: str, der: bytes) -> str:
    body = base64.encodebytes(der).decode("ascii").replace("\n", "")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return (
        f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"
    )


def _flags(name: str) -> list[str]:
    flags = ["Peer"]
    flags.append("AuthEnvelopedData" if "_auth" in name else "EnvelopedData")
    if "ukm" in name:
        flags.append("Ukm")
    if "sha512" in name:
        flags.append("HkdfSha512")
    return flags


def _groups(checkout: Path) -> list[dict[str, Any]]:
    groups = []
    case_id = 0
    for provider, who in PROVIDERS.items():
        archive = zipfile.ZipFile(
            checkout / "providers" / provider / "artifacts_cms_v3.zip"
        )
        files = {Path(n).name: n for n in archive.namelist()}
        plaintext = archive.read(files["expected_plaintext.txt"])
        for parameter_set in PARAMETER_SETS:
            names = sorted(
                n for n in files if n.lower().startswith(f"ml-kem-{parameter_set}")
            )
            cert = next(n for n in names if n.endswith("_ee.der"))
            key = next(n for n in names if n.endswith("priv.der"))
            cases = []
            for name in names:
                if "_kemri" not in name or SKIPPED.match(f"{provider}/{name}"):
                    continue
                case_id += 1
                flags = _flags(name)
                case: dict[str, Any] = {
                    "id": case_id,
                    "comment": f"{who}: {name}",
                    "flags": flags,
                }
                if "EnvelopedData" in flags:
                    case.update(result="acceptable", preset="LEGACY_DECRYPT")
                else:
                    case["result"] = "valid"
                message = base64.b64encode(archive.read(files[name])).decode("ascii")
                case["inputs"] = {"op": "decrypt", "message_b64": message}
                case["expected"] = {"plaintext": plaintext.hex()}
                cases.append(case)
            groups.append(
                {
                    "comment": f"{who}, ML-KEM-{parameter_set.split('-')[0]}",
                    "certificate": _pem("CERTIFICATE", archive.read(files[cert])),
                    "key": _pem("PRIVATE KEY", archive.read(files[key])),
                    "cases": cases,
                }
            )
    return groups


def main() -> None:
    checkout = Path(sys.argv[1])
    rev = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    doc = {
        "schema": "cms-openssl.json",
        "kind": "cms-openssl",
        "description": DESCRIPTION,
        "source": {
            "name": "IETF hackathon pqc-certificates, CMS artifacts v3",
            "url": URL.format(rev=rev),
            "revision": rev,
            "license": "IETF Trust Legal Provisions (BCP 78)",
            "confirmed_by": [PROVIDERS[p] for p in PROVIDERS],
        },
        "notes": {
            "Peer": "A message made by another implementation.",
            "AuthEnvelopedData": "AuthEnvelopedData with AES-256-GCM (RFC 5083).",
            "EnvelopedData": (
                "EnvelopedData with AES-256-CBC: unauthenticated, opened only under "
                "LEGACY_DECRYPT."
            ),
            "Ukm": "The KEMRecipientInfo carries a ukm (RFC 9629 §3).",
            "HkdfSha512": "The KDF is id-alg-hkdf-with-sha512 (RFC 8619 §2).",
        },
        "groups": _groups(checkout),
    }
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    (OUT / "pqc-hackathon.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
