"""ML-KEM-768+X25519 (algorithm 35, v4 and v6 keys) and ML-KEM-1024+X448 (36, v6
keys) as PKESK recipients (RFC 9980 §4.2, §4.3.1), called by :mod:`.pkesk`.

The algorithm-specific fields are ecdhCipherText (32 or 56 octets) || mlkemCipherText
(1088 or 1568 octets) || one size octet || (v3 PKESK only: the cipher octet, in the
clear) || the AES-256 key wrap of the session key under the combined KEK
(core/mlkem.py). The wrapped key has no checksum and no padding. It is the X25519
layout of RFC 9580 §5.1.6 with a longer fixed prefix, so the same field codec serves
both. A v3 PKESK must name AES-128, -192 or -256 and carry a session key of that
cipher's size (RFC 9980 §4.3.1). Opening never says which check failed: every
failure after the private-key operation is one DecryptionError.
"""

from __future__ import annotations

from typing import Final

from ..core import keywrap, mlkem
from ..errors import DecryptionError, FormatError, UnsupportedError
from .packets import CIPHER_AES128, CIPHER_AES192, CIPHER_AES256
from .packets.pkesk import X25519Fields, serialize_x25519_fields, split_x25519_fields

__all__ = ["unwrap_mlkem", "wrap_mlkem"]

#: RFC 9980 §4.3.1: the ciphers a v3 PKESK of this algorithm may name, with their
#: key sizes.
_V3_KEY_SIZES: Final = {CIPHER_AES128: 16, CIPHER_AES192: 24, CIPHER_AES256: 32}


def wrap_mlkem(
    session_key: bytes, cipher: int | None, public: bytes, algorithm: int
) -> bytes:
    """The PKESK fields giving ``session_key`` to the composite key ``public`` of
    ``algorithm``; ``cipher`` is the v3 PKESK's cipher octet, None for v6.

    Raises:
        UnsupportedError: a v3 PKESK for a cipher other than AES (an old archive
            re-wrapped to this key: RFC 9980 §4.3.1 forbids it).
        FormatError: a malformed recipient key.
    """
    if cipher is not None and _V3_KEY_SIZES.get(cipher) != len(session_key):
        raise UnsupportedError(
            f"an ML-KEM-768+X25519 recipient needs an AES session key, not cipher "
            f"{cipher} (RFC 9980 §4.3.1): re-encrypt the message instead"
        )
    ecdh_ciphertext, mlkem_ciphertext, kek = mlkem.encapsulate(public, algorithm)
    wrapped = keywrap.wrap(kek, session_key)
    prefix = ecdh_ciphertext + mlkem_ciphertext
    return serialize_x25519_fields(
        X25519Fields(prefix, cipher, wrapped), point_size=len(prefix)
    )


def unwrap_mlkem(
    fields: bytes, private: object, version: int
) -> tuple[int | None, bytes]:
    """(cipher or None for a v6 PKESK, session key); any failure DecryptionError."""
    if not isinstance(private, mlkem.CompositeKemPrivateKey):
        raise DecryptionError()
    suite = private.suite
    try:
        prefix, cipher, wrapped = split_x25519_fields(
            fields,
            version=version,
            point_size=suite.ecdh_size + suite.ciphertext_size,
        )
    except FormatError:
        raise DecryptionError() from None
    split = suite.ecdh_size
    kek = mlkem.decapsulate(private, prefix[:split], prefix[split:])
    session_key = keywrap.unwrap(kek, wrapped)
    if cipher is not None and _V3_KEY_SIZES.get(cipher) != len(session_key):
        raise DecryptionError()
    return cipher, session_key
