"""Re-create the Wycheproof ECDH and X448 subsets in e2ee_mail/vectors/data/core/.

Usage: python vectors/gen/import_wycheproof_ecdh.py WYCHEPROOF_CHECKOUT [COMMIT]

WYCHEPROOF_CHECKOUT is a checkout of https://github.com/C2SP/wycheproof; the files read
are testvectors_v1/ecdh_secp{256,384,521}r1_ecpoint_test.json,
ecdh_brainpoolP{256,384,512}r1_test.json and x448_test.json. Like
import_published.py, this script only selects and re-labels published data; it
computes nothing, so its output is checked by ``e2ee-mail vectors verify``.

The brainpool files give public keys as X.509 SubjectPublicKeyInfo; OpenPGP carries
the bare point, so the BIT STRING contents (the SEC1 point, octet for octet) are
taken from each case whose key names a curve and is well-formed DER. Cases that test
the SubjectPublicKeyInfo itself (InvalidAsn, explicit curve parameters) have no
OpenPGP counterpart and are left out.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from asn1crypto import core as asn1
from import_published import OUT, WP_LICENSE, WP_URL, _case, _notes, _write

#: Up to this many cases of each upstream flag combination; every invalid case of
#: the chosen kinds is kept.
PER_FLAGS = 24
PRIME_FILES = (
    ("nistp256", "ecdh_secp256r1_ecpoint_test.json"),
    ("nistp384", "ecdh_secp384r1_ecpoint_test.json"),
    ("nistp521", "ecdh_secp521r1_ecpoint_test.json"),
    ("brainpoolP256r1", "ecdh_brainpoolP256r1_test.json"),
    ("brainpoolP384r1", "ecdh_brainpoolP384r1_test.json"),
    ("brainpoolP512r1", "ecdh_brainpoolP512r1_test.json"),
)
#: Flags of cases about the SubjectPublicKeyInfo encoding, not the point.
SPKI_ONLY = frozenset({"InvalidAsn", "UnnamedCurve", "UnusedParam"})
EC_PUBLIC_KEY = "1.2.840.10045.2.1"
#: brainpoolP256t1/P384t1/P512t1: the WrongCurve cases naming them use points the
#: twisted curve shares with the r1 curve, so as bare points they are this curve's
#: and say nothing about refusing another curve's points; they are left out.
TWISTED = frozenset(
    {"1.3.36.3.3.2.8.1.1.8", "1.3.36.3.3.2.8.1.1.12", "1.3.36.3.3.2.8.1.1.14"}
)

NOTE_COMPRESSED = (
    "The public point is in compressed form. OpenPGP writes only the uncompressed "
    "form (RFC 9580 §11.2.1), so core.ecdh_prime refuses it with FormatError "
    "(upstream: acceptable)."
)
NOTE_WRONG_CURVE = (
    "The public key is a point on another curve (its SubjectPublicKeyInfo names "
    "that curve); offered as a point of this file's curve, it is not on it and must "
    "be refused."
)
NOTE_X448_ZERO = (
    "The shared secret is all zero (a low-order point). RFC 7748 §6.2 allows the "
    "check; we make it: core.x448.agree raises DecryptionError, as core.x25519 "
    "does (upstream: acceptable)."
)
NOTE_X448_TWIST = (
    "The public key is on the twist. cryptography computes X448 on it as RFC 7748 "
    "defines; the result must match (upstream: acceptable)."
)
NOTE_X448_NONCANONICAL = (
    "The public key is not reduced; RFC 7748 §5 reduces it; the result must match "
    "(upstream: acceptable)."
)


def _spki_point(der_hex: str) -> str | None:
    """The BIT STRING contents of a named-curve EC SubjectPublicKeyInfo, or None
    (also for a twisted brainpool curve, :data:`TWISTED`)."""
    try:
        spki = asn1.Sequence.load(bytes.fromhex(der_hex), strict=True)
        algorithm = spki[0]
        oid = asn1.ObjectIdentifier.load(algorithm[0].dump()).dotted
        curve = asn1.ObjectIdentifier.load(algorithm[1].dump()).dotted
        bits = spki[1].contents
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    if oid != EC_PUBLIC_KEY or len(algorithm) != 2 or len(spki) != 2:
        return None
    if curve in TWISTED:
        return None
    if not bits or bits[0] != 0:
        return None
    return bytes(bits[1:]).hex()


def prime(wp: Path, rev: str, curve: str, name: str) -> None:
    d = json.loads((wp / "testvectors_v1" / name).read_text())
    per_flags: dict[tuple[str, ...], int] = {}
    cases, used = [], set()
    for g in d["testGroups"]:
        for t in g["tests"]:
            flags = set(t["flags"])
            if flags & SPKI_ONLY:
                continue
            point = t["public"]
            if g["encoding"] == "asn":
                found = _spki_point(point)
                if found is None:
                    continue
                point = found
            key = tuple(sorted(t["flags"]))
            per_flags[key] = per_flags.get(key, 0) + 1
            if t["result"] == "valid" and per_flags[key] > PER_FLAGS:
                continue
            used.update(t["flags"])
            inputs = {"private": t["private"], "public": point}
            if t["result"] == "valid":
                cases.append(
                    _case(t, "valid", inputs=inputs, expected={"shared": t["shared"]})
                )
            else:
                cases.append(_case(t, "invalid", inputs=inputs, error="FormatError"))
    short = name.removesuffix("_test.json")
    _write(
        f"{short}_wycheproof.json",
        {
            "schema": "core-ecdh.json",
            "kind": "core-ecdh",
            "description": (
                f"ECDH over {curve} through e2ee_mail.core.ecdh_prime.agree "
                "(recipient) and ephemeral_agree_from_parts (sender), what "
                "OpenPGP ECDH keys on the curve use: Wycheproof subset, up to "
                f"{PER_FLAGS} valid "
                "cases of each flag combination and every invalid point, which both "
                "sides refuse."
            ),
            "source": {
                "name": f"Wycheproof {name}",
                "url": WP_URL.format(rev=rev, name=name),
                "revision": rev,
                "license": WP_LICENSE,
            },
            "notes": _notes(
                d["notes"],
                used,
                {"CompressedPublic": NOTE_COMPRESSED, "WrongCurve": NOTE_WRONG_CURVE},
            ),
            "groups": [{"comment": curve, "curve": curve, "cases": cases}],
        },
    )


def x448(wp: Path, rev: str) -> None:
    d = json.loads((wp / "testvectors_v1/x448_test.json").read_text())
    per_flags: dict[tuple[str, ...], int] = {}
    cases, used = [], set()
    for g in d["testGroups"]:
        for t in g["tests"]:
            zero = "ZeroSharedSecret" in t["flags"]
            key = tuple(sorted(t["flags"]))
            per_flags[key] = per_flags.get(key, 0) + 1
            if t["result"] != "invalid" and not zero and per_flags[key] > 12:
                continue
            used.update(t["flags"])
            inputs: dict[str, Any] = {"private": t["private"], "public": t["public"]}
            if zero:
                cases.append(
                    _case(t, "invalid", inputs=inputs, error="DecryptionError")
                )
            elif t["result"] == "invalid":
                cases.append(_case(t, "invalid", inputs=inputs, error="FormatError"))
            else:
                cases.append(
                    _case(t, "valid", inputs=inputs, expected={"shared": t["shared"]})
                )
    _write(
        "x448_wycheproof.json",
        {
            "schema": "core-x448.json",
            "kind": "core-x448",
            "description": (
                "X448 (RFC 7748) through e2ee_mail.core.x448.agree (recipient) and "
                "ephemeral_agree_from_parts (sender), what OpenPGP X448 keys use: "
                "Wycheproof "
                "subset with every all-zero shared secret and every invalid case, "
                "which we refuse, and up to 12 cases of each other flag combination."
            ),
            "source": {
                "name": "Wycheproof x448_test.json",
                "url": WP_URL.format(rev=rev, name="x448_test.json"),
                "revision": rev,
                "license": WP_LICENSE,
            },
            "notes": _notes(
                d["notes"],
                used,
                {
                    "ZeroSharedSecret": NOTE_X448_ZERO,
                    "Twist": NOTE_X448_TWIST,
                    "NonCanonicalPublic": NOTE_X448_NONCANONICAL,
                },
            ),
            "groups": [{"comment": "curve448", "curve": "curve448", "cases": cases}],
        },
    )


def main() -> None:
    wp = Path(sys.argv[1])
    rev = sys.argv[2] if len(sys.argv) > 2 else "unknown"
    OUT.mkdir(exist_ok=True)
    for curve, name in PRIME_FILES:
        prime(wp, rev, curve, name)
    x448(wp, rev)


if __name__ == "__main__":
    main()
