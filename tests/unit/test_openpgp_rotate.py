"""openpgp/rotate.py: adding an encryption subkey and expiring the old one
(RFC 9580 §5.2.1 type 0x18, §5.2.3.13), for v6 and v4 keys, X25519 and RSA."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

import e2ee_mail
from e2ee_mail.openpgp import keygen, keygen_v4
from e2ee_mail.openpgp.certs import KEY_FLAG_ENCRYPT, OpenPGPSecretKey
from e2ee_mail.openpgp.packets import PK_ECDH, PK_RSA, PK_X25519
from e2ee_mail.openpgp.packets.header import parse_packets
from e2ee_mail.openpgp.packets.signature import (
    SIG_SUBKEY_BINDING,
    SP_KEY_EXPIRATION,
    SP_KEY_FLAGS,
    SignaturePacket,
)
from e2ee_mail.openpgp.rotate import (
    add_encryption_subkey,
    earliest_time,
    without_subkeys,
)
from e2ee_mail.openpgp.sigs import key_signature_data, verify_signature
from e2ee_mail.openpgp.tpk import KeyInfo, created_time, split_tpk

UID = "Alice <alice@example.org>"
#: The original key is a day old; the rotation happens an hour ago, so every time
#: involved lies in the past (readers ignore signatures from the future).
T_KEY = int(time.time()) - 86_400
T_ROTATE = T_KEY + 82_800

Maker = Callable[[], OpenPGPSecretKey]
MAKERS: dict[str, Maker] = {
    "v6-x25519": lambda: keygen.generate_v6(UID, kind="x25519", now=T_KEY),
    "v6-rsa3072": lambda: keygen.generate_v6(UID, kind="rsa3072", now=T_KEY),
    "v4-x25519": lambda: keygen_v4.generate_v4(UID, kind="x25519", now=T_KEY),
    "v4-rsa3072": lambda: keygen_v4.generate_v4(UID, kind="rsa3072", now=T_KEY),
}
SUBKEY_ALGO = {
    "v6-x25519": PK_X25519,
    "v6-rsa3072": PK_RSA,
    "v4-x25519": PK_ECDH,
    "v4-rsa3072": PK_RSA,
}


@pytest.fixture(scope="module", params=sorted(MAKERS))
def pair(
    request: pytest.FixtureRequest,
) -> tuple[str, OpenPGPSecretKey, OpenPGPSecretKey, bytes]:
    """(name, original key, rotated key, mail encrypted before the rotation)."""
    name = request.param
    old = MAKERS[name]()
    mail = bytes(e2ee_mail.encrypt(b"sent before the rotation", [old.public]))
    new = add_encryption_subkey(old, created=T_ROTATE)
    return name, old, new, mail


def _recipient_ids(message: bytes) -> set[str]:
    return {r.id for r in e2ee_mail.inspect(message).recipients}


def _names(info: KeyInfo) -> set[str]:
    return {info.fingerprint.hex().upper(), info.key_id.hex().upper()}


def _bindings(key: OpenPGPSecretKey) -> dict[bytes, list[SignaturePacket]]:
    """Subkey fingerprint -> its binding signatures, from the exported certificate."""
    parsed = split_tpk(parse_packets(key.public.export(armor=False)))
    return {
        sub.fingerprint: [s for s in sigs if s.sig_type == SIG_SUBKEY_BINDING]
        for (_, sigs), sub in zip(parsed.subkeys, key.public.subkeys, strict=True)
    }


def test_rotation_keeps_the_primary_key_and_user_ids(
    pair: tuple[str, OpenPGPSecretKey, OpenPGPSecretKey, bytes],
) -> None:
    _, old, new, _ = pair
    assert new.fingerprint == old.fingerprint
    assert new.public.primary.packet == old.public.primary.packet
    assert new.public.user_ids == old.public.user_ids
    assert new.public.version == old.public.version
    assert len(new.public.subkeys) == len(old.public.subkeys) + 1


def test_new_subkey_has_the_primary_version_and_same_kind(
    pair: tuple[str, OpenPGPSecretKey, OpenPGPSecretKey, bytes],
) -> None:
    name, old, new, _ = pair
    added = new.public.subkeys[-1]
    assert added.packet.version == old.public.version
    assert added.packet.algorithm == SUBKEY_ALGO[name]
    assert added.packet.created == T_ROTATE
    assert added.flags == KEY_FLAG_ENCRYPT
    assert new.public.algorithm == old.public.algorithm


def test_encrypt_chooses_the_new_subkey(
    pair: tuple[str, OpenPGPSecretKey, OpenPGPSecretKey, bytes],
) -> None:
    _, old, new, _ = pair
    added = new.public.subkeys[-1]
    assert [k.fingerprint for k in new.public.encryption_keys()] == [added.fingerprint]
    mail = bytes(e2ee_mail.encrypt(b"after", [new.public]))
    ids = _recipient_ids(mail)
    assert len(ids) == 1 and ids <= _names(added)
    assert e2ee_mail.decrypt(mail, new) == b"after"
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(mail, old)


def test_old_subkey_expires_by_a_newer_binding(
    pair: tuple[str, OpenPGPSecretKey, OpenPGPSecretKey, bytes],
) -> None:
    _, old, new, _ = pair
    before = old.public.subkeys[0]
    after = new.public.subkeys[0]
    assert before.expires is None
    assert after.fingerprint == before.fingerprint
    assert after.expires == T_ROTATE
    bindings = _bindings(new)[after.fingerprint]
    assert len(bindings) == 2
    newest = max(bindings, key=created_time)
    assert created_time(newest) > created_time(min(bindings, key=created_time))
    lifetime = newest.subpacket(SP_KEY_EXPIRATION)
    # RFC 9580 §5.2.3.13: seconds after the subkey's creation.
    assert lifetime is not None
    assert int.from_bytes(lifetime, "big") == T_ROTATE - T_KEY
    assert newest.subpacket(SP_KEY_FLAGS) == bytes([KEY_FLAG_ENCRYPT])
    # Still valid for mail before the expiry.
    assert after.usable(T_ROTATE - 1) and not after.usable(T_ROTATE)


def test_every_binding_verifies_with_the_primary_key(
    pair: tuple[str, OpenPGPSecretKey, OpenPGPSecretKey, bytes],
) -> None:
    _, _, new, _ = pair
    primary = new.public.primary.packet
    for sub in new.public.subkeys:
        data = key_signature_data(primary, subkey=sub.packet)
        for sig in _bindings(new)[sub.fingerprint]:
            assert sig.version == primary.version
            assert verify_signature(sig, primary, data)
            if sig.version == 6:
                assert len(sig.salt) == 32  # SHA2-512 salt, RFC 9580 §9.5


def test_tampered_binding_does_not_verify(
    pair: tuple[str, OpenPGPSecretKey, OpenPGPSecretKey, bytes],
) -> None:
    _, _, new, _ = pair
    primary = new.public.primary.packet
    added = new.public.subkeys[-1]
    sig = _bindings(new)[added.fingerprint][0]
    other = new.public.subkeys[0].packet
    assert not verify_signature(sig, primary, key_signature_data(primary, subkey=other))


def test_mail_to_the_old_subkey_still_opens_with_the_rotated_key(
    pair: tuple[str, OpenPGPSecretKey, OpenPGPSecretKey, bytes],
) -> None:
    _, _, new, mail = pair
    assert e2ee_mail.decrypt(mail, new) == b"sent before the rotation"


def test_certificate_export_import_round_trip(
    pair: tuple[str, OpenPGPSecretKey, OpenPGPSecretKey, bytes],
) -> None:
    _, _, new, _ = pair
    for armor in (True, False):
        cert = e2ee_mail.load_certificate(new.public.export(armor=armor))
        assert cert.fingerprint == new.fingerprint
        assert cert.subkeys == new.public.subkeys  # type: ignore[attr-defined]
        assert cert.export(armor=False) == new.public.export(armor=False)
        mail = bytes(e2ee_mail.encrypt(b"via import", [cert]))
        assert _recipient_ids(mail) <= _names(new.public.subkeys[-1])


def test_secret_key_export_round_trip_with_a_passphrase(
    pair: tuple[str, OpenPGPSecretKey, OpenPGPSecretKey, bytes],
) -> None:
    _, _, new, mail = pair
    blob = new.export(passphrase=b"rotate me")
    with pytest.raises(e2ee_mail.PassphraseError):
        e2ee_mail.load_key(blob, passphrase=b"wrong")
    again = e2ee_mail.load_key(blob, passphrase=b"rotate me")
    assert again.fingerprint == new.fingerprint
    assert again.public.export(armor=False) == new.public.export(armor=False)
    assert e2ee_mail.decrypt(mail, again) == b"sent before the rotation"
    fresh = bytes(e2ee_mail.encrypt(b"fresh", [again.public]))
    assert e2ee_mail.decrypt(fresh, again) == b"fresh"


def test_second_rotation_leaves_only_the_newest_subkey_for_encryption() -> None:
    first = keygen.generate_v6(UID, kind="x25519", now=T_KEY)
    second = add_encryption_subkey(first, created=T_KEY + 100)
    third = add_encryption_subkey(second, created=T_KEY + 200)
    assert [k.expires for k in third.public.subkeys] == [
        T_KEY + 100,  # already expiring sooner: not re-bound
        T_KEY + 200,
        None,
    ]
    assert third.public.encryption_keys(now=T_KEY + 300) == [third.public.subkeys[-1]]
    mails = [bytes(e2ee_mail.encrypt(b"m", [k.public])) for k in (first, second)]
    assert all(e2ee_mail.decrypt(m, third) == b"m" for m in mails)


def test_later_expiry_keeps_the_old_subkey_usable_until_then() -> None:
    key = keygen_v4.generate_v4(UID, kind="x25519", now=T_KEY)
    new = add_encryption_subkey(key, created=T_ROTATE, expire_others_at=T_ROTATE + 60)
    assert new.public.subkeys[0].expires == T_ROTATE + 60
    # Both usable in between; the newest is preferred.
    usable = new.public.encryption_keys(now=T_ROTATE + 1)
    assert [k.fingerprint for k in usable] == [
        new.public.subkeys[1].fingerprint,
        new.public.subkeys[0].fingerprint,
    ]


def test_kind_can_change_at_rotation() -> None:
    key = keygen.generate_v6(UID, kind="x25519", now=T_KEY)
    new = add_encryption_subkey(key, kind="rsa3072", created=T_ROTATE)
    assert new.public.subkeys[-1].packet.algorithm == PK_RSA
    assert new.public.algorithm == "rsa3072"


def test_unknown_kind_is_refused() -> None:
    key = keygen.generate_v6(UID, kind="x25519", now=T_KEY)
    with pytest.raises(e2ee_mail.UsageError):
        add_encryption_subkey(key, kind="dsa1024", created=T_ROTATE)


def test_creation_time_not_after_the_newest_signature_is_refused() -> None:
    key = keygen.generate_v6(UID, kind="x25519", now=T_KEY)
    assert earliest_time(key) == T_KEY + 1
    with pytest.raises(e2ee_mail.UsageError):
        add_encryption_subkey(key, created=T_KEY)
    assert add_encryption_subkey(key, created=T_KEY + 1).fingerprint == key.fingerprint


def test_default_creation_time_is_now_or_later() -> None:
    key = keygen.generate_v6(UID, kind="x25519")
    before = int(time.time())
    new = add_encryption_subkey(key)
    assert new.public.subkeys[-1].packet.created >= before
    assert new.public.subkeys[-1].packet.created > key.public.subkeys[0].packet.created


def test_primary_without_its_secret_cannot_bind_a_subkey() -> None:
    key = keygen.generate_v6(UID, kind="x25519", now=T_KEY)
    packets, privates = key.unlocked_parts()
    del privates[key.public.primary.fingerprint]
    stub = OpenPGPSecretKey(key.public, privates, packets)
    with pytest.raises(e2ee_mail.UnsupportedError):
        add_encryption_subkey(stub, created=T_ROTATE)


def test_certificate_is_refused_as_input() -> None:
    key = keygen.generate_v6(UID, kind="x25519", now=T_KEY)
    with pytest.raises(e2ee_mail.UsageError):
        add_encryption_subkey(key.public, created=T_ROTATE)  # type: ignore[arg-type]


def test_without_subkeys_drops_the_subkey_and_its_secret() -> None:
    key = keygen.generate_v6(UID, kind="x25519", now=T_KEY)
    old_mail = bytes(e2ee_mail.encrypt(b"old", [key.public]))
    new = add_encryption_subkey(key, created=T_ROTATE)
    gone = new.public.subkeys[0].fingerprint
    trimmed = without_subkeys(new, {gone})
    assert [k.fingerprint for k in trimmed.public.subkeys] == [
        new.public.subkeys[1].fingerprint
    ]
    assert trimmed.private_key(gone) is None
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(old_mail, trimmed)


def test_expired_primary_key_cannot_take_a_subkey() -> None:
    key = keygen.generate_v6(UID, kind="x25519", now=T_KEY, expires_in=3600)
    assert add_encryption_subkey(key, created=T_KEY + 60).fingerprint == key.fingerprint
    with pytest.raises(e2ee_mail.UnsupportedError):
        add_encryption_subkey(key, created=T_KEY + 3600)
