"""S/MIME and PGP/MIME mail as streams, in bounded memory (the CLI encrypts and
decrypts mail through these).

:func:`encrypt_stream` reads a whole mail (RFC 5322 octets) and writes the encrypted
mail, CRLF line ends. The header fields go through ``email`` exactly as in
:func:`e2ee_mail.encrypt_message` (mime/headers.py: RFC 9788 header protection; the
outer message is built by smime.py/pgpmime.py around a placeholder body and cut
where that body goes). The body is streamed: canonicalized to CRLF (RFC 8551
§3.1.1, RFC 3156 §3), encrypted by the CMS or OpenPGP stream encrypter (CMS: BER
with indefinite lengths, as ``openssl cms -stream`` writes; OpenPGP: partial body
lengths), and written as base64 lines or ASCII armor as it is produced.

:func:`decrypt_stream` reads an encrypted mail and writes the decrypted one, its
protected header fields restored and its body as it was encrypted. The shapes
:func:`e2ee_mail.decrypt_message` refuses are refused (the encrypted part must be
the whole body: EFAIL), and nothing unauthenticated is written (CMS: after the tag,
on a second pass over the spooled ciphertext; SEIPDv2: per verified chunk; SEIPDv1:
after the MDC, from a spool sealed under a key held only in memory).

Left out: a PGP/MIME part with a base64 or quoted-printable transfer encoding of the
armor is read only by :func:`e2ee_mail.decrypt_message`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO, Literal

from ..errors import MIMEError, UnsupportedError
from ..model import Certificate, SecretKey
from ..policy import Policy
from . import headers, streamio

if TYPE_CHECKING:
    from email.message import EmailMessage

__all__ = ["decrypt_stream", "encrypt_stream"]


def _parse_head(block: bytes) -> EmailMessage:
    from email import policy
    from email.message import EmailMessage
    from email.parser import BytesParser

    try:
        head = BytesParser(policy=policy.default).parsebytes(block, headersonly=True)
    except Exception as exc:  # the email package raises many types on odd input
        raise MIMEError(f"not a parseable mail message: {exc}") from None
    if not len(head.keys()):
        raise MIMEError("not a mail message: no header fields")
    assert isinstance(head, EmailMessage)
    return head


def _header_block(msg: EmailMessage) -> bytes:
    """``msg``'s header fields as ``as_bytes(policy=SMTP)`` writes them, and the
    empty line after them."""
    from email import policy

    smtp = policy.SMTP
    try:
        fields = [smtp.fold_binary(name, value) for name, value in msg.raw_items()]
    except Exception as exc:  # malformed header fields
        raise MIMEError(f"cannot write the header fields: {exc}") from None
    return b"".join(fields) + b"\r\n"


def encrypt_stream(
    src: BinaryIO,
    dst: BinaryIO,
    certs: Sequence[Certificate],
    *,
    format: Literal["smime", "pgpmime"],
    cipher: Literal["aes-256-gcm", "aes-256-cbc"] = "aes-256-gcm",
    policy: Policy,
) -> None:
    """Encrypt the mail read from ``src`` into the mail written to ``dst``."""
    from email import policy as email_policy

    from .sealed import split_at_last_body

    block, body = streamio.read_header_block(src)
    head = _parse_head(block)
    inner = streamio.CanonicalReader(
        _header_block(headers.build_inner(head)), body, src
    )
    if format == "smime":
        from ..cms import common, envelope
        from .smime import message_from_parts

        common.x509_certificates(certs)  # refuse wrong recipients before writing
        outer = message_from_parts(head, b"\0", cipher)
        before, after = split_at_last_body(outer, email_policy.SMTP)
        dst.write(before)
        lines = streamio.Base64LineWriter(dst)
        envelope.encrypt_stream(
            inner,  # type: ignore[arg-type]
            lines,  # type: ignore[arg-type]
            certs,
            armor=False,
            cipher=cipher,
            policy=policy,
        )
        lines.close()
    else:
        from ..core.random import random_bytes
        from ..openpgp import message
        from ..openpgp.recipients import openpgp_certs
        from .pgpmime import message_from_parts as pgp_message_from_parts

        openpgp_certs(certs)  # refuse wrong recipients before writing
        boundary = "=-" + random_bytes(12).hex()
        outer = pgp_message_from_parts(head, b"-\n", boundary)
        before, after = split_at_last_body(outer, email_policy.SMTP)
        dst.write(before)
        message.encrypt_stream(
            inner,  # type: ignore[arg-type]
            streamio.LineEndWriter(dst),  # type: ignore[arg-type]
            certs,
            armor=True,
            policy=policy,
        )
    dst.write(after)


class _RestoringWriter:
    """Passes the decrypted entity to ``dst`` with its header block rewritten by
    ``headers.restore`` (protected header fields back, markers gone); the body
    goes out as it was encrypted (a signed inner part needs its exact octets). It
    only ever receives authenticated octets."""

    def __init__(self, dst: BinaryIO, outer: EmailMessage) -> None:
        self._dst = dst
        self._outer = outer
        self._head: bytearray | None = bytearray()

    def write(self, data: bytes | bytearray | memoryview) -> int:
        n = len(data)
        if self._head is None:
            self._dst.write(data)
            return n
        self._head += data
        end = streamio.header_end(self._head, max(0, len(self._head) - n - 2))
        if end < 0:
            if len(self._head) > streamio.MAX_HEADER_BLOCK:
                raise MIMEError("the decrypted entity's header block is too long")
            return n
        head, self._head = self._head, None
        self._write_head(bytes(head[:end]))
        self._dst.write(head[end:])
        return n

    def _write_head(self, block: bytes) -> None:
        inner = _parse_head(block)
        self._dst.write(_header_block(headers.restore(inner, self._outer)))

    def flush(self) -> None:
        self._dst.flush()

    def close(self) -> None:
        """Write a header block that no body followed."""
        if self._head is not None:
            head, self._head = bytes(self._head), None
            self._write_head(head)


def decrypt_stream(
    src: BinaryIO,
    dst: BinaryIO,
    keys: Sequence[SecretKey],
    *,
    policy: Policy,
    spool_dir: str | None = None,
) -> None:
    """Decrypt the mail read from ``src`` into the decrypted mail written to
    ``dst`` (on failure, ``dst`` may hold a prefix of authenticated octets only;
    write to a temporary file and rename for all-or-nothing, as the CLI does).
    The format layers' spools go to ``spool_dir`` (none holds plaintext in clear).

    Raises:
        MIMEError: not S/MIME or PGP/MIME of the shape decrypt_message accepts.
        NoMatchingKeyError, DecryptionError, FormatError, PolicyError: from the
            format layers.
    """
    from . import detect

    block, body = streamio.read_header_block(src)
    outer = _parse_head(block)
    out = _RestoringWriter(dst, outer)
    if detect.kind(outer) == "smime":
        _open_smime(outer, body, src, out, keys, policy, spool_dir)
    else:
        _open_pgpmime(outer, body, src, out, keys, policy, spool_dir)
    out.close()


def _open_smime(
    outer: EmailMessage,
    body: bytes,
    src: BinaryIO,
    out: _RestoringWriter,
    keys: Sequence[SecretKey],
    policy: Policy,
    spool_dir: str | None,
) -> None:
    from ..cms import envelope
    from .smime import check_encrypted_type

    check_encrypted_type(outer)
    cte = str(outer.get("content-transfer-encoding", "7bit")).strip().lower()
    if cte == "base64":
        reader: BinaryIO = streamio.Base64Reader(body, src)  # type: ignore[assignment]
    elif cte in ("binary", "8bit", "7bit"):
        from .._io import PrefixedReader

        reader = PrefixedReader(body, src)  # type: ignore[assignment]
    else:
        raise MIMEError(f"unsupported Content-Transfer-Encoding {cte!r} on S/MIME")
    envelope.decrypt_stream(
        reader,
        out,  # type: ignore[arg-type]
        keys,
        policy=policy,
        spool_dir=spool_dir,
    )


def _open_pgpmime(
    outer: EmailMessage,
    body: bytes,
    src: BinaryIO,
    out: _RestoringWriter,
    keys: Sequence[SecretKey],
    policy: Policy,
    spool_dir: str | None,
) -> None:
    from ..openpgp import message
    from .pgpmime import check_control_part, check_data_part

    boundary = outer.get_boundary()
    if not boundary:
        raise MIMEError("the PGP/MIME message has no boundary parameter")
    delimiter = boundary.encode("ascii", "surrogateescape")
    # The preamble, then part 1: short, read whole (bounded).
    preamble = streamio.PartReader(body, src, delimiter)
    _drain(preamble, "the preamble")
    if preamble.closing:
        raise MIMEError("PGP/MIME needs exactly two parts (RFC 3156 §4)")
    control = streamio.PartReader(preamble.rest, src, delimiter)
    control_block, control_body = streamio.read_header_block(control)  # type: ignore[arg-type]
    check_control_part(_parse_head(control_block), control_body + _drain(control))
    if control.closing:
        raise MIMEError("PGP/MIME needs exactly two parts (RFC 3156 §4)")
    # Part 2: its header block, then the armored message, streamed.
    block, data_body = streamio.read_header_block(src, prefix=control.rest)
    data = _parse_head(block)
    check_data_part(data)
    cte = str(data.get("content-transfer-encoding", "7bit")).strip().lower()
    if cte not in ("7bit", "8bit", "binary"):
        raise UnsupportedError(
            f"a PGP/MIME part in {cte} is read by decrypt_message(), not streamed"
        )
    part = streamio.PartReader(data_body, src, delimiter)
    message.decrypt_stream(
        part,  # type: ignore[arg-type]
        out,  # type: ignore[arg-type]
        keys,
        policy=policy,
        spool_dir=spool_dir,
    )
    _drain(part, "the encrypted part")  # text after the armor's tail line
    if not part.closing:
        raise MIMEError("PGP/MIME needs exactly two parts (RFC 3156 §4)")


def _drain(reader: streamio.PartReader, what: str = "") -> bytes:
    """The rest of a short part (at most MAX_HEADER_BLOCK octets)."""
    data = reader.read(streamio.MAX_HEADER_BLOCK + 1)
    if len(data) > streamio.MAX_HEADER_BLOCK:
        raise MIMEError(f"{what or 'a part'} of the PGP/MIME message is too long")
    return data
