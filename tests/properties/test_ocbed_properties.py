"""Hypothesis: LibrePGP OCB Encrypted Data messages (packet type 20) fail closed.

Random bodies open to themselves in both modes; random damage (flipped octets,
truncation, cut-out or duplicated ranges, inserted octets) never releases wrong
plaintext: the bytes API returns the original or raises an ``e2ee_mail.Error``, and
the stream API releases at most a prefix of the original (authenticated chunks). The
header codec refuses or parses every short prefix it is given, never anything else.
"""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st
from ocbed_messages import AES128, AES256, EAX, OCB, literal, pkesk_v3, sealed

import e2ee_mail
from e2ee_mail.openpgp import keygen
from e2ee_mail.openpgp.packets.header import serialize_packet
from e2ee_mail.openpgp.packets.ocbed import parse_ocbed_header

KEY = keygen.generate("Pia <p@example.org>", kind="x25519", profile="rfc4880")
SESSION = {AES128: bytes(range(16)), AES256: bytes(range(32))}
#: One PKESK per cipher, made once: wrapping is not what these properties test.
PKESK = {c: pkesk_v3(KEY.public, k, c) for c, k in SESSION.items()}


def _message(plain: bytes, aead: int, cipher: int, octet: int) -> bytes:
    body = sealed(
        SESSION[cipher],
        literal(plain),
        aead=aead,
        cipher=cipher,
        chunk_size_octet=octet,
    )
    return PKESK[cipher] + serialize_packet(20, body)


def _outcomes(msg: bytes, plain: bytes) -> None:
    """The bytes API gives ``plain`` or an Error; the stream only a prefix of it."""
    try:
        got = e2ee_mail.decrypt(msg, [KEY])
    except e2ee_mail.Error:
        pass
    else:
        assert got == plain, "wrong plaintext released by decrypt"
    out = io.BytesIO()
    try:
        e2ee_mail.decrypt_stream(io.BytesIO(msg), out, [KEY])
    except e2ee_mail.Error:
        assert plain.startswith(out.getvalue()), "unauthenticated octets released"
    else:
        assert out.getvalue() == plain, "wrong plaintext released by decrypt_stream"


suites = st.tuples(st.sampled_from([OCB, EAX]), st.sampled_from([AES128, AES256]))


@given(plain=st.binary(max_size=700), suite=suites, octet=st.integers(0, 2))
def test_round_trip(plain: bytes, suite: tuple[int, int], octet: int) -> None:
    msg = _message(plain, *suite, octet)
    assert e2ee_mail.decrypt(msg, [KEY]) == plain
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(io.BytesIO(msg), out, [KEY])
    assert out.getvalue() == plain


@st.composite
def damage(draw: st.DrawFn, msg: bytes) -> bytes:
    data = bytearray(msg)
    kind = draw(st.sampled_from(["flip", "truncate", "cut", "repeat", "insert"]))
    # Damage lands in the type 20 packet (its header, chunks or tags) or anywhere.
    start = draw(st.sampled_from([len(PKESK[AES128]), len(PKESK[AES256]), 0]))
    at = draw(st.integers(min(start, len(data) - 1), len(data) - 1))
    if kind == "flip":
        data[at] ^= draw(st.integers(1, 255))
    elif kind == "truncate":
        del data[at:]
    elif kind == "cut":
        del data[at : at + draw(st.integers(1, 100))]
    elif kind == "repeat":
        length = draw(st.integers(1, 100))
        data[at:at] = data[at : at + length]
    else:
        data[at:at] = draw(st.binary(min_size=1, max_size=32))
    return bytes(data)


@given(
    plain=st.binary(min_size=1, max_size=400),
    suite=suites,
    data=st.data(),
)
def test_damage_never_releases_wrong_plaintext(
    plain: bytes, suite: tuple[int, int], data: st.DataObject
) -> None:
    msg = _message(plain, *suite, 0)
    _outcomes(data.draw(damage(msg), label="damaged"), plain)


@given(st.binary(max_size=40))
def test_header_codec_parses_or_refuses(head: bytes) -> None:
    try:
        header = parse_ocbed_header(head)
    except e2ee_mail.Error:
        return
    assert head[0] == 1 and header.size <= len(head)
    assert (
        bytes([1, header.cipher, header.aead, header.chunk_size_octet]) + (header.iv)
        == head[: header.size]
    )
