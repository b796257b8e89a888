"""Passphrase protection of OpenPGP secret key material (RFC 9580 §3.7.2.1, §5.5.3).

A Secret Key packet is the Public Key packet body followed by the "S2K usage octet",
its parameters, and the (possibly encrypted) algorithm-specific secret material. This
module owns everything from the usage octet on, but never interprets the secret
material itself (the key codecs do):

* :func:`parse_protection` / :func:`serialize_protection` — the pure codec of the
  usage octet and its parameter fields, v4 and v6 layouts (v6 adds two length octets).
* :func:`unprotect` — usage 0 (v4: 2-octet checksum checked; v6: none), 253 (AEAD:
  HKDF-SHA256 over the S2K output with info = packet type octet, version, cipher,
  AEAD mode; associated data = packet type octet || public key packet body), 254 (CFB
  with a SHA-1 of the plaintext), 255 (CFB with a 2-octet checksum, read only).
* :func:`protect` — writes 253 (v6 default, Argon2 + OCB) or 254 (v4 default, iterated
  and salted SHA-256, AES-256 CFB: what GnuPG 2.2 reads), or 0 without a passphrase.

Reading also accepts the pre-AES ciphers GnuPG 1.x protected keys with (IDEA,
TripleDES, CAST5, Blowfish, Camellia, through ``cryptography``'s decrepit module);
writing is AES only. Left out: LegacyCFB (a cipher ID in the usage octet, MD5
passphrase hash, refused as UnsupportedError), v3 keys, Twofish, and EAX. A wrong
passphrase is a PassphraseError; a GnuPG stub (secret on a smartcard) an
UnsupportedError.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.modes import CFB
from cryptography.hazmat.primitives.ciphers import (
    BlockCipherAlgorithm,
    Cipher,
    CipherContext,
    algorithms,
)

from ..core import random
from ..core.record import Record
from ..errors import PacketError, PassphraseError, UnsupportedError, UsageError
from ..policy import DEFAULT, Policy
from .keymaterial import private_from_material
from .packets import AEAD_OCB
from .packets.header import Packet
from .packets.keys import (
    AEAD_NONCE_SIZE,
    CIPHER_BLOCK_SIZE,
    S2K_USAGE_AEAD,
    S2K_USAGE_CFB,
    S2K_USAGE_MALLEABLE_CFB,
    S2K_USAGE_NONE,
    PublicKeyPacket,
    fingerprint,
    parse_secret_key,
    serialize_public_key,
)

# `.s2k` (its specifier dataclass and Argon2) is imported by the functions that meet a
# protected key: an unprotected key, what the CLI decrypts with most, never needs it,
# so its start-up never pays for it. A function-level import after the first is a
# dict look-up.
if TYPE_CHECKING:
    from .s2k import S2K

__all__ = [
    "SecretKeyProtection",
    "parse_protection",
    "protect",
    "protect_packet",
    "secret_material_of",
    "serialize_protection",
    "unlock_packet",
    "unprotect",
]

_TAG_SIZE: Final = 16
_SHA1_SIZE: Final = 20

_WRONG_PASSPHRASE: Final = (
    "wrong passphrase for this secret key (or the key is damaged)"
)
_NEED_PASSPHRASE: Final = "this secret key is protected: a passphrase is required"
_STUB: Final = (
    "this secret key is stored on a smartcard or kept offline (a GnuPG stub): "
    "decrypt through gpg-agent (e2ee_mail.keys.gnupg) instead"
)


class SecretKeyProtection(Record):
    """The S2K usage octet and the parameters that follow it (RFC 9580 §5.5.3).

    Attributes:
        usage: 0 (unprotected), 253 (AEAD), 254 (CFB), 255 (MalleableCFB).
        cipher_algo: symmetric algorithm ID (usage 253/254/255).
        aead_algo: AEAD algorithm ID (usage 253).
        s2k: the S2K specifier (usage 253/254/255).
        iv: the CFB IV or the AEAD nonce (empty for a GnuPG stub).
    """

    _fields = ("usage", "cipher_algo", "aead_algo", "s2k", "iv")
    __slots__ = _fields
    usage: int
    cipher_algo: int
    aead_algo: int
    s2k: S2K | None
    iv: bytes

    def __init__(
        self,
        usage: int = S2K_USAGE_NONE,
        cipher_algo: int = 0,
        aead_algo: int = 0,
        s2k: S2K | None = None,
        iv: bytes = b"",
    ) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "usage", usage)
        setattr_(self, "cipher_algo", cipher_algo)
        setattr_(self, "aead_algo", aead_algo)
        setattr_(self, "s2k", s2k)
        setattr_(self, "iv", iv)

    @property
    def is_stub(self) -> bool:
        """True when the secret is not in the packet (GnuPG smartcard/offline stub)."""
        if self.s2k is None:
            return False
        from .s2k import S2K_GNU

        return self.s2k.type == S2K_GNU


def parse_protection(
    data: bytes | bytearray | memoryview, offset: int, *, version: int
) -> tuple[SecretKeyProtection, int]:
    """Parse the usage octet and its fields at ``offset`` (just after the public key).

    Args:
        data: the Secret Key packet body.
        offset: where the S2K usage octet is.
        version: the key packet version (4 or 6).

    Returns:
        The protection fields and the offset of the secret material.

    Raises:
        PacketError: truncated or malformed (including layouts RFC 9580 forbids).
        UnsupportedError: LegacyCFB, or an unknown S2K / cipher / AEAD algorithm.
    """
    buf = bytes(data)
    if offset >= len(buf):
        raise PacketError("secret key packet ends before the S2K usage octet")
    usage = buf[offset]
    pos = offset + 1
    if usage == S2K_USAGE_NONE:
        return SecretKeyProtection(), pos
    from .s2k import S2K_ARGON2, S2K_GNU, parse_s2k

    if usage not in (S2K_USAGE_AEAD, S2K_USAGE_CFB, S2K_USAGE_MALLEABLE_CFB):
        raise UnsupportedError(
            "secret key uses the pre-RFC 2440 LegacyCFB protection (MD5 passphrase "
            "hash): re-export it with a current OpenPGP implementation"
        )
    if version == 6 and usage == S2K_USAGE_MALLEABLE_CFB:
        raise PacketError(
            "a v6 secret key must not use S2K usage 255 (RFC 9580 §5.5.3)"
        )
    params_end = None
    if version == 6:
        if pos >= len(buf):
            raise PacketError("truncated secret key protection parameters")
        params_end = pos + 1 + buf[pos]
        pos += 1
    if pos + 1 > len(buf):
        raise PacketError("truncated secret key protection parameters")
    cipher_algo = buf[pos]
    pos += 1
    aead_algo = 0
    if usage == S2K_USAGE_AEAD:
        if pos + 1 > len(buf):
            raise PacketError("truncated secret key protection parameters")
        aead_algo = buf[pos]
        pos += 1
    s2k_end = None
    if version == 6:
        if pos + 1 > len(buf):
            raise PacketError("truncated secret key protection parameters")
        s2k_end = pos + 1 + buf[pos]
        pos += 1
    s2k, pos = parse_s2k(buf, pos)
    if s2k_end is not None and pos != s2k_end:
        raise PacketError("S2K specifier length does not match its declared size")
    if s2k.type == S2K_ARGON2 and usage != S2K_USAGE_AEAD:
        raise PacketError("Argon2 S2K is only valid with AEAD protection (usage 253)")
    iv = b""
    if s2k.type != S2K_GNU:
        if usage == S2K_USAGE_AEAD:
            size = AEAD_NONCE_SIZE.get(aead_algo)
            if size is None:
                raise UnsupportedError(f"unknown AEAD algorithm {aead_algo}")
        else:
            size = CIPHER_BLOCK_SIZE.get(cipher_algo)
            if size is None:
                raise UnsupportedError(f"unknown symmetric algorithm {cipher_algo}")
        if pos + size > len(buf):
            raise PacketError("truncated secret key IV")
        iv = buf[pos : pos + size]
        pos += size
    if params_end is not None and pos != params_end:
        raise PacketError("secret key protection parameters do not match their size")
    return SecretKeyProtection(usage, cipher_algo, aead_algo, s2k, iv), pos


def serialize_protection(prot: SecretKeyProtection, *, version: int) -> bytes:
    """Serialize the usage octet and its fields (the inverse of parse_protection)."""
    if prot.usage == S2K_USAGE_NONE:
        return b"\x00"
    if prot.s2k is None:
        raise UsageError("a protected secret key needs an S2K specifier")
    from .s2k import serialize_s2k

    spec = serialize_s2k(prot.s2k)
    fields = bytes((prot.cipher_algo,))
    if prot.usage == S2K_USAGE_AEAD:
        fields += bytes((prot.aead_algo,))
    if version == 6:
        fields += bytes((len(spec),))
    fields += spec + prot.iv
    if version == 6:
        return bytes((prot.usage, len(fields))) + fields
    return bytes((prot.usage,)) + fields


def _aead_kek(
    prot: SecretKeyProtection,
    passphrase: bytes,
    version: int,
    packet_tag: int,
    policy: Policy = DEFAULT,
) -> bytes:
    from .s2k import aead_kek

    assert prot.s2k is not None
    info = bytes((0xC0 | packet_tag, version, prot.cipher_algo, prot.aead_algo))
    return aead_kek(prot.s2k, prot.cipher_algo, passphrase, info, policy=policy)


def _cfb(key: bytes, iv: bytes) -> Cipher[CFB]:
    return Cipher(algorithms.AES(key), CFB(iv))


def _legacy_cipher(cipher_algo: int) -> tuple[type[BlockCipherAlgorithm], int] | None:
    """(algorithm class, key size) of a pre-AES cipher GnuPG 1.x protected keys with
    (RFC 9580 §9.3: 1 IDEA, 2 TripleDES, 3 CAST5, 4 Blowfish, 11-13 Camellia). Read
    only: from ``cryptography``'s decrepit module, which holds them for old data."""
    from cryptography.hazmat.decrepit.ciphers import algorithms as old

    table: dict[int, tuple[type[BlockCipherAlgorithm], int]] = {
        1: (old.IDEA, 16),
        2: (old.TripleDES, 24),
        3: (old.CAST5, 16),
        4: (old.Blowfish, 16),
        11: (old.Camellia, 16),
        12: (old.Camellia, 24),
        13: (old.Camellia, 32),
    }
    return table.get(cipher_algo)


def _cfb_decryptor(
    prot: SecretKeyProtection, passphrase: bytes, policy: Policy
) -> CipherContext:
    from .s2k import cipher_key_size, derive_key

    assert prot.s2k is not None
    legacy = None if prot.cipher_algo in (7, 8, 9) else _legacy_cipher(prot.cipher_algo)
    if legacy is None:
        size = cipher_key_size(prot.cipher_algo)
        key = derive_key(prot.s2k, passphrase, size, policy=policy)
        return _cfb(key, prot.iv).decryptor()
    algorithm, size = legacy
    key = derive_key(prot.s2k, passphrase, size, policy=policy)
    return Cipher(algorithm(key), CFB(prot.iv)).decryptor()  # type: ignore[call-arg]


def unprotect(
    prot: SecretKeyProtection,
    secret_data: bytes | bytearray | memoryview,
    passphrase: bytes | None,
    *,
    version: int,
    packet_tag: int,
    public_body: bytes,
    policy: Policy = DEFAULT,
) -> bytes:
    """Recover the cleartext algorithm-specific secret material.

    Args:
        prot: the parsed protection fields.
        secret_data: everything after them in the packet body.
        passphrase: the passphrase, or None.
        version: key packet version (4 or 6).
        packet_tag: 5 (Secret Key) or 7 (Secret Subkey), bound into AEAD protection.
        public_body: the public key packet body (version .. public key material),
            the associated data of AEAD protection.
        policy: bounds the cost of the S2K (Argon2 memory and work).

    Returns:
        The secret material, without checksum, SHA-1 or tag.

    Raises:
        PassphraseError: a passphrase is needed, or it is wrong.
        PacketError: an unprotected key whose checksum does not match.
        UnsupportedError: a GnuPG stub, or an unsupported algorithm.
        PolicyError: Argon2 parameters beyond the policy's bounds.
    """
    data = bytes(secret_data)
    if prot.usage == S2K_USAGE_NONE:
        if version == 6:
            return data
        import hmac

        from .packets.wire import checksum16

        if len(data) < 2 or not hmac.compare_digest(checksum16(data[:-2]), data[-2:]):
            raise PacketError("secret key checksum does not match: the key is damaged")
        return data[:-2]
    if prot.is_stub:
        raise UnsupportedError(_STUB)
    if passphrase is None:
        raise PassphraseError(_NEED_PASSPHRASE)
    import hmac

    from .packets.wire import checksum16

    assert prot.s2k is not None
    if prot.usage == S2K_USAGE_AEAD:
        from .s2k import aead_cipher

        kek = _aead_kek(prot, passphrase, version, packet_tag, policy)
        aad = bytes((0xC0 | packet_tag,)) + public_body
        try:
            return aead_cipher(prot.aead_algo, kek).decrypt(prot.iv, data, aad)
        except InvalidTag:
            raise PassphraseError(_WRONG_PASSPHRASE) from None
    dec = _cfb_decryptor(prot, passphrase, policy)
    plain = dec.update(data) + dec.finalize()
    if prot.usage == S2K_USAGE_CFB:
        body, check = plain[:-_SHA1_SIZE], plain[-_SHA1_SIZE:]
        ok = len(plain) >= _SHA1_SIZE and hmac.compare_digest(
            hashlib.sha1(body).digest(), check
        )
    else:
        body, check = plain[:-2], plain[-2:]
        ok = len(plain) >= 2 and hmac.compare_digest(checksum16(body), check)
    if not ok:
        raise PassphraseError(_WRONG_PASSPHRASE)
    return body


def protect(
    material: bytes,
    passphrase: bytes | None,
    *,
    version: int,
    packet_tag: int,
    public_body: bytes,
    usage: int | None = None,
    s2k: S2K | None = None,
    cipher_algo: int = 9,
    aead_algo: int = AEAD_OCB,
) -> tuple[SecretKeyProtection, bytes]:
    """Protect cleartext secret ``material`` with ``passphrase``.

    Without a passphrase the material is stored unprotected (with the 2-octet checksum
    for v4). The default is AEAD (253) with Argon2 for v6 keys, and CFB with SHA-1
    (254) with an iterated+salted SHA-256 S2K for v4 keys, which GnuPG 2.2 reads.

    Returns:
        The protection fields and the bytes that follow them in the packet.
    """
    if passphrase is None:
        if version == 6:
            return SecretKeyProtection(), material
        from .packets.wire import checksum16

        return SecretKeyProtection(), material + checksum16(material)
    from .s2k import (
        S2K_ARGON2,
        argon2_s2k,
        cipher_key_size,
        derive_key,
        iterated_s2k,
    )

    if usage is None:
        usage = S2K_USAGE_AEAD if version == 6 else S2K_USAGE_CFB
    if usage not in (S2K_USAGE_AEAD, S2K_USAGE_CFB):
        raise UsageError("secret keys are protected with S2K usage 253 or 254 only")
    if s2k is None:
        s2k = argon2_s2k() if usage == S2K_USAGE_AEAD else iterated_s2k()
    if s2k.type == S2K_ARGON2 and usage != S2K_USAGE_AEAD:
        raise UsageError("Argon2 S2K requires AEAD protection (usage 253)")
    if usage == S2K_USAGE_AEAD:
        from .s2k import aead_cipher

        nonce = random.random_bytes(AEAD_NONCE_SIZE[aead_algo])
        prot = SecretKeyProtection(usage, cipher_algo, aead_algo, s2k, nonce)
        kek = _aead_kek(prot, passphrase, version, packet_tag)
        aad = bytes((0xC0 | packet_tag,)) + public_body
        return prot, aead_cipher(aead_algo, kek).encrypt(nonce, material, aad)
    iv = random.random_bytes(CIPHER_BLOCK_SIZE[cipher_algo])
    prot = SecretKeyProtection(usage, cipher_algo, 0, s2k, iv)
    key = derive_key(s2k, passphrase, cipher_key_size(cipher_algo))
    enc = _cfb(key, iv).encryptor()
    sealed = enc.update(material + hashlib.sha1(material).digest()) + enc.finalize()
    return prot, sealed


# -- Whole secret key packets --------------------------------------------------------


def _split_secret(packet: Packet) -> tuple[PublicKeyPacket, bytes, int]:
    public = parse_secret_key(packet.body).public
    body = serialize_public_key(public)
    return public, body, len(body)


def secret_material_of(
    packet: Packet, passphrase: bytes | None, policy: Policy = DEFAULT
) -> tuple[PublicKeyPacket, bytes, bytes]:
    """(public key, public key body, plain secret material) of a secret key packet."""

    public, body, offset = _split_secret(packet)
    prot, pos = parse_protection(packet.body, offset, version=public.version)
    plain = unprotect(
        prot,
        packet.body[pos:],
        passphrase,
        version=public.version,
        packet_tag=packet.tag,
        public_body=body,
        policy=policy,
    )
    return public, body, plain


def protect_packet(packet: Packet, passphrase: bytes) -> bytes:
    """The body of secret key ``packet`` with its material protected by
    ``passphrase`` (whatever protected it before)."""

    public, body, plain = secret_material_of(packet, None)
    new, tail = protect(
        plain,
        passphrase,
        version=public.version,
        packet_tag=packet.tag,
        public_body=body,
    )
    return body + serialize_protection(new, version=public.version) + tail


def unlock_packet(
    packet: Packet, passphrase: bytes | None, policy: Policy
) -> tuple[bytes, object, Packet]:
    """(fingerprint, private key, the packet rewritten unprotected).

    Raises:
        PassphraseError: protected and the passphrase is missing or wrong.
    """

    public, body, plain = secret_material_of(packet, passphrase, policy)
    key = private_from_material(public, plain)
    _, tail = protect(
        plain, None, version=public.version, packet_tag=packet.tag, public_body=body
    )
    return fingerprint(public), key, Packet(packet.tag, body + b"\x00" + tail)
