"""Find encrypted blobs inside a stored mail, and splice re-wrapped ones back in.

Works on the raw bytes of one message, not through ``email`` (the parser and generator
are slow, and re-generating would rewrite headers and line endings): it
walks the MIME tree (RFC 2045 headers, RFC 2046 §5.1 multipart boundaries) only to
find byte spans, so that re-keying changes those spans and nothing else. Found:

* S/MIME: ``application/(x-)pkcs7-mime`` with smime-type enveloped-data or
  authEnveloped-data (RFC 8551 §3.3), or a ``.p7m``/``.p7e`` attachment, whose
  decoded content is CMS EnvelopedData / AuthEnvelopedData (RFC 5652 §6, RFC 5083);
* PGP/MIME: the ``application/octet-stream`` part of ``multipart/encrypted;
  protocol="application/pgp-encrypted"`` (RFC 3156 §4);
* bare OpenPGP attachments (``application/pgp-encrypted``, ``.pgp``/``.gpg``/``.asc``)
  and inline armored ``-----BEGIN PGP MESSAGE-----`` blocks in 7bit/8bit text, whose
  content starts with armor or a PKESK packet (RFC 9580 §5.1).

Left out: quoted-printable parts (an armored block under QP is reported, not
re-encoded), RFC 2231 parameter continuations, and encrypted messages nested inside
other encrypted messages. The input is hostile: depth and part counts are bounded and
every malformed shape ends in a :class:`~e2ee_mail.MIMEError` or is left alone.
"""

from __future__ import annotations

import binascii
import dataclasses
import re
from collections.abc import Iterator, Sequence
from typing import Final, Literal

import pybase64

from ..core import b64
from ..errors import MIMEError, UnsupportedError

__all__ = ["EncryptedPart", "encode", "extract", "find_encrypted", "splice"]

MAX_DEPTH: Final = 16
MAX_PARTS: Final = 2000

BlobKind = Literal["cms", "openpgp"]
Transfer = Literal["base64", "raw"]

_HEADER_END = re.compile(rb"\r?\n\r?\n")
# A parameter list's items: runs between semicolons, a quoted string whole (RFC 2045
# §5.1), and the quoted-pair of a quoted string (RFC 822 §3.4.1). Compiled once:
# the scan runs twice per message of a mailbox re-key.
_PARAM_ITEMS = re.compile(rb'(?:[^;"]|"(?:[^"\\]|\\.)*")+')
_QUOTED_PAIR = re.compile(rb"\\(.)")
_ARMOR_BEGIN: Final = b"-----BEGIN PGP MESSAGE-----"
_ARMOR_END: Final = b"-----END PGP MESSAGE-----"
_SMIME_TYPES: Final = frozenset((b"enveloped-data", b"authenveloped-data"))
_PKCS7_MIME: Final = frozenset((b"application/pkcs7-mime", b"application/x-pkcs7-mime"))
_PGP_NAMES: Final = (b".pgp", b".gpg", b".asc")
_CMS_NAMES: Final = (b".p7m", b".p7e")
# DER of the content-type OIDs id-envelopedData (RFC 5652 §6.1) and
# id-ct-authEnvelopedData (RFC 5083 §1.1), as they appear near the start of a
# ContentInfo.
_CMS_OIDS: Final = (
    bytes.fromhex("06092a864886f70d010703"),
    bytes.fromhex("060b2a864886f70d0109100117"),
)


@dataclasses.dataclass(frozen=True, slots=True)
class EncryptedPart:
    """One encrypted blob inside a message.

    Attributes:
        kind: "cms" or "openpgp".
        start, end: the byte span replaced on re-keying (base64 text or armor block).
        transfer: "base64" (the span is base64 lines) or "raw" (the span is the blob).
        eol: the line ending used inside the span.
        line_length: base64 line length to reproduce.
        where: a public description ("S/MIME body", "attachment 'x.pgp'" ...).
    """

    kind: BlobKind
    start: int
    end: int
    transfer: Transfer
    eol: bytes
    line_length: int
    where: str


class _Entity:
    """One MIME entity's header facts and body span (never changed once made; a
    plain slotted class: several are made per message, on the re-key's hot path)."""

    __slots__ = ("body_end", "body_start", "cte", "ctype", "filename", "params")

    def __init__(
        self,
        ctype: bytes,
        params: dict[bytes, bytes],
        cte: bytes,
        filename: bytes,
        body_start: int,
        body_end: int,
    ) -> None:
        self.ctype = ctype
        self.params = params
        self.cte = cte
        self.filename = filename
        self.body_start = body_start
        self.body_end = body_end


def find_encrypted(message: bytes) -> tuple[EncryptedPart, ...]:
    """Every encrypted blob of ``message``, in byte order.

    Raises:
        MIMEError: the MIME structure is too deep, too wide or unusable.
        UnsupportedError: an encrypted blob sits in a transfer encoding we cannot
            re-encode in place (quoted-printable).
    """
    found: list[EncryptedPart] = []
    counter = [0]
    _walk(message, 0, len(message), None, 0, counter, found)
    return tuple(sorted(found, key=lambda p: p.start))


def extract(message: bytes, part: EncryptedPart) -> bytes:
    """The blob of ``part``: CMS DER/PEM or OpenPGP binary/armor, as stored."""
    span = message[part.start : part.end]
    if part.transfer == "raw":
        return span
    return _b64decode(span)


def encode(part: EncryptedPart, blob: bytes) -> bytes:
    """Encode ``blob`` for ``part``'s span the way the original was encoded."""
    if part.transfer == "raw":
        text = blob.rstrip(b"\r\n") if blob.startswith(b"-----BEGIN") else blob
        if text.startswith(b"-----BEGIN"):
            text = text.replace(b"\r\n", b"\n").replace(b"\n", part.eol)
        return text
    width, eol = part.line_length, part.eol
    if width > 0 and width % 4 == 0:
        # Whole lines in one pass (pybase64's own line breaks at 76 columns), not
        # one slice per line: the span ends without a line break, as it was found.
        lines = b64.encode_lines(blob, width=width, eol=eol)
        return bytes(lines[: len(lines) - len(eol)] if lines else lines)
    encoded = pybase64.b64encode(blob)
    return eol.join(encoded[i : i + width] for i in range(0, len(encoded), width))


def splice(
    message: bytes, replacements: Sequence[tuple[EncryptedPart, bytes]]
) -> bytes:
    """``message`` with each part's span replaced; every other byte kept."""
    out: list[bytes] = []
    pos = 0
    for part, text in sorted(replacements, key=lambda r: r[0].start):
        if part.start < pos:
            raise MIMEError("overlapping encrypted parts")
        out += (message[pos : part.start], text)
        pos = part.end
    out.append(message[pos:])
    return b"".join(out)


def _b64decode(span: bytes) -> bytes:
    try:
        return pybase64.b64decode(span.translate(None, b" \t\r\n"), validate=True)
    except (binascii.Error, ValueError):
        raise MIMEError("an encrypted part is not valid base64") from None


def _walk(
    data: bytes,
    start: int,
    end: int,
    parent: _Entity | None,
    depth: int,
    counter: list[int],
    found: list[EncryptedPart],
) -> None:
    if depth > MAX_DEPTH:
        raise MIMEError(f"MIME nesting deeper than {MAX_DEPTH}")
    counter[0] += 1
    if counter[0] > MAX_PARTS:
        raise MIMEError(f"more than {MAX_PARTS} MIME parts")
    entity = _entity(data, start, end)
    if entity.ctype.startswith(b"multipart/"):
        boundary = entity.params.get(b"boundary")
        if not boundary:
            raise MIMEError("multipart entity without a boundary parameter")
        for s, e in _parts(data, entity.body_start, entity.body_end, boundary):
            _walk(data, s, e, entity, depth + 1, counter, found)
        return
    part = _classify(data, entity, parent)
    if part is not None:
        found.append(part)


def _entity(data: bytes, start: int, end: int) -> _Entity:
    if data.startswith((b"\r\n", b"\n"), start):
        head_end = start
        body_start = start + (2 if data.startswith(b"\r\n", start) else 1)
    else:
        m = _HEADER_END.search(data, start, end)
        head_end, body_start = (m.start(), m.end()) if m else (end, end)
    fields = _header_fields(data[start:head_end])
    ctype, params = _parse_params(fields.get(b"content-type", b"text/plain"))
    disposition = fields.get(b"content-disposition")
    filename = None
    if disposition:
        filename = _parse_params(b"x;" + disposition)[1].get(b"filename")
    cte = fields.get(b"content-transfer-encoding", b"7bit").strip().lower()
    filename = filename or params.get(b"name") or b""
    return _Entity(ctype, params, cte, filename.lower(), body_start, end)


#: The only header fields the scan reads: all three start with "content-".
_WANTED: Final = frozenset(
    (b"content-type", b"content-disposition", b"content-transfer-encoding")
)


def _header_fields(head: bytes) -> dict[bytes, bytes]:
    """The first occurrence of each :data:`_WANTED` field, unfolded. Other fields
    are not parsed: a stored mail's top-level header is mostly Received and DKIM
    lines, read on every message of a re-key."""
    fields: dict[bytes, bytes] = {}
    name = b""  # the last field's name (b"?" for one not wanted)
    for line in head.splitlines():
        if line[:1] in (b" ", b"\t") and name:
            if name in fields:
                fields[name] += b" " + line.strip()
            continue
        if line[:8].lower() != b"content-" and line[:1] not in (b" ", b"\t"):
            if b":" in line:
                name = b"?"
            continue
        key, colon, value = line.partition(b":")
        if colon:
            name = key.strip().lower()
            if name in _WANTED and name not in fields:
                fields[name] = value.strip()
    return fields


def _parse_params(value: bytes) -> tuple[bytes, dict[bytes, bytes]]:
    if b'"' in value:
        items = _PARAM_ITEMS.findall(value)
    else:
        # No quoted string: the same non-empty runs between semicolons.
        items = [item for item in value.split(b";") if item]
    head = items[0].strip().lower() if items else b""
    params: dict[bytes, bytes] = {}
    for item in items[1:]:
        key, eq, val = item.partition(b"=")
        if not eq:
            continue
        key = key.strip().lower().rstrip(b"*")
        val = val.strip()
        if val.startswith(b'"') and val.endswith(b'"') and len(val) >= 2:
            val = val[1:-1]
            if b"\\" in val:
                val = _QUOTED_PAIR.sub(rb"\1", val)
        elif b"''" in val:
            # RFC 2231 extended value: charset'language'value.
            val = val.split(b"''", 1)[1]
        params[key] = val
    return head, params


def _parts(data: bytes, start: int, end: int, boundary: bytes) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    part_start: int | None = None
    for delim_start, delim_end, closing in _delimiters(data, start, end, boundary):
        if part_start is not None:
            # RFC 2046 §5.1.1: the line break before a delimiter belongs to it.
            part_end = delim_start
            if data[part_end - 2 : part_end] == b"\r\n":
                part_end -= 2
            elif data[part_end - 1 : part_end] == b"\n":
                part_end -= 1
            spans.append((part_start, max(part_start, part_end)))
        if closing:
            return spans
        nl = data.find(b"\n", delim_end, end)
        part_start = end if nl < 0 else nl + 1
    if part_start is None:
        raise MIMEError("multipart body has no boundary delimiter")
    # A missing close delimiter: the last part runs to the end (lenient, as MUAs).
    spans.append((part_start, end))
    return spans


def _delimiters(
    data: bytes, start: int, end: int, boundary: bytes
) -> Iterator[tuple[int, int, bool]]:
    """(start, end before the line break, closing) of each delimiter line in
    ``data[start:end]``: a line "--" boundary, then "--" for the close delimiter,
    then only spaces and tabs (RFC 2046 §5.1.1). Found with ``bytes.find``: a
    multiline regular expression tries every offset of the body."""
    marker = b"--" + boundary
    pos = start
    while (at := data.find(marker, pos, end)) >= 0:
        pos = at + 1
        if at and data[at - 1] != 0x0A:
            continue  # not at the start of a line
        k = at + len(marker)
        closing = data.startswith(b"--", k, end)
        if closing:
            k += 2
        while k < end and data[k] in (0x20, 0x09):
            k += 1
        if k < end and data[k] == 0x0D and (k + 1 == end or data[k + 1] == 0x0A):
            k += 1
        if k < end and data[k] != 0x0A:
            continue
        pos = k
        yield at, k, closing


def _armor_span(data: bytes, start: int, end: int) -> tuple[int, int] | None:
    """The span of the first armored message block in ``data[start:end]``: its
    BEGIN line (followed by a line break) through its END line's dashes."""
    pos = start
    while (at := data.find(_ARMOR_BEGIN, pos, end)) >= 0:
        after = at + len(_ARMOR_BEGIN)
        if data.startswith((b"\n", b"\r\n"), after, end):
            stop = data.find(_ARMOR_END, after, end)
            return None if stop < 0 else (at, stop + len(_ARMOR_END))
        pos = after
    return None


def _eol(span: bytes) -> bytes:
    nl = span.find(b"\n")
    return b"\r\n" if nl > 0 and span[nl - 1 : nl] == b"\r" else b"\n"


def _classify(
    data: bytes, entity: _Entity, parent: _Entity | None
) -> EncryptedPart | None:
    ctype, name = entity.ctype, entity.filename
    in_pgpmime = (
        parent is not None
        and parent.ctype == b"multipart/encrypted"
        and parent.params.get(b"protocol", b"").lower() == b"application/pgp-encrypted"
        and ctype == b"application/octet-stream"
    )
    smime = ctype in _PKCS7_MIME and (
        entity.params.get(b"smime-type", b"").lower() in _SMIME_TYPES
        or (b"smime-type" not in entity.params and name.endswith(_CMS_NAMES))
    )
    cms_file = name.endswith(_CMS_NAMES)
    pgp_file = ctype in (b"application/pgp-encrypted", b"application/pgp") or (
        name.endswith(_PGP_NAMES)
    )
    inline = ctype == b"text/plain"
    if not (in_pgpmime or smime or cms_file or pgp_file or inline):
        return None
    if (
        ctype == b"application/pgp-encrypted"
        and parent is not None
        and (parent.ctype == b"multipart/encrypted")
    ):
        return None  # the RFC 3156 "Version: 1" control part
    where = _where(entity, in_pgpmime, smime and parent is None)
    start, end = entity.body_start, entity.body_end
    if entity.cte == b"base64":
        if inline:
            return None  # base64 text bodies: inline PGP there is not handled
        span_end = start + len(data[start:end].rstrip())
        # An S/MIME enveloped body is CMS whatever it decodes to: it is decoded
        # (and its base64 checked) when it is extracted, not here as well.
        kind = _blob_kind(
            b"" if smime else _b64decode(data[start:span_end]),
            cms=smime or cms_file,
            pgp=in_pgpmime or pgp_file,
            sure=smime,
        )
        if kind is None:
            return None
        first = data[start:span_end].split(b"\n", 1)[0].rstrip(b"\r")
        width = len(first) if 4 <= len(first) <= 998 else 76
        eol = _eol(data[start:span_end])
        return EncryptedPart(kind, start, span_end, "base64", eol, width, where)
    armor = _armor_span(data, start, end)
    if entity.cte == b"quoted-printable":
        if armor is not None or smime or in_pgpmime:
            raise UnsupportedError(
                f"{where}: encrypted content under quoted-printable is not re-encoded"
            )
        return None
    if armor is not None:
        eol = _eol(data[armor[0] : armor[1]])
        return EncryptedPart("openpgp", armor[0], armor[1], "raw", eol, 0, where)
    if entity.cte == b"binary" and not inline:
        blob = data[start:end]
        kind = _blob_kind(
            blob, cms=smime or cms_file, pgp=in_pgpmime or pgp_file, sure=smime
        )
        if kind is not None:
            return EncryptedPart(kind, start, end, "raw", b"\n", 0, where)
    return None


def _blob_kind(
    blob: bytes, *, cms: bool, pgp: bool, sure: bool = False
) -> BlobKind | None:
    """What ``blob`` is; ``sure`` when its content type already says S/MIME
    enveloped data, so damage shows up as a failure, not as "not encrypted"."""
    if sure:
        return "cms"
    head = blob.lstrip()[:64]
    if pgp and head.startswith(b"-----BEGIN PGP MESSAGE-----"):
        return "openpgp"
    # A PKESK packet first (tag 1): old format 0x84-0x87, new format 0xC1.
    if pgp and blob[:1] and (0x84 <= blob[0] <= 0x87 or blob[0] == 0xC1):
        return "openpgp"
    if cms and blob[:1] == b"\x30" and any(oid in blob[:32] for oid in _CMS_OIDS):
        return "cms"
    return None


def _where(entity: _Entity, in_pgpmime: bool, smime_body: bool) -> str:
    if in_pgpmime:
        return "PGP/MIME body"
    if smime_body:
        return "S/MIME body"
    if entity.filename:
        return f"attachment {entity.filename.decode('latin-1')!r}"
    return "inline PGP message"
