"""Packet framing: every length encoding, partial bodies, legacy headers, bounds."""

from __future__ import annotations

import io

import pytest

from e2ee_mail.errors import PacketError
from e2ee_mail.openpgp.packets.header import (
    PacketBodyReader,
    PartialBodyWriter,
    encode_length,
    iter_packet_spans,
    parse_packets,
    read_packet_header,
    serialize_header,
    serialize_packet,
)


@pytest.mark.parametrize(
    ("length", "encoded"),
    [
        (0, "00"),
        (100, "64"),
        (191, "bf"),
        (192, "c000"),
        (1723, "c5fb"),  # RFC 9580 §4.2.3
        (8383, "dfff"),
        (8384, "ff000020c0"),
        (100000, "ff000186a0"),  # RFC 9580 §4.2.3
    ],
)
def test_length_encodings_match_rfc_examples(length: int, encoded: str) -> None:
    assert encode_length(length).hex() == encoded
    body = bytes(length)
    (packet,) = parse_packets(serialize_packet(11, body))
    assert packet.tag == 11 and packet.body == body


def test_partial_body_lengths_are_joined() -> None:
    # RFC 9580 §4.2.3: 0xEF (32768), 0xE1 (2), 0xE0 (1), then 1693 with 2 octets.
    body = bytes(range(256)) * 135
    body = body[: 32768 + 2 + 1 + 1693]
    data = (
        b"\xcb\xef"
        + body[:32768]
        + b"\xe1"
        + body[32768:32770]
        + b"\xe0"
        + body[32770:32771]
        + b"\xc5\xdd"
        + body[32771:]
    )
    (packet,) = parse_packets(data)
    assert packet.partial and packet.body == body


def test_first_partial_below_512_is_refused() -> None:
    with pytest.raises(PacketError):
        parse_packets(b"\xcb\xe1\x00\x00\x00")


def test_legacy_headers_are_read() -> None:
    body = b"hello"
    assert parse_packets(b"\xac\x05" + body)[0].body == body  # tag 11, 1-octet
    assert parse_packets(b"\xad\x00\x05" + body)[0].body == body  # 2-octet
    assert parse_packets(b"\xae\x00\x00\x00\x05" + body)[0].body == body
    (packet,) = parse_packets(b"\xaf" + body)  # indeterminate: to the end
    assert packet.legacy and packet.body == body


@pytest.mark.parametrize(
    "data",
    [
        b"\x0b\x00",  # no packet bit
        b"\xcb",  # no length
        b"\xcb\xc0",  # 2-octet length cut
        b"\xcb\xff\x00\x00",  # 5-octet length cut
        b"\xcb\x05abc",  # body shorter than its length
        b"\xcb\xff\xff\xff\xff\xffabc",  # hostile 4 GiB length
        b"\xcb\xfe" + bytes(100),  # 2**30 partial, body absent
        b"\xad\x00",  # legacy 2-octet length cut
    ],
)
def test_malformed_framing_is_a_packet_error(data: bytes) -> None:
    with pytest.raises(PacketError):
        parse_packets(data)


def test_too_many_packets_is_refused() -> None:
    with pytest.raises(PacketError):
        parse_packets(b"\xd5\x00" * 11, max_packets=10)


def test_spans_point_into_the_input_without_copying() -> None:
    data = serialize_packet(21, b"abc") + serialize_packet(11, b"defg")
    spans = list(iter_packet_spans(data))
    assert [(t, bytes(b), s, e) for t, b, s, e in spans] == [
        (21, b"abc", 0, 5),
        (11, b"defg", 5, 11),
    ]
    assert isinstance(spans[0][1], memoryview)


@pytest.mark.parametrize("size", [0, 1, 511, 512, 513, 1024, 5000])
def test_partial_body_writer_round_trips_through_the_stream_reader(size: int) -> None:
    body = bytes(i % 251 for i in range(size))
    out = io.BytesIO()
    writer = PartialBodyWriter(out, 18, power=9)
    writer.write(body[: size // 2])
    writer.write(body[size // 2 :])
    writer.close()
    encoded = out.getvalue()
    assert parse_packets(encoded)[0].body == body
    src = io.BytesIO(encoded)
    found = read_packet_header(src)
    assert found is not None
    tag, length, partial = found
    assert tag == 18
    assert PacketBodyReader(src, length, partial).read() == body
    assert read_packet_header(src) is None


def test_body_reader_reports_truncation() -> None:
    src = io.BytesIO(b"\xcb\x0aabc")
    found = read_packet_header(src)
    assert found is not None
    with pytest.raises(PacketError):
        PacketBodyReader(src, found[1], found[2]).read()


def test_header_rejects_out_of_range_tag() -> None:
    with pytest.raises(PacketError):
        serialize_header(64, 1)
