"""Base64 in lines, at pybase64's speed: S/MIME bodies (RFC 2045 §6.8: 76 columns,
CRLF), PEM (RFC 7468 §2: 64 columns) and OpenPGP armor (RFC 9580 §6.2: 64 columns).

Encoding works per batch of whole lines: 76-column text comes straight from
``pybase64.encodebytes``; other widths (64: PEM, armor) go through
:class:`LineEncoder`, which encodes each batch into one reused buffer and lays the
lines out with ``eol.join`` over line views made once, with no object per line.

Decoding (:func:`decode_lines`) runs ``pybase64.b64decode(validate=False)`` over the
text with its line breaks. A non-validating decode discards characters outside the
alphabet, so the result is accepted only when its length is the one the line
structure predicts (fixed-width lines, computed from the first line, and the last
line break probed where that predicts it: no pass over the text). An inserted
foreign character shortens the result or moves the last line, so it is refused;
only one standing exactly in a line break's place can pass, and then nothing is lost
(the octets are covered by the AEAD/MDC or CRC24 anyway). Text of another shape gets
``None`` and the caller decodes it strictly. docs/ARCHITECTURE.md gives the
measurements behind both choices.
"""

from __future__ import annotations

import binascii
import functools
import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

import pybase64

if TYPE_CHECKING:
    import threading

__all__ = [
    "BATCH_LINES",
    "LineEncoder",
    "decode_lines",
    "encode_lines",
    "iter_encoded_lines",
    "line_encoder",
]

#: Lines encoded per batch: 48-57 KiB of input, inside the 57-228 KiB range where
#: pybase64 is fastest and the batch stays in cache.
BATCH_LINES: Final = 1024
_MIME_WIDTH: Final = 76  # what pybase64.encodebytes writes
_LOCAL: threading.local | None = None  # each thread's LineEncoders


@functools.cache
def _line_slices(width: int) -> tuple[slice, ...]:
    return tuple(slice(i, i + width) for i in range(0, width * BATCH_LINES, width))


def _check_width(width: int) -> None:
    if width % 4 or width <= 0:
        raise ValueError("base64 line width must be a positive multiple of 4")


def _encode_short(piece: bytes | memoryview, width: int, eol: bytes) -> bytes:
    """Lines for less than one batch: slices of the encoded text (few lines)."""
    encoded = pybase64.b64encode(piece)
    count = -(-len(encoded) // width)
    lines = map(encoded.__getitem__, _line_slices(width)[:count])
    return eol.join(itertools.chain(lines, (b"",)))


class LineEncoder:
    """Base64 in ``width``-column lines, a batch of :data:`BATCH_LINES` at a time.

    Holds one reused buffer of a batch's text and the views of its lines, made
    once; each batch is encoded into the buffer and joined through the views. Not
    thread-safe (one buffer): one encoder per stream or call.
    """

    __slots__ = ("_buf", "_eol", "_views", "_width", "batch_octets")

    def __init__(self, width: int, eol: bytes) -> None:
        _check_width(width)
        self._width = width
        self._eol = eol
        #: Input octets per batch: whole lines, so batches join without a seam.
        self.batch_octets: Final = width // 4 * 3 * BATCH_LINES
        self._buf = memoryview(bytearray(width * BATCH_LINES))
        view = self._buf
        lines: list[bytes | memoryview] = [
            view[i : i + width] for i in range(0, len(view), width)
        ]
        self._views = [*lines, b""]  # the empty last item ends the last line

    def encode(self, data: bytes | bytearray | memoryview) -> Iterator[bytes]:
        """Yield the lines of ``data`` (every line ends with ``eol``), in batches."""
        view = memoryview(data).cast("B")
        batch = self.batch_octets
        whole = len(view) - len(view) % batch
        for start in range(0, whole, batch):
            # Same length as the buffer: copied in place, the views stay valid
            # (through a memoryview: a plain memcpy, ~6x a bytearray slice store).
            self._buf[:] = pybase64.b64encode(view[start : start + batch])
            yield self._eol.join(self._views)
        if whole < len(view):
            yield _encode_short(view[whole:], self._width, self._eol)


def line_encoder(width: int, eol: bytes) -> LineEncoder:
    """This thread's encoder for the shape (made once: its 1024 views cost about
    as much as encoding 64 KiB). Generators sharing it in one thread are safe: a
    batch is filled and joined within one step, never across a ``yield``."""
    import threading  # only for bodies of a batch or more (CLI start-up)

    global _LOCAL
    if _LOCAL is None:
        _LOCAL = threading.local()
    encoders: dict[tuple[int, bytes], LineEncoder] = _LOCAL.__dict__.setdefault(
        "encoders", {}
    )
    encoder = encoders.get((width, eol))
    if encoder is None:
        encoder = encoders[width, eol] = LineEncoder(width, eol)
    return encoder


def iter_encoded_lines(
    data: bytes | bytearray | memoryview, *, width: int, eol: bytes
) -> Iterator[bytes]:
    """Yield the base64 of ``data`` in batches of whole lines.

    Every line, the last included, ends with ``eol``. ``width`` must be a multiple
    of 4, so that each line encodes whole input triplets.
    """
    _check_width(width)
    view = memoryview(data).cast("B")
    batch = width // 4 * 3 * BATCH_LINES
    if width == _MIME_WIDTH:
        for start in range(0, len(view), batch):
            text = pybase64.encodebytes(view[start : start + batch])
            yield text if eol == b"\n" else text.replace(b"\n", eol)
    elif len(view) >= batch:
        yield from line_encoder(width, eol).encode(view)
    elif view:
        yield _encode_short(view, width, eol)


def encode_lines(
    data: bytes | bytearray | memoryview, *, width: int, eol: bytes
) -> bytearray:
    """The base64 of ``data`` in ``width``-column lines ending in ``eol``, joined
    once into a buffer of its final size."""
    return bytearray().join(iter_encoded_lines(data, width=width, eol=eol))


def decode_lines(
    text: bytes | bytearray, start: int = 0, stop: int | None = None
) -> bytes | None:
    """Decode base64 in lines of one width (the last may be shorter), LF or CRLF.

    Only ``text[start:stop]`` is read (no slice copy). Leading and trailing line
    breaks are ignored. Returns None when the text is not of that shape or is not
    valid base64; the caller then decodes it strictly (the slow path decides between
    "other line shape" and "damaged").
    """
    stop = len(text) if stop is None else stop
    while start < stop and text[start] in b"\r\n":
        start += 1
    while stop > start and text[stop - 1] in b"\r\n":
        stop -= 1
    length = stop - start
    if not length:
        return b""
    first = text.find(b"\n", start, stop)
    if first < 0:
        width, sep, lines = length, 1, 1
    else:
        sep = 2 if text[first - 1] == 0x0D else 1
        width = first - start - (sep - 1)
        if width <= 0:
            return None
        lines = -(-(length + sep) // (width + sep))
        # The last line must start where fixed widths put it (a cheap probe at one
        # offset): an inserted character that shifts lines cannot balance the count.
        last_eol = start + (lines - 1) * (width + sep) - 1
        if (
            last_eol >= stop
            or text[last_eol] != 0x0A
            or text.find(b"\n", last_eol + 1, stop) >= 0
        ):
            return None
    chars = length - (lines - 1) * sep
    pad = 2 if text[stop - 2 : stop] == b"==" else 1 if text[stop - 1] == 0x3D else 0
    if chars % 4:
        return None
    try:
        decoded = pybase64.b64decode(memoryview(text)[start:stop], validate=False)
    except (binascii.Error, ValueError):
        return None
    if len(decoded) != chars // 4 * 3 - pad:
        return None
    return decoded
