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

Left out: ``email.generator.BytesGenerator(...).flatten(msg)`` called directly (as
``smtplib.send_message`` does) cannot be intercepted from the message side; it walks
the body at the generator's speed and produces the same bytes.

This module imports ``email`` at import time: import it lazily (CLI start-up).
"""

from __future__ import annotations

import copy
from email.message import EmailMessage, Message
from email.policy import Policy as EmailPolicy
from typing import Any, Final

from .bodybytes import ByteBodyMessage, body_bytes, set_body_bytes

__all__ = ["SealedMessage", "attach_prebuilt", "split_at_last_body"]

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


def _prebuilt(part: Message) -> bytes | bytearray | None:
    body: bytes | bytearray | None = part.__dict__.get(_ATTR)
    view = body_bytes(part)
    if body is None or view is None or view.obj is not body:
        return None  # replaced since: the payload no longer matches the bytes
    return body


def _skeleton(msg: Message, bodies: list[bytes | bytearray]) -> Message:
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


def _splice(
    skeleton: bytes, bodies: list[bytes | bytearray], eol: bytes
) -> bytes | None:
    pieces: list[bytes | bytearray] = []
    rest = skeleton
    for index, body in enumerate(bodies):
        marker = f"{_MARK}{index}".encode("ascii") + eol
        if rest.count(marker) != 1:
            return None
        head, rest = rest.split(marker)
        pieces.append(head)
        pieces.append(body if eol == b"\n" else body.replace(b"\n", eol))
    pieces.append(rest)
    return b"".join(pieces)


def split_at_last_body(msg: Message, policy: EmailPolicy) -> tuple[bytes, bytes]:
    """``msg`` flattened with ``policy``, cut where its last pre-built body goes:
    (everything before it, other bodies written in; everything after it). For
    writing that body as a stream (mime/stream.py).

    Raises:
        ValueError: ``msg`` has no pre-built body, or the cut is not unique.
    """
    bodies: list[bytes | bytearray] = []
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
        bodies: list[bytes | bytearray] = []
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
