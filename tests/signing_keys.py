"""X.509 signing keys for the CMS SignedData tests: self-signed certificates with the
key type, key usage, extended key usage and validity a test asks for.

Keys are values: the common ones are made once per session (``signer``); a test that
needs an odd certificate builds its own with :func:`make_signer`.
"""

from __future__ import annotations

import datetime
import functools
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from e2ee_mail.x509 import certs

Kind = Literal["rsa2048", "rsa1024", "p256", "p384", "ed25519"]
Usage = Literal["sign", "encrypt", "none"]

NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def _private(
    kind: Kind,
) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey:
    if kind == "rsa2048":
        return rsa.generate_private_key(65537, 2048)
    if kind == "rsa1024":
        return rsa.generate_private_key(65537, 1024)
    if kind == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "p384":
        return ec.generate_private_key(ec.SECP384R1())
    return ed25519.Ed25519PrivateKey.generate()


def make_signer(
    kind: Kind,
    email: str = "alice@example.org",
    *,
    usage: Usage = "sign",
    eku: tuple[x509.ObjectIdentifier, ...] | None = (
        ExtendedKeyUsageOID.EMAIL_PROTECTION,
    ),
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
    san: bool = True,
) -> certs.X509SecretKey:
    """A key with a self-signed certificate for ``email``."""
    key = _private(kind)
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, email.split("@")[0])]
    if not san:
        attrs.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    name = x509.Name(attrs)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - datetime.timedelta(days=1))
        .not_valid_after(not_after or NOW + datetime.timedelta(days=365))
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
    )
    if san:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False
        )
    if usage != "none":
        signing = usage == "sign"
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=signing,
                content_commitment=False,
                key_encipherment=not signing,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if eku is not None:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage(list(eku)), critical=False
        )
    digest = None if kind == "ed25519" else hashes.SHA256()
    cert = builder.sign(key, digest)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ) + cert.public_bytes(serialization.Encoding.PEM)
    return certs.load_key(pem, None)


@functools.cache
def signer(kind: Kind, email: str = "alice@example.org") -> certs.X509SecretKey:
    """A shared signing key of ``kind`` for ``email`` (made once per session)."""
    return make_signer(kind, email)
