"""Readers and writers for mail streamed through the encryption layers
(mime/stream.py): bounded header blocks, line-end canonicalization, base64 lines, and
the body of one part of a multipart.

Memory stays bounded: every buffer holds at most one refill (``_CHUNK``) plus a few
bytes of look-ahead, whatever the size of the mail. Header blocks larger than the
policy's ``max_mail_header_bytes`` are refused (hostile input must not make us buffer
a body); :func:`check_header_block` and :func:`check_message_header` hold mail given
as bytes or as a message to the same limit.
"""

from __future__ import annotations

import binascii
from typing import TYPE_CHECKING, BinaryIO, Final

import pybase64

from .._io import PullReader
from ..errors import MIMEError
from ..policy import DEFAULT_MAX_MAIL_HEADER_BYTES
from .wire import crlf_lines

if TYPE_CHECKING:
    from email.message import Message

__all__ = [
    "MAX_HEADER_BLOCK",
    "Base64LineWriter",
    "Base64Reader",
    "CanonicalReader",
    "LineEndWriter",
    "PartReader",
    "check_header_block",
    "check_message_header",
    "header_end",
    "read_header_block",
]

#: Header blocks (of the mail, of a part, of the decrypted entity) are read whole, up
#: to the policy's max_mail_header_bytes; this is its default.
MAX_HEADER_BLOCK: Final = DEFAULT_MAX_MAIL_HEADER_BYTES
_CHUNK: Final = 1 << 20
#: Input octets per base64 batch: whole 76-column lines (57 octets each).
_B64_BATCH: Final = 57 * 16384
_WHITESPACE: Final = b" \t\r\n"
_HEAD_WINDOW: Final = 1 << 16


def header_end(data: bytes | bytearray, search_from: int) -> int:
    """Offset just past the empty line that ends the header block ``data`` starts
    with, looking for it from ``search_from``; -1 when it has not arrived yet."""
    if data.startswith((b"\r\n", b"\n")):
        return 2 if data[0] == 0x0D else 1
    ends = [
        at + len(sep)
        for sep in (b"\n\r\n", b"\n\n")
        if (at := data.find(sep, search_from)) >= 0
    ]
    return min(ends) if ends else -1


def _too_long(limit: int) -> MIMEError:
    return MIMEError(
        f"the header block is longer than {limit} octets (Policy.max_mail_header_bytes)"
    )


def check_header_block(data: bytes | bytearray, limit: int) -> None:
    """Refuse ``data`` (a mail or entity) whose header block, the empty line
    included, is longer than ``limit`` octets: what :func:`read_header_block`
    refuses, for data given whole. Reads at most ``limit + 1`` octets.

    Raises:
        MIMEError: the header block is too long.
    """
    stop = min(len(data), limit + 1)
    end = -1
    if data.startswith((b"\r\n", b"\n")):
        end = 2 if data[0] == 0x0D else 1
    else:
        # In place (a slice of a decrypted 16 MiB entity cost a 1 MiB copy), and
        # first within the 64 KiB where header blocks end: an entity in CRLF form
        # has no "\n\n", and looking for it would read the whole window.
        for bound in (min(stop, _HEAD_WINDOW), stop):
            ends = [
                at + len(sep)
                for sep in (b"\n\r\n", b"\n\n")
                if (at := data.find(sep, 0, bound)) >= 0
            ]
            if ends or bound == stop:
                end = min(ends, default=-1)
                break
    if end > limit or (end < 0 and len(data) > limit):
        raise _too_long(limit)


def check_message_header(msg: Message, limit: int) -> None:
    """Refuse a message object whose header block would be longer than ``limit``
    octets (each field counted as "name: value" and CRLF, as read or written
    unfolded; the empty line after them included).

    Raises:
        MIMEError: the header block is too long.
    """
    size = 2 + sum(len(name) + len(str(value)) + 4 for name, value in msg.raw_items())
    if size > limit:
        raise _too_long(limit)


def read_header_block(
    src: BinaryIO, prefix: bytes = b"", *, limit: int = MAX_HEADER_BLOCK
) -> tuple[bytes, bytes]:
    """(the header block with its empty line, the body octets read after it).

    A stream that ends inside the header block is all header block, no body.

    Raises:
        MIMEError: the header block is longer than ``limit`` octets.
    """
    data = bytearray(prefix)
    search_from = 0
    while True:
        end = header_end(data, search_from)
        if end >= 0:
            if end > limit:
                raise _too_long(limit)
            return bytes(data[:end]), bytes(data[end:])
        if len(data) > limit:
            raise _too_long(limit)
        search_from = max(0, len(data) - 2)  # an empty line may straddle two reads
        chunk = src.read(64 * 1024)
        if not chunk:
            return bytes(data), b""
        data += chunk


class _Reader(PullReader):
    """A read-only binary stream over ``_next()``'s pieces (empty at the end)."""

    def _next(self) -> bytes:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def _fill(self, size: int) -> None:
        while not self._done and len(self._buf) < size:
            piece = self._next()
            if not piece:
                self._done = True
            self._buf += piece


class CanonicalReader(_Reader):
    """``head`` and then ``body`` + the rest of ``src`` with every line end made
    CRLF (as mime/wire.py writes a body: CRLF, a bare CR and a bare LF each end
    one line; RFC 5322 §2.1, RFC 8551 §3.1.1)."""

    def __init__(self, head: bytes, body: bytes, src: BinaryIO) -> None:
        super().__init__()
        self._buf += head
        self._pending = body
        self._src = src
        self._cr = False  # the previous piece ended in a CR

    def _next(self) -> bytes:
        if self._pending:
            piece, self._pending = self._pending, b""
        else:
            piece = self._src.read(_CHUNK)
        if not piece:
            if self._cr:
                self._cr = False
                return b"\r\n"
            return b""
        if self._cr:
            piece = b"\r" + piece
        self._cr = piece.endswith(b"\r")
        if self._cr:
            piece = piece[:-1]
            if not piece:
                return self._next()
        return crlf_lines(piece)


class Base64Reader(_Reader):
    """The octets of the base64 text in ``body`` + the rest of ``src``; white space
    is skipped, anything else outside the alphabet is damage (MIMEError).

    Text is taken a block of whole lines at a time. Lines of one width (what every
    encoder writes) decode in one pass (core/b64.decode_lines, which checks the
    shape); other text is stripped of white space and decoded strictly, with the
    characters of an unfinished group carried to the next block.
    """

    def __init__(self, body: bytes, src: BinaryIO) -> None:
        super().__init__()
        self._pending = body
        self._src = src
        self._tail = b""  # the unfinished last line of the previous block
        self._carry = b""  # strict path: characters of an unfinished group
        self._ended = False  # padding seen: only white space may follow

    def _next(self) -> bytes:
        while True:
            if self._pending:
                text, self._pending = self._pending, b""
            else:
                text = self._src.read(_CHUNK)
            if not text:
                text, self._tail = self._tail, b""
                if not text:
                    if self._carry:
                        raise MIMEError("the base64 body ends inside a group")
                    return b""
            else:
                text = self._tail + text
                cut = text.rfind(b"\n") + 1
                if cut > 0 and len(text) - cut < _CHUNK:
                    text, self._tail = text[:cut], text[cut:]
                else:
                    self._tail = b""
            decoded = self._decode(text)
            if decoded:
                return decoded

    def _decode(self, text: bytes) -> bytes:
        if self._ended:
            if text.translate(None, _WHITESPACE):
                raise MIMEError("bad base64 in the mail body: text after the padding")
            return b""
        if not self._carry:
            from ..core import b64

            decoded = b64.decode_lines(text)
            if decoded is not None:
                self._ended = text.rstrip(_WHITESPACE).endswith(b"=")
                return decoded
        text = self._carry + text.translate(None, _WHITESPACE)
        whole = len(text) - len(text) % 4
        self._carry = text[whole:]
        group = text[:whole]
        self._ended = group.endswith(b"=")
        try:
            return pybase64.b64decode(group, validate=True)
        except (binascii.Error, ValueError):
            raise MIMEError("bad base64 in the mail body: it is damaged") from None


class PartReader(_Reader):
    """The body of one part of a multipart: ``body`` + the rest of ``src`` up to the
    line end before the next delimiter line (RFC 2046 §5.1.1: "--" boundary, then
    optional white space, at the start of a line). Afterwards :attr:`closing` tells
    whether it was the close delimiter ("--" boundary "--"), and :attr:`rest` holds
    the octets read after the delimiter line."""

    def __init__(self, body: bytes, src: BinaryIO, boundary: bytes) -> None:
        super().__init__()
        # The line end before a delimiter belongs to it: a part whose body is empty
        # has its delimiter right after the header block's empty line.
        self._pending = bytearray(b"\n" + body)
        self._skip = 1  # that added line end is not body
        self._src = src
        self._delimiter = b"\n--" + boundary
        self.closing: bool | None = None
        self.rest = b""

    def _emit(self, end: int) -> bytes:
        piece = bytes(self._pending[self._skip : max(end, self._skip)])
        del self._pending[: max(end, self._skip)]
        self._skip = 0
        return piece

    def _next(self) -> bytes:
        if self.closing is not None:
            return b""
        start = 0
        while True:
            at = self._pending.find(self._delimiter, start)
            if at < 0:
                keep = len(self._delimiter) + 1  # a split delimiter, its CR
                if len(self._pending) - keep > self._skip:
                    return self._emit(len(self._pending) - keep)
                if not self._more():
                    raise MIMEError("the multipart body has no close delimiter")
                continue
            after = at + len(self._delimiter)
            eol = self._pending.find(b"\n", after)
            if eol < 0 and len(self._pending) - after < 1024 and self._more():
                continue  # the rest of the delimiter line is still to come
            line = bytes(self._pending[after : len(self._pending) if eol < 0 else eol])
            closing = line.startswith(b"--")
            if (line[2:] if closing else line).strip(b" \t\r"):
                start = at + 1  # "--boundary" followed by text: not a delimiter
                continue
            end = at - 1 if at and self._pending[at - 1] == 0x0D else at
            self.closing = closing
            self.rest = b"" if eol < 0 else bytes(self._pending[eol + 1 :])
            piece = self._emit(end)
            self._pending.clear()
            return piece

    def _more(self) -> bool:
        chunk = self._src.read(_CHUNK)
        self._pending += chunk
        return bool(chunk)


class LineEndWriter:
    """Writes to ``dst`` with every LF made CRLF (for LF-only text, e.g. armor)."""

    def __init__(self, dst: BinaryIO) -> None:
        self._dst = dst

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self._dst.write(bytes(data).replace(b"\n", b"\r\n"))
        return len(data)

    def flush(self) -> None:
        self._dst.flush()


class Base64LineWriter:
    """Writes the base64 of what it is given to ``dst`` in 76-column lines (RFC 2045
    §6.8) ending in ``eol`` (CRLF unless told), in batches of whole lines;
    :meth:`close` writes the rest."""

    def __init__(self, dst: BinaryIO, eol: bytes = b"\r\n") -> None:
        self._dst = dst
        self._buf = bytearray()
        self._eol = eol

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self._buf += data
        if len(self._buf) >= _B64_BATCH:
            whole = len(self._buf) - len(self._buf) % _B64_BATCH
            with memoryview(self._buf) as view, view[:whole] as batch:
                self._emit(batch)
            del self._buf[:whole]
        return len(data)

    def _emit(self, data: bytes | memoryview) -> None:
        # pybase64.encodebytes writes 76-column LF lines in one C call.
        lines = pybase64.encodebytes(data)
        self._dst.write(
            lines if self._eol == b"\n" else lines.replace(b"\n", self._eol)
        )

    def flush(self) -> None:
        self._dst.flush()

    def close(self) -> None:
        if self._buf:
            self._emit(bytes(self._buf))
            self._buf.clear()
