"""String-to-key (S2K) specifiers: the codec and the passphrase-to-key derivation.

Implements RFC 9580 §3.7.1: Simple (0, read only), Salted (1), Iterated and Salted (3)
and Argon2 (4) specifiers as a pure codec (:func:`parse_s2k` / :func:`serialize_s2k`),
and the key derivation (:func:`derive_key`: hashlib for the hash-based types,
``cryptography``'s Argon2id for type 4). The secret-key protection built on it
(RFC 9580 §5.5.3, S2K usage octets 0/253/254/255) is in :mod:`.keyprotect`.

Left out, deliberately: MD5 and RIPEMD-160 as S2K hashes (UnsupportedError). The GnuPG
"gnu-dummy" / "divert-to-card" extension (type 101) parses, so a key whose secret lives
on a smartcard or offline still loads its public parts, but deriving a key from it
raises a clear UnsupportedError.

Hostile parameters are bounded before any work: Argon2 memory or work (passes times
memory) above the Policy's bounds (by default 2 GiB and one pass over it, the RFC
9106 §4 first option) is a PolicyError, never an allocation.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from typing import Final

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESOCB3
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from ..core import kdf, random
from ..core.eax import AESEAX
from ..errors import KeyLoadError, PacketError, PolicyError, UnsupportedError
from ..policy import DEFAULT, Policy
from .packets import AEAD_EAX, AEAD_GCM, AEAD_OCB, CIPHER_KEY_SIZE

__all__ = [
    "S2K",
    "S2K_ARGON2",
    "S2K_GNU",
    "S2K_ITERATED",
    "S2K_SALTED",
    "S2K_SIMPLE",
    "aead_cipher",
    "aead_kek",
    "argon2_s2k",
    "cipher_key_size",
    "derive_key",
    "iterated_s2k",
    "parse_s2k",
    "serialize_s2k",
]

S2K_SIMPLE: Final = 0
S2K_SALTED: Final = 1
S2K_ITERATED: Final = 3
S2K_ARGON2: Final = 4
#: GnuPG's private S2K type for secret keys kept elsewhere (smartcard, offline).
S2K_GNU: Final = 101

#: RFC 9580 §9.5 hash algorithm IDs usable in an S2K (MD5 and RIPEMD-160 refused).
_HASHES: Final[dict[int, Callable[[], hashlib._Hash]]] = {
    2: hashlib.sha1,
    8: hashlib.sha256,
    9: hashlib.sha384,
    10: hashlib.sha512,
    11: hashlib.sha224,
    12: hashlib.sha3_256,
    14: hashlib.sha3_512,
}

#: Defaults we write: RFC 9106 §4 second recommendation (t=3, p=4, 64 MiB).
DEFAULT_ARGON2 = (3, 4, 16)
#: Iterated+salted count we write when Argon2 cannot be used (v4 keys for GnuPG 2.2):
#: coded 0xFF = 65011712 octets, the maximum.
DEFAULT_ITERATED_COUNT_OCTET: Final = 0xFF

_HASH_S2K_CHUNK: Final = 1 << 16


@dataclasses.dataclass(frozen=True, slots=True)
class S2K:
    """An S2K specifier (RFC 9580 §3.7.1).

    Attributes:
        type: 0 simple, 1 salted, 3 iterated+salted, 4 Argon2, 101 GnuPG extension.
        hash_algo: hash algorithm ID (types 0, 1, 3, 101).
        salt: 8 octets (types 1, 3) or 16 octets (Argon2).
        coded_count: the coded octet count (type 3).
        passes: Argon2 t.
        parallelism: Argon2 p.
        memory_exponent: Argon2 encoded_m (memory is 2**m KiB).
        gnu_mode: GnuPG extension mode: 1 gnu-dummy (no secret), 2 divert-to-card.
        gnu_serial: the card serial number for divert-to-card.
    """

    type: int
    hash_algo: int = 0
    salt: bytes = b""
    coded_count: int = 0
    passes: int = 0
    parallelism: int = 0
    memory_exponent: int = 0
    gnu_mode: int = 0
    gnu_serial: bytes = b""

    @property
    def octet_count(self) -> int:
        """Octets hashed by an iterated+salted S2K (RFC 9580 §3.7.1.3)."""
        c = self.coded_count
        return (16 + (c & 15)) << ((c >> 4) + 6)

    @property
    def is_stub(self) -> bool:
        """True for GnuPG's marker of a secret kept on a smartcard or offline."""
        return self.type == S2K_GNU


def iterated_s2k(
    hash_algo: int = 8, coded_count: int = DEFAULT_ITERATED_COUNT_OCTET
) -> S2K:
    """A fresh iterated+salted S2K (random 8-octet salt)."""
    return S2K(S2K_ITERATED, hash_algo, random.random_bytes(8), coded_count)


def argon2_s2k(
    passes: int = DEFAULT_ARGON2[0],
    parallelism: int = DEFAULT_ARGON2[1],
    memory_exponent: int = DEFAULT_ARGON2[2],
) -> S2K:
    """A fresh Argon2 S2K (random 16-octet salt)."""
    s2k = S2K(
        S2K_ARGON2,
        salt=random.random_bytes(16),
        passes=passes,
        parallelism=parallelism,
        memory_exponent=memory_exponent,
    )
    _check_argon2(s2k, DEFAULT)
    return s2k


def _need(data: bytes, offset: int, n: int, what: str) -> None:
    if n < 0 or offset + n > len(data):
        raise PacketError(f"truncated {what}")


def parse_s2k(data: bytes | bytearray | memoryview, offset: int = 0) -> tuple[S2K, int]:
    """Parse an S2K specifier at ``offset``.

    Returns:
        The specifier and the offset just after it.

    Raises:
        PacketError: truncated or malformed.
        UnsupportedError: an S2K type this library does not know.
    """
    buf = bytes(data)
    _need(buf, offset, 1, "S2K specifier")
    kind = buf[offset]
    pos = offset + 1
    if kind in (S2K_SIMPLE, S2K_SALTED, S2K_ITERATED):
        _need(buf, pos, 1, "S2K specifier")
        hash_algo = buf[pos]
        pos += 1
        salt = b""
        count = 0
        if kind != S2K_SIMPLE:
            _need(buf, pos, 8, "S2K salt")
            salt = buf[pos : pos + 8]
            pos += 8
        if kind == S2K_ITERATED:
            _need(buf, pos, 1, "S2K count")
            count = buf[pos]
            pos += 1
        return S2K(kind, hash_algo, salt, count), pos
    if kind == S2K_ARGON2:
        _need(buf, pos, 19, "Argon2 S2K specifier")
        salt = buf[pos : pos + 16]
        t, p, m = buf[pos + 16], buf[pos + 17], buf[pos + 18]
        return S2K(
            kind, salt=salt, passes=t, parallelism=p, memory_exponent=m
        ), pos + 19
    if kind == S2K_GNU:
        # GnuPG extension: hash octet, "GNU", mode (1 dummy, 2 divert-to-card with a
        # 1-octet-length serial number). It carries no key derivation at all.
        _need(buf, pos, 5, "GnuPG S2K extension")
        hash_algo = buf[pos]
        if buf[pos + 1 : pos + 4] != b"GNU":
            raise UnsupportedError("unknown private S2K extension (type 101)")
        mode = buf[pos + 4]
        pos += 5
        serial = b""
        if mode == 2:
            _need(buf, pos, 1, "smartcard serial number")
            n = buf[pos]
            _need(buf, pos + 1, n, "smartcard serial number")
            serial = buf[pos + 1 : pos + 1 + n]
            pos += 1 + n
        elif mode != 1:
            raise UnsupportedError(f"unknown GnuPG S2K extension mode {mode}")
        return S2K(kind, hash_algo, gnu_mode=mode, gnu_serial=serial), pos
    raise UnsupportedError(f"unknown S2K specifier type {kind}")


def serialize_s2k(s2k: S2K) -> bytes:
    """Serialize an S2K specifier (the inverse of :func:`parse_s2k`)."""
    if s2k.type == S2K_SIMPLE:
        return bytes((s2k.type, s2k.hash_algo))
    if s2k.type == S2K_SALTED:
        return bytes((s2k.type, s2k.hash_algo)) + s2k.salt
    if s2k.type == S2K_ITERATED:
        return bytes((s2k.type, s2k.hash_algo)) + s2k.salt + bytes((s2k.coded_count,))
    if s2k.type == S2K_ARGON2:
        tail = bytes((s2k.passes, s2k.parallelism, s2k.memory_exponent))
        return bytes((s2k.type,)) + s2k.salt + tail
    if s2k.type == S2K_GNU:
        out = bytes((s2k.type, s2k.hash_algo)) + b"GNU" + bytes((s2k.gnu_mode,))
        if s2k.gnu_mode == 2:
            out += bytes((len(s2k.gnu_serial),)) + s2k.gnu_serial
        return out
    raise UnsupportedError(f"unknown S2K specifier type {s2k.type}")


def _check_argon2(s2k: S2K, policy: Policy) -> None:
    t, p, m = s2k.passes, s2k.parallelism, s2k.memory_exponent
    if t == 0 or p == 0:
        raise PacketError("Argon2 S2K: passes and parallelism must be non-zero")
    # RFC 9580 §3.7.1.4: 3 + ceil(log2(p)) <= encoded_m <= 31.
    if m < 3 + (p - 1).bit_length() or m > 31:
        raise PacketError(f"Argon2 S2K: memory exponent {m} is out of range")
    if 1 << m > policy.max_argon2_memory_kib:
        raise PolicyError(
            f"Argon2 S2K asks for 2**{m} KiB of memory; the limit is "
            f"{policy.max_argon2_memory_kib} KiB (Policy.max_argon2_memory_kib)"
        )
    if t * (1 << m) > policy.max_argon2_work_kib:
        raise PolicyError(
            f"Argon2 S2K asks for {t} passes over 2**{m} KiB; the limit is "
            f"{policy.max_argon2_work_kib} KiB in all (Policy.max_argon2_work_kib)"
        )


def _hash_s2k(s2k: S2K, passphrase: bytes, key_size: int) -> bytes:
    ctor = _HASHES.get(s2k.hash_algo)
    if ctor is None:
        raise UnsupportedError(f"S2K hash algorithm {s2k.hash_algo} is not supported")
    data = s2k.salt + passphrase
    total = len(data)
    if s2k.type == S2K_ITERATED:
        total = max(s2k.octet_count, len(data))
    # Repeat the salted passphrase into one large block so the loop runs in C.
    block = data * max(1, _HASH_S2K_CHUNK // max(1, len(data)))
    out = bytearray()
    preload = 0
    while len(out) < key_size:
        h = ctor()
        h.update(bytes(preload))
        if data:
            full, rest = divmod(total, len(block))
            for _ in range(full):
                h.update(block)
            h.update(block[:rest])
        out += h.digest()
        preload += 1
    return bytes(out[:key_size])


def derive_key(
    s2k: S2K, passphrase: bytes, key_size: int, *, policy: Policy = DEFAULT
) -> bytes:
    """Derive ``key_size`` octets from ``passphrase`` (RFC 9580 §3.7.1).

    Args:
        policy: its Argon2 bounds (for keys read; what we write is checked against
            the default bounds).

    Raises:
        UnsupportedError: unknown hash, or a GnuPG stub (no secret here).
        PolicyError: Argon2 parameters beyond the policy's memory/work bounds.
        PacketError: Argon2 parameters the RFC forbids.
        KeyLoadError: the process cannot allocate the memory Argon2 asks for.
    """
    if s2k.type == S2K_ARGON2:
        _check_argon2(s2k, policy)
        try:
            return Argon2id(
                salt=s2k.salt,
                length=key_size,
                iterations=s2k.passes,
                lanes=s2k.parallelism,
                memory_cost=1 << s2k.memory_exponent,
            ).derive(passphrase)
        except MemoryError:
            # Within the policy's bounds, but more than this process may allocate
            # (a memory limit, a small machine): the key cannot be unlocked here.
            raise KeyLoadError(
                f"not enough memory to unlock the key: its Argon2 parameters ask for "
                f"{1 << s2k.memory_exponent} KiB"
            ) from None
    if s2k.type in (S2K_SIMPLE, S2K_SALTED, S2K_ITERATED):
        return _hash_s2k(s2k, passphrase, key_size)
    if s2k.type == S2K_GNU:
        raise UnsupportedError(_STUB_MESSAGE)
    raise UnsupportedError(f"unknown S2K specifier type {s2k.type}")


_STUB_MESSAGE: Final = (
    "this secret key is stored on a smartcard or kept offline (a GnuPG stub): "
    "decrypt through gpg-agent (e2ee_mail.keys.gnupg) instead"
)


def cipher_key_size(cipher_algo: int) -> int:
    """Key size of an AES algorithm ID, or UnsupportedError."""
    size = CIPHER_KEY_SIZE.get(cipher_algo)
    if size is None:
        raise UnsupportedError(
            f"cipher {cipher_algo} is not supported to derive a key (AES only)"
        )
    return size


def aead_kek(
    s2k: S2K,
    cipher_algo: int,
    passphrase: bytes,
    info: bytes,
    *,
    policy: Policy = DEFAULT,
) -> bytes:
    """The key-encryption key of an AEAD-protected secret (RFC 9580 §5.5.3, the
    v6 SKESK of §5.3.2): HKDF-SHA256 over the S2K output, ``info`` naming the
    packet type, its version and the algorithms."""
    size = cipher_key_size(cipher_algo)
    ikm = derive_key(s2k, passphrase, size, policy=policy)
    return kdf.hkdf_sha256(ikm, salt=None, info=info, length=size)


def aead_cipher(aead_algo: int, key: bytes) -> AESGCM | AESOCB3 | AESEAX:
    """The AEAD of RFC 9580 §9.6 mode ``aead_algo`` under ``key`` (each takes
    nonce, data, associated data and appends or checks a 16-octet tag)."""
    if aead_algo == AEAD_GCM:
        return AESGCM(key)
    if aead_algo == AEAD_OCB:
        return AESOCB3(key)
    if aead_algo == AEAD_EAX:
        return AESEAX(key)
    raise UnsupportedError(f"AEAD algorithm {aead_algo} is not supported")
