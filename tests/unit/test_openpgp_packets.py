"""Packet body codecs: keys (v4, v6), signatures, PKESK, SEIPD, literal data."""

from __future__ import annotations

import base64
import json
import pickle
from pathlib import Path

import pytest

from e2ee_mail.errors import PacketError, UnsupportedError
from e2ee_mail.openpgp import armor
from e2ee_mail.openpgp.packets.header import parse_packets
from e2ee_mail.openpgp.packets.keys import (
    PublicKeyPacket,
    SecretKeyPacket,
    fingerprint,
    key_id,
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
    X25519Fields,
    parse_pkesk,
    parse_x25519_fields,
    serialize_pkesk,
    serialize_x25519_fields,
)
from e2ee_mail.openpgp.packets.seipd import (
    SEIPDv2Header,
    chunk_size,
    parse_seipdv2_header,
    serialize_seipdv2_header,
)
from e2ee_mail.openpgp.packets.signature import (
    Subpacket,
    parse_signature,
    parse_subpackets,
    serialize_signature,
    serialize_subpackets,
)

VECTORS = Path(__file__).resolve().parents[2] / "e2ee_mail/vectors/data/openpgp"
# RFC 9580 A.1: the v4 Ed25519Legacy public key packet.
V4_KEY = bytes.fromhex(
    "9833045 3f35f0b16092b06010401da470f0101074 03f098994bdd916ed4053197934e4a87c80"
    "733a1280d62f8010992e43ee3b2406".replace(" ", "")
)
# RFC 9580 A.8.1: the PKESK v6 packet.
PKESK_A81 = bytes.fromhex(
    "c15d06210612c83f1e706f6308fe151a417743a1f033790e93e9978488d1db378da993088519"
    "87cf18d5f1b53f817cce5a004cf393cc8958bddc065f25f84af509b17dd3676418dea3554379"
    "56617901e06957fbca8a6a47a5b5153e8d3ab7"
)


def a3_packets() -> list[tuple[int, bytes]]:
    doc = json.loads((VECTORS / "rfc9580-appendix-a.json").read_text())
    text = doc["groups"][0]["cases"][0]["inputs"]["data"]
    return [(p.tag, p.body) for p in parse_packets(armor.dearmor(text.encode())[1])]


def test_v4_key_fingerprint_and_key_id_match_rfc_a1() -> None:
    (packet,) = parse_packets(V4_KEY)
    key = parse_public_key(packet.body)
    assert (key.version, key.algorithm, key.created) == (4, 22, 0x53F35F0B)
    assert fingerprint(key).hex().upper() == "C959BDBAFA32A2F89A153B678CFDE12197965A9A"
    assert key_id(key).hex().upper() == "8CFDE12197965A9A"
    assert serialize_public_key(key) == packet.body


def test_v6_key_fingerprints_match_rfc_a3() -> None:
    packets = a3_packets()
    primary = parse_public_key(packets[0][1])
    subkey = parse_public_key(packets[2][1])
    assert primary.version == 6 and primary.algorithm == 27
    assert fingerprint(primary).hex().upper().startswith("CB186C4F0609A697")
    assert key_id(primary) == fingerprint(primary)[:8]
    assert fingerprint(subkey).hex().upper().startswith("12C83F1E706F6308")
    assert serialize_public_key(primary) == packets[0][1]


def test_v6_signature_round_trips_and_exposes_subpackets() -> None:
    body = a3_packets()[1][1]
    sig = parse_signature(body)
    assert (sig.version, sig.sig_type, sig.hash_algorithm) == (6, 0x1F, 10)
    assert len(sig.salt) == 32 and len(sig.material) == 64
    assert sig.subpacket(27) == b"\x03"
    assert sig.subpacket(30) == b"\x09"
    assert serialize_signature(sig) == body


def test_packet_records_compare_copy_and_pickle_like_the_dataclasses_they_were() -> (
    None
):
    sig = parse_signature(a3_packets()[1][1])
    again = parse_signature(a3_packets()[1][1])
    assert sig.subpacket(27) == b"\x03"  # fills the parse caches of one copy only
    assert sig == again
    assert hash(sig) == hash(again)
    assert pickle.loads(pickle.dumps(sig)) == sig
    changed = sig.replace(material=bytes(64))
    assert (changed.material, changed.salt) == (bytes(64), sig.salt)
    assert changed.subpacket(27) == b"\x03"  # its own caches, filled afresh
    assert "_parsed" not in repr(sig)
    assert repr(Subpacket(2, b"x")) == "Subpacket(type=2, body=b'x', critical=False)"
    secret = SecretKeyPacket(PublicKeyPacket(6, 1, 25, b"P"), 0, 0, 0, b"", b"", b"S")
    assert "secret" not in repr(secret)
    assert b"S" in pickle.dumps(secret)
    with pytest.raises(AttributeError):
        secret.secret = b""  # type: ignore[misc]


def test_subpacket_lengths_of_every_size_round_trip() -> None:
    subs = (
        Subpacket(2, b"\x00" * 4, True),
        Subpacket(20, bytes(300)),
        Subpacket(3, bytes(9000)),
    )
    assert parse_subpackets(serialize_subpackets(subs)) == subs


def test_zero_length_subpacket_is_malformed() -> None:
    with pytest.raises(PacketError):
        parse_subpackets(b"\x00")


def test_v3_signature_is_unsupported() -> None:
    with pytest.raises(UnsupportedError):
        parse_signature(b"\x03" + bytes(20))


def test_secret_key_v6_layouts_round_trip() -> None:
    public = PublicKeyPacket(6, 1, 25, bytes(32))
    plain = SecretKeyPacket(public, 0, 0, 0, b"", b"", bytes(32))
    assert parse_secret_key(serialize_secret_key(plain)) == plain
    argon2 = b"\x04" + bytes(16) + b"\x01\x04\x15"
    locked = SecretKeyPacket(public, 253, 9, 2, argon2, bytes(15), bytes(48))
    body = serialize_secret_key(locked)
    assert parse_secret_key(body) == locked
    # The v6 parameter count octet covers cipher, AEAD, S2K length, S2K and IV.
    assert body[len(serialize_public_key(public)) + 1] == 1 + 1 + 1 + 20 + 15


def test_secret_key_v4_cfb_layout_round_trips() -> None:
    public = PublicKeyPacket(4, 1, 25, bytes(32))
    iterated = b"\x03\x08" + bytes(8) + b"\xff"
    locked = SecretKeyPacket(public, 254, 9, 0, iterated, bytes(16), bytes(52))
    assert parse_secret_key(serialize_secret_key(locked)) == locked


def test_v6_secret_key_with_usage_255_is_malformed() -> None:
    body = serialize_public_key(PublicKeyPacket(6, 1, 25, bytes(32))) + b"\xff\x00"
    with pytest.raises(PacketError):
        parse_secret_key(body)


def test_pkesk_v6_of_rfc_a81_parses_and_round_trips() -> None:
    (packet,) = parse_packets(PKESK_A81)
    pkesk = parse_pkesk(packet.body)
    assert isinstance(pkesk, PKESKv6)
    assert pkesk.key_version == 6 and pkesk.algorithm == 25
    assert pkesk.fingerprint.hex().startswith("12c83f1e")
    fields = parse_x25519_fields(pkesk.material, version=6)
    assert fields.cipher is None and len(fields.wrapped) == 24
    assert serialize_x25519_fields(fields) == pkesk.material
    assert serialize_pkesk(pkesk) == packet.body


def test_pkesk_anonymous_and_v3_round_trip() -> None:
    anon = PKESKv6(0, b"", 25, bytes(32) + b"\x18" + bytes(24))
    assert parse_pkesk(serialize_pkesk(anon)) == anon and anon.anonymous
    v3 = PKESKv3(
        bytes(8), 25, serialize_x25519_fields(X25519Fields(bytes(32), 9, bytes(40)))
    )
    assert parse_pkesk(serialize_pkesk(v3)) == v3 and v3.anonymous
    assert parse_x25519_fields(v3.material, version=3).cipher == 9


def test_pkesk_fingerprint_size_must_match_key_version() -> None:
    with pytest.raises(PacketError):
        parse_pkesk(b"\x06\x15\x06" + bytes(20) + b"\x19")


@pytest.mark.parametrize("octet", [17, 255])
def test_chunk_size_octet_above_16_is_refused_before_allocation(octet: int) -> None:
    head = bytes([2, 9, 3, octet]) + bytes(32)
    with pytest.raises(PacketError):
        parse_seipdv2_header(head)
    with pytest.raises(PacketError):
        chunk_size(octet)


def test_seipdv2_header_round_trips() -> None:
    header = SEIPDv2Header(9, 3, 16, bytes(range(32)))
    assert parse_seipdv2_header(serialize_seipdv2_header(header)) == header
    assert chunk_size(16) == 4 * 1024 * 1024 and chunk_size(0) == 64


def test_literal_header_round_trips() -> None:
    header = LiteralHeader(b"b", b"file.txt", 1234)
    encoded = serialize_literal_header(header)
    assert parse_literal_header(encoded + b"data") == header
    assert header.size == len(encoded)


def test_literal_with_unknown_format_is_malformed() -> None:
    with pytest.raises(PacketError):
        parse_literal_header(b"x\x00\x00\x00\x00\x00")


def test_truncated_key_and_signature_bodies_are_packet_errors() -> None:
    for tag, body in a3_packets():
        parse = parse_signature if tag == 2 else parse_public_key
        for cut in range(len(body)):
            try:
                parse(body[:cut])
            except (PacketError, UnsupportedError):
                continue
            # A shorter v4 body may still be a different valid packet; v6 ones never.
            pytest.fail(f"truncated packet type {tag} at {cut} parsed")


def test_base64_of_a3_is_stable() -> None:
    assert base64.b64encode(a3_packets()[0][1])[:8] == b"BmOHf+Mb"
