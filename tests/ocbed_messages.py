"""A test-only writer of LibrePGP OCB Encrypted Data messages (packet type 20).

The library only reads this packet. Tests that need many shapes of it (chunk sizes,
modes, ciphers, damaged copies) build them here, straight from the AEAD primitives
(`cryptography`'s AES-OCB3 and the library's AES-EAX) and the layout of RFC 4880bis-10
§5.16, not through the library's chunk loop, so the reader is checked against an
independent writer. rnp-made messages (tests/interop/test_rnp_ocbed.py) check both.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers.aead import AESOCB3

from e2ee_mail.core.eax import AESEAX
from e2ee_mail.openpgp import pkesk
from e2ee_mail.openpgp.certs import OpenPGPCertificate
from e2ee_mail.openpgp.packets import TAG_LITERAL, TAG_PKESK
from e2ee_mail.openpgp.packets.header import serialize_header, serialize_packet
from e2ee_mail.openpgp.packets.literal import LiteralHeader, serialize_literal_header
from e2ee_mail.openpgp.packets.pkesk import serialize_pkesk
from e2ee_mail.openpgp.recipients import recipient_key
from e2ee_mail.policy import DEFAULT

OCB, EAX = 2, 1
AES128, AES256 = 7, 9
TAG = 16


def literal(data: bytes) -> bytes:
    """A binary Literal Data packet holding ``data``."""
    head = serialize_literal_header(LiteralHeader())
    return serialize_header(TAG_LITERAL, len(head) + len(data)) + head + data


def nonce(iv: bytes, index: int) -> bytes:
    """The starting IV with ``index`` xored into its last 8 octets."""
    low = int.from_bytes(iv[-8:], "big") ^ index
    return iv[:-8] + low.to_bytes(8, "big")


def sealed(
    key: bytes,
    inner: bytes,
    *,
    aead: int = OCB,
    cipher: int = AES256,
    chunk_size_octet: int = 0,
    iv: bytes | None = None,
) -> bytes:
    """The body of a type 20 packet: header, chunks with their tags, final tag."""
    if iv is None:
        iv = bytes(range(16 if aead == EAX else 15))
    head = bytes([1, cipher, aead, chunk_size_octet])
    ad = bytes([0xD4]) + head
    primitive = AESEAX(key) if aead == EAX else AESOCB3(key)
    size = 1 << (chunk_size_octet + 6)
    out = bytearray(head + iv)
    for index, start in enumerate(range(0, len(inner), size)):
        piece = inner[start : start + size]
        out += primitive.encrypt(nonce(iv, index), piece, ad + index.to_bytes(8, "big"))
    count = -(-len(inner) // size)
    final_ad = ad + count.to_bytes(8, "big") + len(inner).to_bytes(8, "big")
    out += primitive.encrypt(nonce(iv, count), b"", final_ad)
    return bytes(out)


def pkesk_v3(cert: OpenPGPCertificate, key: bytes, cipher: int) -> bytes:
    """A v3 PKESK packet giving ``key`` (for ``cipher``) to ``cert``."""
    wrapped = pkesk.wrap_v3(key, cipher, recipient_key(cert, DEFAULT))
    return serialize_packet(TAG_PKESK, serialize_pkesk(wrapped))


def message(
    cert: OpenPGPCertificate,
    plaintext: bytes,
    *,
    aead: int = OCB,
    cipher: int = AES256,
    chunk_size_octet: int = 0,
    key: bytes | None = None,
    pkesk_cipher: int | None = None,
) -> bytes:
    """A whole binary message: a v3 PKESK to ``cert`` and the type 20 packet around
    a Literal Data packet holding ``plaintext``."""
    if key is None:
        key = bytes(range(32 if cipher == AES256 else 16))
    body = sealed(
        key,
        literal(plaintext),
        aead=aead,
        cipher=cipher,
        chunk_size_octet=chunk_size_octet,
    )
    wrap_cipher = cipher if pkesk_cipher is None else pkesk_cipher
    return pkesk_v3(cert, key, wrap_cipher) + serialize_packet(20, body)
