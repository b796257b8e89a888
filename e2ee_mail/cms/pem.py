"""PEM framing of CMS messages (RFC 7468 §2, §9 "CMS" and the PKCS7 label).

We write ``-----BEGIN CMS-----`` with 64-column base64 lines (RFC 7468 §2); we read the
CMS and PKCS7 labels, tolerating CRLF line ends and surrounding whitespace. Base64 runs
through pybase64 (core/b64.py), several times faster than the stdlib codec. The
streaming writer and reader keep memory bounded for any body size.

Left out: RFC 1421 encapsulated headers inside the PEM block (refused).
"""

from __future__ import annotations

import binascii
import re
from typing import BinaryIO, Final

import pybase64

from .._io import PullReader
from ..core import b64
from ..errors import ArmorError

__all__ = ["PemReader", "PemWriter", "armor", "dearmor", "is_pem"]

LABEL: Final = b"CMS"
_LINE_BYTES: Final = 48  # 64 base64 characters per line
_BEGIN = re.compile(rb"-----BEGIN (CMS|PKCS7)-----\r?\n")
_END_PREFIX: Final = b"-----END "
_CHUNK: Final = 48 * 21846  # ~1 MiB of input per write, whole lines


def is_pem(head: bytes) -> bool:
    """Whether ``head`` starts (after whitespace) with a CMS/PKCS7 PEM boundary."""
    return head.lstrip().startswith((b"-----BEGIN CMS-----", b"-----BEGIN PKCS7-----"))


def _lines(data: bytes | bytearray | memoryview) -> bytearray:
    # RFC 7468 §2: exactly 64 characters per line.
    return b64.encode_lines(data, width=64, eol=b"\n")


def armor(der: bytes | bytearray | memoryview, label: bytes = LABEL) -> bytearray:
    """PEM-encode ``der`` with ``label`` (CMS by default), joined once."""
    pieces = [b"-----BEGIN " + label + b"-----\n"]
    pieces += b64.iter_encoded_lines(der, width=64, eol=b"\n")
    pieces.append(b"-----END " + label + b"-----\n")
    return bytearray().join(pieces)


def dearmor(data: bytes) -> bytes:
    """Decode a CMS or PKCS7 PEM block.

    Raises:
        ArmorError: no block, mismatched labels, bad base64 or trailing garbage.
    """
    match = _BEGIN.search(data, 0, 4096)
    if match is None or data[: match.start()].strip():
        raise ArmorError("not a CMS PEM block: expected -----BEGIN CMS----- or PKCS7")
    label = match.group(1)
    end_marker = b"-----END " + label + b"-----"
    end = data.find(end_marker, match.end())
    if end < 0:
        raise ArmorError(f"PEM block has no -----END {label.decode()}----- line")
    if data[end + len(end_marker) :].strip():
        raise ArmorError("unexpected data after the PEM block")
    body = data[match.end() : end]
    if b":" in body[:200]:
        raise ArmorError("PEM headers inside a CMS block are not supported")
    return _decode(body)


def _decode(text: bytes) -> bytes:
    """Base64 lines to octets: one non-validating pass when the lines have one width
    (core/b64.py decode_lines refuses foreign characters by a length check; twice as
    fast as a strict decode after stripping), else the strict decode."""
    decoded = b64.decode_lines(text)
    if decoded is not None:
        return decoded
    try:
        return pybase64.b64decode(b"".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ArmorError("bad base64 in the PEM block") from None


class PemWriter:
    """A write-only stream that PEM-encodes what it is given into ``dst``."""

    def __init__(self, dst: BinaryIO, label: bytes = LABEL) -> None:
        self._dst = dst
        self._label = label
        self._pending = bytearray()
        dst.write(b"-----BEGIN " + label + b"-----\n")

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Buffer ``data``; emit whole lines as soon as there are enough."""
        self._pending += data
        if len(self._pending) >= _CHUNK:
            cut = len(self._pending) - len(self._pending) % _LINE_BYTES
            self._dst.write(_lines(memoryview(self._pending)[:cut]))
            del self._pending[:cut]
        return len(data)

    def close(self) -> None:
        """Write the rest and the END line."""
        if self._pending:
            self._dst.write(_lines(self._pending))
            self._pending.clear()
        self._dst.write(b"-----END " + self._label + b"-----\n")


class PemReader(PullReader):
    """A read-only stream over the DER inside a PEM block read from ``src``."""

    def __init__(self, src: BinaryIO) -> None:
        super().__init__()
        self._src = src
        self._text = bytearray()
        # A block of text that ended in padding: more base64 after it is damage
        # (one pass over the whole text would refuse it; block by block must too).
        self._padded = False
        match = None
        while match is None:
            chunk = src.read(4096)
            if not chunk or len(self._text) > 8192:
                raise ArmorError(
                    "not a CMS PEM block: expected -----BEGIN CMS----- or PKCS7"
                )
            self._text += chunk
            match = _BEGIN.search(self._text)
        if bytes(self._text[: match.start()]).strip():
            raise ArmorError(
                "not a CMS PEM block: expected -----BEGIN CMS----- or PKCS7"
            )
        self._end = _END_PREFIX + match.group(1) + b"-----"
        del self._text[: match.end()]

    def _fill(self, want: int) -> None:
        while len(self._buf) < want and not self._done:
            end = self._text.find(b"-----")
            if end < 0:
                chunk = self._src.read(1 << 20)
                if not chunk:
                    raise ArmorError("PEM block has no END line")
                self._text += chunk
                end = self._text.find(b"-----")
            if end >= 0:
                if len(self._text) - end < len(self._end) + 2:
                    self._text += self._src.read(len(self._end) + 2)
                if not self._text[end:].startswith(self._end):
                    raise ArmorError("PEM END line does not match its BEGIN line")
                rest = bytes(self._text[end + len(self._end) :])
                while True:  # only whitespace may follow; read it in bounded pieces
                    if rest.strip():
                        raise ArmorError("unexpected data after the PEM block")
                    rest = self._src.read(1 << 16)
                    if not rest:
                        break
                tail = bytes(self._text[:end])
                if self._padded and tail.strip():
                    raise ArmorError("bad base64 in the PEM block: data after padding")
                decoded = _decode(tail)
                self._text.clear()
                self._done = True
            else:
                cut = self._text.rfind(b"\n") + 1
                if not cut and len(self._text) > 1 << 16:
                    # No line breaks at all: decode what we have (memory stays
                    # bounded; the "-----" search above still finds the END line).
                    cut = len(self._text) - 4
                text = bytes(self._text[:cut])
                del self._text[:cut]
                if self._padded and text.strip():
                    raise ArmorError("bad base64 in the PEM block: data after padding")
                fast = b64.decode_lines(text)  # whole lines of one width: one pass
                if fast is not None:
                    self._padded = text.rstrip().endswith(b"=")
                    self._buf += fast
                    continue
                body = b"".join(text.split())
                keep = len(body) % 4
                if keep:
                    self._text[:0] = body[len(body) - keep :]
                    body = body[: len(body) - keep]
                try:
                    decoded = pybase64.b64decode(body, validate=True)
                except (binascii.Error, ValueError):
                    raise ArmorError("bad base64 in the PEM block") from None
                self._padded = body.endswith(b"=")
            self._buf += decoded
