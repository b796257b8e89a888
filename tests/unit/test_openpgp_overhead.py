"""The OpenPGP per-message and per-recipient fast paths give the same answers as the
general code they shortcut.

Covered: the certificate's memoized encryption-key choice (and its expiry window),
the secret key's fixed decryption keys, PKESK v6 bodies written without the
dataclass, MPIs from octets, the one-chunk SEIPDv2 opener, the header parsers that
slice directly (checked against Reader-based references), the one-/two-octet
packet header fast path, and the sole-Literal-Data trim.
"""

from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from e2ee_mail import errors
from e2ee_mail.core import chunked
from e2ee_mail.openpgp import certs, inner, keygen, message, pkesk, rotate, seipdv2
from e2ee_mail.openpgp.packets import TAG_LITERAL, TAG_PADDING
from e2ee_mail.openpgp.packets.header import encode_length, parse_span, serialize_packet
from e2ee_mail.openpgp.packets.literal import (
    LiteralHeader,
    literal_header_size,
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
    serialize_pkesk_v6,
)
from e2ee_mail.openpgp.packets.seipd import SEIPDv2Header, parse_seipdv2_header
from e2ee_mail.openpgp.packets.wire import Reader, encode_mpi
from e2ee_mail.openpgp.recipients import pkesk_packets, recipient_key, session_keys
from e2ee_mail.policy import DEFAULT

T0 = 1_700_000_000


@pytest.fixture(scope="module")
def rotated() -> tuple[certs.OpenPGPSecretKey, int]:
    """A key with two encryption subkeys; the older one expires at the returned
    time."""
    key = keygen.generate_v6("Rot <rot@example.org>", kind="x25519", now=T0)
    expires = T0 + 5000
    return (
        rotate.add_encryption_subkey(key, created=T0 + 100, expire_others_at=expires),
        expires,
    )


# -- memoized certificate facts ----------------------------------------------------


def test_encryption_keys_follow_the_subkey_expiry_in_any_query_order(
    rotated: tuple[certs.OpenPGPSecretKey, int],
) -> None:
    key, expires = rotated
    cert = certs.load_certificate(key.public.export())
    new, old = cert.encryption_keys(now=expires - 1)
    assert new.packet.created > old.packet.created
    times = [T0 + 150, expires - 1, expires, expires + 1, T0 + 150, 1 << 40]
    times += random.Random(6).sample(range(T0, expires + 100, 7), 200)
    for when in times:
        # The memo must agree with a fresh selection, whatever was asked before.
        assert cert.encryption_keys(now=when) == cert._select_encryption_keys(when)
        assert cert.encryption_key(now=when) == new
    assert cert.encryption_keys(now=expires) == [new]
    assert cert.encryption_keys(now=expires - 1) == [new, old]


def test_an_expired_primary_key_empties_the_choice_and_earlier_times_restore_it() -> (
    None
):
    key = keygen.generate_v6(
        "Exp <exp@example.org>", kind="x25519", now=T0, expires_in=1000
    )
    cert = key.public
    assert len(cert.encryption_keys(now=T0 + 999)) == 1
    assert cert.encryption_keys(now=T0 + 1000) == []
    assert cert.encryption_key(now=T0 + 1000) is None
    assert len(cert.encryption_keys(now=T0 + 10)) == 1
    with pytest.raises(errors.PolicyError, match="expired"):
        # The clock is far past T0 + 1000: the real-time choice is empty too.
        recipient_key(cert, DEFAULT)


def test_encryption_keys_hands_out_a_fresh_list(alice: certs.OpenPGPSecretKey) -> None:
    first = alice.public.encryption_keys()
    first.clear()
    assert len(alice.public.encryption_keys()) == 1
    taken = alice.decryption_keys()
    taken.clear()
    assert len(alice.decryption_keys()) == 1


def test_secret_key_does_not_follow_later_changes_to_its_inputs(
    alice: certs.OpenPGPSecretKey,
) -> None:
    packets, privates = alice.unlocked_parts()
    copy = certs.OpenPGPSecretKey(alice.public, privates, packets)
    privates.clear()
    packets.clear()
    assert len(copy.decryption_keys()) == 1
    assert copy.export() == alice.export()


def test_one_certificate_object_serves_many_messages(
    alice: certs.OpenPGPSecretKey,
) -> None:
    cert = alice.public
    again = certs.load_certificate(cert.export())
    for i in range(5):
        body = bytes([i]) * (i * 100)
        for recipient in (cert, again):
            sealed = message.encrypt(body, [recipient], armor=False, policy=DEFAULT)
            assert message.decrypt(sealed, [alice], policy=DEFAULT) == body
    assert cert.encryption_keys() == again.encryption_keys()
    assert cert.aead_preferences == again.aead_preferences


# -- PKESK writing -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["x25519", "rsa3072"])
def test_pkesk_packets_name_the_key_and_unwrap_to_the_session_key(kind: str) -> None:
    key = keygen.generate(f"{kind} <k@example.org>", kind=kind, profile="rfc9580")
    session_key = bytes(range(32))
    info = recipient_key(key.public, DEFAULT)
    found = []
    view = memoryview(pkesk_packets(session_key, [info, info]))
    pos = 0
    while pos < len(view):
        tag, body, pos, _, _ = parse_span(view, pos)
        assert tag == 1
        found.append(parse_pkesk(body))
    assert len(found) == 2
    for packet in found:
        assert isinstance(packet, PKESKv6)
        assert (packet.key_version, packet.fingerprint, packet.algorithm) == (
            6,
            info.fingerprint,
            info.packet.algorithm,
        )
    for packet in found:
        assert next(session_keys([packet], [key], 2)) == (None, session_key)


@given(
    st.sampled_from([(4, 20), (6, 32), (0, 0)]),
    st.integers(0, 255),
    st.binary(max_size=80),
)
def test_serialize_pkesk_v6_matches_the_dataclass_codec(
    version_size: tuple[int, int], algorithm: int, material: bytes
) -> None:
    version, size = version_size
    fpr = bytes(range(size))
    packet = PKESKv6(version, fpr, algorithm, material)
    body = serialize_pkesk_v6(version, fpr, algorithm, material)
    assert body == serialize_pkesk(packet)
    assert parse_pkesk(body) == packet


@given(st.binary(max_size=600))
def test_mpi_from_octets_matches_mpi_from_the_integer(value: bytes) -> None:
    assert encode_mpi(value) == encode_mpi(int.from_bytes(value, "big"))


# -- the one-chunk SEIPDv2 opener ----------------------------------------------------


@pytest.mark.parametrize("aead", [2, 3])
@pytest.mark.parametrize("size", [0, 1, 47, 63, 64, 65, 128, 200])
def test_one_chunk_open_matches_the_chunk_loop(aead: int, size: int) -> None:
    header = SEIPDv2Header(9, aead, 0, bytes(range(32)))  # 64-octet chunks
    session_key = bytes(range(100, 132))
    plain = bytes(range(size % 256)) * (size // 256) + bytes(range(size % 256))
    body = bytearray(seipdv2.sealed_body_size(header, size))
    seipdv2.seal_into(header, session_key, b"", plain, memoryview(body))
    assert seipdv2.open_body(body, session_key) == plain
    assert seipdv2.open_body(body, session_key, header) == plain
    params = seipdv2.chunk_params(header, session_key)
    out = bytearray(chunked.opened_size(len(body) - 36, params.chunk_size))
    chunked.open_into(params, memoryview(body)[36:], memoryview(out))
    assert out == plain


@pytest.mark.parametrize("aead", [2, 3])
def test_one_chunk_open_fails_closed_on_any_change(aead: int) -> None:
    header = SEIPDv2Header(9, aead, 0, bytes(32))
    session_key = bytes(32)
    body = bytearray(seipdv2.sealed_body_size(header, 40))
    seipdv2.seal_into(header, session_key, b"", bytes(40), memoryview(body))
    for i in range(36, len(body)):
        bad = bytearray(body)
        bad[i] ^= 1
        with pytest.raises(errors.DecryptionError):
            seipdv2.open_body(bad, session_key)
    for cut in range(36, len(body)):
        with pytest.raises(errors.DecryptionError):
            seipdv2.open_body(body[:cut], session_key)
    with pytest.raises(errors.DecryptionError):
        seipdv2.open_body(body, bytes(range(32)))
    with pytest.raises(errors.DecryptionError):
        seipdv2.open_body(body, bytes(16))  # wrong size for AES-256


def test_one_chunk_open_refuses_unsupported_suites_before_any_key_use() -> None:
    for cipher, aead in ((2, 3), (9, 1), (10, 3)):
        header = SEIPDv2Header(cipher, aead, 0, bytes(32))
        body = bytes([2, cipher, aead, 0]) + bytes(32) + bytes(16)
        with pytest.raises(errors.UnsupportedError):
            seipdv2.open_body(body, bytes(32), header)


# -- parsers that slice directly, against Reader-based references --------------------


def _ref_pkesk(body: bytes) -> PKESKv3 | PKESKv6:
    reader = Reader(body, "PKESK packet")
    version = reader.u8()
    if version == 3:
        key_id = reader.take(8)
        return PKESKv3(key_id, reader.u8(), reader.rest())
    if version == 6:
        size = reader.u8()
        if size == 0:
            key_version, fpr = 0, b""
        else:
            key_version = reader.u8()
            fpr = reader.take(size - 1)
            if {4: 20, 6: 32}.get(key_version) != len(fpr):
                raise errors.PacketError("fingerprint")
        return PKESKv6(key_version, fpr, reader.u8(), reader.rest())
    raise errors.UnsupportedError("version")


def _ref_x25519(material: bytes, version: int) -> X25519Fields:
    reader = Reader(material, "X25519 PKESK fields")
    ephemeral = reader.take(32)
    size = reader.u8()
    cipher = None
    if version == 3:
        if size < 1:
            raise errors.PacketError("cipher")
        cipher = reader.u8()
        size -= 1
    wrapped = reader.take(size)
    reader.end()
    return X25519Fields(ephemeral, cipher, wrapped)


def _ref_seipdv2(head: bytes) -> SEIPDv2Header:
    reader = Reader(head, "SEIPDv2 packet")
    if reader.u8() != 2:
        raise errors.PacketError("version")
    cipher, aead, octet = reader.u8(), reader.u8(), reader.u8()
    if octet > 16:
        raise errors.PacketError("chunk size")
    return SEIPDv2Header(cipher, aead, octet, reader.take(32))


def _ref_literal(body: bytes) -> LiteralHeader:
    reader = Reader(body, "literal data packet")
    fmt = reader.take(1)
    if fmt[0] not in b"btul":
        raise errors.PacketError("format")
    filename = reader.take(reader.u8())
    return LiteralHeader(fmt, filename, reader.u32())


def _same(fast: object, reference: object, data: bytes) -> None:
    """``fast(data)`` and ``reference(data)`` return equal values or raise the same
    error class."""
    try:
        expected: object = reference(data)  # type: ignore[operator]
    except errors.Error as exc:
        with pytest.raises(type(exc)):
            fast(data)  # type: ignore[operator]
        return
    assert fast(data) == expected  # type: ignore[operator]
    assert fast(memoryview(data)) == expected  # type: ignore[operator]


_pkesk_like = st.one_of(
    st.binary(max_size=60),
    st.builds(
        lambda v, s, kv, rest: bytes([v, s, kv]) + rest,
        st.sampled_from([3, 6, 5]),
        st.sampled_from([0, 1, 21, 33, 40]),
        st.sampled_from([4, 6, 0]),
        st.binary(max_size=60),
    ),
)


@given(_pkesk_like)
def test_parse_pkesk_agrees_with_the_reader_reference(data: bytes) -> None:
    _same(parse_pkesk, _ref_pkesk, data)


@given(st.binary(max_size=70), st.sampled_from([3, 6]))
def test_parse_x25519_fields_agrees_with_the_reader_reference(
    data: bytes, version: int
) -> None:
    if len(data) > 32 and data[32] < 80:
        data = data[:33] + data[33 : 33 + data[32]]  # often exactly the right size
    _same(
        lambda d: parse_x25519_fields(d, version=version),
        lambda d: _ref_x25519(d, version),
        data,
    )


@given(st.binary(max_size=40), st.sampled_from([b"", b"\x02", b"\x02\x09\x03"]))
def test_parse_seipdv2_header_agrees_with_the_reader_reference(
    data: bytes, lead: bytes
) -> None:
    _same(parse_seipdv2_header, _ref_seipdv2, lead + data)


@given(st.binary(max_size=30), st.sampled_from([b"", b"b", b"u\x03", b"t\x00"]))
def test_parse_literal_header_agrees_with_the_reader_reference(
    data: bytes, lead: bytes
) -> None:
    _same(parse_literal_header, _ref_literal, lead + data)
    try:
        expected = _ref_literal(lead + data).size
    except errors.PacketError:
        with pytest.raises(errors.PacketError):
            literal_header_size(lead + data)
    else:
        assert literal_header_size(lead + data) == expected


# -- packet headers and the literal trim ---------------------------------------------


def _five_octet(tag: int, body: bytes) -> bytes:
    """The same packet with a five-octet length: parsed by the general path."""
    return bytes([0xC0 | tag, 255]) + len(body).to_bytes(4, "big") + body


@given(st.integers(1, 63), st.binary(max_size=9000), st.integers(0, 3))
def test_short_length_headers_parse_like_five_octet_ones(
    tag: int, body: bytes, cut: int
) -> None:
    short = bytes([0xC0 | tag]) + encode_length(len(body)) + body
    tag_a, body_a, end_a, legacy, partial = parse_span(memoryview(short), 0)
    tag_b, body_b, _, _, _ = parse_span(memoryview(_five_octet(tag, body)), 0)
    assert (tag_a, bytes(body_a), end_a) == (tag_b, bytes(body_b), len(short))
    assert not legacy and not partial
    if cut and body:
        with pytest.raises(errors.PacketError):
            parse_span(memoryview(short[:-cut] if cut <= len(body) else short[:2]), 0)


def _literal(data: bytes, header: LiteralHeader | None = None) -> bytes:
    head = serialize_literal_header(header or LiteralHeader())
    return serialize_packet(TAG_LITERAL, head + data)


@pytest.mark.parametrize(
    "packets",
    [
        _literal(b""),
        _literal(b"x" * 100),
        _literal(b"y" * 10_000),  # five-octet length
        _literal(b"z" * 300, LiteralHeader(b"u", b"name.txt", 1234)),
        _five_octet(TAG_LITERAL, serialize_literal_header(LiteralHeader()) + b"abc"),
        _literal(b"pad") + serialize_packet(TAG_PADDING, bytes(8)),  # general path
        serialize_packet(TAG_PADDING, bytes(8)) + _literal(b"pad"),  # general path
        bytes([0x80 | TAG_LITERAL << 2]) + bytes([9]) + b"b\x00" + bytes(4) + b"old",
    ],
)
def test_literal_trim_matches_the_general_reader(packets: bytes) -> None:
    expected = bytes(inner.literal_data(packets, DEFAULT))
    taken = inner.take_literal_data(bytearray(packets), DEFAULT)
    assert isinstance(taken, bytearray) and taken == expected


@pytest.mark.parametrize(
    "packets",
    [
        serialize_packet(TAG_LITERAL, b"b\x05ab"),  # header longer than the packet
        serialize_packet(TAG_LITERAL, b"q\x00" + bytes(4)),  # unknown format
        serialize_packet(TAG_LITERAL, b"b"),
        bytes([0xC0 | TAG_LITERAL, 5]) + b"b\x00",  # body shorter than its length
    ],
)
def test_malformed_sole_literal_is_a_packet_error(packets: bytes) -> None:
    with pytest.raises(errors.PacketError):
        inner.take_literal_data(bytearray(packets), DEFAULT)


def test_policy_and_packet_limits_hold_in_the_one_pass_scan(
    alice: certs.OpenPGPSecretKey,
) -> None:
    sealed = message.encrypt(b"hi", [alice.public] * 3, armor=False, policy=DEFAULT)
    two = dataclasses.replace(DEFAULT, max_recipients=2)
    with pytest.raises(errors.PolicyError):
        message.decrypt(sealed, [alice], policy=two)
    many = serialize_packet(TAG_PADDING, b"") * 100_001 + bytes(sealed)
    with pytest.raises(errors.PacketError):
        message.decrypt(many, [alice], policy=DEFAULT)
    assert message.decrypt(sealed, [alice], policy=DEFAULT) == b"hi"
    assert [p.algorithm for p in message.ParsedMessage(sealed, DEFAULT).pkesks] == [
        25
    ] * 3
    assert pkesk.names(
        message.ParsedMessage(sealed, DEFAULT).pkesks[0],
        alice.public.encryption_keys()[0],
    )


# -- v4 (RFC 4880 profile) recipients -------------------------------------------------


@pytest.fixture(scope="module")
def v4() -> certs.OpenPGPSecretKey:
    return keygen.generate("V4 <v4@example.org>", kind="x25519", profile="rfc4880")


def test_key_id_comes_from_the_held_fingerprint(
    alice: certs.OpenPGPSecretKey, v4: certs.OpenPGPSecretKey
) -> None:
    from e2ee_mail.openpgp.packets.keys import key_id

    for key in (alice, v4):
        for info in (key.public.primary, *key.public.subkeys):
            assert info.key_id == key_id(info.packet) and len(info.key_id) == 8


def test_ecdh_key_parameters_are_decoded_once_and_still_open(
    v4: certs.OpenPGPSecretKey,
) -> None:
    from e2ee_mail.openpgp import pkesk_ecdh as pkesk_v3

    info = v4.public.encryption_keys()[0]
    assert info.packet.algorithm == 18
    first = pkesk_v3._params(info)
    again = certs.load_certificate(v4.public.export()).encryption_keys()[0]
    assert pkesk_v3._params(again) is first  # one decode per key, not per message
    for body in (b"", b"v4 body", bytes(5000)):
        sealed = message.encrypt(body, [v4.public], armor=False, policy=DEFAULT)
        assert message.decrypt(sealed, [v4], policy=DEFAULT) == body


# -- the prefixed first chunk (core/chunked.seal_into) -------------------------------


@pytest.mark.parametrize("mode", ["gcm", "ocb"])
@pytest.mark.parametrize(
    "size",
    [0, 1, (1 << 17) - 1, 1 << 17, (1 << 17) + 1, (1 << 18) - 9, 1 << 18, 600_000],
)
def test_prefixed_first_chunk_seals_like_the_joined_one_shot(
    mode: str, size: int
) -> None:
    """Large GCM first chunks are sealed through the streaming interface; the octets
    must be those of the one-shot AEAD over prefix || data, chunk by chunk."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESOCB3

    prefix_size = 15 if mode == "ocb" else 12
    params = chunked.ChunkParams(
        mode,  # type: ignore[arg-type]
        bytes(range(32)),
        bytes(range(prefix_size - 8)),
        1 << 18,
        b"\xd2\x02\x09\x03\x0c",
    )
    head = b"\xcb\x09literal"
    data = random.Random(size).randbytes(size)
    out = bytearray(chunked.sealed_size(len(head) + size, params.chunk_size))
    chunked.seal_into(params, data, memoryview(out), head)
    aead = AESGCM(params.key) if mode == "gcm" else AESOCB3(params.key)
    plain = head + data
    expected = b"".join(
        aead.encrypt(params.nonce(i), plain[off : off + params.chunk_size], params.aad)
        for i, off in enumerate(range(0, len(plain), params.chunk_size))
    )
    chunks = -(-len(plain) // params.chunk_size)
    final_aad = params.final_aad(len(plain), chunks)
    expected += aead.encrypt(params.nonce(chunks), b"", final_aad)
    assert out == expected
    back = bytearray(len(plain))
    chunked.open_into(params, out, memoryview(back))
    assert back == plain


@pytest.mark.parametrize(
    "data",
    [
        memoryview(b"\xc1\x05abcde").cast("c"),
        memoryview(b"-----BEGIN PGP MESSAGE-----\n").cast("c"),
        b"",
        b"\x00",
        b"\xc1",
    ],
)
def test_the_binary_probe_takes_any_buffer_and_fails_with_library_errors(
    alice: certs.OpenPGPSecretKey, data: bytes | memoryview
) -> None:
    with pytest.raises(errors.Error):
        message.decrypt(data, [alice], policy=DEFAULT)
