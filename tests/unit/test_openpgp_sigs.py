"""Signature hashing and verification against RFC 9580 samples, and our own."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from e2ee_mail.openpgp import armor, keymaterial, sigs
from e2ee_mail.openpgp.packets.header import parse_packets
from e2ee_mail.openpgp.packets.keys import PublicKeyPacket, parse_public_key
from e2ee_mail.openpgp.packets.signature import (
    SIG_DIRECT_KEY,
    SignaturePacket,
    Subpacket,
    parse_signature,
)

# RFC 9580 A.1 (v4 Ed25519Legacy key) and A.2 (its signature over "OpenPGP").
V4_KEY = bytes.fromhex(
    "983304"
    "53f35f0b16092b06010401da470f01010740"
    "3f098994bdd916ed4053197934e4a87c"
    "80733a1280d62f8010992e43ee3b2406"
)
V4_SIG = bytes.fromhex(
    "885e040016080006050255f95f95000a09108cfde12197965a9af62200ff56f90cca98e21026"
    "37bd983fdb16c131dfd27ed82bf4dde5606e0d756aed33660100d09c4fa11527f038e0f57f22"
    "01d82f2ea2c9033265fa6ceb489e854bae61b404"
)
# RFC 9580 A.6: a v6 canonical-text signature by the A.3 key.
V6_SIG = """-----BEGIN PGP SIGNATURE-----

wpgGARsKAAAAKQWCY5ijYyIhBssYbE8GCaaX5NUt+mxyKwwfHifBilZwj2Ul7Ce6
2azJAAAAAGk2IHZJX1AhiJD39eLuPBgiUU9wUA9VHYblySHkBONKU/usJ9BvuAqo
/FvLFuGWMbKAdA+epq7V4HOtAPlBWmU8QOd6aud+aSunHQaaEJ+iTFjP2OMW0KBr
NK2ay45cX1IVAQ==
-----END PGP SIGNATURE-----
"""
A3_PRIMARY = PublicKeyPacket(
    6,
    0x63877FE3,
    27,
    bytes.fromhex("f94da7bb48d60a61e567706a6587d0331999bb9d891a08242ead84543df895a3"),
)
GROCERIES = (
    b"What we need from the grocery store:\r\n\r\n- tofu\r\n- vegetables\r\n"
    b"- noodles\r\n"
)


def test_v4_eddsa_legacy_signature_of_rfc_a2_verifies() -> None:
    key = parse_public_key(parse_packets(V4_KEY)[0].body)
    sig = parse_signature(parse_packets(V4_SIG)[0].body)
    assert sigs.verify_signature(sig, key, b"OpenPGP")
    assert not sigs.verify_signature(sig, key, b"OpenPGp")


def test_v6_salted_signature_of_rfc_a6_verifies() -> None:
    sig = parse_signature(parse_packets(armor.dearmor(V6_SIG.encode())[1])[0].body)
    assert sig.version == 6 and len(sig.salt) == 32
    assert sigs.verify_signature(sig, A3_PRIMARY, GROCERIES)
    assert not sigs.verify_signature(sig, A3_PRIMARY, GROCERIES + b"x")


def _fresh(signer: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey, algo: int, v: int):
    public = PublicKeyPacket(
        v, 1_700_000_000, algo, keymaterial.public_material(signer)
    )
    sig = sigs.make_signature(
        signer,
        public,
        SIG_DIRECT_KEY,
        sigs.key_signature_data(public),
        [Subpacket(27, b"\x03", True)],
        created=1_700_000_000,
        hash_algorithm=10 if v == 6 else 8,
    )
    return public, sig


@pytest.mark.parametrize("version", [4, 6])
def test_made_ed25519_signatures_verify_and_detect_tampering(version: int) -> None:
    public, sig = _fresh(ed25519.Ed25519PrivateKey.generate(), 27, version)
    data = sigs.key_signature_data(public)
    assert sigs.verify_signature(sig, public, data)
    assert (sig.salt != b"") == (version == 6)
    tampered = SignaturePacket(
        sig.version,
        0x20,
        sig.pk_algorithm,
        sig.hash_algorithm,
        sig.hashed_area,
        sig.unhashed_area,
        sig.left16,
        sig.salt,
        sig.material,
    )
    assert not sigs.verify_signature(tampered, public, data)


def test_made_rsa_signature_verifies() -> None:
    public, sig = _fresh(rsa.generate_private_key(65537, 2048), 1, 6)
    assert sigs.verify_signature(sig, public, sigs.key_signature_data(public))


def test_v6_signature_with_wrong_salt_size_is_invalid() -> None:
    public, sig = _fresh(ed25519.Ed25519PrivateKey.generate(), 27, 6)
    short = SignaturePacket(
        6,
        sig.sig_type,
        27,
        10,
        sig.hashed_area,
        sig.unhashed_area,
        sig.left16,
        sig.salt[:16],
        sig.material,
    )
    assert not sigs.verify_signature(short, public, sigs.key_signature_data(public))
