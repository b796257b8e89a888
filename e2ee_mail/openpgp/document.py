"""What document signatures (types 0x00 and 0x01, RFC 9580 §5.2.1) hash, shared by
``signing.py`` and ``verifying.py``.

A :class:`DocumentHasher` takes the signed data in pieces, as it streams: a v6
signature's salt goes in first (§5.2.4), text signatures (0x01) see the data with
every line ending made CR LF (§5.2.1.2), and :meth:`DocumentHasher.digest` appends
the signature's trailer. Hashes are the ones RFC 9580 §9.5 lists; MD5 (1), SHA-1 (2)
and RIPEMD-160 (3) have names here so that a verifier can say what it refused.
"""

from __future__ import annotations

import hashlib
from typing import Final

from .packets.signature import SignaturePacket, signature_trailer

__all__ = [
    "HASH_NAMES",
    "REFUSED_HASHES",
    "SIG_BINARY",
    "SIG_TEXT",
    "SP_INTENDED_RECIPIENT",
    "DocumentHasher",
]

#: Signature types of documents (RFC 9580 §5.2.1.1, §5.2.1.2).
SIG_BINARY: Final = 0x00
SIG_TEXT: Final = 0x01
#: The Intended Recipient Fingerprint subpacket (RFC 9580 §5.2.3.36).
SP_INTENDED_RECIPIENT: Final = 35

#: hashlib names of the hash algorithm IDs (RFC 9580 §9.5).
HASH_NAMES: Final = {
    1: "md5",
    2: "sha1",
    3: "ripemd160",
    8: "sha256",
    9: "sha384",
    10: "sha512",
    11: "sha224",
    12: "sha3_256",
    14: "sha3_512",
}
#: Hashes no document signature is accepted with: collisions are practical for
#: MD5 and SHA-1 (RFC 9580 §9.5 forbids them in new signatures), and RIPEMD-160
#: is deprecated with them.
REFUSED_HASHES: Final = frozenset({1, 2, 3})


class DocumentHasher:
    """The running hash of one document signature.

    Args:
        version: the signature's version (4 or 6).
        hash_algorithm: its hash algorithm ID (one of :data:`HASH_NAMES`).
        salt: the v6 salt (hashed first); empty for v4.
        text: canonical text (0x01): bare LF becomes CR LF as the data passes.

    Raises:
        ValueError: a hash algorithm this Python cannot compute.
    """

    __slots__ = ("_cr", "_hash", "_text")

    def __init__(
        self, version: int, hash_algorithm: int, salt: bytes, *, text: bool
    ) -> None:
        name = HASH_NAMES.get(hash_algorithm)
        if name is None:
            raise ValueError(f"hash algorithm {hash_algorithm} is not known")
        self._hash = hashlib.new(name)
        if version == 6:
            self._hash.update(salt)
        self._text = text
        # Whether the last octet seen was CR, so that a CR LF split between two
        # pieces is not given a second CR.
        self._cr = False

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Hash the next piece of the signed data."""
        if not self._text:
            self._hash.update(data)
            return
        piece = bytes(data)
        if not piece:
            return
        follows_cr = self._cr
        self._cr = piece[-1] == 0x0D
        if follows_cr and piece[0] == 0x0A:
            # The CR that ends the previous piece already begins this line end.
            self._hash.update(b"\n")
            piece = piece[1:]
        self._hash.update(piece.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))

    def copy(self) -> DocumentHasher:
        """An independent hasher in the same state."""
        twin = object.__new__(DocumentHasher)
        twin._hash = self._hash.copy()
        twin._text = self._text
        twin._cr = self._cr
        return twin

    def digest(self, sig: SignaturePacket) -> bytes:
        """The digest with ``sig``'s trailer appended (the hasher itself is left as
        it was, so several signatures may share one)."""
        final = self._hash.copy()
        final.update(signature_trailer(sig))
        return final.digest()
