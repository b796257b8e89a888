"""Generating X.509 key pairs for CMS recipients (RFC 5280 profile, RFC 8550 §4.4).

- RSA-3072/4096: a self-signed certificate, keyUsage digitalSignature and
  keyEncipherment (RFC 8550 §4.4.2: the one key signs and receives mail; critical, as
  RFC 5280 §4.2.1.3 asks of issuers), basicConstraints cA=FALSE, an rfc822Name SAN,
  extKeyUsage emailProtection, subjectKeyIdentifier (RFC 5280 §4.2.1.2 method 1),
  SHA-256 signature.
- X25519 (RFC 8410): two key pairs, because an X25519 key cannot sign. An Ed25519
  signing certificate (RFC 8410, RFC 8419), self-signed, keyUsage digitalSignature
  and keyCertSign with basicConstraints cA=TRUE, pathLenConstraint 0 (RFC 5280
  §4.2.1.9: a key that signs certificates must be marked a CA; the path length 0
  lets it issue only end-entity certificates, its own X25519 one). It signs mail
  and issues the X25519 certificate: keyUsage keyAgreement, cA=FALSE, with an
  authorityKeyIdentifier naming the signing key, so that ``openssl verify
  -CAfile signing.pem`` accepts the pair. Both have the same subject, address and
  extKeyUsage emailProtection.
- ML-KEM-768/1024 (RFC 9935): the same two pairs, as an ML-KEM key cannot sign
  either; the ML-KEM certificate has keyUsage keyEncipherment alone (RFC 9935 §5).
  The private key is written as `cryptography` writes it, the 64-octet seed form
  (RFC 9935 §6).

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


def _key_usage(
    *, encipher: bool = False, agree: bool = False, sign: bool, certify: bool = False
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=encipher,
        data_encipherment=False,
        key_agreement=agree,
        key_cert_sign=certify,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def generate(uid: str, *, kind: KeyKind) -> X509SecretKey:
    """Generate an X.509 key pair for ``uid`` ("Name <addr>" or a bare address).

    RSA kinds give a self-signed certificate with keyUsage digitalSignature and
    keyEncipherment: the key signs and decrypts. The x25519 kind gives an X25519
    certificate with keyUsage keyAgreement, the mlkem kinds an ML-KEM one with
    keyUsage keyEncipherment, each issued by an Ed25519 signing certificate made
    beside it; the returned key decrypts with the X25519 or ML-KEM key and signs
    with the Ed25519 one (:attr:`X509SecretKey.signing_key`).

    Args:
        uid: "Name <addr@example.org>" or "addr@example.org"; the address goes
            into the SAN and the subject's emailAddress, the name (else the
            address) into its commonName.
        kind: "x25519", "rsa3072", "rsa4096", "mlkem768" or "mlkem1024".

    Returns:
        The secret key; ``key.public`` is the (encryption) certificate.

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
    end_entity = x509.BasicConstraints(ca=False, path_length=None)
    if kind in RSA_BITS:
        private_rsa = rsa.generate_private_key(65537, RSA_BITS[kind])
        builder = (
            _builder(subject, subject, private_rsa.public_key(), addr)
            .add_extension(end_entity, critical=True)
            .add_extension(_key_usage(encipher=True, sign=True), critical=True)
        )
        cert = builder.sign(private_rsa, hashes.SHA256())
        return X509SecretKey(private_rsa, X509Certificate(cert))
    private: (
        x25519.X25519PrivateKey | mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey
    )
    if kind == "x25519":
        private = x25519.X25519PrivateKey.generate()
        usage = _key_usage(agree=True, sign=False)
    elif kind == "mlkem768":
        private = mlkem.MLKEM768PrivateKey.generate()
        usage = _key_usage(encipher=True, sign=False)  # RFC 9935 §5
    elif kind == "mlkem1024":
        private = mlkem.MLKEM1024PrivateKey.generate()
        usage = _key_usage(encipher=True, sign=False)
    else:
        raise UsageError(
            f"unknown key kind {kind!r}: use x25519, rsa3072, rsa4096, mlkem768 or "
            "mlkem1024"
        )
    # Neither an X25519 nor an ML-KEM key can sign, not even its own certificate.
    signer = _signing_certificate(subject, addr)
    builder = (
        _builder(subject, subject, private.public_key(), addr)
        .add_extension(end_entity, critical=True)
        .add_extension(usage, critical=True)
        .add_extension(_authority_key_id(signer), critical=False)
    )
    cert = builder.sign(signer.private_key, None)  # type: ignore[arg-type]
    return X509SecretKey(private, X509Certificate(cert), signer=signer)


def _signing_certificate(subject: x509.Name, addr: str) -> X509SecretKey:
    """A self-signed Ed25519 certificate that signs mail and issues the X25519 or
    ML-KEM certificate of the same identity."""
    private_ed = ed25519.Ed25519PrivateKey.generate()
    cert = (
        _builder(subject, subject, private_ed.public_key(), addr)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(sign=True, certify=True), critical=True)
        .sign(private_ed, None)
    )
    return X509SecretKey(private_ed, X509Certificate(cert))


def _authority_key_id(issuer: X509SecretKey) -> x509.AuthorityKeyIdentifier:
    ski = issuer.public.subject_key_identifier
    assert ski is not None  # _builder always adds one
    return x509.AuthorityKeyIdentifier(ski, None, None)
