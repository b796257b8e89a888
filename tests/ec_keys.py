"""X.509 certificates and keys on the NIST curves, for the CMS ECDH tests.

``e2ee-mail keygen`` makes no EC keys, so the tests make their own: a self-signed
ECDSA certificate (RFC 5480) whose keyUsage allows keyAgreement, with a
subjectKeyIdentifier and an email address, loaded through the library like any
certificate from elsewhere.
"""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from e2ee_mail.x509 import certs as kx

CURVES: dict[str, ec.EllipticCurve] = {
    "p256": ec.SECP256R1(),
    "p384": ec.SECP384R1(),
    "p521": ec.SECP521R1(),
}
_HASHES: dict[str, hashes.SHA256 | hashes.SHA384 | hashes.SHA512] = {
    "p256": hashes.SHA256(),
    "p384": hashes.SHA384(),
    "p521": hashes.SHA512(),
}


def ec_pem(
    curve: str, email: str, *, key_agreement: bool = True
) -> tuple[bytes, bytes]:
    """(PKCS#8 PEM of a fresh key, PEM of its self-signed certificate)."""
    private = ec.generate_private_key(CURVES[curve])
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{curve} test"),
            x509.NameAttribute(NameOID.EMAIL_ADDRESS, email),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    public = private.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(public), critical=False
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=key_agreement,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    cert = builder.sign(private, _HASHES[curve])
    key_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def ec_key(curve: str, email: str = "ec@example.org") -> kx.X509SecretKey:
    """A fresh EC key with its certificate, loaded as the library loads key files."""
    key_pem, cert_pem = ec_pem(curve, email)
    return kx.load_key(key_pem + cert_pem, None)
