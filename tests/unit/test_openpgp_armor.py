"""ASCII armor: 64-column output without CRC, tolerant reading, CRC24 checked."""

from __future__ import annotations

import base64
import io

import pybase64
import pytest

from e2ee_mail.errors import ArmorError
from e2ee_mail.openpgp import armor

DATA = bytes(range(256)) * 3


def with_crc(data: bytes) -> bytes:
    text = armor.enarmor(data).replace(
        b"\n-----END", b"\n=" + _crc(data) + b"\n-----END"
    )
    return text


def _crc(data: bytes) -> bytes:
    return pybase64.b64encode(armor.crc24(data).to_bytes(3, "big"))


def test_output_has_64_column_lines_and_no_checksum() -> None:
    text = armor.enarmor(DATA)
    lines = text.decode().splitlines()
    assert lines[0] == "-----BEGIN PGP MESSAGE-----" and lines[1] == ""
    assert lines[-1] == "-----END PGP MESSAGE-----"
    body = lines[2:-1]
    assert all(len(line) == 64 for line in body[:-1]) and len(body[-1]) <= 64
    assert not any(line.startswith("=") and len(line) == 5 for line in body)
    assert armor.dearmor(text) == ("MESSAGE", DATA)


def test_crc24_of_known_input() -> None:
    # RFC 9580 §6.1 CRC24 of the empty string is its initial value.
    assert armor.crc24(b"") == 0xB704CE
    assert armor.crc24(b"123456789") == 0x21CF02  # the CRC-24/OPENPGP check value


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t.replace(b"\n", b"\r\n"),
        lambda t: t.replace(b"\n", b"  \n"),
        lambda t: b"some text before\n\n" + t + b"\ntrailing text\n",
        lambda t: t.replace(
            b"MESSAGE-----\n\n", b"MESSAGE-----\nVersion: X 1.0\nComment: hi\n\n"
        ),
        lambda t: t.replace(b"MESSAGE-----\n\n", b"MESSAGE-----\n"),
    ],
)
def test_reading_tolerates_line_endings_whitespace_and_headers(mangle: object) -> None:
    text = mangle(with_crc(DATA))  # type: ignore[operator]
    assert armor.dearmor(text) == ("MESSAGE", DATA)


def test_wrong_checksum_is_an_armor_error() -> None:
    text = with_crc(DATA)
    bad = text.replace(b"\n=" + _crc(DATA), b"\n=" + _crc(DATA + b"x"))
    with pytest.raises(ArmorError):
        armor.dearmor(bad)


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"no armor here",
        b"-----BEGIN PGP MESSAGE-----\n\nAAAA\n",  # no tail
        b"-----BEGIN PGP MESSAGE-----\n\nA*AA\n-----END PGP MESSAGE-----\n",
        b"-----BEGIN PGP MESSAGE-----\n\nAAA\n-----END PGP MESSAGE-----\n",
        b"-----BEGIN PGP MESSAGE-----\nVersion 1\n\nAAAA\n-----END PGP MESSAGE-----\n",
    ],
)
def test_malformed_armor_is_an_armor_error(text: bytes) -> None:
    with pytest.raises(ArmorError):
        armor.dearmor(text)


@pytest.mark.parametrize("size", [0, 1, 47, 48, 49, 48 * 1024, 48 * 1024 + 1, 100000])
def test_streaming_writer_matches_the_bytes_encoder(size: int) -> None:
    data = bytes(i % 253 for i in range(size))
    out = io.BytesIO()
    writer = armor.ArmorWriter(out)
    for i in range(0, size, 1000):
        writer.write(data[i : i + 1000])
    writer.close()
    assert out.getvalue() == armor.enarmor(data)


def test_key_block_labels_are_reported() -> None:
    text = armor.enarmor(b"key", armor.BLOCK_PUBLIC_KEY)
    assert armor.dearmor(text) == ("PUBLIC KEY BLOCK", b"key")
    assert armor.is_armored(b"  \n" + text)


@pytest.mark.parametrize("size", [0, 1, 2, 3, 100, 48 * 1024, 300_000])
@pytest.mark.parametrize("variant", ["plain", "crc", "crlf", "headers"])
def test_streaming_reader_matches_the_bytes_decoder(size: int, variant: str) -> None:
    data = bytes(i % 251 for i in range(size))
    text = armor.enarmor(data, crc=variant != "plain")
    if variant == "crlf":
        text = text.replace(b"\n", b"\r\n")
    if variant == "headers":
        text = b"preamble\n" + text.replace(b"-----\n\n", b"-----\nComment: c\n\n", 1)
    assert armor.ArmorReader(io.BytesIO(text)).read() == data
    assert armor.dearmor(text)[1] == data


@pytest.mark.parametrize(
    "text",
    [
        b"nothing",
        b"-----BEGIN PGP MESSAGE-----\n\nAAAA\n",
        b"-----BEGIN PGP MESSAGE-----\n\nA*AA\n-----END PGP MESSAGE-----\n",
        b"-----BEGIN PGP MESSAGE-----\n\nAAAAA\n-----END PGP MESSAGE-----\n",
    ],
)
def test_streaming_reader_rejects_malformed_armor(text: bytes) -> None:
    with pytest.raises(ArmorError):
        armor.ArmorReader(io.BytesIO(text)).read()


@pytest.mark.parametrize("size", [10, 200_000])
def test_wrong_crc_is_refused_at_every_size_and_when_streaming(size: int) -> None:
    data = bytes(range(256)) * (size // 256 + 1)
    text = armor.enarmor(data, crc=True)
    lines = text.split(b"\n")
    index = next(
        i for i, line in enumerate(lines) if len(line) == 5 and line[:1] == b"="
    )
    lines[index] = b"=AAAA" if lines[index] != b"=AAAA" else b"=AAAB"
    damaged = b"\n".join(lines)
    assert damaged != text
    assert armor.dearmor(text)[1] == data
    assert armor.ArmorReader(io.BytesIO(text)).read() == data
    with pytest.raises(ArmorError, match="CRC24"):
        armor.dearmor(damaged)
    with pytest.raises(ArmorError, match="CRC24"):
        armor.ArmorReader(io.BytesIO(damaged)).read()


def test_crc24_matches_the_rfc_definition_and_continues() -> None:
    # RFC 9580 §6.1: CRC-24 with init 0xB704CE and generator 0x864CFB; the empty
    # input leaves the init value, and continuing over a split gives the same sum.
    assert armor.crc24(b"") == 0xB704CE
    data = bytes(range(256)) * 3
    assert armor.crc24(data[300:], armor.crc24(data[:300])) == armor.crc24(data)
    assert armor.crc24(b"123456789") == 0x21CF02


@pytest.mark.parametrize("junk", [b"!", b"!!!!", b"*", b"====", b"-_-_", b"\x00"])
@pytest.mark.parametrize("where", [0, 65, 5000, -70])
def test_a_foreign_character_anywhere_in_the_body_is_refused(
    junk: bytes, where: int
) -> None:
    text = bytes(armor.enarmor(bytes(range(256)) * 40))
    start = text.index(b"-----\n\n") + 7
    at = start + where if where >= 0 else text.index(b"-----END") + where
    bad = text[:at] + junk + text[at:]
    with pytest.raises(ArmorError):
        armor.dearmor(bad)
    with pytest.raises(ArmorError):
        armor.ArmorReader(io.BytesIO(bad)).read()


@pytest.mark.parametrize("junk", [b"!", b"A", b"\x00", b"\xff"])
@pytest.mark.parametrize("line", [1, 2, 40, -3])
def test_an_octet_in_place_of_a_line_break_is_refused(junk: bytes, line: int) -> None:
    # RFC 9580 §6.2: the armor body is base64 in lines; an octet standing exactly
    # where a line break belongs is damage, even where the decoded octets match.
    text = bytes(armor.enarmor(bytes(range(256)) * 40))
    start = text.index(b"-----\n\n") + 7
    end = text.index(b"-----END")
    breaks = [i for i in range(start, end) if text[i] == 0x0A]
    at = breaks[line]
    bad = text[:at] + junk + text[at + 1 :]
    with pytest.raises(ArmorError):
        armor.dearmor(bad)
    with pytest.raises(ArmorError):
        armor.ArmorReader(io.BytesIO(bad)).read()


def test_lines_of_other_widths_and_bare_cr_line_ends_are_read() -> None:
    data = bytes(range(256)) * 7
    body = base64.b64encode(data)
    lines = [body[i : i + 76] for i in range(0, len(body), 76)]
    lines[3] = lines[3][:40]  # a short line in the middle
    lines.insert(4, body[3 * 76 + 40 : 4 * 76])
    text = b"-----BEGIN PGP MESSAGE-----\n\n" + b"\n".join(lines)
    text += b"\n-----END PGP MESSAGE-----\n"
    assert armor.dearmor(text)[1] == data
    assert armor.ArmorReader(io.BytesIO(text)).read() == data
    assert armor.dearmor(text.replace(b"\n", b"\r"))[1] == data


@pytest.mark.parametrize("pieces", [[200_000], [10, 100_000, 49_152, 3], [49_152 * 3]])
def test_streaming_writer_with_large_pieces_matches_the_bytes_encoder(
    pieces: list[int],
) -> None:
    data = bytes(i % 241 for i in range(sum(pieces)))
    out = io.BytesIO()
    writer = armor.ArmorWriter(out, crc=True)
    pos = 0
    for size in pieces:
        writer.write(data[pos : pos + size])
        pos += size
    writer.close()
    assert out.getvalue() == armor.enarmor(data, crc=True)
