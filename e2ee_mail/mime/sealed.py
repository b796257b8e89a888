"""An ``EmailMessage`` that writes its large encoded bodies without the generator.

The encrypted body of an S/MIME or PGP/MIME message is built by hand (base64 lines,
RFC 2045 §6.8; ASCII armor, RFC 9580 §6.2), and the ``email`` generator would walk it
line by line, an order of magnitude slower than encrypting it. :func:`attach_prebuilt`
keeps those bytes as the part's body (decoded to the payload string only if something
reads it, mime/bodybytes.py), and :class:`SealedMessage` copies them in whole when it
is flattened by ``as_bytes()``, ``bytes(msg)``, ``as_string()`` and ``str(msg)``. The
header fields and the multipart skeleton still go through ``email`` with the caller's
policy, and the output is byte for byte what the generator writes: a body marker in
the flattened skeleton is replaced, once, by the body. A part whose payload was set
after the fact, or a marker that does not occur exactly once, is left to the
generator.

:func:`attach_rendered` goes one step further: the part keeps the binary blob
(:class:`Base64Body`, the CMS message or the OpenPGP message), and flattening encodes
it batch by batch, with the policy's line ends, straight into the output, which is
allocated once at its final size. The encoded text never exists on its own; the
payload string is made from the blob only if something reads it.

Left out: ``email.generator.BytesGenerator(...).flatten(msg)`` called directly (as
``smtplib.send_message`` does) cannot be intercepted from the message side; it walks
the body at the generator's speed and produces the same bytes.

This module imports ``email`` at import time: import it lazily (CLI start-up).
"""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from email.message import EmailMessage, Message
from email.policy import Policy as EmailPolicy
from typing import Any, Final

from ..core import b64
from ..core.aead import Buffer
from .bodybytes import (
    ByteBodyMessage,
    body_bytes,
    body_render,
    set_body_bytes,
    set_body_render,
)

__all__ = [
    "Base64Body",
    "SealedMessage",
    "attach_prebuilt",
    "attach_rendered",
    "split_at_last_body",
]

_ATTR: Final = "_e2ee_prebuilt"
#: One line that cannot occur in a flattened header block or a base64/armor body
#: (the NUL-free ASCII "\x7f" is not in either alphabet; header fields with it
#: would be folded or encoded). Uniqueness is checked on every splice anyway.
_MARK: Final = "\x7fe2ee-mail-prebuilt-body-"


def attach_prebuilt(part: ByteBodyMessage, body: bytes | bytearray) -> None:
    """Make ``body`` (ASCII, LF line ends, ending in LF) the payload of ``part`` and
    keep the bytes for :class:`SealedMessage` to splice in. ``body`` is kept, not
    copied, and decoded to the payload string only if something reads it
    (mime/bodybytes.py).

    Raises:
        ValueError: ``body`` is not of that shape (a programming error).
    """
    if (body and not body.endswith(b"\n")) or b"\r" in body or not body.isascii():
        raise ValueError(
            "a pre-built body must be ASCII with LF line ends, ending in one"
        )
    if not body:  # an empty body is written as nothing by the generator itself
        part.set_payload("")
        return
    set_body_bytes(part, body)
    part.__dict__[_ATTR] = body


class Base64Body:
    """Base64 of ``blob`` in ``width``-column lines, between ``head`` and ``tail``
    (LF text: an armor's header and tail lines), encoded only when written or read.

    Encoding while writing the flattened message puts each batch of lines, made in
    a small buffer with the output's own line ends, straight into the output: the
    text never exists on its own, in LF form or in CRLF form (16 MiB of mail: two
    fresh 30 MB buffers, each costing about what encoding them does).
    """

    __slots__ = ("blob", "head", "tail", "width")

    def __init__(
        self,
        blob: bytes | bytearray,
        *,
        width: int,
        head: bytes = b"",
        tail: bytes = b"",
    ) -> None:
        self.blob = blob
        self.width = width
        self.head = head
        self.tail = tail

    def pieces(self, eol: bytes) -> Iterator[bytes | bytearray | memoryview]:
        """The text in order, every line ending in ``eol``."""
        if self.head:
            yield self.head.replace(b"\n", eol)
        if eol != b"\n" and len(self.blob) >= b64.BATCH_LINES * self.width // 4 * 3:
            # Lines laid out with their CRLF by the line encoder's views: 10-20%
            # less than 76-column LF text from pybase64 converted after.
            yield from b64.line_encoder(self.width, eol).encode(self.blob)
        else:
            yield from b64.iter_encoded_lines(self.blob, width=self.width, eol=eol)
        if self.tail:
            yield self.tail.replace(b"\n", eol)

    def text(self) -> bytes:
        """The whole text with LF line ends."""
        return b"".join(self.pieces(b"\n"))

    def size(self, eol: bytes) -> int:
        """The length of the text with ``eol`` line ends."""
        chars = -(-len(self.blob) // 3) * 4
        lines = -(-chars // self.width)
        ends = (self.head.count(b"\n") + self.tail.count(b"\n")) * (len(eol) - 1)
        return len(self.head) + len(self.tail) + ends + chars + lines * len(eol)


def attach_rendered(part: ByteBodyMessage, body: Base64Body) -> None:
    """Make ``body``'s text the payload of ``part``, written by
    :class:`SealedMessage` straight into its output (made into the payload string
    only if something reads it). ``body`` is kept, not copied."""
    set_body_render(part, body)
    part.__dict__[_ATTR] = body


_Body = bytes | bytearray | Base64Body


def _prebuilt(part: Message) -> _Body | None:
    body: _Body | None = part.__dict__.get(_ATTR)
    if body is None:
        return None
    if isinstance(body, Base64Body):
        # Replaced since (set_payload ...): the payload no longer matches.
        return body if body_render(part) is body else None
    view = body_bytes(part)
    if view is None or view.obj is not body:
        return None  # replaced since: the payload no longer matches the bytes
    return body


def _skeleton(msg: Message, bodies: list[_Body]) -> Message:
    """``msg`` with each pre-built body replaced by a one-line marker (shallow
    copies; ``msg`` itself is left alone)."""
    body = _prebuilt(msg)
    if body is not None:
        clone = copy.copy(msg)
        clone._payload = f"{_MARK}{len(bodies)}\n"  # type: ignore[attr-defined]
        bodies.append(body)
        return clone
    payload = msg._payload  # type: ignore[attr-defined]
    if isinstance(payload, list):
        parts = [_skeleton(part, bodies) for part in payload]
        if any(new is not old for new, old in zip(parts, payload, strict=True)):
            clone = copy.copy(msg)
            clone._payload = parts  # type: ignore[attr-defined]
            return clone
    return msg


#: LF text converted to other line ends this much at a time: slices that stay in
#: cache, written into the output, rather than one converted copy of the body.
_SLICE: Final = 1 << 20


def _body_pieces(body: _Body, eol: bytes) -> tuple[int, Iterator[Buffer]]:
    """(length, pieces) of ``body`` written with ``eol`` line ends."""
    if isinstance(body, Base64Body):
        return body.size(eol), body.pieces(eol)
    if eol == b"\n":
        return len(body), iter((body,))
    slices = [
        body[start : start + _SLICE].replace(b"\n", eol)
        for start in range(0, len(body), _SLICE)
    ]
    return sum(map(len, slices)), iter(slices)


def _splice(skeleton: bytes, bodies: list[_Body], eol: bytes) -> bytes | None:
    """``skeleton`` with each body written in place of its marker, or None when a
    marker does not occur exactly once.

    Written into one buffer of the final size (a BytesIO that ``getvalue`` hands
    over without a copy): a buffer grown piece by piece is moved by ``realloc``
    at each step once the allocator serves large blocks from its heap, which
    copied a 30 MB mail about eight times over.
    """
    pieces: list[memoryview | Iterator[Buffer]] = []
    total = 0
    pos = 0
    view = memoryview(skeleton)
    for index, body in enumerate(bodies):
        marker = f"{_MARK}{index}".encode("ascii") + eol
        at = skeleton.find(marker, pos)
        if at < 0 or skeleton.find(marker, at + 1) >= 0:
            return None
        size, body_pieces = _body_pieces(body, eol)
        pieces += [view[pos:at], body_pieces]
        total += at - pos + size
        pos = at + len(marker)
    pieces.append(view[pos:])
    total += len(skeleton) - pos
    out = io.BytesIO()
    if total:
        # Sized once: a write past the end allocates exactly up to it.
        out.seek(total - 1)
        out.write(b"\0")
        out.seek(0)
    for piece in pieces:
        if isinstance(piece, memoryview):
            out.write(piece)
        else:
            for part in piece:
                out.write(part)
    if out.tell() != total:  # never: the sizes are exact; the generator decides
        return None
    return out.getvalue()


def split_at_last_body(msg: Message, policy: EmailPolicy) -> tuple[bytes, bytes]:
    """``msg`` flattened with ``policy``, cut where its last pre-built body goes:
    (everything before it, other bodies written in; everything after it). For
    writing that body as a stream (mime/stream.py).

    Raises:
        ValueError: ``msg`` has no pre-built body, or the cut is not unique.
    """
    bodies: list[_Body] = []
    skeleton = _skeleton(msg, bodies)
    if not bodies:
        raise ValueError("the message has no pre-built body")
    flat = EmailMessage.as_bytes(skeleton, False, policy)
    eol = policy.linesep.encode("ascii")
    marker = f"{_MARK}{len(bodies) - 1}".encode("ascii") + eol
    if flat.count(marker) != 1:
        raise ValueError("the body marker is not unique")
    before, after = flat.split(marker)
    spliced = _splice(before, bodies[:-1], eol)
    if spliced is None:
        raise ValueError("a body marker is not unique")
    return spliced, after


class SealedMessage(ByteBodyMessage):
    """An EmailMessage whose pre-built bodies are copied, not re-walked, on output.

    It behaves as an ordinary EmailMessage in every other way (header access,
    ``get_payload``, ``walk``, the generator).
    """

    def _flatten(
        self, *, unixfrom: bool, policy: EmailPolicy, as_text: bool, maxlen: Any
    ) -> bytes | None:
        bodies: list[_Body] = []
        skeleton = _skeleton(self, bodies)
        assert isinstance(skeleton, EmailMessage)  # a copy of self: same class
        if not bodies:
            return None
        if as_text:
            text = EmailMessage.as_string(skeleton, unixfrom, maxlen, policy)
            if not text.isascii():
                return None  # utf8 header fields: leave str output to the generator
            flat = text.encode("ascii")
        else:
            flat = EmailMessage.as_bytes(skeleton, unixfrom, policy)
        return _splice(flat, bodies, policy.linesep.encode("ascii"))

    def as_bytes(self, unixfrom: bool = False, policy: Any = None) -> bytes:
        """As ``EmailMessage.as_bytes``, with pre-built bodies copied in whole."""
        chosen = self.policy if policy is None else policy
        out = self._flatten(
            unixfrom=unixfrom, policy=chosen, as_text=False, maxlen=None
        )
        return super().as_bytes(unixfrom, policy) if out is None else out

    def as_string(
        self, unixfrom: bool = False, maxheaderlen: Any = None, policy: Any = None
    ) -> str:
        """As ``EmailMessage.as_string``, with pre-built bodies copied in whole."""
        chosen = self.policy if policy is None else policy
        out = self._flatten(
            unixfrom=unixfrom, policy=chosen, as_text=True, maxlen=maxheaderlen
        )
        if out is None:
            return super().as_string(unixfrom, maxheaderlen, policy)
        return out.decode("ascii")
