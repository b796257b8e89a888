"""Shared material for the structure-aware fuzz suite.

Valid envelopes of every format are built once per process (keys are generated, not
stored), then mutated *structurally*: the DER tree of a CMS blob and the packet list of
an OpenPGP message are parsed by the walkers in walkers.py (test code, deliberately
independent of the library's own parsers) so a mutation can swap, duplicate or drop
whole TLVs/packets, replace algorithm identifiers, or set one length field huge while
every other length stays consistent. Plain bit flips and truncations complement them.

The outcome rule every test applies is :func:`check_outcome`: the call either raises an
``e2ee_mail.Error`` subclass or returns exactly the original plaintext. Anything else
(another exception type, different plaintext) fails the test. Each tried input is
counted per format in :data:`COUNTS`; ``tests/fuzz/conftest.py`` prints the totals.
"""

from __future__ import annotations

import collections
import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fixtures import (  # noqa: F401 - re-exported for the test modules
    BODY_TEXT,
    PASSPHRASE,
    PLAINTEXT,
    SMALL_CHUNKS,
    SUBJECT,
    V15,
    Envelope,
    Keys,
    build_seipdv1,
    build_seipdv2,
    cfb_encrypt,
    compressed_packet,
    deflate_zeros,
    envelope,
    envelopes,
    key_exports,
    keys,
    literal_packet,
    load_key_or_cert,
    mail_body,
    mails,
    pgp_packet,
    sample_mail,
    v3_pkesk,
)
from hypothesis import strategies as st
from walkers import (  # noqa: F401 - re-exported for the test modules
    OIDS,
    Node,
    Span,
    der_boundaries,
    der_length,
    der_length_fields,
    der_nodes,
    parse_der,
    pgp_boundaries,
    pgp_spans,
    seipdv2_chunk_boundaries,
)

import e2ee_mail

#: Multiplier for every fuzz test's example count (a soak: E2EE_MAIL_FUZZ_SCALE=20).
SCALE = float(os.environ.get("E2EE_MAIL_FUZZ_SCALE", "1"))


def examples(n: int) -> int:
    """``n`` hypothesis examples, scaled by E2EE_MAIL_FUZZ_SCALE."""
    return max(1, int(n * SCALE))


#: Inputs tried per format family, printed by the terminal summary hook.
COUNTS: collections.Counter[str] = collections.Counter()
#: Outcomes per format family: "original" or the exception class name.
OUTCOMES: dict[str, collections.Counter[str]] = collections.defaultdict(
    collections.Counter
)


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


def _changed_octet(draw: st.DrawFn, op: str, binary: bytes) -> bytes:
    """``binary`` with one octet changed: one bit flipped ("flip") or any value
    ("byte")."""
    pos = draw(st.integers(0, len(binary) - 1))
    if op == "flip":
        new = binary[pos] ^ (1 << draw(st.integers(0, 7)))
    else:
        new = draw(st.integers(0, 255))
    return binary[:pos] + bytes([new]) + binary[pos + 1 :]


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
    if op in ("flip", "byte"):
        return op, _changed_octet(draw, op, binary)
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
    if op in ("flip", "byte"):
        return op, _changed_octet(draw, op, binary)
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


def run_bounded(family: str, sweep: str, timeout_s: int = 150) -> dict[str, int]:
    """See :func:`sweeps.run_bounded`."""
    import sweeps

    return sweeps.run_bounded(family, sweep, timeout_s)
