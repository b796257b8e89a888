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
import datetime

from ..cms import build, envelope, pem
from ..policy import Policy
from ..x509 import certs as x509
from .case import Case, Mismatch, expect_good_signature

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


def run_signature(case: Case, policy: Policy) -> None:
    """Kind ``cms-signatures-deterministic``: SignedData by an Ed25519 key (RFC
    8419) with a recorded signing-time. Input ``signature`` (PEM) or
    ``signature_b64`` (DER) must verify through the public ``verify`` against
    ``cert``, detached over ``data`` or with ``data`` inside (a good signature by
    ``expected.fingerprint``); op ``sign`` also signs ``data`` again with ``key``
    through ``signing.SignedDataBuilder`` and compares the bytes."""
    from .._api import verify
    from ..cms import signing

    signature = case.message_or_b64("signature")
    data = case.hex("data")
    cert = x509.load_certificate((case.directory / case.text("cert")).read_bytes())
    detached = case.value("detached") is True
    if detached:
        verified = verify(data, cert, signature=signature, policy=policy)
    else:
        verified = verify(signature, cert, policy=policy)
    expect_good_signature(verified, data, case)
    if case.text("op") != "sign":
        return
    key = x509.load_key((case.directory / case.text("key")).read_bytes(), None)
    moment = datetime.datetime.fromisoformat(case.text("signing_time"))
    # The certificate is checked at the signing time too, so the vector outlives it.
    builder = signing.SignedDataBuilder(
        [key], signing_time=moment, now=moment.timestamp()
    )
    builder.update(data)
    again = builder.finish(econtent=None if detached else data)
    if case.value("armor") is True:
        again = bytes(pem.armor(again))
    if again != signature:
        raise Mismatch("signing again with the recorded signing-time gives other bytes")
