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
after the MDC, from a spool sealed under a key held only in memory). A
signed-then-encrypted S/MIME mail decrypts to the signed mail inside its opaque
signed-data, unverified, as :func:`e2ee_mail.decrypt_message` opens it; that entity
is held in memory to be opened.

:func:`inspect_stream` describes an encrypted mail the same way, in bounded memory,
for :func:`e2ee_mail.inspect`.

Left out: a PGP/MIME part with a base64 or quoted-printable transfer encoding of the
armor is decrypted only by :func:`e2ee_mail.decrypt_message`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO, Final, Literal

from ..errors import MIMEError, UnsupportedError
from ..model import Certificate, SecretKey
from ..policy import Policy
from . import detect, headers, streamio
from .detect import parse_fields, parse_head
from .hcp import HCPChoice, resolve_hcp

if TYPE_CHECKING:
    from email.message import EmailMessage

    from .._inspect import Inspection

__all__ = [
    "decrypt_stream",
    "drain",
    "encrypt_stream",
    "inspect_stream",
    "parse_head",
    "pgpmime_armor_part",
    "pgpmime_part",
    "smime_body",
]

#: The media types of an S/MIME entity (smime.py's, not imported: a PGP/MIME
#: decryption has no use for the CMS stack it brings).
_SMIME_TYPES: Final = frozenset({"application/pkcs7-mime", "application/x-pkcs7-mime"})
#: The Content-Transfer-Encodings that leave a part's octets as they are.
_IDENTITY_ENCODINGS = ("7bit", "8bit", "binary")


#: The start of a line that continues a header block, as the ``email`` parser
#: (which decrypt_message uses) tells one: a field name of printable US-ASCII
#: other than ":" and the colon (RFC 5322 §2.2), a folded line's leading white
#: space (§2.2.3), or an mbox "From " line.
_FIELD_LINE: Final = re.compile(rb"From |[\041-\071\073-\176]*:|[\t ]")


def _body_start(block: bytes) -> int:
    """Where the body starts in ``block``, a decrypted entity's header block up to
    its empty line: at the first line that is no header field (the ``email``
    parser's reading, a body with the header block's empty line missing), else at
    the end of ``block``."""
    pos = 0
    for line in block.splitlines(keepends=True):
        if line in (b"\r\n", b"\n", b"\r"):
            break
        if not _FIELD_LINE.match(line):
            return pos
        pos += len(line)
    return len(block)


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
    hcp: HCPChoice = "baseline",
) -> None:
    """Encrypt the mail read from ``src`` into the mail written to ``dst``.

    ``hcp`` is the Header Confidentiality Policy, as for encrypt_message; the body
    is streamed as it is, so it gets no Legacy Display Element (RFC 9788 makes it
    optional)."""
    from email import policy as email_policy

    from .sealed import split_at_last_body

    checked = resolve_hcp(hcp)
    limit = policy.max_mail_header_bytes
    block, body = streamio.read_header_block(src, limit=limit)
    head = parse_head(block)
    inner = streamio.CanonicalReader(
        _header_block(headers.build_inner(head, hcp=checked, legacy_display=False)),
        body,
        src,
    )
    if format == "smime":
        from ..cms import common, envelope
        from .smime import message_from_parts

        # Refuse wrong recipients before anything is written.
        common.x509_certificates(certs, policy)
        outer = message_from_parts(head, b"\0", cipher, hcp=checked)
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
        from ..openpgp.recipients import openpgp_certs, recipient_keys
        from .pgpmime import message_from_parts as pgp_message_from_parts

        # Refuse wrong recipients (and what the policy refuses) before writing.
        recipient_keys(openpgp_certs(certs), policy)
        boundary = "=-" + random_bytes(12).hex()
        outer = pgp_message_from_parts(head, b"-\n", boundary, hcp=checked)
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
    only ever receives authenticated octets.

    An entity that is S/MIME opaque signed-data (signed then encrypted) is held
    in memory instead and written at :meth:`close` as the signed mail inside it,
    unverified, as :func:`e2ee_mail.decrypt_message` gives it."""

    def __init__(self, dst: BinaryIO, outer: EmailMessage, policy: Policy) -> None:
        self._dst = dst
        self._outer = outer
        self._policy = policy
        self._limit = policy.max_mail_header_bytes
        self._head: bytearray | None = bytearray()
        self._held: bytearray | None = None

    def write(self, data: bytes | bytearray | memoryview) -> int:
        n = len(data)
        if self._held is not None:
            self._held += data
            return n
        if self._head is None:
            self._dst.write(data)
            return n
        self._head += data
        end = streamio.header_end(self._head, max(0, len(self._head) - n - 2))
        if end > self._limit or (end < 0 and len(self._head) > self._limit):
            raise MIMEError(
                f"the decrypted entity's header block is longer than {self._limit} "
                "octets (Policy.max_mail_header_bytes)"
            )
        if end < 0:
            return n
        head, self._head = self._head, None
        self._write_head(bytes(head[:end]))
        if self._held is not None:
            self._held += head[end:]
        else:
            self._dst.write(head[end:])
        return n

    def _write_head(self, block: bytes) -> None:
        # An entity whose first lines are no header fields is still one (RFC 2045
        # §5.2: its type defaults to text/plain), often a bare text a client
        # encrypted as it was: its header block is empty and those lines are the
        # body. decrypt_message reads such entities the same way (the ``email``
        # parser's rule, see _body_start); the outer fields are restored into the
        # header block either way.
        start = _body_start(block)
        inner = parse_fields(block[:start])
        smime_type = str(inner.get_param("smime-type", "", header="content-type"))
        if (
            inner.get_content_type() in _SMIME_TYPES
            and smime_type.lower() == "signed-data"
        ):
            self._held = bytearray(block)
            return
        self._dst.write(_header_block(headers.restore(inner, self._outer)))
        self._dst.write(block[start:])

    def flush(self) -> None:
        self._dst.flush()

    def close(self) -> None:
        """Write a header block that no body followed, or the held signed mail."""
        if self._head is not None:
            head, self._head = bytes(self._head), None
            self._write_head(head)
        if self._held is not None:
            from .smime_signed import unsigned_view
            from .wire import to_bytes

            held, self._held = self._held, None
            inner = headers.restore_entity(
                held, self._outer, max_header_bytes=self._limit
            )
            self._dst.write(to_bytes(unsigned_view(inner, policy=self._policy)))


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
    limit = policy.max_mail_header_bytes
    block, body = streamio.read_header_block(src, limit=limit)
    outer = parse_head(block)
    writer = _RestoringWriter(dst, outer, policy)
    out: BinaryIO = writer  # type: ignore[assignment]
    if detect.kind(outer) == "smime":
        from ..cms import envelope

        reader = smime_body(outer, body, src)
        envelope.decrypt_stream(reader, out, keys, policy=policy, spool_dir=spool_dir)
    else:
        from ..openpgp import message

        part = pgpmime_armor_part(
            outer, body, src, policy, instead="read by decrypt_message()"
        )
        message.decrypt_stream(part, out, keys, policy=policy, spool_dir=spool_dir)  # type: ignore[arg-type]
        _pgpmime_end(part, limit)
    writer.close()


def smime_body(outer: EmailMessage, body: bytes, src: BinaryIO) -> BinaryIO:
    """The CMS octets of an S/MIME mail whose header block was ``outer``."""
    from .smime import check_encrypted_type

    check_encrypted_type(outer)
    cte = str(outer.get("content-transfer-encoding", "7bit")).strip().lower()
    if cte == "base64":
        return streamio.Base64Reader(body, src)  # type: ignore[return-value]
    if cte in _IDENTITY_ENCODINGS:
        from .._io import PrefixedReader

        return PrefixedReader(body, src)  # type: ignore[return-value]
    raise MIMEError(f"unsupported Content-Transfer-Encoding {cte!r} on S/MIME")


def pgpmime_part(
    outer: EmailMessage, body: bytes, src: BinaryIO, policy: Policy
) -> tuple[streamio.PartReader, str]:
    """The encrypted part of a PGP/MIME mail whose header block was ``outer``
    (RFC 3156 §4: the preamble and the control part checked and passed), and its
    Content-Transfer-Encoding."""
    from .pgpmime import check_control_part, check_data_part

    boundary = outer.get_boundary()
    if not boundary:
        raise MIMEError("the PGP/MIME message has no boundary parameter")
    # RFC 2046 §5.1.1: a boundary is made of US-ASCII characters only. A header
    # octet above 0x7F reaches us decoded as U+FFFD (or as the character it
    # spelled in UTF-8): no delimiter line can match it.
    if not boundary.isascii():
        raise MIMEError("the PGP/MIME boundary parameter is not US-ASCII")
    delimiter = boundary.encode("ascii")
    limit = policy.max_mail_header_bytes
    # The preamble, then part 1: short, read whole (bounded like a header block).
    preamble = streamio.PartReader(body, src, delimiter)
    drain(preamble, limit, "the preamble")
    if preamble.closing:
        raise MIMEError("PGP/MIME needs exactly two parts (RFC 3156 §4)")
    control = streamio.PartReader(preamble.rest, src, delimiter)
    control_block, control_body = streamio.read_header_block(
        control,  # type: ignore[arg-type]
        limit=limit,
    )
    control_rest = drain(control, limit)
    check_control_part(parse_head(control_block), control_body + control_rest)
    if control.closing:
        raise MIMEError("PGP/MIME needs exactly two parts (RFC 3156 §4)")
    # Part 2: its header block, then the armored message.
    block, data_body = streamio.read_header_block(src, prefix=control.rest, limit=limit)
    data = parse_head(block)
    check_data_part(data)
    cte = str(data.get("content-transfer-encoding", "7bit")).strip().lower()
    return streamio.PartReader(data_body, src, delimiter), cte


def pgpmime_armor_part(
    outer: EmailMessage, body: bytes, src: BinaryIO, policy: Policy, *, instead: str
) -> streamio.PartReader:
    """:func:`pgpmime_part` for a reader that takes the armor as it stands: a part
    in any transfer encoding but 7bit, 8bit or binary is refused, the message
    saying which function reads it ``instead`` (e.g. "read by decrypt_message()").
    """
    part, cte = pgpmime_part(outer, body, src, policy)
    if cte not in _IDENTITY_ENCODINGS:
        raise UnsupportedError(f"a PGP/MIME part in {cte} is {instead}, not streamed")
    return part


def _pgpmime_end(part: streamio.PartReader, limit: int) -> None:
    drain(part, limit, "the encrypted part")  # text after the armor's tail line
    if not part.closing:
        raise MIMEError("PGP/MIME needs exactly two parts (RFC 3156 §4)")


def inspect_stream(src: BinaryIO, policy: Policy) -> Inspection:
    """Describe the S/MIME or PGP/MIME mail read from ``src`` without any key, in
    bounded memory: the header blocks are read, the encrypted part is handed to the
    CMS or OpenPGP stream inspection as it is decoded (base64 for S/MIME and, for
    inspection, a base64 PGP/MIME part too).

    Raises:
        MIMEError: not S/MIME or PGP/MIME of the shape decrypt_stream accepts.
        FormatError, PolicyError: from the format layers.
    """
    import dataclasses

    limit = policy.max_mail_header_bytes
    block, body = streamio.read_header_block(src, limit=limit)
    outer = parse_head(block)
    if detect.kind(outer) == "smime":
        from ..cms import inspection as cms_inspection

        described = cms_inspection.inspect_stream(smime_body(outer, body, src), policy)
        return dataclasses.replace(described, format="smime")
    from ..openpgp import inspection as pgp_inspection

    part, cte = pgpmime_part(outer, body, src, policy)
    if cte == "base64":
        reader: BinaryIO = streamio.Base64Reader(b"", part)  # type: ignore[arg-type, assignment]
    elif cte in _IDENTITY_ENCODINGS:
        reader = part  # type: ignore[assignment]
    else:
        raise UnsupportedError(
            f"a PGP/MIME part in {cte} is described by inspecting the parsed "
            "message (mime/detect.py), not streamed"
        )
    described = pgp_inspection.inspect_stream(reader, policy)
    if cte == "base64":
        reader.read()  # the rest of the base64 text: white space at most
    _pgpmime_end(part, limit)
    return dataclasses.replace(described, format="pgpmime")


def drain(reader: streamio.PartReader, limit: int, what: str = "") -> bytes:
    """The rest of a short part (at most ``limit`` octets)."""
    data = reader.read(limit + 1)
    if len(data) > limit:
        raise MIMEError(f"{what or 'a part'} of the PGP/MIME message is too long")
    return data
