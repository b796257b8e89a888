"""ECDH (algorithm 18) as a PKESK recipient (RFC 9580 §5.1.5, §11.5), called by
:mod:`.pkesk` for keys of that algorithm, over Curve25519Legacy and the NIST and
brainpool curves (:mod:`.curves`).

The algorithm-specific fields are ``MPI(ephemeral point) || size || wrapped``: the
point 0x40-prefixed for Curve25519Legacy, SEC1 uncompressed for the prime curves.
The wrapped block is (v3 PKESK only: the cipher octet) || session key || 2-octet
checksum, PKCS#5-padded, AES-key-wrapped under the KDF of the recipient key's own
parameters and fingerprint (core/ecdh.py), after an X25519 agreement
(core/x25519.py) or a prime-curve one (core/ecdh_prime.py, which CMS uses too). A
v6 key of algorithm 18 uses the same fields; its 32-octet fingerprint goes into the
KDF parameter block. RSA (1), X25519 (25) and X448 (26) PKESKs are handled by
:mod:`.pkesk` itself. Opening never says which check failed: every failure after
the private-key operation is one DecryptionError.
"""

from __future__ import annotations

import functools
import hmac

from cryptography.hazmat.primitives.asymmetric import ec, x25519

from ..core import ecdh, ecdh_prime
from ..core import x25519 as core_x25519
from ..errors import DecryptionError, Error
from .curves import PRIME_CURVES, EcdhKey, decode_ecdh_key
from .packets import PK_ECDH
from .packets.keys import PublicKeyPacket
from .packets.wire import Reader, checksum16, encode_mpi
from .tpk import KeyInfo

__all__ = ["unwrap_ecdh", "wrap_ecdh"]


def _params(key: KeyInfo) -> tuple[EcdhKey, bytes]:
    """(decoded recipient key, KDF parameter block)."""
    return _key_params(key.packet, key.fingerprint)


@functools.lru_cache(maxsize=512)
def _key_params(packet: PublicKeyPacket, fingerprint: bytes) -> tuple[EcdhKey, bytes]:
    # Derived from the public key packet alone (immutable) and asked per recipient
    # per message on both sides: decoded once per key (a prime-curve point is
    # checked to be on its curve here). Failures are not cached (lru_cache keeps
    # results only).
    info = decode_ecdh_key(packet)
    param = ecdh.ecdh_param(info.oid, PK_ECDH, info.hash_id, info.kek_id, fingerprint)
    return info, param


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
    info, param = _params(recipient)
    if info.public is not None:
        if _ephemeral_secret is None:
            ephemeral, shared = ecdh_prime.ephemeral_agree(info.public)
        else:
            ephemeral, shared = ecdh_prime.ephemeral_agree_from_parts(
                info.public, _ephemeral_secret
            )
    else:
        if _ephemeral_secret is None:
            native, shared = core_x25519.ephemeral_agree(info.point)
        else:
            native, shared = core_x25519.ephemeral_agree_from_parts(
                info.point, _ephemeral_secret
            )
        ephemeral = ecdh.encode_point(native)
    head = bytes((cipher,)) if cipher is not None else b""
    wrapped = ecdh.wrap_shared(
        shared,
        param,
        head + session_key + checksum16(session_key),
        hash_name=info.hash_name,
        kek_size=info.kek_size,
    )
    return encode_mpi(ephemeral) + bytes((len(wrapped),)) + wrapped


def _unwrap_payload(fields: bytes, private: object, key: KeyInfo) -> bytes:
    info, param = _params(key)
    reader = Reader(fields, "ECDH PKESK fields")
    point = reader.mpi()[2:]
    wrapped = reader.take(reader.u8())
    reader.end()
    if info.public is None and isinstance(private, x25519.X25519PrivateKey):
        shared = core_x25519.agree(private, ecdh.decode_point(point))
    elif info.public is not None and isinstance(private, ec.EllipticCurvePrivateKey):
        prime = PRIME_CURVES[info.curve]
        shared = ecdh_prime.agree(private, ecdh_prime.decode_point(prime, point))
    else:
        raise DecryptionError()
    return ecdh.unwrap_shared(
        shared, param, wrapped, hash_name=info.hash_name, kek_size=info.kek_size
    )


def unwrap_ecdh(
    fields: bytes, private: object, key: KeyInfo, version: int
) -> tuple[int | None, bytes]:
    """(cipher or None for a v6 PKESK, session key); any failure DecryptionError."""
    try:
        payload = _unwrap_payload(fields, private, key)
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
