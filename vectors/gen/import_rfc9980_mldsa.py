"""Write e2ee_mail/vectors/data/openpgp/rfc9980-mldsa-test-vectors.json from RFC
9980's test-vector appendix (data only; run by hand).

Usage: python vectors/gen/import_rfc9980_mldsa.py TEST_VECTOR_DIR [REVISION]

TEST_VECTOR_DIR holds the appendix's files as the RFC's source repository ships them
(https://github.com/openpgp-pqc/draft-openpgp-pqc, test-vectors/): the v6
ML-DSA-65+Ed25519 and ML-DSA-87+Ed448 samples (secret keys, certificates, a detached
signature over "Testing\\n", a signed and encrypted message). The key shares,
combiner outputs, session keys and fingerprints below are transcribed from the
appendix text; the ecdhCipherText and ecdhPublicKey inputs of the combiner are cut
out of the published message and certificate. Negative cases flip one octet of a
published signature (in either half of the composite) or of the ML-DSA half of a
published self-signature, or alter the signed data. The script selects, slices and
relabels; it computes nothing cryptographic, so its output is checked by
``e2ee-mail vectors verify``.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from e2ee_mail.openpgp import armor
from e2ee_mail.openpgp.packets import TAG_PKESK, TAG_PUBLIC_SUBKEY, TAG_SIGNATURE
from e2ee_mail.openpgp.packets.header import parse_packets, serialize_packet
from e2ee_mail.openpgp.packets.keys import parse_public_key
from e2ee_mail.openpgp.packets.pkesk import parse_pkesk
from e2ee_mail.openpgp.packets.signature import (
    SIG_DIRECT_KEY,
    SIG_POSITIVE_CERT,
    SIG_SUBKEY_BINDING,
    SignaturePacket,
    parse_signature,
    serialize_signature,
)

OUT = (
    Path(__file__).resolve().parents[2]
    / "e2ee_mail"
    / "vectors"
    / "data"
    / "openpgp"
    / "rfc9980-mldsa-test-vectors.json"
)
TESTING = b"Testing\n".hex()
#: The self-signatures over the primary key the samples carry.
_PRIMARY_SIGS = frozenset({SIG_DIRECT_KEY, SIG_POSITIVE_CERT})
FLAG = ["Rfc9980"]


@dataclasses.dataclass(frozen=True)
class Sample:
    """One appendix sample, its values transcribed from the appendix text."""

    stem: str
    name: str
    kem: str
    kem_algorithm: int
    ecdh_size: int
    eddsa: str
    eddsa_signature_size: int
    signature_name: str
    fingerprint: str
    subkey: str
    mlkem_share: str
    ecdh_share: str
    kek: str
    session_key: str


SAMPLES = [
    Sample(
        "v6-mldsa-65-sample",
        "ML-DSA-65+Ed25519",
        "ML-KEM-768+X25519",
        35,
        32,
        "Ed25519",
        64,
        "mldsa65-ed25519",
        "a3e2e14b6a493ff930fb27321f125e9a6880338be9fb7da3ae065ea65793242f",
        "7dae8fbce23022607167af72a002e774e0ca379a2d7ae072384e1e8fde3265e4",
        "0987fe72ad5ea58e73344f9a2a543f4131d9fdb7cf07474f501430a20f705b4d",
        "88f3e9a8de1917127b4b758f6e83bd4ce00faaae01bd8b6e412a43a710b26012",
        "a4904982f7caa9c9de690afd772d8bfe027a1ad6a5bbda00db68963fe303ae8e",
        "adee68618b302d4bfd7ae3d432bc63a1c1ad7f5fd6e7fd7bdedbb0d0b14a5c9a",
    ),
    Sample(
        "v6-mldsa-87-sample",
        "ML-DSA-87+Ed448",
        "ML-KEM-1024+X448",
        36,
        56,
        "Ed448",
        114,
        "mldsa87-ed448",
        "0d7a8be1410cd68eed4845ab487b4b4cfaecd8ebad1a1166a84230499200ee20",
        "65090e147a8116ab7f62ab4ec7aae59d9e6532feb2af230c73cdc869fbc60c8f",
        "f18f161e617b8ce5968f109aadea1e7e1511d10165768d36127ba913c00637d2",
        "732860c8114ae84a964664b1f607785d11bc7d24d5324510adad89bd52db7ee0"
        "df9982ad0d1669bdd05556330c86f2dae9e2edea42e05bc5",
        "ef1e32906f67d39bc800d90cabb0033c77ca6dce8ffca3e96d9c7348e2e8c16e",
        "0588ce40b038aac353d1cf8c67a674b412985105794821013ef154f786c4d89d",
    ),
]


def _binary(text: str) -> bytes:
    return armor.dearmor(text.encode())[1]


def _with_material(sig: SignaturePacket, offset: int) -> bytes:
    material = bytearray(sig.material)
    material[offset] ^= 0x01
    return serialize_signature(dataclasses.replace(sig, material=bytes(material)))


def _flipped_signature(armored: str, offset: int) -> str:
    """The detached signature with octet ``offset`` of its material flipped."""
    (packet,) = parse_packets(_binary(armored))
    body = _with_material(parse_signature(packet.body), offset)
    return bytes(
        armor.enarmor(serialize_packet(TAG_SIGNATURE, body), "SIGNATURE")
    ).decode()


def _flipped_self_signatures(
    cert: str, chosen: Callable[[SignaturePacket], bool], offset: int
) -> str:
    """The certificate (binary, base64) with octet ``offset`` of the material of
    every ``chosen`` signature flipped."""
    out = b""
    for packet in parse_packets(_binary(cert)):
        body = bytes(packet.body)
        if packet.tag == TAG_SIGNATURE and chosen(sig := parse_signature(body)):
            body = _with_material(sig, offset)
        out += serialize_packet(packet.tag, body)
    return base64.b64encode(out).decode()


def _ecdh_inputs(message: str, cert: str, size: int) -> tuple[str, str]:
    """(ecdhCipherText, ecdhPublicKey): the first ``size`` octets of the PKESK's
    fields and of the subkey's public key fields."""
    first = parse_packets(_binary(message))[0]
    assert first.tag == TAG_PKESK
    ciphertext = parse_pkesk(first.body).material[:size]
    for packet in parse_packets(_binary(cert)):
        if packet.tag == TAG_PUBLIC_SUBKEY:
            return ciphertext.hex(), parse_public_key(packet.body).material[:size].hex()
    raise SystemExit("no subkey in the certificate")


def main(directory: Path, revision: str | None) -> None:
    def read(name: str) -> str:
        return (directory / name).read_text()

    groups: list[dict[str, Any]] = []
    case_id = 0

    def case(
        comment: str, flags: list[str], inputs: dict[str, Any], **rest: Any
    ) -> dict[str, Any]:
        nonlocal case_id
        case_id += 1
        result = "invalid" if "error" in rest else "valid"
        out: dict[str, Any] = {
            "id": case_id,
            "comment": comment,
            "flags": flags,
            "result": result,
        }
        if "error" in rest:
            out["error"] = rest["error"]
        out["inputs"] = inputs
        if "expected" in rest:
            out["expected"] = rest["expected"]
        return out

    tampered = [*FLAG, "Tampered"]
    for s in SAMPLES:
        public, secret = read(f"{s.stem}-pk.asc"), read(f"{s.stem}-sk.asc")
        signature = read(f"{s.stem}-signature.asc")
        message = read(f"{s.stem}-message.asc")
        fpr = s.fingerprint.upper()
        key = {"fingerprint": fpr, "encryption_key": s.subkey.upper()}
        groups.append(
            {
                "comment": f"{s.name} keys",
                "cases": [
                    case(
                        f"v6 certificate: {s.name} primary key, {s.kem} subkey",
                        FLAG,
                        {"op": "load_certificate", "data": public},
                        expected=key,
                    ),
                    case(
                        f"v6 secret key (unprotected): the {s.name} primary key signs",
                        FLAG,
                        {"op": "load_key", "data": secret},
                        expected={**key, "signing_key": fpr},
                    ),
                    case(
                        "v6 certificate with one octet of the ML-DSA half of its "
                        "subkey binding flipped: the subkey is not bound",
                        tampered,
                        {
                            "op": "load_certificate",
                            "data_b64": _flipped_self_signatures(
                                public,
                                lambda g: g.sig_type == SIG_SUBKEY_BINDING,
                                s.eddsa_signature_size + 5,
                            ),
                        },
                        expected={"fingerprint": fpr},
                    ),
                    case(
                        "v6 certificate with one octet of the ML-DSA half of every "
                        "self-signature over the primary key flipped",
                        tampered,
                        {
                            "op": "load_certificate",
                            "data_b64": _flipped_self_signatures(
                                public,
                                lambda g: g.sig_type in _PRIMARY_SIGS,
                                s.eddsa_signature_size + 5,
                            ),
                        },
                        error="KeyLoadError",
                    ),
                ],
            }
        )
        verdict = {"signer_fingerprint": fpr, "signer_algorithm": s.signature_name}
        good = {"statuses": ["good"], **verdict}
        bad = {"statuses": ["bad"], **verdict}
        ecdh_ciphertext, ecdh_public = _ecdh_inputs(message, public, s.ecdh_size)
        groups.append(
            {
                "comment": f"{s.name} signatures",
                "cert": public,
                "key": secret,
                "cases": [
                    case(
                        "detached signature over 'Testing\\n'",
                        FLAG,
                        {
                            "op": "verify_detached",
                            "signature": signature,
                            "data": TESTING,
                        },
                        expected=good,
                    ),
                    case(
                        "signed message 'Testing\\n' in a v6 PKESK + SEIPDv2",
                        FLAG,
                        {"op": "decrypt_verified", "message": message},
                        expected={
                            "plaintext": TESTING,
                            "session_key": s.session_key,
                            **good,
                        },
                    ),
                    case(
                        f"multiKeyCombine of the signed message's {s.kem} PKESK",
                        FLAG,
                        {
                            "op": "combine",
                            "mlkem_share": s.mlkem_share,
                            "ecdh_share": s.ecdh_share,
                            "ecdh_ciphertext": ecdh_ciphertext,
                            "ecdh_public": ecdh_public,
                            "algorithm": s.kem_algorithm,
                        },
                        expected={"kek": s.kek},
                    ),
                    case(
                        f"detached signature, one octet of the {s.eddsa} half "
                        "flipped (the ML-DSA half still valid)",
                        tampered,
                        {
                            "op": "verify_detached",
                            "signature": _flipped_signature(signature, 3),
                            "data": TESTING,
                        },
                        expected=bad,
                    ),
                    case(
                        "detached signature, one octet of the ML-DSA half flipped "
                        f"(the {s.eddsa} half still valid)",
                        tampered,
                        {
                            "op": "verify_detached",
                            "signature": _flipped_signature(
                                signature, s.eddsa_signature_size + 100
                            ),
                            "data": TESTING,
                        },
                        expected=bad,
                    ),
                    case(
                        "detached signature over altered data 'Testing!\\n'",
                        tampered,
                        {
                            "op": "verify_detached",
                            "signature": signature,
                            "data": b"Testing!\n".hex(),
                        },
                        expected=bad,
                    ),
                ],
            }
        )
    first, second = SAMPLES
    groups.append(
        {
            "comment": "signer not given",
            "cases": [
                case(
                    f"the {first.name} detached signature checked against the "
                    f"{second.name} certificate",
                    [*FLAG, "WrongKey"],
                    {
                        "op": "verify_detached",
                        "cert": read(f"{second.stem}-pk.asc"),
                        "signature": read(f"{first.stem}-signature.asc"),
                        "data": TESTING,
                    },
                    expected={"statuses": ["unknown-signer"]},
                )
            ],
        }
    )
    source: dict[str, Any] = {
        "name": "RFC 9980 (Post-Quantum Cryptography in OpenPGP), test vectors "
        "appendix: Sample ML-DSA-65+Ed25519 with ML-KEM-768+X25519 Data, Sample "
        "ML-DSA-87+Ed448 with ML-KEM-1024+X448 Data",
        "url": "https://www.rfc-editor.org/rfc/rfc9980",
        "confirmed_by": ["sequoia-openpgp (pysequoia 0.1.35) in tests/interop"],
    }
    if revision:
        source["revision"] = (
            "files test-vectors/v6-mldsa-{65,87}-sample-{pk,sk,signature,message}.asc "
            f"from github.com/openpgp-pqc/draft-openpgp-pqc at {revision}; the "
            "Tampered cases flip one octet of them (gen/import_rfc9980_mldsa.py)"
        )
    doc = {
        "schema": "openpgp-rfc9980.json",
        "kind": "openpgp-rfc9980",
        "description": "RFC 9980 ML-DSA-65+Ed25519 (algorithm 30) and "
        "ML-DSA-87+Ed448 (31) samples through e2ee_mail.openpgp: the v6 "
        "certificates and secret keys (composite primary keys with "
        "ML-KEM-768+X25519 / ML-KEM-1024+X448 subkeys), the detached signatures "
        "over 'Testing\\n', the signed and encrypted messages with their session "
        "keys and key-combiner outputs, and altered copies: one octet flipped in "
        "either half of a composite signature, altered data, altered "
        "self-signatures.",
        "source": source,
        "notes": {
            "Rfc9980": "Published sample from RFC 9980's test-vector appendix (or "
            "derived from one).",
            "Tampered": "One octet altered, or the data: RFC 9980 §5.2.2 makes a "
            "composite signature valid only when both halves are, so the verdict "
            'is "bad", or the self-signature does not count.',
            "WrongKey": "The signer is none of the certificates given: "
            '"unknown-signer".',
        },
        "groups": groups,
    }
    OUT.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None)
