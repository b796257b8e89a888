"""OpenPGP messages: round trips, streaming, rewrap, inspect, and failing closed."""

from __future__ import annotations

import dataclasses
import io
import zlib

import pytest
from doubles import Pipe

from e2ee_mail import errors
from e2ee_mail.openpgp import armor, certs, inspection, message, rekey, seipdv2
from e2ee_mail.openpgp.packets import TAG_COMPRESSED, TAG_LITERAL, TAG_SEIPD
from e2ee_mail.openpgp.packets.header import parse_packets, serialize_packet
from e2ee_mail.openpgp.packets.literal import LiteralHeader, serialize_literal_header
from e2ee_mail.openpgp.packets.seipd import SEIPDv2Header
from e2ee_mail.policy import DEFAULT, RFC9580, Policy

SMALL = dataclasses.replace(DEFAULT, chunk_size_octet=0)  # 64-octet chunks


@pytest.mark.parametrize("policy", [DEFAULT, RFC9580, SMALL])
@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 1000])
@pytest.mark.parametrize("armored", [False, True])
def test_round_trip_bytes_and_streams(
    alice: certs.OpenPGPSecretKey, policy: Policy, size: int, armored: bool
) -> None:
    data = bytes(i % 256 for i in range(size))
    sealed = message.encrypt(data, [alice.public], armor=armored, policy=policy)
    assert message.decrypt(sealed, [alice], policy=policy) == data
    out = io.BytesIO()
    message.decrypt_stream(io.BytesIO(sealed), out, [alice], policy=policy)
    assert out.getvalue() == data
    stream = io.BytesIO()
    message.encrypt_stream(
        io.BytesIO(data), stream, [alice.public], armor=armored, policy=policy
    )
    assert message.decrypt(stream.getvalue(), [alice], policy=policy) == data


def test_two_recipients_each_open(
    alice: certs.OpenPGPSecretKey, bob: certs.OpenPGPSecretKey
) -> None:
    sealed = message.encrypt(
        b"both", [alice.public, bob.public], armor=False, policy=DEFAULT
    )
    assert message.decrypt(sealed, [alice], policy=DEFAULT) == b"both"
    assert message.decrypt(sealed, [bob], policy=DEFAULT) == b"both"
    described = inspection.inspect(sealed)
    assert [r.type for r in described.recipients] == ["PKESKv6", "PKESKv6"]
    assert described.content_algorithm == "seipdv2-aes256-gcm"


def test_stream_of_unknown_size_uses_partial_lengths_and_opens(
    alice: certs.OpenPGPSecretKey,
) -> None:
    data = b"z" * (3 << 20)
    out = io.BytesIO()
    with Pipe(data) as src:
        message.encrypt_stream(src, out, [alice.public], armor=False, policy=DEFAULT)  # type: ignore[arg-type]
    packets = parse_packets(out.getvalue())
    assert packets[-1].tag == TAG_SEIPD and packets[-1].partial
    plain = io.BytesIO()
    message.decrypt_stream(io.BytesIO(out.getvalue()), plain, [alice], policy=DEFAULT)
    assert plain.getvalue() == data


def test_stream_of_known_size_gets_definite_lengths(
    alice: certs.OpenPGPSecretKey,
) -> None:
    data = bytes(range(256)) * 5000
    src = io.BytesIO(b"skipped" + data)
    src.seek(7)
    out = io.BytesIO()
    message.encrypt_stream(src, out, [alice.public], armor=False, policy=SMALL)
    packets = parse_packets(out.getvalue())
    assert not packets[-1].partial
    assert message.decrypt(out.getvalue(), [alice], policy=SMALL) == data


def test_wrong_key_is_no_matching_key(
    alice: certs.OpenPGPSecretKey, bob: certs.OpenPGPSecretKey
) -> None:
    sealed = message.encrypt(b"x", [alice.public], armor=False, policy=DEFAULT)
    with pytest.raises(errors.NoMatchingKeyError):
        message.decrypt(sealed, [bob], policy=DEFAULT)


def _flip(data: bytes, index: int) -> bytes:
    buf = bytearray(data)
    buf[index] ^= 0x01
    return bytes(buf)


def test_every_flipped_ciphertext_octet_fails_closed(
    alice: certs.OpenPGPSecretKey,
) -> None:
    sealed = message.encrypt(b"secret" * 30, [alice.public], armor=False, policy=SMALL)
    for index in range(len(sealed)):
        try:
            got = message.decrypt(_flip(sealed, index), [alice], policy=SMALL)
        except errors.Error:
            continue
        assert got == b"secret" * 30, index


def test_truncation_anywhere_fails_closed(alice: certs.OpenPGPSecretKey) -> None:
    sealed = message.encrypt(b"t" * 300, [alice.public], armor=False, policy=SMALL)
    for cut in range(len(sealed)):
        with pytest.raises(errors.Error):
            message.decrypt(sealed[:cut], [alice], policy=SMALL)
        with pytest.raises(errors.Error):
            message.decrypt_stream(
                io.BytesIO(sealed[:cut]), io.BytesIO(), [alice], policy=SMALL
            )


def test_sed_packet_is_refused(alice: certs.OpenPGPSecretKey) -> None:
    sealed = message.encrypt(b"x", [alice.public], armor=False, policy=DEFAULT)
    pkesk = parse_packets(sealed)[0]
    sed = serialize_packet(pkesk.tag, pkesk.body) + serialize_packet(9, bytes(40))
    with pytest.raises(errors.PolicyError):
        message.decrypt(sed, [alice], policy=DEFAULT)
    with pytest.raises(errors.PolicyError):
        message.decrypt_stream(io.BytesIO(sed), io.BytesIO(), [alice], policy=DEFAULT)


def test_every_reader_refuses_the_same_flood_of_packets(
    alice: certs.OpenPGPSecretKey,
) -> None:
    # The bytes path reads at most 100,000 packets; the stream readers (decrypt,
    # inspect, rewrap) share one walk up to the encrypted data and stop there too.
    sealed = message.encrypt(b"x", [alice.public], armor=False, policy=DEFAULT)
    marker = serialize_packet(10, b"PGP")
    flood = marker * 100_000 + sealed
    with pytest.raises(errors.PacketError, match="more than 100000 packets"):
        message.decrypt(flood, [alice], policy=DEFAULT)
    with pytest.raises(errors.PacketError, match="more than 100000 packets"):
        message.decrypt_stream(io.BytesIO(flood), io.BytesIO(), [alice], policy=DEFAULT)
    with pytest.raises(errors.PacketError, match="more than 100000 packets"):
        inspection.inspect_stream(io.BytesIO(flood), DEFAULT)
    with pytest.raises(errors.PacketError, match="more than 100000 packets"):
        rekey.rewrap_stream(
            io.BytesIO(flood), io.BytesIO(), [alice], [alice.public], policy=DEFAULT
        )
    fewer = marker * 99_000 + sealed
    out = io.BytesIO()
    message.decrypt_stream(io.BytesIO(fewer), out, [alice], policy=DEFAULT)
    assert out.getvalue() == b"x"


def _message_with_inner(
    alice: certs.OpenPGPSecretKey, inner: bytes, aead: int = 3
) -> bytes:
    """A message whose SEIPDv2 holds ``inner`` packets (built with our own parts)."""
    from e2ee_mail.openpgp import pkesk as pkesk_mod
    from e2ee_mail.openpgp.packets.pkesk import serialize_pkesk

    session_key = bytes(range(32))
    header = SEIPDv2Header(9, aead, 0, bytes(32))
    body = bytearray(seipdv2.sealed_body_size(header, len(inner)))
    seipdv2.seal_into(header, session_key, b"", inner, memoryview(body))
    key = alice.public.encryption_keys()[0]
    wrapped = serialize_pkesk(pkesk_mod.wrap_v6(session_key, key))
    return serialize_packet(1, wrapped) + serialize_packet(TAG_SEIPD, bytes(body))


def _literal(data: bytes) -> bytes:
    return serialize_packet(
        TAG_LITERAL, serialize_literal_header(LiteralHeader()) + data
    )


def test_ocb_messages_open(alice: certs.OpenPGPSecretKey) -> None:
    sealed = _message_with_inner(alice, _literal(b"ocb body"), aead=2)
    assert message.decrypt(sealed, [alice], policy=DEFAULT) == b"ocb body"
    assert inspection.inspect(sealed).content_algorithm == "seipdv2-aes256-ocb"


def test_eax_messages_are_unsupported(alice: certs.OpenPGPSecretKey) -> None:
    sealed = _message_with_inner(alice, b"", aead=3)
    raw = bytearray(sealed)
    seipd_start = len(serialize_packet(1, parse_packets(sealed)[0].body))
    raw[seipd_start + 2 + 2] = 1  # the AEAD octet
    with pytest.raises(errors.UnsupportedError):
        message.decrypt(bytes(raw), [alice], policy=DEFAULT)


def test_compressed_inner_data_opens(alice: certs.OpenPGPSecretKey) -> None:
    compressed = serialize_packet(
        TAG_COMPRESSED, b"\x02" + zlib.compress(_literal(b"zz" * 50))
    )
    sealed = _message_with_inner(alice, compressed)
    assert message.decrypt(sealed, [alice], policy=DEFAULT) == b"zz" * 50
    out = io.BytesIO()
    message.decrypt_stream(io.BytesIO(sealed), out, [alice], policy=DEFAULT)
    assert out.getvalue() == b"zz" * 50


def test_compression_bomb_is_a_policy_error(alice: certs.OpenPGPSecretKey) -> None:
    bomb = serialize_packet(
        TAG_COMPRESSED, b"\x02" + zlib.compress(_literal(bytes(1 << 20)))
    )
    sealed = _message_with_inner(alice, bomb)
    tight = dataclasses.replace(DEFAULT, max_decompressed_bytes=1 << 16)
    with pytest.raises(errors.PolicyError):
        message.decrypt(sealed, [alice], policy=tight)


@pytest.mark.parametrize(
    "inner",
    [b"", _literal(b"a") + _literal(b"b"), serialize_packet(13, b"uid")],
)
def test_bad_inner_packet_sequences_are_refused(
    alice: certs.OpenPGPSecretKey, inner: bytes
) -> None:
    with pytest.raises(errors.PacketError):
        message.decrypt(_message_with_inner(alice, inner), [alice], policy=DEFAULT)


def test_padding_after_literal_is_skipped(alice: certs.OpenPGPSecretKey) -> None:
    inner = _literal(b"pad") + serialize_packet(21, bytes(16))
    assert (
        message.decrypt(_message_with_inner(alice, inner), [alice], policy=DEFAULT)
        == b"pad"
    )


def test_rewrap_keeps_the_encrypted_packet_byte_for_byte(
    alice: certs.OpenPGPSecretKey, bob: certs.OpenPGPSecretKey
) -> None:
    sealed = message.encrypt(b"rotate me", [alice.public], armor=False, policy=DEFAULT)
    rewrapped = rekey.rewrap(sealed, [alice], [bob.public], policy=DEFAULT)
    old_seipd = serialize_packet(TAG_SEIPD, parse_packets(sealed)[-1].body)
    assert rewrapped.endswith(old_seipd)
    assert message.decrypt(rewrapped, [bob], policy=DEFAULT) == b"rotate me"
    with pytest.raises(errors.NoMatchingKeyError):
        message.decrypt(rewrapped, [alice], policy=DEFAULT)
    armored = message.encrypt(b"a", [alice.public], armor=True, policy=DEFAULT)
    assert armor.is_armored(
        rekey.rewrap(armored, [alice], [bob.public], policy=DEFAULT)
    )


def test_inspect_describes_encoding_and_chunks(alice: certs.OpenPGPSecretKey) -> None:
    sealed = message.encrypt(b"x", [alice.public], armor=True, policy=DEFAULT)
    described = inspection.inspect(sealed)
    assert described.format == "openpgp"
    assert ("encoding", "armored") in described.details
    assert ("chunk size", str(4 << 20)) in described.details
    assert (
        described.recipients[0].id
        == alice.public.encryption_keys()[0].fingerprint.hex().upper()
    )


def test_container_choice_follows_the_recipients(alice: certs.OpenPGPSecretKey) -> None:
    assert message.choose_container([alice.public], DEFAULT) == "seipdv2"
    assert (
        message.choose_container(
            [alice.public], dataclasses.replace(DEFAULT, profile="rfc4880")
        )
        == "seipdv1"
    )


@pytest.mark.parametrize(
    "data",
    [b"\xc1\x01", b"\xd2\x05\x02\x09\x03\x11\x00", armor.enarmor(b"junk"), b"\xcb\x00"],
)
def test_malformed_messages_raise_library_errors(
    alice: certs.OpenPGPSecretKey, data: bytes
) -> None:
    with pytest.raises(errors.Error):
        message.decrypt(data, [alice], policy=DEFAULT)


def test_anonymous_recipient_is_tried_with_every_key(
    alice: certs.OpenPGPSecretKey, bob: certs.OpenPGPSecretKey
) -> None:
    from e2ee_mail.openpgp.packets.pkesk import PKESKv6, parse_pkesk, serialize_pkesk

    sealed = message.encrypt(b"hidden", [alice.public], armor=False, policy=DEFAULT)
    first, seipd = parse_packets(sealed)
    named = parse_pkesk(first.body)
    assert isinstance(named, PKESKv6)
    anonymous = PKESKv6(0, b"", named.algorithm, named.material)
    rebuilt = serialize_packet(1, serialize_pkesk(anonymous)) + serialize_packet(
        TAG_SEIPD, seipd.body
    )
    assert inspection.inspect(rebuilt).recipients[0].id == "anonymous"
    assert message.decrypt(rebuilt, [bob, alice], policy=DEFAULT) == b"hidden"
    with pytest.raises(errors.DecryptionError):
        message.decrypt(rebuilt, [bob], policy=DEFAULT)


def test_packets_after_the_encrypted_data_are_refused(
    alice: certs.OpenPGPSecretKey,
) -> None:
    sealed = message.encrypt(b"x", [alice.public], armor=False, policy=DEFAULT)
    padded = sealed + serialize_packet(21, bytes(8))
    assert message.decrypt(padded, [alice], policy=DEFAULT) == b"x"
    out = io.BytesIO()
    message.decrypt_stream(io.BytesIO(padded), out, [alice], policy=DEFAULT)
    assert out.getvalue() == b"x"
    extra = sealed + serialize_packet(TAG_LITERAL, b"b\x00\x00\x00\x00\x00evil")
    with pytest.raises(errors.PacketError):
        message.decrypt(extra, [alice], policy=DEFAULT)
    with pytest.raises(errors.PacketError):
        message.decrypt_stream(io.BytesIO(extra), io.BytesIO(), [alice], policy=DEFAULT)


def test_bytes_api_returns_the_literal_data_without_a_copy() -> None:
    # The opened buffer is trimmed in place rather than copied out: a copy of a
    # large body costs as much as opening it.
    from e2ee_mail.openpgp import inner
    from e2ee_mail.openpgp.packets.header import serialize_header
    from e2ee_mail.openpgp.packets.literal import (
        LiteralHeader,
        serialize_literal_header,
    )
    from e2ee_mail.policy import DEFAULT

    head = serialize_literal_header(LiteralHeader())
    body = b"x" * 100_000
    packets = bytearray(serialize_header(11, len(head) + len(body)) + head + body)
    taken = inner.take_literal_data(packets, DEFAULT)
    assert taken is packets
    assert taken == body


def test_encrypt_and_decrypt_return_bytearrays_for_both_profiles() -> None:
    import e2ee_mail

    for profile in ("rfc9580", "rfc4880"):
        key = e2ee_mail.generate_key("A <a@example.org>", profile=profile)
        sealed = e2ee_mail.encrypt(b"body", [key.public])
        assert isinstance(sealed, bytearray)
        opened = e2ee_mail.decrypt(sealed, [key])
        assert isinstance(opened, bytearray)
        assert opened == b"body"
    x509 = e2ee_mail.generate_key("A <a@example.org>", format="x509")
    for pem in (False, True):
        sealed = e2ee_mail.encrypt(b"body", [x509.public], format="cms", armor=pem)
        assert isinstance(sealed, bytearray)
        assert e2ee_mail.decrypt(sealed, [x509]) == b"body"
