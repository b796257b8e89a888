"""PGP/MIME signed mail (RFC 3156 §5): ``multipart/signed;
protocol="application/pgp-signature"; micalg=pgp-...``.

The first part is the signed entity: the mail's body part with protected copies of
all its header fields (RFC 9788, ``hp="clear"``, as S/MIME signed mail carries
them), made 7-bit so that no transport rewrites the signed octets, and signed in
its canonical CRLF form. The second part is the detached signature, armored
("PGP SIGNATURE"). The signature is a text signature (type 0x01, RFC 9580 §5.2.1):
the entity is already CRLF, and a mail store that turned its line ends into LF
does not break it.

The multipart/signed framing (RFC 1847) is the one S/MIME uses, so the helpers
that build the signed entity and split a received multipart/signed come from
smime_signed.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from ..errors import FormatError, MIMEError, UnsupportedError
from ..model import Certificate, SecretKey, SignatureResult
from ..policy import Policy
from . import headers

if TYPE_CHECKING:
    from email.message import EmailMessage

__all__ = ["PROTOCOL", "is_signed", "sign_message", "verify_message"]

#: The ``protocol`` parameter of a PGP/MIME multipart/signed (RFC 3156 §5).
PROTOCOL: Final = "application/pgp-signature"


def is_signed(msg: EmailMessage) -> bool:
    """Whether ``msg`` is a PGP/MIME multipart/signed (RFC 3156 §5)."""
    protocol = str(msg.get_param("protocol", "", header="content-type")).lower()
    return msg.get_content_type() == "multipart/signed" and protocol == PROTOCOL


def sign_message(msg: EmailMessage, key: SecretKey, *, policy: Policy) -> EmailMessage:
    """Sign a whole mail as PGP/MIME multipart/signed (see the module docstring).

    Raises:
        UnsupportedError: ``key`` may not sign, or 8-bit content that could not
            be made 7-bit.
    """
    from ..openpgp import signing
    from .smime_signed import multipart_signed, seven_bit, signed_inner
    from .streamio import check_message_header
    from .wire import crlf_lines, to_bytes

    check_message_header(msg, policy.max_mail_header_bytes)
    micalg = signing.micalg(key)
    inner = signed_inner(msg)
    seven_bit(inner)
    entity = to_bytes(inner)
    if not entity.isascii():
        raise UnsupportedError(
            "multipart/signed needs 7-bit content (RFC 3156 §5): encode the "
            "mail's parts with base64 or quoted-printable"
        )
    signature = crlf_lines(signing.sign_detached(entity, key, text=True, armor=True))
    return multipart_signed(
        msg,
        entity,
        protocol=PROTOCOL,
        micalg=micalg,
        signature_headers=(
            b'Content-Type: application/pgp-signature; name="signature.asc"\r\n'
            b"Content-Description: OpenPGP digital signature\r\n"
            b'Content-Disposition: attachment; filename="signature.asc"\r\n'
        ),
        signature=signature,
    )


def _signature(part_bytes: bytes) -> bytes:
    from .wire import from_bytes, raw_body

    part = from_bytes(part_bytes, keep_raw=True)
    if part.get_content_type() != PROTOCOL:
        raise MIMEError(
            f"the signature part is {part.get_content_type()}, not {PROTOCOL}"
        )
    cte = str(part.get("content-transfer-encoding", "7bit")).strip().lower()
    raw = raw_body(part) if cte in ("7bit", "8bit", "binary") else None
    data = raw if raw is not None else part.get_payload(decode=True)
    if not isinstance(data, bytes | memoryview):
        raise MIMEError("the signature part has no body")
    return bytes(data)


def verify_message(
    msg: EmailMessage,
    raw: bytes | None,
    certs: Sequence[Certificate],
    *,
    policy: Policy,
) -> tuple[EmailMessage, tuple[SignatureResult, ...]]:
    """(the signed entity as a message, its protected header fields restored; one
    result per signature) of a PGP/MIME multipart/signed mail.

    Args:
        msg: the parsed mail.
        raw: its octets when the caller has them (else serialized from ``msg``).
        certs: the certificates whose signatures count as good.

    Raises:
        MIMEError: not two parts, or a second part that is not
            application/pgp-signature.
    """
    from ..openpgp import verifying
    from .smime_signed import crlf, signed_part, wire_bytes

    boundary = msg.get_boundary()
    if not boundary:
        raise MIMEError("multipart/signed without a boundary")
    content, sig_part = signed_part(
        wire_bytes(msg) if raw is None else crlf(raw), boundary
    )
    try:
        results = verifying.verify_detached(
            content, _signature(sig_part), certs, policy=policy
        )
    except FormatError as exc:
        results = (SignatureResult("bad", reason=f"the signature is malformed: {exc}"),)
    signed = headers.restore_entity(
        content, msg, max_header_bytes=policy.max_mail_header_bytes
    )
    return signed, results
