"""PGP/MIME encryption (RFC 3156 §4) with header protection (RFC 9788).

The outer message is ``multipart/encrypted; protocol="application/pgp-encrypted"``
with two parts: ``application/pgp-encrypted`` holding "Version: 1", and
``application/octet-stream`` holding the ASCII-armored OpenPGP message. What is
encrypted is the inner entity of ``headers.build_inner`` (the original body part plus
protected copies of its header fields) in canonical CRLF form (RFC 3156 §3).
Decryption opens only a message whose whole body is the multipart/encrypted entity.
Signed and encrypted mail takes RFC 3156 §6.2's combined form: the OpenPGP message
inside is signed then encrypted (One-Pass Signature, Literal Data holding the inner
entity, Signature), so the mail keeps the same two-part shape. Verifying also
reads the nested form of §6.1 (a multipart/signed entity encrypted), as other
clients send it. Left out: writing the nested form, and inline PGP.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final

import pybase64

from ..core.random import random_bytes
from ..errors import MIMEError
from ..model import Certificate, SecretKey, SignatureResult
from ..policy import DEFAULT_MAX_MAIL_HEADER_BYTES, Policy
from . import headers
from .fields import field
from .hcp import HCPChoice, HeaderConfidentialityPolicy, hcp_baseline, resolve_hcp

if TYPE_CHECKING:
    from email.message import EmailMessage, Message

    from .sealed import Base64Body

__all__ = [
    "check_control_part",
    "check_data_part",
    "decrypt_message",
    "decrypt_verified",
    "encrypt_message",
    "encrypt_signed_message",
    "open_message",
]

_PROTOCOL: Final = "application/pgp-encrypted"
_VERSION_BODY: Final = b"Version: 1\n"


def _part(
    content_type: str, body: bytes | bytearray | Base64Body, **fields: str
) -> EmailMessage:
    from email import policy

    from .sealed import SealedMessage, attach_prebuilt, attach_rendered

    part = SealedMessage(policy=policy.default)
    part["Content-Type"] = field("Content-Type", content_type)
    for name, value in fields.items():
        part[name.replace("_", "-")] = field(name.replace("_", "-"), value)
    # Kept as bytes (or encoded when written): the outer SealedMessage copies them
    # in whole.
    if isinstance(body, bytes | bytearray):
        attach_prebuilt(part, body)
    else:
        attach_rendered(part, body)
    return part


def _armored(binary: bytearray, *, crc: bool) -> Base64Body:
    """``binary`` as the armor ``openpgp.armor.enarmor`` writes, encoded only when
    the mail is written (mime/sealed.py)."""
    from ..openpgp import armor
    from .sealed import Base64Body

    tail = b"-----END PGP MESSAGE-----\n"
    if crc:
        value = armor.crc24(binary).to_bytes(3, "big")
        tail = b"=" + pybase64.b64encode(value) + b"\n" + tail
    return Base64Body(
        binary, width=64, head=b"-----BEGIN PGP MESSAGE-----\n\n", tail=tail
    )


def encrypt_message(
    msg: EmailMessage,
    certs: Sequence[Certificate],
    *,
    policy: Policy,
    hcp: HCPChoice = "baseline",
    legacy_display: bool = True,
) -> EmailMessage:
    """Encrypt a whole mail as PGP/MIME.

    Args:
        msg: the message to send (not modified).
        certs: OpenPGP recipient certificates.
        policy: what may be written.
        hcp: the Header Confidentiality Policy (``hcp.resolve_hcp``).
        legacy_display: Legacy Display Elements for hidden user-facing fields.

    Returns:
        The outer message: the fields ``hcp`` leaves outside, and the
        multipart/encrypted body; its policy is ``email.policy.SMTP``.
    """
    from ..openpgp import message
    from ..openpgp.recipients import openpgp_certs
    from .streamio import check_message_header
    from .wire import to_bytes

    check_message_header(msg, policy.max_mail_header_bytes)
    checked = resolve_hcp(hcp)
    inner = headers.build_inner(msg, hcp=checked, legacy_display=legacy_display)
    # RFC 3156 §3: the entity is encrypted in canonical (CRLF) form; wire.to_bytes
    # is as_bytes(policy=SMTP) with bodies outside the slow email generator.
    binary = message.encrypt(to_bytes(inner), certs, armor=False, policy=policy)
    # The armor message.encrypt would write: a CRC line for SEIPDv1 (GnuPG 2.2).
    v1 = message.choose_container(openpgp_certs(certs), policy) == "seipdv1"
    return message_from_parts(
        msg,
        _armored(binary, crc=v1),
        "=-" + random_bytes(12).hex(),
        hcp=checked,
    )


def encrypt_signed_message(
    msg: EmailMessage,
    certs: Sequence[Certificate],
    key: SecretKey,
    *,
    policy: Policy,
    hcp: HCPChoice = "baseline",
    legacy_display: bool = True,
) -> EmailMessage:
    """Sign then encrypt a whole mail in RFC 3156 §6.2's combined form: the inner
    entity of :func:`encrypt_message`, in canonical CRLF form, is the literal data
    of an OpenPGP message signed by ``key`` and encrypted to ``certs`` (its
    signature names every recipient, RFC 9580 §5.2.3.36).

    Raises:
        As :func:`encrypt_message`, and UnsupportedError for a key that may not
        sign.
    """
    from ..openpgp import signing
    from .streamio import check_message_header
    from .wire import to_bytes

    check_message_header(msg, policy.max_mail_header_bytes)
    checked = resolve_hcp(hcp)
    inner = headers.build_inner(msg, hcp=checked, legacy_display=legacy_display)
    armored = signing.encrypt_signed(
        to_bytes(inner), certs, key, armor=True, policy=policy
    )
    return message_from_parts(msg, armored, "=-" + random_bytes(12).hex(), hcp=checked)


def message_from_parts(
    msg: EmailMessage,
    armored: bytes | bytearray | Base64Body,
    boundary: str,
    *,
    hcp: HeaderConfidentialityPolicy = hcp_baseline,
) -> EmailMessage:
    """The outer message of :func:`encrypt_message` around ``armored``, the OpenPGP
    message of ``msg``'s inner entity, with ``boundary`` given: for vector runners,
    which make ``armored`` with pinned randomness too (:func:`encrypt_message`
    passes the armor to be written, mime/sealed.py)."""
    from .sealed import SealedMessage

    outer = headers.build_outer(msg, hcp=hcp, message_class=SealedMessage)
    outer["Content-Type"] = (
        f'multipart/encrypted; protocol="{_PROTOCOL}"; boundary="{boundary}"'
    )
    outer.attach(
        _part(_PROTOCOL, _VERSION_BODY, Content_Description="PGP/MIME version")
    )
    outer.attach(
        _part(
            'application/octet-stream; name="encrypted.asc"',
            armored,
            Content_Description="OpenPGP encrypted message",
            Content_Disposition='inline; filename="encrypted.asc"',
        )
    )
    return outer


def check_control_part(control: Message, body: object) -> None:
    """RFC 3156 §4: the first part is application/pgp-encrypted saying Version: 1
    (``body``: its decoded body)."""
    if control.get_content_type() != _PROTOCOL:
        raise MIMEError("the first PGP/MIME part must be application/pgp-encrypted")
    if not isinstance(body, bytes) or b"version: 1" not in body.lower():
        raise MIMEError("the PGP/MIME control part does not say Version: 1")


def check_data_part(data: Message) -> None:
    """RFC 3156 §4: the second part is application/octet-stream."""
    if data.get_content_type() != "application/octet-stream":
        raise MIMEError("the second PGP/MIME part must be application/octet-stream")


def _encrypted_part(msg: EmailMessage) -> bytes | memoryview:
    """The OpenPGP message of a PGP/MIME entity, after checking its shape."""
    if msg.get_content_type() != "multipart/encrypted":
        raise MIMEError(f"not a PGP/MIME message ({msg.get_content_type()})")
    protocol = str(msg.get_param("protocol", "", header="content-type")).lower()
    if protocol != _PROTOCOL:
        raise MIMEError(
            f"multipart/encrypted with protocol {protocol!r} is not PGP/MIME"
        )
    parts = msg.get_payload()
    if not isinstance(parts, list) or len(parts) != 2:
        raise MIMEError("PGP/MIME needs exactly two parts (RFC 3156 §4)")
    control, data = parts
    if isinstance(control, str) or isinstance(data, str):
        raise MIMEError("PGP/MIME parts must be MIME entities")
    check_control_part(control, control.get_payload(decode=True) or b"")
    check_data_part(data)
    from .bodybytes import body_span
    from .wire import raw_body

    cte = str(data.get("content-transfer-encoding", "7bit")).strip().lower()
    if cte in ("7bit", "8bit", "binary") and (span := body_span(data)) is not None:
        binary = _dearmored(*span)
        if binary is not None:
            return binary
    raw = raw_body(data) if cte in ("7bit", "8bit", "binary") else None
    # The parsed bytes as they came (what get_payload(decode=True) rebuilds by
    # encoding the payload string again for these transfer encodings).
    payload = raw if raw is not None else data.get_payload(decode=True)
    if not isinstance(payload, bytes | memoryview) or not len(payload):
        raise MIMEError("the PGP/MIME encrypted part is empty")
    return payload


_ARMOR_HEAD: Final = b"-----BEGIN PGP MESSAGE-----"
_ARMOR_TAIL: Final = b"-----END PGP MESSAGE-----"


def _dearmored(data: bytes | bytearray, start: int, stop: int) -> bytes | None:
    """The OpenPGP message armored in ``data[start:stop]``, decoded in place, when
    the armor has the shape this module writes (header line, empty line, base64
    lines of one width, an optional CRC24 line, tail line); None for anything else,
    which ``openpgp.armor.dearmor`` then reads (and refuses with its errors).

    ``dearmor`` takes the body as a copy when handed a ``memoryview`` of the mail
    (31 MB for a 16 MiB attachment, a fifth of opening it).
    """
    from ..core import b64
    from ..openpgp import armor

    for eol in (b"\r\n", b"\n"):
        head = _ARMOR_HEAD + eol + eol
        if data.startswith(head, start, stop):
            break
    else:
        return None
    body = start + len(head)
    # Searched from the end, where it is: a "-" anywhere before it is outside the
    # base64 alphabet, which decode_lines refuses.
    tail = data.rfind(_ARMOR_TAIL, body, stop)
    if tail < 0:
        return None
    if data[tail + len(_ARMOR_TAIL) : stop].strip(b"\r\n"):
        return None
    end = tail
    line = data.rfind(b"\n", body, max(body, tail - 1)) + 1
    checksum = None
    if line > body and data.startswith(b"=", line, tail):
        checksum = bytes(data[line + 1 : tail]).strip()
        end = line
    decoded = b64.decode_lines(data, body, end)
    if decoded is None:
        return None
    if checksum is not None:
        try:
            value = pybase64.b64decode(checksum, validate=True)
        except ValueError:  # binascii.Error
            return None
        if len(value) != 3 or int.from_bytes(value, "big") != armor.crc24(decoded):
            return None
    return decoded


def decrypt_message(
    msg: EmailMessage, keys: Sequence[SecretKey], *, policy: Policy
) -> EmailMessage:
    """Decrypt a PGP/MIME message whose whole body is the encrypted entity.

    Returns:
        The inner message with its protected header fields restored.

    Raises:
        MIMEError: not PGP/MIME of the RFC 3156 shape.
        NoMatchingKeyError, DecryptionError, FormatError, PolicyError: from OpenPGP.
    """
    from ..openpgp import message

    return open_message(
        msg,
        lambda blob: message.decrypt(blob, keys, policy=policy),
        max_header_bytes=policy.max_mail_header_bytes,
    )


def open_message(
    msg: EmailMessage,
    decrypt: Callable[[bytes | memoryview], bytes | bytearray],
    *,
    max_header_bytes: int = DEFAULT_MAX_MAIL_HEADER_BYTES,
) -> EmailMessage:
    """Everything :func:`decrypt_message` does around the OpenPGP decryption, which
    ``decrypt`` performs: check the RFC 3156 §4 shape, hand ``decrypt`` the
    encrypted part, restore the protected header fields of what it returns. The
    GnuPG bridge (``keys/gnupg.py``) opens mail through gpg-agent with it, so both
    paths apply the same checks.

    Args:
        msg: the PGP/MIME message (its whole body the multipart/encrypted entity).
        decrypt: the OpenPGP message -> its authenticated plaintext; raises on
            any failure.
        max_header_bytes: bound on the decrypted entity's header block.

    Raises:
        MIMEError: not PGP/MIME of the RFC 3156 shape, or the plaintext is not a
            MIME entity.
    """
    plaintext = decrypt(_encrypted_part(msg))
    return headers.restore_entity(plaintext, msg, max_header_bytes=max_header_bytes)


def decrypt_verified(
    msg: EmailMessage,
    keys: Sequence[SecretKey],
    certs: Sequence[Certificate],
    *,
    policy: Policy,
) -> tuple[EmailMessage, tuple[SignatureResult, ...]]:
    """Decrypt a PGP/MIME mail and check the signatures inside it: (the signed
    message, its header fields restored; one result per signature, none when it
    was not signed as a whole).

    Both forms of RFC 3156 §6 are read. The combined form (§6.2, what we write):
    the OpenPGP message is signed then encrypted, and its signatures cover the
    whole inner entity, header fields and all. The nested form (§6.1, what
    Thunderbird/Enigmail and others send): the decrypted entity is itself a
    PGP/MIME multipart/signed (RFC 3156 §5), whose signed part is returned.
    """
    from ..openpgp import verifying
    from . import pgpmime_signed

    found: list[tuple[bytearray, tuple[SignatureResult, ...]]] = []

    def open_signed(blob: bytes | memoryview) -> bytearray:
        plain, results = verifying.decrypt_verified(blob, keys, certs, policy=policy)
        found.append((plain, results))
        return plain

    message = open_message(
        msg, open_signed, max_header_bytes=policy.max_mail_header_bytes
    )
    plaintext, results = found[0]
    if results or not pgpmime_signed.is_signed(message):
        return message, results
    return pgpmime_signed.verify_message(
        message, bytes(plaintext), certs, policy=policy
    )
