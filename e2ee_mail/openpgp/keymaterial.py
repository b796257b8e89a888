"""Algorithm-specific key material <-> `cryptography` key objects (RFC 9580 §5.5.5).

Native algorithms: X25519 (25) and Ed25519 (27) keep raw 32-octet public and secret
keys (§5.5.5.7, §5.5.5.9), X448 (26) raw 56-octet ones (§5.5.5.8). RSA (1): public
MPIs n, e; secret MPIs d, p, q, u with p < q and u = p^-1 mod q (§5.5.5.1). The
curve keys (EdDSALegacy 22, ECDH 18) are decoded by :mod:`.curves`, imported only
when such a key is loaded; so is `cryptography`'s X448. ML-KEM-768+X25519 (35,
RFC 9980 §4.3.2) keeps X25519 key || ML-KEM key raw on both sides, the secret ML-KEM
half as its 64-octet seed (core/mlkem.py); ML-KEM-1024+X448 (36) likewise with X448.
ML-DSA-65+Ed25519 (30, RFC 9980 §5.3) keeps Ed25519 key || ML-DSA-65 key raw, the
secret ML-DSA half as its 32-octet seed xi (core/mldsa.py); ML-DSA-87+Ed448 (31)
likewise with Ed448 and ML-DSA-87.
"""

from __future__ import annotations

import functools
from typing import Final

# Raw key bytes come from private_bytes_raw/public_bytes_raw (cryptography >= 40), not
# `serialization`'s Encoding.Raw: importing `serialization` also loads its SSH key
# codec (and bcrypt), several milliseconds of every CLI start.
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa, x25519

from ..errors import FormatError, KeyLoadError, UnsupportedError
from .packets import (
    PK_ECDH,
    PK_ED25519,
    PK_EDDSA_LEGACY,
    PK_RSA,
    PK_RSA_ENCRYPT_ONLY,
    PK_RSA_SIGN_ONLY,
    PK_X448,
    PK_X25519,
    PQ_KEM_ALGOS,
    PQ_SIG_ALGOS,
)
from .packets.keys import PublicKeyPacket
from .packets.wire import Reader, encode_mpi, mpi_to_int

__all__ = [
    "PrivateKey",
    "private_from_material",
    "public_material",
    "rsa_bits",
    "secret_material",
]

PrivateKey = (
    x25519.X25519PrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey | object
)
_RSA: Final = (PK_RSA, PK_RSA_ENCRYPT_ONLY, PK_RSA_SIGN_ONLY)


def _raw_private(key: x25519.X25519PrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes_raw()


def public_material(
    key: x25519.X25519PrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey,
) -> bytes:
    """The public key fields for a freshly generated private key."""
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.public_key().public_numbers()
        return encode_mpi(numbers.n) + encode_mpi(numbers.e)
    return key.public_key().public_bytes_raw()


def secret_material(
    key: x25519.X25519PrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey,
) -> bytes:
    """The plain secret key fields (no checksum) of a private key."""
    if isinstance(key, rsa.RSAPrivateKey):
        nums = key.private_numbers()
        p, q = sorted((nums.p, nums.q))
        return (
            encode_mpi(nums.d)
            + encode_mpi(p)
            + encode_mpi(q)
            + encode_mpi(pow(p, -1, q))
        )
    return _raw_private(key)


def private_from_material(public: PublicKeyPacket, secret: bytes) -> object:
    """The private key object for plain secret ``secret`` of key ``public``.

    Raises:
        KeyLoadError: the secret does not match the public key.
        UnsupportedError: an algorithm we do not handle.
    """
    algorithm = public.algorithm
    try:
        if algorithm == PK_X25519:
            xkey = x25519.X25519PrivateKey.from_private_bytes(secret)
            ok = public_material(xkey) == public.material
            key: object = xkey
        elif algorithm == PK_ED25519:
            ekey = ed25519.Ed25519PrivateKey.from_private_bytes(secret)
            ok = public_material(ekey) == public.material
            key = ekey
        elif algorithm in _RSA:
            key, ok = _rsa_private(public, secret), True
        elif algorithm == PK_X448:
            from cryptography.hazmat.primitives.asymmetric import x448

            x4key = x448.X448PrivateKey.from_private_bytes(secret)
            ok = x4key.public_key().public_bytes_raw() == public.material
            key = x4key
        elif algorithm in PQ_KEM_ALGOS:
            from ..core import mlkem  # PQ keys only: kept out of the start-up path

            mkey = mlkem.private_from_bytes(secret, algorithm)
            ok = mkey.public == public.material
            key = mkey
        elif algorithm in PQ_SIG_ALGOS:
            from ..core import mldsa  # PQ keys only: kept out of the start-up path

            skey = mldsa.private_from_bytes(secret, algorithm)
            ok = skey.public == public.material
            key = skey
        elif algorithm in (PK_ECDH, PK_EDDSA_LEGACY):
            from . import curves  # v4 keys only: kept out of the v6 start-up path

            key, ok = curves.private_from_material(public, secret), True
        else:
            raise UnsupportedError(f"key algorithm {algorithm} is not supported")
    except (ValueError, FormatError):
        raise KeyLoadError("secret key material is malformed") from None
    if not ok:
        raise KeyLoadError("secret key material does not match its public key")
    return key


def _rsa_private(public: PublicKeyPacket, secret: bytes) -> rsa.RSAPrivateKey:
    pub = Reader(public.material, "RSA public key")
    n = mpi_to_int(pub.mpi())
    e = mpi_to_int(pub.mpi())
    sec = Reader(secret, "RSA secret key")
    d, p, q, _u = (mpi_to_int(sec.mpi()) for _ in range(4))
    sec.end()
    if p * q != n:
        raise KeyLoadError("secret key material does not match its public key")
    numbers = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=rsa.rsa_crt_dmp1(d, p),
        dmq1=rsa.rsa_crt_dmq1(d, q),
        iqmp=rsa.rsa_crt_iqmp(p, q),
        public_numbers=rsa.RSAPublicNumbers(e, n),
    )
    return numbers.private_key()


def rsa_bits(public: PublicKeyPacket) -> int:
    """The modulus size of an RSA key packet."""
    return _rsa_bits(public.material)


@functools.lru_cache(maxsize=512)
def _rsa_bits(material: bytes) -> int:
    # Asked per recipient per message (policy check): parse each key once.
    reader = Reader(material, "RSA public key")
    return mpi_to_int(reader.mpi()).bit_length()
