"""The iteration bound on encrypted PKCS#8 key files."""

from __future__ import annotations

import base64

import pytest
from asn1crypto import keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import x25519

import e2ee_mail
from e2ee_mail.x509.pkcs8 import MAX_PBKDF_ITERATIONS

PASSPHRASE = b"correct horse"


def _encrypted_der(iterations: int) -> bytes:
    key = x25519.X25519PrivateKey.generate()
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE),
    )
    info = keys.EncryptedPrivateKeyInfo.load(der)
    params = info["encryption_algorithm"]["parameters"]["key_derivation_func"]
    params["parameters"]["iteration_count"] = iterations
    rebuilt: bytes = keys.EncryptedPrivateKeyInfo(
        {
            "encryption_algorithm": info["encryption_algorithm"].copy(),
            "encrypted_data": info["encrypted_data"].native,
        }
    ).dump(force=True)
    return rebuilt


def _pem(der: bytes) -> bytes:
    body = base64.encodebytes(der).replace(b"\n", b"")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return (
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
        + b"\n".join(lines)
        + b"\n-----END ENCRYPTED PRIVATE KEY-----\n"
    )


@pytest.mark.parametrize("wrap", [_pem, lambda der: der], ids=["pem", "der"])
def test_a_key_asking_for_too_many_iterations_is_refused_before_any_work(
    wrap: object,
) -> None:
    data = wrap(_encrypted_der(2**31 - 1))  # type: ignore[operator]
    with pytest.raises(e2ee_mail.PolicyError, match="key-derivation iterations"):
        e2ee_mail.load_key(data, PASSPHRASE)


def test_a_count_within_the_bound_reaches_the_passphrase_check() -> None:
    # The count changed after encryption, so the derived key is wrong: what matters
    # is that the loader got as far as trying the passphrase.
    data = _encrypted_der(MAX_PBKDF_ITERATIONS // 5000)
    with pytest.raises(e2ee_mail.PassphraseError):
        e2ee_mail.load_key(data, PASSPHRASE)


def test_an_ordinary_encrypted_key_still_loads() -> None:
    key = x25519.X25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE),
    )
    loaded = e2ee_mail.load_key(pem, PASSPHRASE)
    assert loaded.format == "x509"
