"""Re-keying the encrypted parts of one mail: find every encrypted blob
(mime/scan.py), re-wrap it, and splice it back in the encoding it had; every other
octet of the message is kept.

:func:`rewrap_parts` is the loop that ``e2ee_mail.rewrap_message`` and the mailbox
re-keyer (``mailbox/rekey.py``, which adds key selection by identity and a check
of the written result) share; the re-wrap of one blob is the caller's (the
``e2ee_mail.rewrap`` of its format), passed in, since this layer sits below the
public API. :func:`rewrap_message` applies it to an ``EmailMessage`` or raw bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..errors import MIMEError
from . import scan

if TYPE_CHECKING:
    from email.message import EmailMessage, Message

__all__ = ["Rewrap", "rewrap_message", "rewrap_parts", "same_form"]

#: Re-wraps one blob (CMS DER/PEM or OpenPGP binary/armor, as stored); None leaves
#: it as it is.
Rewrap = Callable[[scan.EncryptedPart, bytes], bytes | bytearray | None]

_PGP_ARMOR = b"-----BEGIN PGP MESSAGE-----"


def same_form(old: bytes, new: bytes | bytearray) -> bytes:
    """``new`` in ``old``'s encoding: armored stays armored, binary stays binary."""
    old_armored = old.lstrip().startswith(_PGP_ARMOR)
    new_armored = new.lstrip().startswith(_PGP_ARMOR)
    if old_armored == new_armored:
        return bytes(new)  # rewrap returns a bytearray (allocated once)
    from ..openpgp import armor

    return bytes(armor.enarmor(new) if old_armored else armor.dearmor(new)[1])


def rewrap_parts(
    data: bytes, parts: Sequence[scan.EncryptedPart], rewrap: Rewrap
) -> bytes | None:
    """``data`` with each of ``parts`` (from :func:`scan.find_encrypted`) re-wrapped
    by ``rewrap`` and encoded as the original was; None when ``rewrap`` left every
    part as it was.
    """
    replacements: list[tuple[scan.EncryptedPart, bytes]] = []
    for part in parts:
        blob = scan.extract(data, part)
        new = rewrap(part, blob)
        if new is not None:
            replacements.append((part, scan.encode(part, same_form(blob, new))))
    if not replacements:
        return None
    return scan.splice(data, replacements)


def rewrap_message(
    msg: EmailMessage | Message | bytes | bytearray | memoryview, rewrap: Rewrap
) -> EmailMessage:
    """Re-wrap every encrypted part of ``msg``: the S/MIME or PGP/MIME body, and
    encrypted attachments and inline PGP blocks too.

    An ``EmailMessage`` is serialized as :func:`detect.serialize` writes it (CRLF);
    bytes are used as they are. The result is parsed as :func:`detect.parse` parses
    mail.

    Raises:
        MIMEError: no encrypted part, or a MIME structure mime/scan.py refuses.
        UnsupportedError: an encrypted part under quoted-printable.
        Error: whatever ``rewrap`` raises.
    """
    from . import detect

    if isinstance(msg, bytes | bytearray | memoryview):
        data = bytes(msg)
    else:
        data = detect.serialize(detect.parse(msg))  # type: ignore[arg-type]
    parts = scan.find_encrypted(data)
    if not parts:
        raise MIMEError(
            "not an encrypted mail: no S/MIME, PGP/MIME or OpenPGP part to re-wrap"
        )
    new = rewrap_parts(data, parts, rewrap)
    return detect.parse(data if new is None else new)
