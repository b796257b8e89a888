"""Vector runner for kind ``openpgp-rfc9980`` (data/openpgp/rfc9980-*.json): the
samples of RFC 9980's test-vector appendix, ML-KEM-768+X25519 under an Ed25519
primary key, and ML-KEM-768+X25519 / ML-KEM-1024+X448 under ML-DSA-65+Ed25519 /
ML-DSA-87+Ed448 primary keys.

Keys load through ``certs.load_certificate`` / ``certs.load_key``; a message opens
through ``message.decrypt``, and its session key is recovered as the decryptor
recovers it (``recipients.session_keys`` over the message's PKESK packets, which
calls the ML-KEM unwrap in openpgp/pkesk_mlkem.py) and compared with the published
one; op ``combine`` runs the key combiner of core/mlkem.py on the published key
shares. The composite signatures are checked as a reader meets them: op
``verify_detached`` through ``verifying.verify_detached``, op ``decrypt_verified``
through ``verifying.decrypt_verified`` (the signed and encrypted samples), each
stating the verdicts expected, the signer and the signature algorithm; a secret key
case may name the key that signs (``signing.signing_key``).
"""

from __future__ import annotations

from ..core import mlkem
from ..model import SignatureResult
from ..openpgp import armor, certs, message, recipients, signing, verifying
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


def _octets(data: str | bytes) -> bytes:
    return data.encode() if isinstance(data, str) else data


def _expect_results(results: tuple[SignatureResult, ...], case: Case) -> None:
    expect_equal([r.status for r in results], case.expected.get("statuses"), "statuses")
    first = results[0] if results else None
    for field in ("fingerprint", "algorithm"):
        want = case.expected.get(f"signer_{field}")
        if want is not None:
            expect_equal(getattr(first, field, None), want, f"signer {field}")


def _decrypt_verified(case: Case, policy: Policy) -> None:
    key = certs.load_key(case.text("key").encode(), None)
    cert = certs.load_certificate(case.text("cert").encode())
    data = case.message()
    expect_equal(
        _session_key(data, key).hex(), case.expected.get("session_key"), "session key"
    )
    plain, results = verifying.decrypt_verified(data, [key], [cert], policy=policy)
    expect_equal(plain.hex(), case.expected.get("plaintext"), "plaintext")
    _expect_results(results, case)


def run_rfc9980(case: Case, policy: Policy) -> None:
    op = case.text("op")
    if op == "load_certificate":
        data = case.b64("data_b64") if "data_b64" in case.inputs else case.text("data")
        check_key(certs.load_certificate(_octets(data)), case)
    elif op == "load_key":
        key = certs.load_key(case.text("data").encode(), None)
        check_key(key.public, case)
        if not key.decryption_keys():
            raise Mismatch("the secret key gives no decryption key")
        if "signing_key" in case.expected:
            info, _ = signing.signing_key(key, key.public.primary.packet.created)
            got = info.fingerprint.hex().upper()
            expect_equal(got, case.expected["signing_key"], "signing key")
    elif op == "verify_detached":
        cert = certs.load_certificate(case.text("cert").encode())
        results = verifying.verify_detached(
            case.hex("data"), case.text("signature").encode(), [cert], policy=policy
        )
        _expect_results(results, case)
    elif op == "decrypt_verified":
        _decrypt_verified(case, policy)
    elif op == "decrypt":
        _decrypt(case, policy)
    elif op == "combine":
        kek = mlkem.combine(
            case.hex("mlkem_share"),
            case.hex("ecdh_share"),
            case.hex("ecdh_ciphertext"),
            case.hex("ecdh_public"),
            case.integer("algorithm")
            if "algorithm" in case.inputs
            else mlkem.ALGORITHM_ID,
        )
        expect_equal(kek.hex(), case.expected.get("kek"), "KEK")
    else:
        raise Mismatch(f"unknown op {op!r}")
