"""The outer framing of CMS enveloped messages, read from a stream.

Implements the layout of ContentInfo (RFC 5652 §3) holding AuthEnvelopedData
(RFC 5083 §2.1) or EnvelopedData (RFC 5652 §6.1) as a BER/DER reader that never holds
the encrypted content in memory: it parses everything before encryptedContent, then
reports the content as a series of segment lengths (one for a primitive [0], one per
OCTET STRING for the constructed, possibly indefinite-length form that streaming
writers such as ``openssl cms -stream`` use), then parses the trailer (authAttrs, mac,
unauthAttrs, end-of-contents octets). X.690 §8.1.3.6 indefinite lengths are accepted
anywhere in the framing; the small structures in between are re-encoded with definite
lengths before they go to the recipient-side codec (asn1.py).

Every bound comes from the Policy: the bytes before and after the body are limited to
``max_header_bytes`` and nesting to a fixed depth, so hostile input cannot make us
allocate without bound. A codec: no cryptography, no randomness, no files opened.

Left out: detached content (encryptedContent absent), multi-octet tags.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Final

from ..core.record import Record
from ..errors import ASN1Error, FormatError, UnsupportedError
from . import asn1, oids, structures
from .tlv import EOC, INDEFINITE, decode_oid, length_octets

__all__ = ["EnvelopeHeader", "EnvelopeReader", "Trailer"]

#: Deepest nesting of constructed elements we follow (X.690 allows any).
MAX_DEPTH: Final = 32
_OID_AUTH_ENVELOPED: Final = asn1.der_oid(oids.AUTH_ENVELOPED_DATA)
_OID_ENVELOPED: Final = asn1.der_oid(oids.ENVELOPED_DATA)


class EnvelopeHeader(Record):
    """Everything before the encrypted content.

    Attributes:
        content_type: oids.AUTH_ENVELOPED_DATA or oids.ENVELOPED_DATA.
        version: the raw version element (copied as is by rewrap).
        originator_info: the raw originatorInfo element, or b"".
        recipient_infos: the parsed recipient entries.
        content_encryption_algorithm: from EncryptedContentInfo.
        inner_content_type: the encrypted content's type (dotted OID).
        eci_offset: offset of EncryptedContentInfo from the start of the input.
        indefinite: whether any outer layer used an indefinite length (BER).
    """

    _fields = (
        "content_type",
        "version",
        "originator_info",
        "recipient_infos",
        "content_encryption_algorithm",
        "inner_content_type",
        "eci_offset",
        "indefinite",
    )
    __slots__ = _fields
    content_type: str
    version: bytes
    originator_info: bytes
    recipient_infos: tuple[structures.RecipientInfo, ...]
    content_encryption_algorithm: structures.AlgorithmIdentifier
    inner_content_type: str
    eci_offset: int
    indefinite: bool

    def __init__(
        self,
        content_type: str,
        version: bytes,
        originator_info: bytes,
        recipient_infos: tuple[structures.RecipientInfo, ...],
        content_encryption_algorithm: structures.AlgorithmIdentifier,
        inner_content_type: str,
        eci_offset: int,
        indefinite: bool,
    ) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "content_type", content_type)
        setattr_(self, "version", version)
        setattr_(self, "originator_info", originator_info)
        setattr_(self, "recipient_infos", recipient_infos)
        setattr_(self, "content_encryption_algorithm", content_encryption_algorithm)
        setattr_(self, "inner_content_type", inner_content_type)
        setattr_(self, "eci_offset", eci_offset)
        setattr_(self, "indefinite", indefinite)


class Trailer(Record):
    """What follows the encrypted content.

    Attributes:
        auth_attrs: raw [1] authAttrs (AuthEnvelopedData) or None.
        mac: the AuthEnvelopedData mac (the GCM tag), or None for EnvelopedData.
        content_end: offset just past the AuthEnvelopedData/EnvelopedData content
            (before any end-of-contents octets of the outer layers).
    """

    _fields = ("auth_attrs", "mac", "content_end")
    __slots__ = _fields
    auth_attrs: bytes | None
    mac: bytes | None
    content_end: int

    def __init__(
        self, auth_attrs: bytes | None, mac: bytes | None, content_end: int
    ) -> None:
        object.__setattr__(self, "auth_attrs", auth_attrs)
        object.__setattr__(self, "mac", mac)
        object.__setattr__(self, "content_end", content_end)


class EnvelopeReader:
    """Reads one enveloped ContentInfo from ``src`` in three steps:
    :meth:`read_header`, :meth:`segments`, :meth:`read_trailer`.

    Between segments the caller consumes each segment's bytes itself, from
    :attr:`src` (or by :meth:`skip`), and reports them with :meth:`advance`.
    """

    def __init__(
        self, src: BinaryIO, *, max_header_bytes: int, max_recipients: int
    ) -> None:
        self.src = src
        self._max_recipients = max_recipients
        self._content_end = 0
        self.pos = 0
        self._budget = max_header_bytes
        self._limit = max_header_bytes
        # Open constructed elements: their end offset, or None when indefinite.
        self._stack: list[int | None] = []
        self._content_definite: int | None = None
        self._content_primitive = False
        #: Where the enveloped-data SEQUENCE ends (after :meth:`read_header`), or
        #: None when its length is indefinite: then only the trailer tells.
        self.enveloped_end: int | None = None

    # --- low level ---------------------------------------------------------------

    def _read(self, n: int) -> bytes:
        if self.pos + n > self._limit:
            raise ASN1Error(
                "CMS structure too large: the part outside the body exceeds the "
                "policy limit (max_header_bytes)"
            )
        data = self.src.read(n)
        while len(data) < n:
            # Streams may return short reads (pipes, PrefixedReader).
            more = self.src.read(n - len(data))
            if not more:
                raise FormatError("the CMS message is truncated")
            data += more
        self.pos += n
        return data

    def advance(self, n: int) -> None:
        """Record ``n`` body bytes consumed by the caller directly from :attr:`src`."""
        self.pos += n

    def _header(self) -> tuple[int, int | None, bytes]:
        """Read a tag and a length. Returns (tag, length or None, raw header)."""
        raw = self._read(2)
        tag, first = raw[0], raw[1]
        if first < 0x80 and tag & 0x1F != 0x1F:
            return tag, first, raw  # the short form inlined: most headers
        count = length_octets(tag, first)
        if count:
            more = self._read(count)
            return tag, int.from_bytes(more, "big"), raw + more
        return tag, None if first == INDEFINITE else first, raw

    def _expect(self, tag: int, what: str) -> int | None:
        got, length, _ = self._header()
        if got != tag:
            raise ASN1Error(f"malformed CMS: expected {what}")
        return length

    def _open(self, length: int | None) -> None:
        self._stack.append(None if length is None else self.pos + length)
        if len(self._stack) > MAX_DEPTH:
            raise ASN1Error("ASN.1 nesting too deep")

    def _close(self) -> None:
        end = self._stack.pop()
        if end is None:
            if self._read(2) != EOC:
                raise ASN1Error("malformed CMS: missing end-of-contents octets")
        elif self.pos != end:
            raise ASN1Error("malformed CMS: element length does not match its content")

    def _element(self, depth: int = 0) -> bytes:
        """Read one whole element (at most the header budget), re-encoded definite."""
        tag, length, raw = self._header()
        return self._element_rest(tag, length, raw, depth)

    def _element_rest(
        self, tag: int, length: int | None, raw: bytes, depth: int
    ) -> bytes:
        if depth > MAX_DEPTH:
            raise ASN1Error("ASN.1 nesting too deep")
        if length is not None:
            return raw + self._read(length)
        parts = []
        while True:
            child_tag, child_len, child_raw = self._header()
            if child_tag == 0 and child_len == 0:
                break
            parts.append(self._element_rest(child_tag, child_len, child_raw, depth + 1))
        return asn1.der_tlv(tag, b"".join(parts))

    # --- the three steps ---------------------------------------------------------

    def read_header(self) -> EnvelopeHeader:
        """Parse ContentInfo up to the first byte of the encrypted content.

        Raises:
            ASN1Error: malformed framing.
            UnsupportedError: not an enveloped content type, or content we do not read.
        """
        self._open(self._expect(0x30, "a ContentInfo SEQUENCE"))
        oid_len = self._expect(0x06, "a content type")
        oid = self._read(oid_len or 0)
        if oid == _OID_AUTH_ENVELOPED[2:]:
            content_type = oids.AUTH_ENVELOPED_DATA
        elif oid == _OID_ENVELOPED[2:]:
            content_type = oids.ENVELOPED_DATA
        else:
            raise UnsupportedError(
                f"this CMS message has content type {decode_oid(oid)}, not "
                "AuthEnvelopedData or EnvelopedData: it is not encrypted"
            )
        self._open(self._expect(0xA0, "[0] content"))
        self._open(self._expect(0x30, "an enveloped-data SEQUENCE"))
        self.enveloped_end = self._stack[-1]
        indefinite = None in self._stack
        version = self._element()
        if version[:1] != b"\x02":
            raise ASN1Error("malformed CMS: version is not an INTEGER")
        tag, length, raw = self._header()
        originator_info = b""
        if tag == 0xA0:
            originator_info = self._element_rest(tag, length, raw, 1)
            tag, length, raw = self._header()
        if tag != 0x31:
            raise ASN1Error("malformed CMS: expected RecipientInfos")
        ris_der = self._element_rest(tag, length, raw, 1)
        eci_offset = self.pos
        self._open(self._expect(0x30, "EncryptedContentInfo"))
        indefinite = indefinite or self._stack[-1] is None
        inner_type = self._element()
        if inner_type[:1] != b"\x06" or len(inner_type) < 3:
            raise ASN1Error("malformed CMS: expected the inner content type")
        inner_content_type = decode_oid(inner_type[2:] if inner_type[1] < 0x80 else b"")
        algorithm = asn1.parse_algorithm_identifier(self._element())
        tag, length, _ = self._header()
        if tag == 0x80:
            self._content_primitive = True
            self._content_definite = length
        elif tag == 0xA0:
            self._open(length)
        else:
            raise UnsupportedError(
                "this CMS message has no encrypted content (detached content is not "
                "supported)"
            )
        recipient_infos = asn1.parse_recipient_infos(
            ris_der, max_recipients=self._max_recipients
        )
        return EnvelopeHeader(
            content_type=content_type,
            version=version,
            originator_info=originator_info,
            recipient_infos=recipient_infos,
            content_encryption_algorithm=algorithm,
            inner_content_type=inner_content_type,
            eci_offset=eci_offset,
            indefinite=indefinite,
        )

    def segments(self) -> Iterator[int]:
        """Yield the length of each encrypted-content segment, in order.

        The caller consumes each segment (``length`` bytes of :attr:`src`) and calls
        :meth:`advance` before asking for the next one.
        """
        # The body is not part of the header budget.
        if self._content_primitive:
            length = self._content_definite or 0
            self._limit = self.pos + length + self._budget
            yield length
            return
        yield from self._constructed(depth=0)

    def _constructed(self, depth: int) -> Iterator[int]:
        while True:
            end = self._stack[-1]
            if end is not None and self.pos >= end:
                self._close()
                return
            self._limit = self.pos + self._budget
            tag, length, _ = self._header()
            if end is None and tag == 0 and length == 0:
                self._stack.pop()
                return
            if tag == 0x04 and length is not None:
                self._limit = self.pos + length + self._budget
                yield length
            elif tag == 0x24 and depth < 4:
                self._open(length)
                yield from self._constructed(depth + 1)
            else:
                raise ASN1Error("malformed CMS: encrypted content is not OCTET STRINGs")

    def read_trailer(self, *, authenticated: bool) -> Trailer:
        """Parse what follows the content, up to the end of the input.

        Raises:
            ASN1Error: malformed, or bytes after the end of the ContentInfo.
        """
        self._limit = self.pos + self._budget
        self._close()  # EncryptedContentInfo
        auth_attrs = None
        mac = None
        tag, length, raw = self._next_or_end()
        if authenticated:
            if tag == 0xA1:
                auth_attrs = self._element_rest(tag, length, raw, 1)
                tag, length, raw = self._next_or_end()
            if tag != 0x04 or length is None:
                raise ASN1Error("malformed AuthEnvelopedData: the mac is missing")
            mac = self._read(length)
            tag, length, raw = self._next_or_end()
            if tag == 0xA2:
                self._element_rest(tag, length, raw, 1)
                tag, length, raw = self._next_or_end()
        elif tag == 0xA1:
            self._element_rest(tag, length, raw, 1)
            tag, length, raw = self._next_or_end()
        if tag != -1:
            raise ASN1Error("malformed CMS: unexpected element after the content")
        content_end = self._content_end
        self._close()  # the enveloped-data SEQUENCE
        self._close()  # [0]
        self._close()  # ContentInfo
        if self.src.read(1):
            raise ASN1Error("unexpected data after the end of the CMS message")
        return Trailer(auth_attrs=auth_attrs, mac=mac, content_end=content_end)

    def _next_or_end(self) -> tuple[int, int | None, bytes]:
        """The next element header inside the current SEQUENCE, or tag -1 at its end.

        Sets :attr:`_content_end` to the offset where the SEQUENCE's content ends.
        """
        end = self._stack[-1]
        if end is not None:
            if self.pos >= end:
                self._content_end = self.pos
                return -1, None, b""
            return self._header()
        tag, length, raw = self._header()
        if tag == 0 and length == 0:
            # The indefinite SEQUENCE ended at this EOC: from now on treat it as a
            # definite one ending here, so that _close() checks the position.
            self._content_end = self.pos - 2
            self._stack[-1] = self.pos
            return -1, None, b""
        return tag, length, raw

    def skip(self, n: int) -> None:
        """Discard ``n`` body bytes from :attr:`src` (inspect, bytes mode)."""
        seek = getattr(self.src, "seek", None)
        if seek is not None and getattr(self.src, "seekable", lambda: False)():
            here = self.src.tell()
            end = self.src.seek(0, 2)
            if end - here < n:
                raise FormatError("the CMS message is truncated")
            self.src.seek(here + n)
        else:
            remaining = n
            while remaining:
                got = len(self.src.read(min(remaining, 1 << 20)))
                if not got:
                    raise FormatError("the CMS message is truncated")
                remaining -= got
        self.pos += n
