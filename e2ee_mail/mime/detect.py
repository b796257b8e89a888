"""Parsing, classifying, serializing and inspecting encrypted mail.

- :func:`parse`: bytes -> EmailMessage (``email.policy.default``); failures are
  MIMEError. :func:`parse_head` parses a header block alone (the stream readers).
- :func:`kind`: "smime" (application/pkcs7-mime or x-pkcs7-mime as the whole body,
  RFC 8551 §3.3) or "pgpmime" (multipart/encrypted with
  protocol="application/pgp-encrypted", RFC 3156 §4); anything else, including an
  encrypted part nested beside plaintext parts (EFAIL), is a MIMEError.
- :func:`serialize`: CRLF bytes, identical to ``as_bytes(policy=SMTP)`` but with
  bodies written outside the ``email`` generator (mime/wire.py).
- :func:`inspect`: the CMS or OpenPGP description of the encrypted part.

``email`` is imported lazily, inside the functions: importing ``email.*`` costs about
29 ms of CLI start-up.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Final, Literal

from .._inspect import Inspection
from ..errors import MIMEError
from ..policy import DEFAULT_MAX_MAIL_HEADER_BYTES

if TYPE_CHECKING:
    from email.message import EmailMessage

__all__ = ["inspect", "kind", "parse", "parse_fields", "parse_head", "serialize"]

MailKind = Literal["smime", "pgpmime"]
_SMIME: Final = frozenset({"application/pkcs7-mime", "application/x-pkcs7-mime"})
_PGP_PROTOCOL: Final = "application/pgp-encrypted"


def parse(
    msg: EmailMessage | bytes | bytearray | memoryview,
    *,
    max_header_bytes: int = DEFAULT_MAX_MAIL_HEADER_BYTES,
) -> EmailMessage:
    """Return ``msg`` as an EmailMessage, parsing bytes with ``email.policy.default``.

    Raises:
        MIMEError: not parseable as a mail message, or its header block is longer
            than ``max_header_bytes`` (as the stream readers refuse it).
    """
    from email.message import EmailMessage, Message

    from .streamio import check_header_block, check_message_header

    if isinstance(msg, EmailMessage):
        check_message_header(msg, max_header_bytes)
        return msg
    if isinstance(msg, Message):
        # A compat32 Message (email.message_from_bytes): reparse it as the modern API.
        try:
            msg = msg.as_bytes()
        except Exception as exc:  # the generator raises many types on odd input
            raise MIMEError(f"cannot serialize the message: {exc}") from None
    if not isinstance(msg, bytes | bytearray | memoryview):
        raise MIMEError(f"expected an EmailMessage or bytes, not {type(msg).__name__}")
    msg = bytes(msg)
    check_header_block(msg, max_header_bytes)
    return _parse_bytes(msg, headers_only=False)


def parse_head(block: bytes) -> EmailMessage:
    """The header fields of the header block ``block``, parsed.

    Raises:
        MIMEError: not a mail's header block.
    """
    return _parse_bytes(block, headers_only=True)


def parse_fields(block: bytes) -> EmailMessage:
    """The header fields of ``block``, parsed; unlike :func:`parse_head`, there may
    be none (a decrypted entity that is bare text).

    Raises:
        MIMEError: the ``email`` package refused ``block``.
    """
    return _parse_bytes(block, headers_only=True, fields_required=False)


def _parse_bytes(
    data: bytes, *, headers_only: bool, fields_required: bool = True
) -> EmailMessage:
    """``data`` parsed with ``email.policy.default``: its header fields alone, or
    the whole message with the leaf parts' bytes kept as they came (the encrypted
    part is then read without re-encoding it).

    Raises:
        MIMEError: the ``email`` package refused ``data``, or it has no header
            field and ``fields_required``.
    """
    from email import policy
    from email.message import EmailMessage
    from email.parser import BytesParser

    from .wire import from_bytes

    try:
        if headers_only:
            parser = BytesParser(policy=policy.default)
            parsed = parser.parsebytes(data, headersonly=True)
        else:
            parsed = from_bytes(data, keep_raw=True)
    except Exception as exc:  # the email package raises many types on odd input
        raise MIMEError(f"not a parseable mail message: {exc}") from None
    if fields_required and not len(parsed.keys()):
        raise MIMEError("not a mail message: no header fields")
    assert isinstance(parsed, EmailMessage)
    return parsed


def _is_encrypted_part(part: EmailMessage) -> bool:
    ctype = part.get_content_type()
    if ctype in _SMIME:
        return True
    return ctype == "multipart/encrypted"


def kind(msg: EmailMessage) -> MailKind:
    """Classify an encrypted mail from its top-level Content-Type.

    Raises:
        MIMEError: not an encrypted mail, or an encrypted part nested beside
            plaintext parts (refused: EFAIL direct exfiltration).
    """
    try:
        ctype = msg.get_content_type()
        if ctype in _SMIME:
            return "smime"
        if ctype == "multipart/encrypted":
            protocol = str(msg.get_param("protocol", "", header="content-type"))
            if protocol.lower() == _PGP_PROTOCOL:
                return "pgpmime"
            raise MIMEError(
                f"multipart/encrypted with protocol {protocol!r} is not PGP/MIME"
            )
        if msg.is_multipart():
            for part in msg.walk():
                if part is not msg and _is_encrypted_part(part):
                    raise MIMEError(
                        "refused: the encrypted part is not the whole message body; "
                        "an encrypted part beside plaintext parts is the EFAIL shape"
                    )
    except MIMEError:
        raise
    except Exception as exc:  # malformed header fields
        raise MIMEError(f"malformed MIME structure: {exc}") from None
    raise MIMEError(
        f"not an encrypted mail ({ctype}): expected S/MIME application/pkcs7-mime or "
        "PGP/MIME multipart/encrypted"
    )


def serialize(msg: EmailMessage) -> bytes:
    """The message as bytes with CRLF line ends (``as_bytes(policy=SMTP)``, fast)."""
    from .wire import to_bytes

    return to_bytes(msg)


def inspect(msg: EmailMessage) -> Inspection:
    """Describe an S/MIME or PGP/MIME message without any key."""
    mail_kind = kind(msg)
    if mail_kind == "smime":
        from ..cms import envelope
        from .smime import payload_bytes

        described = envelope.inspect(bytes(payload_bytes(msg)))
        return dataclasses.replace(described, format="smime")
    from ..openpgp import inspection

    parts = msg.get_payload()
    if not isinstance(parts, list) or len(parts) != 2:
        raise MIMEError("PGP/MIME needs exactly two parts (RFC 3156 §4)")
    encrypted_part = parts[1]
    if isinstance(encrypted_part, str):
        raise MIMEError("the PGP/MIME encrypted part is malformed")
    data = encrypted_part.get_payload(decode=True)
    if not isinstance(data, bytes):
        raise MIMEError("the PGP/MIME encrypted part has no body")
    described = inspection.inspect(data)
    return dataclasses.replace(described, format="pgpmime")
