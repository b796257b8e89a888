"""Vector runner for kind ``openpgp-rfc9580`` (data/openpgp/rfc9580-*.json).

Every operation goes through the code that ships: ``certs.load_certificate`` /
``certs.load_key`` for keys, ``message.decrypt`` for whole messages, and the SEIPDv2
opener plus the inner-packet reader for bare SEIPD packets with a published session
key (RFC 9580 A.9-A.11 wrap theirs with a password, which e2ee_mail does not read).
"""

from __future__ import annotations

from ..openpgp import certs, inner, message, seipdv2
from ..openpgp.packets import TAG_SEIPD
from ..openpgp.packets.header import parse_packets
from ..policy import Policy
from .case import Case, Mismatch, expect_equal

__all__ = ["check_key", "run_rfc9580"]


def check_key(cert: certs.OpenPGPCertificate, case: Case) -> None:
    expect_equal(cert.fingerprint, case.expected.get("fingerprint"), "fingerprint")
    keys = cert.encryption_keys()
    got = keys[0].fingerprint.hex().upper() if keys else None
    expect_equal(got, case.expected.get("encryption_key"), "encryption key")


def run_rfc9580(case: Case, policy: Policy) -> None:
    op = case.text("op")
    if op == "load_certificate":
        check_key(certs.load_certificate(case.text("data").encode()), case)
    elif op == "load_key":
        passphrase = case.inputs.get("passphrase")
        secret = passphrase.encode() if isinstance(passphrase, str) else None
        key = certs.load_key(case.text("data").encode(), secret)
        check_key(key.public, case)
        if not key.decryption_keys():
            raise Mismatch("the secret key gives no decryption key")
    elif op == "decrypt":
        key = certs.load_key(case.text("key").encode(), None)
        plain = message.decrypt(case.text("message").encode(), [key], policy=policy)
        expect_equal(plain.hex(), case.expected.get("plaintext"), "plaintext")
    elif op == "open_seipd":
        (packet,) = parse_packets(case.hex("seipd"))
        expect_equal(packet.tag, TAG_SEIPD, "packet type")
        packets = seipdv2.open_body(packet.body, case.hex("session_key"))
        plain = inner.take_literal_data(packets, policy)
        expect_equal(plain.hex(), case.expected.get("plaintext"), "plaintext")
    else:
        raise Mismatch(f"unknown op {op!r}")
