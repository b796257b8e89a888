"""Re-keying S/MIME and PGP/MIME mail as a stream, in bounded memory (the CLI
re-keys mail through this).

:func:`rewrap_stream` re-keys an encrypted mail of the two shapes mime/stream.py
reads: every octet is copied as it came but the encrypted blob, which the format's
stream re-keyer rewrites (new recipient entries, the sealed body copied through): an
S/MIME body is decoded from base64 and written again in 76-column lines with the
mail's line ends; a PGP/MIME message keeps its preamble, control part, part headers,
delimiters and epilogue, and its armor is written again (64-column lines, the mail's
line ends).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO

from ..errors import MIMEError
from ..model import Certificate, SecretKey
from ..policy import Policy
from . import streamio
from .stream import drain, parse_head, pgpmime_armor_part, smime_body

if TYPE_CHECKING:
    from email.message import EmailMessage

__all__ = ["rewrap_stream"]

#: Octets copied at a time after the encrypted part.
_COPY_CHUNK = 1 << 20


def rewrap_stream(
    src: BinaryIO,
    dst: BinaryIO,
    keys: Sequence[SecretKey],
    certs: Sequence[Certificate],
    *,
    policy: Policy,
) -> None:
    """Re-key the S/MIME or PGP/MIME mail read from ``src`` into ``dst``: the same
    mail, its encrypted part addressed to ``certs`` (see the module docstring). On
    failure ``dst`` may hold part of the output.

    Raises:
        MIMEError: not S/MIME or PGP/MIME of the shape decrypt_stream reads.
        UsageError: certificates of the other format.
        NoMatchingKeyError, DecryptionError, FormatError, PolicyError: from the
            format layers.
    """
    from . import detect

    block, body = streamio.read_header_block(src, limit=policy.max_mail_header_bytes)
    outer = parse_head(block)
    eol = b"\r\n" if block.endswith(b"\r\n") else b"\n"
    if detect.kind(outer) == "smime":
        _rewrap_smime(outer, block, body, src, dst, eol, keys, certs, policy)
    else:
        _rewrap_pgpmime(outer, block, body, src, dst, keys, certs, policy)


def _rewrap_smime(
    outer: EmailMessage,
    block: bytes,
    body: bytes,
    src: BinaryIO,
    dst: BinaryIO,
    eol: bytes,
    keys: Sequence[SecretKey],
    certs: Sequence[Certificate],
    policy: Policy,
) -> None:
    from ..cms import common, rekey

    reader = smime_body(outer, body, src)
    common.x509_certificates(certs, policy)  # refuse wrong recipients before writing
    dst.write(block)
    if isinstance(reader, streamio.Base64Reader):
        lines = streamio.Base64LineWriter(dst, eol)
        rekey.rewrap_stream(reader, lines, keys, certs, policy=policy)  # type: ignore[arg-type]
        lines.close()
    else:
        rekey.rewrap_stream(reader, dst, keys, certs, policy=policy)


_ARMOR_BEGIN = b"-----BEGIN PGP MESSAGE-----"


def _rewrap_pgpmime(
    outer: EmailMessage,
    block: bytes,
    body: bytes,
    src: BinaryIO,
    dst: BinaryIO,
    keys: Sequence[SecretKey],
    certs: Sequence[Certificate],
    policy: Policy,
) -> None:
    from .._io import PrefixedReader
    from ..openpgp import rekey
    from ..openpgp.recipients import openpgp_certs, recipient_keys

    # Refuse wrong recipients (and what the policy refuses) before writing.
    recipient_keys(openpgp_certs(certs), policy)
    boundary = outer.get_boundary()
    if not boundary or not boundary.isascii():
        raise MIMEError("the PGP/MIME message has no US-ASCII boundary parameter")
    delimiter = boundary.encode("ascii")
    # Everything before the armor (preamble, control part, the data part's header
    # block: three pieces decrypt_stream bounds by the policy's header limit) is
    # short: read it whole, bounded, and check it as decrypt_stream does.
    bound = 3 * policy.max_mail_header_bytes
    text = bytearray(body)
    while (at := text.find(_ARMOR_BEGIN)) < 0:
        if len(text) > bound:
            raise MIMEError(
                "the PGP/MIME message has no armored message near its start"
            )
        more = src.read(64 * 1024)
        if not more:
            raise MIMEError("the PGP/MIME message holds no armored OpenPGP message")
        text += more
    before = bytes(text[:at])
    _check_pgpmime_parts(outer, before, delimiter, policy)
    dst.write(block)
    dst.write(before)
    armor_text = bytes(text[at:])
    crlf = armor_text.split(b"\n", 1)[0].endswith(b"\r")
    out: BinaryIO = streamio.LineEndWriter(dst) if crlf else dst  # type: ignore[assignment]
    armored: BinaryIO = PrefixedReader(armor_text, src)  # type: ignore[assignment]
    after = rekey.rewrap_stream(armored, out, keys, certs, policy=policy)
    # The new armor ends its tail line; the old tail line's end is not copied again.
    while len(after) < 2 and (more := src.read(2)):
        after += more
    stripped = after.lstrip(b" \t")
    for line_end in (b"\r\n", b"\n"):
        if stripped.startswith(line_end):
            after = stripped[len(line_end) :]
            break
    dst.write(after)
    while chunk := src.read(_COPY_CHUNK):
        dst.write(chunk)


def _check_pgpmime_parts(
    outer: EmailMessage, before: bytes, delimiter: bytes, policy: Policy
) -> None:
    """Check a PGP/MIME mail up to its armor header line (``before``): the
    preamble, the control part and the data part's header block, by the checks
    decrypt_stream makes; the data part may hold nothing but white space before
    the armor.

    ``before`` is all that is read: a close delimiter after it lets the part reader
    end there instead of looking for one in the rest of the mail.
    """
    import io

    closed = before + b"\r\n--" + delimiter + b"--\r\n"
    part = pgpmime_armor_part(
        outer, closed, io.BytesIO(), policy, instead="re-keyed by rewrap_message()"
    )
    if drain(part, policy.max_mail_header_bytes).strip():
        raise MIMEError("text before the armored message in the PGP/MIME part")
