"""Fast conversion between EmailMessage and CRLF wire bytes: the ``email`` generator
and parser run at 40-60 MB/s, so mail bodies bypass them.

:func:`to_bytes` produces exactly what ``msg.as_bytes(policy=email.policy.SMTP)``
produces (RFC 5322 §2.1 CRLF line ends; header fields still folded by ``email``), but
writes bodies with a few whole-buffer operations instead of line by line. It handles
the shapes the generator handles plainly: leaf parts whose payload is a string
(text, base64, quoted-printable, 8bit with surrogate escapes) and multiparts with a
boundary set. Anything else (message/* parts, multipart/signed, a missing boundary,
non-string payloads) goes to the generator itself, so the output never differs.

:func:`from_bytes` parses only the header block with ``email`` when the top-level
part is not a multipart or message/* part, and attaches the body as the payload
string, exactly as the parser would store it; otherwise it runs the full parser.
"""

from __future__ import annotations

import functools
import itertools
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from email.message import EmailMessage, Message

    from .bodybytes import ParsedFieldPolicy

__all__ = ["crlf_lines", "from_bytes", "raw_body", "to_bytes", "to_pieces"]

_CRLF: Final = b"\r\n"
_HEAD_WINDOW: Final = 1 << 16


def _lines(text: str) -> bytes:
    """``text`` as ASCII/surrogate-escaped bytes with every line end made CRLF
    (the generator's _write_lines: \\r\\n, \\r and \\n all end a line)."""
    return crlf_lines(text.encode("ascii", "surrogateescape"))


def crlf_lines(raw: bytes) -> bytes:
    """``raw`` with every line end (CRLF, a bare CR, a bare LF) made CRLF."""
    if b"\r" not in raw:  # a memchr, not three counting passes over the body
        return raw.replace(b"\n", _CRLF)
    if raw.count(_CRLF) == raw.count(b"\n") == raw.count(b"\r"):
        return raw  # already canonical: counting is cheaper than three replaces
    raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return raw.replace(b"\n", _CRLF)


#: Text bodies from this size on are converted a slice at a time (see to_bytes).
_SLICE: Final = 1 << 20


def _text_piece(text: str) -> bytes | str:
    """``_lines(text)``, or ``text`` itself when it is large and holds no CR: then
    :func:`to_bytes` converts it a slice at a time into its output, rather than
    through two converted copies of the whole."""
    # str.isascii reads a flag: no scan.
    if len(text) >= _SLICE and text.isascii() and "\r" not in text:
        return text
    return _lines(text)


def _fast(msg: Message, out: list[bytes | str]) -> bool:
    """Append ``msg`` to ``out`` (bytes as they are written; str: a large LF text
    body still to be made CRLF); False when the generator must do it instead."""
    from email import policy

    smtp = policy.SMTP
    # Each get_content_* call parses the Content-Type field again: once here.
    ctype = msg.get_content_type()
    if ctype.startswith("message/") or ctype == "multipart/signed":
        return False
    head: list[bytes | str] = [
        smtp.fold_binary(name, value) for name, value in msg.raw_items()
    ]
    head.append(_CRLF)
    body: list[bytes | str] = []
    payload = getattr(msg, "_payload", None)
    if msg.is_multipart():
        boundary = msg.get_boundary()
        if not boundary or not isinstance(payload, list):
            return False
        delimiter = b"--" + boundary.encode("ascii", "surrogateescape")
        if msg.preamble is not None:
            body += [_lines(msg.preamble), _CRLF]
        body += [delimiter, _CRLF]
        for index, part in enumerate(payload):
            if index:
                body += [_CRLF, delimiter, _CRLF]
            if not _fast(part, body):
                return False
        body += [_CRLF, delimiter, b"--", _CRLF]
        if msg.epilogue is not None:
            body.append(_lines(msg.epilogue))
    elif payload is not None:
        if not isinstance(payload, str):
            return False
        try:
            body.append(_text_piece(payload))
        except UnicodeEncodeError:
            return False
    out += head
    out += body
    return True


def to_bytes(msg: EmailMessage) -> bytes:
    """``msg.as_bytes(policy=email.policy.SMTP)``, faster for large bodies."""
    return b"".join(to_pieces(msg))


def to_pieces(msg: EmailMessage) -> list[bytes]:
    """:func:`to_bytes` as pieces to be joined (or encrypted one after the other).

    A large text body is made CRLF a slice at a time (cache-sized pieces), not
    through an encoded copy and a converted copy of the whole: a 16 MiB attachment
    is 22 MB of base64 text, and each fresh copy of it costs about as much as
    encrypting it.
    """
    out: list[bytes | str] = []
    if not _fast(msg, out):
        from email import policy

        return [msg.as_bytes(policy=policy.SMTP)]
    pieces: list[bytes] = []
    for piece in out:
        if isinstance(piece, bytes):
            pieces.append(piece)
            continue
        pieces += [
            piece[start : start + _SLICE].encode("ascii").replace(b"\n", _CRLF)
            for start in range(0, len(piece), _SLICE)
        ]
    return pieces


def _header_end(data: bytes | bytearray, start: int, stop: int) -> int:
    """Offset of the first body byte of ``data[start:stop]`` (after the first empty
    line), or -1 when the parser should decide (no empty line, or bare CR line ends
    in the header block)."""
    if data.startswith(b"\r\n", start, stop):
        return start + 2
    if data.startswith(b"\n", start, stop):
        return start + 1
    # The first empty line: a line end right after a "\n" line end. Header blocks
    # are small: look in the first 64 KiB before scanning a large body (a base64
    # body has neither pattern, so a whole-data find would read all of it twice).
    candidates = []
    for limit in (min(start + _HEAD_WINDOW, stop), stop):
        lf_lf = data.find(b"\n\n", start, limit)
        if lf_lf >= 0:
            candidates.append((lf_lf, lf_lf + 2))
        lf_crlf = data.find(b"\n\r\n", start, limit)
        if lf_crlf >= 0:
            candidates.append((lf_crlf, lf_crlf + 3))
        if candidates or limit >= stop:
            break
    if not candidates:
        return -1
    end = min(candidates)[1]
    if b"\r" in data[start:end].replace(b"\r\n", b""):
        return -1
    return end


_MAX_DEPTH: Final = 8


def _strip_eol(text: str) -> str:
    """Drop one trailing line end (the feed parser's NLCRE_eol)."""
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith(("\r", "\n")):
        return text[:-1]
    return text


def _text(data: bytes | bytearray, start: int, stop: int) -> str:
    """``data[start:stop]`` as the parser stores it, decoded in one copy."""
    with memoryview(data) as view:
        return str(view[start:stop], "ascii", "surrogateescape")


def raw_body(part: Message) -> memoryview | None:
    """The undecoded body bytes of a leaf part parsed by ``from_bytes(...,
    keep_raw=True)``, without re-encoding its payload string; None when unknown or
    when the payload was replaced since."""
    from .bodybytes import body_bytes

    return body_bytes(part)


@functools.cache
def _raw_policy() -> ParsedFieldPolicy:
    """``email.policy.default`` building mime/bodybytes.py messages, each header
    field parsed once (mime/bodybytes.py ParsedFieldPolicy)."""
    from .bodybytes import ByteBodyMessage, ParsedFieldPolicy

    return ParsedFieldPolicy(message_factory=ByteBodyMessage)


def _find_delimiter(body: bytes | bytearray, sep: bytes, start: int, stop: int) -> int:
    """``body.find(sep, start, stop)`` (``sep`` starts with "--"), faster over
    base64 and armor: they hold no "-" (but in an armor's two lines), so a
    ``memchr`` for it lands on the next delimiter, where a substring search reads
    a 16 MiB attachment's 22 MB at a fraction of the speed. After many "-" that
    start no delimiter (text), the substring search takes over."""
    pos = start
    for _ in range(_DASH_PROBES):
        dash = body.find(b"-", pos, stop)
        if dash < 0 or body.startswith(sep, dash, stop):
            return dash
        pos = dash + 1
    return body.find(sep, pos, stop)


#: "-" that start no delimiter, before :func:`_find_delimiter` stops probing
#: (an armor's header and tail lines hold 20).
_DASH_PROBES: Final = 64


def _delimiters(
    body: bytes | bytearray, sep: bytes, start: int, stop: int
) -> list[tuple[int, int, bool]] | None:
    """(line start, line end incl. its line end, is-close) of each delimiter line in
    ``body[start:stop]``, up to the close delimiter; None when there is no close
    delimiter."""
    found = []
    pos = start
    while True:
        at = _find_delimiter(body, sep, pos, stop)
        if at < 0:
            return None
        pos = at + len(sep)
        if at > start and body[at - 1] not in b"\r\n":
            continue
        end = pos
        close = body.startswith(b"--", end, stop)
        if close:
            end += 2
        while end < stop and body[end] in b" \t":
            end += 1
        if body.startswith(b"\r\n", end, stop):
            end += 2
        elif end < stop and body[end] in b"\r\n":
            end += 1
        elif end != stop:
            continue
        found.append((at, end, close))
        if close:
            return found


def _parse(
    data: bytes | bytearray,
    start: int,
    stop: int,
    depth: int,
    strip: bool = False,
    keep_raw: bool = False,
) -> EmailMessage | None:
    """The parser's result for ``data[start:stop]``, built part by part (bodies
    sliced by offset and decoded once); None to fall back. ``strip``: drop one
    trailing line end from a leaf body (the part of a multipart)."""
    from email import policy
    from email.message import EmailMessage
    from email.parser import BytesParser

    end = _header_end(data, start, stop)
    if end < 0:
        return None
    msg = BytesParser(policy=_raw_policy() if keep_raw else policy.default).parsebytes(
        data[start:end], headersonly=True
    )
    assert isinstance(msg, EmailMessage)
    if msg.defects:
        return None
    ctype = msg.get_content_type()  # each get_content_* call parses the field again
    maintype = ctype.partition("/")[0]
    if maintype == "message" or ctype == "multipart/digest":
        return None
    if maintype != "multipart":
        if strip and stop > end:
            if data.startswith(b"\r\n", stop - 2, stop) and stop - 2 >= end:
                stop -= 2
            elif data[stop - 1] in b"\r\n":
                stop -= 1
        if keep_raw:
            # The body stays bytes until read (a message only read to decrypt it
            # never builds its payload string); plain values, so it stays
            # copyable and picklable.
            from .bodybytes import ByteBodyMessage, set_body_bytes

            assert isinstance(msg, ByteBodyMessage)
            set_body_bytes(msg, data, end, stop, errors="surrogateescape")
        else:
            msg.set_payload(_text(data, end, stop))
        return msg
    boundary = msg.get_boundary()
    if depth >= _MAX_DEPTH or not boundary or not boundary.isascii():
        return None
    delimiters = _delimiters(data, b"--" + boundary.encode("ascii"), end, stop)
    if not delimiters or delimiters[0][2]:
        # No close delimiter, or no start delimiter: the parser records a defect.
        return None
    first = delimiters[0][0]
    msg.preamble = _strip_eol(_text(data, end, first)) if first > end else None
    parts: list[Any] = []
    for (_, part_start, _), (part_stop, _, _) in itertools.pairwise(delimiters):
        part = _parse(
            data, part_start, part_stop, depth + 1, strip=True, keep_raw=keep_raw
        )
        if part is None:
            return None
        if part.is_multipart():
            epilogue = part.epilogue
            part.epilogue = None if not epilogue else _strip_eol(epilogue)
        parts.append(part)
    msg.set_payload(parts)
    # Everything after the close delimiter line is the epilogue, as is (the feed
    # parser's leading-newline strip never applies after a close line with a line
    # end, and without one the input ends there).
    msg.epilogue = _text(data, delimiters[-1][1], stop)
    return msg


def from_bytes(data: bytes | bytearray, *, keep_raw: bool = False) -> EmailMessage:
    """Parse ``data`` as ``BytesParser(policy=email.policy.default)`` does, with
    bodies sliced out by hand rather than fed through the line-based parser.

    ``keep_raw``: leaf parts keep their body as bytes (:func:`raw_body`; the payload
    string is decoded from them only when read, and a base64 body is decoded
    straight from them, mime/bodybytes.py), which keeps ``data`` alive as long as
    the message; ``data`` must not change after.

    The ``email`` package's own exceptions propagate; callers wrap them.
    """
    from email import policy
    from email.message import EmailMessage
    from email.parser import BytesParser

    fast = _parse(data, 0, len(data), 0, keep_raw=keep_raw)
    if fast is not None:
        return fast
    parsed = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(parsed, EmailMessage)
    return parsed
