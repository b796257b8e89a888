"""Public and Secret Key packets, v4 and v6 (RFC 9580 §5.5.2, §5.5.3, §5.5.4).

The algorithm-specific key material is kept as raw octets (``material``), so one
codec serves every algorithm; :func:`public_material_length` knows how long each
algorithm's public part is, which a Secret Key packet needs to find where the secret
part starts. S2K specifiers are kept raw too; ``openpgp/s2k.py`` interprets them.
Fingerprints: v4 SHA-1 over 0x99 || 2-octet length || body, v6 SHA-256 over 0x9B ||
4-octet length || body; key IDs are the low (v4) or high (v6) 8 octets.
Left out: v3 keys (RFC 9580 §5.5.2.1, refused), usage octets other than 0/253/254/255.
"""

from __future__ import annotations

import hashlib
from typing import Final

from ...core.record import Record
from ...errors import PacketError, UnsupportedError
from . import (
    PK_ECDH,
    PK_ED25519,
    PK_EDDSA_LEGACY,
    PK_MLDSA65_ED25519,
    PK_MLDSA87_ED448,
    PK_MLKEM768_X25519,
    PK_MLKEM1024_X448,
    PK_X25519,
)
from .wire import Reader

__all__ = [
    "PublicKeyPacket",
    "SecretKeyPacket",
    "fingerprint",
    "key_hash_prefix",
    "key_id",
    "parse_public_key",
    "parse_secret_key",
    "public_material_length",
    "serialize_public_key",
    "serialize_secret_key",
]

S2K_USAGE_NONE: Final = 0
S2K_USAGE_AEAD: Final = 253
S2K_USAGE_CFB: Final = 254
S2K_USAGE_MALLEABLE_CFB: Final = 255

# Raw public key sizes of the RFC 9580 native algorithms (§5.5.5.7-§5.5.5.10), of the
# RFC 9980 composite KEMs (§4.3.2: ECDH key || ML-KEM encapsulation key) and of its
# composite signatures (§5.3.1: EdDSA key || ML-DSA key).
_RAW_PUBLIC: Final = {
    PK_X25519: 32,
    26: 56,
    PK_ED25519: 32,
    28: 57,
    PK_MLKEM768_X25519: 32 + 1184,
    PK_MLKEM1024_X448: 56 + 1568,
    PK_MLDSA65_ED25519: 32 + 1952,
    PK_MLDSA87_ED448: 57 + 2592,
}
# MPI counts of the public parts of the classic algorithms (§5.5.5.1-§5.5.5.4): RSA
# n, e; ElGamal p, g, y (16, and 20, its retired encrypt-or-sign form); DSA p, q, g, y.
_MPI_PUBLIC: Final = {1: 2, 2: 2, 3: 2, 16: 3, 17: 4, 20: 3}
#: AEAD nonce sizes (RFC 9580 §9.6: EAX, OCB, GCM), for the nonce after the S2K.
AEAD_NONCE_SIZE: Final = {1: 16, 2: 15, 3: 12}
#: Cipher block sizes (RFC 9580 §9.3), for the IV after the S2K: the AES and Camellia
#: ciphers, Twofish, and the pre-AES ones GnuPG 1.x protected keys with (IDEA,
#: TripleDES, CAST5, Blowfish), which keyprotect still unlocks.
CIPHER_BLOCK_SIZE: Final = {
    1: 8,
    2: 8,
    3: 8,
    4: 8,
    7: 16,
    8: 16,
    9: 16,
    10: 16,
    11: 16,
    12: 16,
    13: 16,
}


class PublicKeyPacket(Record):
    """A Public Key or Public Subkey packet body.

    Attributes:
        version: 4 or 6.
        created: creation time, seconds since the epoch.
        algorithm: public key algorithm ID (RFC 9580 §9.1).
        material: the algorithm-specific public fields, raw.
    """

    _fields = ("version", "created", "algorithm", "material")
    __slots__ = _fields
    version: int
    created: int
    algorithm: int
    material: bytes

    def __init__(
        self, version: int, created: int, algorithm: int, material: bytes
    ) -> None:
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "created", created)
        object.__setattr__(self, "algorithm", algorithm)
        object.__setattr__(self, "material", material)


class SecretKeyPacket(Record):
    """A Secret Key or Secret Subkey packet body.

    Attributes:
        public: the public part.
        s2k_usage: 0 (unprotected), 253 (AEAD), 254 (CFB + SHA-1), 255 (CFB + sum).
        cipher: symmetric algorithm protecting the material (0 when unprotected).
        aead: AEAD algorithm (usage 253 only, else 0).
        s2k: the S2K specifier, raw (empty when unprotected).
        iv: the IV or AEAD nonce (empty when unprotected).
        secret: the secret fields: plain (with the v4 checksum, if any) or encrypted.
    """

    _fields = ("public", "s2k_usage", "cipher", "aead", "s2k", "iv", "secret")
    __slots__ = _fields
    public: PublicKeyPacket
    s2k_usage: int
    cipher: int
    aead: int
    s2k: bytes
    iv: bytes
    secret: bytes

    def __init__(
        self,
        public: PublicKeyPacket,
        s2k_usage: int,
        cipher: int,
        aead: int,
        s2k: bytes,
        iv: bytes,
        secret: bytes,
    ) -> None:
        values = (public, s2k_usage, cipher, aead, s2k, iv, secret)
        for name, value in zip(self._fields, values, strict=True):
            object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        # The secret fields are never shown, protected or not.
        shown = ", ".join(
            f"{n}={getattr(self, n)!r}" for n in self._fields if n != "secret"
        )
        return f"{type(self).__qualname__}({shown})"


def public_material_length(algorithm: int, data: bytes, offset: int) -> int:
    """Length of the public fields of ``algorithm`` starting at ``offset`` (v4 keys)."""
    reader = Reader(data, "public key", offset)
    if algorithm == PK_MLKEM1024_X448:
        raise PacketError("RFC 9980 §4.3.2: ML-KEM-1024+X448 keys are v6 only")
    if algorithm in (PK_MLDSA65_ED25519, PK_MLDSA87_ED448):
        raise PacketError("RFC 9980 §5.3: ML-DSA composite keys are v6 only")
    if algorithm in _RAW_PUBLIC:
        reader.take(_RAW_PUBLIC[algorithm])
    elif algorithm in _MPI_PUBLIC:
        for _ in range(_MPI_PUBLIC[algorithm]):
            reader.mpi()
    elif algorithm in (19, PK_EDDSA_LEGACY, PK_ECDH):
        oid_len = reader.u8()
        if oid_len in (0, 0xFF):
            raise PacketError("public key curve OID has a reserved length")
        reader.take(oid_len)
        reader.mpi()
        if algorithm == PK_ECDH:
            kdf_len = reader.u8()
            reader.take(kdf_len)
    else:
        raise UnsupportedError(f"public key algorithm {algorithm} is not supported")
    return reader.pos - offset


def _parse_public(reader: Reader, *, whole: bool = False) -> PublicKeyPacket:
    version = reader.u8()
    if version not in (4, 6):
        raise UnsupportedError(f"version {version} keys are not supported")
    created = reader.u32()
    algorithm = reader.u8()
    if version == 6:
        length = reader.u32()
        material = reader.take(length)
    else:
        data = reader.rest()
        try:
            length = public_material_length(algorithm, data, 0)
        except UnsupportedError:
            if not whole:
                raise
            # A Public Key packet holds nothing after the key material, so the
            # material of an algorithm we do not know is the rest of the body: the
            # key can still be fingerprinted and its binding checked, then skipped.
            length = len(data)
        reader.pos -= len(data) - length
        material = data[:length]
    return PublicKeyPacket(version, created, algorithm, material)


def parse_public_key(body: bytes) -> PublicKeyPacket:
    """Parse a Public Key / Public Subkey packet body."""
    reader = Reader(body, "public key packet")
    packet = _parse_public(reader, whole=True)
    if packet.version == 4:
        # A v4 key's material length is implied by the algorithm; anything after it
        # belongs to no field.
        reader.end()
    elif (
        packet.algorithm in _RAW_PUBLIC
        and len(packet.material) != _RAW_PUBLIC[packet.algorithm]
    ):
        raise PacketError("public key material has the wrong size")
    reader.end()
    return packet


def serialize_public_key(packet: PublicKeyPacket) -> bytes:
    """The packet body of a Public Key / Public Subkey packet."""
    head = bytes([packet.version]) + packet.created.to_bytes(4, "big")
    head += bytes([packet.algorithm])
    if packet.version == 6:
        head += len(packet.material).to_bytes(4, "big")
    return head + packet.material


def s2k_specifier_length(data: bytes, offset: int) -> int:
    """Length of the S2K specifier at ``offset`` (RFC 9580 §3.7.1)."""
    reader = Reader(data, "S2K specifier", offset)
    kind = reader.u8()
    if kind == 0:
        reader.take(1)
    elif kind == 1:
        reader.take(9)
    elif kind == 3:
        reader.take(10)
    elif kind == 4:
        reader.take(19)
    elif kind == 101:
        # GnuPG extension: hash, "GNU", mode; mode 2 adds a card serial number.
        reader.take(1)
        if reader.take(3) != b"GNU":
            raise PacketError("unknown S2K extension")
        mode = reader.u8()
        if mode == 2:
            reader.take(reader.u8())
    else:
        raise UnsupportedError(f"S2K specifier type {kind} is not supported")
    return reader.pos - offset


def parse_secret_key(body: bytes) -> SecretKeyPacket:
    """Parse a Secret Key / Secret Subkey packet body (v4 and v6 layouts)."""
    reader = Reader(body, "secret key packet")
    public = _parse_public(reader)
    usage = reader.u8()
    cipher = aead = 0
    s2k = iv = b""
    if usage not in (0, S2K_USAGE_AEAD, S2K_USAGE_CFB, S2K_USAGE_MALLEABLE_CFB):
        raise UnsupportedError(
            f"secret key protection (usage octet {usage}) is not supported"
        )
    if usage:
        if public.version == 6:
            if usage == S2K_USAGE_MALLEABLE_CFB:
                raise PacketError("v6 secret keys may not use S2K usage 255")
            params_end = reader.u8() + reader.pos
        cipher = reader.u8()
        if usage == S2K_USAGE_AEAD:
            aead = reader.u8()
        if public.version == 6:
            s2k_len = reader.u8()
            s2k = reader.take(s2k_len)
        else:
            s2k = reader.take(s2k_specifier_length(body, reader.pos))
        if s2k[:1] == b"\x65":
            # GnuPG stub (gnu-dummy, divert-to-card): no IV follows, and GnuPG
            # writes cipher 0 there, so the cipher is not looked up.
            iv_size = 0
        elif usage == S2K_USAGE_AEAD:
            if aead not in AEAD_NONCE_SIZE:
                raise UnsupportedError(f"AEAD algorithm {aead} is not supported")
            iv_size = AEAD_NONCE_SIZE[aead]
        else:
            if cipher not in CIPHER_BLOCK_SIZE:
                raise UnsupportedError(f"cipher algorithm {cipher} is not supported")
            iv_size = CIPHER_BLOCK_SIZE[cipher]
        iv = reader.take(iv_size)
        if public.version == 6 and reader.pos != params_end:
            raise PacketError("secret key S2K parameter length does not match")
    return SecretKeyPacket(public, usage, cipher, aead, s2k, iv, reader.rest())


def serialize_secret_key(packet: SecretKeyPacket) -> bytes:
    """The packet body of a Secret Key / Secret Subkey packet."""
    out = bytearray(serialize_public_key(packet.public))
    out.append(packet.s2k_usage)
    if packet.s2k_usage:
        params = bytearray([packet.cipher])
        if packet.s2k_usage == S2K_USAGE_AEAD:
            params.append(packet.aead)
        if packet.public.version == 6:
            params.append(len(packet.s2k))
        params += packet.s2k + packet.iv
        if packet.public.version == 6:
            out.append(len(params))
        out += params
    out += packet.secret
    return bytes(out)


def key_hash_prefix(packet: PublicKeyPacket) -> bytes:
    """The octets a key is hashed as (fingerprints, signatures; RFC 9580 §5.2.4)."""
    body = serialize_public_key(packet)
    if packet.version == 6:
        return b"\x9b" + len(body).to_bytes(4, "big") + body
    return b"\x99" + len(body).to_bytes(2, "big") + body


def fingerprint(packet: PublicKeyPacket) -> bytes:
    """v4: SHA-1 (20 octets); v6: SHA-256 (32 octets) (RFC 9580 §5.5.4)."""
    data = key_hash_prefix(packet)
    if packet.version == 6:
        return hashlib.sha256(data).digest()
    return hashlib.sha1(data, usedforsecurity=False).digest()


def key_id(packet: PublicKeyPacket) -> bytes:
    """The 8-octet key ID: v6 the first, v4 the last 8 octets of the fingerprint."""
    fpr = fingerprint(packet)
    return fpr[:8] if packet.version == 6 else fpr[-8:]
