"""Hypothesis: OpenPGP codecs give back what they were fed, messages round-trip over
random bodies and recipient sets, and mutated or truncated messages fail closed."""

from __future__ import annotations

import contextlib
import dataclasses
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from e2ee_mail import errors
from e2ee_mail.openpgp import armor, certs, keygen, message
from e2ee_mail.openpgp.packets.header import (
    encode_length,
    parse_packets,
    serialize_packet,
)
from e2ee_mail.openpgp.packets.keys import (
    PublicKeyPacket,
    SecretKeyPacket,
    parse_public_key,
    parse_secret_key,
    serialize_public_key,
    serialize_secret_key,
)
from e2ee_mail.openpgp.packets.literal import (
    LiteralHeader,
    parse_literal_header,
    serialize_literal_header,
)
from e2ee_mail.openpgp.packets.pkesk import (
    PKESKv3,
    PKESKv6,
    parse_pkesk,
    serialize_pkesk,
)
from e2ee_mail.openpgp.packets.seipd import (
    SEIPDv2Header,
    parse_seipdv2_header,
    serialize_seipdv2_header,
)
from e2ee_mail.openpgp.packets.signature import (
    SignaturePacket,
    Subpacket,
    parse_signature,
    parse_subpackets,
    serialize_signature,
    serialize_subpackets,
)
from e2ee_mail.policy import DEFAULT

SMALL = dataclasses.replace(DEFAULT, chunk_size_octet=0)
KEYS = [
    keygen.generate(f"K{i} <k{i}@example.org>", kind="x25519", profile="rfc9580")
    for i in range(3)
]


@given(st.lists(st.tuples(st.integers(1, 63), st.binary(max_size=9000)), max_size=4))
def test_packet_framing_round_trips(packets: list[tuple[int, bytes]]) -> None:
    data = b"".join(serialize_packet(tag, body) for tag, body in packets)
    assert [(p.tag, p.body) for p in parse_packets(data)] == packets


@given(st.integers(0, 0xFFFFFFFF))
def test_length_encoding_round_trips(length: int) -> None:
    encoded = encode_length(length)
    data = b"\xcb" + encoded
    # Parse the header only: a body of that length is not present, so the parser
    # must refuse (bounded) unless the length is zero.
    if length == 0:
        assert parse_packets(data)[0].body == b""
    else:
        with pytest.raises(errors.PacketError):
            parse_packets(data)


subpackets = st.lists(
    st.builds(Subpacket, st.integers(0, 127), st.binary(max_size=300), st.booleans()),
    max_size=5,
)


@given(subpackets)
def test_subpackets_round_trip(subs: list[Subpacket]) -> None:
    assert parse_subpackets(serialize_subpackets(subs)) == tuple(subs)


@given(
    st.sampled_from([4, 6]),
    st.integers(0, 255),
    st.integers(0, 255),
    subpackets,
    subpackets,
    st.binary(min_size=2, max_size=2),
    st.binary(max_size=32),
    st.binary(max_size=100),
)
def test_signature_codec_round_trips(
    version: int,
    sig_type: int,
    hash_algorithm: int,
    hashed: list[Subpacket],
    unhashed: list[Subpacket],
    left16: bytes,
    salt: bytes,
    material: bytes,
) -> None:
    sig = SignaturePacket(
        version,
        sig_type,
        100,  # a private/experimental algorithm: material is opaque
        hash_algorithm,
        serialize_subpackets(hashed),
        serialize_subpackets(unhashed),
        left16,
        salt if version == 6 else b"",
        material,
    )
    assert parse_signature(serialize_signature(sig)) == sig


@given(
    st.integers(0, 0xFFFFFFFF),
    st.binary(min_size=32, max_size=32),
    st.binary(max_size=64),
)
def test_key_codecs_round_trip(created: int, material: bytes, secret: bytes) -> None:
    public = PublicKeyPacket(6, created, 25, material)
    assert parse_public_key(serialize_public_key(public)) == public
    sk = SecretKeyPacket(public, 0, 0, 0, b"", b"", secret)
    assert parse_secret_key(serialize_secret_key(sk)) == sk


@given(
    st.one_of(
        st.builds(
            PKESKv3,
            st.binary(min_size=8, max_size=8),
            st.integers(0, 255),
            st.binary(max_size=200),
        ),
        st.builds(
            PKESKv6,
            st.just(6),
            st.binary(min_size=32, max_size=32),
            st.integers(0, 255),
            st.binary(max_size=200),
        ),
        st.builds(
            PKESKv6,
            st.just(0),
            st.just(b""),
            st.integers(0, 255),
            st.binary(max_size=200),
        ),
    )
)
def test_pkesk_codec_round_trips(packet: PKESKv3 | PKESKv6) -> None:
    assert parse_pkesk(serialize_pkesk(packet)) == packet


@given(
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 16),
    st.binary(min_size=32, max_size=32),
)
def test_seipdv2_header_round_trips(
    cipher: int, aead: int, octet: int, salt: bytes
) -> None:
    header = SEIPDv2Header(cipher, aead, octet, salt)
    assert parse_seipdv2_header(serialize_seipdv2_header(header)) == header


@given(
    st.sampled_from([b"b", b"t", b"u"]),
    st.binary(max_size=255),
    st.integers(0, 0xFFFFFFFF),
)
def test_literal_header_round_trips(fmt: bytes, name: bytes, date: int) -> None:
    header = LiteralHeader(fmt, name, date)
    assert parse_literal_header(serialize_literal_header(header)) == header


@given(st.binary(max_size=3000))
def test_armor_round_trips(data: bytes) -> None:
    assert armor.dearmor(armor.enarmor(data)) == ("MESSAGE", data)


@given(
    st.binary(max_size=700),
    st.lists(st.integers(0, len(KEYS) - 1), min_size=1, max_size=3, unique=True),
    st.booleans(),
)
def test_messages_round_trip_for_any_recipient_set(
    data: bytes, chosen: list[int], armored: bool
) -> None:
    recipients = [KEYS[i] for i in chosen]
    sealed = message.encrypt(
        data, [k.public for k in recipients], armor=armored, policy=SMALL
    )
    for key in recipients:
        assert message.decrypt(sealed, [key], policy=SMALL) == data
    outsiders = [k for k in KEYS if k not in recipients]
    if outsiders:
        with pytest.raises(errors.NoMatchingKeyError):
            message.decrypt(sealed, outsiders, policy=SMALL)


SEALED = message.encrypt(
    b"mutate me " * 20, [KEYS[0].public], armor=False, policy=SMALL
)


@given(st.integers(0, len(SEALED) - 1), st.integers(1, 255))
def test_mutated_message_opens_unchanged_or_raises_library_error(
    index: int, xor: int
) -> None:
    data = bytearray(SEALED)
    data[index] ^= xor
    try:
        plain = message.decrypt(bytes(data), [KEYS[0]], policy=SMALL)
    except errors.Error:
        return
    assert plain == b"mutate me " * 20


@given(st.integers(0, len(SEALED) - 1))
def test_truncated_message_fails_closed(cut: int) -> None:
    with pytest.raises(errors.Error):
        message.decrypt(SEALED[:cut], [KEYS[0]], policy=SMALL)
    out = io.BytesIO()
    with pytest.raises(errors.Error):
        message.decrypt_stream(io.BytesIO(SEALED[:cut]), out, [KEYS[0]], policy=SMALL)


@given(st.binary(max_size=400))
def test_random_input_never_crashes_the_parsers(data: bytes) -> None:
    parsers = (
        parse_packets,
        parse_signature,
        parse_pkesk,
        parse_public_key,
        parse_secret_key,
        lambda d: message.decrypt(d, [KEYS[0]], policy=SMALL),
        certs.load_certificate,
    )
    for parse in parsers:
        with contextlib.suppress(errors.Error):
            parse(data)  # type: ignore[operator]
