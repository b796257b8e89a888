"""Header Confidentiality Policies (RFC 9788 §3): what the outer header section of
an encrypted mail shows of each Non-Structural header field.

A policy is a function ``(name, value) -> value or None``: the field as it is, an
obscured value, or None to leave the field out of the outer message. The default is
:func:`hcp_baseline` (§3.2.1): the Subject becomes ``[...]``, Keywords and Comments
are removed, and every other field stays outside as it is, so what a receiving MTA
or mailbox provider reads (From, To, Date, Message-ID, List-Unsubscribe,
List-Unsubscribe-Post, Feedback-ID, Auto-Submitted, a provider's own X- fields)
reaches it. :func:`resolve_hcp` turns a caller's choice (a name or a callable) into
the policy one message is built with: asked once per field, its answers checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Literal

from ..errors import UsageError

__all__ = [
    "HCP_NAMES",
    "OBSCURED_SUBJECT",
    "HCPChoice",
    "HeaderConfidentialityPolicy",
    "hcp_baseline",
    "hcp_minimal",
    "hcp_no_confidentiality",
    "hcp_shy",
    "resolve_hcp",
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
