"""Vector runner for kind ``cms-deterministic`` (data/cms/deterministic.json): our
own CMS messages made with pinned randomness, checked both ways.

Decrypting goes through :func:`envelope.decrypt` with each key the case lists;
re-encrypting goes through :func:`build.encrypt_bytes_from_parts` (the private seam
whose sealing code the shipping ``encrypt_bytes`` shares) with the recorded CEK,
nonce/IV, X25519 ephemeral secrets and RSA-wrapped CEKs, and must give the message
byte for byte. Imported by :mod:`.loader` on first use.
"""

from __future__ import annotations

import dataclasses

from ..cms import build, envelope, pem
from ..policy import Policy
from ..x509 import certs as x509
from .case import Case, Mismatch

__all__: list[str] = []


def run_deterministic(case: Case, policy: Policy) -> None:
    plain = case.plaintext_to_reencrypt(
        lambda data, key, secret: envelope.decrypt(
            data, [x509.load_key(key, secret)], policy=policy
        )
    )
    if plain is None:
        return
    certs = [x509.load_certificate(p.read_bytes()) for p in case.paths("recipients")]
    write_policy = dataclasses.replace(
        policy, allow_rsa_pkcs1v15_encrypt=case.text("key_transport") == "pkcs1v15"
    )
    out = build.encrypt_bytes_from_parts(
        plain,
        certs,
        cek=case.hex("cek"),
        nonce=case.hex("nonce"),
        ephemeral_secrets=case.optional_hexes("ephemeral_secrets"),
        encrypted_keys=case.optional_hexes("encrypted_keys"),
        authenticated=case.text("cipher") == "aes-256-gcm",
        policy=write_policy,
    )
    if case.value("armor") is True:
        out = pem.armor(out)
    if bytes(out) != case.message():
        raise Mismatch("re-encrypting with the recorded randomness gives other bytes")
