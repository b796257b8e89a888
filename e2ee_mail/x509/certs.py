"""X.509 certificates and PKCS#8 secret keys for CMS / S/MIME recipients.

Implements: loading certificates (RFC 5280, PEM per RFC 7468 or DER) and PKCS#8 private
keys (RFC 5958, plain or PBES2-encrypted, PEM or DER); generating (in keygen.py)

- RSA-3072/4096 self-signed certificates with an emailAddress (rfc822Name) SAN and
  keyUsage keyEncipherment (RFC 8550 §4.4.2), and
- X25519 certificates (RFC 8410 §3) issued by an Ed25519 signing certificate of the
  same identity, because an X25519 key cannot sign itself; the Ed25519 key signs
  mail (RFC 8419) and is kept beside the X25519 key.

Certificates and PKCS#8 (or SEC 1 "EC PRIVATE KEY") keys on the NIST curves P-256,
P-384 and P-521 (RFC 5480) load as well, for CMS ECDH key agreement (RFC 5753); keygen
does not make them.
Certificates and keys that sign rather than decrypt load as well: Ed25519 (RFC 8410,
RFC 8419) and ECDSA on the NIST curves P-256, P-384 and P-521 (RFC 5480), for CMS
SignedData. Encrypting to an Ed25519 certificate is refused (x509/usage.py), and an
Ed25519 key opens no recipient entry.

Key file format written by ``e2ee-mail keygen``: the PKCS#8 PEM block, followed by the
certificate PEM block, so that a key file alone is enough to match recipient entries
by issuerAndSerialNumber or subjectKeyIdentifier. OpenSSL's ``-inkey`` reads the first
private-key block and skips the certificate. A PKCS#8 key loaded without a certificate
still decrypts: the CMS layer then tries it against every recipient entry of its type.

An X25519 key cannot sign, so an X25519 identity has a second key pair, an Ed25519
signing key and certificate (its *signing companion*), written after the first
pair in the same file: X25519 PKCS#8, X25519 certificate, Ed25519 PKCS#8, Ed25519
certificate, both keys under the same passphrase. One file keeps the identity
whole (the keyring stores, rotates and exports one file per key version), and a
reader that takes the first key and the first certificate (OpenSSL's ``-inkey``
and ``-recip``, older versions of this library) still finds the decryption key as
before. A file with one key pair loads as it always did; an RSA, EC or Ed25519 key
signs with itself.

Certificates carry their validity dates, email addresses and whether their key usage
allows encryption; x509/usage.py checks recipients against them.

Left out: certificate path validation, revocation, key usage enforcement on load (a
certificate that may not receive mail still loads; encrypting to it is refused),
PKCS#12.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import re
import threading
import warnings
from typing import Final

from cryptography import x509
from cryptography.exceptions import InternalError, UnsupportedAlgorithm

# The enums only, from where `serialization` (and `cryptography.x509` itself) takes
# them: the `serialization` package also imports the SSH key format and bcrypt,
# milliseconds of every command's start-up that only loading or exporting a
# private key needs (those functions import it).
from cryptography.hazmat.primitives._serialization import Encoding, PublicFormat
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mlkem, rsa, x25519
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID

from ..errors import (
    ASN1Error,
    FormatError,
    KeyLoadError,
    PassphraseError,
    UnsupportedError,
)
from ..model import Certificate, KeyFormat, SecretKey
from .pkcs8 import check_pbe_cost, load_mlkem_both, read_element
from .usage import usage_refusal

__all__ = [
    "X509Certificate",
    "X509SecretKey",
    "load_certificate",
    "load_certificates",
    "load_key",
]

#: warnings.catch_warnings swaps the process-wide filter list: two threads loading
#: certificates at once could restore each other's list and leave a filter behind.
#: One lock (re-entrant: the loader's block encloses the certificate's).
_WARNING_FILTERS: Final = threading.RLock()

PublicKey = (
    rsa.RSAPublicKey
    | x25519.X25519PublicKey
    | ec.EllipticCurvePublicKey
    | ed25519.Ed25519PublicKey
    | mlkem.MLKEM768PublicKey
    | mlkem.MLKEM1024PublicKey
)
PrivateKey = (
    rsa.RSAPrivateKey
    | x25519.X25519PrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | mlkem.MLKEM768PrivateKey
    | mlkem.MLKEM1024PrivateKey
)

_PEM_BLOCK = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?-----END \1-----\r?\n?", re.DOTALL
)
#: The curves of the EC keys read here (RFC 5480 §2.1.1.1): the NIST ones.
_NIST_CURVES: Final = frozenset(("p256", "p384", "p521"))
_KEY_LABELS: Final = (
    b"PRIVATE KEY",
    b"ENCRYPTED PRIVATE KEY",
    b"RSA PRIVATE KEY",
    b"EC PRIVATE KEY",
)


def _algorithm(key: PublicKey | PrivateKey) -> str | None:
    """ "rsa<bits>", "x25519", "ecdh-p256" / "ecdh-p384" / "ecdh-p521" (an EC key,
    named for its use in encryption; it also signs) or "ed25519"; None for a key that
    can do nothing here."""
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return f"rsa{key.key_size}"
    if isinstance(key, x25519.X25519PublicKey | x25519.X25519PrivateKey):
        return "x25519"
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        from ..core import ecdh_prime

        curve = ecdh_prime.curve_of(key)
        if curve is None or curve.name not in _NIST_CURVES:
            return None
        return f"ecdh-{curve.name}"
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "ed25519"
    # RFC 9935 §3: ML-KEM keys, for RFC 9936 KEMRecipientInfo.
    if isinstance(key, mlkem.MLKEM768PublicKey | mlkem.MLKEM768PrivateKey):
        return "mlkem768"
    if isinstance(key, mlkem.MLKEM1024PublicKey | mlkem.MLKEM1024PrivateKey):
        return "mlkem1024"
    return None


def _key_name(key: object) -> str:
    """How a key :func:`_algorithm` has no name for is called in a refusal: its
    curve for an EC key, else its class."""
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return f"EC {key.curve.name}"
    return type(key).__name__


@dataclasses.dataclass(frozen=True, slots=True, init=False, eq=False, repr=False)
class X509Certificate(Certificate):
    """An X.509 certificate with an RSA, X25519, NIST P-256/P-384/P-521, ML-KEM-768,
    ML-KEM-1024 or Ed25519 key (Ed25519 signs only, ML-KEM only receives).

    Its fields are read once from the certificate: every message asks for them per
    recipient, and `cryptography` rebuilds values such as the serial number's int on
    each access.

    Attributes:
        fingerprint: SHA-256 of the certificate DER, upper-case hex.
        emails: the subjectAltName rfc822Name entries, then the subject's
            emailAddress attributes (RFC 8550 §3), without repeats.
        not_before: notBefore (UTC, RFC 5280 §4.1.2.5).
        not_after: notAfter (UTC, RFC 5280 §4.1.2.5): the last valid moment.
        valid_from: notBefore in seconds since the epoch.
        valid_until: notAfter in seconds since the epoch.
        usage_refusal: why the certificate's key usage forbids encrypting to it,
            or None (x509/usage.py).
        algorithm: "x25519", "rsa<bits>", "ecdh-p256" / "ecdh-p384" /
            "ecdh-p521", "mlkem768" / "mlkem1024" or "ed25519".
        public_key: the subject public key (a `cryptography` object; internal use).
        der: the certificate DER.
        issuer_der: the issuer Name, DER (for issuerAndSerialNumber, RFC 5652
            §10.2.4): the raw bytes from the certificate, not a re-encoding, as
            recipients compare issuer names byte for byte in practice.
        serial_number: the certificate serial number.
        subject_key_identifier: the subjectKeyIdentifier extension value, if
            present (RFC 5280 §4.2.1.2).
    """

    fingerprint: str
    emails: tuple[str, ...]
    not_before: datetime.datetime
    not_after: datetime.datetime
    valid_from: float
    valid_until: float
    usage_refusal: str | None
    algorithm: str
    public_key: PublicKey
    der: bytes
    issuer_der: bytes
    serial_number: int
    subject_key_identifier: bytes | None
    _cert: x509.Certificate
    _subject: str

    def __init__(self, cert: x509.Certificate) -> None:
        key = cert.public_key()
        algorithm = _algorithm(key)  # type: ignore[arg-type]
        if algorithm is None:
            raise UnsupportedError(
                f"certificate key type {_key_name(key)} cannot receive encrypted "
                "mail here: use an RSA, X25519, NIST P-256/P-384/P-521 or ML-KEM "
                "certificate"
            )
        assert isinstance(
            key,
            rsa.RSAPublicKey
            | x25519.X25519PublicKey
            | ec.EllipticCurvePublicKey
            | ed25519.Ed25519PublicKey
            | mlkem.MLKEM768PublicKey
            | mlkem.MLKEM1024PublicKey,
        )
        der = cert.public_bytes(Encoding.DER)
        with _WARNING_FILTERS, warnings.catch_warnings():
            # `cryptography` warns about name attributes beyond the RFC 5280 bounds
            # (empty, or a CN over 64 characters, which real certificates have);
            # the subject is only displayed, so it is read once here, quietly.
            warnings.filterwarnings("ignore", "Attribute's length", UserWarning)
            subject = cert.subject.rfc4514_string()
            subject_emails = [
                str(a.value)
                for a in cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)
            ]
        not_before = cert.not_valid_before_utc
        not_after = cert.not_valid_after_utc
        _set_fields(
            self,
            fingerprint=hashlib.sha256(der).hexdigest().upper(),
            # RFC 8550 §3: the subjectAltName rfc822Name entries, then the legacy
            # emailAddress attributes of the subject.
            emails=tuple(dict.fromkeys([*_san_emails(cert), *subject_emails])),
            not_before=not_before,
            not_after=not_after,
            valid_from=not_before.timestamp(),
            valid_until=not_after.timestamp(),
            usage_refusal=usage_refusal(cert, key_kind=algorithm),
            algorithm=algorithm,
            public_key=key,
            der=der,
            issuer_der=_raw_issuer(cert.tbs_certificate_bytes),
            serial_number=cert.serial_number,
            subject_key_identifier=_subject_key_identifier(cert),
            _cert=cert,
            _subject=subject,
        )

    @property
    def format(self) -> KeyFormat:
        """Always "x509"."""
        return "x509"

    @property
    def user_ids(self) -> tuple[str, ...]:
        """The subject (RFC 4514 string) followed by the SAN email addresses."""
        return (self._subject, *_san_emails(self._cert))

    @property
    def display_name(self) -> str:
        """The fingerprint, with the first email address when there is one (for
        error messages)."""
        if self.emails:
            return f"{self.fingerprint} <{self.emails[0]}>"
        return self.fingerprint

    @property
    def x509(self) -> x509.Certificate:
        """The parsed certificate (a `cryptography` object; internal use)."""
        return self._cert

    def export(self, *, armor: bool = True) -> bytes:
        """The certificate as PEM (default) or DER."""
        if armor:
            return self._cert.public_bytes(Encoding.PEM)
        return self.der

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, X509Certificate):
            return NotImplemented
        return self.der == other.der

    def __hash__(self) -> int:
        return hash(self.der)


class X509SecretKey(SecretKey):
    """A PKCS#8 RSA, X25519, NIST-curve EC or Ed25519 private key, with its
    certificate when known."""

    __slots__ = ("_algorithm", "_cert", "_key", "_signer")

    def __init__(
        self,
        key: PrivateKey,
        cert: X509Certificate | None,
        *,
        signer: X509SecretKey | None = None,
    ) -> None:
        """
        Args:
            key: the private key.
            cert: its certificate, when known.
            signer: the key that signs for this one (an X25519 key's Ed25519
                signing companion); None when the key signs for itself or
                cannot sign.
        """
        self._key = key
        self._cert = cert
        self._signer = signer
        # Asked for every message (recipient matching): computed once.
        algorithm = _algorithm(key)
        if algorithm is None:
            raise UnsupportedError("this key can neither decrypt nor sign mail here")
        self._algorithm = algorithm

    @property
    def public(self) -> X509Certificate:
        """The certificate. Raises KeyLoadError when the key was loaded without one."""
        if self._cert is None:
            raise KeyLoadError(
                "this PKCS#8 key was loaded without its certificate: append the "
                "certificate PEM to the key file"
            )
        return self._cert

    @property
    def certificate(self) -> X509Certificate | None:
        """The certificate, or None when the key file carried none."""
        return self._cert

    @property
    def format(self) -> KeyFormat:
        """Always "x509"."""
        return "x509"

    @property
    def private_key(self) -> PrivateKey:
        """The `cryptography` private key object (internal use by the CMS layer)."""
        return self._key

    @property
    def algorithm(self) -> str:
        """ "x25519", "rsa<bits>", "ecdh-p256" / "ecdh-p384" / "ecdh-p521",
        "mlkem768" / "mlkem1024" or "ed25519"."""
        return self._algorithm

    @property
    def signing_key(self) -> X509SecretKey:
        """The key that signs mail for this identity: the Ed25519 signing
        companion of an X25519 key, else the key itself (RSA, EC and Ed25519 keys
        sign; whether the certificate's key usage allows it is checked when
        signing, see x509/usage.py).

        Raises:
            UnsupportedError: an X25519 key without a signing companion (a key
                file from before keygen made one), or an ML-KEM key: it cannot
                sign.
        """
        if self._signer is not None:
            return self._signer
        if self._algorithm == "x25519":
            raise UnsupportedError(
                "this X25519 key file has no Ed25519 signing key beside it, and an "
                "X25519 key cannot sign: generate a new key (e2ee-mail keygen) or "
                "rotate it in the keyring"
            )
        if self._algorithm.startswith("mlkem"):
            raise UnsupportedError(
                "an ML-KEM key cannot sign: sign with a separate signing key"
            )
        return self

    @property
    def signing_companion(self) -> X509SecretKey | None:
        """The separate key that signs for this one (see :attr:`signing_key`), or
        None when there is none."""
        return self._signer

    def _export(self, passphrase: bytes | None, *, armor: bool) -> bytes:
        """PKCS#8 (PEM followed by the certificate PEM, and then the signing
        companion's key and certificate PEM when there is one; or bare DER).

        Args:
            passphrase: encrypt the PKCS#8 (PBES2, `cryptography`'s best available);
                the signing companion's key is encrypted with the same one.
            armor: PEM (with the certificates appended) or DER (the key only).
        """
        from cryptography.hazmat.primitives import serialization

        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase
            else serialization.NoEncryption()
        )
        encoding = serialization.Encoding.PEM if armor else serialization.Encoding.DER
        out = self._key.private_bytes(
            encoding, serialization.PrivateFormat.PKCS8, encryption
        )
        if armor and self._cert is not None:
            out += self._cert.export(armor=True)
        if armor and self._signer is not None:
            out += self._signer._export(passphrase, armor=True)
        return out

    def __repr__(self) -> str:
        if self._cert is None:
            return f"<X509SecretKey {self.algorithm} (no certificate)>"
        return f"<X509SecretKey for {self._cert!r}>"

    __str__ = __repr__


def _set_fields(obj: object, **values: object) -> None:
    # A frozen dataclass refuses setattr; its generated __init__ writes this way too.
    for name, value in values.items():
        object.__setattr__(obj, name, value)


def _san_emails(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except (x509.ExtensionNotFound, ValueError):
        return ()
    return tuple(san.value.get_values_for_type(x509.RFC822Name))


def _subject_key_identifier(cert: x509.Certificate) -> bytes | None:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    except (x509.ExtensionNotFound, ValueError):
        return None
    return ext.value.digest


def _raw_issuer(tbs: bytes) -> bytes:
    """The issuer Name of a tbsCertificate, its octets as the certificate holds them.

    RFC 5280 §4.1: TBSCertificate ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1,
    serialNumber, signature AlgorithmIdentifier, issuer Name, ... }. `cryptography`
    has parsed the certificate strictly (DER) before this runs, so a walk over the
    three fields before the issuer is enough; it replaces a second, general ASN.1
    parse of the whole certificate, whose imports cost the CLI's start-up more than
    the rest of loading a certificate.
    """
    try:
        tag, pos, _ = read_element(tbs, 0)
        if tag != 0x30:
            raise ValueError("not a SEQUENCE")
        if tbs[pos] == 0xA0:  # the version, absent in a v1 certificate
            pos = read_element(tbs, pos)[2]
        for want in (0x02, 0x30, 0x30):  # serialNumber, signature, issuer
            start = pos
            tag, _, pos = read_element(tbs, start)
            if tag != want:
                raise ValueError(f"unexpected tag {tag:#x}")
    except (IndexError, ValueError) as exc:
        raise ASN1Error(f"malformed certificate issuer: {exc}") from None
    return tbs[start:pos]


def _pem_blocks(data: bytes) -> list[tuple[bytes, bytes]]:
    return [(m.group(1), m.group(0)) for m in _PEM_BLOCK.finditer(data)]


def _is_pem(data: bytes) -> bool:
    return b"-----BEGIN " in data[:4096]


def _certificate_from(block: bytes, *, pem: bool) -> X509Certificate:
    try:
        # `cryptography` only warns about some RFC 5280 violations (a serial number
        # that is not positive) and will refuse them later. The library never warns
        # and carries on, so the warning is raised and refused here.
        with _WARNING_FILTERS, warnings.catch_warnings():
            warnings.simplefilter("error", CryptographyDeprecationWarning)
            # An issuer name attribute beyond the RFC 5280 bounds (an empty CN) is
            # only warned about when the name is read: the issuer is compared as
            # raw octets, never interpreted, so it is read here quietly too.
            warnings.filterwarnings("ignore", "Attribute's length", UserWarning)
            if pem:
                cert = x509.load_pem_x509_certificate(block)
            else:
                cert = x509.load_der_x509_certificate(block)
            # Force the lazily parsed parts we rely on, inside the try.
            cert.public_key()
            cert.issuer.public_bytes()
            _ = cert.extensions
            # The subject is parsed in here too (a malformed name is ASN1Error).
            result = X509Certificate(cert)
    except (
        ValueError,
        TypeError,
        CryptographyDeprecationWarning,
        # Neither is a ValueError: a version other than v1/v3, an extension twice.
        x509.InvalidVersion,
        x509.DuplicateExtension,
    ) as exc:
        raise ASN1Error(f"not a valid X.509 certificate: {exc}") from None
    except x509.UnsupportedGeneralNameType as exc:
        raise UnsupportedError(f"certificate uses an unsupported name: {exc}") from None
    except UnsupportedAlgorithm as exc:
        raise UnsupportedError(
            f"certificate uses an unsupported algorithm: {exc}"
        ) from None
    return result


def load_certificate(data: bytes) -> X509Certificate:
    """Load an X.509 certificate, PEM or DER.

    Args:
        data: the certificate file contents. PEM files may hold other blocks; the first
            CERTIFICATE block is used.

    Returns:
        The certificate.

    Raises:
        FormatError: not a certificate (ASN1Error when the DER is malformed).
        UnsupportedError: the key is neither RSA, X25519 nor on P-256/P-384/P-521.
    """
    if _is_pem(data):
        for label, block in _pem_blocks(data):
            if label in (b"CERTIFICATE", b"X509 CERTIFICATE"):
                return _certificate_from(block, pem=True)
        raise FormatError(
            "no CERTIFICATE PEM block found: expected an X.509 certificate"
        )
    if not data.startswith(b"\x30"):
        raise FormatError("not an X.509 certificate (expected PEM or DER)")
    return _certificate_from(data, pem=False)


def load_certificates(data: bytes) -> list[X509Certificate]:
    """Every certificate of a PEM file, in order (one for DER).

    A ``.pub`` that keygen writes for an X25519 identity holds the X25519
    certificate and then the Ed25519 signing certificate: a verifier given that
    file needs the second, an encrypter the first (:func:`load_certificate`).

    Raises:
        As :func:`load_certificate`.
    """
    if _is_pem(data):
        found = [
            _certificate_from(block, pem=True)
            for label, block in _pem_blocks(data)
            if label in (b"CERTIFICATE", b"X509 CERTIFICATE")
        ]
        if found:
            return found
    return [load_certificate(data)]


def _private_from(block: bytes, passphrase: bytes | None, *, pem: bool) -> PrivateKey:
    from cryptography.hazmat.primitives import serialization

    loader = (
        serialization.load_pem_private_key
        if pem
        else serialization.load_der_private_key
    )
    encrypted = b"ENCRYPTED" in block[:40] if pem else None
    if encrypted is not False:
        check_pbe_cost(block, pem=pem)
    try:
        # `cryptography` warns on loading some key types it deprecates (DSA); the
        # key is refused below whatever its type, so the warning is not shown.
        with _WARNING_FILTERS, warnings.catch_warnings():
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            try:
                key = loader(block, password=passphrase)
            except TypeError:
                # `cryptography`: a password missing for an encrypted key, or given
                # for a plain one (which then loads without it).
                if passphrase is None:
                    raise PassphraseError(
                        "the key is passphrase-protected: supply the passphrase "
                        "(--passphrase-env VAR)"
                    ) from None
                passphrase = None
                key = loader(block, password=None)
    except (ValueError, TypeError, InternalError):
        # InternalError: OpenSSL refuses the key material itself after the DER
        # parsed, e.g. an X25519 or X448 PrivateKeyInfo whose key is not 32 or 56
        # octets (RFC 8410 §7) or carries the other curve's OID.
        if passphrase is not None and encrypted is not False:
            raise PassphraseError(
                "wrong passphrase, or the key file is damaged"
            ) from None
        both = load_mlkem_both(block, pem=pem)
        if both is None:
            raise KeyLoadError("not a valid PKCS#8 private key") from None
        key = both
    except UnsupportedAlgorithm as exc:
        raise UnsupportedError(f"unsupported private key: {exc}") from None
    if _algorithm(key) is None:  # type: ignore[arg-type]
        raise UnsupportedError(
            f"{_key_name(key)} keys can neither decrypt nor sign mail here: use "
            "RSA, X25519, NIST P-256/P-384/P-521, ML-KEM-768/1024 or Ed25519"
        )
    assert isinstance(key, PrivateKey)
    return key


def _public_der(key: PublicKey | PrivateKey) -> bytes:
    pub = key.public_key() if isinstance(key, PrivateKey) else key
    return pub.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def load_key(data: bytes, passphrase: bytes | None) -> X509SecretKey:
    """Load a PKCS#8 private key (PEM or DER), with the certificate the PEM carries.

    Args:
        data: key file contents: PKCS#8 PEM (optionally followed by the certificate
            PEM, as ``e2ee-mail keygen`` writes) or PKCS#8 DER.
        passphrase: for encrypted PKCS#8.

    Returns:
        The secret key.

    Raises:
        PassphraseError: the key is protected and the passphrase is missing or wrong.
        KeyLoadError: not a usable key, or the certificate does not belong to it.
        UnsupportedError: neither RSA, X25519 nor on P-256/P-384/P-521.
    """
    if _is_pem(data):
        blocks = _pem_blocks(data)
        key_blocks = [b for label, b in blocks if label in _KEY_LABELS]
        if not key_blocks:
            raise KeyLoadError("no PRIVATE KEY PEM block found: expected a PKCS#8 key")
        key = _private_from(key_blocks[0], passphrase, pem=True)
        cert_blocks = [b for label, b in blocks if label == b"CERTIFICATE"]
        cert = _certificate_from(cert_blocks[0], pem=True) if cert_blocks else None
        signer = None
        if len(key_blocks) > 1 and isinstance(
            key,
            x25519.X25519PrivateKey
            | mlkem.MLKEM768PrivateKey
            | mlkem.MLKEM1024PrivateKey,
        ):
            signer = _signing_companion(key_blocks[1], cert_blocks[1:], passphrase)
    else:
        if not data.startswith(b"\x30"):
            raise KeyLoadError("not a PKCS#8 key (expected PEM or DER)")
        key = _private_from(data, passphrase, pem=False)
        cert = None
        signer = None
    if cert is not None and _public_der(cert.public_key) != _public_der(key):
        raise KeyLoadError("the certificate in the key file does not match the key")
    return X509SecretKey(key, cert, signer=signer)


def _signing_companion(
    key_block: bytes, cert_blocks: list[bytes], passphrase: bytes | None
) -> X509SecretKey:
    """The signing key that follows an X25519 or ML-KEM key in its key file, with the
    certificate of the ones after the first that belongs to it."""
    key = _private_from(key_block, passphrase, pem=True)
    if isinstance(
        key,
        x25519.X25519PrivateKey | mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey,
    ):
        raise KeyLoadError(
            "the second private key in an X25519 or ML-KEM key file must be its "
            "signing key, not another key that cannot sign"
        )
    public = _public_der(key)
    for block in cert_blocks:
        cert = _certificate_from(block, pem=True)
        if _public_der(cert.public_key) == public:
            return X509SecretKey(key, cert)
    raise KeyLoadError(
        "the key file's signing key has no certificate: append its certificate "
        "PEM after it"
    )
