"""Write the ML-KEM vector files from published sources (data only; run by hand).

Usage: python vectors/gen/import_mlkem.py WYCHEPROOF_CHECKOUT CMS_KYBER_CHECKOUT

WYCHEPROOF_CHECKOUT is a checkout of https://github.com/C2SP/wycheproof; the files read
are testvectors_v1/mlkem_{768,1024}_test.json (decapsulation from the 64-octet seed)
and mlkem_{768,1024}_keygen_seed_test.json (the expanded key a seed gives, read as
the RFC 9935 "both" form; ids from 1001, to stay apart from the first file's).
CMS_KYBER_CHECKOUT is a checkout of https://github.com/lamps-wg/cms-kyber, the source
of RFC 9936, whose example/ directory holds the files of its Appendix C example: the
message (ML-KEM-512.cms), the recipient's key identifier, the shared secret, the
CMSORIforKEMOtherInfo, the key-encryption and content-encryption keys and the
plaintext. Like import_published.py, this script only selects and re-labels
published data; it computes nothing, so its output is checked by
``e2ee-mail vectors verify``.

Wycheproof subset: every invalid case (a seed or ciphertext of the wrong size), and of
the valid cases the first :data:`PER_KIND` of each kind (the kind is the comment with
its numbers left out: random and bit-flipped ciphertexts, the implicit rejection
path; the matrix expansion edge cases; the FIPS 203 known answers), per parameter set;
and the first :data:`PER_KIND` key generation cases.
"""

from __future__ import annotations

import base64
import collections
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from import_published import OUT, WP_LICENSE, WP_URL, _write

CMS_OUT = OUT.parent / "cms"
PER_KIND = 4
CMS_KYBER_URL = "https://github.com/lamps-wg/cms-kyber/tree/{rev}/example"

NOTE_SEED = (
    "The seed is not 64 octets (upstream: private key too short or too long). As a "
    "PKCS#8 seed (RFC 9935 §6) it does not load: KeyLoadError."
)
NOTE_CIPHERTEXT = (
    "The ciphertext is not the parameter set's size (upstream: ciphertext too short "
    "or too long). In a KEMRecipientInfo it is refused from public data: ASN1Error."
)
NOTE_BOTH = (
    "A key generation case: the seed and the expanded decapsulation key it gives, "
    "loaded as an RFC 9935 PKCS#8 key in the both form; the key must load and give "
    "the published encapsulation key."
)
MLKEM_DESCRIPTION = (
    "{name} decapsulation (FIPS 203) as a CMS recipient runs it: the seed loaded as "
    "an RFC 9935 PKCS#8 key by the X.509 key loader, the ciphertext checked as a "
    "KEMRecipientInfo's kemct (cms/kemri.py), then decapsulated; expected.public is "
    "the encapsulation key the seed gives; key generation cases load the seed with "
    "its expanded key (the both form). Wycheproof subset: every invalid case, "
    "and up to {valid} valid cases of each kind."
)
RFC9936_DESCRIPTION = (
    "The example of RFC 9936 Appendix C: an AuthEnvelopedData (AES-128-GCM) with one "
    "KEMRecipientInfo for an ML-KEM-512 key, HKDF-SHA256 and aes128-wrap. "
    "`cryptography` has no ML-KEM-512, so the case starts from the published shared "
    "secret: the framing and the KEMRecipientInfo as the decrypter reads them, the "
    "CMSORIforKEMOtherInfo, HKDF, the AES key unwrap and the content decryption run "
    "through the shipped code and must give the published intermediate values and "
    "plaintext. The invalid case gives another shared secret: the key unwrap fails."
)


def _wycheproof(checkout: Path, rev: str, size: int) -> None:
    name = f"mlkem_{size}_test.json"
    doc = json.loads((checkout / "testvectors_v1" / name).read_text())
    groups = []
    used: set[str] = set()
    for group in doc["testGroups"]:
        cases = []
        kinds: collections.Counter[str] = collections.Counter()
        for t in group["tests"]:
            comment = t.get("comment", "")
            flags = list(t["flags"])
            case: dict[str, Any] = {"id": t["tcId"], "comment": comment}
            inputs = {"seed": t["seed"], "ciphertext": t["c"]}
            if t["result"] == "invalid":
                flag = "SeedSize" if "Private key" in comment else "CiphertextSize"
                flags.append(flag)
                error = "KeyLoadError" if flag == "SeedSize" else "ASN1Error"
                case.update(flags=flags, result="invalid", inputs=inputs, error=error)
            else:
                kind = re.sub(r"\d+", "N", comment)
                kinds[kind] += 1
                if kinds[kind] > PER_KIND:
                    continue
                expected = {"shared": t["K"], "public": t["ek"]}
                case.update(
                    flags=flags, result="valid", inputs=inputs, expected=expected
                )
            used.update(flags)
            cases.append(case)
        groups.append(
            {
                "comment": f"{group['source']['name']} {group['source']['version']}",
                "parameter_set": group["parameterSet"],
                "cases": cases,
            }
        )
    keygen = json.loads(
        (
            checkout / "testvectors_v1" / f"mlkem_{size}_keygen_seed_test.json"
        ).read_text()
    )
    for group in keygen["testGroups"]:
        cases = [
            {
                "id": 1000 + t["tcId"],
                "comment": f"{t.get('comment', '')}, as the both form",
                "flags": ["BothForm", *t.get("flags", [])],
                "result": "valid",
                "inputs": {"seed": t["seed"], "expanded": t["dk"]},
                "expected": {"public": t["ek"]},
            }
            for t in group["tests"][:PER_KIND]
        ]
        used.add("BothForm")
        groups.append(
            {
                "comment": f"{group['source']['name']} {group['source']['version']}, "
                f"mlkem_{size}_keygen_seed_test.json",
                "parameter_set": group["parameterSet"],
                "cases": cases,
            }
        )
    notes = {k: v["description"] for k, v in doc.get("notes", {}).items() if k in used}
    notes.update(
        {
            k: v
            for k, v in (
                ("SeedSize", NOTE_SEED),
                ("CiphertextSize", NOTE_CIPHERTEXT),
                ("BothForm", NOTE_BOTH),
            )
            if k in used
        }
    )
    out = {
        "schema": "core-mlkem.json",
        "kind": "core-mlkem",
        "description": MLKEM_DESCRIPTION.format(name=f"ML-KEM-{size}", valid=PER_KIND),
        "source": {
            "name": f"Wycheproof {name}",
            "url": WP_URL.format(rev=rev, name=name),
            "revision": rev,
            "license": WP_LICENSE,
        },
        "notes": dict(sorted(notes.items())),
        "groups": groups,
    }
    _write(f"mlkem_{size}_wycheproof.json", out)


def _hex_file(example: Path, name: str) -> str:
    return (example / name).read_text().strip().lower()


def _rfc9936(checkout: Path, rev: str) -> None:
    example = checkout / "example"
    pem = (example / "ML-KEM-512.cms").read_text()
    body = "".join(line for line in pem.splitlines() if "-----" not in line)
    message = base64.b64encode(base64.b64decode(body)).decode("ascii")
    inputs = {
        "message_b64": message,
        "shared": _hex_file(example, "shared_secret.txt"),
    }
    expected = {
        "kdf_info": _hex_file(example, "ori_info.txt"),
        "kek": _hex_file(example, "kek.txt"),
        "cek": _hex_file(example, "cek.txt"),
        "plaintext": (example / "plaintext.txt").read_bytes().hex(),
    }
    wrong = dict(inputs, shared="00" * 32)
    out = {
        "schema": "cms-rfc9936.json",
        "kind": "cms-rfc9936",
        "description": RFC9936_DESCRIPTION,
        "source": {
            "name": "RFC 9936 Appendix C (the files of the lamps-wg/cms-kyber example)",
            "url": CMS_KYBER_URL.format(rev=rev),
            "revision": rev,
            "license": "IETF Trust Legal Provisions (RFC 9936 example data)",
        },
        "notes": {
            "Rfc9936": "The example of RFC 9936 Appendix C.",
            "WrongSharedSecret": "Another shared secret than the published one.",
        },
        "groups": [
            {
                "comment": "ML-KEM-512 recipient, from the published shared secret",
                "key_id": _hex_file(example, "ML-KEM-512.keyid"),
                "cases": [
                    {
                        "id": 1,
                        "comment": "RFC 9936 Appendix C",
                        "flags": ["Rfc9936"],
                        "result": "valid",
                        "inputs": inputs,
                        "expected": expected,
                    },
                    {
                        "id": 2,
                        "comment": "the example with an all-zero shared secret",
                        "flags": ["Rfc9936", "WrongSharedSecret"],
                        "result": "invalid",
                        "inputs": wrong,
                        "error": "DecryptionError",
                    },
                ],
            }
        ],
    }
    text = json.dumps(out, indent=1, ensure_ascii=False) + "\n"
    (CMS_OUT / "rfc9936.json").write_text(text, encoding="utf-8")


def _revision(checkout: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def main() -> None:
    wycheproof, cms_kyber = Path(sys.argv[1]), Path(sys.argv[2])
    rev = _revision(wycheproof)
    for size in (768, 1024):
        _wycheproof(wycheproof, rev, size)
    _rfc9936(cms_kyber, _revision(cms_kyber))


if __name__ == "__main__":
    main()
