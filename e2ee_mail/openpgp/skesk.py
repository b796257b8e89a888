"""Symmetric-Key Encrypted Session Key packets (RFC 9580 §5.3): a message's session
key sealed under a password, beside or instead of its PKESKs.

- v4 (before a SEIPDv1 packet): the S2K output is a key. With an encrypted session
  key, that key AES-CFB-decrypts (all-zero IV) the cipher octet and the session key;
  without one, the S2K output *is* the session key, for the packet's cipher.
- v6 (before a SEIPDv2 packet): HKDF-SHA256 over the S2K output, with the packet
  type, version and algorithms as info, gives a key-encryption key; the session key
  is AEAD-sealed under it (the same octets as associated data).

Written: v6 with Argon2 (RFC 9106's second recommendation, 64 MiB) and AES-256-GCM,
v4 with iterated and salted SHA-256 at the largest count and AES-256. Read: both
versions with Salted, Iterated or Argon2 S2K and any AEAD mode of RFC 9580. Refused:
Simple S2K (unsalted: one dictionary serves every message), and more than
:data:`MAX_PASSWORD_ENTRIES` entries (each try costs a full key derivation).

A wrong password is found at once in v6 (the AEAD tag). In v4 it gives random
octets, refused when the cipher octet or the length does not fit; the 1 in 256 that
pass look like a session key, and the content check (the MDC) then refuses them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.modes import CFB
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from ..core.random import random_bytes
from ..errors import DecryptionError, PacketError, PolicyError, UnsupportedError
from ..policy import DEFAULT, Policy
from .packets import AEAD_GCM, CIPHER_AES256, CIPHER_KEY_SIZE, TAG_SKESK
from .packets.header import serialize_packet
from .packets.keys import AEAD_NONCE_SIZE
from .s2k import (
    S2K,
    S2K_SIMPLE,
    aead_cipher,
    aead_kek,
    argon2_s2k,
    cipher_key_size,
    derive_key,
    iterated_s2k,
    parse_s2k,
    serialize_s2k,
)

__all__ = [
    "MAX_PASSWORD_ENTRIES",
    "SKESK",
    "check_entry_count",
    "parse_skesk",
    "password_packets",
    "password_session_keys",
    "serialize_skesk",
    "skesk_packet",
]

#: Password entries a message may carry: real messages have one or two, and each
#: entry tried costs a key derivation (up to a second of Argon2 or hashing).
MAX_PASSWORD_ENTRIES: Final = 16
_TAG_SIZE: Final = 16
#: The v4 encrypted session key's IV: all zero (RFC 9580 §5.3.1).
_ZERO_IV: Final = bytes(16)


@dataclasses.dataclass(frozen=True, slots=True)
class SKESK:
    """One parsed SKESK packet.

    Attributes:
        version: 4 or 6.
        cipher: the cipher that seals the session key (v4: also the message's
            cipher when ``encrypted`` is empty).
        s2k: how the password becomes a key.
        encrypted: v4: the encrypted cipher octet and session key, or empty; v6:
            the sealed session key and its tag.
        aead: v6: the AEAD mode; 0 in v4.
        iv: v6: the AEAD nonce; empty in v4.
    """

    version: int
    cipher: int
    s2k: S2K
    encrypted: bytes
    aead: int = 0
    iv: bytes = b""


def check_entry_count(count: int) -> None:
    """Refuse a message with ``count`` password entries when that is more than
    :data:`MAX_PASSWORD_ENTRIES`.

    Raises:
        PolicyError: too many entries.
    """
    if count > MAX_PASSWORD_ENTRIES:
        raise PolicyError(
            f"more than {MAX_PASSWORD_ENTRIES} password entries in one message"
        )


def _info(cipher: int, aead: int) -> bytes:
    # Packet type octet in the OpenPGP format, version, cipher, AEAD mode.
    return bytes((0xC0 | TAG_SKESK, 6, cipher, aead))


def parse_skesk(body: bytes | bytearray | memoryview) -> SKESK:
    """Parse a SKESK packet body.

    Raises:
        PacketError: truncated or inconsistent.
        UnsupportedError: another version (RFC 9580 §5.3: skipped by readers), or
            an AEAD mode RFC 9580 does not define.
    """
    data = bytes(body)
    if not data:
        raise PacketError("empty SKESK packet")
    version = data[0]
    if version == 4:
        if len(data) < 2:
            raise PacketError("truncated SKESK packet")
        s2k, end = parse_s2k(data, 2)
        return SKESK(4, data[1], s2k, data[end:])
    if version != 6:
        raise UnsupportedError(f"SKESK version {version} is not supported")
    if len(data) < 5:
        raise PacketError("truncated SKESK packet")
    count, cipher, aead, s2k_size = data[1], data[2], data[3], data[4]
    iv_size = AEAD_NONCE_SIZE.get(aead)
    if iv_size is None:
        raise UnsupportedError(f"SKESK AEAD mode {aead} is not supported")
    if count != 3 + s2k_size + iv_size:
        raise PacketError("SKESK field lengths do not add up")
    head_end = 2 + count
    if len(data) < head_end + _TAG_SIZE + 1:
        raise PacketError("truncated SKESK packet")
    s2k, end = parse_s2k(data[: 5 + s2k_size], 5)
    if end != 5 + s2k_size:
        raise PacketError("the SKESK S2K specifier has trailing octets")
    return SKESK(6, cipher, s2k, data[head_end:], aead, data[end:head_end])


def serialize_skesk(packet: SKESK) -> bytes:
    """The packet body (:func:`parse_skesk` reads it back)."""
    spec = serialize_s2k(packet.s2k)
    if packet.version == 4:
        return bytes((4, packet.cipher)) + spec + packet.encrypted
    count = 3 + len(spec) + len(packet.iv)
    head = bytes((6, count, packet.cipher, packet.aead, len(spec)))
    return head + spec + packet.iv + packet.encrypted


def _cfb(key: bytes) -> Cipher[CFB]:
    return Cipher(algorithms.AES(key), CFB(_ZERO_IV))


def skesk_packet(
    session_key: bytes, cipher: int, password: bytes, *, version: int
) -> bytes:
    """A whole SKESK packet sealing ``session_key`` (for ``cipher``) under
    ``password``: v6 for a SEIPDv2 message, v4 for SEIPDv1."""
    if version == 6:
        s2k = argon2_s2k()
        iv = random_bytes(AEAD_NONCE_SIZE[AEAD_GCM])
        info = _info(CIPHER_AES256, AEAD_GCM)
        kek = aead_kek(s2k, CIPHER_AES256, password, info)
        sealed = aead_cipher(AEAD_GCM, kek).encrypt(iv, session_key, info)
        packet = SKESK(6, CIPHER_AES256, s2k, sealed, AEAD_GCM, iv)
    else:
        s2k = iterated_s2k()
        key = derive_key(s2k, password, cipher_key_size(CIPHER_AES256))
        enc = _cfb(key).encryptor()
        sealed = enc.update(bytes((cipher,)) + session_key) + enc.finalize()
        packet = SKESK(4, CIPHER_AES256, s2k, sealed)
    return serialize_packet(TAG_SKESK, serialize_skesk(packet))


def password_packets(
    session_key: bytes, passwords: Sequence[bytes], *, seipd_version: int
) -> bytes:
    """One SKESK packet per password for a SEIPD packet of ``seipd_version``
    sealed with ``session_key`` (AES, its cipher told by its size)."""
    if not passwords:
        return b""
    cipher = next(c for c, size in CIPHER_KEY_SIZE.items() if size == len(session_key))
    version = 6 if seipd_version == 2 else 4
    return b"".join(
        skesk_packet(session_key, cipher, password, version=version)
        for password in passwords
    )


def _unseal(packet: SKESK, password: bytes, policy: Policy) -> tuple[int | None, bytes]:
    """(cipher, session key) from one entry and one password; DecryptionError
    when the password does not open it."""
    if packet.s2k.type == S2K_SIMPLE:
        raise PolicyError("a password entry with Simple S2K (no salt) is refused")
    if packet.version == 6:
        info = _info(packet.cipher, packet.aead)
        kek = aead_kek(packet.s2k, packet.cipher, password, info, policy=policy)
        try:
            return None, aead_cipher(packet.aead, kek).decrypt(
                packet.iv, packet.encrypted, info
            )
        except InvalidTag:
            raise DecryptionError() from None
    key = derive_key(
        packet.s2k, password, cipher_key_size(packet.cipher), policy=policy
    )
    if not packet.encrypted:
        return packet.cipher, key
    dec = _cfb(key).decryptor()
    plain = dec.update(packet.encrypted) + dec.finalize()
    cipher = plain[0]
    if CIPHER_KEY_SIZE.get(cipher) != len(plain) - 1:
        raise DecryptionError()
    return cipher, plain[1:]


def password_session_keys(
    packets: Sequence[SKESK],
    passwords: Sequence[bytes],
    seipd_version: int,
    *,
    policy: Policy = DEFAULT,
) -> Iterator[tuple[int | None, bytes]]:
    """Candidate (cipher, session key) pairs for a SEIPD packet of
    ``seipd_version`` (v4 entries for 1, v6 entries for 2), every password tried on
    every entry; the content check decides among them.

    Raises:
        PolicyError: more than :data:`MAX_PASSWORD_ENTRIES` entries, or a refused
            S2K (Simple, or Argon2 beyond the policy's bounds).
        UnsupportedError: an entry's cipher or AEAD mode.
    """
    check_entry_count(len(packets))
    wanted = 6 if seipd_version == 2 else 4
    for packet in packets:
        if packet.version != wanted:
            continue
        for password in passwords:
            try:
                yield _unseal(packet, password, policy)
            except DecryptionError:
                continue
