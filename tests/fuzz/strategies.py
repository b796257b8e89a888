"""Shared material for the structure-aware fuzz suite (issue 7, part 2).

Valid envelopes of every format are built once per process (keys are generated, not
stored), then mutated *structurally*: the DER tree of a CMS blob and the packet list of
an OpenPGP message are parsed by the small walkers below (test code, deliberately
independent of the library's own parsers) so a mutation can swap, duplicate or drop
whole TLVs/packets, replace algorithm identifiers, or set one length field huge while
every other length stays consistent. Plain bit flips and truncations complement them.

The outcome rule every test applies is :func:`check_outcome`: the call either raises an
``e2ee_mail.Error`` subclass or returns exactly the original plaintext. Anything else
(another exception type, different plaintext) fails the test. Each tried input is
counted per format in :data:`COUNTS`; ``tests/fuzz/conftest.py`` prints the totals.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import functools
import zlib
from collections.abc import Callable, Iterator, Sequence
from email.message import EmailMessage
from typing import Any

from hypothesis import strategies as st

import e2ee_mail
from e2ee_mail.policy import DEFAULT

#: Inputs tried per format family, printed by the terminal summary hook.
COUNTS: collections.Counter[str] = collections.Counter()
#: Outcomes per format family: "original" or the exception class name.
OUTCOMES: dict[str, collections.Counter[str]] = collections.defaultdict(
    collections.Counter
)

PLAINTEXT = b"Attack at dawn. The vault code is 7-4-1-9.\n" * 3
SUBJECT = "Quarterly numbers"
BODY_TEXT = "The numbers are in: 42 and 17.\n"
V15 = dataclasses.replace(DEFAULT, allow_rsa_pkcs1v15_encrypt=True)
SMALL_CHUNKS = dataclasses.replace(DEFAULT, chunk_size_octet=0)  # 64-byte chunks

# Curve25519 points of small order (RFC 7748 §5, the list in Bernstein's "Curve25519"
# page): each makes the shared secret all zero or predictable.
LOW_ORDER_X25519 = [
    bytes(32),
    (1).to_bytes(32, "little"),
    bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
    bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    bytes.fromhex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    bytes.fromhex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
]


def record(family: str, outcome: str) -> None:
    COUNTS[family] += 1
    OUTCOMES[family][outcome] += 1


def check_outcome(family: str, call: Callable[[], Any], original: bytes) -> str:
    """Run ``call``; allow only an e2ee_mail.Error or exactly ``original``.

    Returns the outcome ("original" or the error class name); any other exception
    propagates and fails the calling test.
    """
    try:
        out = call()
    except e2ee_mail.Error as exc:
        record(family, type(exc).__name__)
        return type(exc).__name__
    got = bytes(out)
    assert got == original, (
        f"{family}: a mutated envelope opened to {len(got)} bytes that are not the "
        "original plaintext"
    )
    record(family, "original")
    return "original"


# --------------------------------------------------------------------------- keys


@dataclasses.dataclass(frozen=True)
class Keys:
    x509_x25519: e2ee_mail.SecretKey
    x509_rsa: e2ee_mail.SecretKey
    pgp6_x25519: e2ee_mail.SecretKey
    pgp6_rsa: e2ee_mail.SecretKey
    pgp4_ecdh: e2ee_mail.SecretKey
    pgp4_rsa: e2ee_mail.SecretKey
    other_x509: e2ee_mail.SecretKey
    other_pgp6: e2ee_mail.SecretKey


@functools.cache
def keys() -> Keys:
    """One key of every kind (generated once per process)."""
    g = e2ee_mail.generate_key
    return Keys(
        x509_x25519=g("Xa <xa@example.org>", format="x509", kind="x25519"),
        x509_rsa=g("Xr <xr@example.org>", format="x509", kind="rsa3072"),
        pgp6_x25519=g("Pa <pa@example.org>"),
        pgp6_rsa=g("Pr <pr@example.org>", kind="rsa3072"),
        pgp4_ecdh=g("Qa <qa@example.org>", profile="rfc4880"),
        pgp4_rsa=g("Qr <qr@example.org>", kind="rsa3072", profile="rfc4880"),
        other_x509=g("O <o@example.org>", format="x509", kind="x25519"),
        other_pgp6=g("P <p@example.org>"),
    )


# ------------------------------------------------------------------- envelopes


@dataclasses.dataclass(frozen=True)
class Envelope:
    """A valid envelope: ``binary`` (DER / binary packets) and how it is encoded."""

    name: str
    family: str  # "cms" | "openpgp"
    binary: bytes
    armored: bool
    key: e2ee_mail.SecretKey
    plaintext: bytes = PLAINTEXT
    policy: e2ee_mail.Policy = DEFAULT

    def encode(self, binary: bytes) -> bytes:
        if not self.armored:
            return binary
        if self.family == "cms":
            from e2ee_mail.cms import pem

            return bytes(pem.armor(binary))
        from e2ee_mail.openpgp import armor

        return bytes(armor.enarmor(binary))

    @property
    def data(self) -> bytes:
        return self.encode(self.binary)

    def open(self, data: bytes) -> bytes:
        return bytes(e2ee_mail.decrypt(data, self.key, policy=self.policy))


def _dearmor(family: str, data: bytes) -> bytes:
    if family == "cms":
        from e2ee_mail.cms import pem

        return pem.dearmor(data)
    from e2ee_mail.openpgp import armor

    return armor.dearmor(data)[1]


@functools.cache
def envelopes() -> tuple[Envelope, ...]:
    k = keys()
    out: list[Envelope] = []

    def add(name: str, family: str, key: e2ee_mail.SecretKey, **kw: Any) -> None:
        armor = kw.pop("armor", False)
        policy = kw.pop("policy", DEFAULT)
        fmt = "cms" if family == "cms" else "openpgp"
        data = bytes(
            e2ee_mail.encrypt(
                PLAINTEXT, key.public, format=fmt, armor=armor, policy=policy, **kw
            )
        )
        binary = _dearmor(family, data) if armor else data
        out.append(Envelope(name, family, binary, armor, key))

    add("cms-rsa-oaep-der", "cms", k.x509_rsa)
    add("cms-rsa-oaep-pem", "cms", k.x509_rsa, armor=True)
    add("cms-rsa-v15-der", "cms", k.x509_rsa, policy=V15)
    add("cms-x25519-der", "cms", k.x509_x25519)
    add("cms-x25519-pem", "cms", k.x509_x25519, armor=True)
    add("pgp6-x25519-gcm", "openpgp", k.pgp6_x25519)
    add("pgp6-x25519-gcm-armor", "openpgp", k.pgp6_x25519, armor=True)
    add("pgp6-rsa-gcm", "openpgp", k.pgp6_rsa)
    add("pgp6-x25519-gcm-64B-chunks", "openpgp", k.pgp6_x25519, policy=SMALL_CHUNKS)
    out.append(
        Envelope(
            "pgp6-x25519-ocb",
            "openpgp",
            build_seipdv2(k.pgp6_x25519, literal_packet(PLAINTEXT), aead=2),
            False,
            k.pgp6_x25519,
        )
    )
    out.append(
        Envelope(
            "pgp6-rsa-ocb-64B-chunks",
            "openpgp",
            build_seipdv2(k.pgp6_rsa, literal_packet(PLAINTEXT), aead=2, chunk=0),
            False,
            k.pgp6_rsa,
        )
    )
    add("pgp4-ecdh-seipdv1", "openpgp", k.pgp4_ecdh)
    add("pgp4-ecdh-seipdv1-armor", "openpgp", k.pgp4_ecdh, armor=True)
    add("pgp4-rsa-seipdv1", "openpgp", k.pgp4_rsa)
    return tuple(out)


def envelope(name: str) -> Envelope:
    return next(e for e in envelopes() if e.name == name)


# ------------------------------------------------- hand-built OpenPGP messages


def pgp_packet(tag: int, body: bytes) -> bytes:
    """A new-format packet with a definite length (RFC 9580 §4.2.1)."""
    n = len(body)
    if n < 192:
        length = bytes([n])
    elif n < 8384:
        n -= 192
        length = bytes([(n >> 8) + 192, n & 0xFF])
    else:
        length = b"\xff" + len(body).to_bytes(4, "big")
    return bytes([0xC0 | tag]) + length + body


def literal_packet(data: bytes, fmt: bytes = b"b") -> bytes:
    return pgp_packet(11, fmt + b"\x00" + bytes(4) + data)


def compressed_packet(inner: bytes, algo: int = 1) -> bytes:
    """Compressed Data (RFC 9580 §5.6): 1 ZIP (raw deflate), 2 ZLIB."""
    if algo == 1:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        body = c.compress(inner) + c.flush()
    else:
        body = zlib.compress(inner, 9)
    return pgp_packet(8, bytes([algo]) + body)


def deflate_zeros(n: int, algo: int = 1) -> bytes:
    """A Compressed Data body that inflates to a literal packet of ``n`` zero bytes,
    built without holding ``n`` bytes in memory."""
    head = b"b\x00" + bytes(4)
    total = len(head) + n
    header = b"\xcb\xff" + total.to_bytes(4, "big")
    c = (
        zlib.compressobj(9, zlib.DEFLATED, -15)
        if algo == 1
        else zlib.compressobj(9, zlib.DEFLATED, 15)
    )
    parts = [c.compress(header + head)]
    block = bytes(1 << 20)
    left = n
    while left:
        step = min(left, len(block))
        parts.append(c.compress(block[:step]))
        left -= step
    parts.append(c.flush())
    return pgp_packet(8, bytes([algo]) + b"".join(parts))


def build_seipdv2(
    key: e2ee_mail.SecretKey,
    inner: bytes,
    *,
    aead: int = 3,
    chunk: int = 16,
    session_key: bytes | None = None,
) -> bytes:
    """PKESKv6 + SEIPDv2 over arbitrary inner packets, through the library's own
    sealing code (so the crypto is right and only the content is ours)."""
    from e2ee_mail.core.random import random_bytes
    from e2ee_mail.openpgp import seipdv2
    from e2ee_mail.openpgp.recipients import pkesk_packets, recipient_key

    sk = session_key or random_bytes(32)
    header = seipdv2.new_header(9, aead, chunk)
    size = seipdv2.sealed_body_size(header, len(inner))
    out = bytearray(size)
    seipdv2.seal_into(header, sk, b"", inner, memoryview(out))
    wraps = pkesk_packets(sk, [recipient_key(key.public, DEFAULT)])  # type: ignore[arg-type]
    return bytes(wraps) + pgp_packet(18, bytes(out))


def v3_pkesk(key: e2ee_mail.SecretKey, session_key: bytes, cipher: int = 9) -> bytes:
    from e2ee_mail.openpgp import pkesk
    from e2ee_mail.openpgp.packets.pkesk import serialize_pkesk
    from e2ee_mail.openpgp.recipients import recipient_key

    info = recipient_key(key.public, DEFAULT)  # type: ignore[arg-type]
    return pgp_packet(1, serialize_pkesk(pkesk.wrap_v3(session_key, cipher, info)))


def cfb_encrypt(session_key: bytes, plaintext: bytes, *, mdc: bool) -> bytes:
    """OpenPGP CFB as SEIPDv1 uses it (RFC 9580 §5.13.1): zero IV, a random block
    plus its last two octets repeated, then the data, then (optionally) the MDC."""
    import hashlib
    import os

    from cryptography.hazmat.decrepit.ciphers.modes import CFB
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

    prefix = os.urandom(16)
    prefix += prefix[-2:]
    data = prefix + plaintext
    if mdc:
        data += b"\xd3\x14"
        data += hashlib.sha1(data).digest()
    enc = Cipher(algorithms.AES(session_key), CFB(bytes(16))).encryptor()
    return enc.update(data) + enc.finalize()


def build_seipdv1(
    key: e2ee_mail.SecretKey, inner: bytes, *, mdc: bool = True, sed: bool = False
) -> bytes:
    """v3 PKESK + SEIPDv1 (or, with ``sed``, a Symmetrically Encrypted Data packet)."""
    import os

    sk = os.urandom(32)
    body = cfb_encrypt(sk, inner, mdc=mdc)
    packet = pgp_packet(9, body) if sed else pgp_packet(18, b"\x01" + body)
    return v3_pkesk(key, sk) + packet


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


# ---------------------------------------------------------------- mutations


def huge_der_lengths(data: bytes) -> Iterator[tuple[str, bytes]]:
    """Every TLV length field rewritten to a huge (and a slightly wrong) value."""
    for off, size in der_length_fields(data):
        for name, field in (
            ("huge32", b"\x84\xff\xff\xff\xff"),
            ("huge-2^31", b"\x84\x80\x00\x00\x00"),
            ("huge64", b"\x88\x7f\xff\xff\xff\xff\xff\xff\xff"),
            ("indefinite", b"\x80"),
            ("reserved", b"\xff"),
        ):
            yield f"{name}@{off}", data[:off] + field + data[off + size :]


def huge_pgp_lengths(data: bytes) -> Iterator[tuple[str, bytes]]:
    """Every packet length rewritten huge, as a partial length, or as old format."""
    for s in pgp_spans(data):
        body = data[s.body : s.end] if not s.partial else None
        if body is None:
            continue
        ctb = data[s.start]
        tag = s.tag if ctb & 0x40 else (ctb >> 2) & 0xF
        variants = {
            "huge5": bytes([0xC0 | tag]) + b"\xff\xff\xff\xff\xff",
            "huge5-2^31": bytes([0xC0 | tag]) + b"\xff\x80\x00\x00\x00",
            "partial-2^30": bytes([0xC0 | tag, 0xFE]),
            "partial-1": bytes([0xC0 | tag, 0xE0]),
            "old-huge": bytes([0x80 | (tag & 0xF) << 2 | 2]) + b"\xff\xff\xff\xff",
            "old-indeterminate": bytes([0x80 | (tag & 0xF) << 2 | 3]),
        }
        for name, head in variants.items():
            yield f"{name}@{s.start}", data[: s.start] + head + data[s.body :]


def truncations(boundaries: Sequence[int], data: bytes) -> Iterator[tuple[str, bytes]]:
    for b in boundaries:
        for cut in (b - 1, b, b + 1):
            if 0 <= cut < len(data):
                yield f"truncate@{cut}", data[:cut]


@st.composite
def der_mutation(draw: st.DrawFn, binary: bytes) -> tuple[str, bytes]:
    """One structural mutation of a DER blob; lengths fixed up unless the point of
    the mutation is to break them."""
    op = draw(
        st.sampled_from(
            [
                "flip",
                "byte",
                "truncate",
                "huge",
                "dup",
                "swap",
                "drop",
                "oid",
                "int",
                "low-order",
                "big-octets",
                "shorten",
                "tag",
            ]
        )
    )
    if op == "flip":
        pos = draw(st.integers(0, len(binary) - 1))
        bit = draw(st.integers(0, 7))
        return op, binary[:pos] + bytes([binary[pos] ^ (1 << bit)]) + binary[pos + 1 :]
    if op == "byte":
        pos = draw(st.integers(0, len(binary) - 1))
        return op, binary[:pos] + bytes([draw(st.integers(0, 255))]) + binary[pos + 1 :]
    if op == "truncate":
        b = draw(st.sampled_from(der_boundaries(binary)))
        return op, binary[: max(0, b - draw(st.integers(0, 1)))]
    if op == "huge":
        variants = list(huge_der_lengths(binary))
        return draw(st.sampled_from(variants))
    root = parse_der(binary)
    pairs = der_nodes(root)
    if op in ("dup", "swap", "drop"):
        parents = [n for _, n in pairs if n.children]
        parent = draw(st.sampled_from(parents))
        assert parent.children is not None
        i = draw(st.integers(0, len(parent.children) - 1))
        if op == "dup":
            parent.children.insert(i, dataclasses.replace(parent.children[i]))
        elif op == "drop":
            del parent.children[i]
        elif len(parent.children) > 1:
            j = draw(st.integers(0, len(parent.children) - 1))
            ch = parent.children
            ch[i], ch[j] = ch[j], ch[i]
        return op, root.encode()
    prims = [n for _, n in pairs if n.children is None]
    if op == "oid":
        oids = [n for n in prims if n.tag == b"\x06"]
        node = draw(st.sampled_from(oids))
        new = parse_der(draw(st.sampled_from(OIDS)))
        node.content = new.content
        return op, root.encode()
    if op == "int":
        ints = [n for n in prims if n.tag == b"\x02"]
        if not ints:
            return op, binary
        node = draw(st.sampled_from(ints))
        node.content = draw(
            st.sampled_from(
                [b"\x00", b"\xff", b"\x7f" + b"\xff" * 8, b"\x05", b"\x00\x00"]
            )
        )
        return op, root.encode()
    if op == "low-order":
        bits = [n for n in prims if n.tag == b"\x03" and len(n.content) == 33]
        if not bits:
            return op, binary
        node = draw(st.sampled_from(bits))
        node.content = b"\x00" + draw(st.sampled_from(LOW_ORDER_X25519))
        return op, root.encode()
    if op == "big-octets":
        # Oversized RSA ciphertexts and wrapped keys: longer than the modulus,
        # all ones (>= n), or empty.
        octs = [
            n for n in prims if n.tag in (b"\x04", b"\x80") and len(n.content) >= 16
        ]
        if not octs:
            return op, binary
        node = draw(st.sampled_from(octs))
        node.content = draw(
            st.sampled_from(
                [
                    b"\xff" * len(node.content),
                    b"\x01" + node.content,
                    node.content + b"\x00",
                    b"",
                    b"\xff" * 513,
                ]
            )
        )
        return op, root.encode()
    if op == "shorten":
        octs = [n for n in prims if len(n.content) >= 2]
        node = draw(st.sampled_from(octs))
        node.content = node.content[: draw(st.integers(0, len(node.content) - 1))]
        return op, root.encode()
    # "tag": change one tag byte (implicit [n] vs universal, constructed bit).
    node = draw(st.sampled_from([n for _, n in pairs]))
    node.tag = bytes([node.tag[0] ^ draw(st.sampled_from([0x20, 0x80, 0x01, 0xA0]))])
    return op, root.encode()


PK_ALGOS = [0, 1, 2, 3, 16, 17, 18, 22, 25, 26, 27, 99, 255]


@st.composite
def pgp_mutation(draw: st.DrawFn, binary: bytes) -> tuple[str, bytes]:
    """One structural mutation of a binary OpenPGP message."""
    spans = pgp_spans(binary)
    op = draw(
        st.sampled_from(
            [
                "flip",
                "byte",
                "truncate",
                "huge",
                "dup",
                "swap",
                "drop",
                "algo",
                "seipd-header",
                "low-order",
                "big-mpi",
                "tag",
                "version",
                "partial-split",
            ]
        )
    )
    if op == "flip":
        pos = draw(st.integers(0, len(binary) - 1))
        bit = draw(st.integers(0, 7))
        return op, binary[:pos] + bytes([binary[pos] ^ (1 << bit)]) + binary[pos + 1 :]
    if op == "byte":
        pos = draw(st.integers(0, len(binary) - 1))
        return op, binary[:pos] + bytes([draw(st.integers(0, 255))]) + binary[pos + 1 :]
    if op == "truncate":
        b = draw(st.sampled_from(pgp_boundaries(binary)))
        return op, binary[: max(0, b - draw(st.integers(0, 1)))]
    if op == "huge":
        return draw(st.sampled_from(list(huge_pgp_lengths(binary))))
    packets = [(s.tag, binary[s.body : s.end]) for s in spans]
    i = draw(st.integers(0, len(packets) - 1))
    if op == "dup":
        packets.insert(i, packets[i])
    elif op == "drop":
        del packets[i]
    elif op == "swap":
        j = draw(st.integers(0, len(packets) - 1))
        packets[i], packets[j] = packets[j], packets[i]
    elif op == "tag":
        packets[i] = (
            draw(st.sampled_from([1, 3, 8, 9, 11, 18, 20, 21, 60])),
            packets[i][1],
        )
    else:
        pk = [n for n, (t, _) in enumerate(packets) if t == 1]
        seipd = [n for n, (t, _) in enumerate(packets) if t == 18]
        if op in ("algo", "low-order", "big-mpi", "version") and pk:
            n = draw(st.sampled_from(pk))
            body = bytearray(packets[n][1])
            algo_at = 9 if body[0] == 3 else 2 + body[1]
            if op == "algo" and algo_at < len(body):
                body[algo_at] = draw(st.sampled_from(PK_ALGOS))
            elif op == "version":
                body[0] = draw(st.sampled_from([2, 3, 4, 5, 6, 7]))
            elif op == "low-order" and algo_at < len(body):
                point = draw(st.sampled_from(LOW_ORDER_X25519))
                if body[algo_at] == 25:
                    body[algo_at + 1 : algo_at + 33] = point
                elif body[algo_at] == 18:  # MPI: 2-octet bit count, 0x40 || point
                    body[algo_at + 4 : algo_at + 36] = point
            elif op == "big-mpi" and algo_at < len(body) and body[algo_at] in (1, 2):
                size = draw(st.sampled_from([385, 384, 512, 1, 0]))
                value = b"\xff" * size
                bits = size * 8
                body[algo_at + 1 :] = bits.to_bytes(2, "big") + value
            packets[n] = (1, bytes(body))
        elif op == "seipd-header" and seipd:
            n = seipd[0]
            body = bytearray(packets[n][1])
            field = draw(st.integers(0, 3 if body[0] == 2 else 0))
            body[field] = draw(
                st.sampled_from([0, 1, 2, 3, 4, 7, 8, 9, 10, 13, 22, 23, 255])
            )
            packets[n] = (18, bytes(body))
        elif op == "partial-split" and seipd:
            # Re-frame the SEIPD body with partial lengths of a drawn size (legal
            # framing must still open; the first chunk shorter than 512 is not).
            n = seipd[0]
            body = packets[n][1]
            power = draw(st.integers(0, 12))
            out = bytearray()
            rest = body
            while len(rest) > (1 << power):
                out += bytes([0xE0 | power]) + rest[: 1 << power]
                rest = rest[1 << power :]
            tail = pgp_packet(18, rest)[1:]
            framed = bytes([0xC0 | 18]) + bytes(out) + tail
            before = b"".join(pgp_packet(t, b) for t, b in packets[:n])
            after = b"".join(pgp_packet(t, b) for t, b in packets[n + 1 :])
            return op, before + framed + after
    return op, b"".join(pgp_packet(t, b) for t, b in packets)


def text_mutation(data: bytes) -> st.SearchStrategy[tuple[str, bytes]]:
    """Raw mutations of a text encoding (armor, PEM, mail): flips, cuts, line ops."""

    @st.composite
    def mutate(draw: st.DrawFn) -> tuple[str, bytes]:
        lines = data.split(b"\n")
        op = draw(
            st.sampled_from(["flip", "cut", "dup-line", "drop-line", "swap-line"])
        )
        if op == "flip":
            pos = draw(st.integers(0, len(data) - 1))
            bit = draw(st.integers(0, 7))
            return op, data[:pos] + bytes([data[pos] ^ (1 << bit)]) + data[pos + 1 :]
        if op == "cut":
            return op, data[: draw(st.integers(0, len(data) - 1))]
        i = draw(st.integers(0, len(lines) - 1))
        if op == "dup-line":
            lines.insert(i, lines[i])
        elif op == "drop-line":
            del lines[i]
        else:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        return op, b"\n".join(lines)

    return mutate()


# -------------------------------------------------------------------- mail


def sample_mail() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Alice <alice@example.org>"
    msg["To"] = "Bob <bob@example.org>"
    msg["Subject"] = SUBJECT
    msg.set_content(BODY_TEXT)
    return msg


def mail_body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    # The decrypted entity keeps its canonical CRLF line ends (RFC 3156 §3).
    return content.replace("\r\n", "\n")


@functools.cache
def mails() -> dict[str, tuple[bytes, e2ee_mail.SecretKey]]:
    from e2ee_mail.mime.detect import serialize

    k = keys()
    smime = e2ee_mail.encrypt_message(sample_mail(), k.x509_x25519.public)
    smime_rsa = e2ee_mail.encrypt_message(sample_mail(), k.x509_rsa.public)
    pgp = e2ee_mail.encrypt_message(
        sample_mail(), k.pgp6_x25519.public, format="pgpmime"
    )
    pgp4 = e2ee_mail.encrypt_message(
        sample_mail(), k.pgp4_ecdh.public, format="pgpmime"
    )
    return {
        "smime-x25519": (serialize(smime), k.x509_x25519),
        "smime-rsa": (serialize(smime_rsa), k.x509_rsa),
        "pgpmime-v6": (serialize(pgp), k.pgp6_x25519),
        "pgpmime-v4": (serialize(pgp4), k.pgp4_ecdh),
    }


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data)


# ---------------------------------------------------- bounded subprocess runs

#: Address space a sweep may add on top of what the child uses once set up.
HEADROOM_BYTES = 768 << 20


def run_bounded(family: str, sweep: str, timeout_s: int = 150) -> dict[str, int]:
    """Run ``strategies.<sweep>()`` in a child under RLIMIT_AS = setup + headroom.

    A parser that allocates from a hostile length field hits MemoryError there, which
    the sweep does not catch (it is not an e2ee_mail.Error), so the child fails and
    this raises AssertionError with its output. Outcome counts are merged into COUNTS.
    """
    import json
    import os
    import subprocess
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    code = (
        "import json, resource, sys\n"
        f"sys.path.insert(0, {here!r})\n"
        "import strategies\n"
        "strategies.keys(); strategies.envelopes(); strategies.mails()\n"
        "with open('/proc/self/status') as fh:\n"
        "    vm = next(int(x.split()[1]) << 10 for x in fh if x.startswith('VmSize'))\n"
        f"limit = vm + {HEADROOM_BYTES}\n"
        "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
        f"result = strategies.{sweep}()\n"
        "print('RESULT ' + json.dumps(result))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    assert proc.returncode == 0, (
        f"{sweep} failed under a {HEADROOM_BYTES >> 20} MiB address-space headroom:\n"
        f"{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    )
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    result: dict[str, int] = json.loads(line[len("RESULT ") :])
    for outcome, n in result.items():
        COUNTS[family] += n
        OUTCOMES[family][outcome] += n
    return result


def _sweep(
    family: str, cases: Iterator[tuple[Callable[[], Any], bytes]]
) -> dict[str, int]:
    before = collections.Counter(OUTCOMES[family])
    for call, original in cases:
        check_outcome(family, call, original)
    after = OUTCOMES[family]
    return {
        k: after[k] - before.get(k, 0) for k in after if after[k] - before.get(k, 0)
    }


def _envelope_cases(
    family: str,
    huge: Callable[[bytes], Iterator[tuple[str, bytes]]],
    bounds: Callable[[bytes], list[int]],
) -> Iterator[tuple[Callable[[], Any], bytes]]:
    import io

    for env in envelopes():
        if env.family != family:
            continue
        variants = list(huge(env.binary)) + list(
            truncations(bounds(env.binary), env.binary)
        )
        for _, mutated in variants:
            data = env.encode(mutated)
            yield (lambda d=data, e=env: e.open(d)), env.plaintext

            def stream(d: bytes = data, e: Envelope = env) -> bytes:
                out = io.BytesIO()
                try:
                    e2ee_mail.decrypt_stream(io.BytesIO(d), out, e.key, policy=e.policy)
                except e2ee_mail.Error:
                    # Streams may have released authenticated chunks: a prefix of
                    # the original, never anything else.
                    assert e.plaintext.startswith(out.getvalue())
                    raise
                return out.getvalue()

            yield stream, env.plaintext


def sweep_cms() -> dict[str, int]:
    """Every CMS length field set huge, and truncation around every TLV boundary."""
    return _sweep("cms", _envelope_cases("cms", huge_der_lengths, der_boundaries))


def sweep_openpgp() -> dict[str, int]:
    """Every packet length set huge/partial/old-format, truncation at every packet
    and chunk boundary."""

    def bounds(binary: bytes) -> list[int]:
        found = set(pgp_boundaries(binary))
        for env in envelopes():
            if env.binary == binary and env.family == "openpgp":
                found.update(seipdv2_chunk_boundaries(env))
        return sorted(found)

    return _sweep("openpgp", _envelope_cases("openpgp", huge_pgp_lengths, bounds))


# ------------------------------------------------------------- key material

PASSPHRASE = b"correct horse"


@functools.cache
def key_exports() -> dict[str, tuple[str, bytes, bytes | None, str]]:
    """name -> (kind "cert"|"key", binary, passphrase, family "der"|"pgp")."""
    from e2ee_mail.cms import pem
    from e2ee_mail.openpgp import armor

    k = keys()
    out: dict[str, tuple[str, bytes, bytes | None, str]] = {}
    for name in (
        "x509_x25519",
        "x509_rsa",
        "pgp6_x25519",
        "pgp6_rsa",
        "pgp4_ecdh",
        "pgp4_rsa",
    ):
        key: e2ee_mail.SecretKey = getattr(k, name)
        family = "der" if name.startswith("x509") else "pgp"
        for kind, blob, pw in (
            ("cert", key.public.export(armor=False), None),
            ("key", key.export(armor=False), None),
            ("key", key.export(armor=False, passphrase=PASSPHRASE), PASSPHRASE),
        ):
            binary = bytes(blob)
            if binary.startswith(b"-----"):
                binary = (
                    pem.dearmor(binary) if family == "der" else armor.dearmor(binary)[1]
                )
            out[f"{name}-{kind}{'-protected' if pw else ''}"] = (
                kind,
                binary,
                pw,
                family,
            )
    return out


def load_key_or_cert(kind: str, data: bytes, pw: bytes | None) -> object:
    if kind == "cert":
        return e2ee_mail.load_certificate(data)
    return e2ee_mail.load_key(data, passphrase=pw)


def try_key(kind: str, data: bytes, pw: bytes | None) -> None:
    COUNTS["keys"] += 1
    try:
        loaded = load_key_or_cert(kind, data, pw)
    except e2ee_mail.Error as exc:
        OUTCOMES["keys"][type(exc).__name__] += 1
        return
    OUTCOMES["keys"]["loaded"] += 1
    assert repr(loaded)  # a loaded object can be described
    if isinstance(loaded, e2ee_mail.SecretKey):
        # Whatever loaded, it must not open a message to other plaintext.
        decrypts_only_original(loaded)


def decrypts_only_original(key: e2ee_mail.SecretKey) -> None:
    for env in envelopes():
        if env.armored or env.key.format != key.format:
            continue
        check_outcome(
            "keys", lambda e=env: bytes(e2ee_mail.decrypt(e.binary, key)), env.plaintext
        )
        break


def sweep_keys() -> dict[str, int]:
    """Every length field huge and every boundary truncation of every key export."""
    before = collections.Counter(OUTCOMES["keys"])
    for kind, binary, pw, family in key_exports().values():
        if family == "der":
            variants = list(huge_der_lengths(binary)) + list(
                truncations(der_boundaries(binary), binary)
            )
        else:
            variants = list(huge_pgp_lengths(binary)) + list(
                truncations(pgp_boundaries(binary), binary)
            )
        for _, mutated in variants:
            try_key(kind, mutated, pw)
    after = OUTCOMES["keys"]
    return {
        k: after[k] - before.get(k, 0) for k in after if after[k] - before.get(k, 0)
    }
