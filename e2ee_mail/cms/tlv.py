"""The one reader of ASN.1 element headers (X.690 §8.1): tag, length, content.

Every CMS reader in this package takes its tags and lengths from here, in one of two
forms of the same rules:

- :func:`element`, :func:`expect` and :func:`expect_last` read DER held in memory,
  for the fast paths (der.py, derframe.py): only what X.690 §10.1 lets DER write
  (single-octet tags, definite lengths in the fewest octets) is read; anything else
  raises :class:`Decline`, and the caller leaves the input to its general reader.
- :func:`length_octets` checks the first two octets of an element read from a stream
  (framing.py) and says how many length octets follow, with BER's indefinite form
  (X.690 §8.1.3.6) allowed on constructed elements.

With them, the decoders of the small values every header carries: INTEGER (§8.3)
and OBJECT IDENTIFIER content (§8.19). A codec: no cryptography, no files opened.
"""

from __future__ import annotations

import functools
from typing import Final

from ..core.oid import dotted
from ..errors import ASN1Error

__all__ = [
    "EOC",
    "INDEFINITE",
    "Buffer",
    "Decline",
    "decode_oid",
    "element",
    "expect",
    "expect_last",
    "integer",
    "length_octets",
    "small_int",
]

Buffer = bytes | bytearray | memoryview
#: The length octet of the indefinite form (X.690 §8.1.3.6.1).
INDEFINITE: Final = 0x80
#: End-of-contents octets, closing an indefinite-length element (X.690 §8.1.5).
EOC: Final = b"\x00\x00"
#: Longest length field a stream may carry (an 8-octet length already exceeds any
#: header budget; longer ones are refused before they are read).
MAX_LENGTH_OCTETS: Final = 8
#: Longest length field the in-memory DER reader reads (4 GiB; longer: declined).
_DER_MAX_LENGTH_OCTETS: Final = 4


class Decline(Exception):
    """Not the plain DER the in-memory reader reads: the general reader decides."""


def length_octets(tag: int, first: int) -> int:
    """How many length octets follow ``first``, the element's first length octet.

    0 for the short form and for the indefinite form (``first == INDEFINITE``).

    Raises:
        ASN1Error: a multi-octet tag (X.690 §8.1.2.4; CMS uses none), an indefinite
            length on a primitive element (§8.1.3.2), or a length field longer
            than :data:`MAX_LENGTH_OCTETS`.
    """
    if tag & 0x1F == 0x1F:
        raise ASN1Error("multi-octet ASN.1 tags are not used by CMS")
    if first < 0x80:
        return 0
    if first == INDEFINITE:
        if not tag & 0x20:
            raise ASN1Error("indefinite length on a primitive element")
        return 0
    count = first & 0x7F
    if count > MAX_LENGTH_OCTETS:
        raise ASN1Error("ASN.1 length field too long")
    return count


def element(buf: Buffer, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at ``pos``.

    Raises:
        Decline: not DER, or the element runs past ``end``.
    """
    if pos + 2 > end:
        raise Decline
    tag = buf[pos]
    first = buf[pos + 1]
    if tag & 0x1F == 0x1F:
        raise Decline  # a multi-octet tag (X.690 §8.1.2.4): CMS uses none
    if first < 0x80:
        start = pos + 2
        stop = start + first
    elif first == 0x81 and pos + 3 <= end and buf[pos + 2] >= 0x80:
        # The one- and two-octet forms (128 bytes to 64 KiB: most headers) inline.
        start = pos + 3
        stop = start + buf[pos + 2]
    elif first == 0x82 and pos + 4 <= end and buf[pos + 2]:
        start = pos + 4
        stop = start + (buf[pos + 2] << 8 | buf[pos + 3])
    else:
        try:
            count = length_octets(tag, first)
        except ASN1Error:
            raise Decline from None
        start = pos + 2 + count
        if not 0 < count <= _DER_MAX_LENGTH_OCTETS or start > end:
            raise Decline  # indefinite (BER), or longer than anything we hold
        length = int.from_bytes(buf[pos + 2 : start], "big")
        if buf[pos + 2] == 0 or length < 0x80:
            raise Decline  # not in the fewest octets (X.690 §10.1)
        stop = start + length
    if stop > end:
        raise Decline
    return tag, start, stop


def expect(buf: Buffer, pos: int, end: int, tag: int) -> tuple[int, int]:
    """(content start, content end) of the DER element at ``pos``, which has ``tag``.

    Raises:
        Decline: another tag, not DER, or the element runs past ``end``.
    """
    # The short form inlined: this runs a few dozen times per message.
    if pos + 2 <= end and buf[pos] == tag and buf[pos + 1] < 0x80:
        stop = pos + 2 + buf[pos + 1]
        if stop > end:
            raise Decline
        return pos + 2, stop
    got, start, stop = element(buf, pos, end)
    if got != tag:
        raise Decline
    return start, stop


def expect_last(buf: Buffer, pos: int, end: int, tag: int) -> int:
    """Content start of the DER element at ``pos``, which has ``tag`` and ends at
    ``end``: the last element of its parent, or the whole input.

    Raises:
        Decline: another tag, not DER, or the element does not end at ``end``.
    """
    start, stop = expect(buf, pos, end, tag)
    if stop != end:
        raise Decline
    return start


def small_int(buf: Buffer, start: int, stop: int) -> int:
    """A one-octet, non-negative INTEGER's content (CMS versions, GCM ICV lengths).

    Raises:
        Decline: anything else.
    """
    if stop - start != 1 or buf[start] >= 0x80:
        raise Decline
    return buf[start]


def integer(buf: Buffer, start: int, stop: int) -> int:
    """An INTEGER's content in DER: two's complement in the fewest octets.

    Raises:
        Decline: empty, or not minimal (X.690 §8.3.2: the first nine bits are
            never all zero or all one).
    """
    if stop == start:
        raise Decline
    if stop - start > 1:
        b0, b1 = buf[start], buf[start + 1]
        if (b0 == 0 and b1 < 0x80) or (b0 == 0xFF and b1 >= 0x80):
            raise Decline
    return int.from_bytes(buf[start:stop], "big", signed=True)


@functools.lru_cache(maxsize=64)
def decode_oid(content: bytes) -> str:
    """Dotted form of OBJECT IDENTIFIER content octets (X.690 §8.19).

    Memoized: the same few content types come with every message.

    Raises:
        ASN1Error: empty, or the last subidentifier is unfinished.
    """
    text = dotted(content)
    if text is None:
        raise ASN1Error("malformed OBJECT IDENTIFIER")
    return text
