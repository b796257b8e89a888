"""Session key wrapping per recipient: X25519 and RSA, v6 and v3 PKESKs."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519 as X

from e2ee_mail.core import keywrap
from e2ee_mail.core import x25519 as core_x25519
from e2ee_mail.errors import DecryptionError
from e2ee_mail.openpgp import certs, keygen, pkesk
from e2ee_mail.openpgp.packets.pkesk import (
    PKESKv3,
    PKESKv6,
    parse_x25519_fields,
    serialize_x25519_fields,
)
from e2ee_mail.openpgp.packets.wire import encode_mpi

SESSION_KEY = bytes(range(32))


@pytest.fixture(scope="module", params=["x25519", "rsa3072"])
def key(request: pytest.FixtureRequest) -> certs.OpenPGPSecretKey:
    return keygen.generate("K <k@example.org>", kind=request.param, profile="rfc9580")


def _ours(key: certs.OpenPGPSecretKey) -> tuple[certs.KeyInfo, object]:
    # The encryption subkey (an RSA primary key is listed too, after it).
    return key.decryption_keys()[0]


def test_v6_wrap_unwrap_round_trips(key: certs.OpenPGPSecretKey) -> None:
    info, private = _ours(key)
    packet = pkesk.wrap_v6(SESSION_KEY, info)
    assert packet.fingerprint == info.fingerprint and pkesk.names(packet, info)
    assert pkesk.unwrap(packet, private, info) == (None, SESSION_KEY)


def test_v3_wrap_carries_the_cipher(key: certs.OpenPGPSecretKey) -> None:
    info, private = _ours(key)
    packet = pkesk.wrap_v3(SESSION_KEY, 9, info)
    assert packet.key_id == info.key_id and pkesk.names(packet, info)
    assert pkesk.unwrap(packet, private, info) == (9, SESSION_KEY)


def test_each_wrap_is_fresh(key: certs.OpenPGPSecretKey) -> None:
    info, _ = _ours(key)
    first = pkesk.wrap_v6(SESSION_KEY, info)
    second = pkesk.wrap_v6(SESSION_KEY, info)
    assert first.material != second.material


def test_damaged_wrap_is_a_decryption_error(key: certs.OpenPGPSecretKey) -> None:
    info, private = _ours(key)
    packet = pkesk.wrap_v6(SESSION_KEY, info)
    for index in (0, 20, len(packet.material) - 1):
        material = bytearray(packet.material)
        material[index] ^= 0x40
        bad = packet.replace(material=bytes(material))
        with pytest.raises(DecryptionError):
            pkesk.unwrap(bad, private, info)


def test_other_key_cannot_unwrap() -> None:
    a = keygen.generate("A <a@example.org>", kind="x25519", profile="rfc9580")
    b = keygen.generate("B <b@example.org>", kind="x25519", profile="rfc9580")
    info_a, _ = _ours(a)
    info_b, private_b = _ours(b)
    packet = pkesk.wrap_v6(SESSION_KEY, info_a)
    assert not pkesk.names(packet, info_b)
    with pytest.raises(DecryptionError):
        pkesk.unwrap(packet, private_b, info_b)


def test_low_order_ephemeral_point_is_a_decryption_error() -> None:
    key = keygen.generate("A <a@example.org>", kind="x25519", profile="rfc9580")
    info, private = _ours(key)
    fields = parse_x25519_fields(pkesk.wrap_v6(SESSION_KEY, info).material, version=6)
    zero = fields.replace(ephemeral=bytes(32))
    packet = PKESKv6(6, info.fingerprint, 25, serialize_x25519_fields(zero))
    with pytest.raises(DecryptionError):
        pkesk.unwrap(packet, private, info)


def test_rsa_ciphertext_longer_than_the_modulus_is_refused() -> None:
    key = keygen.generate("R <r@example.org>", kind="rsa3072", profile="rfc9580")
    info, private = _ours(key)
    packet = PKESKv3(info.key_id, 1, encode_mpi(1 << 4000))
    with pytest.raises(DecryptionError):
        pkesk.unwrap(packet, private, info)


def test_algorithm_mismatch_is_a_decryption_error() -> None:
    key = keygen.generate("A <a@example.org>", kind="x25519", profile="rfc9580")
    info, private = _ours(key)
    packet = pkesk.wrap_v6(SESSION_KEY, info).replace(algorithm=1)
    with pytest.raises(DecryptionError):
        pkesk.unwrap(packet, private, info)


# RFC 9580 Appendix A.8.2, "X25519 Encryption/Decryption of the Session Key".
A8_EPHEMERAL_SECRET = bytes.fromhex(
    "af1e43c0d123efe893a7d4d390f3a761e3fac33dfc7f3edaa830c9011352c779"
)
A8_EPHEMERAL_PUBLIC = bytes.fromhex(
    "87cf18d5f1b53f817cce5a004cf393cc8958bddc065f25f84af509b17dd36764"
)
A8_RECIPIENT_PUBLIC = bytes.fromhex(
    "8693248367f9e5015db922f8f48095dda784987f2d5985b12fbad16caf5e4435"
)
A8_RECIPIENT_SECRET = bytes.fromhex(
    "4d600a4f794d44775c57a26e0feefed558e9afffd6ad0d582d57fb2ba2dcedb8"
)
A8_ESK = bytes.fromhex("dea355437956617901e06957fbca8a6a47a5b5153e8d3ab7")
A8_SESSION_KEY = bytes.fromhex("dd708f6fa1ed65114d68d2343e7c2f1d")


def test_rfc9580_a8_x25519_key_wrap() -> None:
    shared = X.X25519PrivateKey.from_private_bytes(A8_EPHEMERAL_SECRET).exchange(
        X.X25519PublicKey.from_public_bytes(A8_RECIPIENT_PUBLIC)
    )
    kek = pkesk.x25519_kek(A8_EPHEMERAL_PUBLIC, A8_RECIPIENT_PUBLIC, shared)
    assert keywrap.wrap(kek, A8_SESSION_KEY) == A8_ESK


def test_rfc9580_a8_x25519_key_unwrap() -> None:
    private = X.X25519PrivateKey.from_private_bytes(A8_RECIPIENT_SECRET)
    shared = core_x25519.agree(private, A8_EPHEMERAL_PUBLIC)
    kek = pkesk.x25519_kek(A8_EPHEMERAL_PUBLIC, A8_RECIPIENT_PUBLIC, shared)
    assert keywrap.unwrap(kek, A8_ESK) == A8_SESSION_KEY


def test_x25519_unwrap_with_wrong_key_is_decryption_error() -> None:
    shared = core_x25519.agree(X.X25519PrivateKey.generate(), A8_EPHEMERAL_PUBLIC)
    kek = pkesk.x25519_kek(A8_EPHEMERAL_PUBLIC, A8_RECIPIENT_PUBLIC, shared)
    with pytest.raises(DecryptionError):
        keywrap.unwrap(kek, A8_ESK)
