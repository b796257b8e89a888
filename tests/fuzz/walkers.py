"""Tolerant walkers of DER trees and OpenPGP packet lists, for mutating envelopes.

Deliberately independent of the library's own parsers (test code): they find TLV and
packet boundaries and length fields, and re-serialize a DER tree with consistent
lengths after a structural change.
"""

from __future__ import annotations

import dataclasses

from fixtures import Envelope

# ------------------------------------------------------------- DER walking


@dataclasses.dataclass
class Node:
    """A definite-length DER TLV; ``children`` is None for primitive ones."""

    tag: bytes
    content: bytes
    children: list[Node] | None

    def encode(self) -> bytes:
        body = (
            self.content
            if self.children is None
            else b"".join(c.encode() for c in self.children)
        )
        return self.tag + der_length(len(body)) + body


def der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _read_tlv(data: bytes, pos: int) -> tuple[bytes, int, int]:
    """(tag bytes, content start, content end) of the TLV at ``pos``."""
    start = pos
    first = data[pos]
    pos += 1
    if first & 0x1F == 0x1F:
        while data[pos] & 0x80:
            pos += 1
        pos += 1
    tag = data[start:pos]
    lb = data[pos]
    pos += 1
    if lb < 0x80:
        n = lb
    else:
        k = lb & 0x7F
        if k == 0 or k > 4:
            raise ValueError("not definite DER")
        n = int.from_bytes(data[pos : pos + k], "big")
        pos += k
    if pos + n > len(data):
        raise ValueError("short")
    return tag, pos, pos + n


def parse_der(data: bytes, depth: int = 0) -> Node:
    tag, start, end = _read_tlv(data, 0)
    if end != len(data):
        raise ValueError("trailing")
    return _node(data, tag, start, end, depth)


def _node(data: bytes, tag: bytes, start: int, end: int, depth: int) -> Node:
    content = data[start:end]
    if not tag[0] & 0x20 or depth > 40:
        return Node(tag, content, None)
    children: list[Node] = []
    pos = 0
    while pos < len(content):
        ctag, cs, ce = _read_tlv(content, pos)
        children.append(_node(content, ctag, cs, ce, depth + 1))
        pos = ce
    return Node(tag, b"", children)


def der_nodes(root: Node) -> list[tuple[Node | None, Node]]:
    """(parent, node) pairs in document order."""
    out: list[tuple[Node | None, Node]] = [(None, root)]
    i = 0
    while i < len(out):
        node = out[i][1]
        for child in node.children or ():
            out.append((node, child))
        i += 1
    return out


def der_boundaries(data: bytes) -> list[int]:
    """Every offset where a TLV starts, its content starts, or it ends."""
    found: set[int] = set()

    def walk(pos: int, end: int, depth: int) -> None:
        while pos < end:
            tag, cs, ce = _read_tlv(data, pos)
            found.update((pos, cs, ce))
            if tag[0] & 0x20 and depth < 40:
                walk(cs, ce, depth + 1)
            pos = ce

    walk(0, len(data), 0)
    return sorted(found)


def der_length_fields(data: bytes) -> list[tuple[int, int]]:
    """(offset, size) of every TLV's length field."""
    found: list[tuple[int, int]] = []

    def walk(pos: int, end: int, depth: int) -> None:
        while pos < end:
            tag, cs, ce = _read_tlv(data, pos)
            off = pos + len(tag)
            found.append((off, cs - off))
            if tag[0] & 0x20 and depth < 40:
                walk(cs, ce, depth + 1)
            pos = ce

    walk(0, len(data), 0)
    return found


#: DER-encoded OIDs an attacker could swap in (RFC 5652 / 5084 / 8418 / 8017).
OIDS = [
    bytes.fromhex(h)
    for h in (
        "06092a864886f70d010101",  # rsaEncryption (PKCS#1 v1.5)
        "06092a864886f70d010107",  # id-RSAES-OAEP
        "06032b656e",  # id-X25519
        "0609608648016503040106",  # aes128-GCM
        "060960864801650304012e",  # aes256-GCM
        "060960864801650304012a",  # aes256-CBC
        "0609608648016503040102",  # aes128-CBC
        "060960864801650304012d",  # id-aes256-wrap
        "06092a864886f70d010701",  # id-data
        "060b2a864886f70d0109100117",  # id-ct-authEnvelopedData
        "06092a864886f70d010703",  # id-envelopedData
        "060b2a864886f70d0109100313",  # dhSinglePass-stdDH-sha256kdf
        "0603550403",  # commonName (nonsense here)
    )
]


# ---------------------------------------------------------- packet walking


@dataclasses.dataclass(frozen=True)
class Span:
    """One top-level OpenPGP packet: header at ``start``, body [body, end)."""

    tag: int
    start: int
    body: int
    end: int
    partial: bool


def pgp_spans(data: bytes) -> list[Span]:
    """Walk top-level packets (both header formats, partial lengths joined)."""
    spans: list[Span] = []
    pos = 0
    while pos < len(data):
        ctb = data[pos]
        if not ctb & 0x80:
            raise ValueError("bad ctb")
        if ctb & 0x40:
            tag = ctb & 0x3F
            p = pos + 1
            partial = False
            total_end = None
            body_start = None
            while True:
                first = data[p]
                if first < 192:
                    n, hl = first, 1
                elif first < 224:
                    n, hl = ((first - 192) << 8) + data[p + 1] + 192, 2
                elif first == 255:
                    n, hl = int.from_bytes(data[p + 1 : p + 5], "big"), 5
                else:
                    n, hl = 1 << (first & 0x1F), 1
                    partial = True
                    if body_start is None:
                        body_start = p + hl
                    p += hl + n
                    continue
                if body_start is None:
                    body_start = p + hl
                total_end = p + hl + n
                break
            spans.append(Span(tag, pos, body_start, total_end, partial))
            pos = total_end
        else:
            tag = (ctb >> 2) & 0xF
            lt = ctb & 3
            hl = {0: 1, 1: 2, 2: 4, 3: 0}[lt]
            n = (
                int.from_bytes(data[pos + 1 : pos + 1 + hl], "big")
                if hl
                else len(data) - pos - 1
            )
            spans.append(Span(tag, pos, pos + 1 + hl, pos + 1 + hl + n, False))
            pos = pos + 1 + hl + n
        if pos > len(data):
            raise ValueError("short")
    return spans


def pgp_boundaries(data: bytes) -> list[int]:
    out: set[int] = {0, len(data)}
    for s in pgp_spans(data):
        out.update((s.start, s.body, s.end))
    return sorted(out)


def seipdv2_chunk_boundaries(env: Envelope) -> list[int]:
    """Offsets in ``env.binary`` where each chunk (and the final tag) begins."""
    span = next(s for s in pgp_spans(env.binary) if s.tag == 18)
    body = env.binary[span.body : span.end]
    if body[0] != 2:
        return []
    chunk = 1 << (body[3] + 6)
    tag = 16
    start = span.body + 4 + 32
    end = span.end - tag
    out = []
    pos = start
    while pos < end:
        out.append(pos)
        pos += chunk + tag
    out.append(end)
    return out
