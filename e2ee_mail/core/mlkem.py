"""The composite ML-KEM + ECDH KEMs of RFC 9980 §4: ML-KEM-768+X25519 (OpenPGP
algorithm 35) and ML-KEM-1024+X448 (36).

Plain ML-KEM (FIPS 203) comes from :mod:`.kem`, X25519 from :mod:`.x25519`, X448
from :mod:`.x448`. The two key shares are bound together by the
key combiner of RFC 9980 §4.2.1: SHA3-256 over mlkemKeyShare || ecdhKeyShare ||
ecdhCipherText || ecdhPublicKey || algId || domSep || len(domSep), where domSep is
the ASCII string "OpenPGPCompositeKDFv1" and both algId and len(domSep) are single
octets. The result is the 32-octet key-encryption key of an AES-256 key wrap.

Key formats (RFC 9980 §4.3.2): the public key is the ECDH public key (32 or 56
octets) followed by the ML-KEM encapsulation key (1184 or 1568 octets); the secret
key is the ECDH secret followed by the ML-KEM seed d || z (64 octets), which
:func:`.kem.private_from_seed` expands (ML-KEM.KeyGen_internal).

A tampered ML-KEM ciphertext does not make decapsulation fail: FIPS 203 implicit
rejection returns a pseudo-random key share, so the combined key is wrong and the key
wrap's integrity check (RFC 3394 §2.2.3) is what rejects it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Final

from cryptography.hazmat.primitives.asymmetric import x448, x25519

from ..errors import DecryptionError, FormatError, UnsupportedError
from . import kem
from . import x25519 as core_x25519

__all__ = [
    "ALGORITHM_ID",
    "CIPHERTEXT_SIZE",
    "DOMAIN_SEPARATOR",
    "ENCAPSULATION_SIZE",
    "MLKEM768_X25519",
    "MLKEM1024_X448",
    "PUBLIC_SIZE",
    "SECRET_SIZE",
    "SUITES",
    "CompositeKemPrivateKey",
    "Suite",
    "check_public",
    "combine",
    "decapsulate",
    "encapsulate",
    "generate",
    "mlkem_decapsulate",
    "private_from_bytes",
]

#: RFC 9980 §4.2.1: the combiner's domain separator, followed by its length octet.
DOMAIN_SEPARATOR: Final = b"OpenPGPCompositeKDFv1"
_COMBINER_TAIL: Final = DOMAIN_SEPARATOR + bytes((len(DOMAIN_SEPARATOR),))


@dataclasses.dataclass(frozen=True, slots=True)
class Suite:
    """One composite KEM of RFC 9980 §4.2 (table "ML-KEM + ECDH composite schemes").

    Attributes:
        algorithm: the OpenPGP public-key algorithm ID.
        name: the name ``inspect`` and key listings use.
        ecdh_size: ECDH public key, secret key and ciphertext size (RFC 7748).
        kem: the ML-KEM parameter set (FIPS 203).
    """

    algorithm: int
    name: str
    ecdh_size: int
    kem: kem.ParameterSet

    @property
    def encapsulation_size(self) -> int:
        return self.kem.encapsulation_size

    @property
    def ciphertext_size(self) -> int:
        return self.kem.ciphertext_size

    @property
    def public_size(self) -> int:
        return self.ecdh_size + self.encapsulation_size

    @property
    def secret_size(self) -> int:
        return self.ecdh_size + kem.SEED_SIZE


MLKEM768_X25519: Final = Suite(35, "mlkem768-x25519", 32, kem.MLKEM768)
MLKEM1024_X448: Final = Suite(36, "mlkem1024-x448", 56, kem.MLKEM1024)
#: The composite KEMs by algorithm ID.
SUITES: Final = {s.algorithm: s for s in (MLKEM768_X25519, MLKEM1024_X448)}
#: ML-KEM-768+X25519's ID and sizes (RFC 9980 §2.1, §4.1.2), the ones keygen makes.
ALGORITHM_ID: Final = MLKEM768_X25519.algorithm
ENCAPSULATION_SIZE: Final = MLKEM768_X25519.encapsulation_size
CIPHERTEXT_SIZE: Final = MLKEM768_X25519.ciphertext_size
PUBLIC_SIZE: Final = MLKEM768_X25519.public_size
SECRET_SIZE: Final = MLKEM768_X25519.secret_size

EcdhPrivateKey = x25519.X25519PrivateKey | x448.X448PrivateKey


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class CompositeKemPrivateKey:
    """The two halves of a composite secret key, and its public key octets.

    Attributes:
        suite: which composite KEM.
        ecdh: the X25519 or X448 secret key.
        mlkem: the ML-KEM decapsulation key.
        public: the composite public key (ECDH key || ML-KEM encapsulation key).
    """

    suite: Suite
    ecdh: EcdhPrivateKey
    mlkem: kem.PrivateKey
    public: bytes

    def __repr__(self) -> str:
        return f"<CompositeKemPrivateKey {self.suite.name}>"

    def secret_bytes(self) -> bytes:
        """The secret key fields: ECDH secret || ML-KEM seed (RFC 9980 §4.3.2)."""
        return self.ecdh.private_bytes_raw() + self.mlkem.private_bytes_raw()


def _suite(algorithm: int) -> Suite:
    suite = SUITES.get(algorithm)
    if suite is None:
        raise UnsupportedError(f"algorithm {algorithm} is not an ML-KEM composite")
    return suite


def _assemble(
    suite: Suite, ekey: EcdhPrivateKey, mkey: kem.PrivateKey
) -> CompositeKemPrivateKey:
    public = ekey.public_key().public_bytes_raw() + mkey.public_key().public_bytes_raw()
    return CompositeKemPrivateKey(suite, ekey, mkey, public)


def generate(algorithm: int = ALGORITHM_ID) -> CompositeKemPrivateKey:
    """A fresh key; the two halves are generated independently (RFC 9980 §4.2.2)."""
    suite = _suite(algorithm)
    ecdh: EcdhPrivateKey
    if suite is MLKEM768_X25519:
        ecdh = x25519.X25519PrivateKey.generate()
    else:
        ecdh = x448.X448PrivateKey.generate()
    return _assemble(suite, ecdh, kem.generate(suite.kem))


def private_from_bytes(
    secret: bytes, algorithm: int = ALGORITHM_ID
) -> CompositeKemPrivateKey:
    """The key from its secret octets (96 for algorithm 35, 120 for 36).

    Raises:
        FormatError: the secret has the wrong size.
    """
    suite = _suite(algorithm)
    if len(secret) != suite.secret_size:
        raise FormatError(
            f"an {suite.name} secret key is {suite.secret_size} octets, "
            f"got {len(secret)}"
        )
    ecdh_secret, seed = secret[: suite.ecdh_size], secret[suite.ecdh_size :]
    ecdh: EcdhPrivateKey
    if suite is MLKEM768_X25519:
        ecdh = x25519.X25519PrivateKey.from_private_bytes(ecdh_secret)
    else:
        ecdh = x448.X448PrivateKey.from_private_bytes(ecdh_secret)
    return _assemble(suite, ecdh, kem.private_from_seed(seed, suite.kem))


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


def check_public(public: bytes, algorithm: int = ALGORITHM_ID) -> kem.PublicKey:
    """The ML-KEM encapsulation key of the composite ``public`` key, checked.

    Raises:
        FormatError: the wrong size, or an encapsulation key that fails the FIPS 203
            §7.2 check.
    """
    suite = _suite(algorithm)
    if len(public) != suite.public_size:
        raise FormatError(
            f"an {suite.name} public key is {suite.public_size} octets, "
            f"got {len(public)}"
        )
    return kem.public_from_bytes(public[suite.ecdh_size :])


def encapsulate(
    public: bytes, algorithm: int = ALGORITHM_ID
) -> tuple[bytes, bytes, bytes]:
    """Sender side, for the composite ``public`` key of ``algorithm``.

    Returns:
        (ecdhCipherText, mlkemCipherText, KEK of 32 octets).

    Raises:
        FormatError: a malformed public key (wrong size, a low-order ECDH point, an
            encapsulation key that fails the FIPS 203 check).
    """
    suite = _suite(algorithm)
    encapsulation_key = check_public(public, algorithm)
    ecdh_public = public[: suite.ecdh_size]
    if suite is MLKEM768_X25519:
        ecdh_ciphertext, ecdh_share = core_x25519.ephemeral_agree(ecdh_public)
    else:
        from . import x448 as core_x448

        ecdh_ciphertext, ecdh_share = core_x448.ephemeral_agree(ecdh_public)
    mlkem_share, mlkem_ciphertext = kem.encapsulate(encapsulation_key)
    kek = combine(
        mlkem_share, ecdh_share, ecdh_ciphertext, ecdh_public, suite.algorithm
    )
    return ecdh_ciphertext, mlkem_ciphertext, kek


def mlkem_decapsulate(private: CompositeKemPrivateKey, ciphertext: bytes) -> bytes:
    """ML-KEM.Decaps (FIPS 203) with the ML-KEM half alone: the 32-octet key share.
    A ciphertext of the right size never fails (implicit rejection).

    Raises:
        DecryptionError: a ciphertext of the wrong size.
    """
    return kem.decapsulate(private.mlkem, ciphertext)


def decapsulate(
    private: CompositeKemPrivateKey, ecdh_ciphertext: bytes, mlkem_ciphertext: bytes
) -> bytes:
    """Recipient side: the KEK.

    Raises:
        DecryptionError: a ciphertext of the wrong size, or a low-order ECDH point.
    """
    mlkem_share = mlkem_decapsulate(private, mlkem_ciphertext)
    ecdh = private.ecdh
    try:
        if isinstance(ecdh, x25519.X25519PrivateKey):
            ecdh_share = core_x25519.agree(ecdh, ecdh_ciphertext)
        else:
            from . import x448 as core_x448

            ecdh_share = core_x448.agree(ecdh, ecdh_ciphertext)
    except FormatError:
        raise DecryptionError() from None
    suite = private.suite
    return combine(
        mlkem_share,
        ecdh_share,
        ecdh_ciphertext,
        private.public[: suite.ecdh_size],
        suite.algorithm,
    )
