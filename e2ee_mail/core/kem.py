"""ML-KEM-768 and ML-KEM-1024 (FIPS 203) as CMS uses them (RFC 9936): encapsulation to
a recipient's public key and decapsulation with the private key.

The KEM itself comes from `cryptography`, never from code of ours, and draws its own
randomness (FIPS 203 §7.2 ML-KEM.Encaps takes 32 random octets that `cryptography`
does not let a caller supply). Decapsulation never fails on a ciphertext of the right
size: FIPS 203 §6.3 implicit rejection returns a pseudo-random secret instead, so an
altered ciphertext is caught later, by the integrity check of the key wrap.
"""

from __future__ import annotations

from typing import Final

from cryptography.hazmat.primitives.asymmetric import mlkem

from ..errors import DecryptionError

__all__ = ["CIPHERTEXT_SIZES", "PrivateKey", "PublicKey", "decapsulate", "encapsulate"]

PublicKey = mlkem.MLKEM768PublicKey | mlkem.MLKEM1024PublicKey
PrivateKey = mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey
#: Ciphertext octets of each parameter set (FIPS 203 §8, Table 3), by key name.
CIPHERTEXT_SIZES: Final = {"mlkem768": 1088, "mlkem1024": 1568}


def encapsulate(public: PublicKey) -> tuple[bytes, bytes]:
    """ML-KEM.Encaps: (shared secret, ciphertext)."""
    return public.encapsulate()


def decapsulate(private: PrivateKey, ciphertext: bytes) -> bytes:
    """ML-KEM.Decaps: the 32-octet shared secret.

    Raises:
        DecryptionError: a ciphertext of the wrong size for the key.
    """
    try:
        return private.decapsulate(ciphertext)
    except ValueError:
        raise DecryptionError() from None
