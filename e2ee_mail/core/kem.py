"""Plain ML-KEM-768 and ML-KEM-1024 (FIPS 203): key generation, keys from their
seed or encapsulation key, encapsulation and decapsulation. CMS KEMRecipientInfo
(cms/kemri.py, RFC 9936) uses it directly; the composite ML-KEM + ECDH KEMs of
OpenPGP (:mod:`.mlkem`, RFC 9980) use it for their ML-KEM half.

The KEM itself comes from `cryptography`, never from code of ours, and draws its own
randomness (FIPS 203 §7.2 ML-KEM.Encaps takes 32 random octets that `cryptography`
does not let a caller supply). Decapsulation never fails on a ciphertext of the right
size: FIPS 203 §6.3 implicit rejection returns a pseudo-random secret instead, so an
altered ciphertext is caught later, by the integrity check of the key wrap.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Final

from cryptography.hazmat.primitives.asymmetric import mlkem

from ..errors import DecryptionError, FormatError

__all__ = [
    "CIPHERTEXT_SIZES",
    "MLKEM768",
    "MLKEM1024",
    "SEED_SIZE",
    "ParameterSet",
    "PrivateKey",
    "PublicKey",
    "decapsulate",
    "encapsulate",
    "generate",
    "parameter_set",
    "private_from_seed",
    "public_from_bytes",
]

PublicKey = mlkem.MLKEM768PublicKey | mlkem.MLKEM1024PublicKey
PrivateKey = mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey

#: The private key seed d || z that ML-KEM.KeyGen_internal expands (FIPS 203 §6.1).
SEED_SIZE: Final = 64


@dataclasses.dataclass(frozen=True, slots=True)
class ParameterSet:
    """One ML-KEM parameter set and its sizes (FIPS 203 §8, Table 3).

    Attributes:
        name: the key algorithm name (x509/certs.py).
        encapsulation_size: encapsulation (public) key octets.
        ciphertext_size: ciphertext octets.
    """

    name: str
    encapsulation_size: int
    ciphertext_size: int


MLKEM768: Final = ParameterSet("mlkem768", 1184, 1088)
MLKEM1024: Final = ParameterSet("mlkem1024", 1568, 1568)
#: Ciphertext octets of each parameter set, by key name.
CIPHERTEXT_SIZES: Final = {p.name: p.ciphertext_size for p in (MLKEM768, MLKEM1024)}


def parameter_set(key: PublicKey | PrivateKey) -> ParameterSet:
    """The parameter set of ``key``."""
    if isinstance(key, mlkem.MLKEM1024PublicKey | mlkem.MLKEM1024PrivateKey):
        return MLKEM1024
    return MLKEM768


def generate(params: ParameterSet) -> PrivateKey:
    """A fresh decapsulation key (ML-KEM.KeyGen, FIPS 203 §7.1)."""
    if params is MLKEM1024:
        return mlkem.MLKEM1024PrivateKey.generate()
    return mlkem.MLKEM768PrivateKey.generate()


def private_from_seed(seed: bytes, params: ParameterSet) -> PrivateKey:
    """The decapsulation key expanded from its 64-octet seed d || z.

    Raises:
        FormatError: a seed of another size.
    """
    if len(seed) != SEED_SIZE:
        raise FormatError(f"an ML-KEM seed is {SEED_SIZE} octets, got {len(seed)}")
    if params is MLKEM1024:
        return mlkem.MLKEM1024PrivateKey.from_seed_bytes(seed)
    return mlkem.MLKEM768PrivateKey.from_seed_bytes(seed)


@functools.lru_cache(maxsize=512)
def public_from_bytes(material: bytes) -> PublicKey:
    """The encapsulation key ``material`` of either parameter set, told apart by
    its size, after the FIPS 203 §7.2 modulus check.

    Parsed once per recipient key (the check is not free); the key object is
    immutable. Failures are not cached.

    Raises:
        FormatError: the wrong size, or a key that fails the modulus check.
    """
    try:
        if len(material) == MLKEM1024.encapsulation_size:
            return mlkem.MLKEM1024PublicKey.from_public_bytes(material)
        return mlkem.MLKEM768PublicKey.from_public_bytes(material)
    except ValueError:
        raise FormatError("the ML-KEM encapsulation key is malformed") from None


def encapsulate(public: PublicKey) -> tuple[bytes, bytes]:
    """ML-KEM.Encaps: (shared secret, ciphertext)."""
    return public.encapsulate()


def decapsulate(private: PrivateKey, ciphertext: bytes) -> bytes:
    """ML-KEM.Decaps: the 32-octet shared secret. A ciphertext of the right size
    never fails (implicit rejection).

    Raises:
        DecryptionError: a ciphertext of the wrong size for the key.
    """
    if len(ciphertext) != parameter_set(private).ciphertext_size:
        raise DecryptionError()
    try:
        return private.decapsulate(ciphertext)
    except ValueError:
        raise DecryptionError() from None
