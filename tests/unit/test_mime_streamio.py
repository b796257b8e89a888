"""mime/streamio.py: the readers and writers give what the whole-buffer code gives,
however the input is split into reads."""

from __future__ import annotations

import base64
import io

import pytest
from doubles import Trickle
from hypothesis import given
from hypothesis import strategies as st

from e2ee_mail.errors import MIMEError
from e2ee_mail.mime import streamio, wire
from e2ee_mail.mime.smime import base64_lines

splits = st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=5)
line_soup = st.lists(
    st.sampled_from([b"a", b"xyz", b"\r", b"\n", b"\r\n", b"\r\r", b"\n\r", b"\xff"]),
    max_size=40,
).map(b"".join)


def _read_all(reader: streamio.CanonicalReader, sizes: list[int]) -> bytes:
    out = bytearray()
    i = 0
    while True:
        if i % 2:
            piece = reader.read(sizes[i % len(sizes)])
        else:
            buf = bytearray(sizes[i % len(sizes)])
            piece = bytes(buf[: reader.readinto(buf)])
        if not piece:
            return bytes(out)
        out += piece
        i += 1


@given(text=line_soup, split=st.integers(min_value=0, max_value=40), sizes=splits)
def test_canonical_reader_makes_the_line_ends_wire_writes(
    text: bytes, split: int, sizes: list[int]
) -> None:
    body, rest = text[:split], text[split:]
    src = Trickle(rest, sizes)
    reader = streamio.CanonicalReader(b"Head: x\r\n\r\n", body, src)  # type: ignore[arg-type]
    expected = wire._lines(text.decode("ascii", "surrogateescape"))
    assert _read_all(reader, sizes) == b"Head: x\r\n\r\n" + expected


@given(
    data=st.binary(max_size=3000), sizes=splits, width=st.sampled_from([76, 64, 73, 1])
)
def test_base64_reader_decodes_lines_of_any_shape(
    data: bytes, sizes: list[int], width: int
) -> None:
    text = base64.b64encode(data)
    lines = b"\r\n".join(text[i : i + width] for i in range(0, len(text), width))
    src = Trickle(lines[5:] + b"\r\n", sizes)
    reader = streamio.Base64Reader(lines[:5], src)  # type: ignore[arg-type]
    assert reader.read() == data


@pytest.mark.parametrize(
    "text",
    [b"QUJD!EFG", b"QUJD\r\nRA==QUJD", b"QUJDRA", b"QU=D"],
    ids=["foreign-character", "text-after-padding", "cut-group", "padding-inside"],
)
def test_base64_reader_refuses_damage(text: bytes) -> None:
    with pytest.raises(MIMEError):
        streamio.Base64Reader(b"", io.BytesIO(text)).read()


@given(data=st.binary(max_size=200_000))
def test_base64_line_writer_writes_mime_lines(data: bytes) -> None:
    out = io.BytesIO()
    writer = streamio.Base64LineWriter(out)
    for start in range(0, len(data), 70_001):
        writer.write(data[start : start + 70_001])
    writer.close()
    assert out.getvalue() == base64_lines(data)


@given(
    body=st.lists(
        st.sampled_from([b"x", b"-", b"--b", b"\r\n", b"\n", b" "]), max_size=30
    ).map(b"".join),
    closing=st.booleans(),
    padding=st.sampled_from([b"", b" \t"]),
    sizes=splits,
)
def test_part_reader_stops_at_the_delimiter_line(
    body: bytes, closing: bool, padding: bytes, sizes: list[int]
) -> None:
    boundary = b"b=1"
    # A body never holds its own delimiter line (RFC 2046 §5.1.1).
    if b"\n--b=1" in b"\n" + body:
        body = body.replace(b"--b=1", b"--c=1")
    data = body + b"\r\n--b=1" + (b"--" if closing else b"") + padding + b"\r\nafter"
    src = Trickle(data[3:], sizes)
    reader = streamio.PartReader(data[:3], src, boundary)  # type: ignore[arg-type]
    assert reader.read() == body
    assert reader.closing is closing
    assert reader.rest + src.read() == b"after"


def test_part_reader_needs_a_delimiter() -> None:
    reader = streamio.PartReader(b"text\r\n--b=12\r\n", io.BytesIO(b"more"), b"b=1")
    with pytest.raises(MIMEError, match="no close delimiter"):
        reader.read()


def test_header_block_is_bounded() -> None:
    endless = io.BytesIO(b"X-Long: " + b"a" * (streamio.MAX_HEADER_BLOCK + 10))
    with pytest.raises(MIMEError, match="header block is longer"):
        streamio.read_header_block(endless)


@given(sizes=splits, blank=st.sampled_from([b"\r\n\r\n", b"\n\n", b"\n\r\n"]))
def test_header_block_ends_at_the_first_empty_line(
    sizes: list[int], blank: bytes
) -> None:
    data = b"A: 1\r\nB: 2" + blank + b"body\r\n\r\nmore"
    src = Trickle(data, sizes)
    block, body = streamio.read_header_block(src)  # type: ignore[arg-type]
    assert block == b"A: 1\r\nB: 2" + blank
    assert body + src.read() == b"body\r\n\r\nmore"


@given(data=st.binary(min_size=1, max_size=2000), width=st.sampled_from([76, 73]))
def test_base64_reader_refuses_text_after_padding(data: bytes, width: int) -> None:
    if not len(data) % 3:
        data += b"\0"  # a length the encoding pads
    text = base64.b64encode(data)
    assert text.endswith(b"=")
    lines = b"\r\n".join(text[i : i + width] for i in range(0, len(text), width))
    with pytest.raises(MIMEError):
        streamio.Base64Reader(b"", io.BytesIO(lines + b"\r\n" + lines)).read()


@pytest.mark.parametrize("sep", [b"\r\n", b"\n"])
@pytest.mark.parametrize(
    ("fields", "limit", "refused"),
    [
        (3000, 1 << 20, False),  # the end past the first 64 KiB, within the limit
        (3000, 50_000, True),  # ... and past the limit
        (10, 100, True),
        (10, 1000, False),
    ],
)
def test_check_header_block_finds_the_end_anywhere_in_the_limit(
    sep: bytes, fields: int, limit: int, refused: bool
) -> None:
    block = b"".join(b"X-F%05d: value value value value\r\n" % i for i in range(fields))
    data = block.replace(b"\r\n", sep) + sep + b"body\n" * 100_000
    if refused:
        with pytest.raises(MIMEError):
            streamio.check_header_block(data, limit)
    else:
        streamio.check_header_block(data, limit)
