"""x509/keygen.py makes identities that sign: RSA keys sign with themselves, X25519
keys with the Ed25519 signing certificate written beside them in the key file."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519

import e2ee_mail
from e2ee_mail.cms import signing, verification
from e2ee_mail.x509 import certs as kx
from e2ee_mail.x509 import keygen as x509_keygen
from e2ee_mail.x509.usage import signing_refusal


@pytest.fixture(scope="module")
def rsa_key() -> kx.X509SecretKey:
    return x509_keygen.generate("Alice <alice@example.org>", kind="rsa3072")


@pytest.fixture(scope="module")
def x_key() -> kx.X509SecretKey:
    return x509_keygen.generate("Bob <bob@example.org>", kind="x25519")


def test_rsa_key_signs_with_itself(rsa_key: kx.X509SecretKey) -> None:
    assert rsa_key.signing_key is rsa_key
    assert rsa_key.signing_companion is None
    assert signing_refusal(rsa_key.public) is None
    assert rsa_key.public.usage_refusal is None


def test_x25519_key_signs_with_its_ed25519_companion(
    x_key: kx.X509SecretKey,
) -> None:
    signer = x_key.signing_key
    assert signer.algorithm == "ed25519"
    assert signing_refusal(signer.public) is None
    assert signing_refusal(x_key.public) is not None
    assert x_key.public.usage_refusal is None
    assert signer.public.usage_refusal is not None


@pytest.mark.parametrize("which", ["rsa", "x25519"])
@pytest.mark.parametrize("detached", [True, False])
def test_generated_key_signs_cms_and_verifies(
    rsa_key: kx.X509SecretKey,
    x_key: kx.X509SecretKey,
    which: str,
    detached: bool,
) -> None:
    key = rsa_key if which == "rsa" else x_key
    signer = key.signing_key
    assert isinstance(signer, kx.X509SecretKey)
    signed = signing.sign(b"hello\r\n", [signer], detached=detached)
    content, results = verification.verify(
        signed, [signer.public], content=b"hello\r\n" if detached else None
    )
    assert content == b"hello\r\n"
    assert [r.status for r in results] == ["good"]
    assert results[0].fingerprint == signer.public.fingerprint


def test_key_file_order_is_encryption_pair_then_signing_pair(
    x_key: kx.X509SecretKey,
) -> None:
    data = x_key.export()
    labels = [
        line.removeprefix(b"-----BEGIN ").removesuffix(b"-----")
        for line in data.splitlines()
        if line.startswith(b"-----BEGIN ")
    ]
    assert labels == [b"PRIVATE KEY", b"CERTIFICATE", b"PRIVATE KEY", b"CERTIFICATE"]
    # A reader that takes the first private key (OpenSSL's -inkey) gets the
    # X25519 decryption key, as before.
    first = serialization.load_pem_private_key(data, None)
    assert isinstance(first, x25519.X25519PrivateKey)


@pytest.mark.parametrize("passphrase", [None, "pw"])
def test_key_file_loads_back_with_its_signing_key(
    x_key: kx.X509SecretKey, passphrase: str | None
) -> None:
    data = x_key.export(passphrase=passphrase)
    assert data.count(b"ENCRYPTED PRIVATE KEY-----") == (4 if passphrase else 0)
    loaded = e2ee_mail.load_key(data, passphrase)
    assert isinstance(loaded, kx.X509SecretKey)
    assert loaded.public == x_key.public
    assert loaded.signing_key.public == x_key.signing_key.public
    assert loaded.export() == x_key.export()


def _blocks(data: bytes) -> list[bytes]:
    parts = data.split(b"-----BEGIN ")[1:]
    return [b"-----BEGIN " + p for p in parts]


def test_old_single_pair_x25519_file_loads_and_cannot_sign(
    x_key: kx.X509SecretKey,
) -> None:
    old = b"".join(_blocks(x_key.export())[:2])
    loaded = e2ee_mail.load_key(old)
    assert isinstance(loaded, kx.X509SecretKey)
    assert loaded.public == x_key.public
    assert loaded.signing_companion is None
    with pytest.raises(e2ee_mail.UnsupportedError, match="cannot sign"):
        _ = loaded.signing_key


def test_signing_key_without_its_certificate_is_refused(
    x_key: kx.X509SecretKey,
) -> None:
    blocks = _blocks(x_key.export())
    with pytest.raises(e2ee_mail.KeyLoadError, match="signing key has no cert"):
        e2ee_mail.load_key(b"".join(blocks[:3]))


def test_second_x25519_key_is_not_a_signing_key(x_key: kx.X509SecretKey) -> None:
    other = x509_keygen.generate("Carol <carol@example.org>", kind="x25519")
    blocks = _blocks(x_key.export())
    with pytest.raises(e2ee_mail.KeyLoadError, match="must be its signing key"):
        e2ee_mail.load_key(b"".join([*blocks[:2], *_blocks(other.export())[:2]]))


def test_rsa_file_with_extra_blocks_loads_as_before(
    rsa_key: kx.X509SecretKey, x_key: kx.X509SecretKey
) -> None:
    # Only an X25519 key reads a companion: other key files keep their meaning.
    loaded = e2ee_mail.load_key(rsa_key.export() + x_key.export())
    assert isinstance(loaded, kx.X509SecretKey)
    assert loaded.signing_key is loaded
    assert loaded.public == rsa_key.public


def test_der_export_is_the_decryption_key_only(x_key: kx.X509SecretKey) -> None:
    loaded = e2ee_mail.load_key(x_key.export(armor=False))
    assert isinstance(loaded, kx.X509SecretKey)
    assert loaded.algorithm == "x25519"
    assert loaded.certificate is None


def test_signing_companion_is_an_ed25519_key(x_key: kx.X509SecretKey) -> None:
    assert isinstance(x_key.signing_key.private_key, ed25519.Ed25519PrivateKey)


def test_secret_key_signing_key_defaults_to_itself() -> None:
    key = e2ee_mail.generate_key("dave@example.org", format="openpgp")
    assert key.signing_key is key


def test_load_certificates_reads_both_of_an_x25519_pub(
    x_key: kx.X509SecretKey, rsa_key: kx.X509SecretKey
) -> None:
    pub = x_key.public.export() + x_key.signing_key.public.export()
    assert kx.load_certificates(pub) == [x_key.public, x_key.signing_key.public]
    assert kx.load_certificates(rsa_key.public.export(armor=False)) == [rsa_key.public]
    with pytest.raises(e2ee_mail.FormatError):
        kx.load_certificates(
            b"-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"
        )
