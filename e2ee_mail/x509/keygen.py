"""Generating X.509 key pairs for CMS recipients (RFC 5280 profile, RFC 8550 §4.4).

- RSA-3072/4096: a self-signed certificate, keyUsage keyEncipherment (critical),
  basicConstraints cA=FALSE, an rfc822Name SAN, extKeyUsage emailProtection,
  subjectKeyIdentifier (RFC 5280 §4.2.1.2 method 1), SHA-256 signature.
- X25519 (RFC 8410): the certificate is signed by an Ed25519 issuer key generated for
  the purpose and then discarded, because an X25519 key cannot sign; keyUsage
  keyAgreement, with an authorityKeyIdentifier naming the issuer key.
- ML-KEM-768/1024 (RFC 9935): the same Ed25519 issuer arrangement, an ML-KEM key
  cannot sign either; keyUsage keyEncipherment alone (RFC 9935 §5). The private key
  is written as `cryptography` writes it, the 64-octet seed form (RFC 9935 §6).

Serial numbers are 127 random bits (RFC 5280 §4.1.2.2). Validity starts a day in the
past (clock skew) and lasts :data:`VALIDITY_DAYS`.
"""

from __future__ import annotations

import datetime
import re
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, mlkem, rsa, x25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..core.random import random_bytes
from ..errors import UsageError
from ..model import RSA_BITS, KeyKind
from .certs import PublicKey, X509Certificate, X509SecretKey

__all__ = ["VALIDITY_DAYS", "generate"]

#: Validity of generated certificates, in days (about three years).
VALIDITY_DAYS: Final = 3 * 365
#: "Name <addr>" (RFC 5322 name-addr, loosely) or a bare address.
_UID = re.compile(
    r"^\s*(?:(?P<name>[^<>]*?)\s*<(?P<addr>[^<>@\s]+@[^<>@\s]+)>"
    r"|(?P<bare>[^<>@\s]+@[^<>@\s]+))\s*$"
)


def _parse_uid(uid: str) -> tuple[str, str]:
    """(common name, address) of a user ID; a bare address is its own name."""
    if not uid.strip():
        raise UsageError("the user ID is empty: pass an address or Name <address>")
    match = _UID.match(uid)
    if match is None:
        raise UsageError(
            f"user ID {uid!r} names no address: an X.509 certificate needs one, "
            'as "alice@example.org" or "Alice <alice@example.org>"'
        )
    addr = match.group("addr") or match.group("bare")
    return match.group("name") or addr, addr


def _serial() -> int:
    # RFC 5280 §4.1.2.2: positive, at most 20 octets; 127 random bits.
    return int.from_bytes(random_bytes(16), "big") >> 1 | 1


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public: PublicKey | ed25519.Ed25519PublicKey,
    addr: str,
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(_serial())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=VALIDITY_DAYS))
        .add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(addr)]), critical=False
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(public), critical=False
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            critical=False,
        )
    )


def _key_usage(*, encipher: bool, agree: bool, sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=encipher,
        data_encipherment=False,
        key_agreement=agree,
        key_cert_sign=sign,
        crl_sign=sign,
        encipher_only=False,
        decipher_only=False,
    )


def _generate_mlkem(
    subject: x509.Name, name: str, addr: str, kind: KeyKind
) -> X509SecretKey:
    """An ML-KEM certificate issued by a throwaway Ed25519 key (see the docstring)."""
    private: mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey
    if kind == "mlkem768":
        private = mlkem.MLKEM768PrivateKey.generate()
        label = "ML-KEM-768"
    else:
        private = mlkem.MLKEM1024PrivateKey.generate()
        label = "ML-KEM-1024"
    issuer_key = ed25519.Ed25519PrivateKey.generate()
    issuer = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, f"{name} ({label} key issuer)")]
    )
    builder = (
        _builder(subject, issuer, private.public_key(), addr)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .add_extension(_key_usage(encipher=True, agree=False, sign=False), True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    cert = builder.sign(issuer_key, None)
    return X509SecretKey(private, X509Certificate(cert))


def generate(uid: str, *, kind: KeyKind) -> X509SecretKey:
    """Generate an X.509 key pair for ``uid`` ("Name <addr>" or a bare address).

    RSA kinds give a self-signed certificate with keyUsage keyEncipherment. The
    x25519 kind gives an X25519 certificate with keyUsage keyAgreement, and the
    mlkem kinds an ML-KEM one with keyUsage keyEncipherment, signed by an Ed25519
    issuer key generated for the purpose and then discarded.

    Args:
        uid: "Name <addr@example.org>" or "addr@example.org"; the address goes
            into the SAN and the subject's emailAddress, the name (else the
            address) into its commonName.
        kind: "x25519", "rsa3072", "rsa4096", "mlkem768" or "mlkem1024".

    Returns:
        The secret key; ``key.public`` is the certificate.

    Raises:
        UsageError: an empty uid, one without an address, or an unknown kind.
    """
    name, addr = _parse_uid(uid)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.EMAIL_ADDRESS, addr),
        ]
    )
    if kind in RSA_BITS:
        private_rsa = rsa.generate_private_key(65537, RSA_BITS[kind])
        builder = (
            _builder(subject, subject, private_rsa.public_key(), addr)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            .add_extension(
                _key_usage(encipher=True, agree=False, sign=False), critical=True
            )
        )
        cert = builder.sign(private_rsa, hashes.SHA256())
        return X509SecretKey(private_rsa, X509Certificate(cert))
    if kind == "x25519":
        issuer_key = ed25519.Ed25519PrivateKey.generate()
        issuer = x509.Name(
            [x509.NameAttribute(NameOID.COMMON_NAME, f"{name} (X25519 key issuer)")]
        )
        private_x = x25519.X25519PrivateKey.generate()
        builder = (
            _builder(subject, issuer, private_x.public_key(), addr)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            .add_extension(
                _key_usage(encipher=False, agree=True, sign=False), critical=True
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    issuer_key.public_key()
                ),
                critical=False,
            )
        )
        cert = builder.sign(issuer_key, None)
        return X509SecretKey(private_x, X509Certificate(cert))
    if kind in ("mlkem768", "mlkem1024"):
        return _generate_mlkem(subject, name, addr, kind)
    raise UsageError(
        f"unknown key kind {kind!r}: use x25519, rsa3072, rsa4096, mlkem768 or "
        "mlkem1024"
    )
