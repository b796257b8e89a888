"""The cost bound on encrypted PKCS#8 keys (RFC 5958 §3, PKCS#5 PBES1/PBES2), and
the ML-KEM private key form `cryptography` does not read itself.

An EncryptedPrivateKeyInfo names its own iteration count, up to 2**31 - 1 in the
DER; OpenSSL runs whatever count it is given, so a hostile key file would hold the
loading process for hours on every attempt, a wrong passphrase included. The count
is read here, before the passphrase is tried, and a key above the bound is refused.

An ML-KEM private key (RFC 9935 §6) is a CHOICE of the 64-octet seed, the expanded
decapsulation key, or both. `cryptography` reads the seed form only; the "both" form
is read here by taking its seed, after checking that the expanded key agrees with
it where that can be checked without ML-KEM's internals: the encapsulation key, its
hash H(ek) and the implicit-rejection value z it embeds (FIPS 203 §7.1); its dkPKE
part is not checked, and never used: the key is the seed's. The expandedKey form
alone carries no seed and stays refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import TYPE_CHECKING, Final

from ..errors import KeyLoadError, PolicyError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import mlkem

__all__ = ["MAX_PBKDF_ITERATIONS", "check_pbe_cost", "load_mlkem_both", "read_element"]

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


#: The id-alg-ml-kem-768 / -1024 AlgorithmIdentifier (RFC 9935 §3, parameters absent)
#: -> the size of the expanded decapsulation key (FIPS 203 §8: 768k + 96 octets).
_MLKEM_EXPANDED_SIZES: Final = {
    bytes.fromhex("300b0609608648016503040402"): 2400,
    bytes.fromhex("300b0609608648016503040403"): 3168,
}
_SEED_SIZE: Final = 64


def read_element(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of the contents, end) of the DER element at ``pos`` (X.690 §8.1:
    one tag octet, which every field read with it has; a definite length).

    Raises:
        ValueError: the length is not definite or runs past the end.
    """
    if pos + 2 > len(der):
        raise ValueError("element runs past the end")
    tag, length, start = der[pos], der[pos + 1], pos + 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4:
            raise ValueError("indefinite or oversized length")
        length = int.from_bytes(der[start : start + count], "big")
        start += count
    if start + length > len(der):
        raise ValueError("element runs past the end")
    return tag, start, start + length


def _element(der: bytes, pos: int, tag: int) -> tuple[int, int]:
    """(start, end) of the contents of the DER element at ``pos``, which has ``tag``.

    Raises:
        ValueError: another tag, or as :func:`read_element`.
    """
    found, start, end = read_element(der, pos)
    if found != tag:
        raise ValueError("unexpected element")
    return start, end


def _both(der: bytes) -> tuple[bytes, bytes, bytes] | None:
    """(AlgorithmIdentifier, seed, expandedKey) of a PrivateKeyInfo holding an
    ML-KEM key in the "both" form, or None for any other shape."""
    try:
        start, end = _element(der, 0, 0x30)
        if end != len(der):
            return None
        _, alg_at = _element(der, start, 0x02)  # version
        _, alg_end = _element(der, alg_at, 0x30)
        algorithm = der[alg_at:alg_end]
        if algorithm not in _MLKEM_EXPANDED_SIZES:
            return None
        key_start, key_end = _element(der, alg_end, 0x04)
        if key_end != end:
            return None  # attributes or a public key: left to `cryptography`
        both_start, both_end = _element(der, key_start, 0x30)
        seed_start, seed_end = _element(der, both_start, 0x04)
        exp_start, exp_end = _element(der, seed_end, 0x04)
    except ValueError:
        return None
    if both_end != key_end or exp_end != both_end:
        return None
    return algorithm, der[seed_start:seed_end], der[exp_start:exp_end]


def load_mlkem_both(
    block: bytes, *, pem: bool
) -> mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey | None:
    """The ML-KEM key of an unencrypted PKCS#8 key in the "both" form, or None when
    ``block`` is not one.

    Raises:
        KeyLoadError: the seed is not 64 octets, or the expanded key does not agree
            with the key the seed gives.
    """
    der = _der_of(block, pem=pem)
    found = None if der is None else _both(der)
    if found is None:
        return None
    algorithm, seed, expanded = found
    if len(seed) != _SEED_SIZE or len(expanded) != _MLKEM_EXPANDED_SIZES[algorithm]:
        raise KeyLoadError(
            "the ML-KEM private key's seed or expandedKey has the wrong size"
        )
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import mlkem

    # The same key in the seed form: [0] IMPLICIT OCTET STRING inside privateKey.
    private_key = b"\x04\x42\x80\x40" + seed
    body = b"\x02\x01\x00" + algorithm + private_key
    key = serialization.load_der_private_key(
        b"\x30" + bytes((len(body),)) + body, password=None
    )
    assert isinstance(key, mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey)
    # FIPS 203 §7.1: dk = dkPKE (384k) || ek || H(ek) || z.
    ek = key.public_key().public_bytes_raw()
    dk_pke = len(expanded) - len(ek) - 64
    if (
        expanded[dk_pke : dk_pke + len(ek)] != ek
        or expanded[-64:-32] != hashlib.sha3_256(ek).digest()
        or expanded[-32:] != seed[32:]
    ):
        raise KeyLoadError(
            "the ML-KEM private key's expandedKey does not match its seed (RFC 9935 §6)"
        )
    return key
