"""Header protection for encrypted mail (RFC 9788), shared by S/MIME and PGP/MIME.

What we implement (RFC 9788 §2, §4.4 "hcp_baseline"-like confidentiality policy):

- The *inner* entity (what gets encrypted) is the original body part with a copy of
  every non-MIME header field of the original message, its Content-Type marked
  ``hp="cipher"`` (§2.1.1), and one ``HP-Outer`` field for each header field that
  travels outside (§2.2), so a receiver can tell what the outside showed.
- The *outer* message keeps only the routing header fields that transport needs
  (:data:`ROUTING_HEADERS`: From, To, Cc, Date, Message-ID, threading ...) and a
  Subject replaced by :data:`OBSCURED_SUBJECT`; everything else (Subject, X-*, Bcc
  is dropped entirely) is visible only inside.
- On decryption, :func:`restore` returns the inner entity with the protected header
  fields as its header fields. For a legacy inner entity without ``hp`` (the sender
  did not protect headers) the outer header fields are copied in, as RFC 9788 §4.10
  advises, since nothing better exists.

API (used by mime/smime.py and mime/pgpmime.py)::

    inner = build_inner(msg)          # EmailMessage to canonicalize and encrypt
    outer = build_outer(msg)          # EmailMessage with routing headers, no body
    plain = restore(inner, outer)     # after decryption

Left out: the "hcp_no_confidentiality" and other HCPs, Legacy Display parts (§2.1.2)
and the Received/DKIM handling of gateways.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Final, TypeVar

if TYPE_CHECKING:
    from email.message import EmailMessage, Message

__all__ = [
    "OBSCURED_SUBJECT",
    "ROUTING_HEADERS",
    "build_inner",
    "build_outer",
    "field",
    "restore",
    "restore_entity",
]

#: The outer Subject of every protected message (the team's choice; RFC 9788 §4.4
#: suggests "[...]"; both tell the reader that the real one is inside).
OBSCURED_SUBJECT: Final = "..."
#: Header fields that stay outside, in the original's order: what MTAs and mailbox
#: threading need (RFC 5322 §3.6 originator, destination, identification fields).
ROUTING_HEADERS: Final = frozenset(
    {
        "from",
        "sender",
        "reply-to",
        "to",
        "cc",
        "date",
        "message-id",
        "in-reply-to",
        "references",
        "return-path",
        "received",
        "mime-version",
    }
)
#: Header fields that describe the body part and so belong to the inner entity only.
_CONTENT_HEADERS: Final = frozenset(
    {
        "content-type",
        "content-transfer-encoding",
        "content-disposition",
        "content-id",
        "content-description",
        "mime-version",
    }
)
_HP_OUTER: Final = "HP-Outer"
_M = TypeVar("_M", bound="Message[Any, Any]")
#: Never copied outside: the blind-copy list must not leak (RFC 5322 §3.6.3).
_NEVER_OUTSIDE: Final = frozenset({"bcc"})


def _new_message() -> EmailMessage:
    from email import policy
    from email.message import EmailMessage

    return EmailMessage(policy=policy.default)


def build_inner(msg: EmailMessage) -> EmailMessage:
    """The entity to encrypt: the body part plus protected copies of the header fields.

    Args:
        msg: the original message (not modified).

    Returns:
        A new EmailMessage whose body is ``msg``'s body and whose header fields are
        ``msg``'s (Bcc excluded), with ``hp="cipher"`` and HP-Outer fields.
    """
    inner = _copy_entity(msg)
    if "content-type" not in inner:
        inner["Content-Type"] = "text/plain; charset=us-ascii"
    inner.set_param("hp", "cipher", header="Content-Type")
    for name in list(inner.keys()):
        if name.lower() in _NEVER_OUTSIDE:
            del inner[name]
    # RFC 9788 §2.2: record each header field the outer message shows.
    for name, value in _outer_fields(msg):
        inner[_HP_OUTER] = f"{name}: {value}"
    _assign_boundaries(inner)
    return inner


def _copy_entity(entity: _M) -> _M:
    """A copy of ``entity`` whose header field lists and part lists are its own.

    Header field values (``email.headerregistry`` objects) and leaf payload strings
    are immutable and shared: ``copy.deepcopy`` would rebuild every parsed header
    object (5 ms for a small mail with one attachment) to the same effect for what
    build_inner changes (header fields and boundaries).
    """
    import copy
    from email.message import Message

    clone = copy.copy(entity)
    clone._headers = list(entity._headers)  # type: ignore[attr-defined]
    payload = entity._payload  # type: ignore[attr-defined]
    if isinstance(payload, list):
        clone._payload = [  # type: ignore[attr-defined]
            _copy_entity(part) if isinstance(part, Message) else copy.deepcopy(part)
            for part in payload
        ]
    return clone


def _assign_boundaries(entity: EmailMessage) -> None:
    """Give every multipart without a boundary a fresh random one.

    The ``email`` generator would pick one while flattening; choosing it here lets
    mime/wire.py write the entity without the generator. 96 random bits
    (RFC 2046 §5.1.1: the boundary must not occur in the encapsulated parts): a
    collision with a part's content has negligible probability.
    """
    from ..core.random import random_bytes

    for part in entity.walk():
        if part.is_multipart() and part.get_boundary() is None:
            part.set_boundary("=-" + random_bytes(12).hex())


def _outer_fields(msg: EmailMessage) -> list[tuple[str, Any]]:
    """(name, value) of the fields the outer message shows. A value is the parsed
    header object when ``msg`` holds one: setting it again skips the parse (parsing
    header fields is most of a small message's cost); str() is its text."""
    fields: list[tuple[str, Any]] = []
    for name, value in msg.items():
        key = name.lower()
        if key in ROUTING_HEADERS and key != "mime-version":
            fields.append((name, value if hasattr(value, "name") else str(value)))
    if "subject" in msg:
        fields.append(("Subject", field("Subject", OBSCURED_SUBJECT)))
    return fields


@functools.lru_cache(maxsize=64)
def field(name: str, value: str) -> Any:
    """The parsed header object of a field the library writes again and again
    (immutable: shared between messages, parsed once)."""
    from email import policy

    return policy.default.header_factory(name, value)


def build_outer(
    msg: EmailMessage, *, message_class: type[EmailMessage] | None = None
) -> EmailMessage:
    """The outer message skeleton: routing header fields kept, Subject obscured.

    The caller adds the content header fields and the body (application/pkcs7-mime
    or multipart/encrypted). ``message_class`` (an EmailMessage subclass, e.g.
    mime/sealed.py's) is what gets built; EmailMessage by default.
    """
    if message_class is None:
        outer = _new_message()
    else:
        from email import policy

        outer = message_class(policy=policy.default)
    for name, value in _outer_fields(msg):
        outer[name] = value
    outer["MIME-Version"] = field("MIME-Version", "1.0")
    return outer


def restore_entity(plaintext: bytes | bytearray, outer: EmailMessage) -> EmailMessage:
    """The decrypted entity ``plaintext`` as a message, its protected header fields
    restored (:func:`restore`). It is read in place, and its bodies stay bytes
    until read (mime/wire.py ``keep_raw``): ``plaintext`` must not change after.

    Raises:
        MIMEError: not a MIME entity, or header fields ``email`` cannot rewrite.
    """
    from ..errors import MIMEError
    from .wire import from_bytes

    try:
        inner = from_bytes(plaintext, keep_raw=True)
    except Exception as exc:  # the email package raises many types on odd input
        raise MIMEError(f"the decrypted content is not a MIME entity: {exc}") from None
    return restore(inner, outer)


def restore(inner: EmailMessage, outer: EmailMessage | None = None) -> EmailMessage:
    """The decrypted message, with its protected header fields restored.

    Args:
        inner: the decrypted inner entity (modified in place and returned).
        outer: the outer message, used only when ``inner`` carries no protected
            header fields (a sender that does not implement RFC 9788).

    Returns:
        ``inner`` without HP-Outer fields and without the ``hp`` parameter.

    Raises:
        MIMEError: header fields ``email`` cannot rewrite (malformed).
    """
    from ..errors import MIMEError

    try:
        protected = inner.get_param("hp", header="content-type") is not None
        del inner[_HP_OUTER]
        if protected:
            _drop_hp(inner)
        elif outer is not None:
            for name, value in outer.items():
                key = name.lower()
                if key not in _CONTENT_HEADERS and key not in inner:
                    inner[name] = value
    except (ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
        raise MIMEError(
            f"the decrypted message has malformed header fields: {exc}"
        ) from None
    return inner


def _drop_hp(msg: EmailMessage) -> None:
    """Remove the hp parameter, keeping the field's name and position."""
    params = msg.get_params(header="content-type") or []
    value = msg.get_content_type()
    for key, param in params[1:]:
        if key.lower() == "hp":
            continue
        text = str(param).replace("\\", "\\\\").replace('"', '\\"')
        value += f'; {key}="{text}"'
    msg.replace_header("Content-Type", value)
