"""ArmorReader's block reading and dearmor's tail search (openpgp/armor.py).

The reader decodes text a block at a time (1 MiB in use). ``SmallBlocks`` reads
4 KiB blocks so that block seams, the kept-back tail, CRC lines split across reads
and over-long lines are reached with small inputs; a few cases run at the real
block size too.
"""

from __future__ import annotations

import io
import os

import pytest
from doubles import ReadOnly, SmallBlocks, Trickle

from e2ee_mail.errors import ArmorError
from e2ee_mail.openpgp import armor


def _data(size: int) -> bytes:
    return bytes((i * 7 + i // 256) % 256 for i in range(size))


def _read_all(reader: armor.ArmorReader) -> bytes:
    out = bytearray()
    buf = bytearray(10_000)
    while n := reader.readinto(buf):
        out += buf[:n]
    return bytes(out)


@pytest.mark.parametrize("size", [0, 1, 3071, 3072, 3073, 9000, 50_000])
@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
@pytest.mark.parametrize("crc", [False, True])
def test_small_blocks_read_what_was_written(size: int, eol: bytes, crc: bool) -> None:
    data = _data(size)
    text = bytes(armor.enarmor(data, crc=crc)).replace(b"\n", eol)
    assert _read_all(SmallBlocks(io.BytesIO(text))) == data


@pytest.mark.parametrize("step", [1, 7, 65, 4000])
def test_a_trickling_source_is_read_whole(step: int) -> None:
    data = _data(20_000)
    text = bytes(armor.enarmor(data, crc=True))
    assert SmallBlocks(Trickle(text, step)).read() == data  # type: ignore[arg-type]


def test_a_source_without_readinto_is_read() -> None:
    data = _data(20_000)
    text = bytes(armor.enarmor(data, crc=True))
    assert SmallBlocks(ReadOnly(text)).read() == data  # type: ignore[arg-type]


@pytest.mark.parametrize("shift", range(-140, 10, 3))
def test_the_tail_and_crc_line_at_every_offset_from_a_block_seam(shift: int) -> None:
    # Pad the preamble so that the CRC line and the tail line fall across the end
    # of the first 4 KiB block at every offset (the reader keeps 128 octets back).
    data = _data(2400)
    text = bytes(armor.enarmor(data, crc=True))
    pad = 4096 - len(text) + shift + 40
    text = b"x" * max(pad, 0) + b"\n" + text
    assert SmallBlocks(io.BytesIO(text)).read() == data
    crc_at = text.rindex(b"\n=") + 2
    bad = text[:crc_at] + (b"B" if text[crc_at] != 0x42 else b"C") + text[crc_at + 1 :]
    with pytest.raises(ArmorError, match="CRC24"):
        SmallBlocks(io.BytesIO(bad)).read()


def test_one_line_longer_than_a_block_is_decoded_in_bounded_memory() -> None:
    data = _data(30_000)
    text = bytes(armor.enarmor(data, crc=True))
    start = text.index(b"\n\n") + 2
    end = text.index(b"\n=")
    one_line = text[:start] + text[start:end].replace(b"\n", b"") + text[end:]
    reader = SmallBlocks(io.BytesIO(one_line))
    assert reader.read() == data
    assert len(reader._buf) == 4096  # the buffer never grew


@pytest.mark.parametrize("where", [0.1, 0.5, 0.99])
@pytest.mark.parametrize("junk", [b"!", b"-", b"====", b"*-*-", b"\x00"])
def test_a_foreign_character_in_any_block_is_refused(where: float, junk: bytes) -> None:
    text = bytes(armor.enarmor(_data(40_000)))
    start = text.index(b"\n\n") + 2
    at = start + int((text.index(b"-----END") - start) * where)
    bad = text[:at] + junk + text[at:]
    with pytest.raises(ArmorError):
        SmallBlocks(io.BytesIO(bad)).read()
    with pytest.raises(ArmorError):
        armor.dearmor(bad)


@pytest.mark.parametrize("keep", [0.02, 0.5, 0.999])
def test_truncated_text_is_refused(keep: float) -> None:
    text = bytes(armor.enarmor(_data(40_000)))
    cut = text[: int(len(text) * keep)]
    with pytest.raises(ArmorError, match=r"tail line|header line|blank line"):
        SmallBlocks(io.BytesIO(cut)).read()
    with pytest.raises(ArmorError):
        armor.dearmor(cut)


@pytest.mark.parametrize("size", [0, 1, 100, 9000])
def test_a_tail_line_cut_short_is_refused(size: int) -> None:
    # Text shifted to the buffer's front leaves stale octets behind it: the tail
    # must be matched within the text read, not against those (an empty body once
    # "found" its tail line in them).
    text = bytes(armor.enarmor(_data(size)))
    for missing in range(2, 27):
        cut = text[: len(text) - missing]
        with pytest.raises(ArmorError, match="tail line"):
            SmallBlocks(io.BytesIO(cut)).read()
        with pytest.raises(ArmorError, match="tail line"):
            armor.ArmorReader(io.BytesIO(cut)).read()


def test_a_crlf_header_line_split_after_its_cr_is_still_crlf() -> None:
    data = _data(5000)
    text = bytes(armor.enarmor(data)).replace(b"\n", b"\r\n")
    step = text.index(b"\r") + 1  # the first read ends on the header line's CR
    reader = SmallBlocks(Trickle(text, step))  # type: ignore[arg-type]
    assert reader.read() == data
    assert not reader._bare_cr  # CRLF text is read as is (the fast path)


def test_no_header_line_within_the_first_block_is_refused() -> None:
    text = b"x" * 5000 + b"\n" + bytes(armor.enarmor(b"late"))
    with pytest.raises(ArmorError, match="header line"):
        SmallBlocks(io.BytesIO(text)).read()
    # Within one block, leading text is skipped.
    assert SmallBlocks(io.BytesIO(text[2000:])).read() == b"late"


def test_headers_and_a_dash_in_them_are_read_in_both_directions() -> None:
    data = _data(20_000)
    text = bytes(armor.enarmor(data, crc=True)).replace(
        b"-----\n\n", b"-----\nComment: a-b--c\nVersion: x-1\n\n", 1
    )
    assert armor.dearmor(text) == ("MESSAGE", data)
    assert SmallBlocks(io.BytesIO(text)).read() == data
    crlf = text.replace(b"\n", b"\r\n")
    assert armor.dearmor(crlf) == ("MESSAGE", data)
    assert SmallBlocks(io.BytesIO(crlf)).read() == data


def test_text_after_the_first_block_is_ignored() -> None:
    first, second = _data(5000), b"second block"
    text = bytes(armor.enarmor(first)) + b"\n" + bytes(armor.enarmor(second))
    assert armor.dearmor(text) == ("MESSAGE", first)
    assert SmallBlocks(io.BytesIO(text)).read() == first


def test_dearmor_reads_bytearray_and_memoryview_alike() -> None:
    data = _data(70_000)
    text = armor.enarmor(data, crc=True)
    assert armor.dearmor(text) == ("MESSAGE", data)
    assert armor.dearmor(memoryview(text)) == ("MESSAGE", data)
    assert armor.dearmor(bytes(text)) == ("MESSAGE", data)


@pytest.mark.parametrize("crc", [False, True])
def test_the_real_block_size_across_several_blocks(crc: bool) -> None:
    data = os.urandom(3 * 1024 * 1024 + 12_345)
    text = bytes(armor.enarmor(data, crc=crc))
    assert armor.ArmorReader(io.BytesIO(text)).read() == data
    assert armor.ArmorReader(io.BytesIO(text.replace(b"\n", b"\r\n"))).read() == data
    at = len(text) // 2
    with pytest.raises(ArmorError):
        armor.ArmorReader(io.BytesIO(text[:at] + b"*" + text[at:])).read()
    with pytest.raises(ArmorError, match="tail line"):
        armor.ArmorReader(io.BytesIO(text[: len(text) - 200])).read()


@pytest.mark.parametrize("size", [n for n in range(2850, 2980, 4) if n % 3])
def test_padding_before_the_end_is_refused_at_a_block_seam(size: int) -> None:
    # "...=" then more lines: one pass over the text refuses it; block by block, the
    # padded line can end a block (for 4 KiB blocks, a first body of about 3.9 KiB
    # of text: these sizes sweep its end across that seam), which must not pass.
    first = bytes(armor.enarmor(_data(size)))
    second = bytes(armor.enarmor(_data(3000)))
    body1 = first[first.index(b"\n\n") + 2 : first.index(b"-----END")]
    body2 = second[second.index(b"\n\n") + 2 :]
    assert body1.rstrip().endswith(b"=")
    text = b"-----BEGIN PGP MESSAGE-----\n\n" + body1 + body2
    with pytest.raises(ArmorError):
        armor.dearmor(text)
    with pytest.raises(ArmorError):
        SmallBlocks(io.BytesIO(text)).read()


@pytest.mark.parametrize("space", [b" ", b"\t"])
def test_whitespace_is_tolerated_around_lines_and_refused_inside_one(
    space: bytes,
) -> None:
    data = _data(9000)
    text = bytes(armor.enarmor(data))
    around = text.replace(b"\n", space + b"\n" + space)  # header lines too
    assert armor.dearmor(around)[1] == data
    assert SmallBlocks(io.BytesIO(around)).read() == data
    line = text.index(b"\n\n") + 2 + 65 * 40 + 30  # inside the 41st line
    inside = text[:line] + space + text[line:]
    with pytest.raises(ArmorError):
        armor.dearmor(inside)
    with pytest.raises(ArmorError):
        SmallBlocks(io.BytesIO(inside)).read()
