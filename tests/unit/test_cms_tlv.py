"""cms/tlv.py: the one reader of element headers. The in-memory DER reader reads what
DER writes (X.690 §10.1) and declines the rest; wherever it reads a header, the stream
reader (framing.py, BER) reads the same tag and length from it."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from e2ee_mail.cms import asn1, framing, tlv
from e2ee_mail.errors import ASN1Error

# Single-octet tags: every class and form, low bits below 31 (X.690 §8.1.2.2).
TAGS = st.integers(0, 255).filter(lambda t: t & 0x1F != 0x1F)


def _stream_header(data: bytes) -> tuple[int, int | None, int]:
    """(tag, length or None, header size) as the stream reader reads ``data``."""
    reader = framing.EnvelopeReader(
        io.BytesIO(data), max_header_bytes=1 << 20, max_recipients=1
    )
    tag, length, raw = reader._header()
    return tag, length, len(raw)


@given(TAGS, st.integers(0, 70_000))
def test_der_elements_read_back(tag: int, size: int) -> None:
    element = asn1.der_tlv(tag, bytes(size)) + b"tail"
    end = len(element) - 4
    got_tag, start, stop = tlv.element(element, 0, len(element))
    assert (got_tag, stop - start, stop) == (tag, size, end)
    assert _stream_header(element) == (tag, size, start)
    assert tlv.expect(element, 0, len(element), tag) == (start, stop)
    with pytest.raises(tlv.Decline):
        tlv.element(element, 0, end - 1)  # runs past the end given


@given(TAGS, st.integers(1, 8), st.integers(0, 1 << 20), st.booleans())
def test_long_forms_agree_or_are_declined(
    tag: int, count: int, length: int, constructed: bool
) -> None:
    # Any length field the stream reader takes, minimal or not.
    tag |= 0x20 if constructed else 0
    if length >= 1 << (8 * count):
        length &= (1 << (8 * count)) - 1
    header = bytes((tag, 0x80 | count)) + length.to_bytes(count, "big")
    data = header + bytes(length)
    assert _stream_header(data) == (tag, length, len(header))
    minimal = header == asn1.der_tlv(tag, bytes(length))[: len(header)]
    try:
        read = tlv.element(data, 0, len(data))
    except tlv.Decline:
        assert not minimal
    else:
        assert minimal
        assert read == (tag, len(header), len(data))


@pytest.mark.parametrize(
    "hex_data",
    [
        "3080" + "00" * 4,  # indefinite length (BER)
        "1f0100",  # multi-octet tag
        "048100",  # long form for a short length
        "04820080" + "00" * 128,  # leading zero octet
        "04850000000001" + "00",  # length field over four octets
        "04",  # truncated header
        "0482",  # truncated length
        "0403" + "00" * 2,  # content runs past the end
    ],
)
def test_not_der_is_declined(hex_data: str) -> None:
    data = bytes.fromhex(hex_data)
    with pytest.raises(tlv.Decline):
        tlv.element(data, 0, len(data))


@pytest.mark.parametrize(
    ("tag", "first", "message"),
    [
        (0x1F, 0x01, "multi-octet"),
        (0x04, 0x80, "indefinite length on a primitive"),
        (0x30, 0x89, "length field too long"),
    ],
)
def test_stream_headers_are_refused_with_their_reason(
    tag: int, first: int, message: str
) -> None:
    with pytest.raises(ASN1Error, match=message):
        tlv.length_octets(tag, first)


def test_stream_lengths() -> None:
    assert tlv.length_octets(0x04, 0x7F) == 0
    assert tlv.length_octets(0x30, tlv.INDEFINITE) == 0
    assert tlv.length_octets(0x04, 0x88) == 8


@pytest.mark.parametrize(
    ("hex_content", "value"),
    [("00", 0), ("7f", 127), ("0080", 128), ("ff", -1), ("ff7f", -129)],
)
def test_integers(hex_content: str, value: int) -> None:
    content = bytes.fromhex(hex_content)
    assert tlv.integer(content, 0, len(content)) == value
    assert asn1.der_int(value) == b"\x02" + bytes((len(content),)) + content


@pytest.mark.parametrize("hex_content", ["", "0001", "ff80"])
def test_integers_not_in_der_are_declined(hex_content: str) -> None:
    content = bytes.fromhex(hex_content)
    with pytest.raises(tlv.Decline):
        tlv.integer(content, 0, len(content))


def test_small_ints() -> None:
    assert tlv.small_int(b"\x03", 0, 1) == 3
    for content in (b"\x80", b"\x00\x01", b""):
        with pytest.raises(tlv.Decline):
            tlv.small_int(content, 0, len(content))
