"""Write e2ee_mail/vectors/data/core/*.json from published sources (data only; run by
hand).

Usage: python vectors/gen/import_published.py WYCHEPROOF_CHECKOUT [COMMIT]

WYCHEPROOF_CHECKOUT is a checkout of https://github.com/C2SP/wycheproof; the files read
are testvectors_v1/{aes_wrap,aes_gcm,aes_eax,x25519}_test.json and
testvectors_v1/rsa_oaep_*_sha256_mgf1sha256_test.json.
The RFC 3394 §4 values are transcribed below from the RFC text. This script only selects
and re-labels published data; it computes nothing, so its output is checked by running
``e2ee-mail vectors verify``, not by trusting this script.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[2] / "e2ee_mail" / "vectors" / "data" / "core"
WP_URL = "https://github.com/C2SP/wycheproof/blob/{rev}/testvectors_v1/{name}"
WP_LICENSE = "Apache-2.0 (Wycheproof)"

# RFC 3394 §4.1-§4.6: (section, KEK, key data, ciphertext).
RFC3394 = [
    (
        "4.1",
        "000102030405060708090A0B0C0D0E0F",
        "00112233445566778899AABBCCDDEEFF",
        "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5",
    ),
    (
        "4.2",
        "000102030405060708090A0B0C0D0E0F1011121314151617",
        "00112233445566778899AABBCCDDEEFF",
        "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D",
    ),
    (
        "4.3",
        "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
        "00112233445566778899AABBCCDDEEFF",
        "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7",
    ),
    (
        "4.4",
        "000102030405060708090A0B0C0D0E0F1011121314151617",
        "00112233445566778899AABBCCDDEEFF0001020304050607",
        "031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2",
    ),
    (
        "4.5",
        "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
        "00112233445566778899AABBCCDDEEFF0001020304050607",
        "A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB8958CD5D17D6B254DA1",
    ),
    (
        "4.6",
        "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
        "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
        "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21",
    ),
]

# Our own notes, for flags whose meaning for us differs from upstream's.
NOTE_SHORT_KEY = (
    "An 8-byte key (RFC 3394 §2 one-block case). Our formats only wrap keys of 16 "
    "bytes or more, so unwrapping 16 bytes must fail."
)
NOTE_NONCE = (
    "A nonce other than 96 bits. GCM allows it, but our formats use 12-byte nonces "
    "only (RFC 5084 §3.2 recommends 12 octets; RFC 9580 §5.13.2 fixes the GCM nonce "
    "at 12), so the wrappers refuse it with UnsupportedError whatever the upstream "
    "result."
)
NOTE_ZERO = (
    "The shared secret is all zero (a low-order point). RFC 7748 §6.1 allows the "
    "check; we make it: the wrapper raises DecryptionError (upstream: acceptable)."
)
NOTE_TWIST = (
    "The public key is on the twist. cryptography computes X25519 on it as RFC 7748 "
    "defines; the result must match (upstream: acceptable)."
)
NOTE_NONCANONICAL = (
    "The public key is not reduced; RFC 7748 §5 masks the top bit and reduces it; "
    "the result must match (upstream: acceptable)."
)
GCM_DESCRIPTION = (
    "AES-256-GCM through e2ee_mail.core.aead (one-shot, *_into and streaming): "
    "Wycheproof subset with 256-bit keys. Only 96-bit nonces and 128-bit tags are "
    "ours; other nonce sizes must be refused."
)
EAX_DESCRIPTION = (
    "AES-EAX through e2ee_mail.core.eax (eax_seal, eax_open and AESEAX.decrypt_into, "
    "the form the LibrePGP chunk loop calls): every Wycheproof case, 128-, 192- and "
    "256-bit keys, nonces of 0 to 2056 bits, 128-bit tags."
)
X25519_DESCRIPTION = (
    "X25519 (RFC 7748) through e2ee_mail.core.x25519.agree: Wycheproof subset with "
    "every all-zero shared secret case, which we refuse."
)


def _write(name: str, doc: dict[str, Any]) -> None:
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    (OUT / name).write_text(text, encoding="utf-8")


def _case(t: dict[str, Any], result: str, **extra: Any) -> dict[str, Any]:
    case: dict[str, Any] = {
        "id": t["tcId"],
        "comment": t["comment"],
        "flags": list(t["flags"]),
        "result": result,
    }
    case.update(extra)
    if result != t["result"]:
        case["upstream_result"] = t["result"]
    return case


def _notes(
    upstream: dict[str, Any], used: set[str], ours: dict[str, str]
) -> dict[str, str]:
    notes = {k: v["description"] for k, v in upstream.items() if k in used}
    notes.update({k: v for k, v in ours.items() if k in used})
    return dict(sorted(notes.items()))


def rfc3394() -> None:
    cases = []
    for i, (sec, kek, key, ct) in enumerate(RFC3394, start=1):
        cases.append(
            {
                "id": i,
                "comment": f"RFC 3394 §{sec}: {len(key) * 4}-bit key data, "
                f"{len(kek) * 4}-bit KEK",
                "flags": ["Rfc3394"],
                "result": "valid",
                "inputs": {"op": "roundtrip", "kek": kek.lower(), "key": key.lower()},
                "expected": {"wrapped": ct.lower()},
            }
        )
    _write(
        "aes_kw_rfc3394.json",
        {
            "schema": "core-aes-kw.json",
            "kind": "core-aes-kw",
            "description": "AES key wrap (RFC 3394) known answers: wrap gives the "
            "ciphertext, unwrap gives the key data back.",
            "source": {
                "name": "RFC 3394 §4 (Wrap with KEK Test Vectors)",
                "url": "https://www.rfc-editor.org/rfc/rfc3394#section-4",
            },
            "notes": {"Rfc3394": "Published known-answer vector from RFC 3394 §4."},
            "groups": [{"comment": "all six §4 vectors", "cases": cases}],
        },
    )


def wycheproof_kw(wp: Path, rev: str) -> None:
    d = json.loads((wp / "testvectors_v1/aes_wrap_test.json").read_text())
    cases, used = [], set()
    for g in d["testGroups"]:
        if g["keySize"] != 256:
            continue
        for t in g["tests"]:
            used.update(t["flags"])
            inputs = {"kek": t["key"], "key": t["msg"], "wrapped": t["ct"]}
            if t["result"] == "valid":
                cases.append(
                    _case(
                        t,
                        "valid",
                        inputs={"op": "roundtrip", **inputs},
                        expected={"wrapped": t["ct"]},
                    )
                )
            elif t["ct"] == "" and len(t["msg"]) % 16:
                # Upstream's wrap-direction cases: a key that is not a multiple of
                # 8 bytes must be refused by our wrap (it is a caller error).
                cases.append(
                    _case(
                        t,
                        "invalid",
                        inputs={"op": "wrap", **inputs},
                        error="UsageError",
                    )
                )
            else:
                cases.append(
                    _case(
                        t,
                        "invalid",
                        inputs={"op": "unwrap", **inputs},
                        error="DecryptionError",
                    )
                )
    _write(
        "aes_kw_wycheproof.json",
        {
            "schema": "core-aes-kw.json",
            "kind": "core-aes-kw",
            "description": "AES key wrap (RFC 3394) with 256-bit KEKs through "
            "e2ee_mail.core.keywrap: Wycheproof subset (keySize 256).",
            "source": {
                "name": "Wycheproof aes_wrap_test.json",
                "url": WP_URL.format(rev=rev, name="aes_wrap_test.json"),
                "revision": rev,
                "license": WP_LICENSE,
            },
            "notes": _notes(
                d["notes"],
                used,
                {
                    "ShortKey": NOTE_SHORT_KEY,
                },
            ),
            "groups": [{"comment": "256-bit KEK", "kek_bits": 256, "cases": cases}],
        },
    )


def wycheproof_gcm(wp: Path, rev: str) -> None:
    d = json.loads((wp / "testvectors_v1/aes_gcm_test.json").read_text())
    groups, used = [], set()
    for g in d["testGroups"]:
        if g["keySize"] != 256:
            continue
        ours = g["ivSize"] == 96 and g["tagSize"] == 128
        cases = []
        for t in g["tests"]:
            flags = list(t["flags"])
            if not ours:
                flags.append("NonStandardNonceSize")
            used.update(flags)
            inputs = {k: t[k] for k in ("key", "iv", "aad", "ct", "tag")}
            t2 = {**t, "flags": flags}
            if not ours:
                cases.append(
                    _case(t2, "invalid", inputs=inputs, error="UnsupportedError")
                )
            elif t["result"] == "valid":
                cases.append(
                    _case(t2, "valid", inputs=inputs, expected={"msg": t["msg"]})
                )
            else:
                cases.append(
                    _case(t2, "invalid", inputs=inputs, error="DecryptionError")
                )
        groups.append(
            {
                "comment": f"{g['ivSize']}-bit IV, {g['tagSize']}-bit tag",
                "key_bits": g["keySize"],
                "iv_bits": g["ivSize"],
                "tag_bits": g["tagSize"],
                "cases": cases,
            }
        )
    _write(
        "aes_256_gcm_wycheproof.json",
        {
            "schema": "core-aes-gcm.json",
            "kind": "core-aes-gcm",
            "description": GCM_DESCRIPTION,
            "source": {
                "name": "Wycheproof aes_gcm_test.json",
                "url": WP_URL.format(rev=rev, name="aes_gcm_test.json"),
                "revision": rev,
                "license": WP_LICENSE,
            },
            "notes": _notes(
                d["notes"],
                used,
                {
                    "NonStandardNonceSize": NOTE_NONCE,
                },
            ),
            "groups": groups,
        },
    )


def wycheproof_eax(wp: Path, rev: str) -> None:
    d = json.loads((wp / "testvectors_v1/aes_eax_test.json").read_text())
    groups, used = [], set()
    for g in d["testGroups"]:
        cases = []
        for t in g["tests"]:
            used.update(t["flags"])
            inputs = {k: t[k] for k in ("key", "iv", "aad", "ct", "tag")}
            if t["result"] == "valid":
                cases.append(
                    _case(t, "valid", inputs=inputs, expected={"msg": t["msg"]})
                )
            else:
                cases.append(
                    _case(t, "invalid", inputs=inputs, error="DecryptionError")
                )
        groups.append(
            {
                "comment": f"{g['keySize']}-bit key, {g['ivSize']}-bit nonce",
                "key_bits": g["keySize"],
                "iv_bits": g["ivSize"],
                "tag_bits": g["tagSize"],
                "cases": cases,
            }
        )
    _write(
        "aes_eax_wycheproof.json",
        {
            "schema": "core-aes-eax.json",
            "kind": "core-aes-eax",
            "description": EAX_DESCRIPTION,
            "source": {
                "name": "Wycheproof aes_eax_test.json",
                "url": WP_URL.format(rev=rev, name="aes_eax_test.json"),
                "revision": rev,
                "license": WP_LICENSE,
            },
            "notes": _notes(d["notes"], used, {}),
            "groups": groups,
        },
    )


def wycheproof_x25519(wp: Path, rev: str) -> None:
    d = json.loads((wp / "testvectors_v1/x25519_test.json").read_text())
    per_flags: dict[tuple[str, ...], int] = {}
    cases, used = [], set()
    for g in d["testGroups"]:
        for t in g["tests"]:
            zero = t["shared"] == "00" * 32
            key = tuple(sorted(t["flags"]))
            # Keep every zero-shared-secret case and a few of each other kind.
            per_flags[key] = per_flags.get(key, 0) + 1
            if not zero and per_flags[key] > 6:
                continue
            used.update(t["flags"])
            inputs = {"private": t["private"], "public": t["public"]}
            if zero:
                cases.append(
                    _case(t, "invalid", inputs=inputs, error="DecryptionError")
                )
            else:
                cases.append(
                    _case(t, "valid", inputs=inputs, expected={"shared": t["shared"]})
                )
    _write(
        "x25519_wycheproof.json",
        {
            "schema": "core-x25519.json",
            "kind": "core-x25519",
            "description": X25519_DESCRIPTION,
            "source": {
                "name": "Wycheproof x25519_test.json",
                "url": WP_URL.format(rev=rev, name="x25519_test.json"),
                "revision": rev,
                "license": WP_LICENSE,
            },
            "notes": _notes(
                d["notes"],
                used,
                {
                    "ZeroSharedSecret": NOTE_ZERO,
                    "Twist": NOTE_TWIST,
                    "NonCanonicalPublic": NOTE_NONCANONICAL,
                },
            ),
            "groups": [
                {"comment": "curve25519", "curve": "curve25519", "cases": cases}
            ],
        },
    )


def wycheproof_oaep(wp: Path, rev: str) -> None:
    groups, used, notes = [], set(), {}
    names = []
    for bits in (2048, 3072):
        name = f"rsa_oaep_{bits}_sha256_mgf1sha256_test.json"
        names.append(name)
        d = json.loads((wp / "testvectors_v1" / name).read_text())
        notes.update(d["notes"])
        for g in d["testGroups"]:
            assert g["sha"] == "SHA-256" and g["mgfSha"] == "SHA-256"
            cases = []
            for t in g["tests"]:
                used.update(t["flags"])
                inputs = {"ct": t["ct"], "label": t["label"]}
                if t["result"] == "valid":
                    cases.append(
                        _case(t, "valid", inputs=inputs, expected={"msg": t["msg"]})
                    )
                else:
                    cases.append(
                        _case(t, "invalid", inputs=inputs, error="DecryptionError")
                    )
            groups.append(
                {
                    "comment": f"RSA-{bits}, from {name}",
                    "key_bits": g["keySize"],
                    "hash": "sha256",
                    "mgf_hash": "sha256",
                    "private_key_pkcs8": g["privateKeyPkcs8"],
                    "cases": cases,
                }
            )
    # Case ids restart at 1 in each upstream file; ours are unique per file.
    for offset, grp in zip((0, 1000), groups, strict=True):
        for c in grp["cases"]:
            c["id"] += offset
    _write(
        "rsa_oaep_sha256_wycheproof.json",
        {
            "schema": "core-rsa-oaep.json",
            "kind": "core-rsa-oaep",
            "description": "RSAES-OAEP with SHA-256 and MGF1-SHA-256 through "
            "e2ee_mail.core.rsa.decrypt_oaep: every case of the 2048- and 3072-bit "
            "Wycheproof files. Every invalid case must give the same DecryptionError "
            "text. Ids: upstream tcId for 2048-bit keys, 1000 + tcId for 3072-bit.",
            "source": {
                "name": "Wycheproof " + " and ".join(names),
                "url": WP_URL.format(rev=rev, name=names[0]),
                "revision": rev,
                "license": WP_LICENSE,
            },
            "notes": _notes(notes, used, {}),
            "groups": groups,
        },
    )


def main() -> None:
    wp = Path(sys.argv[1])
    rev = sys.argv[2] if len(sys.argv) > 2 else "unknown"
    OUT.mkdir(exist_ok=True)
    rfc3394()
    wycheproof_kw(wp, rev)
    wycheproof_gcm(wp, rev)
    wycheproof_eax(wp, rev)
    wycheproof_x25519(wp, rev)
    wycheproof_oaep(wp, rev)


if __name__ == "__main__":
    main()
