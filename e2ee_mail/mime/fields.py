"""Header fields as header protection classes them (RFC 9787, RFC 9788), and the
two ways the mail modules write them: parsed values from a cache, and Content-Type
parameters changed in place."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from email.message import Message

__all__ = ["HP_OUTER", "USER_FACING", "field", "set_params", "structural"]

#: The field that records, inside the encryption, each field the outer message
#: shows (RFC 9788 §2.2).
HP_OUTER: Final = "HP-Outer"
#: RFC 9787's user-facing header fields: a client shows them, so when an HCP hides
#: one a Legacy Display Element shows it in the body.
USER_FACING: Final = frozenset(
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


def structural(name: str) -> bool:
    """RFC 9787's Structural header fields: MIME-Version and every Content-* field."""
    key = name.lower()
    return key == "mime-version" or key.startswith("content-")


@functools.lru_cache(maxsize=64)
def field(name: str, value: str) -> Any:
    """The parsed header object of a field the library writes again and again
    (immutable: shared between messages, parsed once)."""
    from email import policy

    return policy.default.header_factory(name, value)


def set_params(part: Message[Any, Any], changes: dict[str, str | None]) -> None:
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
