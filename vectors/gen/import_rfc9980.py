"""Write e2ee_mail/vectors/data/openpgp/rfc9980-test-vectors.json from RFC 9980's
test-vector appendix (data only; run by hand).

Usage: python vectors/gen/import_rfc9980.py TEST_VECTOR_DIR [REVISION]

TEST_VECTOR_DIR holds the appendix's files as the RFC's source repository ships them
(https://github.com/openpgp-pqc/draft-openpgp-pqc, test-vectors/): the v6 and v4
Ed25519 samples with an ML-KEM-768+X25519 subkey (keys, certificates, messages).
The key shares and combiner outputs below are transcribed from the appendix text.
The ecdhCipherText and ecdhPublicKey inputs of the combiner are cut out of the
published message and certificate (the first 32 octets of the PKESK fields, of the
subkey's public key fields). Negative cases flip one octet of a published message.
The script selects, slices and relabels; it computes nothing cryptographic, so its
output is checked by ``e2ee-mail vectors verify``.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

from e2ee_mail.openpgp import armor
from e2ee_mail.openpgp.packets import TAG_PKESK, TAG_PUBLIC_SUBKEY
from e2ee_mail.openpgp.packets.header import parse_packets, serialize_packet
from e2ee_mail.openpgp.packets.keys import parse_public_key
from e2ee_mail.openpgp.packets.pkesk import parse_pkesk

OUT = (
    Path(__file__).resolve().parents[2]
    / "e2ee_mail"
    / "vectors"
    / "data"
    / "openpgp"
    / "rfc9980-test-vectors.json"
)
PLAINTEXT = b"Testing\n".hex()
FLAG = ["Rfc9980"]

#: (name, key file stem, message file, primary fpr, subkey fpr, mlkemKeyShare,
#: ecdhKeyShare, KEK, session key), from the appendix text.
SAMPLES = [
    (
        "v6 key, v6 PKESK + SEIPDv2",
        "v6-eddsa-sample",
        "v6-eddsa-sample-message.asc",
        "c789e17d9dbdca7b3c833a3c063feb0353f80ad911fe27868fb0645df803e947",
        "dafe0eebb2675ecfcdc20a23fe89ca5d12e83f527dfa354b6dcf662131a48b9d",
        "b0e45408d8c713f3941cd27276f879e557df013e05bcf43e37d4c60266a4b797",
        "9d994741e0db5eacee44cb028c2ec48b1346feae2576aaac383bbcd64138c932",
        "5bf078bf7977109db6dead92d3578b62d0ab0487ef84e8e0af08f4b4b229e590",
        "94a3b8c9784463bb96b682cddf549adb23579b75bcb646f989d7cfe3e6e14435",
    ),
    (
        "v4 key, v3 PKESK + SEIPDv1",
        "v4-eddsa-sample",
        "v4-eddsa-sample-message-v1.asc",
        "342e5db2de345215cb2c944f7102ffed3b9cf12d",
        "e51dbfea51936988b5428fffa4f95f985ed61a51",
        "16f2aea8ec1ca277c04cc7b87681d7d38511a38f554775a8fc4de41aa76eb586",
        "2fc0c8fcace9636c86d1ee1715a302819ad48c549579a462a33eed36627c532e",
        "c1591d7511f9f0213bfd57cf316e5ec0d40c4ea826fa989ab606aa3b8a1a2c1f",
        "b4dc7197e1519822ca689da484643edf272934d98ae1974b5d88317a7a6a3c4f",
    ),
    (
        "v4 key, v6 PKESK + SEIPDv2",
        "v4-eddsa-sample",
        "v4-eddsa-sample-message-v2.asc",
        "342e5db2de345215cb2c944f7102ffed3b9cf12d",
        "e51dbfea51936988b5428fffa4f95f985ed61a51",
        "16a22adbeced91ada60b5561611748edd2fedc51e0770f86d7394870062e7322",
        "5ac67eab192f25ac99d87543e6fcd3a4769cb02c9d1afdc79354c2baa2289e29",
        "5c5652a690b55d1e9545fbd722f838cd8ff4d3657af5a9026d02f3185ca74993",
        "160867d96032b640208c1c92174d0270bb89189d72320711acd221bbea2a26b6",
    ),
]


def _binary(text: str) -> bytes:
    return armor.dearmor(text.encode())[1]


def _pkesk_fields(message: str) -> tuple[int, bytes]:
    """(offset of the PKESK's algorithm-specific fields in the binary message, the
    fields)."""
    data = _binary(message)
    first = parse_packets(data)[0]
    assert first.tag == TAG_PKESK
    fields = parse_pkesk(first.body).material
    head = serialize_packet(TAG_PKESK, first.body)
    return len(head) - len(fields), fields


def _subkey_public(cert: str) -> bytes:
    for packet in parse_packets(_binary(cert)):
        if packet.tag == TAG_PUBLIC_SUBKEY:
            return parse_public_key(packet.body).material
    raise SystemExit("no subkey in the certificate")


def _flipped(message: str, offset: int) -> str:
    data = bytearray(_binary(message))
    data[offset] ^= 0x01
    return base64.b64encode(bytes(data)).decode()


def main(directory: Path, revision: str | None) -> None:
    def read(name: str) -> str:
        return (directory / name).read_text()

    keys: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    combiner: list[dict[str, Any]] = []
    negative: list[dict[str, Any]] = []
    seen: set[str] = set()
    case_id = 0

    def next_id() -> int:
        nonlocal case_id
        case_id += 1
        return case_id

    for name, stem, msg_file, fpr, sub_fpr, mlkem_ks, ecdh_ks, kek, sk in SAMPLES:
        secret = read(f"{stem}-sk.asc")
        public = read(f"{stem}-pk.asc")
        expected_key = {"fingerprint": fpr.upper(), "encryption_key": sub_fpr.upper()}
        version = stem.split("-")[0]
        if stem not in seen:
            seen.add(stem)
            keys.append(
                {
                    "id": next_id(),
                    "comment": f"{version} certificate: Ed25519 primary key, "
                    "ML-KEM-768+X25519 subkey",
                    "flags": FLAG,
                    "result": "valid",
                    "inputs": {"op": "load_certificate", "data": public},
                    "expected": expected_key,
                }
            )
            keys.append(
                {
                    "id": next_id(),
                    "comment": f"{version} secret key (unprotected)",
                    "flags": FLAG,
                    "result": "valid",
                    "inputs": {"op": "load_key", "data": secret},
                    "expected": expected_key,
                }
            )
        message = read(msg_file)
        messages.append(
            {
                "id": next_id(),
                "comment": f"{name}: signed message 'Testing\\n'",
                "flags": FLAG,
                "result": "valid",
                "inputs": {"op": "decrypt", "key": secret, "message": message},
                "expected": {"plaintext": PLAINTEXT, "session_key": sk},
            }
        )
        offset, fields = _pkesk_fields(message)
        combiner.append(
            {
                "id": next_id(),
                "comment": f"{name}: multiKeyCombine",
                "flags": FLAG,
                "result": "valid",
                "inputs": {
                    "op": "combine",
                    "mlkem_share": mlkem_ks,
                    "ecdh_share": ecdh_ks,
                    "ecdh_ciphertext": fields[:32].hex(),
                    "ecdh_public": _subkey_public(public)[:32].hex(),
                },
                "expected": {"kek": kek},
            }
        )
        for what, where in (
            ("the X25519 ephemeral key", 5),
            ("the ML-KEM ciphertext (implicit rejection: a wrong key share)", 600),
            ("the wrapped session key", len(fields) - 3),
        ):
            negative.append(
                {
                    "id": next_id(),
                    "comment": f"{name}: one octet of {what} flipped",
                    "flags": [*FLAG, "Tampered"],
                    "result": "invalid",
                    "error": "DecryptionError",
                    "inputs": {
                        "op": "decrypt",
                        "key": secret,
                        "message_b64": _flipped(message, offset + where),
                    },
                }
            )
    negative.append(
        {
            "id": next_id(),
            "comment": "the v6 sample message opened with the v4 sample key",
            "flags": [*FLAG, "WrongKey"],
            "result": "invalid",
            "error": "NoMatchingKeyError",
            "inputs": {
                "op": "decrypt",
                "key": read("v4-eddsa-sample-sk.asc"),
                "message": read("v6-eddsa-sample-message.asc"),
            },
        }
    )
    source: dict[str, Any] = {
        "name": "RFC 9980 (Post-Quantum Cryptography in OpenPGP), test vectors "
        "appendix: Sample v6 and v4 Ed25519 with ML-KEM-768+X25519 Data",
        "url": "https://www.rfc-editor.org/rfc/rfc9980",
        "confirmed_by": ["sequoia-openpgp (pysequoia 0.1.35) in tests/interop"],
    }
    if revision:
        source["revision"] = (
            f"files from github.com/openpgp-pqc/draft-openpgp-pqc at {revision}"
        )
    doc = {
        "schema": "openpgp-rfc9980.json",
        "kind": "openpgp-rfc9980",
        "description": "RFC 9980 ML-KEM-768+X25519 (algorithm 35) samples through "
        "e2ee_mail.openpgp: the v6 and v4 certificates and secret keys, the three "
        "sample messages (v6 PKESK + SEIPDv2 on both keys, v3 PKESK + SEIPDv1 on the "
        "v4 key) with their session keys, the key combiner on the published key "
        "shares, and the messages with one octet altered. The ML-DSA and SLH-DSA "
        "samples are left out: their primary keys sign with algorithms e2ee_mail "
        "does not verify.",
        "source": source,
        "notes": {
            "Rfc9980": "Published sample from RFC 9980's test-vector appendix.",
            "Tampered": "One octet of the PKESK altered: the key wrap's integrity "
            "check (RFC 3394 §2.2.3) fails, which must be DecryptionError.",
            "WrongKey": "No PKESK names the key: NoMatchingKeyError.",
        },
        "groups": [
            {"comment": "keys", "cases": keys},
            {"comment": "messages", "cases": messages},
            {"comment": "key combiner (multiKeyCombine)", "cases": combiner},
            {"comment": "altered messages, wrong key", "cases": negative},
        ],
    }
    OUT.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT} ({case_id} cases)")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None)
