"""Tolerant key loading: each subkey judged on its own, self-signatures of every
signing algorithm checked (RFC 9580 §5.2.3, §5.5.5, §10.1).

Keys are built by tests/pgpkeys.py, which signs with `cryptography` directly: a
primary key of each signing algorithm (Ed25519, EdDSALegacy, Ed448, RSA, DSA, ECDSA
over the NIST and brainpool curves) must load, and a tampered self-signature of each
must be refused. Subkeys with a bad binding, expired, revoked, of an unknown
algorithm or ElGamal are skipped with their reason (``skipped_subkeys``, repr,
``inspect``) while the good one is used; without a good one, the error lists every
reason.
"""

from __future__ import annotations

import functools

import pytest
from pgpkeys import (
    CREATED,
    Signer,
    binding,
    certificate,
    make_signer,
    sign,
    tampered,
    uid_data,
    x25519_subkey,
)

import e2ee_mail
from e2ee_mail.errors import KeyLoadError, UnsupportedError
from e2ee_mail.openpgp import certs, keygen
from e2ee_mail.openpgp.packets import TAG_SECRET_SUBKEY
from e2ee_mail.openpgp.packets.header import parse_packets, serialize_packet
from e2ee_mail.openpgp.packets.keys import PublicKeyPacket
from e2ee_mail.openpgp.packets.signature import (
    SIG_POSITIVE_CERT,
    SIG_SUBKEY_REVOCATION,
    SP_KEY_FLAGS,
    SignaturePacket,
    Subpacket,
)
from e2ee_mail.openpgp.packets.wire import encode_mpi

KINDS = [
    "ed25519",
    "eddsa-legacy",
    "ed448",
    "rsa",
    "dsa",
    "ecdsa-secp256r1",
    "ecdsa-secp384r1",
    "ecdsa-secp521r1",
    "ecdsa-brainpoolP256r1",
    "ecdsa-brainpoolP384r1",
    "ecdsa-brainpoolP512r1",
]
#: Long after every subkey here was made; before none of them expires unless asked.
NOW = CREATED + 1000


@functools.cache
def _signer(kind: str) -> Signer:
    # RSA and DSA key generation take a while: one key per kind for the module.
    return make_signer(kind)


@pytest.mark.parametrize("kind", KINDS)
def test_primary_of_each_signing_algorithm_loads(kind: str) -> None:
    signer = _signer(kind)
    sub = x25519_subkey()
    cert = certs.load_certificate(certificate(signer, [(sub, [binding(signer, sub)])]))
    assert cert.primary.packet.algorithm == signer.packet.algorithm
    assert cert.user_ids == ("Test <test@example.org>",)
    key = cert.encryption_key(NOW)
    assert key is not None and key.packet == sub
    assert cert.skipped_subkeys(NOW) == ()


@pytest.mark.parametrize("kind", KINDS)
def test_tampered_user_id_certification_is_refused(kind: str) -> None:
    signer = _signer(kind)
    good = sign(
        signer,
        SIG_POSITIVE_CERT,
        uid_data(signer.packet, b"Test <test@example.org>"),
        [Subpacket(SP_KEY_FLAGS, b"\x03")],
    )
    with pytest.raises(KeyLoadError, match="no self-signature of the key verifies"):
        certs.load_certificate(certificate(signer, certification=tampered(good)))
    # The signature is good, but over another User ID.
    with pytest.raises(KeyLoadError, match="no self-signature of the key verifies"):
        certs.load_certificate(
            certificate(signer, uid=b"Mallory <m@example.org>", certification=good)
        )


@pytest.mark.parametrize("kind", KINDS)
def test_tampered_subkey_binding_is_refused(kind: str) -> None:
    signer = _signer(kind)
    sub = x25519_subkey()
    data = certificate(signer, [(sub, [tampered(binding(signer, sub))])])
    cert = certs.load_certificate(data)
    assert cert.encryption_key(NOW) is None
    (skipped,) = cert.skipped_subkeys(NOW)
    assert skipped[1] == "no valid binding signature"


def _elgamal_subkey() -> PublicKeyPacket:
    # p, g, y (RFC 9580 §5.5.5.4); the values are never used for arithmetic here.
    material = encode_mpi(2**2047 + 1) + encode_mpi(2) + encode_mpi(2**2000 + 7)
    return PublicKeyPacket(4, CREATED, 16, material)


def _unknown_subkey_body() -> bytes:
    # Version 4, creation time, algorithm 99, then fields we cannot read.
    return b"\x04" + CREATED.to_bytes(4, "big") + b"\x63" + b"\x01\x02\x03\x04"


def _mixed(
    signer: Signer, *, with_good: bool, with_expired: bool = True
) -> tuple[bytes, PublicKeyPacket]:
    good = x25519_subkey(CREATED + 5)
    bad_binding = x25519_subkey(CREATED + 1)
    expired = x25519_subkey(CREATED + 2)
    revoked = x25519_subkey(CREATED + 3)
    elgamal = _elgamal_subkey()
    subkeys: list[tuple[PublicKeyPacket | bytes, list[SignaturePacket]]] = [
        (bad_binding, [tampered(binding(signer, bad_binding))]),
        (expired, [binding(signer, expired, expires_after=10)]),
        (
            revoked,
            [
                binding(signer, revoked),
                binding(signer, revoked, sig_type=SIG_SUBKEY_REVOCATION),
            ],
        ),
        (elgamal, [binding(signer, elgamal)]),
        (_unknown_subkey_body(), []),
    ]
    if not with_expired:
        # A certificate whose only candidate expired is a PolicyError naming the
        # date (recipients.recipient_key), not this error.
        del subkeys[1]
    if with_good:
        subkeys.append((good, [binding(signer, good)]))
    return certificate(signer, subkeys), good


def test_each_subkey_is_judged_on_its_own() -> None:
    signer = _signer("ed25519")
    data, good = _mixed(signer, with_good=True)
    cert = certs.load_certificate(data)
    chosen = cert.encryption_key(NOW)
    assert chosen is not None and chosen.packet == good
    reasons = [why for _, why in cert.skipped_subkeys(NOW)]
    assert reasons[0] == "no valid binding signature"
    assert reasons[1].startswith("expired on ")
    assert reasons[2] == "revoked"
    assert "ElGamal" in reasons[3]
    assert reasons[4] == "public key algorithm 99 is unknown"
    assert len(reasons) == 5
    text = repr(cert)
    for reason in reasons:
        assert reason in text
    assert cert.algorithm == "x25519"


def test_inspect_shows_each_subkey_and_why_it_is_skipped() -> None:
    data, _ = _mixed(_signer("ed25519"), with_good=True)
    described = e2ee_mail.inspect(data)
    assert described.is_key and described.content_algorithm == "v4 certificate"
    text = str(described)
    assert "revoked" in text and "ElGamal" in text and "algorithm 99" in text
    assert "expired on" in text and "no valid binding signature" in text
    assert text.count("skipped: ") == 5
    assert "recipients" not in text


def test_without_a_usable_subkey_the_error_lists_every_reason() -> None:
    data, _ = _mixed(_signer("ed25519"), with_good=False, with_expired=False)
    cert = e2ee_mail.load_certificate(data)
    with pytest.raises(UnsupportedError) as caught:
        e2ee_mail.encrypt(b"x", cert)
    text = str(caught.value)
    assert cert.fingerprint in text
    for part in (
        "no valid binding signature",
        "revoked",
        "ElGamal keys are not supported",
        "public key algorithm 99 is unknown",
        "Ed25519 keys cannot encrypt",
    ):
        assert part in text


def test_primary_of_an_unknown_curve_names_the_cause() -> None:
    signer = _signer("ecdsa-secp256r1")
    material = signer.packet.material
    # secp224r1 (1.3.132.0.33): not an OpenPGP curve.
    other = b"\x05\x2b\x81\x04\x00\x21" + material[1 + material[0] :]
    odd = Signer(signer.packet.replace(material=other), signer.sign)
    with pytest.raises(KeyLoadError, match="cannot be checked: ECDSA over curve"):
        certs.load_certificate(certificate(odd))


def test_secret_subkey_we_cannot_read_is_kept_and_the_others_decrypt() -> None:
    key = keygen.generate("Sam <sam@example.org>", kind="x25519", profile="rfc4880")
    packets = parse_packets(key.export(armor=False))
    odd = _unknown_subkey_body() + b"\x00" + b"\x05\x06"
    data = b"".join(serialize_packet(p.tag, p.body) for p in packets)
    data += serialize_packet(TAG_SECRET_SUBKEY, odd)
    loaded = certs.load_key(data, None)
    assert dict(loaded.public.skipped_subkeys())["subkey #2"].startswith(
        "public key algorithm 99"
    )
    assert e2ee_mail.decrypt(e2ee_mail.encrypt(b"hi", loaded.public), loaded) == b"hi"
    # Exported with a passphrase, the unreadable packet is carried as it was.
    locked = loaded.export(passphrase="pw", armor=False)
    assert serialize_packet(TAG_SECRET_SUBKEY, odd) in locked
    again = certs.load_key(locked, b"pw")
    assert e2ee_mail.decrypt(e2ee_mail.encrypt(b"yo", again.public), again) == b"yo"
