"""The composite ML-KEM-768 + X25519 KEM of RFC 9980 §4 (OpenPGP algorithm 35).

ML-KEM (FIPS 203) comes from ``cryptography``, never from code of ours; X25519 from
:mod:`.x25519`. The two key shares are bound together by the key combiner of RFC
9980 §4.2.1: SHA3-256 over mlkemKeyShare || ecdhKeyShare || ecdhCipherText ||
ecdhPublicKey || algId || domSep || len(domSep), where domSep is the ASCII string
"OpenPGPCompositeKDFv1" and both algId and len(domSep) are single octets. The
result is the 32-octet key-encryption key of an AES-256 key wrap.

Key formats (RFC 9980 §4.3.2): the public key is the X25519 public key (32 octets)
followed by the ML-KEM encapsulation key (1184 octets); the secret key is the X25519
secret (32 octets) followed by the ML-KEM seed d || z (64 octets), which
``cryptography`` expands (ML-KEM.KeyGen_internal).

A tampered ML-KEM ciphertext does not make decapsulation fail: FIPS 203 implicit
rejection returns a pseudo-random key share, so the combined key is wrong and the key
wrap's integrity check (RFC 3394 §2.2.3) is what rejects it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from typing import Final

from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

from ..errors import DecryptionError, FormatError
from . import x25519 as core_x25519

__all__ = [
    "ALGORITHM_ID",
    "CIPHERTEXT_SIZE",
    "DOMAIN_SEPARATOR",
    "ENCAPSULATION_SIZE",
    "PUBLIC_SIZE",
    "SECRET_SIZE",
    "MlKemX25519PrivateKey",
    "combine",
    "decapsulate",
    "encapsulate",
    "generate",
    "mlkem_decapsulate",
    "private_from_bytes",
]

#: The OpenPGP public-key algorithm ID of ML-KEM-768+X25519 (RFC 9980 §2.1).
ALGORITHM_ID: Final = 35
#: ML-KEM-768 encapsulation key and ciphertext sizes (FIPS 203, RFC 9980 §4.1.2).
ENCAPSULATION_SIZE: Final = 1184
CIPHERTEXT_SIZE: Final = 1088
_SEED_SIZE: Final = 64
#: The composite public and secret key sizes (RFC 9980 §4.3.2).
PUBLIC_SIZE: Final = core_x25519.KEY_SIZE + ENCAPSULATION_SIZE
SECRET_SIZE: Final = core_x25519.KEY_SIZE + _SEED_SIZE
#: RFC 9980 §4.2.1: the combiner's domain separator, followed by its length octet.
DOMAIN_SEPARATOR: Final = b"OpenPGPCompositeKDFv1"
_COMBINER_TAIL: Final = DOMAIN_SEPARATOR + bytes((len(DOMAIN_SEPARATOR),))


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class MlKemX25519PrivateKey:
    """The two halves of a composite secret key, and its public key octets.

    Attributes:
        x25519: the X25519 secret key.
        mlkem: the ML-KEM-768 decapsulation key.
        public: the composite public key (X25519 || ML-KEM encapsulation key).
    """

    x25519: x25519.X25519PrivateKey
    mlkem: mlkem.MLKEM768PrivateKey
    public: bytes

    def __repr__(self) -> str:
        return "<MlKemX25519PrivateKey>"

    def secret_bytes(self) -> bytes:
        """The secret key fields: X25519 secret || ML-KEM seed (RFC 9980 §4.3.2)."""
        return self.x25519.private_bytes_raw() + self.mlkem.private_bytes_raw()


def generate() -> MlKemX25519PrivateKey:
    """A fresh key; the two halves are generated independently (RFC 9980 §4.2.2)."""
    return _assemble(
        x25519.X25519PrivateKey.generate(), mlkem.MLKEM768PrivateKey.generate()
    )


def _assemble(
    xkey: x25519.X25519PrivateKey, mkey: mlkem.MLKEM768PrivateKey
) -> MlKemX25519PrivateKey:
    public = xkey.public_key().public_bytes_raw() + mkey.public_key().public_bytes_raw()
    return MlKemX25519PrivateKey(xkey, mkey, public)


def private_from_bytes(secret: bytes) -> MlKemX25519PrivateKey:
    """The key from its 96 secret octets.

    Raises:
        FormatError: the secret has the wrong size.
    """
    if len(secret) != SECRET_SIZE:
        raise FormatError(
            f"an ML-KEM-768+X25519 secret key is {SECRET_SIZE} octets, "
            f"got {len(secret)}"
        )
    split = core_x25519.KEY_SIZE
    return _assemble(
        x25519.X25519PrivateKey.from_private_bytes(secret[:split]),
        mlkem.MLKEM768PrivateKey.from_seed_bytes(secret[split:]),
    )


def combine(
    mlkem_share: bytes,
    ecdh_share: bytes,
    ecdh_ciphertext: bytes,
    ecdh_public: bytes,
    algorithm: int = ALGORITHM_ID,
) -> bytes:
    """multiKeyCombine of RFC 9980 §4.2.1: the 32-octet key-encryption key."""
    return hashlib.sha3_256(
        b"".join(
            (
                mlkem_share,
                ecdh_share,
                ecdh_ciphertext,
                ecdh_public,
                bytes((algorithm,)),
                _COMBINER_TAIL,
            )
        )
    ).digest()


@functools.lru_cache(maxsize=512)
def _encapsulation_key(material: bytes) -> mlkem.MLKEM768PublicKey:
    # Parsed once per recipient key (the FIPS 203 §7.2 modulus check runs here);
    # the key object is immutable. Failures are not cached.
    try:
        return mlkem.MLKEM768PublicKey.from_public_bytes(material)
    except ValueError:
        raise FormatError("the ML-KEM-768 encapsulation key is malformed") from None


def _split_public(public: bytes) -> tuple[bytes, bytes]:
    if len(public) != PUBLIC_SIZE:
        raise FormatError(
            f"an ML-KEM-768+X25519 public key is {PUBLIC_SIZE} octets, "
            f"got {len(public)}"
        )
    split = core_x25519.KEY_SIZE
    return public[:split], public[split:]


def encapsulate(public: bytes) -> tuple[bytes, bytes, bytes]:
    """Sender side, for the composite ``public`` key.

    Returns:
        (ecdhCipherText: 32 octets, mlkemCipherText: 1088 octets, KEK: 32 octets).

    Raises:
        FormatError: a malformed public key (wrong size, a low-order X25519 point, an
            encapsulation key that fails the FIPS 203 check).
    """
    ecdh_public, encapsulation = _split_public(public)
    ecdh_ciphertext, ecdh_share = core_x25519.ephemeral_agree(ecdh_public)
    mlkem_share, mlkem_ciphertext = _encapsulation_key(encapsulation).encapsulate()
    kek = combine(mlkem_share, ecdh_share, ecdh_ciphertext, ecdh_public)
    return ecdh_ciphertext, mlkem_ciphertext, kek


def mlkem_decapsulate(private: MlKemX25519PrivateKey, ciphertext: bytes) -> bytes:
    """ML-KEM.Decaps (FIPS 203) with the ML-KEM half alone: the 32-octet key share.
    A ciphertext of the right size never fails (implicit rejection).

    Raises:
        DecryptionError: a ciphertext of the wrong size.
    """
    if len(ciphertext) != CIPHERTEXT_SIZE:
        raise DecryptionError()
    try:
        return private.mlkem.decapsulate(ciphertext)
    except ValueError:
        raise DecryptionError() from None


def decapsulate(
    private: MlKemX25519PrivateKey, ecdh_ciphertext: bytes, mlkem_ciphertext: bytes
) -> bytes:
    """Recipient side: the KEK.

    Raises:
        DecryptionError: a ciphertext of the wrong size, or a low-order X25519 point.
    """
    mlkem_share = mlkem_decapsulate(private, mlkem_ciphertext)
    try:
        ecdh_share = core_x25519.agree(private.x25519, ecdh_ciphertext)
    except FormatError:
        raise DecryptionError() from None
    return combine(
        mlkem_share, ecdh_share, ecdh_ciphertext, private.public[: core_x25519.KEY_SIZE]
    )
