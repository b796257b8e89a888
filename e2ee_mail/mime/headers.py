"""Header protection for encrypted mail (RFC 9788), shared by S/MIME and PGP/MIME.

Sending (RFC 9788 §2, §3):

- The *inner* entity (the Cryptographic Payload, what gets encrypted) is the
  original body part with a copy of every Non-Structural header field of the
  original message, its Content-Type marked ``hp="cipher"`` (§2.1.1).
- The *outer* header section is what a Header Confidentiality Policy (HCP, §3) makes
  of each Non-Structural field: the field as it is, an obscured value, or nothing.
  The default is ``hcp_baseline`` (§3.2.1): the Subject becomes ``[...]``, Keywords
  and Comments are removed, and every other field stays outside as it is, so what a
  receiving MTA or mailbox provider reads (From, To, Date, Message-ID,
  List-Unsubscribe, List-Unsubscribe-Post, Feedback-ID, Auto-Submitted, a
  provider's own X- fields) reaches it.
- Every field left outside is recorded inside as ``HP-Outer: Name: value`` (§2.2),
  in the order of the original; a field the HCP removed gets no HP-Outer field.
- When the HCP obscured or removed a user-facing field (RFC 9787: Subject, From, To,
  Cc, Date, Reply-To, Followup-To, Sender and their Resent- forms), each main body
  part (text/plain or text/html, not an attachment) starts with a Legacy Display
  Element showing the real values, marked ``hp-legacy-display="1"`` (§2.1.2,
  §5.2.2, §5.2.3), for clients that decrypt but do not read protected header
  fields. Nothing inside a multipart/signed or multipart/encrypted part is touched.

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
:class:`HeaderProtectionReport` compares the outer header section with what the
sender recorded (:func:`report`). An entity without ``hp`` (the sender did not
protect header fields) gets the outer fields copied in, as §4.10 advises, since
nothing better exists.

API (mime/smime.py, mime/pgpmime.py, mime/stream.py)::

    hcp = resolve_hcp("baseline")            # or "minimal", "shy", a callable
    inner = build_inner(msg, hcp=hcp)        # EmailMessage to canonicalize and encrypt
    outer = build_outer(msg, hcp=hcp)        # EmailMessage with the outer fields
    plain = restore_entity(plaintext, outer) # after decryption

Left out: signed-only header protection (``hp="clear"``), and reading protected
fields from inside a multipart/signed Cryptographic Payload (sign-then-encrypt mail
of other clients is restored from the outer fields, as unprotected mail is).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

from ..errors import Error, MIMEError, UsageError
from ..policy import DEFAULT_MAX_MAIL_HEADER_BYTES

if TYPE_CHECKING:
    from email.message import EmailMessage, Message

__all__ = [
    "HCP_NAMES",
    "OBSCURED_SUBJECT",
    "HCPChoice",
    "HeaderConfidentialityPolicy",
    "HeaderProtectionReport",
    "OuterMismatch",
    "build_inner",
    "build_outer",
    "field",
    "hcp_baseline",
    "hcp_minimal",
    "hcp_no_confidentiality",
    "hcp_shy",
    "report",
    "resolve_hcp",
    "restore",
    "restore_entity",
]

#: A Header Confidentiality Policy (RFC 9788 §3.1): given a Non-Structural header
#: field's name and value, the value the outer message shows, or None to leave the
#: field out of the outer message.
HeaderConfidentialityPolicy = Callable[[str, str], "str | None"]
HCPName = Literal["baseline", "minimal", "shy", "no-confidentiality"]
#: What callers pass as ``hcp``: a policy's name or the policy itself.
HCPChoice = HCPName | HeaderConfidentialityPolicy

#: The obscured Subject of RFC 9788 §3.2.1.
OBSCURED_SUBJECT: Final = "[...]"
_HP_OUTER: Final = "HP-Outer"
_LEGACY_PARAM: Final = "hp-legacy-display"
_LEGACY_CLASS: Final = "header-protection-legacy-display"
_REPORT_ATTR: Final = "_e2ee_header_protection"
_M = TypeVar("_M", bound="Message[Any, Any]")
#: Never copied anywhere: the blind-copy lists must not leak (RFC 5322 §3.6.3).
_NEVER_COPIED: Final = frozenset({"bcc", "resent-bcc"})
#: RFC 9787's user-facing header fields: a client shows them, so when an HCP hides
#: one a Legacy Display Element shows it in the body.
_USER_FACING: Final = frozenset(
    {
        "subject",
        "from",
        "to",
        "cc",
        "date",
        "reply-to",
        "followup-to",
        "sender",
        "resent-from",
        "resent-to",
        "resent-cc",
        "resent-date",
        "resent-sender",
    }
)
#: Outer fields whose change on the way is a mismatch even when the sender neither
#: protected nor recorded them: addressing and threading (a Cc added outside is how
#: a reply-all would be steered to a stranger). Any other field only the outside
#: has is a trace or transport field (Received, DKIM-Signature ...).
_WATCHED: Final = _USER_FACING | {"message-id", "in-reply-to", "references"}


def _structural(name: str) -> bool:
    """RFC 9787's Structural header fields: MIME-Version and every Content-* field."""
    key = name.lower()
    return key == "mime-version" or key.startswith("content-")


# -- Header Confidentiality Policies (RFC 9788 §3) ---------------------------------


def hcp_no_confidentiality(name: str, value: str) -> str | None:
    """RFC 9788 §3.2.3: every field outside as it is (integrity only; never a
    default, the RFC says)."""
    return value


def hcp_minimal(name: str, value: str) -> str | None:
    """The Subject obscured to ``[...]``, every other field outside as it is.

    Not one of the policies RFC 9788 §3.2 defines; it is :func:`hcp_baseline`
    without the removal of Keywords and Comments, for senders whose recipients'
    filters read those two.
    """
    if name.lower() == "subject":
        return OBSCURED_SUBJECT
    return value


def hcp_baseline(name: str, value: str) -> str | None:
    """RFC 9788 §3.2.1, the default: the Subject obscured to ``[...]``, Keywords and
    Comments removed, every other field outside as it is."""
    key = name.lower()
    if key == "subject":
        return OBSCURED_SUBJECT
    if key in ("keywords", "comments"):
        return None
    return value


def hcp_shy(name: str, value: str) -> str | None:
    """RFC 9788 §3.2.2's shy policy: :func:`hcp_baseline`, and no display names or
    time zone outside.

    The forms chosen here: From, To and Cc keep their addresses and lose their
    display names
    (``Alice <alice@example.org>`` becomes ``alice@example.org``; a group keeps its
    name, its members lose theirs); Date gives the same instant in UTC, so the
    sender's time zone does not show (``Sat, 20 Feb 2021 10:09:02 -0500`` becomes
    ``Sat, 20 Feb 2021 15:09:02 +0000``). A value that does not parse is left as it
    is: rewriting what one does not understand can make a message undeliverable.
    """
    key = name.lower()
    if key in ("from", "to", "cc"):
        return _bare_addresses(name, value)
    if key == "date":
        return _utc_date(value)
    return hcp_baseline(name, value)


def _bare_addresses(name: str, value: str) -> str:
    from email import policy

    try:
        parsed = policy.default.header_factory(name, value)
        groups = parsed.groups
    except Exception:  # the header registry raises many types on odd input
        return value
    if parsed.defects or not any(
        address.display_name for group in groups for address in group.addresses
    ):
        return value
    parts = []
    for group in groups:
        specs = ", ".join(address.addr_spec for address in group.addresses)
        if group.display_name is None:
            parts.append(specs)
        else:
            parts.append(f"{group.display_name}: {specs};")
    return ", ".join(parts)


def _utc_date(value: str) -> str:
    import datetime
    from email import utils

    try:
        when = utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return value
    if when.tzinfo is None:  # "-0000": RFC 5322 §3.3, already UTC
        when = when.replace(tzinfo=datetime.UTC)
    return utils.format_datetime(when.astimezone(datetime.UTC))


HCP_NAMES: Final[dict[str, HeaderConfidentialityPolicy]] = {
    "baseline": hcp_baseline,
    "minimal": hcp_minimal,
    "shy": hcp_shy,
    "no-confidentiality": hcp_no_confidentiality,
}


class _CheckedPolicy:
    """An HCP called at most once per (name, value) of one message, so that the
    outer message and its HP-Outer record agree even for a policy that is not a
    pure function, with every answer checked."""

    def __init__(self, hcp: HeaderConfidentialityPolicy) -> None:
        self.hcp = hcp
        self._seen: dict[tuple[str, str], str | None] = {}

    def __call__(self, name: str, value: str) -> str | None:
        try:
            return self._seen[name, value]
        except KeyError:
            pass
        out = self.hcp(name, value)
        if out is not None and not isinstance(out, str):
            raise UsageError(
                f"the header confidentiality policy returned {type(out).__name__} "
                f"for {name}: return a str, or None to leave the field out"
            )
        if out is not None and ("\r" in out or "\n" in out):
            raise UsageError(
                f"the header confidentiality policy returned a line break for {name}"
            )
        if out is None and name.lower() in ("from", "date"):
            # RFC 5322 §3.6: the only two fields every message must have.
            raise UsageError(
                f"the header confidentiality policy removed {name}: a message "
                "without it is undeliverable; obscure it instead"
            )
        self._seen[name, value] = out
        return out


def resolve_hcp(hcp: object) -> _CheckedPolicy:
    """The policy ``hcp`` names ("baseline", "minimal", "shy",
    "no-confidentiality"), or the caller's own callable, ready for one message.

    Raises:
        UsageError: anything else.
    """
    if isinstance(hcp, _CheckedPolicy):
        return _CheckedPolicy(hcp.hcp)
    if isinstance(hcp, str):
        named = HCP_NAMES.get(hcp)
        if named is None:
            raise UsageError(
                f"unknown header confidentiality policy {hcp!r}: use "
                + ", ".join(HCP_NAMES)
                + " or a callable (name, value) -> value or None"
            )
        return _CheckedPolicy(named)
    if callable(hcp):
        return _CheckedPolicy(hcp)
    raise UsageError(
        "hcp must be one of " + ", ".join(HCP_NAMES) + " or a callable "
        f"(name, value) -> value or None, not {type(hcp).__name__}"
    )


# -- Sending ------------------------------------------------------------------------


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
        if _structural(name) or key in _NEVER_COPIED or key == "hp-outer":
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


@functools.lru_cache(maxsize=64)
def field(name: str, value: str) -> Any:
    """The parsed header object of a field the library writes again and again
    (immutable: shared between messages, parsed once)."""
    from email import policy

    return policy.default.header_factory(name, value)


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
            (:func:`resolve_hcp`; pass the same object to :func:`build_outer`).
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
        shown = _legacy_fields(msg, hcp)
        if shown:
            for part in _main_body_parts(inner):
                try:
                    _add_legacy_display(part, shown)
                except (ValueError, TypeError, LookupError):
                    # A courtesy for old clients: a part whose text the email
                    # package cannot rewrite goes as it is.
                    continue
    if "content-type" not in inner:
        inner["Content-Type"] = "text/plain; charset=us-ascii"
    _assign_boundaries(inner)
    _set_params(inner, {"hp": "cipher"})
    # RFC 9788 §2.2: record each header field the outer message shows.
    for name, value in _outer_fields(msg, hcp):
        inner[_HP_OUTER] = f"{name}: {value}"
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


def _legacy_fields(
    msg: EmailMessage, hcp: HeaderConfidentialityPolicy
) -> list[tuple[str, str]]:
    """The user-facing fields the policy obscures or removes, as (name, real value),
    in the original's order: what a Legacy Display Element shows."""
    shown = []
    for name, value in msg.items():
        if name.lower() in _USER_FACING:
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


def _add_legacy_display(part: Message[Any, Any], shown: list[tuple[str, str]]) -> None:
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


def _set_params(part: Message[Any, Any], changes: dict[str, str | None]) -> None:
    """Set (a str) or remove (None) Content-Type parameters: a parameter set again
    keeps its place, a new one goes last, and the field keeps its place among the
    header fields (``set_param`` would move it to the end)."""
    from email import utils

    todo = dict(changes)
    value = part.get_content_type()
    for key, param in (part.get_params(header="content-type") or [])[1:]:
        text = utils.collapse_rfc2231_value(param)
        if key.lower() in todo:
            new = todo.pop(key.lower())
            if new is None:
                continue
            text = new
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        value += f'; {key}="{escaped}"'
    for key, new in todo.items():
        if new is not None:
            value += f'; {key}="{new}"'
    from email.policy import EmailPolicy

    # The parsed field from a small cache where the policy keeps parsed fields:
    # the same part types get the same values, and parsing Content-Type is most of
    # what changing it costs.
    header = (
        field("Content-Type", value) if isinstance(part.policy, EmailPolicy) else value
    )
    if "content-type" in part:
        part.replace_header("Content-Type", header)
    else:
        part["Content-Type"] = header


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
    (:func:`_set_params`)."""
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
    _set_params(part, params)
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


# -- Receiving ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class OuterMismatch:
    """An outer header field that is not what the sender says it sent.

    Attributes:
        name: the field name.
        outer: its values in the outer header section as received.
        recorded: the values the sender recorded it showed outside (HP-Outer,
            RFC 9788 §2.2); empty when the sender left the field out.
        protected: its values inside the encryption, as the sender wrote them.
    """

    name: str
    outer: tuple[str, ...]
    recorded: tuple[str, ...]
    protected: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class HeaderProtectionReport:
    """What the outer header section of a decrypted mail says against the protected
    header fields (RFC 9788 §2.2, §4); see :func:`e2ee_mail.header_protection_report`.

    Attributes:
        protected: the sender protected the header fields (``hp`` parameter): the
            decrypted message's fields are the protected ones, the outer ones are
            not used. False for mail of senders without header protection, whose
            outer fields were copied in.
        confidential: names of the protected fields the outer message did not show
            as they are (obscured or left out by the sender's policy).
        mismatches: outer fields that differ from what the sender recorded it
            showed (changed, added or removed on the way), among the fields the
            sender protected or recorded and the addressing and threading fields.
        unprotected: names of outer fields the sender neither protected nor
            recorded: added on the way (Received, DKIM-Signature ...).
        from_mismatch: the outer From names other addresses than the protected
            From (RFC 9788 §4.4: possibly a spoofing attempt; display names and
            letter case do not count).
    """

    protected: bool
    confidential: tuple[str, ...] = ()
    mismatches: tuple[OuterMismatch, ...] = ()
    unprotected: tuple[str, ...] = ()
    from_mismatch: bool = False


def report(msg: EmailMessage) -> HeaderProtectionReport:
    """The report :func:`restore` left on ``msg``.

    Raises:
        UsageError: ``msg`` is not a message that decrypt_message returned.
    """
    found = getattr(msg, "__dict__", {}).get(_REPORT_ATTR)
    if not isinstance(found, HeaderProtectionReport):
        raise UsageError(
            "no header protection report: pass a message that "
            "e2ee_mail.decrypt_message() returned"
        )
    return found


def _norm(value: object) -> str:
    return " ".join(str(value).split())


def _values(msg: EmailMessage, key: str) -> tuple[str, ...]:
    return tuple(_norm(v) for k, v in msg.items() if k.lower() == key)


def _recorded(inner: EmailMessage) -> dict[str, list[str]]:
    """HP-Outer values by lower-case field name."""
    out: dict[str, list[str]] = {}
    for value in inner.get_all(_HP_OUTER) or ():
        name, sep, text = str(value).partition(":")
        if sep and name.strip():
            out.setdefault(name.strip().lower(), []).append(_norm(text))
    return out


def _addresses(msg: EmailMessage, key: str) -> set[str]:
    found = set()
    for name, value in msg.items():
        if name.lower() == key:
            for address in getattr(value, "addresses", ()):
                found.add(address.addr_spec.lower())
    return found


def _report(inner: EmailMessage, outer: EmailMessage) -> HeaderProtectionReport:
    recorded = _recorded(inner)
    names: dict[str, str] = {}  # lower-case -> spelling, first seen
    for name in inner:
        if not _structural(name) and name.lower() != "hp-outer":
            names.setdefault(name.lower(), name)
    confidential = tuple(
        spelling
        for key, spelling in names.items()
        if tuple(recorded.get(key, ())) != _values(inner, key)
    )
    for name in outer:
        key = name.lower()
        if not _structural(name) and (key in recorded or key in _WATCHED):
            names.setdefault(key, name)
    for key in recorded:
        names.setdefault(key, key)
    mismatches = []
    for key, spelling in names.items():
        outside = _values(outer, key)
        noted = tuple(recorded.get(key, ()))
        if outside != noted:
            mismatches.append(
                OuterMismatch(spelling, outside, noted, _values(inner, key))
            )
    unprotected = tuple(
        dict.fromkeys(
            name
            for name in outer
            if not _structural(name) and name.lower() not in names
        )
    )
    inside_from = _addresses(inner, "from")
    return HeaderProtectionReport(
        protected=True,
        confidential=confidential,
        mismatches=tuple(mismatches),
        unprotected=unprotected,
        from_mismatch=bool(inside_from) and _addresses(outer, "from") != inside_from,
    )


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
            for part in _legacy_display_parts(restored):
                _hide_legacy_display(part)
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


def _legacy_display_parts(entity: Message[Any, Any]) -> Iterator[Message[Any, Any]]:
    for part in _main_body_parts(entity):
        if str(part.get_param(_LEGACY_PARAM, "", header="content-type")) == "1":
            yield part


def _hide_legacy_display(part: Message[Any, Any]) -> None:
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


def restore(inner: EmailMessage, outer: EmailMessage | None = None) -> EmailMessage:
    """The decrypted message, with its protected header fields restored.

    Args:
        inner: the decrypted inner entity (modified in place and returned).
        outer: the outer message: compared with the protected fields
            (:func:`report`), and the source of the fields when ``inner`` carries
            no protected header fields (a sender that does not implement RFC 9788).

    Returns:
        ``inner`` without HP-Outer fields and without the ``hp`` parameter.

    Raises:
        MIMEError: header fields ``email`` cannot rewrite (malformed).
    """
    try:
        protected = inner.get_param("hp", header="content-type") is not None
        if protected:
            found = _report(inner, outer) if outer is not None else None
        else:
            names = [] if outer is None else [n for n in outer if not _structural(n)]
            found = HeaderProtectionReport(
                protected=False, unprotected=tuple(dict.fromkeys(names))
            )
        del inner[_HP_OUTER]
        if protected:
            _set_params(inner, {"hp": None})
        elif outer is not None:
            for name, value in outer.items():
                if not _structural(name) and name not in inner:
                    inner[name] = value
    except (ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
        raise MIMEError(
            f"the decrypted message has malformed header fields: {exc}"
        ) from None
    if found is not None:
        inner.__dict__[_REPORT_ATTR] = found
    return inner
