"""Vector runner for kind ``openpgp-rfc9980`` (data/openpgp/rfc9980-*.json): the
ML-KEM-768+X25519 samples of RFC 9980's test-vector appendix.

Keys load through ``certs.load_certificate`` / ``certs.load_key``; a message opens
through ``message.decrypt``, and its session key is recovered as the decryptor
recovers it (``recipients.session_keys`` over the message's PKESK packets, which
calls the ML-KEM unwrap in openpgp/pkesk_mlkem.py) and compared with the published
one; op ``combine`` runs the key combiner of core/mlkem.py on the published key
shares.
"""

from __future__ import annotations

from ..core import mlkem
from ..openpgp import armor, certs, message, recipients
from ..openpgp.packets import TAG_PKESK
from ..openpgp.packets.header import parse_packets
from ..openpgp.packets.pkesk import PKESKv6, parse_pkesk
from ..policy import Policy
from .case import Case, Mismatch, expect_equal
from .openpgp import check_key

__all__ = ["run_rfc9980"]


def _session_key(data: bytes, key: certs.OpenPGPSecretKey) -> bytes:
    binary = armor.dearmor(data)[1] if armor.is_armored(data) else data
    packets = [parse_pkesk(p.body) for p in parse_packets(binary) if p.tag == TAG_PKESK]
    version = 2 if packets and isinstance(packets[0], PKESKv6) else 1
    _, session_key = next(recipients.session_keys(packets, [key], version))
    return session_key


def _decrypt(case: Case, policy: Policy) -> None:
    key = certs.load_key(case.text("key").encode(), None)
    data = case.message()
    if "session_key" in case.expected:
        expect_equal(
            _session_key(data, key).hex(), case.expected["session_key"], "session key"
        )
    plain = message.decrypt(data, [key], policy=policy)
    expect_equal(plain.hex(), case.expected.get("plaintext"), "plaintext")


def run_rfc9980(case: Case, policy: Policy) -> None:
    op = case.text("op")
    if op == "load_certificate":
        check_key(certs.load_certificate(case.text("data").encode()), case)
    elif op == "load_key":
        key = certs.load_key(case.text("data").encode(), None)
        check_key(key.public, case)
        if not key.decryption_keys():
            raise Mismatch("the secret key gives no decryption key")
    elif op == "decrypt":
        _decrypt(case, policy)
    elif op == "combine":
        kek = mlkem.combine(
            case.hex("mlkem_share"),
            case.hex("ecdh_share"),
            case.hex("ecdh_ciphertext"),
            case.hex("ecdh_public"),
        )
        expect_equal(kek.hex(), case.expected.get("kek"), "KEK")
    else:
        raise Mismatch(f"unknown op {op!r}")
