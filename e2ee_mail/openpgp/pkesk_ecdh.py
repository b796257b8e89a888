"""ECDH over Curve25519Legacy (algorithm 18) as a PKESK recipient (RFC 9580 §5.1.5,
§11.5), called by :mod:`.pkesk` for keys of that algorithm.

The algorithm-specific fields are ``MPI(0x40 || ephemeral point) || size || wrapped``.
The wrapped block is (v3 PKESK only: the cipher octet) || session key || 2-octet
checksum, PKCS#5-padded, AES-key-wrapped under the KDF of the recipient key's own
parameters and fingerprint (core/ecdh.py). RSA (1) and X25519 (25) v3 PKESKs are
handled by :mod:`.pkesk` itself (RFC 9580 §5.1.3, §5.1.6). Opening never says which
check failed: every failure after the private-key operation is one DecryptionError.
Left out: the NIST and Brainpool curves.
"""

from __future__ import annotations

import functools
import hmac
from typing import Final

from cryptography.hazmat.primitives.asymmetric import x25519

from ..core import ecdh
from ..errors import DecryptionError, Error, UnsupportedError
from .curves import decode_curve_public
from .packets import PK_ECDH
from .packets.keys import PublicKeyPacket
from .packets.wire import Reader, checksum16, encode_mpi
from .tpk import KeyInfo

__all__ = ["unwrap_ecdh", "wrap_ecdh"]

#: RFC 9580 §9.5 KDF hashes and §9.3 key-wrap ciphers an ECDH key may name.
_KDF_HASHES: Final = {8: "sha256", 9: "sha384", 10: "sha512"}
_KEK_SIZES: Final = {7: 16, 8: 24, 9: 32}


def _params(key: KeyInfo) -> tuple[bytes, bytes, str, int]:
    """(native recipient public key, KDF parameter block, hash name, KEK size)."""
    return _key_params(key.packet, key.fingerprint)


@functools.lru_cache(maxsize=512)
def _key_params(
    packet: PublicKeyPacket, fingerprint: bytes
) -> tuple[bytes, bytes, str, int]:
    # Derived from the public key packet alone (immutable) and asked per recipient
    # per message on both sides: decoded once per key. Failures are not
    # cached (lru_cache keeps results only).
    oid, native, kdf = decode_curve_public(packet)
    hash_name = _KDF_HASHES.get(kdf[1])
    kek_size = _KEK_SIZES.get(kdf[2])
    if hash_name is None or kek_size is None:
        raise UnsupportedError(
            f"ECDH key asks for KDF hash {kdf[1]} / key wrap {kdf[2]}, which are not "
            "supported (SHA2-256/384/512 with AES key wrap only)"
        )
    param = ecdh.ecdh_param(oid, PK_ECDH, kdf[1], kdf[2], fingerprint)
    return native, param, hash_name, kek_size


def wrap_ecdh(
    session_key: bytes,
    cipher: int | None,
    recipient: KeyInfo,
    version: int,
    *,
    _ephemeral_secret: bytes | None = None,
) -> bytes:
    """The algorithm-specific PKESK fields giving ``session_key`` to ``recipient``.

    ``_ephemeral_secret`` pins the ephemeral key, for test vectors only (the
    registry in pkesk.py never passes it).
    """
    native, param, hash_name, kek_size = _params(recipient)
    head = bytes((cipher,)) if cipher is not None else b""
    payload = head + session_key + checksum16(session_key)
    ephemeral, wrapped = ecdh.ecdh_wrap(
        native,
        param,
        payload,
        hash_name=hash_name,
        kek_size=kek_size,
        _ephemeral_secret=_ephemeral_secret,
    )
    return encode_mpi(ecdh.encode_point(ephemeral)) + bytes((len(wrapped),)) + wrapped


def unwrap_ecdh(
    fields: bytes, private: object, key: KeyInfo, version: int
) -> tuple[int | None, bytes]:
    """(cipher or None for a v6 PKESK, session key); any failure DecryptionError."""
    if not isinstance(private, x25519.X25519PrivateKey):
        raise DecryptionError()
    try:
        _, param, hash_name, kek_size = _params(key)
        reader = Reader(fields, "ECDH PKESK fields")
        ephemeral = ecdh.decode_point(reader.mpi()[2:])
        wrapped = reader.take(reader.u8())
        reader.end()
        payload = ecdh.ecdh_unwrap(
            private, ephemeral, param, wrapped, hash_name=hash_name, kek_size=kek_size
        )
    except Error:
        raise DecryptionError() from None
    cipher = None
    if version == 3:
        if not payload:
            raise DecryptionError()
        cipher, payload = payload[0], payload[1:]
    session_key, check = payload[:-2], payload[-2:]
    if len(session_key) not in (16, 24, 32) or not hmac.compare_digest(
        checksum16(session_key), check
    ):
        raise DecryptionError()
    return cipher, session_key
