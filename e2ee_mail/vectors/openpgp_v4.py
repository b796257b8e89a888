"""Vector runner for kind ``openpgp-gnupg`` (data/openpgp/gnupg-v4.json): OpenPGP
v4 keys and messages made by GnuPG 2.2, plus the RFC 9580 A.12 SEIPDv1 samples.

Every operation goes through the code that ships: ``certs.load_certificate`` /
``certs.load_key``, ``message.decrypt`` for whole messages (v3 PKESK + SEIPDv1, often
compressed), and ``seipdv1.open_body`` plus the inner-packet reader for a bare SEIPDv1
packet opened with its published session key. Imported by :mod:`.loader` on first use.
"""

from __future__ import annotations

from ..openpgp import certs, inner, message, seipdv1
from ..openpgp.packets import TAG_SEIPD
from ..openpgp.packets.header import parse_packets
from ..policy import Policy
from .case import Case, Mismatch, expect_equal
from .openpgp import check_key

__all__: list[str] = []


def _passphrase(case: Case) -> bytes | None:
    value = case.inputs.get("passphrase", case.group.get("passphrase"))
    return value.encode() if isinstance(value, str) and value else None


def run_gnupg(case: Case, policy: Policy) -> None:
    op = case.text("op")
    if op == "load_certificate":
        check_key(certs.load_certificate(case.text("certificate").encode()), case)
    elif op == "load_key":
        key = certs.load_key(case.text("key").encode(), _passphrase(case))
        check_key(key.public, case)
        if not key.decryption_keys():
            raise Mismatch("the secret key gives no decryption key")
    elif op == "decrypt":
        key = certs.load_key(case.text("key").encode(), _passphrase(case))
        data = case.message()
        plain = message.decrypt(data, [key], policy=policy)
        expect_equal(plain.hex(), case.expected.get("plaintext"), "plaintext")
    elif op == "open_seipd_v1":
        (packet,) = parse_packets(case.hex("seipd"))
        expect_equal(packet.tag, TAG_SEIPD, "packet type")
        cipher = case.value("cipher")
        if not isinstance(cipher, int):
            raise Mismatch("input 'cipher' is not an integer")
        packets = seipdv1.open_body(packet.body, cipher, case.hex("session_key"))
        plain = inner.take_literal_data(packets, policy)
        expect_equal(plain.hex(), case.expected.get("plaintext"), "plaintext")
    else:
        raise Mismatch(f"unknown op {op!r}")
