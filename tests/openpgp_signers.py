"""OpenPGP signing keys shared by the signature tests: made once per session, never
changed (keys are values)."""

from __future__ import annotations

import functools

from e2ee_mail.openpgp import certs, keygen


@functools.cache
def signer(kind: str) -> certs.OpenPGPSecretKey:
    """ "v6" (Ed25519), "v4" (EdDSALegacy) or "rsa" (v4 RSA-3072)."""
    if kind == "v6":
        return keygen.generate(
            "Sig Six <six@example.org>", kind="x25519", profile="rfc9580"
        )
    if kind == "v4":
        return keygen.generate(
            "Sig Four <four@example.org>", kind="x25519", profile="rfc4880"
        )
    return keygen.generate(
        "Sig Rsa <rsa@example.org>", kind="rsa3072", profile="rfc4880"
    )


KINDS = ("v6", "v4", "rsa")
