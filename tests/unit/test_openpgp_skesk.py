"""Password-encrypted OpenPGP messages (SKESK v4 and v6): round trips, a password
beside public-key recipients, wrong passwords, hostile password entries."""

from __future__ import annotations

import dataclasses
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from e2ee_mail import errors
from e2ee_mail.openpgp import certs, message, signing, verifying
from e2ee_mail.openpgp.packets import TAG_SKESK
from e2ee_mail.openpgp.packets.header import parse_packets, serialize_packet
from e2ee_mail.openpgp.s2k import S2K, S2K_ITERATED, S2K_SALTED, S2K_SIMPLE
from e2ee_mail.openpgp.skesk import (
    MAX_PASSWORD_ENTRIES,
    SKESK,
    parse_skesk,
    password_session_keys,
    serialize_skesk,
    skesk_packet,
)
from e2ee_mail.policy import DEFAULT, RFC4880, RFC9580, Policy

PASSWORD = b"correct horse battery staple"
BODY = b"a body only the password opens\n" * 40


def _entries(sealed: bytes | bytearray) -> list[SKESK]:
    return [
        parse_skesk(p.body) for p in parse_packets(bytes(sealed)) if p.tag == TAG_SKESK
    ]


@pytest.mark.parametrize(
    ("policy", "version", "s2k_type"), [(RFC9580, 6, 4), (RFC4880, 4, S2K_ITERATED)]
)
def test_password_only_round_trip_bytes_and_stream(
    policy: Policy, version: int, s2k_type: int
) -> None:
    sealed = message.encrypt(BODY, [], armor=False, policy=policy, passwords=[PASSWORD])
    (entry,) = _entries(sealed)
    assert (entry.version, entry.s2k.type) == (version, s2k_type)
    opened = message.decrypt(sealed, [], policy=DEFAULT, passwords=[b"no", PASSWORD])
    assert opened == BODY
    out = io.BytesIO()
    message.decrypt_stream(
        io.BytesIO(bytes(sealed)), out, [], policy=DEFAULT, passwords=[PASSWORD]
    )
    assert out.getvalue() == BODY


def test_the_wrong_password_is_a_decryption_error() -> None:
    sealed = message.encrypt(BODY, [], armor=True, policy=RFC4880, passwords=[PASSWORD])
    with pytest.raises(errors.DecryptionError):
        message.decrypt(sealed, [], policy=DEFAULT, passwords=[b"guess"])
    with pytest.raises(errors.DecryptionError):
        message.decrypt_stream(
            io.BytesIO(bytes(sealed)),
            io.BytesIO(),
            [],
            policy=DEFAULT,
            passwords=[b"guess"],
        )


def test_a_password_beside_a_recipient_opens_it_either_way(
    alice: certs.OpenPGPSecretKey, bob: certs.OpenPGPSecretKey
) -> None:
    sealed = message.encrypt(
        BODY, [alice.public], armor=False, policy=DEFAULT, passwords=[PASSWORD]
    )
    assert message.decrypt(sealed, [alice], policy=DEFAULT) == BODY
    assert message.decrypt(sealed, [], policy=DEFAULT, passwords=[PASSWORD]) == BODY
    # A wrong password falls through to the keys, and a wrong key to nothing.
    assert message.decrypt(sealed, [alice], policy=DEFAULT, passwords=[b"x"]) == BODY
    with pytest.raises(errors.NoMatchingKeyError):
        message.decrypt(sealed, [bob], policy=DEFAULT, passwords=[b"x"])


def test_passwords_on_a_message_without_password_entries(
    alice: certs.OpenPGPSecretKey,
) -> None:
    sealed = message.encrypt(BODY, [alice.public], armor=False, policy=DEFAULT)
    with pytest.raises(errors.NoMatchingKeyError, match="no password entry"):
        message.decrypt(sealed, [], policy=DEFAULT, passwords=[PASSWORD])


def test_signed_and_encrypted_to_a_password(alice: certs.OpenPGPSecretKey) -> None:
    sealed = signing.encrypt_signed(
        BODY, [], alice, armor=False, policy=RFC9580, passwords=[PASSWORD]
    )
    data, results = verifying.decrypt_verified(
        sealed, [], [alice.public], policy=DEFAULT, passwords=[PASSWORD]
    )
    assert data == BODY
    assert [r.status for r in results] == ["good"]
    out = io.BytesIO()
    streamed = verifying.decrypt_verified_stream(
        io.BytesIO(bytes(sealed)),
        out,
        [],
        [alice.public],
        policy=DEFAULT,
        passwords=[PASSWORD],
    )
    assert out.getvalue() == BODY
    assert [r.status for r in streamed] == ["good"]


def test_a_tampered_v6_entry_does_not_open() -> None:
    sealed = bytearray(
        message.encrypt(BODY, [], armor=False, policy=RFC9580, passwords=[PASSWORD])
    )
    (entry,) = _entries(sealed)
    body = serialize_skesk(entry)
    at = bytes(sealed).index(body) + len(body) - 1  # the last octet of the tag
    sealed[at] ^= 0x01
    with pytest.raises(errors.DecryptionError):
        message.decrypt(sealed, [], policy=DEFAULT, passwords=[PASSWORD])


def _with_entry(entry_body: bytes, sealed: bytes | bytearray) -> bytes:
    return serialize_packet(TAG_SKESK, entry_body) + bytes(sealed)


def test_simple_s2k_is_refused() -> None:
    sealed = message.encrypt(BODY, [], armor=False, policy=RFC4880, passwords=[b"p"])
    simple = SKESK(4, 9, S2K(S2K_SIMPLE, 8), b"")
    with pytest.raises(errors.PolicyError, match="Simple S2K"):
        message.decrypt(
            _with_entry(serialize_skesk(simple), sealed),
            [],
            policy=DEFAULT,
            passwords=[PASSWORD],
        )


def test_too_many_password_entries_are_refused() -> None:
    sealed = message.encrypt(BODY, [], armor=False, policy=RFC4880, passwords=[b"p"])
    entry = serialize_skesk(SKESK(4, 9, S2K(S2K_SALTED, 8, bytes(8)), b""))
    crowded = serialize_packet(TAG_SKESK, entry) * MAX_PASSWORD_ENTRIES + sealed
    with pytest.raises(errors.PolicyError, match="password entries"):
        message.decrypt(crowded, [], policy=DEFAULT, passwords=[PASSWORD])
    with pytest.raises(errors.PolicyError, match="password entries"):
        message.decrypt_stream(
            io.BytesIO(crowded), io.BytesIO(), [], policy=DEFAULT, passwords=[b"p"]
        )


def test_argon2_beyond_the_policy_is_refused() -> None:
    tight = dataclasses.replace(DEFAULT, max_argon2_memory_kib=1024)
    sealed = message.encrypt(BODY, [], armor=False, policy=RFC9580, passwords=[b"p"])
    with pytest.raises(errors.PolicyError):
        message.decrypt(sealed, [], policy=tight, passwords=[b"p"])


def test_unknown_versions_are_skipped_and_the_rest_opens() -> None:
    sealed = message.encrypt(BODY, [], armor=False, policy=RFC4880, passwords=[b"p"])
    assert (
        message.decrypt(
            _with_entry(b"\x05\x09junk", sealed), [], policy=DEFAULT, passwords=[b"p"]
        )
        == BODY
    )


@pytest.mark.parametrize("version", [4, 6])
def test_packets_parse_back(version: int) -> None:
    packet = skesk_packet(bytes(32), 9, PASSWORD, version=version)
    (parsed,) = parse_packets(packet)
    entry = parse_skesk(parsed.body)
    assert serialize_skesk(entry) == parsed.body
    seipd_version = 2 if version == 6 else 1
    found = list(password_session_keys([entry], [PASSWORD], seipd_version))
    assert [key for _, key in found] == [bytes(32)]
    assert list(password_session_keys([entry], [PASSWORD], 3 - seipd_version)) == []


@given(st.binary(max_size=80))
def test_garbage_entries_fail_closed(data: bytes) -> None:
    # Parsing only: a derivation from random S2K parameters is the policy's to
    # bound (test_argon2_beyond_the_policy_is_refused), not the parser's.
    try:
        entry = parse_skesk(data)
    except errors.Error:
        return
    assert entry.version in (4, 6)
    assert parse_skesk(serialize_skesk(entry)) == entry


def _cheap_v4_message(monkeypatch: pytest.MonkeyPatch) -> bytes:
    """A password message whose S2K hashes 1,024 octets, so that a fuzz run can
    afford a derivation per example."""
    from e2ee_mail.openpgp import s2k, skesk

    monkeypatch.setattr(skesk, "iterated_s2k", lambda: s2k.iterated_s2k(8, 0))
    return bytes(
        message.encrypt(BODY, [], armor=False, policy=RFC4880, passwords=[PASSWORD])
    )


@given(
    flips=st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(1, 255)), min_size=1, max_size=4
    ),
    cut=st.integers(0, 40),
)
def test_mutated_password_messages_fail_closed(
    flips: list[tuple[int, int]], cut: int
) -> None:
    with pytest.MonkeyPatch.context() as mp:
        original = _cheap_v4_message(mp)
    mutated = bytearray(original)
    for at, mask in flips:
        mutated[at % len(mutated)] ^= mask
    del mutated[len(mutated) - cut :]
    try:
        opened = message.decrypt(mutated, [], policy=DEFAULT, passwords=[PASSWORD])
    except errors.Error:
        return
    assert opened == BODY
