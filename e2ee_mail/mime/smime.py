"""S/MIME 4.0 encrypted mail (RFC 8551 §3.3, §3.4) around the CMS layer.

encrypt_message: the inner entity (with protected header fields, mime/headers.py,
RFC 9788) is canonicalized to CRLF (RFC 8551 §3.1.1), encrypted as AuthEnvelopedData
(or legacy EnvelopedData for cipher="aes-256-cbc"), and carried as::

    Content-Type: application/pkcs7-mime; smime-type=authEnveloped-data;
        name=smime.p7m
    Content-Disposition: attachment; filename=smime.p7m
    Content-Transfer-Encoding: base64

with the header fields the Header Confidentiality Policy leaves outside (RFC 9788,
hcp_baseline by default). The base64 body is built by hand (pybase64, 76-column
lines; RFC 2045 §6.8) and returned in a mime/sealed.py SealedMessage, which copies it
in whole, with the flattening policy's line ends, rather than walking it through the
``email`` generator, an order of magnitude slower on large bodies. Its policy is
``email.policy.SMTP``: ``as_bytes()`` writes CRLF line ends, ready for SMTP.

decrypt_message: opens a message only when the application/pkcs7-mime (or the legacy
x-pkcs7-mime) part is the *whole* message body; an encrypted part beside plaintext
siblings is refused, so no unauthenticated plaintext is ever merged with decrypted
text (EFAIL "direct exfiltration"). Returns the inner message with its protected
header fields restored.

Left out: signed-data (smime-type=signed-data) and compressed-data, which are not
encrypted mail; nested S/MIME layers inside the decrypted entity are returned as is.
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, Literal

import pybase64

from ..cms import envelope
from ..core import b64
from ..errors import MIMEError, UnsupportedError
from ..model import Certificate, SecretKey
from ..policy import Policy
from . import headers
from .fields import field
from .hcp import HCPChoice, HeaderConfidentialityPolicy, hcp_baseline, resolve_hcp

if TYPE_CHECKING:
    from email.message import EmailMessage

__all__ = [
    "SMIME_TYPES",
    "base64_lines",
    "check_encrypted_type",
    "decrypt_message",
    "encrypt_message",
]

SMIME_TYPES: Final = frozenset({"application/pkcs7-mime", "application/x-pkcs7-mime"})
_ENCRYPTED_TYPES: Final = frozenset({"authenveloped-data", "enveloped-data"})


def base64_lines(data: bytes | bytearray | memoryview) -> bytearray:
    """Base64 with 76-character CRLF-terminated lines (RFC 2045 §6.8)."""
    return b64.encode_lines(data, width=76, eol=b"\r\n")


def canonical_bytes(msg: EmailMessage) -> bytes:
    """The entity's bytes with CRLF line ends (RFC 8551 §3.1.1)."""
    from .wire import to_bytes

    return to_bytes(msg)


def encrypt_message(
    msg: EmailMessage,
    certs: Sequence[Certificate],
    *,
    cipher: Literal["aes-256-gcm", "aes-256-cbc"] = "aes-256-gcm",
    policy: Policy,
    hcp: HCPChoice = "baseline",
    legacy_display: bool = True,
) -> EmailMessage:
    """Encrypt a whole mail as S/MIME.

    Args:
        msg: the message to send (not modified).
        certs: X.509 recipient certificates.
        cipher: "aes-256-gcm" (AuthEnvelopedData) or "aes-256-cbc" (legacy
            EnvelopedData, unauthenticated, for clients before S/MIME 4.0).
        policy: what may be written.
        hcp: the Header Confidentiality Policy (``hcp.resolve_hcp``).
        legacy_display: Legacy Display Elements for hidden user-facing fields.

    Returns:
        The outer message: the fields ``hcp`` leaves outside, the encrypted body.
    """
    from .streamio import check_message_header

    check_message_header(msg, policy.max_mail_header_bytes)
    checked = resolve_hcp(hcp)
    inner = headers.build_inner(msg, hcp=checked, legacy_display=legacy_display)
    from .wire import to_pieces

    # The canonical entity in pieces, each sealed straight into the CMS message.
    der = envelope.encrypt_pieces(to_pieces(inner), certs, cipher=cipher, policy=policy)
    return message_from_parts(msg, der, cipher, hcp=checked)


def message_from_parts(
    msg: EmailMessage,
    der: bytes | bytearray,
    cipher: str,
    *,
    hcp: HeaderConfidentialityPolicy = hcp_baseline,
) -> EmailMessage:
    """The outer message of :func:`encrypt_message` around ``der``, the CMS message
    of ``msg``'s inner entity. Vector runners make ``der`` with pinned randomness
    (``cms.build.encrypt_bytes_from_parts``); this part draws none itself."""
    smime_type = "authEnveloped-data" if cipher == "aes-256-gcm" else "enveloped-data"
    from .sealed import Base64Body, SealedMessage, attach_rendered

    outer = headers.build_outer(msg, hcp=hcp, message_class=SealedMessage)
    assert isinstance(outer, SealedMessage)
    outer["Content-Type"] = field(
        "Content-Type",
        f"application/pkcs7-mime; smime-type={smime_type}; name=smime.p7m",
    )
    outer["Content-Disposition"] = field(
        "Content-Disposition", "attachment; filename=smime.p7m"
    )
    outer["Content-Transfer-Encoding"] = field("Content-Transfer-Encoding", "base64")
    # Encoded when written: SealedMessage puts 76-column lines with the flattening
    # policy's line ends straight into its output, without the email generator.
    attach_rendered(outer, Base64Body(der, width=76))
    return outer


def payload_bytes(part: EmailMessage) -> bytes | memoryview:
    """The raw CMS bytes of an application/pkcs7-mime part."""
    from .wire import raw_body

    cte = str(part.get("content-transfer-encoding", "7bit")).strip().lower()
    # Parsed here: the body bytes as they came, without building or re-encoding the
    # payload string (mime/bodybytes.py).
    raw: bytes | memoryview | None = raw_body(part)
    if raw is None:
        payload = part.get_payload()
        if not isinstance(payload, str):
            raise MIMEError("the S/MIME part has no body")
        try:
            raw = payload.encode("ascii", "surrogateescape")
        except UnicodeEncodeError:
            raise MIMEError(
                "the S/MIME body is not ASCII: the mail is damaged"
            ) from None
    if cte == "base64":
        # Non-validating decode skips the line breaks (2x faster than a strict
        # decode after stripping); damage surfaces as a CMS parse error.
        try:
            return pybase64.b64decode(raw, validate=False)
        except (binascii.Error, ValueError):
            raise MIMEError(
                "bad base64 in the S/MIME body: the mail is damaged"
            ) from None
    if cte in ("binary", "8bit", "7bit"):
        return raw
    raise MIMEError(f"unsupported Content-Transfer-Encoding {cte!r} on the S/MIME part")


def check_encrypted_type(msg: EmailMessage) -> None:
    """Refuse anything but a whole-body application/pkcs7-mime enveloped part.

    Raises:
        MIMEError: not S/MIME, or the encrypted part is not the whole body (EFAIL).
        UnsupportedError: S/MIME that is not encrypted (signed-data ...).
    """
    content_type = msg.get_content_type()
    if content_type not in SMIME_TYPES:
        if msg.is_multipart():
            raise MIMEError(
                "refused: the encrypted part is not the whole message body "
                "(an encrypted part beside plaintext parts is the EFAIL shape)"
            )
        raise MIMEError(f"not an S/MIME encrypted message ({content_type})")
    smime_type = str(msg.get_param("smime-type", "", header="content-type")).lower()
    if smime_type and smime_type not in _ENCRYPTED_TYPES:
        raise UnsupportedError(
            f"S/MIME {smime_type} is not encrypted mail; only (auth)enveloped-data"
        )


def decrypt_message(
    msg: EmailMessage, keys: Sequence[SecretKey], *, policy: Policy
) -> EmailMessage:
    """Decrypt an S/MIME message whose whole body is the encrypted part.

    Returns:
        The inner message with the protected header fields restored.

    Raises:
        MIMEError: not S/MIME enveloped data, or the encrypted part is not the whole
            body (EFAIL).
        NoMatchingKeyError, DecryptionError, PolicyError, FormatError: from CMS.
    """
    check_encrypted_type(msg)
    plaintext = envelope.decrypt(payload_bytes(msg), keys, policy=policy)
    return headers.restore_entity(
        plaintext, msg, max_header_bytes=policy.max_mail_header_bytes
    )
