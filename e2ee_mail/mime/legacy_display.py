"""Legacy Display Elements (RFC 9788 §2.1.2, §5.2.2, §5.2.3, §4.5.3).

When a Header Confidentiality Policy obscures or removes a user-facing field
(RFC 9787: Subject, From, To, Cc, Date, Reply-To, Followup-To, Sender and their
Resent- forms), each main body part of the encrypted entity (text/plain or
text/html, not an attachment) starts with an element showing the real values,
marked ``hp-legacy-display="1"``, for clients that decrypt but do not read protected
header fields. :func:`add_legacy_display` puts them in before encryption and
:func:`remove_legacy_display` takes them out after decryption. Nothing inside a
multipart/signed or multipart/encrypted part is touched.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

from .fields import USER_FACING, set_params

if TYPE_CHECKING:
    from email.message import EmailMessage, Message

    from .hcp import HeaderConfidentialityPolicy

__all__ = ["add_legacy_display", "remove_legacy_display"]

_LEGACY_PARAM: Final = "hp-legacy-display"
_LEGACY_CLASS: Final = "header-protection-legacy-display"


def add_legacy_display(
    entity: EmailMessage, msg: EmailMessage, hcp: HeaderConfidentialityPolicy
) -> None:
    """Start each main body part of ``entity`` (the copy of ``msg`` to encrypt)
    with a Legacy Display Element of the user-facing fields of ``msg`` that
    ``hcp`` obscures or removes; nothing when it hides none."""
    shown = _legacy_fields(msg, hcp)
    if not shown:
        return
    for part in _main_body_parts(entity):
        try:
            _add_element(part, shown)
        except (ValueError, TypeError, LookupError):
            # A courtesy for old clients: a part whose text the email
            # package cannot rewrite goes as it is.
            continue


def remove_legacy_display(entity: Message[Any, Any]) -> None:
    """Remove the Legacy Display Element of each main body part of the decrypted
    ``entity`` that is marked as carrying one.

    Raises:
        ValueError, TypeError, LookupError, AttributeError: a part the ``email``
            package cannot rewrite.
    """
    for part in _legacy_display_parts(entity):
        _remove_element(part)


def _legacy_fields(
    msg: EmailMessage, hcp: HeaderConfidentialityPolicy
) -> list[tuple[str, str]]:
    """The user-facing fields the policy obscures or removes, as (name, real value),
    in the original's order: what a Legacy Display Element shows."""
    shown = []
    for name, value in msg.items():
        if name.lower() in USER_FACING:
            text = str(value)
            if hcp(name, text) != text:
                shown.append((name, text))
    return shown


def _main_body_parts(entity: Message[Any, Any]) -> Iterator[Message[Any, Any]]:
    """RFC 9787's main body parts: every child of a multipart/alternative, the
    first child of any other multipart, down to text/plain or text/html leaves that
    are not attachments. Signed and encrypted parts, and attached messages
    (message/rfc822), are not entered."""
    ctype = entity.get_content_type()
    if entity.is_multipart():
        if not ctype.startswith("multipart/") or ctype in (
            "multipart/signed",
            "multipart/encrypted",
        ):
            return
        children = entity.get_payload()
        if not isinstance(children, list) or not children:
            return
        for child in children if ctype == "multipart/alternative" else children[:1]:
            if not isinstance(child, str):
                yield from _main_body_parts(child)
    elif (
        ctype in ("text/plain", "text/html")
        and entity.get_content_disposition() != "attachment"
    ):
        yield entity


_BODY_TAG: Final = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
_LEGACY_ELEMENT: Final = re.compile(
    r"\n?<div\s+class\s*=\s*[\"']?" + _LEGACY_CLASS + r"[\"']?\s*>.*?</div>",
    re.IGNORECASE | re.DOTALL,
)


def _text_of(part: Message[Any, Any]) -> str | None:
    """The decoded text of a text part; None when its charset is unknown."""
    try:
        text = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, ValueError, KeyError, AttributeError):
        return None
    return text if isinstance(text, str) else None


def _add_element(part: Message[Any, Any], shown: list[tuple[str, str]]) -> None:
    """Put a Legacy Display Element at the start of a main body part (RFC 9788
    §5.2.2 text/plain: the fields, one per line, then an empty line; §5.2.3
    text/html: a div of that class holding a pre, first in the body element)."""
    if part.get_param(_LEGACY_PARAM, header="content-type") is not None:
        return  # already carries one: a second would show the fields twice
    text = _text_of(part)
    if text is None:
        return
    if part.get_content_subtype() == "html":
        import html

        lines = "\n".join(html.escape(f"{n}: {v}", quote=False) for n, v in shown)
        element = f'\n<div class="{_LEGACY_CLASS}">\n<pre>{lines}</pre>\n</div>'
        tag = _BODY_TAG.search(text)
        at = tag.end() if tag else 0
        text = text[:at] + element + text[at:]
    else:
        eol = "\r\n" if "\r\n" in text else "\n"
        text = "".join(f"{n}: {v}{eol}" for n, v in shown) + eol + text
    _set_text(part, text, {_LEGACY_PARAM: "1"})


def _set_text(
    part: Message[Any, Any],
    text: str,
    params: dict[str, str | None],
    *,
    restoring: bool = False,
) -> None:
    """Make ``text`` the body of a text part, its other header fields kept: its
    charset if the text fits (UTF-8 otherwise), its transfer encoding (8bit for
    text that 7bit cannot carry; ``restoring``: 7bit again for 8bit text that is
    ASCII, as ``set_content`` writes it, when the 8bit was for a removed Legacy
    Display Element); ``params`` are Content-Type parameters to set or remove
    (``fields.set_params``)."""
    stated_charset = part.get_content_charset() or "us-ascii"
    charset = stated_charset
    stated = part.get("content-transfer-encoding")
    cte = str(stated or "7bit").strip().lower()
    try:
        text.encode(charset)
    except (UnicodeEncodeError, LookupError):
        charset = "utf-8"
    if cte not in ("7bit", "8bit", "quoted-printable", "base64") or (
        cte == "7bit" and not text.isascii()
    ):
        cte = "8bit"
    elif cte == "8bit" and restoring and text.isascii():
        cte = "7bit"
    part.set_payload(_encoded(text, charset, cte))
    if charset != stated_charset:
        params = {**params, "charset": charset}
    set_params(part, params)
    if str(stated or "7bit").strip().lower() != cte:
        if stated is None:
            part["Content-Transfer-Encoding"] = cte
        else:
            part.replace_header("Content-Transfer-Encoding", cte)


def _encoded(text: str, charset: str, cte: str) -> str:
    """``text`` in ``charset`` with transfer encoding ``cte``, as the payload string
    the ``email`` package keeps (8bit octets as surrogate escapes, RFC 2045 §6.7
    quoted-printable and §6.8 base64 lines of 76 characters)."""
    from email import base64mime, quoprimime

    data = text.encode(charset)
    if cte == "base64":
        return base64mime.body_encode(data, maxlinelen=76, eol="\n")
    if cte == "quoted-printable":
        return quoprimime.body_encode(data.decode("latin-1"), maxlinelen=76)
    return data.decode("ascii", "surrogateescape")


def _legacy_display_parts(entity: Message[Any, Any]) -> Iterator[Message[Any, Any]]:
    for part in _main_body_parts(entity):
        if str(part.get_param(_LEGACY_PARAM, "", header="content-type")) == "1":
            yield part


def _remove_element(part: Message[Any, Any]) -> None:
    """RFC 9788 §4.5.3: drop a main body part's Legacy Display Element (text/plain:
    the lines up to the first empty one; text/html: the div of its class)."""
    text = _text_of(part)
    if text is None:
        return
    if part.get_content_subtype() == "html":
        kept = _LEGACY_ELEMENT.sub("", text, count=1)
    else:
        lines = text.splitlines(keepends=True)
        blank = next(
            (i for i, line in enumerate(lines) if not line.strip("\r\n")), None
        )
        if blank is None:
            return
        kept = "".join(lines[blank + 1 :])
    # Non-ASCII only in the element: its values made the part 8bit.
    _set_text(part, kept, {_LEGACY_PARAM: None}, restoring=not text.isascii())
