"""The composite ML-DSA + EdDSA signatures of RFC 9980 §5: ML-DSA-65+Ed25519
(OpenPGP algorithm 30) and ML-DSA-87+Ed448 (31).

A composite signature is two independent signatures over the same message (for
OpenPGP the data digest of RFC 9580 §5.2.4): the EdDSA one (RFC 8032, pure, empty
context) followed by the ML-DSA one (FIPS 204 ML-DSA.Sign, pure and hedged, empty
context). RFC 9980 §5.2 makes the pair valid only when both halves are: a check here
runs both and refuses the signature when either fails, so a forger has to break
EdDSA and ML-DSA at once.

Key formats (RFC 9980 §5.3): the public key is the EdDSA public key (32 or 57
octets) followed by the ML-DSA public key (1952 or 2592 octets); the secret key is
the EdDSA secret followed by the 32-octet ML-DSA seed xi (FIPS 204 §3.6.3), which
`cryptography` expands (ML-DSA.KeyGen_internal). ML-DSA itself comes from
`cryptography`, never from code of ours.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, mldsa

from ..errors import FormatError, UnsupportedError
from .signature import BAD_SIGNATURE

__all__ = [
    "MIN_DIGEST_SIZE",
    "MLDSA65_ED25519",
    "MLDSA87_ED448",
    "SEED_SIZE",
    "SUITES",
    "CompositeSigPrivateKey",
    "CompositeSigPublicKey",
    "Suite",
    "check",
    "generate",
    "private_from_bytes",
    "public_from_bytes",
    "sign",
]

#: The ML-DSA secret key seed xi (FIPS 204 §3.6.3, Algorithm 1 step 1).
SEED_SIZE: Final = 32
#: RFC 9980 §5.3.1: the data digest a composite signature signs has at least 256
#: bits; a verifier refuses a shorter one.
MIN_DIGEST_SIZE: Final = 32


EdPublicKey = ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
EdPrivateKey = ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey
MLDSAPublicKey = mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey
MLDSAPrivateKey = mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey


@dataclasses.dataclass(frozen=True, slots=True)
class Suite:
    """One composite signature scheme of RFC 9980 §5 (its table of artifact
    lengths), with the `cryptography` classes of its two halves.

    Attributes:
        algorithm: the OpenPGP public-key algorithm ID.
        name: the name ``inspect`` and key listings use.
        eddsa_size: EdDSA public and secret key size (RFC 8032).
        eddsa_signature_size: EdDSA signature size.
        mldsa_public_size: ML-DSA public key size (FIPS 204 Table 2).
        mldsa_signature_size: ML-DSA signature size.
    """

    algorithm: int
    name: str
    eddsa_size: int
    eddsa_signature_size: int
    mldsa_public_size: int
    mldsa_signature_size: int
    eddsa_private: type[EdPrivateKey]
    eddsa_public: type[EdPublicKey]
    mldsa_private: type[MLDSAPrivateKey]
    mldsa_public: type[MLDSAPublicKey]

    @property
    def public_size(self) -> int:
        return self.eddsa_size + self.mldsa_public_size

    @property
    def secret_size(self) -> int:
        return self.eddsa_size + SEED_SIZE

    @property
    def signature_size(self) -> int:
        return self.eddsa_signature_size + self.mldsa_signature_size


MLDSA65_ED25519: Final = Suite(
    30,
    "mldsa65-ed25519",
    32,
    64,
    1952,
    3309,
    ed25519.Ed25519PrivateKey,
    ed25519.Ed25519PublicKey,
    mldsa.MLDSA65PrivateKey,
    mldsa.MLDSA65PublicKey,
)
MLDSA87_ED448: Final = Suite(
    31,
    "mldsa87-ed448",
    57,
    114,
    2592,
    4627,
    ed448.Ed448PrivateKey,
    ed448.Ed448PublicKey,
    mldsa.MLDSA87PrivateKey,
    mldsa.MLDSA87PublicKey,
)
#: The composite signature schemes by algorithm ID.
SUITES: Final = {s.algorithm: s for s in (MLDSA65_ED25519, MLDSA87_ED448)}


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class CompositeSigPublicKey:
    """The two halves of a composite verification key.

    Attributes:
        suite: which composite scheme.
        eddsa: the Ed25519 or Ed448 public key.
        mldsa: the ML-DSA public key.
    """

    suite: Suite
    eddsa: EdPublicKey
    mldsa: MLDSAPublicKey

    def __repr__(self) -> str:
        return f"<CompositeSigPublicKey {self.suite.name}>"


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class CompositeSigPrivateKey:
    """The two halves of a composite signing key, and its public key octets.

    Attributes:
        suite: which composite scheme.
        eddsa: the Ed25519 or Ed448 secret key.
        mldsa: the ML-DSA secret key.
        public: the composite public key (EdDSA key || ML-DSA key).
    """

    suite: Suite
    eddsa: EdPrivateKey
    mldsa: MLDSAPrivateKey
    public: bytes

    def __repr__(self) -> str:
        return f"<CompositeSigPrivateKey {self.suite.name}>"

    def secret_bytes(self) -> bytes:
        """The secret key fields: EdDSA secret || ML-DSA seed (RFC 9980 §5.3.2)."""
        return self.eddsa.private_bytes_raw() + self.mldsa.private_bytes_raw()

    def public_key(self) -> CompositeSigPublicKey:
        return CompositeSigPublicKey(
            self.suite, self.eddsa.public_key(), self.mldsa.public_key()
        )


def _suite(algorithm: int) -> Suite:
    suite = SUITES.get(algorithm)
    if suite is None:
        raise UnsupportedError(f"algorithm {algorithm} is not an ML-DSA composite")
    return suite


def _assemble(
    suite: Suite, eddsa: EdPrivateKey, mkey: MLDSAPrivateKey
) -> CompositeSigPrivateKey:
    public = (
        eddsa.public_key().public_bytes_raw() + mkey.public_key().public_bytes_raw()
    )
    return CompositeSigPrivateKey(suite, eddsa, mkey, public)


def _halves(octets: bytes, suite: Suite, size: int, what: str) -> tuple[bytes, bytes]:
    """``octets`` cut into its EdDSA and ML-DSA parts, once its size is checked."""
    if len(octets) != size:
        raise FormatError(f"an {suite.name} {what} is {size} octets, got {len(octets)}")
    return octets[: suite.eddsa_size], octets[suite.eddsa_size :]


def generate(algorithm: int = MLDSA65_ED25519.algorithm) -> CompositeSigPrivateKey:
    """A fresh key; the two halves are generated independently (RFC 9980 §5.1)."""
    suite = _suite(algorithm)
    return _assemble(
        suite, suite.eddsa_private.generate(), suite.mldsa_private.generate()
    )


def private_from_bytes(
    secret: bytes, algorithm: int = MLDSA65_ED25519.algorithm
) -> CompositeSigPrivateKey:
    """The key from its secret octets (64 for algorithm 30, 89 for 31).

    Raises:
        FormatError: the secret has the wrong size.
    """
    suite = _suite(algorithm)
    ed_secret, seed = _halves(secret, suite, suite.secret_size, "secret key")
    return _assemble(
        suite,
        suite.eddsa_private.from_private_bytes(ed_secret),
        suite.mldsa_private.from_seed_bytes(seed),
    )


def public_from_bytes(
    public: bytes, algorithm: int = MLDSA65_ED25519.algorithm
) -> CompositeSigPublicKey:
    """The verification key from the composite public key octets.

    Raises:
        FormatError: the wrong size, or a half `cryptography` refuses.
    """
    suite = _suite(algorithm)
    ed_public, ml_public = _halves(public, suite, suite.public_size, "public key")
    try:
        return CompositeSigPublicKey(
            suite,
            suite.eddsa_public.from_public_bytes(ed_public),
            suite.mldsa_public.from_public_bytes(ml_public),
        )
    except ValueError:
        raise FormatError(f"malformed {suite.name} public key") from None


def sign(key: CompositeSigPrivateKey, message: bytes) -> bytes:
    """The composite signature of ``message``: EdDSA signature || ML-DSA signature
    (RFC 9980 §5.2.1, both with an empty context; ML-DSA hedged)."""
    return key.eddsa.sign(message) + key.mldsa.sign(message)


def check(key: CompositeSigPublicKey, signature: bytes, message: bytes) -> None:
    """Check a composite signature: both halves must verify (RFC 9980 §5.2.2).

    Raises:
        FormatError: the signature has the wrong size or either half fails.
    """
    suite = key.suite
    if len(signature) != suite.signature_size:
        raise FormatError(BAD_SIGNATURE)
    split = suite.eddsa_signature_size
    try:
        # Both halves are always checked, so the time taken does not say which
        # one failed.
        eddsa_ok = _holds(key.eddsa, signature[:split], message)
        mldsa_ok = _holds(key.mldsa, signature[split:], message)
    except ValueError:
        raise FormatError(BAD_SIGNATURE) from None
    if not (eddsa_ok and mldsa_ok):
        raise FormatError(BAD_SIGNATURE)


def _holds(key: EdPublicKey | MLDSAPublicKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True
