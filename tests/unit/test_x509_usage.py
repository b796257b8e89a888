"""x509/usage.py: X.509 recipients are checked before anything is encrypted to them
(validity dates, keyUsage, extendedKeyUsage), on every path that encrypts: CMS bytes
and stream, S/MIME message and mail stream, and rewrap to new recipients."""

from __future__ import annotations

import dataclasses
import datetime
import io
from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa, x25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import e2ee_mail
from e2ee_mail.policy import DEFAULT

NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
DAY = datetime.timedelta(days=1)
ADDRESS = "carol@example.org"
LATE = dataclasses.replace(DEFAULT, allow_expired_recipients=True)


def _usage(**allowed: bool) -> x509.KeyUsage:
    flags = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    flags.update(allowed)
    return x509.KeyUsage(**flags)


#: name -> (validity start, end, keyUsage flags or None, EKU OIDs or None, refusal).
SHAPES: dict[str, tuple[Any, ...]] = {
    "valid": (
        NOW - DAY,
        NOW + DAY,
        "encrypt",
        [ExtendedKeyUsageOID.EMAIL_PROTECTION],
        None,
    ),
    "no-key-usage": (NOW - DAY, NOW + DAY, None, None, None),
    "any-eku": (
        NOW - DAY,
        NOW + DAY,
        "encrypt",
        [ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE],
        None,
    ),
    "expired": (NOW - 3 * DAY, NOW - DAY, "encrypt", None, "expired on"),
    "not-yet-valid": (NOW + DAY, NOW + 3 * DAY, "encrypt", None, "not valid before"),
    "signing-only": (
        NOW - DAY,
        NOW + DAY,
        "sign",
        None,
        r"keyUsage does not allow key(Encipherment|Agreement)",
    ),
    "server-auth-eku": (
        NOW - DAY,
        NOW + DAY,
        "encrypt",
        [ExtendedKeyUsageOID.SERVER_AUTH],
        "extendedKeyUsage lists neither emailProtection",
    ),
}


@dataclasses.dataclass
class Pair:
    """A key and one certificate per shape, all for the same key."""

    kind: str
    private: rsa.RSAPrivateKey | x25519.X25519PrivateKey
    issuer: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

    def pem(self, shape: str) -> bytes:
        start, end, usage, eku, _ = SHAPES[shape]
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, "Carol"),
                x509.NameAttribute(NameOID.EMAIL_ADDRESS, "legacy@example.org"),
            ]
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.private.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(
                x509.SubjectAlternativeName([x509.RFC822Name(ADDRESS)]), False
            )
        )
        if usage == "encrypt":
            rsa_key = self.kind == "rsa"
            builder = builder.add_extension(
                _usage(key_encipherment=rsa_key, key_agreement=not rsa_key), True
            )
        elif usage == "sign":
            builder = builder.add_extension(_usage(digital_signature=True), True)
        if eku is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage(eku), False)
        algorithm = hashes.SHA256() if self.kind == "rsa" else None
        cert = builder.sign(self.issuer, algorithm)
        return cert.public_bytes(serialization.Encoding.PEM)

    def certificate(self, shape: str) -> e2ee_mail.Certificate:
        return e2ee_mail.load_certificate(self.pem(shape))

    def key(self, shape: str) -> e2ee_mail.SecretKey:
        pkcs8 = self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return e2ee_mail.load_key(pkcs8 + self.pem(shape))


@pytest.fixture(scope="module", params=["rsa", "x25519"])
def pair(request: pytest.FixtureRequest) -> Pair:
    if request.param == "rsa":
        key = rsa.generate_private_key(65537, 2048)
        return Pair("rsa", key, key)
    return Pair(
        "x25519",
        x25519.X25519PrivateKey.generate(),
        ed25519.Ed25519PrivateKey.generate(),
    )


def _cms(cert: e2ee_mail.Certificate, policy: Any) -> bytes:
    return bytes(e2ee_mail.encrypt(b"body", cert, format="cms", policy=policy))


def _cms_stream(cert: e2ee_mail.Certificate, policy: Any) -> bytes:
    out = io.BytesIO()
    e2ee_mail.encrypt_stream(
        io.BytesIO(b"body"), out, cert, format="cms", policy=policy
    )
    return out.getvalue()


MAIL = (
    b"From: a@example.org\r\nTo: carol@example.org\r\nSubject: s\r\n"
    b"Content-Type: text/plain\r\n\r\nbody\r\n"
)


def _smime_message(cert: e2ee_mail.Certificate, policy: Any) -> bytes:
    from email import policy as email_policy
    from email.parser import BytesParser

    msg = BytesParser(policy=email_policy.default).parsebytes(MAIL)
    sealed = e2ee_mail.encrypt_message(msg, cert, format="smime", policy=policy)
    return sealed.as_bytes()


def _smime_stream(cert: e2ee_mail.Certificate, policy: Any) -> bytes:
    out = io.BytesIO()
    e2ee_mail.encrypt_stream(io.BytesIO(MAIL), out, cert, format="smime", policy=policy)
    return out.getvalue()


_OTHER = e2ee_mail.generate_key("Dave <dave@example.org>", format="x509")


def _rewrap(cert: e2ee_mail.Certificate, policy: Any) -> bytes:
    sealed = e2ee_mail.encrypt(b"body", _OTHER.public, format="cms")
    return bytes(e2ee_mail.rewrap(sealed, _OTHER, cert, policy=policy))


PATHS: dict[str, Callable[[e2ee_mail.Certificate, Any], bytes]] = {
    "cms": _cms,
    "cms-stream": _cms_stream,
    "smime-message": _smime_message,
    "smime-stream": _smime_stream,
    "rewrap": _rewrap,
}


@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_encrypting_path_checks_the_recipient(
    pair: Pair, shape: str, path: str
) -> None:
    refusal = SHAPES[shape][4]
    cert = pair.certificate(shape)
    if refusal is None:
        assert PATHS[path](cert, DEFAULT)
        return
    with pytest.raises(e2ee_mail.PolicyError, match=refusal):
        PATHS[path](cert, DEFAULT)


@pytest.mark.parametrize("path", ["cms-stream", "smime-stream"])
def test_a_refused_recipient_leaves_the_stream_untouched(pair: Pair, path: str) -> None:
    out = io.BytesIO()
    fmt = "cms" if path == "cms-stream" else "smime"
    with pytest.raises(e2ee_mail.PolicyError):
        e2ee_mail.encrypt_stream(
            io.BytesIO(MAIL),
            out,
            pair.certificate("signing-only"),
            format=fmt,  # type: ignore[arg-type]
        )
    assert out.getvalue() == b""


def test_an_expired_certificate_is_accepted_on_purpose(pair: Pair) -> None:
    # Decrypting never checks the certificate: the key whose certificate expired
    # opens what was sealed to it.
    key = pair.key("expired")
    sealed = _cms(key.public, LATE)
    assert e2ee_mail.decrypt(sealed, key) == b"body"
    assert e2ee_mail.decrypt_message(_smime_message(key.public, LATE), key)


@pytest.mark.parametrize("shape", ["not-yet-valid", "signing-only", "server-auth-eku"])
def test_the_expiry_opt_in_accepts_nothing_else(pair: Pair, shape: str) -> None:
    with pytest.raises(e2ee_mail.PolicyError):
        _cms(pair.certificate(shape), LATE)


def test_refusal_names_the_certificate_and_the_date(pair: Pair) -> None:
    cert = pair.certificate("expired")
    when = (NOW - DAY).strftime("%Y-%m-%d %H:%M:%S UTC")
    with pytest.raises(e2ee_mail.PolicyError) as exc:
        _cms(cert, DEFAULT)
    text = str(exc.value)
    assert cert.fingerprint in text and ADDRESS in text and when in text
    assert "allow_expired_recipients" in text


def test_validity_and_addresses_are_on_the_common_model(pair: Pair) -> None:
    cert = pair.certificate("valid")
    assert cert.not_before == NOW - DAY
    assert cert.not_after == NOW + DAY
    assert cert.not_before.tzinfo is not None
    assert cert.emails == (ADDRESS, "legacy@example.org")


def test_generated_certificates_pass_their_own_checks() -> None:
    for kind in ("x25519", "rsa3072"):
        key = e2ee_mail.generate_key("Eve <eve@example.org>", format="x509", kind=kind)
        assert e2ee_mail.decrypt(_cms(key.public, DEFAULT), key) == b"body"
        assert key.public.emails == ("eve@example.org",)
        assert key.public.not_before is not None and key.public.not_after is not None
        assert key.public.not_before < NOW + DAY < key.public.not_after


def test_openpgp_certificates_expose_the_same_model() -> None:
    key = e2ee_mail.generate_key("Frank <frank@example.org>", format="openpgp")
    cert = key.public
    assert cert.emails == ("frank@example.org",)
    assert cert.not_before is not None and cert.not_before <= NOW + DAY
    assert cert.not_after is None
