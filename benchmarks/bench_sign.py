"""Signed and encrypted messages through the public API: sign+encrypt, decrypt+verify.

Case ids (report.py pairs each with the limit timed right next to it):

- ``{fmt}.sign.encrypt.{size}``: ``e2ee_mail.encrypt(data, cert, sign_with=key)``;
- ``{fmt}.sign.decrypt.{size}``: ``e2ee_mail.decrypt(sealed, key, verify_with=[cert])``.

``fmt`` is ``openpgp`` (an RFC 9580 v6 key: its Ed25519 primary signs, SEIPDv2) or
``cms`` (an X.509 X25519 identity: its Ed25519 companion signs, SignedData inside
AuthEnvelopedData). One X25519 recipient, 1 KiB and 16 MiB.

The limit of sign+encrypt is the same ``encrypt`` without ``sign_with`` plus one
signature primitive over the same bytes (:class:`_limits.SignaturePrimitive`: the
body hashed with the signature's hash, the digest signed with ``cryptography``);
the limit of decrypt+verify is ``decrypt`` of the same message unsigned plus one
verification of that kind. Both are timed right before and after each case
(``extra_info["paired_limit"]``): the ratio says what signing costs beyond the
one hash pass and the one public-key operation it cannot avoid.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from _bench import (
    KIB,
    MIB,
    Measure,
    call_or_skip,
    payload,
    require_format,
    size_id,
)
from _limits import SignaturePrimitive

import e2ee_mail

#: fmt -> key format of its identities
FORMATS: dict[str, str] = {"openpgp": "openpgp", "cms": "x509"}
#: The limit's primitive for a CMS signing key's algorithm (X509SecretKey.algorithm).
CMS_PRIMITIVES = {"ed25519": "ed25519", "ecdh-p256": "ecdsa-p256"}
SIZES = (KIB, 16 * MIB)


class Signer:
    """A session's identity for one format: the secret key that decrypts, the one
    that signs, the certificate that verifies, and the primitive of the limit."""

    def __init__(self, fmt: str) -> None:
        self.key: Any = e2ee_mail.generate_key(
            f"Signer <signer-{fmt}@example.org>",
            format=FORMATS[fmt],  # type: ignore[arg-type]
            kind="x25519",
        )
        self.signing_key: Any = self.key.signing_key
        self.verifier: Any = self.signing_key.public
        # An RFC 9580 v6 key generated here signs with its Ed25519 primary; an
        # X.509 X25519 identity with its Ed25519 companion.
        kind = "ed25519"
        if fmt == "cms":
            # X509SecretKey.algorithm: "ed25519", "ecdh-p256", "rsa3072" ...
            algorithm = str(getattr(self.signing_key, "algorithm", "?"))
            if algorithm not in CMS_PRIMITIVES:
                raise NotImplementedError(f"no limit for a {algorithm} signing key")
            kind = CMS_PRIMITIVES[algorithm]
        self.primitive = SignaturePrimitive(kind)


_SIGNERS: dict[str, Signer] = {}


@pytest.fixture(scope="session")
def signers() -> dict[str, Signer]:
    """The session's signing identities, made once (fresh keys: a key cached by an
    older run may have no signing companion)."""
    return _SIGNERS


def _signer(signers: dict[str, Signer], fmt: str) -> Signer:
    require_format(fmt)
    if fmt not in signers:
        signers[fmt] = call_or_skip(fmt, lambda: Signer(fmt))
    return signers[fmt]


@pytest.mark.parametrize("n", [pytest.param(n, id=size_id(n)) for n in SIZES])
@pytest.mark.parametrize("op", ["encrypt", "decrypt"])
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_signed(
    measure: Measure, signers: dict[str, Signer], fmt: str, op: str, n: int
) -> None:
    s = _signer(signers, fmt)
    data = payload(n)
    cert = s.key.public

    def sign_encrypt() -> bytearray:
        return e2ee_mail.encrypt(data, [cert], format=fmt, sign_with=s.signing_key)  # type: ignore[arg-type]

    def encrypt() -> bytearray:
        return e2ee_mail.encrypt(data, [cert], format=fmt)  # type: ignore[arg-type]

    # Received mail arrives as bytes (a file, a socket): decrypt is fed bytes.
    sealed = bytes(call_or_skip(fmt, sign_encrypt))
    unsigned = bytes(encrypt())
    signature = s.primitive.sign(data)
    info: dict[str, Any] = {
        "format": fmt,
        "op": op,
        "size": n,
        "primitive": s.primitive.kind,
        "overhead": len(sealed) - len(unsigned),
    }
    case = f"{fmt}.sign.{op}.{size_id(n)}"
    limit: Callable[[], object]
    if op == "encrypt":

        def limit() -> object:
            return encrypt(), s.primitive.sign(data)

        out = measure(
            sign_encrypt,
            case=case,
            group=f"sign+encrypt {size_id(n)}",
            nbytes=n,
            paired=limit,
            **info,
        )
        assert e2ee_mail.decrypt(out, s.key, verify_with=[s.verifier]) == data
    else:

        def limit() -> object:
            opened = e2ee_mail.decrypt(unsigned, s.key)
            s.primitive.verify(data, signature)
            return opened

        opened = measure(
            lambda: e2ee_mail.decrypt(sealed, s.key, verify_with=[s.verifier]),
            case=case,
            group=f"decrypt+verify {size_id(n)}",
            nbytes=n,
            paired=limit,
            **info,
        )
        assert opened == data
