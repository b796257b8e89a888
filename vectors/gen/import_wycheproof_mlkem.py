"""Write e2ee_mail/vectors/data/core/mlkem_768_rfc9980_wycheproof.json from
Wycheproof (data only; run by hand).

Usage: python vectors/gen/import_wycheproof_mlkem.py WYCHEPROOF_CHECKOUT COMMIT

Reads testvectors_v1/mlkem_768_test.json of https://github.com/C2SP/wycheproof and
keeps every invalid and flagged case and the first NORMAL_CASES unflagged valid ones
(each case carries a 1184-octet key and a 1088-octet ciphertext: all 193 would make
the file 850 kB), with upstream's tcId as the case id. Upstream's cases without flags
get the flag Normal. The script selects and relabels; it computes nothing, so its
output is checked by ``e2ee-mail vectors verify``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = (
    Path(__file__).resolve().parents[2]
    / "e2ee_mail"
    / "vectors"
    / "data"
    / "core"
    / "mlkem_768_rfc9980_wycheproof.json"
)
NAME = "mlkem_768_test.json"
NORMAL_CASES = 20
NOTES = {
    "Normal": "A FIPS 203 test case (upstream gives it no flag).",
    "SeedSize": "The private key (seed d || z) is not 64 octets: the key loader "
    "refuses it (FormatError).",
    "CiphertextSize": "The ciphertext is not 1088 octets: decapsulation refuses it "
    "(DecryptionError), as an altered PKESK is refused.",
}


def _case(test: dict[str, Any]) -> dict[str, Any]:
    comment = test.get("comment") or "FIPS 203 decapsulation"
    case: dict[str, Any] = {
        "id": test["tcId"],
        "comment": comment,
        "flags": list(test["flags"]) or ["Normal"],
        "result": test["result"],
        "inputs": {"seed": test["seed"], "c": test["c"]},
    }
    if test["result"] == "valid":
        case["expected"] = {"ek": test["ek"], "K": test["K"]}
    elif comment.startswith("Private key"):
        case["flags"] = ["SeedSize"]
        case["error"] = "FormatError"
    elif comment.startswith("Ciphertext"):
        case["flags"] = ["CiphertextSize"]
        case["error"] = "DecryptionError"
    else:
        raise SystemExit(f"tcId {test['tcId']}: an invalid case of an unknown kind")
    return case


def main(checkout: Path, commit: str) -> None:
    upstream = json.loads((checkout / "testvectors_v1" / NAME).read_text())
    notes = dict(NOTES)
    for flag, note in upstream.get("notes", {}).items():
        notes[flag] = note["description"]
    normal = 0

    def kept(test: dict[str, Any]) -> bool:
        nonlocal normal
        if test["result"] != "valid" or test["flags"]:
            return True
        normal += 1
        return normal <= NORMAL_CASES

    groups = [
        {
            "comment": f"{group['parameterSet']} ({group['source']['name']})",
            "cases": [_case(t) for t in group["tests"] if kept(t)],
        }
        for group in upstream["testGroups"]
    ]
    doc = {
        "schema": "core-mlkem768.json",
        "kind": "core-mlkem768",
        "description": "ML-KEM-768 decapsulation (FIPS 203) through "
        "e2ee_mail.core.mlkem, the primitive of OpenPGP's ML-KEM-768+X25519 (RFC "
        "9980): Wycheproof's mlkem_768_test.json, every invalid and flagged case "
        f"and the first {NORMAL_CASES} others.",
        "source": {
            "name": f"Wycheproof {NAME}",
            "url": f"https://github.com/C2SP/wycheproof/blob/{commit}/testvectors_v1/"
            f"{NAME}",
            "revision": commit,
            "license": "Apache-2.0 (Wycheproof)",
        },
        "notes": notes,
        "groups": groups,
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT} ({sum(len(g['cases']) for g in groups)} cases)")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
