"""Vector runner for kind ``cms-openssl`` (data/cms/openssl.json): CMS enveloped
messages made by ``openssl cms`` (or made by us and opened by ``openssl cms``), run
through the code that ships: :func:`envelope.decrypt`, :func:`envelope.decrypt_stream`
and :func:`envelope.inspect`. Imported by :mod:`.loader` on first use.
"""

from __future__ import annotations

import io

from ..cms import envelope
from ..policy import Policy
from ..x509 import certs as x509
from .case import Case, Mismatch, expect_equal

__all__: list[str] = []


def run_openssl(case: Case, policy: Policy) -> None:
    op = case.text("op")
    data = case.message()
    if op == "inspect":
        described = envelope.inspect(data)
        expect_equal(
            described.content_algorithm,
            case.expected.get("content_algorithm"),
            "content algorithm",
        )
        got = [r.algorithm for r in described.recipients]
        expect_equal(
            got, case.expected.get("recipient_algorithms"), "recipient algorithms"
        )
        return
    # The key file as e2ee-mail keygen writes it: PKCS#8 PEM, then the certificate,
    # so that recipient entries are matched by issuerAndSerialNumber / SKI.
    pem = case.text("key") + case.text("certificate")
    key = x509.load_key(pem.encode("ascii"), None)
    if op == "decrypt":
        plain = bytes(envelope.decrypt(data, [key], policy=policy))
    elif op == "decrypt_stream":
        out = io.BytesIO()
        envelope.decrypt_stream(io.BytesIO(data), out, [key], policy=policy)
        plain = out.getvalue()
    else:
        raise Mismatch(f"unknown op {op!r}")
    expect_equal(plain.hex(), case.expected.get("plaintext"), "plaintext")
