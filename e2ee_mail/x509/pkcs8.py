"""The cost bound on encrypted PKCS#8 keys (RFC 5958 §3, PKCS#5 PBES1/PBES2).

An EncryptedPrivateKeyInfo names its own iteration count, up to 2**31 - 1 in the
DER; OpenSSL runs whatever count it is given, so a hostile key file would hold the
loading process for hours on every attempt, a wrong passphrase included. The count
is read here, before the passphrase is tried, and a key above the bound is refused.
"""

from __future__ import annotations

import base64
import binascii
from typing import Final

from ..errors import PolicyError

__all__ = ["MAX_PBKDF_ITERATIONS", "check_pbe_cost"]

#: Most key-derivation iterations an encrypted PKCS#8 key may ask for. Tools write
#: 2,048 (OpenSSL) to a few hundred thousand; ten million HMAC-SHA256 rounds take a
#: few seconds, which bounds what one unlock attempt can cost.
MAX_PBKDF_ITERATIONS: Final = 10_000_000


def _der_of(block: bytes, *, pem: bool) -> bytes | None:
    if not pem:
        return block
    lines = block.strip().splitlines()
    body = b"".join(line for line in lines[1:-1] if b":" not in line)
    try:
        return base64.b64decode(body, validate=False)
    except (binascii.Error, ValueError):
        return None


def check_pbe_cost(block: bytes, *, pem: bool) -> None:
    """Refuse an encrypted PKCS#8 key whose key derivation exceeds the bound.

    Anything that does not parse as EncryptedPrivateKeyInfo is left to the key
    loader, which reports it; so is a key-derivation function that names no
    iteration count (scrypt, whose memory OpenSSL bounds itself).

    Raises:
        PolicyError: the iteration count is above :data:`MAX_PBKDF_ITERATIONS`.
    """
    der = _der_of(block, pem=pem)
    if der is None:
        return
    # Only encrypted or DER keys get here: asn1crypto stays out of the start-up of
    # a command that loads a plain PEM key (tens of milliseconds of imports).
    from asn1crypto import keys

    try:
        info = keys.EncryptedPrivateKeyInfo.load(der, strict=True)
        iterations = info["encryption_algorithm"].kdf_iterations
    except (ValueError, TypeError, KeyError):
        return
    if isinstance(iterations, int) and iterations > MAX_PBKDF_ITERATIONS:
        raise PolicyError(
            f"the key file asks for {iterations:,} key-derivation iterations, "
            f"more than the {MAX_PBKDF_ITERATIONS:,} this library agrees to run"
        )
