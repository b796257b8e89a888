"""Attacks on the composite ML-DSA + EdDSA signatures of RFC 9980: a signature with
only one valid half (either way round, including halves taken from two genuine
signatures), a composite signature passed off as its classical half, a digest
shorter than 256 bits, a v4 signature, composite keys on v4 key packets. None may
ever come out "good". (Altered self-signatures of the RFC 9980 samples are vector
cases: data/openpgp/rfc9980-mldsa-test-vectors.json.)"""

from __future__ import annotations

import functools

import pytest
from openpgp_signers import signer

from e2ee_mail.core import mldsa
from e2ee_mail.errors import FormatError, KeyLoadError, PacketError
from e2ee_mail.model import SignatureResult
from e2ee_mail.openpgp import certs, keygen, signing, verifying
from e2ee_mail.openpgp.packets import (
    PK_ED25519,
    PK_MLDSA65_ED25519,
    PK_MLDSA87_ED448,
    TAG_PUBLIC_KEY,
    TAG_USER_ID,
)
from e2ee_mail.openpgp.packets.header import parse_packets, serialize_packet
from e2ee_mail.openpgp.packets.keys import (
    PublicKeyPacket,
    parse_public_key,
    serialize_public_key,
)
from e2ee_mail.openpgp.packets.signature import (
    SIG_DIRECT_KEY,
    SignaturePacket,
    parse_signature,
    serialize_signature,
)
from e2ee_mail.openpgp.sigs import key_signature_data, make_signature, verify_signature
from e2ee_mail.policy import DEFAULT

BODY = b"Pay 100 EUR to account 1234.\n"
ED25519_HALF = mldsa.MLDSA65_ED25519.eddsa_signature_size


@functools.cache
def _key() -> certs.OpenPGPSecretKey:
    return keygen.generate(
        "Composite <composite@example.org>", kind="mldsa65-ed25519", profile="rfc9580"
    )


def _detached(data: bytes = BODY) -> SignaturePacket:
    return parse_signature(
        parse_packets(signing.sign_detached(data, _key(), armor=False))[0].body
    )


def _statuses(sig: SignaturePacket, data: bytes = BODY) -> list[str]:
    packet = serialize_packet(2, serialize_signature(sig))
    results: tuple[SignatureResult, ...] = verifying.verify_detached(
        data, packet, [_key().public], policy=DEFAULT
    )
    return [r.status for r in results]


def test_genuine_signature_is_good() -> None:
    assert _statuses(_detached()) == ["good"]


def test_ed25519_valid_mldsa_altered_is_bad() -> None:
    sig = _detached()
    material = bytearray(sig.material)
    material[ED25519_HALF + 1000] ^= 0x01
    assert _statuses(sig.replace(material=bytes(material))) == ["bad"]


def test_mldsa_valid_ed25519_altered_is_bad() -> None:
    sig = _detached()
    material = bytearray(sig.material)
    material[10] ^= 0x01
    assert _statuses(sig.replace(material=bytes(material))) == ["bad"]


@pytest.mark.parametrize("keep", ["ed25519", "mldsa"])
def test_halves_of_two_genuine_signatures_do_not_combine(keep: str) -> None:
    """Each half is a real signature by the key, but the other half signs another
    message: both must hold over this signature's own digest."""
    sig, other = _detached(), _detached(b"another message\n")
    if keep == "ed25519":
        material = sig.material[:ED25519_HALF] + other.material[ED25519_HALF:]
    else:
        material = other.material[:ED25519_HALF] + sig.material[ED25519_HALF:]
    assert _statuses(sig.replace(material=material)) == ["bad"]


def test_composite_passed_off_as_its_ed25519_half_is_bad() -> None:
    """Stripping the ML-DSA half and relabelling the signature Ed25519 (27): the
    key's algorithm is 30, so the classical half alone proves nothing."""
    sig = _detached()
    downgraded = sig.replace(
        pk_algorithm=PK_ED25519, material=sig.material[:ED25519_HALF]
    )
    assert _statuses(downgraded) == ["bad"]


def test_core_check_needs_both_halves() -> None:
    key = mldsa.generate()
    public = key.public_key()
    digest = bytes(range(32))
    good = mldsa.sign(key, digest)
    mldsa.check(public, good, digest)
    other = mldsa.sign(key, bytes(32))
    for forged in (
        good[:ED25519_HALF] + other[ED25519_HALF:],
        other[:ED25519_HALF] + good[ED25519_HALF:],
        good[:-1],
        good + b"\0",
    ):
        with pytest.raises(FormatError):
            mldsa.check(public, forged, digest)


def _primary_public() -> PublicKeyPacket:
    return _key().public.primary.packet


@pytest.mark.parametrize(("hash_algorithm", "valid"), [(11, False), (8, True)])
def test_digest_below_256_bits_is_refused(hash_algorithm: int, valid: bool) -> None:
    """RFC 9980 §5.3.1: SHA-224 (11) is refused even though both halves hold;
    SHA-256 (8) is accepted."""
    primary = _primary_public()
    private = _key().private_key(_key().public.primary.fingerprint)
    assert isinstance(private, mldsa.CompositeSigPrivateKey)
    data = key_signature_data(primary)
    sig = make_signature(
        private,
        primary,
        SIG_DIRECT_KEY,
        data,
        [],
        created=primary.created,
        hash_algorithm=hash_algorithm,
    )
    assert verify_signature(sig, primary, data) is valid


def test_v4_composite_signature_is_refused() -> None:
    primary = _primary_public()
    private = _key().private_key(_key().public.primary.fingerprint)
    assert isinstance(private, mldsa.CompositeSigPrivateKey)
    data = key_signature_data(primary)
    sig = make_signature(private, primary, SIG_DIRECT_KEY, data, [], created=1)
    assert verify_signature(sig, primary, data)
    assert not verify_signature(sig.replace(version=4), primary, data)


@pytest.mark.parametrize("algorithm", [PK_MLDSA65_ED25519, PK_MLDSA87_ED448])
def test_composite_algorithm_on_a_v4_key_is_refused(algorithm: int) -> None:
    suite = mldsa.SUITES[algorithm]
    key = mldsa.generate(algorithm)
    body = serialize_public_key(PublicKeyPacket(4, 1, algorithm, key.public))
    assert len(key.public) == suite.public_size
    with pytest.raises(PacketError, match="v6 only"):
        parse_public_key(body)
    cert = serialize_packet(TAG_PUBLIC_KEY, body) + serialize_packet(
        TAG_USER_ID, b"v4 <v4@example.org>"
    )
    with pytest.raises(KeyLoadError, match="v6 only"):
        certs.load_certificate(cert)


def test_composite_key_cannot_verify_a_classical_signature() -> None:
    """An Ed25519 signature checked against a composite key's packet: refused by
    algorithm, never by the Ed25519 half of the key alone."""
    ed_sig = parse_signature(
        parse_packets(signing.sign_detached(BODY, signer("v6"), armor=False))[0].body
    )
    assert not verify_signature(ed_sig, _primary_public(), BODY)
