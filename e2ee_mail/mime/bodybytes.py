"""Leaf parts whose body is held as bytes and decoded to the payload string only when
something reads it.

An encrypted mail body can be tens of MB of base64 or armor. The ``email`` package
keeps a leaf body as a ``str``; building that string costs a full copy (and its page
faults) that the library never needs when it only flattens a message it built
(mime/sealed.py) or reads the encrypted part of a message it parsed (mime/wire.py
``keep_raw``). :class:`ByteBodyMessage` keeps ``(data, start, stop)`` instead (or a
body that renders itself, :class:`RenderedBody`: mime/sealed.py's encrypted blob,
encoded only when written) and turns it into the string the first time the ``email``
package (or the caller) reads the payload, so every ``EmailMessage`` behaviour is
unchanged: the string is the one the parser or ``set_payload`` would have stored.

How: ``email.message.Message`` keeps its payload in the ``_payload`` attribute and
reads and writes it directly. :class:`ByteBodyMessage` makes ``_payload`` a property;
setting it (``set_payload``, ``attach``, ``clear_content`` ...) drops the bytes, so
:func:`body_bytes` never returns bytes that no longer match the payload.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from email.message import EmailMessage, Message
from email.policy import EmailPolicy
from typing import Any, Final, Protocol

__all__ = [
    "ByteBodyMessage",
    "ParsedFieldPolicy",
    "RenderedBody",
    "body_bytes",
    "body_render",
    "body_span",
    "held_lf",
    "set_body_bytes",
    "set_body_render",
]

_VALUE: Final = "_e2ee_payload"
#: (data, start, stop, errors, lf): the payload is str(data[start:stop], "ascii",
#: errors), with its CRLF line ends made LF when lf is true.
_BODY: Final = "_e2ee_body"
#: A RenderedBody: the payload is its text(), made when first read.
_RENDER: Final = "_e2ee_render"


class RenderedBody(Protocol):
    """A body that writes itself (an encoder of binary data it keeps)."""

    def pieces(self, eol: bytes) -> Iterator[bytes | bytearray | memoryview]:
        """The body's text in order, every line ending in ``eol``."""
        ...

    def text(self) -> bytes:
        """The whole text with LF line ends (the payload string's octets)."""
        ...


class ByteBodyMessage(EmailMessage):
    """An EmailMessage whose leaf body may be held as ASCII bytes until read."""

    @property
    def _payload(self) -> Any:
        state = self.__dict__
        try:
            return state[_VALUE]
        except KeyError:
            pass
        body = state.get(_BODY)
        value = None
        render: RenderedBody | None = state.get(_RENDER)
        if render is not None:
            value = render.text().decode("ascii")
        elif body is not None:
            value = _decode(*body[:4])
            if body[4]:
                value = value.replace("\r\n", "\n")
        state[_VALUE] = value
        return value

    @_payload.setter
    def _payload(self, value: Any) -> None:
        self.__dict__[_VALUE] = value
        self.__dict__.pop(_BODY, None)
        self.__dict__.pop(_RENDER, None)

    def is_multipart(self) -> bool:
        """As ``EmailMessage.is_multipart``, without decoding a held body."""
        if _BODY in self.__dict__ or _RENDER in self.__dict__:
            return False
        return super().is_multipart()

    def get_payload(self, i: Any = None, decode: bool = False) -> Any:
        """As ``Message.get_payload``; a held base64 body is decoded straight from
        its bytes (``get_content()`` of an attachment: no payload string, and
        pybase64 rather than binascii) when it has the regular line shape
        an encoder writes. Any other shape goes the ``email`` package's way, which
        also records its defects."""
        body = self.__dict__.get(_BODY)
        if decode and i is None and body is not None:
            # Exactly the test Message.get_payload makes (no strip).
            cte = str(self.get("content-transfer-encoding", "")).lower()
            if cte == "base64":
                from ..core import b64

                data, start, stop, _, _ = body
                decoded = b64.decode_lines(data, start, stop)
                if decoded is not None:
                    return decoded
        # The stubs' overloads only take literal arguments.
        return super().get_payload(i, decode)  # type: ignore[call-overload]


def _decode(data: bytes | bytearray, start: int, stop: int, errors: str) -> str:
    with memoryview(data) as view:
        return str(view[start:stop], "ascii", errors)


def set_body_bytes(
    part: ByteBodyMessage,
    data: bytes | bytearray,
    start: int = 0,
    stop: int | None = None,
    *,
    errors: str = "strict",
) -> None:
    """Make ``data[start:stop]`` the body of ``part`` (the payload becomes its ASCII
    decoding with ``errors`` when read). ``data`` is kept, not copied: the caller must
    not change it afterwards."""
    state = part.__dict__
    state.pop(_VALUE, None)
    state.pop(_RENDER, None)
    state[_BODY] = (data, start, len(data) if stop is None else stop, errors, False)


def set_body_render(part: ByteBodyMessage, render: RenderedBody) -> None:
    """Make ``render``'s text the body of ``part``, rendered only when the payload
    is read (mime/sealed.py writes ``render.pieces`` straight into its output)."""
    state = part.__dict__
    state.pop(_VALUE, None)
    state.pop(_BODY, None)
    state[_RENDER] = render


def body_render(part: Message) -> RenderedBody | None:
    """The RenderedBody given to :func:`set_body_render` for ``part``, or None when
    there is none or the payload was set since."""
    render: RenderedBody | None = part.__dict__.get(_RENDER)
    return render


def held_lf(part: Message) -> bool:
    """When ``part`` holds its body as bytes, have the payload string read from them
    with LF line ends (CRLF made LF) and return True; :func:`body_bytes` still gives
    the bytes as they are. False when the payload is a string already."""
    body = part.__dict__.get(_BODY)
    if body is None or _VALUE in part.__dict__:
        return False
    part.__dict__[_BODY] = (*body[:4], True)
    return True


def body_span(part: Message) -> tuple[bytes | bytearray, int, int] | None:
    """``(data, start, stop)`` given to :func:`set_body_bytes` for ``part`` (for
    reading the body in place with offsets), or None as for :func:`body_bytes`."""
    body = part.__dict__.get(_BODY)
    if body is None:
        return None
    data, start, stop, _, _ = body
    return data, start, stop


def body_bytes(part: Message) -> memoryview | None:
    """The bytes given to :func:`set_body_bytes` for ``part``, or None when there are
    none or the payload was set since."""
    body = part.__dict__.get(_BODY)
    if body is None:
        return None
    data, start, stop, _, _ = body
    return memoryview(data)[start:stop]


class ParsedFieldPolicy(EmailPolicy):
    """``email.policy.default`` that parses a raw header field value once.

    The ``email`` package keeps parsed header fields as their raw text and parses
    the text again on every access: opening a small mail read Content-Type 16 times
    (per-message overhead). The parsed header objects are immutable, so
    the same text gives the same object from a small cache; the raw text stays in
    the message, so writing it out is unchanged.
    """

    def header_fetch_parse(self, name: str, value: Any) -> Any:
        """As ``EmailPolicy.header_fetch_parse``, through the cache."""
        if hasattr(value, "name") or not isinstance(value, str) or len(value) > 4096:
            return super().header_fetch_parse(name, value)
        return _fetch(self, name, value)


@functools.lru_cache(maxsize=256)
def _fetch(policy: EmailPolicy, name: str, value: str) -> Any:
    return EmailPolicy.header_fetch_parse(policy, name, value)
