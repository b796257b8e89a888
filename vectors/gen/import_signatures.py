"""Write e2ee_mail/vectors/data/core/*_sig_wycheproof.json from Wycheproof (data only;
run by hand).

Usage: python vectors/gen/import_signatures.py WYCHEPROOF_CHECKOUT [COMMIT]

WYCHEPROOF_CHECKOUT is a checkout of https://github.com/C2SP/wycheproof; the files read
are testvectors_v1/{ecdsa_secp256r1_sha256,ecdsa_secp384r1_sha384,dsa_2048_224_sha256,
ed448,ed25519,rsa_pss_2048_sha256_mgf1_32}_test.json (the DER-signature variants for
ECDSA and DSA). The subsets: every case of the groups with an edge-case public key,
and from the large group of each file (one key, the signature encodings and special
values) the first three cases of every combination of flags and result plus every
tenth (ECDSA) or fourth (DSA) case, and for P-384 and RSA-PSS every invalid case as
well; all of Ed448 and Ed25519.
This script only selects and re-labels published data; it computes nothing, so its
output is checked by running ``e2ee-mail vectors verify``, not by trusting this
script.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[2] / "e2ee_mail" / "vectors" / "data" / "core"
WP_URL = "https://github.com/C2SP/wycheproof/blob/{rev}/testvectors_v1/{name}"
WP_LICENSE = "Apache-2.0 (Wycheproof)"
#: A group with at least this many cases is sampled; smaller ones are kept whole.
LARGE_GROUP = 50
PER_KIND = 3

NOTE_BER = (
    "The signature is not DER (a BER length or INTEGER form). We read DER strictly, "
    "so it is refused (upstream: acceptable)."
)


_OPENPGP_PATH = (
    "with the key decoded from OpenPGP key material by e2ee_mail.openpgp.sigs, the "
    "path OpenPGP self-signatures take"
)
#: How each algorithm's key reaches the checks, for the file's description.
PATHS = {
    "ecdsa": _OPENPGP_PATH,
    "dsa": _OPENPGP_PATH,
    "ed448": _OPENPGP_PATH,
    "ed25519": _OPENPGP_PATH + ", and through verify, the check CMS signatures take",
    "rsa-pss": "verify_digest and verify with the RSASSA-PSS scheme CMS signatures "
    "are checked with, the key read from its SubjectPublicKeyInfo",
}


def _write(name: str, doc: dict[str, Any]) -> None:
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    (OUT / name).write_text(text, encoding="utf-8")


def _select(
    group: dict[str, Any], every: int, all_invalid: bool
) -> list[dict[str, Any]]:
    tests = group["tests"]
    if len(tests) < LARGE_GROUP:
        return list(tests)
    seen: dict[tuple[tuple[str, ...], str], int] = {}
    kept = []
    for t in tests:
        key = (tuple(sorted(t["flags"])), t["result"])
        seen[key] = seen.get(key, 0) + 1
        wanted = all_invalid and t["result"] != "valid"
        if wanted or seen[key] <= PER_KIND or t["tcId"] % every == 0:
            kept.append(t)
    return kept


def _case(t: dict[str, Any]) -> dict[str, Any]:
    case: dict[str, Any] = {
        "id": t["tcId"],
        "comment": t["comment"],
        "flags": list(t["flags"]),
    }
    inputs = {"msg": t["msg"], "sig": t["sig"]}
    if t["result"] == "valid":
        case.update(result="valid", inputs=inputs, expected={"verified": True})
    else:
        # Invalid, and the one "acceptable" DSA case (a BER-encoded r), which we
        # refuse: every refusal is the same FormatError.
        case.update(result="invalid", inputs=inputs, error="FormatError")
        if t["result"] != "invalid":
            case["upstream_result"] = t["result"]
            case["flags"].append("StrictDer")
    return case


def _notes(upstream: dict[str, Any], used: set[str]) -> dict[str, str]:
    notes = {k: v["description"] for k, v in upstream.items() if k in used}
    if "StrictDer" in used:
        notes["StrictDer"] = NOTE_BER
    return dict(sorted(notes.items()))


def _group_fields(algorithm: str, g: dict[str, Any]) -> dict[str, Any]:
    key = g["publicKey"]
    if algorithm == "ecdsa":
        curve, sha = key["curve"], g["sha"]
        assert (curve, sha) in {("secp256r1", "SHA-256"), ("secp384r1", "SHA-384")}
        return {
            "algorithm": "ecdsa",
            "curve": curve,
            "hash": sha.replace("-", "").lower(),
            "public": key["uncompressed"],
        }
    if algorithm == "rsa-pss":
        assert (g["sha"], g["mgf"], g["mgfSha"]) == ("SHA-256", "MGF1", "SHA-256")
        return {
            "algorithm": "rsa-pss",
            "hash": "sha256",
            "salt_length": g["sLen"],
            "spki": g["publicKeyDer"],
        }
    if algorithm == "ed25519":
        assert key["curve"] == "edwards25519"
        return {"algorithm": "ed25519", "public": key["pk"]}
    if algorithm == "dsa":
        assert g["sha"] == "SHA-256"
        return {
            "algorithm": "dsa",
            "hash": "sha256",
            **{name: key[name] for name in ("p", "q", "g", "y")},
        }
    assert key["curve"] == "edwards448"
    return {"algorithm": "ed448", "public": key["pk"]}


def import_file(
    wp: Path,
    rev: str,
    name: str,
    algorithm: str,
    out: str,
    every: int,
    all_invalid: bool = False,
) -> None:
    d = json.loads((wp / "testvectors_v1" / name).read_text())
    groups, used = [], set()
    for index, g in enumerate(d["testGroups"], start=1):
        cases = [_case(t) for t in _select(g, every, all_invalid)]
        for c in cases:
            used.update(c["flags"])
        groups.append(
            {
                "comment": f"key {index} of {name}",
                **_group_fields(algorithm, g),
                "cases": cases,
            }
        )
    what = {
        "ecdsa": "ECDSA over "
        + {"secp256r1": "P-256 with SHA-256", "secp384r1": "P-384 with SHA-384"}.get(
            groups[0].get("curve", ""), ""
        )
        + " (DER signatures)",
        "dsa": "DSA-2048 (224-bit q) with SHA-256 (DER signatures)",
        "ed448": "Ed448 (RFC 8032, empty context)",
        "ed25519": "Ed25519 (RFC 8032, pure)",
        "rsa-pss": "RSASSA-PSS-2048 with SHA-256, MGF1-SHA-256, 32-octet salt",
    }[algorithm]
    path = PATHS[algorithm]
    _write(
        out,
        {
            "schema": "core-signature.json",
            "kind": "core-signature",
            "description": f"{what} through e2ee_mail.core.signature, {path}: "
            "Wycheproof subset. Valid signatures verify; every invalid one is "
            "refused with the same FormatError.",
            "source": {
                "name": f"Wycheproof {name}",
                "url": WP_URL.format(rev=rev, name=name),
                "revision": rev,
                "license": WP_LICENSE,
            },
            "notes": _notes(d["notes"], used),
            "groups": groups,
        },
    )


def main() -> None:
    wp = Path(sys.argv[1])
    rev = sys.argv[2] if len(sys.argv) > 2 else "unknown"
    OUT.mkdir(exist_ok=True)
    import_file(
        wp,
        rev,
        "ecdsa_secp256r1_sha256_test.json",
        "ecdsa",
        "ecdsa_p256_sha256_sig_wycheproof.json",
        every=10,
    )
    import_file(
        wp,
        rev,
        "dsa_2048_224_sha256_test.json",
        "dsa",
        "dsa_2048_224_sha256_sig_wycheproof.json",
        every=4,
    )
    import_file(
        wp, rev, "ed448_test.json", "ed448", "ed448_sig_wycheproof.json", every=1
    )
    import_file(
        wp,
        rev,
        "ecdsa_secp384r1_sha384_test.json",
        "ecdsa",
        "ecdsa_p384_sha384_sig_wycheproof.json",
        every=10,
        all_invalid=True,
    )
    import_file(
        wp, rev, "ed25519_test.json", "ed25519", "ed25519_sig_wycheproof.json", every=1
    )
    import_file(
        wp,
        rev,
        "rsa_pss_2048_sha256_mgf1_32_test.json",
        "rsa-pss",
        "rsa_pss_2048_sha256_sig_wycheproof.json",
        every=3,
        all_invalid=True,
    )


if __name__ == "__main__":
    main()
