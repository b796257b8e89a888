"""Header protection for encrypted mail (RFC 9788), shared by S/MIME and PGP/MIME:
the entity to encrypt, the outer message, and the decrypted message restored.

Sending (RFC 9788 §2, §3):

- The *inner* entity (the Cryptographic Payload, what gets encrypted) is the
  original body part with a copy of every Non-Structural header field of the
  original message, its Content-Type marked ``hp="cipher"`` (§2.1.1).
- The *outer* header section is what a Header Confidentiality Policy (HCP, §3;
  mime/hcp.py) makes of each Non-Structural field: the field as it is, an obscured
  value, or nothing.
- Every field left outside is recorded inside as ``HP-Outer: Name: value`` (§2.2),
  in the order of the original; a field the HCP removed gets no HP-Outer field.
- When the HCP obscured or removed a user-facing field, each main body part starts
  with a Legacy Display Element showing the real values (mime/legacy_display.py).

Structural fields (MIME-Version and every Content-* field, RFC 9787) describe the
body part they head and travel inside only; the outer message has its own. Bcc and
Resent-Bcc travel nowhere: a copy inside the encryption would show the blind-copy
list to every recipient (RFC 9788 §11.4 leaves the choice; this is the one that
leaks nothing). HP-Outer fields already on the original are dropped, not forwarded:
only the sender of this message may state what its outside shows.

Receiving: :func:`restore_entity` parses the decrypted entity, gives its text bodies
the LF line ends the ``email`` package gives a message it builds (the entity was
encrypted in canonical CRLF form), and :func:`restore` returns it with its protected
header fields as the message's fields, the HP-Outer fields and ``hp`` parameter
gone, and the Legacy Display Elements removed (§4.5.3). The parts of a
multipart/signed keep their exact octets (a signature covers them). A
``HeaderProtectionReport`` (mime/protection_report.py) compares the outer header
section with what the sender recorded. An entity without ``hp`` (the sender did not
protect header fields) gets the outer fields copied in, as §4.10 advises, since
nothing better exists.

API (mime/smime.py, mime/pgpmime.py, mime/stream.py)::

    hcp = resolve_hcp("baseline")            # or "minimal", "shy", a callable
    inner = build_inner(msg, hcp=hcp)        # EmailMessage to canonicalize and encrypt
    outer = build_outer(msg, hcp=hcp)        # EmailMessage with the outer fields
    plain = restore_entity(plaintext, outer) # after decryption

Signed S/MIME mail (``hp="clear"``, and the signed entity inside an encrypted one) is
built and read by mime/smime_signed.py on top of these functions. Left out: reading
protected fields from inside a multipart/signed Cryptographic Payload when no
signature is asked for (such mail is restored from the outer fields, as unprotected
mail is).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, TypeVar

from ..errors import Error, MIMEError
from ..policy import DEFAULT_MAX_MAIL_HEADER_BYTES
from . import protection_report
from .fields import HP_OUTER, field, set_params, structural
from .hcp import HeaderConfidentialityPolicy, hcp_baseline
from .legacy_display import add_legacy_display, remove_legacy_display

if TYPE_CHECKING:
    from email.message import EmailMessage, Message

__all__ = ["build_inner", "build_outer", "restore", "restore_entity"]

_M = TypeVar("_M", bound="Message[Any, Any]")
#: Never copied anywhere: the blind-copy lists must not leak (RFC 5322 §3.6.3).
_NEVER_COPIED: Final = frozenset({"bcc", "resent-bcc"})


def _new_message(message_class: type[EmailMessage] | None = None) -> EmailMessage:
    from email import policy
    from email.message import EmailMessage

    # SMTP: as_bytes() and str() write CRLF line ends, what SMTP DATA, SES
    # SendRawEmail and Mailgun's MIME upload take (RFC 5322 §2.1; RFC 5321
    # §4.5.3.1.6 lines of at most 998 octets: header fields fold at 78 columns, the
    # bodies are base64 or armor lines of at most 76).
    return (message_class or EmailMessage)(policy=policy.SMTP)


def _outer_fields(
    msg: EmailMessage, hcp: HeaderConfidentialityPolicy
) -> list[tuple[str, Any]]:
    """(name, value) of the fields the outer message shows, in the original's order.
    A value is the parsed header object when it is the original's: setting it
    again skips the parse (parsing header fields is most of a small message's
    cost); str() is its text."""
    fields: list[tuple[str, Any]] = []
    for name, value in msg.items():
        key = name.lower()
        if structural(name) or key in _NEVER_COPIED or key == "hp-outer":
            continue
        text = str(value)
        out = hcp(name, text)
        if out is None:
            continue
        if out == text and hasattr(value, "name"):
            fields.append((name, value))
        else:
            fields.append((name, field(name, out)))
    return fields


def build_inner(
    msg: EmailMessage,
    *,
    hcp: HeaderConfidentialityPolicy = hcp_baseline,
    legacy_display: bool = True,
) -> EmailMessage:
    """The entity to encrypt: the body part plus protected copies of the header fields.

    Args:
        msg: the original message (not modified).
        hcp: the Header Confidentiality Policy the outer message is built with
            (``hcp.resolve_hcp``; pass the same object to :func:`build_outer`).
        legacy_display: add Legacy Display Elements when the policy hides a
            user-facing field.

    Returns:
        A new EmailMessage whose body is ``msg``'s body and whose header fields are
        ``msg``'s (Bcc excluded), with ``hp="cipher"`` and HP-Outer fields.

    Raises:
        MIMEError: header fields the ``email`` package cannot parse.
    """
    try:
        return _build_inner(msg, hcp, legacy_display)
    except Error:  # the library's own refusals (a caller's policy) pass through
        raise
    except Exception as exc:  # the email package raises many types on odd input
        raise MIMEError(f"malformed header fields: {exc!r}") from None


def _build_inner(
    msg: EmailMessage, hcp: HeaderConfidentialityPolicy, legacy_display: bool
) -> EmailMessage:
    inner = _copy_entity(msg)
    for name in list(inner.keys()):
        if name.lower() in _NEVER_COPIED or name.lower() == "hp-outer":
            del inner[name]
    if legacy_display:
        add_legacy_display(inner, msg, hcp)
    if "content-type" not in inner:
        inner["Content-Type"] = "text/plain; charset=us-ascii"
    _assign_boundaries(inner)
    set_params(inner, {"hp": "cipher"})
    # RFC 9788 §2.2: record each header field the outer message shows.
    for name, value in _outer_fields(msg, hcp):
        inner[HP_OUTER] = f"{name}: {value}"
    return inner


def _copy_entity(entity: _M) -> _M:
    """A copy of ``entity`` whose header field lists and part lists are its own.

    Header field values (``email.headerregistry`` objects) and leaf payload strings
    are immutable and shared: ``copy.deepcopy`` would rebuild every parsed header
    object (5 ms for a small mail with one attachment) to the same effect for what
    build_inner changes (header fields, boundaries, main body part payloads).
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


def build_outer(
    msg: EmailMessage,
    *,
    hcp: HeaderConfidentialityPolicy = hcp_baseline,
    message_class: type[EmailMessage] | None = None,
) -> EmailMessage:
    """The outer message skeleton: the header fields ``hcp`` leaves outside.

    The caller adds the content header fields and the body (application/pkcs7-mime
    or multipart/encrypted). ``message_class`` (an EmailMessage subclass, e.g.
    mime/sealed.py's) is what gets built; EmailMessage by default. Its policy is
    ``email.policy.SMTP``: ``as_bytes()`` is wire-ready.

    Raises:
        MIMEError: header fields the ``email`` package cannot parse.
    """
    outer = _new_message(message_class)
    try:
        for name, value in _outer_fields(msg, hcp):
            outer[name] = value
    except Error:  # the library's own refusals (a caller's policy) pass through
        raise
    except Exception as exc:  # the email package raises many types on odd input
        raise MIMEError(f"malformed header fields: {exc!r}") from None
    outer["MIME-Version"] = field("MIME-Version", "1.0")
    return outer


def restore_entity(
    plaintext: bytes | bytearray,
    outer: EmailMessage,
    *,
    max_header_bytes: int = DEFAULT_MAX_MAIL_HEADER_BYTES,
) -> EmailMessage:
    """The decrypted entity ``plaintext`` as a message, its protected header fields
    restored (:func:`restore`), its text bodies with LF line ends and its Legacy
    Display Elements removed. It is read in place, and its bodies stay bytes until
    read (mime/wire.py ``keep_raw``): ``plaintext`` must not change after.

    Raises:
        MIMEError: not a MIME entity, its header block is longer than
            ``max_header_bytes``, or header fields ``email`` cannot rewrite.
    """
    from .streamio import check_header_block
    from .wire import from_bytes

    check_header_block(plaintext, max_header_bytes)
    try:
        inner = from_bytes(plaintext, keep_raw=True)
    except Exception as exc:  # the email package raises many types on odd input
        raise MIMEError(f"the decrypted content is not a MIME entity: {exc}") from None
    _unix_line_ends(inner)
    protected = inner.get_param("hp", header="content-type") is not None
    restored = restore(inner, outer)
    if protected:
        try:
            remove_legacy_display(restored)
        except (ValueError, TypeError, LookupError, AttributeError) as exc:
            raise MIMEError(f"the decrypted message is malformed: {exc}") from None
    return restored


def _unix_line_ends(entity: Message[Any, Any]) -> None:
    """Give the text of every body outside a multipart/signed LF line ends, as the
    ``email`` package writes them in a message it builds: the entity was encrypted
    with CRLF line ends (RFC 8551 §3.1.1, RFC 3156 §3). Base64 bodies decode to what
    was encoded and stay as they are; the parts of a multipart/signed keep their
    octets, which its signature covers."""
    from .bodybytes import ByteBodyMessage, held_lf

    if entity.get_content_type() == "multipart/signed":
        return
    # is_multipart() first: it does not decode a held body (mime/bodybytes.py).
    if entity.is_multipart():  # a multipart, or message/rfc822's one message
        for attr in ("preamble", "epilogue"):
            text = getattr(entity, attr)
            if text:
                setattr(entity, attr, text.replace("\r\n", "\n"))
        for part in entity.get_payload():
            if not isinstance(part, str):
                _unix_line_ends(part)
        return
    cte = str(entity.get("content-transfer-encoding", "")).strip().lower()
    if cte == "base64":
        return
    if isinstance(entity, ByteBodyMessage) and held_lf(entity):
        return
    payload = entity._payload  # type: ignore[attr-defined]
    if isinstance(payload, str) and "\r\n" in payload:
        entity.set_payload(payload.replace("\r\n", "\n"))


def restore(inner: EmailMessage, outer: EmailMessage | None = None) -> EmailMessage:
    """The decrypted message, with its protected header fields restored.

    Args:
        inner: the decrypted inner entity (modified in place and returned).
        outer: the outer message: compared with the protected fields
            (``protection_report.report``), and the source of the fields when
            ``inner`` carries no protected header fields (a sender that does not
            implement RFC 9788).

    Returns:
        ``inner`` without HP-Outer fields and without the ``hp`` parameter.

    Raises:
        MIMEError: header fields ``email`` cannot rewrite (malformed).
    """
    try:
        protected = inner.get_param("hp", header="content-type") is not None
        if protected:
            found = (
                protection_report.compare(inner, outer) if outer is not None else None
            )
        else:
            found = protection_report.unprotected_report(outer)
        del inner[HP_OUTER]
        if protected:
            set_params(inner, {"hp": None})
        elif outer is not None:
            for name, value in outer.items():
                if not structural(name) and name not in inner:
                    inner[name] = value
    except (ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
        raise MIMEError(
            f"the decrypted message has malformed header fields: {exc}"
        ) from None
    if found is not None:
        protection_report.attach(inner, found)
    return inner
