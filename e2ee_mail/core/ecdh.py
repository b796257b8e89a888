"""Session-key wrapping to ECDH recipients the way OpenPGP v4 keys do it.

Implements, over bytes only (no packet knowledge: the caller passes the curve OID, the
algorithm octets and the recipient fingerprint):

* RFC 9580 §11.4-§11.5 (formerly RFC 6637 §7-§8), ECDH over Curve25519Legacy: X25519
  agreement, the SP 800-56A single-step KDF (``cryptography``'s ConcatKDFHash) over the
  parameter block ``len(OID) || OID || alg || 03 01 hash kek || "Anonymous Sender    "
  || fingerprint``, AES key wrap (RFC 3394) of the session-key block padded PKCS#5
  style to a multiple of 8 octets (RFC 8018 §6.1.1), and the 0x40-prefixed native
  point encoding (RFC 9580 §11.2.2).

* The same over the NIST curves P-256/P-384/P-521 and brainpoolP256r1/P384r1/P512r1
  (RFC 9580 §9.2, RFC 6637 §6-§8): the agreement (SEC1 uncompressed points, the x
  coordinate of the agreed point as the shared secret) is core/ecdh_prime.py's, which
  CMS uses too; :func:`wrap_shared` and :func:`unwrap_shared` apply the KDF and key
  wrap to its secret.

Every failure after the private-key operation is the same DecryptionError. X25519
(v6 algorithm 25) and X448 (26) are wrapped by openpgp/pkesk.py with
core/x25519.py, core/x448.py and core/kdf.py.
"""

from __future__ import annotations

import hmac
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash

from ..errors import DecryptionError, FormatError, UsageError
from . import keywrap, x25519

__all__ = [
    "ANONYMOUS_SENDER",
    "decode_point",
    "ecdh_kdf",
    "ecdh_param",
    "encode_point",
    "legacy_secret_to_native",
    "native_to_legacy_secret",
    "pkcs5_pad",
    "pkcs5_unpad",
    "unwrap_shared",
    "wrap_shared",
]

#: RFC 9580 §11.5: "Anonymous Sender" padded with spaces to 20 octets.
ANONYMOUS_SENDER: Final = b"Anonymous Sender    "
_POINT_PREFIX: Final = 0x40
_HASHES: Final[dict[str, type[hashes.HashAlgorithm]]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def encode_point(native: bytes) -> bytes:
    """The prefixed native point: 0x40 || 32-octet X25519 public key."""
    if len(native) != x25519.KEY_SIZE:
        raise UsageError("an X25519 point is 32 octets")
    return bytes((_POINT_PREFIX,)) + native


def decode_point(encoded: bytes) -> bytes:
    """The 32-octet native key from a 0x40-prefixed point, or FormatError."""
    if len(encoded) != 1 + x25519.KEY_SIZE or encoded[0] != _POINT_PREFIX:
        raise FormatError("Curve25519 point must be 0x40 followed by 32 octets")
    return bytes(encoded[1:])


def legacy_secret_to_native(value: bytes) -> bytes:
    """Curve25519Legacy secret (big-endian MPI value, RFC 9580 §5.5.5.6.1.1) → the
    little-endian native X25519 private key."""
    if len(value) > x25519.KEY_SIZE:
        raise FormatError("Curve25519 secret key is longer than 32 octets")
    return value.rjust(x25519.KEY_SIZE, b"\x00")[::-1]


def native_to_legacy_secret(native: bytes) -> bytes:
    """Native X25519 private key → the clamped big-endian value OpenPGP v4 stores.

    Clamping (RFC 7748 §5) does not change the public key and makes the integer of the
    form RFC 9580 §5.5.5.6.1.1 requires (a multiple of 8, in [2**254, 2**255)).
    """
    if len(native) != x25519.KEY_SIZE:
        raise UsageError("an X25519 private key is 32 octets")
    k = bytearray(native)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    return bytes(k[::-1])


def ecdh_param(
    curve_oid: bytes,
    pk_algo: int,
    kdf_hash_id: int,
    kek_algo_id: int,
    fingerprint: bytes,
) -> bytes:
    """The KDF parameter block of RFC 9580 §11.5 (the SP 800-56A OtherInfo)."""
    return (
        bytes((len(curve_oid),))
        + curve_oid
        + bytes((pk_algo, 3, 1, kdf_hash_id, kek_algo_id))
        + ANONYMOUS_SENDER
        + fingerprint
    )


def ecdh_kdf(shared: bytes, param: bytes, *, hash_name: str, length: int) -> bytes:
    """Hash(00 00 00 01 || shared || param), truncated (RFC 9580 §11.4)."""
    algo = _HASHES.get(hash_name)
    if algo is None:
        raise UsageError(f"ECDH KDF hash must be SHA-256/384/512, not {hash_name}")
    return ConcatKDFHash(algorithm=algo(), length=length, otherinfo=param).derive(
        shared
    )


def pkcs5_pad(block: bytes) -> bytes:
    """Pad to a multiple of 8 octets, each pad octet holding the pad length."""
    n = 8 - len(block) % 8
    return block + bytes((n,)) * n


def pkcs5_unpad(block: bytes) -> bytes:
    """Remove PKCS#5 padding; any inconsistency is a DecryptionError."""
    if not block or len(block) % 8:
        raise DecryptionError()
    n = block[-1]
    ok = 1 <= n <= 8 and hmac.compare_digest(block[-n:], bytes((n,)) * n)
    if not ok:
        raise DecryptionError()
    return block[:-n]


def wrap_shared(
    shared: bytes, param: bytes, payload: bytes, *, hash_name: str, kek_size: int
) -> bytes:
    """``payload`` PKCS#5-padded and AES-key-wrapped under the KEK of an agreed
    secret (RFC 9580 §11.5), whatever the curve that agreed it."""
    kek = ecdh_kdf(shared, param, hash_name=hash_name, length=kek_size)
    return keywrap.wrap(kek, pkcs5_pad(payload))


def unwrap_shared(
    shared: bytes, param: bytes, wrapped: bytes, *, hash_name: str, kek_size: int
) -> bytes:
    """The unpadded payload :func:`wrap_shared` wrapped; any failure is the same
    DecryptionError."""
    kek = ecdh_kdf(shared, param, hash_name=hash_name, length=kek_size)
    return pkcs5_unpad(keywrap.unwrap(kek, wrapped))
