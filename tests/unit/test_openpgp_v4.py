"""OpenPGP v4 compatibility: v4 keys (openpgp/keygen_v4.py, openpgp/curves.py), the
ECDH PKESK (openpgp/pkesk_ecdh.py) and SEIPDv1 messages (openpgp/seipdv1.py),
through the public API where possible.

Published data: RFC 9580 (July 2024) Appendix A.1 "Sample Version 4 Ed25519Legacy
Key" and A.2 "Sample Version 4 Ed25519Legacy Signature",
https://www.rfc-editor.org/rfc/rfc9580#appendix-A.1 .
"""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import e2ee_mail
from e2ee_mail.openpgp import curves, packets
from e2ee_mail.openpgp.packets.keys import fingerprint, parse_public_key
from e2ee_mail.openpgp.packets.signature import parse_signature
from e2ee_mail.openpgp.recipients import choose_container
from e2ee_mail.openpgp.sigs import verify_signature
from e2ee_mail.policy import DEFAULT, RFC4880, RFC9580

# RFC 9580 A.1: the v4 Ed25519Legacy Public Key packet (body after the 2-octet header).
A1_PUBLIC_BODY = bytes.fromhex(
    "0453f35f0b16092b06010401da470f01010740"
    "3f098994bdd916ed4053197934e4a87c80733a1280d62f8010992e43ee3b2406"
)
A1_FINGERPRINT = "C959BDBAFA32A2F89A153B678CFDE12197965A9A"
# RFC 9580 A.2: the signature packet body over "OpenPGP".
A2_SIGNATURE_BODY = bytes.fromhex(
    "04001608000605025 5f95f95000a09108cfde12197965a9af62200ff56f90cca98e2102637bd98"
    "3fdb16c131dfd27ed82bf4dde5606e0d756aed33660100d09c4fa11527f038e0f57f2201d82f2e"
    "a2c9033265fa6ceb489e854bae61b404".replace(" ", "")
)
BODY = b"v4 body \x00\xff" * 100


@pytest.fixture(scope="module")
def v4_x25519() -> e2ee_mail.SecretKey:
    return e2ee_mail.generate_key("Vera <vera@example.org>", profile="rfc4880")


@pytest.fixture(scope="module")
def v4_rsa() -> e2ee_mail.SecretKey:
    return e2ee_mail.generate_key(
        "Rita <rita@example.org>", kind="rsa3072", profile="rfc4880"
    )


@pytest.fixture(scope="module")
def v6_key() -> e2ee_mail.SecretKey:
    return e2ee_mail.generate_key("Sam <sam@example.org>")


def test_rfc9580_a1_v4_ed25519legacy_key_fingerprint_and_point() -> None:
    packet = parse_public_key(A1_PUBLIC_BODY)
    assert fingerprint(packet).hex().upper() == A1_FINGERPRINT
    oid, native, kdf = curves.decode_curve_public(packet)
    assert oid == packets.OID_ED25519_LEGACY and kdf == b""
    assert native.hex().startswith("3f098994")


def test_rfc9580_a2_v4_ed25519legacy_signature_verifies() -> None:
    key = parse_public_key(A1_PUBLIC_BODY)
    sig = parse_signature(A2_SIGNATURE_BODY)
    assert verify_signature(sig, key, b"OpenPGP")
    assert not verify_signature(sig, key, b"OpenPGp")


@pytest.mark.parametrize(
    ("fixture", "algorithm"), [("v4_x25519", "ecdh-curve25519"), ("v4_rsa", "rsa3072")]
)
def test_generated_v4_key_shape(
    request: pytest.FixtureRequest, fixture: str, algorithm: str
) -> None:
    key = request.getfixturevalue(fixture)
    cert = key.public
    assert cert.version == 4
    assert cert.algorithm == algorithm
    assert len(cert.fingerprint) == 40
    assert not cert.supports_seipdv2  # v4 keys advertise SEIPDv1 only
    armored = cert.export()
    assert b"\n=" in armored  # the CRC24 line GnuPG 2.2 needs
    again = e2ee_mail.load_certificate(armored)
    assert again.fingerprint == cert.fingerprint
    assert (
        e2ee_mail.load_certificate(cert.export(armor=False)).user_ids == cert.user_ids
    )


def test_v4_secret_key_export_round_trips_with_passphrase(
    v4_x25519: e2ee_mail.SecretKey,
) -> None:
    exported = v4_x25519.export(passphrase=b"pw")
    with pytest.raises(e2ee_mail.PassphraseError):
        e2ee_mail.load_key(exported, passphrase="nope")
    with pytest.raises(e2ee_mail.PassphraseError):
        e2ee_mail.load_key(exported)
    loaded = e2ee_mail.load_key(exported, passphrase="pw")
    message = e2ee_mail.encrypt(BODY, [v4_x25519.public])
    assert e2ee_mail.decrypt(message, loaded) == BODY


def test_container_choice_follows_rfc9580_rules(
    v4_x25519: e2ee_mail.SecretKey, v6_key: e2ee_mail.SecretKey
) -> None:
    v4, v6 = v4_x25519.public, v6_key.public
    assert choose_container([v6], DEFAULT) == "seipdv2"
    assert choose_container([v4], DEFAULT) == "seipdv1"
    assert choose_container([v4, v6], DEFAULT) == "seipdv1"
    assert choose_container([v6], RFC4880) == "seipdv1"
    assert choose_container([v4], RFC9580) == "seipdv2"


@pytest.mark.parametrize("profile", [DEFAULT, RFC4880, RFC9580])
@pytest.mark.parametrize("armor", [False, True])
def test_round_trip_under_each_profile(
    v4_x25519: e2ee_mail.SecretKey,
    v4_rsa: e2ee_mail.SecretKey,
    v6_key: e2ee_mail.SecretKey,
    profile: e2ee_mail.Policy,
    armor: bool,
) -> None:
    keys = (v4_x25519, v4_rsa, v6_key)
    message = e2ee_mail.encrypt(
        BODY, [k.public for k in keys], armor=armor, policy=profile
    )
    expected = "seipdv2" if profile is RFC9580 else "seipdv1"
    assert e2ee_mail.inspect(message).content_algorithm.startswith(expected)
    for key in keys:
        assert e2ee_mail.decrypt(message, key) == BODY


def test_stream_round_trip_and_armor_crc(v4_x25519: e2ee_mail.SecretKey) -> None:
    body = bytes(range(256)) * 9000
    dst = io.BytesIO()
    e2ee_mail.encrypt_stream(io.BytesIO(body), dst, [v4_x25519.public], armor=True)
    assert b"\n=" in dst.getvalue()[-100:]
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(io.BytesIO(dst.getvalue()), out, v4_x25519)
    assert out.getvalue() == body


def test_tampered_seipdv1_stream_writes_nothing(v4_x25519: e2ee_mail.SecretKey) -> None:
    message = bytearray(e2ee_mail.encrypt(b"A" * 5000, [v4_x25519.public]))
    message[-40] ^= 1
    out = io.BytesIO()
    with pytest.raises(e2ee_mail.DecryptionError):
        e2ee_mail.decrypt_stream(io.BytesIO(bytes(message)), out, v4_x25519)
    assert out.getvalue() == b""


@pytest.mark.parametrize("cut", [1, 21, 22, 23, 60])
def test_truncated_seipdv1_fails_closed(
    v4_x25519: e2ee_mail.SecretKey, cut: int
) -> None:
    message = e2ee_mail.encrypt(BODY, [v4_x25519.public])
    with pytest.raises(e2ee_mail.Error):
        e2ee_mail.decrypt(message[:-cut], v4_x25519)


def test_wrong_key_is_no_matching_key(
    v4_x25519: e2ee_mail.SecretKey, v4_rsa: e2ee_mail.SecretKey
) -> None:
    message = e2ee_mail.encrypt(BODY, [v4_x25519.public])
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(message, v4_rsa)


def test_rewrap_keeps_the_seipdv1_body(
    v4_x25519: e2ee_mail.SecretKey, v4_rsa: e2ee_mail.SecretKey
) -> None:
    message = e2ee_mail.encrypt(BODY, [v4_x25519.public])
    rewrapped = e2ee_mail.rewrap(message, v4_x25519, [v4_rsa.public])
    assert e2ee_mail.decrypt(rewrapped, v4_rsa) == BODY
    assert rewrapped.endswith(message[-(len(BODY) + 40) :])
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(rewrapped, v4_x25519)


def test_ecdh_pkesk_damage_is_the_same_decryption_error(
    v4_x25519: e2ee_mail.SecretKey,
) -> None:
    message = bytearray(e2ee_mail.encrypt(BODY, [v4_x25519.public]))
    # The PKESK is first: header (2), version, key ID (8), algorithm, then the MPI of
    # the ephemeral point (2 + 33), the size octet and the 48-octet wrapped key.
    for offset in (20, 46, 60):
        damaged = bytearray(message)
        damaged[offset] ^= 0x01
        with pytest.raises(e2ee_mail.DecryptionError) as info:
            e2ee_mail.decrypt(bytes(damaged), v4_x25519)
        assert str(info.value) == str(e2ee_mail.DecryptionError())


@settings(max_examples=25)
@given(st.binary(max_size=3000))
def test_property_seipdv1_round_trip(body: bytes) -> None:
    key = _SHARED_KEY
    message = e2ee_mail.encrypt(body, [key.public], policy=RFC4880)
    assert e2ee_mail.decrypt(message, key) == body


@settings(max_examples=40)
@given(st.data())
def test_property_mutated_seipdv1_fails_closed_or_opens(data: st.DataObject) -> None:
    key = _SHARED_KEY
    message = bytearray(_SHARED_MESSAGE)
    i = data.draw(st.integers(0, len(message) - 1))
    message[i] ^= data.draw(st.integers(1, 255))
    try:
        got = e2ee_mail.decrypt(bytes(message), key)
    except e2ee_mail.Error:
        return
    assert got == b"mutation target"  # e.g. a flipped bit in an ignored field


_SHARED_KEY = e2ee_mail.generate_key("P <p@example.org>", profile="rfc4880")
_SHARED_MESSAGE = e2ee_mail.encrypt(b"mutation target", [_SHARED_KEY.public])


class _Prefs:
    def __init__(self, prefs: bytes) -> None:
        self.symmetric_preferences = prefs

    def encryption_keys(self) -> list[object]:
        return []  # no post-quantum key, which would imply AES-256


@pytest.mark.parametrize(
    ("prefs", "expected"),
    [
        ([b"\x09\x07", b"\x09\x08\x07\x02"], 9),
        ([b"\x08\x09", b"\x08"], 8),
        ([b"\x09\x07", b""], 7),  # no list: AES-128 only (RFC 9580 §12.2)
        ([b"\x03"], 7),  # CAST5 only: AES-128 is still implicitly accepted
    ],
)
def test_seipdv1_cipher_is_the_best_aes_every_recipient_accepts(
    prefs: list[bytes], expected: int
) -> None:
    from e2ee_mail.openpgp.seipdv1 import choose_cipher

    assert choose_cipher([_Prefs(p) for p in prefs]) == expected  # type: ignore[misc]


_PROTECTED = _SHARED_KEY.export(passphrase=b"pw", armor=False)


@settings(max_examples=40)
@given(st.data())
def test_property_mutated_protected_v4_key_fails_inside_the_hierarchy(
    data: st.DataObject,
) -> None:
    blob = bytearray(_PROTECTED)
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(blob) - 1))
        blob[i] ^= data.draw(st.integers(1, 255))
    with contextlib.suppress(e2ee_mail.Error):
        e2ee_mail.load_key(bytes(blob), passphrase="pw")


@settings(max_examples=25)
@given(st.integers(0, len(_PROTECTED) - 1))
def test_property_truncated_v4_key_fails_inside_the_hierarchy(cut: int) -> None:
    with contextlib.suppress(e2ee_mail.Error):
        e2ee_mail.load_key(_PROTECTED[:cut], passphrase="pw")
