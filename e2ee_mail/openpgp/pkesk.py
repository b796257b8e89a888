"""Wrapping and unwrapping the session key for one recipient (RFC 9580 §5.1).

X25519 (§5.1.6): an ephemeral X25519 key, HKDF-SHA256 over ephemeral public key ||
recipient public key || shared secret with info "OpenPGP X25519", AES-128 key wrap
of the session key, which carries no checksum and (v6) no cipher octet.
RSA (§5.1.3): PKCS#1 v1.5 over the session key followed by its 2-octet checksum
(and, in a v3 PKESK, preceded by the cipher octet). Opening never says which check
failed: any failure after the private-key operation is the same DecryptionError, and
for a PKESK that names our key an RSA failure goes on with a random session key
(:func:`unwrap_named`, implicit rejection).
X448 (§5.1.7): the same with an ephemeral X448 key, HKDF-SHA512 with info
"OpenPGP X448" and AES-256 key wrap (:func:`_wrap_x448`, :func:`_unwrap_x448`); its
modules are imported on first use, as X448 keys are rare.
ECDH (18), over Curve25519Legacy and the NIST and brainpool curves, is handled by
:mod:`.pkesk_ecdh`; ML-KEM-768+X25519 (35) and ML-KEM-1024+X448 (36), RFC 9980, by
:mod:`.pkesk_mlkem`.
"""

from __future__ import annotations

import functools
from typing import Final

from cryptography.hazmat.primitives.asymmetric import rsa, x25519

from ..core import kdf, keywrap
from ..core import x25519 as core_x25519
from ..core.random import random_bytes
from ..errors import DecryptionError, Error, FormatError, UnsupportedError
from .packets import (
    CIPHER_AES256,
    PK_ECDH,
    PK_RSA,
    PK_RSA_ENCRYPT_ONLY,
    PK_X448,
    PK_X25519,
    PQ_KEM_ALGOS,
)
from .packets.pkesk import (
    PKESKv3,
    PKESKv6,
    X25519Fields,
    parse_mpi_fields,
    serialize_pkesk_v6,
    serialize_x25519_fields,
    split_x25519_fields,
)
from .packets.wire import Reader, checksum16, encode_mpi, mpi_to_int
from .tpk import KeyInfo

__all__ = [
    "X448_INFO",
    "X25519_INFO",
    "names",
    "unwrap",
    "unwrap_named",
    "wrap_v3",
    "wrap_v6",
    "wrap_v6_body",
    "x448_kek",
    "x25519_kek",
]

#: RFC 9580 §5.1.6: the HKDF info of X25519 key wrapping.
X25519_INFO: Final = b"OpenPGP X25519"
_X25519_KEK_SIZE: Final = 16
#: RFC 9580 §5.1.7: the HKDF info of X448 key wrapping, and its AES-256 KEK.
X448_INFO: Final = b"OpenPGP X448"
_X448_KEK_SIZE: Final = 32
_X448_SIZE: Final = 56


def x25519_kek(ephemeral: bytes, recipient: bytes, shared: bytes) -> bytes:
    return kdf.hkdf_sha256(
        ephemeral + recipient + shared,
        salt=None,
        info=X25519_INFO,
        length=_X25519_KEK_SIZE,
    )


def x448_kek(ephemeral: bytes, recipient: bytes, shared: bytes) -> bytes:
    """RFC 9580 §5.1.7: HKDF-SHA512 over ephemeral || recipient || shared, no salt."""
    from ..core import x448

    return x448.hkdf_sha512(
        ephemeral + recipient + shared,
        salt=None,
        info=X448_INFO,
        length=_X448_KEK_SIZE,
    )


def _wrap_x448(
    session_key: bytes,
    cipher: int | None,
    recipient_public: bytes,
    ephemeral_secret: bytes | None,
) -> bytes:
    from ..core import x448

    if ephemeral_secret is None:
        ephemeral, shared = x448.ephemeral_agree(recipient_public)
    else:
        ephemeral, shared = x448.ephemeral_agree_from_parts(
            recipient_public, ephemeral_secret
        )
    wrapped = keywrap.wrap(x448_kek(ephemeral, recipient_public, shared), session_key)
    return serialize_x25519_fields(
        X25519Fields(ephemeral, cipher, wrapped), point_size=_X448_SIZE
    )


def _unwrap_x448(
    material: bytes, private: object, recipient_public: bytes, version: int
) -> tuple[int | None, bytes]:
    from cryptography.hazmat.primitives.asymmetric import x448 as x448_keys

    from ..core import x448

    if not isinstance(private, x448_keys.X448PrivateKey):
        raise DecryptionError()
    try:
        ephemeral, cipher, wrapped = split_x25519_fields(
            material, version=version, point_size=_X448_SIZE
        )
        shared = x448.agree(private, ephemeral)
        kek = x448_kek(ephemeral, recipient_public, shared)
        return cipher, keywrap.unwrap(kek, wrapped)
    except Error:
        raise DecryptionError() from None


@functools.lru_cache(maxsize=512)
def _rsa_public(material: bytes) -> rsa.RSAPublicKey:
    """The ``cryptography`` key of an RSA key packet's public MPIs, cached per key.

    Building it (and OpenSSL's Montgomery set-up on first use) per recipient per
    message made 100 RSA recipients cost 1.8x their 100 raw wraps; the key
    object is immutable, so one per key is shared. Keyed by the public bytes only.
    """
    reader = Reader(material, "RSA key")
    n = mpi_to_int(reader.mpi())
    e = mpi_to_int(reader.mpi())
    return rsa.RSAPublicNumbers(e, n).public_key()


def _wrap_fields(
    session_key: bytes,
    cipher: int | None,
    recipient: KeyInfo,
    version: int,
    ephemeral_secret: bytes | None = None,
) -> bytes:
    packet = recipient.packet
    if packet.algorithm == PK_X25519:
        if ephemeral_secret is None:
            ephemeral, shared = core_x25519.ephemeral_agree(packet.material)
        else:
            # Pinned ephemeral key: test-vector generators and runners only
            # (the *_from_parts seams), reached through wrap_v6_from_parts.
            ephemeral, shared = core_x25519.ephemeral_agree_from_parts(
                packet.material, ephemeral_secret
            )
        wrapped = keywrap.wrap(
            x25519_kek(ephemeral, packet.material, shared), session_key
        )
        return serialize_x25519_fields(X25519Fields(ephemeral, cipher, wrapped))
    if packet.algorithm in (PK_RSA, PK_RSA_ENCRYPT_ONLY):
        from ..core import rsa as core_rsa

        public = _rsa_public(packet.material)
        head = bytes([cipher]) if cipher is not None else b""
        message = head + session_key + checksum16(session_key)
        return encode_mpi(core_rsa.encrypt_pkcs1v15(public, message))
    if packet.algorithm == PK_ECDH:
        from . import pkesk_ecdh  # ECDH keys only: kept out of the v6 start-up path

        return pkesk_ecdh.wrap_ecdh(
            session_key, cipher, recipient, version, _ephemeral_secret=ephemeral_secret
        )
    if packet.algorithm == PK_X448:
        return _wrap_x448(session_key, cipher, packet.material, ephemeral_secret)
    if packet.algorithm in PQ_KEM_ALGOS and ephemeral_secret is None:
        from . import pkesk_mlkem  # PQ keys only: kept out of the start-up path

        return pkesk_mlkem.wrap_mlkem(
            session_key, cipher, packet.material, packet.algorithm
        )
    raise UnsupportedError(
        f"encrypting to public key algorithm {packet.algorithm} is not supported"
    )


def wrap_v6_body(session_key: bytes, recipient: KeyInfo) -> bytes:
    """The serialized body of :func:`wrap_v6`'s packet, without the dataclass."""
    packet = recipient.packet
    return serialize_pkesk_v6(
        packet.version,
        recipient.fingerprint,
        packet.algorithm,
        _wrap_fields(session_key, None, recipient, 6),
    )


def wrap_v6(session_key: bytes, recipient: KeyInfo) -> PKESKv6:
    """A v6 PKESK giving ``session_key`` to ``recipient`` (for SEIPDv2)."""
    fields = _wrap_fields(session_key, None, recipient, 6)
    return PKESKv6(
        recipient.packet.version,
        recipient.fingerprint,
        recipient.packet.algorithm,
        fields,
    )


def wrap_v6_from_parts(
    session_key: bytes, recipient: KeyInfo, *, ephemeral_secret: bytes
) -> PKESKv6:
    """:func:`wrap_v6` to an X25519, X448 or ECDH key with the ephemeral secret
    pinned: for test-vector generators and runners only, never for real mail."""
    if recipient.packet.algorithm not in (PK_X25519, PK_X448, PK_ECDH):
        raise UnsupportedError("only X25519, X448 and ECDH PKESKs take a pinned key")
    fields = _wrap_fields(session_key, None, recipient, 6, ephemeral_secret)
    return PKESKv6(
        recipient.packet.version,
        recipient.fingerprint,
        recipient.packet.algorithm,
        fields,
    )


def wrap_v3(session_key: bytes, cipher: int, recipient: KeyInfo) -> PKESKv3:
    """A v3 PKESK giving ``session_key`` (for ``cipher``) to ``recipient`` (SEIPDv1)."""
    fields = _wrap_fields(session_key, cipher, recipient, 3)
    return PKESKv3(recipient.key_id, recipient.packet.algorithm, fields)


def names(packet: PKESKv3 | PKESKv6, key: KeyInfo) -> bool:
    """Whether ``packet`` names ``key`` (by fingerprint or key ID)."""
    # Both sides are public (the message names its recipients in the clear), so
    # a plain comparison: no constant-time one, and no hmac import for it.
    if isinstance(packet, PKESKv6):
        return packet.fingerprint == key.fingerprint
    return packet.key_id == key.key_id


def unwrap(
    packet: PKESKv3 | PKESKv6, private: object, key: KeyInfo
) -> tuple[int | None, bytes]:
    """Recover (cipher or None for v6, session key) with ``private``.

    Raises:
        DecryptionError: anything failed after the private-key operation began.
        UnsupportedError: the algorithm is not one we handle.
    """
    version = 6 if isinstance(packet, PKESKv6) else 3
    if packet.algorithm != key.packet.algorithm:
        raise DecryptionError()
    if isinstance(private, rsa.RSAPrivateKey):
        found = _unwrap_rsa(packet.material, private, version)
        if found is None:
            raise DecryptionError()
        return found
    try:
        if packet.algorithm == PK_X25519 and isinstance(
            private, x25519.X25519PrivateKey
        ):
            ephemeral, cipher, wrapped = split_x25519_fields(
                packet.material, version=version
            )
            shared = core_x25519.agree(private, ephemeral)
            kek = x25519_kek(ephemeral, key.packet.material, shared)
            return cipher, keywrap.unwrap(kek, wrapped)
    except FormatError:
        raise DecryptionError() from None
    if packet.algorithm == PK_ECDH:
        from . import pkesk_ecdh  # ECDH keys only: kept out of the v6 start-up path

        return pkesk_ecdh.unwrap_ecdh(packet.material, private, key, version)
    if packet.algorithm == PK_X448:
        return _unwrap_x448(packet.material, private, key.packet.material, version)
    if packet.algorithm in PQ_KEM_ALGOS:
        from . import pkesk_mlkem  # PQ keys only: kept out of the start-up path

        return pkesk_mlkem.unwrap_mlkem(packet.material, private, version)
    raise UnsupportedError(
        f"decrypting with public key algorithm {packet.algorithm} is not supported"
    )


def unwrap_named(
    packet: PKESKv3 | PKESKv6, private: object, key: KeyInfo, *, key_size: int
) -> tuple[int | None, bytes]:
    """:func:`unwrap` for a PKESK that names ``key``, with implicit rejection for RSA.

    An RSA unwrap that fails (padding, length, checksum, a v6 session key of another
    size than ``key_size``, the SEIPDv2 cipher's) does not raise: it gives a random
    stand-in, ``key_size`` octets for v6 and an AES-256 key for v3, so the failure
    surfaces at the content tag like an altered body does, in about the same time
    (RFC 9580 §13.5; core/rsa.py). Other algorithms fail as :func:`unwrap` does: their
    key wrap check (RFC 3394 §2.2.3) authenticates the key, with no padding to learn
    about.
    """
    if not isinstance(private, rsa.RSAPrivateKey) or packet.algorithm != (
        key.packet.algorithm
    ):
        return unwrap(packet, private, key)
    v6 = isinstance(packet, PKESKv6)
    # Drawn on every call, so that both outcomes do the same work.
    stand_in = random_bytes(key_size if v6 else 32)
    found = _unwrap_rsa(packet.material, private, 6 if v6 else 3)
    if found is None or (v6 and len(found[1]) != key_size):
        return (None if v6 else CIPHER_AES256), stand_in
    return found


def _unwrap_rsa(
    material: bytes, private: rsa.RSAPrivateKey, version: int
) -> tuple[int | None, bytes] | None:
    """(cipher or None, session key), or None when anything failed."""
    try:
        (mpi,) = parse_mpi_fields(material, 1)
    except FormatError:
        return None
    size = (private.key_size + 7) // 8
    value = mpi[2:]
    if len(value) > size:
        return None
    # With implicit rejection a bad padding yields a pseudo-random message; the
    # length and checksum checks below then fail like any other corruption
    # (RFC 9580 §13.5). A build that raises instead fails the same way.
    from ..core import rsa as core_rsa

    try:
        message = core_rsa.decrypt_pkcs1v15(private, value.rjust(size, b"\0"))
    except DecryptionError:
        return None
    cipher = None
    if version == 3:
        if not message:
            return None
        cipher, message = message[0], message[1:]
    import hmac  # the RSA path only: its checksum is of the secret session key

    session_key, check = message[:-2], message[-2:]
    if len(session_key) not in (16, 24, 32) or not hmac.compare_digest(
        checksum16(session_key), check
    ):
        return None
    return cipher, session_key
