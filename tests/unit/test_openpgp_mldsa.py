"""ML-DSA + EdDSA composite signatures (RFC 9980 §5) in OpenPGP: the composite
primitive of core/mldsa.py, keygen's kind mldsa65-ed25519, and signing and
verifying with such a key in every form a message takes (inline, detached, inside
an encrypted message, PGP/MIME)."""

from __future__ import annotations

import datetime as dt
import functools
from email.message import EmailMessage

import pytest

import e2ee_mail
from e2ee_mail.core import mldsa
from e2ee_mail.errors import FormatError, KeyLoadError, UsageError
from e2ee_mail.keys.rotation import rotate_key
from e2ee_mail.openpgp import certs, keygen, keymaterial, signing
from e2ee_mail.openpgp.packets import (
    PK_MLDSA65_ED25519,
    PK_MLDSA87_ED448,
    PK_MLKEM768_X25519,
)
from e2ee_mail.openpgp.packets.keys import PublicKeyPacket

BODY = b"composite \x00\xff\r\nsignatures\n"
ALGORITHM = "mldsa65-ed25519"


@functools.cache
def _key() -> certs.OpenPGPSecretKey:
    key = e2ee_mail.generate_key("PQ Sig <pq-sig@example.org>", kind=ALGORITHM)
    assert isinstance(key, certs.OpenPGPSecretKey)
    return key


def _good(results: tuple[e2ee_mail.SignatureResult, ...]) -> None:
    assert [r.status for r in results] == ["good"], results
    assert results[0].fingerprint == _key().public.fingerprint
    assert results[0].algorithm == ALGORITHM


# -- the primitive -------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", [PK_MLDSA65_ED25519, PK_MLDSA87_ED448])
def test_secret_key_round_trips_and_signs(algorithm: int) -> None:
    suite = mldsa.SUITES[algorithm]
    key = mldsa.generate(algorithm)
    secret = key.secret_bytes()
    assert len(secret) == suite.secret_size == suite.eddsa_size + mldsa.SEED_SIZE
    assert len(key.public) == suite.public_size
    again = mldsa.private_from_bytes(secret, algorithm)
    assert again.public == key.public
    signature = mldsa.sign(again, b"digest" * 8)
    assert len(signature) == suite.signature_size
    mldsa.check(
        mldsa.public_from_bytes(key.public, algorithm), signature, b"digest" * 8
    )


def test_wrong_sizes_are_format_errors() -> None:
    key = mldsa.generate()
    with pytest.raises(FormatError, match="64 octets"):
        mldsa.private_from_bytes(key.secret_bytes()[:-1])
    with pytest.raises(FormatError, match="1984 octets"):
        mldsa.public_from_bytes(key.public + b"\0")


def test_repr_names_the_suite_not_the_secret() -> None:
    key = mldsa.generate()
    assert repr(key) == "<CompositeSigPrivateKey mldsa65-ed25519>"
    assert repr(key.public_key()) == "<CompositeSigPublicKey mldsa65-ed25519>"


def test_secret_not_matching_the_public_key_is_refused() -> None:
    one, other = mldsa.generate(), mldsa.generate()
    packet = PublicKeyPacket(6, 1, PK_MLDSA65_ED25519, one.public)
    with pytest.raises(KeyLoadError, match="does not match"):
        keymaterial.private_from_material(packet, other.secret_bytes())
    with pytest.raises(KeyLoadError, match="malformed"):
        keymaterial.private_from_material(packet, one.secret_bytes()[:40])


# -- keygen --------------------------------------------------------------------------


def test_keygen_makes_a_composite_primary_with_an_mlkem_subkey() -> None:
    cert = _key().public
    assert cert.version == 6
    assert cert.primary.packet.algorithm == PK_MLDSA65_ED25519
    (subkey,) = cert.subkeys
    assert subkey.packet.algorithm == PK_MLKEM768_X25519
    info, private = signing.signing_key(_key())
    assert info.fingerprint == cert.primary.fingerprint
    assert isinstance(private, mldsa.CompositeSigPrivateKey)


def test_inspect_names_the_composite_primary_key() -> None:
    text = str(e2ee_mail.inspect(_key().public.export()))
    assert f"{ALGORITHM}: usable" in text


def test_protected_export_loads_and_signs() -> None:
    exported = _key().export(passphrase="pq pass")
    loaded = e2ee_mail.load_key(exported, passphrase="pq pass")
    signed = e2ee_mail.sign(BODY, loaded)
    _good(e2ee_mail.verify(signed, _key().public).signatures)


@pytest.mark.parametrize(
    ("arguments", "refusal"),
    [
        ({"profile": "rfc4880"}, "v6 keys only"),
        ({"format": "x509"}, "openpgp only"),
    ],
)
def test_keygen_refuses_v4_and_x509(arguments: dict[str, str], refusal: str) -> None:
    with pytest.raises(UsageError, match=refusal):
        e2ee_mail.generate_key("x@example.org", kind=ALGORITHM, **arguments)  # type: ignore[arg-type]


def test_keygen_names_the_new_kind_when_refusing_an_unknown_one() -> None:
    with pytest.raises(UsageError, match="mldsa65-ed25519"):
        keygen.generate_v6("x@example.org", kind="dsa")


# -- signing and verifying -----------------------------------------------------------


@pytest.mark.parametrize("armor", [True, False])
def test_inline_signature_verifies(armor: bool) -> None:
    signed = e2ee_mail.sign(BODY, _key(), armor=armor)
    verified = e2ee_mail.verify(signed, _key().public)
    assert verified.data == BODY
    _good(verified.signatures)


def test_detached_signature_verifies_and_covers_the_data() -> None:
    sig = e2ee_mail.sign(BODY, _key(), detached=True)
    _good(e2ee_mail.verify(BODY, _key().public, signature=sig).signatures)
    with pytest.raises(e2ee_mail.SignatureError):
        e2ee_mail.verify(BODY + b"!", _key().public, signature=sig)


def test_signed_and_encrypted_message_verifies() -> None:
    sealed = e2ee_mail.encrypt(BODY, _key().public, sign_with=_key())
    verified = e2ee_mail.decrypt_verified(sealed, _key(), verify_with=_key().public)
    assert verified.data == BODY
    _good(verified.signatures)


def _mail() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "pq-sig@example.org"
    msg["To"] = "pq-sig@example.org"
    msg["Subject"] = "post-quantum signed"
    msg.set_content("signed with ML-DSA-65+Ed25519\n")
    return msg


def test_pgpmime_signed_mail_verifies() -> None:
    signed = e2ee_mail.sign_message(_mail(), _key(), format="pgpmime")
    assert signed.get_param("micalg") == "pgp-sha512"
    _good(e2ee_mail.verify_message(signed, _key().public).signatures)


def test_pgpmime_signed_and_encrypted_mail_verifies() -> None:
    sealed = e2ee_mail.encrypt_message(
        _mail(), _key().public, format="pgpmime", sign_with=_key()
    )
    opened = e2ee_mail.decrypt_message_verified(
        sealed, _key(), verify_with=_key().public
    )
    _good(opened.signatures)


def test_rotation_binds_a_new_subkey_with_the_composite_primary() -> None:
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    rotated = rotate_key(
        _key(), "pq-sig@example.org", format="openpgp", kind="mlkem768-x25519", now=now
    )
    assert rotated.method == "new-subkey"
    cert = e2ee_mail.load_certificate(rotated.key.public.export())
    assert isinstance(cert, certs.OpenPGPCertificate)
    assert cert.primary.packet.algorithm == PK_MLDSA65_ED25519
    assert [k.bound for k in cert.subkeys] == [True, True]


def test_rotation_to_the_composite_kind_says_it_keeps_the_primary_key() -> None:
    with pytest.raises(UsageError, match="keeps the primary key"):
        rotate_key(
            _key(),
            "pq-sig@example.org",
            format="openpgp",
            kind=ALGORITHM,
            now=dt.datetime.now(dt.UTC),
        )
