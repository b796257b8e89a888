"""The content of a signed-then-encrypted CMS plaintext, without verifying.

A sign-then-encrypt message (RFC 8551 §3.7, signenv.py) decrypts to a SignedData
ContentInfo. Decrypting without asking for a verification returns what was
signed, as ``gpg --decrypt`` prints the plaintext of a signed message: the
eContent of a SignedData whose eContentType is id-data. Anything else (not
SignedData, detached SignedData, another content type, a SignedData that does not
parse) is returned as it is: it is the plaintext the sender encrypted, and a
caller who needs the signature checked asks for it (``verify_with``).

:class:`ContentWriter` does the same for a decryption written to a stream: it
passes the plaintext through until its first octets name id-signedData, and then
holds the SignedData in memory and writes its content when closed (a signature
covers the whole content, and its framing may end anywhere).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO, Final

from ..errors import ASN1Error
from . import oids

if TYPE_CHECKING:
    from .signed import SignedData

__all__ = ["ContentWriter", "looks_signed", "signed_content", "signed_data"]

#: The DER of id-signedData, named in the first octets of a SignedData ContentInfo.
_SIGNED_DATA_OID: Final = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02"
#: Octets of the plaintext that decide (the OID sits within them in DER and BER).
_HEAD: Final = 32
#: The most SignerInfos read: the content is taken, the signatures are not checked.
_MAX_SIGNERS: Final = 64

Buffer = bytes | bytearray | memoryview


def looks_signed(head: Buffer) -> bool:
    """Whether ``head`` starts a ContentInfo naming id-signedData."""
    return bytes(head[:1]) == b"\x30" and _SIGNED_DATA_OID in bytes(head[:_HEAD])


def signed_data(plaintext: Buffer) -> SignedData | None:
    """The SignedData ``plaintext`` is when it parses and carries id-data content
    inside (``econtent`` set); None otherwise."""
    if not looks_signed(plaintext):
        return None
    # Imported here: a plain decryption, by far the common case, never needs it.
    from .signed import parse_signed_data

    try:
        sd = parse_signed_data(plaintext, max_signers=_MAX_SIGNERS)
    except ASN1Error:
        return None
    if sd.econtent is None or sd.econtent_type != oids.DATA:
        return None
    return sd


def signed_content(plaintext: Buffer) -> Buffer:
    """The eContent of ``plaintext`` when it is a SignedData over id-data with the
    content inside; otherwise ``plaintext`` itself."""
    sd = signed_data(plaintext)
    return plaintext if sd is None or sd.econtent is None else sd.econtent


class ContentWriter:
    """A binary writer in front of ``dst`` that gives it :func:`signed_content` of
    everything written: plaintext that is not SignedData streams through; a
    SignedData is held in memory until :meth:`close`."""

    def __init__(self, dst: BinaryIO) -> None:
        self._dst = dst
        self._head: bytearray | None = bytearray()
        self._signed: bytearray | None = None

    def write(self, data: Buffer) -> int:
        n = len(data)
        if self._signed is not None:
            self._signed += data
        elif self._head is None:
            self._dst.write(data)
        else:
            self._head += data
            if len(self._head) >= _HEAD:
                self._decide()
        return n

    def _decide(self) -> None:
        head, self._head = self._head or bytearray(), None
        if looks_signed(head):
            self._signed = head
        else:
            self._dst.write(head)

    def flush(self) -> None:
        self._dst.flush()

    def fileno(self) -> int:
        """``dst``'s descriptor: the decryptor asks it only to learn whether
        writes may block (a regular file never does), and writes through
        :meth:`write` either way."""
        return self._dst.fileno()

    def close(self) -> None:
        """Write what is held: a short plaintext, or the content of a SignedData."""
        if self._head is not None:
            self._decide()
        if self._signed is not None:
            signed, self._signed = self._signed, None
            self._dst.write(signed_content(signed))
            signed[:] = b""
