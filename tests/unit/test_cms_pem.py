"""cms/pem.py decode side: the one-pass decode and its refusals, bytes and stream."""

from __future__ import annotations

import io

import pytest

from e2ee_mail.cms import pem
from e2ee_mail.errors import ArmorError

DATA = bytes(range(256)) * 9000  # > 2 MiB: several PemReader chunks


def _read_stream(text: bytes, size: int) -> bytes:
    reader = pem.PemReader(io.BytesIO(text))
    out = bytearray()
    buf = bytearray(size)
    while n := reader.readinto(buf):
        out += buf[:n]
    return bytes(out)


@pytest.mark.parametrize("eol", [b"\n", b"\r\n"])
def test_large_pem_decodes_in_bytes_and_stream(eol: bytes) -> None:
    text = bytes(pem.armor(DATA)).replace(b"\n", eol)
    assert pem.dearmor(text) == DATA
    assert _read_stream(text, 1 << 16) == DATA
    assert _read_stream(text, 7)[:1000] == DATA[:1000]


@pytest.mark.parametrize("junk", [b"!", b"*", b"====", b"\x00"])
@pytest.mark.parametrize("where", [3, 70_000, 2_000_000, -30])
def test_a_foreign_character_in_the_body_is_refused(junk: bytes, where: int) -> None:
    text = bytes(pem.armor(DATA))
    start = text.index(b"-----\n") + 6
    at = start + where if where >= 0 else text.index(b"-----END") + where
    bad = text[:at] + junk + text[at:]
    with pytest.raises(ArmorError):
        pem.dearmor(bad)
    with pytest.raises(ArmorError):
        pem.PemReader(io.BytesIO(bad)).read()


@pytest.mark.parametrize("junk", [b"!", b"A", b"=", b"\x00", b"\xff"])
@pytest.mark.parametrize("line", [1, 2, 1000, -3])
@pytest.mark.parametrize(
    ("eol", "offset"),
    [(b"\n", 0), (b"\r\n", 0), (b"\r\n", 1)],
    ids=["lf", "cr", "crlf-lf"],
)
def test_an_octet_in_place_of_a_line_break_is_refused(
    junk: bytes, line: int, eol: bytes, offset: int
) -> None:
    # RFC 7468 §3: only whitespace separates the base64 lines. The one-pass decode
    # skips octets outside the alphabet, so one standing exactly where a line
    # break belongs (not after the first line, nor the last) must still be refused.
    text = bytes(pem.armor(DATA)).replace(b"\n", eol)
    start = text.index(b"-----" + eol) + 5 + len(eol)
    breaks = [i for i in range(start, text.index(b"-----END")) if text[i] == eol[0]]
    at = breaks[line] + offset
    bad = text[:at] + junk + text[at + 1 :]
    with pytest.raises(ArmorError):
        pem.dearmor(bad)
    with pytest.raises(ArmorError):
        pem.PemReader(io.BytesIO(bad)).read()


def test_lines_of_varying_width_are_read() -> None:
    import base64

    body = base64.encodebytes(DATA[:5000])  # 76 columns
    lines = body.split(b"\n")
    lines[2] = lines[2] + b"\n"  # an empty line in the middle
    text = b"-----BEGIN CMS-----\n" + b"\n".join(lines) + b"-----END CMS-----\n"
    assert pem.dearmor(text) == DATA[:5000]
    assert pem.PemReader(io.BytesIO(text)).read() == DATA[:5000]
