"""x509/certs.py and x509/keygen.py: generation, export, loading, errors."""

from __future__ import annotations

import base64
import contextlib
import warnings

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, x25519
from hypothesis import given, settings
from hypothesis import strategies as st

import e2ee_mail
from e2ee_mail.x509 import certs as kx
from e2ee_mail.x509 import keygen as x509_keygen


@pytest.fixture(scope="module")
def rsa_key() -> kx.X509SecretKey:
    return x509_keygen.generate("Alice Example <alice@example.org>", kind="rsa3072")


@pytest.fixture(scope="module")
def x_key() -> kx.X509SecretKey:
    return x509_keygen.generate("Bob <bob@example.org>", kind="x25519")


def test_rsa_certificate_is_self_signed_with_email_san_and_key_encipherment(
    rsa_key: kx.X509SecretKey,
) -> None:
    cert = x509.load_der_x509_certificate(rsa_key.public.export(armor=False))
    assert cert.issuer == cert.subject
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.value.get_values_for_type(x509.RFC822Name) == ["alice@example.org"]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.key_encipherment and usage.value.digital_signature
    assert rsa_key.public.algorithm == "rsa3072"
    cert.verify_directly_issued_by(cert)


def test_x25519_certificate_is_issued_by_its_ed25519_signing_certificate(
    x_key: kx.X509SecretKey,
) -> None:
    cert = x509.load_der_x509_certificate(x_key.public.export(armor=False))
    assert isinstance(cert.public_key(), x25519.X25519PublicKey)
    assert cert.signature_algorithm_oid == x509.oid.SignatureAlgorithmOID.ED25519
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_agreement
    signer = x_key.signing_key
    assert signer is x_key.signing_companion
    signing_cert = signer.public.x509
    assert isinstance(signing_cert.public_key(), ed25519.Ed25519PublicKey)
    cert.verify_directly_issued_by(signing_cert)
    signing_cert.verify_directly_issued_by(signing_cert)
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    assert aki.value.key_identifier == signer.public.subject_key_identifier
    constraints = signing_cert.extensions.get_extension_for_class(
        x509.BasicConstraints
    ).value
    assert constraints.ca and constraints.path_length == 0
    assert signer.public.emails == x_key.public.emails == ("bob@example.org",)
    assert signing_cert.subject == cert.subject


def test_fingerprint_is_sha256_of_der_upper_hex(rsa_key: kx.X509SecretKey) -> None:
    import hashlib

    der = rsa_key.public.export(armor=False)
    assert rsa_key.fingerprint == hashlib.sha256(der).hexdigest().upper()


@pytest.mark.parametrize("passphrase", [None, b"correct horse"])
def test_exported_key_file_loads_back_with_its_certificate(
    x_key: kx.X509SecretKey, passphrase: bytes | None
) -> None:
    data = x_key.export(passphrase=passphrase)
    assert (b"ENCRYPTED PRIVATE KEY" in data) == (passphrase is not None)
    loaded = e2ee_mail.load_key(data, passphrase)
    assert loaded.fingerprint == x_key.fingerprint
    assert loaded.public == x_key.public


def test_der_key_loads_without_certificate(rsa_key: kx.X509SecretKey) -> None:
    loaded = kx.load_key(rsa_key.export(armor=False), None)
    assert loaded.certificate is None
    with pytest.raises(e2ee_mail.KeyLoadError):
        _ = loaded.public
    assert "no certificate" in repr(loaded)


def test_missing_passphrase_is_passphrase_error(x_key: kx.X509SecretKey) -> None:
    data = x_key.export(passphrase=b"pw")
    with pytest.raises(e2ee_mail.PassphraseError):
        e2ee_mail.load_key(data)


def test_wrong_passphrase_is_passphrase_error(x_key: kx.X509SecretKey) -> None:
    data = x_key.export(passphrase=b"pw")
    with pytest.raises(e2ee_mail.PassphraseError):
        e2ee_mail.load_key(data, "not it")


def test_certificate_loads_from_pem_and_der(rsa_key: kx.X509SecretKey) -> None:
    pem = rsa_key.public.export()
    der = rsa_key.public.export(armor=False)
    assert e2ee_mail.load_certificate(pem) == e2ee_mail.load_certificate(der)
    assert e2ee_mail.load_certificate(pem).user_ids[-1] == "alice@example.org"


def test_key_file_with_foreign_certificate_is_refused(
    rsa_key: kx.X509SecretKey, x_key: kx.X509SecretKey
) -> None:
    mixed = rsa_key.export(armor=True).split(b"-----BEGIN CERTIFICATE")[0]
    mixed += x_key.public.export()
    with pytest.raises(e2ee_mail.KeyLoadError, match="does not match"):
        e2ee_mail.load_key(mixed)


def test_repr_never_shows_key_material(rsa_key: kx.X509SecretKey) -> None:
    text = repr(rsa_key) + str(rsa_key)
    assert "PRIVATE" not in text
    assert rsa_key.fingerprint in text


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x30\x03\x02\x01\x00",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        b"garbage",
        bytes(range(256)),
    ],
)
def test_malformed_certificate_is_format_error(data: bytes) -> None:
    with pytest.raises(e2ee_mail.FormatError):
        kx.load_certificate(data)


@pytest.mark.parametrize("data", [b"", b"\x30\x03\x02\x01\x00", b"nonsense"])
def test_malformed_key_is_key_load_error(data: bytes) -> None:
    with pytest.raises(e2ee_mail.KeyLoadError):
        kx.load_key(data, None)


#: PKCS#8 keys whose DER parses but whose key material OpenSSL refuses (found by a
#: mutation fuzzer): X25519 with an empty key, and the X448 OID with a 32-octet key.
WRONG_LENGTH_PKCS8 = {
    "x25519-empty": "MA4CAQAwBQYDK2VuBAIEAA==",
    "x448-32-octets": "MC4CAQAwBQYDK2VvBCIEIAECAwQFBgcICQoLDA0ODxAREhMUFRYX"
    "GBkaGxwdHh8g",
}


@pytest.mark.parametrize("name", sorted(WRONG_LENGTH_PKCS8))
@pytest.mark.parametrize("pem", [False, True], ids=["der", "pem"])
def test_pkcs8_key_of_the_wrong_length_is_key_load_error(name: str, pem: bool) -> None:
    der = base64.b64decode(WRONG_LENGTH_PKCS8[name])
    data = (
        b"-----BEGIN PRIVATE KEY-----\n"
        + base64.encodebytes(der)
        + b"-----END PRIVATE KEY-----\n"
        if pem
        else der
    )
    with pytest.raises(e2ee_mail.KeyLoadError, match="not a valid PKCS#8"):
        e2ee_mail.load_key(data)
    # With a passphrase: the same refusal (PassphraseError for DER, which may have
    # been an encrypted key), never another exception.
    with pytest.raises(e2ee_mail.KeyLoadError):
        e2ee_mail.load_key(data, passphrase="pw")


@pytest.mark.parametrize(
    "oid",
    [b"\x6e", b"\x6f", b"\x70", b"\x71"],
    ids=["x25519", "x448", "ed25519", "ed448"],
)
def test_pkcs8_curve_keys_of_any_length_fail_with_library_errors(oid: bytes) -> None:
    # RFC 8410 §7 PrivateKeyInfo (OIDs 1.3.101.110 to 113) around a CurvePrivateKey
    # of every length up to 69 octets.
    for size in range(70):
        curve_key = bytes((0x04, size)) + b"\x01" * size
        body = b"\x02\x01\x00\x30\x05\x06\x03\x2b\x65" + oid
        body += bytes((0x04, len(curve_key))) + curve_key
        with contextlib.suppress(e2ee_mail.Error):
            e2ee_mail.load_key(bytes((0x30, len(body))) + body)


def test_dsa_pkcs8_key_is_unsupported_without_a_warning() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import dsa

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        der = dsa.generate_private_key(1024).private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    with pytest.raises(e2ee_mail.UnsupportedError, match="DSA"):
        e2ee_mail.load_key(der)


def test_bad_uid_is_usage_error() -> None:
    with pytest.raises(e2ee_mail.UsageError):
        x509_keygen.generate("no address here", kind="x25519")


def _self_signed(key: ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey) -> bytes:
    import datetime

    from cryptography.hazmat.primitives import serialization

    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "signer")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, None)
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def test_ed448_certificate_is_unsupported() -> None:
    with pytest.raises(e2ee_mail.UnsupportedError):
        kx.load_certificate(_self_signed(ed448.Ed448PrivateKey.generate()))


def test_ed25519_certificate_loads_for_signatures_but_receives_nothing() -> None:
    cert = kx.load_certificate(_self_signed(ed25519.Ed25519PrivateKey.generate()))
    assert cert.algorithm == "ed25519"
    assert cert.usage_refusal is not None
    with pytest.raises(e2ee_mail.PolicyError, match="signs only"):
        e2ee_mail.encrypt(b"body", [cert], format="cms")


@settings(max_examples=25)  # RSA key checks make each example slow
@given(data=st.data())
def test_mutated_certificate_or_key_fails_with_library_errors_only(
    rsa_key: kx.X509SecretKey, data: st.DataObject
) -> None:
    blob = bytearray(
        data.draw(
            st.sampled_from(
                [
                    rsa_key.public.export(armor=False),
                    rsa_key.export(armor=False),
                    rsa_key.export(passphrase=b"pw", armor=False),
                ]
            )
        )
    )
    pos = data.draw(st.integers(0, len(blob) - 1))
    blob[pos] = data.draw(st.integers(0, 255))
    for load in (kx.load_certificate, lambda b: kx.load_key(b, b"pw")):
        with contextlib.suppress(e2ee_mail.Error):
            load(bytes(blob))


def _der(tag: int, body: bytes) -> bytes:
    if len(body) < 0x80:
        return bytes((tag, len(body))) + body
    size = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + body


# An issuer Name long enough for a long-form length: one RDN holding a CN of 300 "a".
_ISSUER = _der(
    0x30, _der(0x31, _der(0x30, b"\x06\x03\x55\x04\x03" + _der(0x0C, b"a" * 300)))
)
_ALG = _der(0x30, b"\x06\x03\x2b\x65\x70")  # id-Ed25519 (RFC 8410 §3)
_SERIAL = _der(0x02, b"\x01")
_REST = _der(0x30, b"") + _ISSUER  # validity (empty here), subject


@pytest.mark.parametrize(
    "version",
    [b"", _der(0xA0, _der(0x02, b"\x02"))],
    ids=["v1-no-version-field", "v3"],
)
def test_raw_issuer_is_the_issuer_name_as_written(version: bytes) -> None:
    tbs = _der(0x30, version + _SERIAL + _ALG + _ISSUER + _REST)
    assert kx._raw_issuer(tbs) == _ISSUER


@pytest.mark.parametrize(
    "tbs",
    [
        b"",
        _der(0x31, _SERIAL + _ALG + _ISSUER),  # a SET, not a SEQUENCE
        _der(0x30, _ALG + _ALG + _ISSUER),  # no serialNumber
        _der(0x30, _SERIAL + _ALG),  # no issuer
        _der(0x30, _SERIAL + _ALG + _ISSUER)[:-5],  # cut short
        b"\x30\x80" + _SERIAL + _ALG + _ISSUER + b"\x00\x00",  # indefinite length
    ],
)
def test_raw_issuer_of_a_malformed_tbs_is_asn1_error(tbs: bytes) -> None:
    with pytest.raises(e2ee_mail.ASN1Error):
        kx._raw_issuer(tbs)


def test_issuer_der_is_the_certificates_own_octets(x_key: kx.X509SecretKey) -> None:
    cert = x509.load_der_x509_certificate(x_key.public.export(armor=False))
    assert x_key.public.issuer_der == cert.issuer.public_bytes()
    assert x_key.public.issuer_der in cert.tbs_certificate_bytes
