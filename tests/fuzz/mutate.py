"""A cheap byte-level mutator for the volume fuzzer (test_mutation_fuzz.py).

Every operation works on a ``bytearray`` copy of a precomputed seed: bit flips, octet
changes, inserts and deletes, truncation, block duplication, splicing from another seed
of the same format, and length-field inflation at the length fields a seed's structure
walk found when the seed was loaded (DER lengths, OpenPGP new- and old-format packet
lengths). Text seeds (ASCII armor, PEM, mail) are mutated either as text (characters,
lines, line ends) or as their decoded binary, re-encoded through a template copied from
the seed itself, so that binary-level damage also reaches the parsers behind the armor.

The mutator draws only from the ``random.Random`` it is given: a fixed seed gives the
same inputs on every machine, whatever the number of worker processes.
"""

from __future__ import annotations

import base64
import dataclasses
import random
import re
from collections.abc import Sequence
from typing import Any

from walkers import pgp_spans

#: Octet values that tend to sit on parser edges (sign bits, maxima, zero).
INTERESTING = (0x00, 0x01, 0x02, 0x03, 0x04, 0x7E, 0x7F, 0x80, 0x81, 0xC0, 0xFE, 0xFF)

#: Characters that mean something to armor, PEM and mail parsers.
TEXT_BYTES = b"AZaz09+/=-:; \t\r\n\"'<>\\.\x00\x7f\xb8\xc3\xff"


# ------------------------------------------------------------ length fields


@dataclasses.dataclass(frozen=True)
class LengthField:
    """A length field of a seed's binary: ``head`` starts the header it belongs to
    (the DER length octets, or the OpenPGP packet's tag octet) and ``body`` is where
    the content starts; ``kind`` says how to rewrite ``binary[head:body]``."""

    kind: str  # "der" | "pgp-new" | "pgp-old"
    head: int
    body: int
    value: int


def der_length_fields(data: bytes) -> list[LengthField]:
    """Every TLV length field of a DER blob, or of a BER one whose constructed
    elements use the indefinite length (as OpenSSL's streaming output does)."""
    out: list[LengthField] = []

    def walk(pos: int, end: int, depth: int, indefinite: bool) -> int:
        while pos < end:
            if indefinite and data[pos : pos + 2] == b"\x00\x00":
                return pos + 2
            constructed = data[pos] & 0x20
            if data[pos] & 0x1F == 0x1F:
                pos += 1
                while data[pos] & 0x80:
                    pos += 1
            pos += 1
            first = data[pos]
            if first == 0x80:
                out.append(LengthField("der", pos, pos + 1, 0))
                pos = walk(pos + 1, end, depth + 1, True)
                continue
            if first < 0x80:
                n, size = first, 1
            else:
                k = first & 0x7F
                n, size = int.from_bytes(data[pos + 1 : pos + 1 + k], "big"), 1 + k
            body = pos + size
            if body + n > end:
                raise ValueError("a length runs past its container")
            out.append(LengthField("der", pos, body, n))
            if constructed and depth < 40:
                walk(body, body + n, depth + 1, False)
            pos = body + n
        return pos

    walk(0, len(data), 0, False)
    return out


def pgp_length_fields(data: bytes) -> list[LengthField]:
    """The length field of every top-level OpenPGP packet (both header formats)."""
    out: list[LengthField] = []
    for span in pgp_spans(data):
        kind = "pgp-new" if data[span.start] & 0x40 else "pgp-old"
        size = span.end - span.body if not span.partial else 0
        out.append(LengthField(kind, span.start, span.body, size))
    return out


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _pgp_new_len(n: int) -> bytes:
    if n < 192:
        return bytes([n])
    if n < 8384:
        n -= 192
        return bytes([(n >> 8) + 192, n & 0xFF])
    return b"\xff" + (n & 0xFFFFFFFF).to_bytes(4, "big")


_HUGE = (0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0x10000000, 0x01000000)


def _bigger(rng: random.Random, value: int) -> int:
    """A length somewhat or much larger (or a little smaller) than ``value``."""
    r = rng.random()
    if r < 0.3:
        return value + rng.randint(1, 4)
    if r < 0.45:
        return max(0, value - rng.randint(1, 4))
    if r < 0.6:
        return value * 2 + 1
    if r < 0.75:
        return value + rng.choice((64, 255, 256, 4096, 65536))
    return rng.choice(_HUGE)


def rewrite_length(rng: random.Random, data: bytearray, field: LengthField) -> bool:
    """Replace the header bytes of ``field`` by an inflated (or otherwise wrong)
    length, in place; False when an earlier operation cut the field away."""
    if field.body > len(data):
        return False
    if field.kind == "der":
        r = rng.random()
        if r < 0.55:
            new = _der_len(_bigger(rng, field.value))
        elif r < 0.7:
            # The same value in a longer (non-minimal, BER-only) form.
            k = rng.randint(1, 4)
            new = bytes([0x80 | k]) + field.value.to_bytes(8, "big")[-k:]
        else:
            new = rng.choice(
                (
                    b"\x80",  # indefinite
                    b"\xff",  # reserved
                    b"\x85\x01\x00\x00\x00\x00",  # five length octets
                    b"\x88\x7f\xff\xff\xff\xff\xff\xff\xff",
                    b"\x84\xff\xff\xff\xff",
                    b"\x81",  # the count says one more octet follows, cut short
                )
            )
        data[field.head : field.body] = new
        return True
    ctb = data[field.head]
    tag = ctb & 0x3F if field.kind == "pgp-new" else (ctb >> 2) & 0x0F
    r = rng.random()
    if r < 0.4:
        # RFC 9580 §4.2.1: one-, two- or five-octet lengths, a bigger value.
        new = bytes([0xC0 | tag]) + _pgp_new_len(_bigger(rng, field.value))
    elif r < 0.55:
        new = bytes([0xC0 | tag, 0xFF]) + rng.choice(_HUGE).to_bytes(4, "big")
    elif r < 0.7:
        # A partial body length (RFC 9580 §4.2.1.4) of 2**k octets.
        new = bytes([0xC0 | tag, 0xE0 | rng.randint(0, 30)])
    elif r < 0.85:
        # Old format (RFC 9580 §4.2.2): four-octet huge, or indeterminate.
        if rng.random() < 0.5:
            value = _bigger(rng, field.value) & 0xFFFFFFFF
            new = bytes([0x80 | (tag & 0x0F) << 2 | 2]) + value.to_bytes(4, "big")
        else:
            new = bytes([0x80 | (tag & 0x0F) << 2 | 3])
    else:
        # The same value in a longer form than needed.
        new = bytes([0xC0 | tag, 0xFF]) + (field.value & 0xFFFFFFFF).to_bytes(4, "big")
    data[field.head : field.body] = new
    return True


# ---------------------------------------------------------------- templates

_BASE64_LINE = re.compile(rb"[A-Za-z0-9+/]+={0,2}\Z")


@dataclasses.dataclass(frozen=True)
class Template:
    """How a text seed wraps its binary: ``prefix`` + base64 lines + ``suffix``.

    ``crc`` is True when the seed carried an OpenPGP armor checksum line, which the
    re-encoded text then carries too (recomputed, so only the mutation differs).
    """

    prefix: bytes
    suffix: bytes
    width: int
    eol: bytes
    crc: bool

    def encode(self, binary: bytes | bytearray) -> bytes:
        text = base64.b64encode(binary)
        w = self.width
        lines = [text[i : i + w] for i in range(0, len(text), w)]
        body = self.eol.join(lines) + self.eol if lines else b""
        if self.crc:
            body += b"=" + base64.b64encode(crc24(binary).to_bytes(3, "big")) + self.eol
        return self.prefix + body + self.suffix


def crc24(data: bytes | bytearray) -> int:
    """RFC 9580 §6.1.1 CRC-24, through anycrc (a dependency of the package)."""
    return int(_crc_model().calc(data))


_CRC_MODEL: list[Any] = []


def _crc_model() -> Any:
    if not _CRC_MODEL:
        import anycrc

        _CRC_MODEL.append(anycrc.Model("CRC24-OPENPGP"))
    return _CRC_MODEL[0]


def split_base64(text: bytes) -> tuple[Template, bytes]:
    """The template and decoded binary of the first base64 body in ``text``.

    The body starts after an OpenPGP armor header block (up to its empty line), after
    a PEM ``-----BEGIN`` line, or after a mail's header block, and runs over the lines
    that are base64; a following ``=XXXX`` line is the armor checksum.
    """
    eol = b"\r\n" if b"\r\n" in text else b"\n"
    lines = text.split(eol)
    i = 0
    begin = next(
        (n for n, line in enumerate(lines) if line.startswith(b"-----BEGIN")), -1
    )
    if begin >= 0 and b" PGP " in lines[begin]:
        i = begin + 1
        while i < len(lines) and lines[i].strip():
            i += 1
        i += 1
    elif begin >= 0:
        i = begin + 1
    else:
        i = lines.index(b"") + 1
    start = i
    while i < len(lines) and lines[i] and _BASE64_LINE.match(lines[i]):
        i += 1
    body = b"".join(lines[start:i])
    crc = i < len(lines) and lines[i].startswith(b"=") and len(lines[i]) == 5
    rest = i + 1 if crc else i
    prefix = eol.join(lines[:start]) + eol
    suffix = eol.join(lines[rest:])
    template = Template(prefix, suffix, len(lines[start]), eol, crc)
    return template, base64.b64decode(body)


# ---------------------------------------------------------------- mutations


@dataclasses.dataclass(frozen=True)
class Material:
    """What the mutator needs of a seed: the input as given to the targets
    (``data``), its binary and template when ``data`` is text, and the length fields
    of the binary."""

    data: bytes
    binary: bytes
    template: Template | None
    lengths: tuple[LengthField, ...]


def _span(rng: random.Random, size: int, limit: int = 16) -> tuple[int, int]:
    """A random [start, start + n) inside ``size`` octets, n mostly small."""
    n = min(size, rng.randint(1, limit) if rng.random() < 0.9 else rng.randint(1, 512))
    start = rng.randrange(size - n + 1)
    return start, n


def _binary_op(
    rng: random.Random,
    b: bytearray,
    lengths: Sequence[LengthField],
    donors: Sequence[bytes],
    used: list[int],
) -> str:
    if not b:
        b += bytes([rng.choice(INTERESTING)])
        return "grow"
    r = rng.random()
    size = len(b)
    if r < 0.22:
        for _ in range(rng.choice((1, 1, 1, 2, 3, 4))):
            b[rng.randrange(size)] ^= 1 << rng.randrange(8)
        return "flip"
    if r < 0.30:
        b[rng.randrange(size)] = rng.choice(INTERESTING)
        return "octet"
    if r < 0.38:
        # Arithmetic on one octet, or on two as a big-endian count (OpenPGP MPI bit
        # counts, subpacket-area and key-material lengths): a length a little off,
        # or much bigger.
        i = rng.randrange(size)
        delta = rng.choice((-4, -3, -2, -1, 1, 2, 3, 4, 16, 64, 255))
        if rng.random() < 0.3 and i + 1 < size:
            value = (int.from_bytes(b[i : i + 2], "big") + delta * 8) & 0xFFFF
            b[i : i + 2] = value.to_bytes(2, "big")
            return "arith16"
        b[i] = (b[i] + delta) & 0xFF
        return "arith"
    if r < 0.46:
        i = rng.randrange(size + 1)
        n = rng.randint(1, 8)
        b[i:i] = rng.randbytes(n) if rng.random() < 0.5 else bytes([b[i - 1]]) * n
        return "insert"
    if r < 0.56:
        i, n = _span(rng, size)
        del b[i : i + n]
        return "delete"
    if r < 0.62:
        del b[rng.randrange(size) :]
        return "truncate"
    if r < 0.67:
        i, n = _span(rng, size, 64)
        j = rng.randrange(size + 1)
        b[j:j] = b[i : i + n]
        return "duplicate"
    if r < 0.75 and donors:
        k = rng.randrange(len(donors))
        donor = donors[k]
        used.append(k)
        if rng.random() < 0.5:
            # Crossover: our head, the donor's tail.
            cut = rng.randrange(size + 1)
            del b[cut:]
            b += donor[rng.randrange(len(donor) + 1) :]
            return "crossover"
        i, n = _span(rng, len(donor), 64)
        j, m = _span(rng, size, 64)
        b[j : j + m] = donor[i : i + n]
        return "splice"
    if lengths and rewrite_length(rng, b, rng.choice(lengths)):
        return "length"
    b[rng.randrange(size)] ^= 1 << rng.randrange(8)
    return "flip"


def _text_op(
    rng: random.Random, b: bytearray, donors: Sequence[bytes], used: list[int]
) -> str:
    if not b:
        b += bytes([rng.choice(TEXT_BYTES)])
        return "grow"
    r = rng.random()
    size = len(b)
    if r < 0.15:
        b[rng.randrange(size)] ^= 1 << rng.randrange(8)
        return "flip"
    if r < 0.27:
        b[rng.randrange(size)] = rng.choice(TEXT_BYTES)
        return "char"
    if r < 0.37:
        i = rng.randrange(size + 1)
        b[i:i] = bytes(rng.choice(TEXT_BYTES) for _ in range(rng.randint(1, 4)))
        return "insert"
    if r < 0.47:
        i, n = _span(rng, size)
        del b[i : i + n]
        return "delete"
    if r < 0.52:
        del b[rng.randrange(size) :]
        return "truncate"
    if r < 0.72:
        return _line_op(rng, b)
    if r < 0.82 and donors:
        k = rng.randrange(len(donors))
        donor = donors[k]
        used.append(k)
        i, n = _span(rng, len(donor), 128)
        j, m = _span(rng, size, 128)
        b[j : j + m] = donor[i : i + n]
        return "splice"
    i, n = _span(rng, size, 64)
    j = rng.randrange(size + 1)
    b[j:j] = b[i : i + n]
    return "duplicate"


def _line_op(rng: random.Random, b: bytearray) -> str:
    """Line-level damage: lines dropped, doubled, swapped, line ends changed,
    whitespace where a line starts or ends."""
    size = len(b)
    s, e = _line_at(b, rng.randrange(size))
    r = rng.random()
    if r < 0.25:
        del b[s:e]
        return "drop-line"
    if r < 0.45:
        b[e:e] = b[s:e]
        return "double-line"
    if r < 0.6:
        s2, e2 = _line_at(b, rng.randrange(size))
        if s2 >= e:
            line, other = bytes(b[s:e]), bytes(b[s2:e2])
            b[s2:e2] = line
            b[s:e] = other
        return "swap-lines"
    if r < 0.75:
        # CRLF to LF or LF to CRLF on one line; or a lone CR.
        if e >= 2 and b[e - 1] == 0x0A and b[e - 2] == 0x0D:
            del b[e - 2]
        else:
            b[e - 1 : e - 1] = rng.choice((b"\r", b"\r\r", b" \r"))
        return "line-end"
    if r < 0.9:
        b[e - 1 : e - 1] = rng.choice((b" ", b"\t", b"  ", b"\x0b", b"\x0c"))
        return "trailing-space"
    b[s:s] = rng.choice((b" ", b"\t", b"\n", b"\r\n", b"-", b">"))
    return "leading"


def _line_at(b: bytearray, pos: int) -> tuple[int, int]:
    """[start, end) of the line holding ``pos``, its line feed included."""
    start = b.rfind(b"\n", 0, pos) + 1
    end = b.find(b"\n", pos)
    return start, len(b) if end < 0 else end + 1


def mutate(
    rng: random.Random,
    material: Material,
    donors: Sequence[Material],
) -> tuple[bytes, list[int], str]:
    """One mutated input for ``material``.

    Returns the input, the indexes into ``donors`` whose bytes were spliced in, and a
    short description of the operations (for failure reports).
    """
    used: list[int] = []
    ops: list[str] = []
    stack = 1 if rng.random() < 0.7 else rng.randint(2, 4)
    text = material.template is not None and rng.random() < 0.5
    if material.template is None or text:
        b = bytearray(material.data)
        pool = [d.data for d in donors]
        for _ in range(stack):
            if text:
                ops.append(_text_op(rng, b, pool, used))
            else:
                ops.append(_binary_op(rng, b, material.lengths, pool, used))
        return bytes(b), used, "+".join(ops)
    b = bytearray(material.binary)
    pool = [d.binary for d in donors]
    for _ in range(stack):
        ops.append(_binary_op(rng, b, material.lengths, pool, used))
    return material.template.encode(b), used, "encoded(" + "+".join(ops) + ")"
