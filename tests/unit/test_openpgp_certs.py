"""v6 key generation, certificate parsing, binding checks and key protection."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

import e2ee_mail
from e2ee_mail.errors import KeyLoadError, PassphraseError, UnsupportedError
from e2ee_mail.openpgp import armor, certs, keygen
from e2ee_mail.openpgp.packets import TAG_SIGNATURE
from e2ee_mail.openpgp.packets.header import Packet, parse_packets, serialize_packet
from e2ee_mail.openpgp.packets.signature import parse_signature, serialize_signature
from e2ee_mail.policy import DEFAULT

UID = "Alice <alice@example.org>"


@pytest.fixture(scope="module")
def alice() -> certs.OpenPGPSecretKey:
    return keygen.generate(UID, kind="x25519", profile="rfc9580")


def test_generated_key_is_v6_ed25519_with_bound_x25519_subkey(
    alice: certs.OpenPGPSecretKey,
) -> None:
    cert = alice.public
    assert cert.version == 6 and cert.primary.packet.algorithm == 27
    assert cert.user_ids == (UID,)
    (enc,) = cert.encryption_keys()
    assert enc.packet.algorithm == 25 and enc.flags == 0x0C and enc.bound
    assert cert.algorithm == "x25519" and len(cert.fingerprint) == 64
    assert cert.supports_seipdv2 and cert.features == 0x09
    assert cert.aead_preferences[0] == (9, 3)
    assert (9, 2) in cert.aead_preferences


def test_certificate_export_round_trips_armored_and_binary(
    alice: certs.OpenPGPSecretKey,
) -> None:
    for armored in (True, False):
        data = alice.public.export(armor=armored)
        again = certs.load_certificate(data)
        assert again.fingerprint == alice.fingerprint
        assert again.export(armor=False) == alice.public.export(armor=False)
    assert alice.public.export().startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK-----")


def test_secret_key_export_round_trips_unprotected(
    alice: certs.OpenPGPSecretKey,
) -> None:
    again = certs.load_key(alice.export(), None)
    assert again.fingerprint == alice.fingerprint
    assert len(again.decryption_keys()) == 1
    assert alice.export().startswith(b"-----BEGIN PGP PRIVATE KEY BLOCK-----")


def test_passphrase_protected_export_needs_the_passphrase(
    alice: certs.OpenPGPSecretKey,
) -> None:
    locked = alice.export(passphrase=b"hunter2")
    body = armor.dearmor(locked)[1]
    secret_bodies = [p.body for p in parse_packets(body) if p.tag in (5, 7)]
    assert all(b[b.index(b"\x00\x00\x00\x20") + 36] == 253 for b in secret_bodies)
    with pytest.raises(PassphraseError):
        certs.load_key(locked, None)
    with pytest.raises(PassphraseError):
        certs.load_key(locked, b"wrong")
    assert certs.load_key(locked, b"hunter2").fingerprint == alice.fingerprint


def test_loading_a_certificate_as_a_secret_key_is_refused(
    alice: certs.OpenPGPSecretKey,
) -> None:
    with pytest.raises(KeyLoadError):
        certs.load_key(alice.public.export(), None)


def test_secret_key_repr_shows_no_material(alice: certs.OpenPGPSecretKey) -> None:
    text = repr(alice) + str(alice)
    assert alice.fingerprint in text and "PRIVATE" not in text


def _with_broken_binding(cert: certs.OpenPGPCertificate) -> bytes:
    packets = parse_packets(cert.export(armor=False))
    last = packets[-1]
    assert last.tag == TAG_SIGNATURE
    sig = parse_signature(last.body)
    bad = sig.replace(material=bytes(64))
    packets[-1] = Packet(TAG_SIGNATURE, serialize_signature(bad))
    return b"".join(serialize_packet(p.tag, p.body) for p in packets)


def test_subkey_without_a_valid_binding_is_never_used(
    alice: certs.OpenPGPSecretKey,
) -> None:
    cert = certs.load_certificate(_with_broken_binding(alice.public))
    assert cert.encryption_keys() == []
    assert not cert.subkeys[0].bound
    with pytest.raises(UnsupportedError):
        e2ee_mail.encrypt(b"x", cert)


def test_expired_key_has_no_encryption_key(alice: certs.OpenPGPSecretKey) -> None:
    cert = alice.public
    far = cert.primary.packet.created + 10**10
    assert cert.encryption_keys(now=cert.primary.packet.created + 1)
    expired = cert.primary.replace(expires=cert.primary.packet.created + 5)
    assert not expired.usable(far)


def test_key_without_self_signature_is_refused(alice: certs.OpenPGPSecretKey) -> None:
    packets = parse_packets(alice.public.export(armor=False))
    bare = serialize_packet(packets[0].tag, packets[0].body)
    with pytest.raises(KeyLoadError):
        certs.load_certificate(bare)


@pytest.mark.parametrize("data", [b"", b"\x99\x00", b"garbage", b"\xc6\xff\xff"])
def test_malformed_certificates_are_key_load_errors(data: bytes) -> None:
    with pytest.raises(KeyLoadError):
        certs.load_certificate(data)


def test_rsa_v6_key_generation() -> None:
    key = keygen.generate("R <r@example.org>", kind="rsa3072", profile="rfc9580")
    assert key.public.version == 6 and key.public.algorithm == "rsa3072"
    again = certs.load_key(key.export(armor=False), None)
    assert again.fingerprint == key.fingerprint


def test_rfc4880_profile_is_a_seam_for_the_v4_module() -> None:
    try:
        key = keygen.generate(UID, kind="x25519", profile="rfc4880")
    except UnsupportedError as exc:
        assert "v4" in str(exc)
    else:
        assert key.public.version == 4


def test_preferences_put_aes256_gcm_first() -> None:
    subs = {s.type: s.body for s in keygen.self_signature_preferences()}
    assert subs[39][:2] == bytes([9, 3]) and subs[30] == b"\x09"


def test_generated_expiry_is_honoured() -> None:
    created = 1_700_000_000
    key = keygen.generate_v6(UID, kind="x25519", now=created, expires_in=3600)
    cert = certs.load_certificate(key.public.export())
    assert cert.expires == created + 3600
    assert cert.encryption_keys(now=created + 10)
    assert cert.encryption_keys(now=created + 3600) == []
    # The clock is far past the expiry: refused, naming the reason, unless the
    # caller accepts an expired certificate on purpose.
    with pytest.raises(e2ee_mail.PolicyError, match="expired on 2023-11-14 23:13:20"):
        e2ee_mail.encrypt(b"x", cert)
    late = dataclasses.replace(DEFAULT, allow_expired_recipients=True)
    sealed = e2ee_mail.encrypt(b"x", cert, policy=late)
    assert e2ee_mail.decrypt(sealed, key) == b"x"
    assert cert.not_after == datetime.datetime.fromtimestamp(
        created + 3600, datetime.UTC
    )
    assert cert.not_before == datetime.datetime.fromtimestamp(created, datetime.UTC)


def _revoked(key: certs.OpenPGPSecretKey, *, subkey: bool) -> certs.OpenPGPCertificate:
    from e2ee_mail.openpgp import sigs
    from e2ee_mail.openpgp.packets.signature import (
        SIG_KEY_REVOCATION,
        SIG_SUBKEY_REVOCATION,
    )

    primary = key.public.primary.packet
    signer = key.private_key(key.public.primary.fingerprint)
    assert signer is not None
    target = key.public.subkeys[0].packet if subkey else None
    sig = sigs.make_signature(
        signer,  # type: ignore[arg-type]
        primary,
        SIG_SUBKEY_REVOCATION if subkey else SIG_KEY_REVOCATION,
        sigs.key_signature_data(primary, subkey=target),
        [],
        created=primary.created + 1,
    )
    packets = parse_packets(key.public.export(armor=False))
    revocation = Packet(TAG_SIGNATURE, serialize_signature(sig))
    packets.insert(len(packets) if subkey else 1, revocation)
    return certs.load_certificate(
        b"".join(serialize_packet(p.tag, p.body) for p in packets)
    )


def test_revoked_primary_key_has_no_encryption_key(
    alice: certs.OpenPGPSecretKey,
) -> None:
    cert = _revoked(alice, subkey=False)
    assert cert.revoked and cert.encryption_keys() == []


def test_revoked_subkey_is_not_used(alice: certs.OpenPGPSecretKey) -> None:
    cert = _revoked(alice, subkey=True)
    assert not cert.revoked and cert.subkeys[0].revoked
    assert cert.encryption_keys() == []


def test_newest_signature_prefers_the_later_packet_within_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from types import SimpleNamespace

    from e2ee_mail.openpgp import tpk

    first = SimpleNamespace(name="first")
    second = SimpleNamespace(name="second")
    monkeypatch.setattr(tpk, "created_time", lambda sig: 1000)
    assert tpk.newest_sig([first, second]) is second  # type: ignore[list-item]
