"""Vector runner for kind ``openpgp-signatures`` (data/openpgp/*-signatures.json).

Published OpenPGP signatures checked through the code that ships:
``verifying.verify_inline`` and ``verifying.verify_detached`` against a certificate
(``certs.load_certificate``), and, for a sample key published without
self-signatures (RFC 9580 A.1), ``verifying.signature_valid`` against the bare key
packet. Each case states the verdict expected ("good", "bad", ...).
"""

from __future__ import annotations

from ..openpgp import certs, verifying
from ..openpgp.document import SIG_TEXT, DocumentHasher
from ..openpgp.packets.header import parse_packets
from ..openpgp.packets.keys import parse_public_key
from ..policy import Policy
from .case import Case, Mismatch, expect_equal

__all__ = ["run_signatures"]


def _expect_results(results: tuple[object, ...], case: Case) -> None:
    statuses = [getattr(r, "status", None) for r in results]
    expect_equal(statuses, case.expected.get("statuses"), "statuses")
    fingerprint = case.expected.get("fingerprint")
    if fingerprint is not None:
        expect_equal(getattr(results[0], "fingerprint", None), fingerprint, "signer")


def run_signatures(case: Case, policy: Policy) -> None:
    op = case.text("op")
    if op == "verify_inline":
        cert = certs.load_certificate(case.text("cert").encode())
        message = (
            case.text("message").encode()
            if "message" in case.inputs
            else case.hex("message_hex")
        )
        content, results = verifying.verify_inline(message, [cert], policy=policy)
        expect_equal(content.hex(), case.expected.get("plaintext"), "plaintext")
        _expect_results(results, case)
    elif op == "verify_detached":
        cert = certs.load_certificate(case.text("cert").encode())
        results = verifying.verify_detached(
            case.hex("data"), case.text("signature").encode(), [cert], policy=policy
        )
        _expect_results(results, case)
    elif op == "verify_with_key_packet":
        (packet,) = parse_packets(case.hex("key_packet"))
        key = parse_public_key(packet.body)
        (found,) = verifying.read_detached(case.text("signature").encode())
        if isinstance(found, str):
            raise Mismatch(found)
        hasher = DocumentHasher(
            found.version,
            found.hash_algorithm,
            found.salt,
            text=found.sig_type == SIG_TEXT,
        )
        hasher.update(case.hex("data"))
        verdict = "good" if verifying.signature_valid(found, key, hasher) else "bad"
        expect_equal([verdict], case.expected.get("statuses"), "statuses")
    else:
        raise Mismatch(f"unknown op {op!r}")
