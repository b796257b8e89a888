"""What the outer header section of a decrypted mail says against its protected
header fields (RFC 9788 §2.2, §4): :class:`HeaderProtectionReport`.

:func:`compare` makes the report of a mail whose sender protected its header fields
(the outer fields against the HP-Outer record and the protected fields),
:func:`unprotected_report` that of one whose sender did not; ``headers.restore``
keeps it on the message it returns (:func:`attach`) and :func:`report` reads it back.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Final

from ..errors import UsageError
from .fields import HP_OUTER, USER_FACING, structural

if TYPE_CHECKING:
    from email.message import EmailMessage

__all__ = [
    "HeaderProtectionReport",
    "OuterMismatch",
    "attach",
    "compare",
    "report",
    "unprotected_report",
]

_REPORT_ATTR: Final = "_e2ee_header_protection"
#: Outer fields whose change on the way is a mismatch even when the sender neither
#: protected nor recorded them: addressing and threading (a Cc added outside is how
#: a reply-all would be steered to a stranger). Any other field only the outside
#: has is a trace or transport field (Received, DKIM-Signature ...).
_WATCHED: Final = USER_FACING | {"message-id", "in-reply-to", "references"}


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
    """The report ``headers.restore`` left on ``msg``.

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


def attach(msg: EmailMessage, found: HeaderProtectionReport) -> None:
    """Keep ``found`` on ``msg``, where :func:`report` finds it."""
    msg.__dict__[_REPORT_ATTR] = found


def unprotected_report(outer: EmailMessage | None) -> HeaderProtectionReport:
    """The report of a mail whose sender did not protect its header fields: every
    Non-Structural field of ``outer`` is unprotected."""
    names = [] if outer is None else [n for n in outer if not structural(n)]
    return HeaderProtectionReport(
        protected=False, unprotected=tuple(dict.fromkeys(names))
    )


def _norm(value: object) -> str:
    return " ".join(str(value).split())


def _values(msg: EmailMessage, key: str) -> tuple[str, ...]:
    return tuple(_norm(v) for k, v in msg.items() if k.lower() == key)


def _recorded(inner: EmailMessage) -> dict[str, list[str]]:
    """HP-Outer values by lower-case field name."""
    out: dict[str, list[str]] = {}
    for value in inner.get_all(HP_OUTER) or ():
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


def compare(inner: EmailMessage, outer: EmailMessage) -> HeaderProtectionReport:
    """The report of a mail whose sender protected its header fields: ``inner``,
    the decrypted (or signed) entity with its HP-Outer fields, against ``outer``.

    A signed-only entity (``hp="clear"``, RFC 9788 §2.1.1) hides nothing: its
    sender showed every protected field outside as it is and records no HP-Outer
    (any found is ignored), so the protected values are what the outside must
    show, nothing is confidential, and an outer field that differs was changed
    on the way."""
    names: dict[str, str] = {}  # lower-case -> spelling, first seen
    for name in inner:
        if not structural(name) and name.lower() != "hp-outer":
            names.setdefault(name.lower(), name)
    hp = str(inner.get_param("hp", "", header="content-type")).lower()
    if hp == "clear":
        recorded = {key: list(_values(inner, key)) for key in names}
    else:
        recorded = _recorded(inner)
    confidential = tuple(
        spelling
        for key, spelling in names.items()
        if tuple(recorded.get(key, ())) != _values(inner, key)
    )
    for name in outer:
        key = name.lower()
        if not structural(name) and (key in recorded or key in _WATCHED):
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
            name for name in outer if not structural(name) and name.lower() not in names
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
