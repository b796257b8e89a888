"""OpenPGP certificates and secret keys (RFC 9580 §10.1, §10.2, §5.2.3.10).

Parses Transferable Public Keys and Transferable Secret Keys, v6 and v4: fingerprints
and key IDs, User IDs, expiry, revocation, preferences, and which keys may encrypt.
A subkey is used for encryption only if a binding signature by the primary key
verifies and grants an encryption key flag, and neither the primary key nor the
subkey is revoked or expired. Secret keys: unprotected, or protected with any usage
``keyprotect`` reads (Argon2 + AEAD for v6, §3.7.2.1 / §5.5.3); export protects v6
keys with Argon2 + AES-256-OCB. Generation lives in ``keygen.py`` (v6) and
``v4keys.py`` (v4, the RFC 4880 profile).
Left out: third-party certifications (ignored), User Attributes (skipped), v3 keys.
"""

from __future__ import annotations

import dataclasses
import importlib
import time
from collections.abc import Sequence
from typing import Final

from ..errors import (
    Error,
    FormatError,
    KeyLoadError,
    PacketError,
    UnsupportedError,
)
from ..keys.model import Certificate, KeyFormat, SecretKey
from . import armor, keyprotect
from .keymaterial import private_from_material, rsa_bits
from .packets import (
    PK_ECDH,
    PK_RSA,
    PK_RSA_ENCRYPT_ONLY,
    PK_X25519,
    TAG_MARKER,
    TAG_PADDING,
    TAG_PUBLIC_KEY,
    TAG_PUBLIC_SUBKEY,
    TAG_SECRET_KEY,
    TAG_SECRET_SUBKEY,
    TAG_SIGNATURE,
    TAG_TRUST,
    TAG_USER_ATTRIBUTE,
    TAG_USER_ID,
)
from .packets.header import Packet, parse_packets, serialize_packet
from .packets.keys import (
    PublicKeyPacket,
    fingerprint,
    key_id,
    parse_public_key,
    serialize_public_key,
)
from .packets.signature import (
    SIG_DIRECT_KEY,
    SIG_KEY_REVOCATION,
    SIG_SUBKEY_BINDING,
    SIG_SUBKEY_REVOCATION,
    SP_CREATION_TIME,
    SP_FEATURES,
    SP_KEY_EXPIRATION,
    SP_KEY_FLAGS,
    SP_PREFERRED_AEAD,
    SP_PRIMARY_USER_ID,
    SignaturePacket,
    parse_signature,
)
from .sigs import key_signature_data, verify_signature

__all__ = [
    "FEATURE_SEIPDV1",
    "FEATURE_SEIPDV2",
    "KEY_FLAG_ENCRYPT",
    "KeyInfo",
    "OpenPGPCertificate",
    "OpenPGPSecretKey",
    "generate",
    "load_certificate",
    "load_key",
]

KEY_FLAG_CERTIFY: Final = 0x01
KEY_FLAG_SIGN: Final = 0x02
KEY_FLAG_ENCRYPT: Final = 0x0C
FEATURE_SEIPDV1: Final = 0x01
FEATURE_SEIPDV2: Final = 0x08
_CERT_TYPES: Final = frozenset({0x10, 0x11, 0x12, 0x13})
_ENCRYPT_ALGOS: Final = frozenset({PK_RSA, PK_RSA_ENCRYPT_ONLY, PK_X25519, PK_ECDH})
_SKIP: Final = frozenset({TAG_TRUST, TAG_PADDING, TAG_MARKER})


@dataclasses.dataclass(frozen=True, slots=True)
class KeyInfo:
    """A primary key or subkey as the certificate's self-signatures describe it.

    Attributes:
        packet: the public key packet.
        fingerprint: its fingerprint.
        flags: key flags from the newest valid self-signature (0: none).
        expires: expiry time (seconds since the epoch), or None.
        revoked: a valid revocation signature exists.
        bound: a valid binding (subkey) or self-signature (primary) exists.
    """

    packet: PublicKeyPacket
    fingerprint: bytes
    flags: int
    expires: int | None
    revoked: bool
    bound: bool

    @property
    def key_id(self) -> bytes:
        """The 8-octet key ID."""
        return key_id(self.packet)

    def usable(self, now: int) -> bool:
        """Bound, not revoked, not expired at ``now``."""
        return (
            self.bound
            and not self.revoked
            and (self.expires is None or now < self.expires)
        )


def _created(sig: SignaturePacket) -> int:
    body = sig.subpacket(SP_CREATION_TIME)
    return int.from_bytes(body, "big") if body and len(body) == 4 else 0


def _expiry(sig: SignaturePacket, key: PublicKeyPacket) -> int | None:
    body = sig.subpacket(SP_KEY_EXPIRATION)
    if not body or len(body) != 4 or body == b"\0\0\0\0":
        return None
    return key.created + int.from_bytes(body, "big")


def _flags(sig: SignaturePacket | None) -> int:
    body = sig.subpacket(SP_KEY_FLAGS) if sig else None
    return body[0] if body else 0


def _newest(sigs: Sequence[SignaturePacket]) -> SignaturePacket | None:
    return max(sigs, key=_created, default=None)


@dataclasses.dataclass(slots=True)
class _Parsed:
    primary: Packet
    direct: list[SignaturePacket] = dataclasses.field(default_factory=list)
    uids: list[tuple[bytes, list[SignaturePacket]]] = dataclasses.field(
        default_factory=list
    )
    subkeys: list[tuple[Packet, list[SignaturePacket]]] = dataclasses.field(
        default_factory=list
    )


def _split(packets: list[Packet]) -> _Parsed:
    packets = [p for p in packets if p.tag not in _SKIP]
    if not packets or packets[0].tag not in (TAG_PUBLIC_KEY, TAG_SECRET_KEY):
        raise KeyLoadError("not an OpenPGP key: it does not start with a key packet")
    parsed = _Parsed(packets[0])
    target: list[SignaturePacket] = parsed.direct
    for packet in packets[1:]:
        if packet.tag == TAG_SIGNATURE:
            try:
                target.append(parse_signature(packet.body))
            except (PacketError, UnsupportedError):
                continue  # RFC 9580 §5.2.5: unknown signatures are ignored.
        elif packet.tag == TAG_USER_ID:
            parsed.uids.append((packet.body, []))
            target = parsed.uids[-1][1]
        elif packet.tag == TAG_USER_ATTRIBUTE:
            target = []
        elif packet.tag in (TAG_PUBLIC_SUBKEY, TAG_SECRET_SUBKEY):
            parsed.subkeys.append((packet, []))
            target = parsed.subkeys[-1][1]
        elif packet.tag in (TAG_PUBLIC_KEY, TAG_SECRET_KEY):
            raise KeyLoadError("more than one key in the input: load one at a time")
        else:
            raise KeyLoadError(f"unexpected packet type {packet.tag} in a key")
    return parsed


def _public_of(packet: Packet) -> PublicKeyPacket:
    if packet.tag in (TAG_SECRET_KEY, TAG_SECRET_SUBKEY):
        from .packets.keys import parse_secret_key

        return parse_secret_key(packet.body).public
    return parse_public_key(packet.body)


class OpenPGPCertificate(Certificate):
    """A parsed, self-signature-checked OpenPGP certificate (v4 or v6)."""

    __slots__ = (
        "_aead_prefs",
        "_binary",
        "_features",
        "_primary",
        "_subkeys",
        "_uids",
    )

    def __init__(self, packets: list[Packet]) -> None:
        parsed = _split(packets)
        primary = _public_of(parsed.primary)
        fpr = fingerprint(primary)
        me = key_signature_data(primary)
        direct = [
            s
            for s in parsed.direct
            if s.sig_type == SIG_DIRECT_KEY and verify_signature(s, primary, me)
        ]
        revoked = any(
            s.sig_type == SIG_KEY_REVOCATION and verify_signature(s, primary, me)
            for s in parsed.direct
        )
        uids: list[str] = []
        uid_sigs: list[tuple[bool, SignaturePacket]] = []
        for uid, sigs in parsed.uids:
            data = key_signature_data(primary, user_id=uid)
            valid = [
                s
                for s in sigs
                if s.sig_type in _CERT_TYPES and verify_signature(s, primary, data)
            ]
            if valid:
                newest = _newest(valid)
                assert newest is not None
                uids.append(uid.decode("utf-8", "replace"))
                uid_sigs.append((bool(newest.subpacket(SP_PRIMARY_USER_ID)), newest))
        # RFC 9580 §5.2.3.10: preferences come from the direct-key signature (v6),
        # else from the primary User ID's self-signature.
        main = _newest(direct)
        if main is None and uid_sigs:
            main = max(uid_sigs, key=lambda t: (t[0], _created(t[1])))[1]
        if main is None:
            raise KeyLoadError("the key has no valid self-signature")
        self._primary = KeyInfo(
            primary, fpr, _flags(main), _expiry(main, primary), revoked, True
        )
        self._uids = tuple(uids)
        features = main.subpacket(SP_FEATURES)
        self._features = features[0] if features else 0
        self._aead_prefs = main.subpacket(SP_PREFERRED_AEAD) or b""
        self._subkeys = tuple(
            _subkey_info(primary, packet, sigs) for packet, sigs in parsed.subkeys
        )
        self._binary = b"".join(
            serialize_packet(*_public_packet(p)) for p in _ordered(packets)
        )

    # -- the Certificate interface ------------------------------------------------
    @property
    def format(self) -> KeyFormat:
        return "openpgp"

    @property
    def fingerprint(self) -> str:
        return self._primary.fingerprint.hex().upper()

    @property
    def user_ids(self) -> tuple[str, ...]:
        return self._uids

    @property
    def algorithm(self) -> str:
        keys = self.encryption_keys()
        if not keys:
            return "none"
        return _algorithm_name(keys[0].packet)

    def export(self, *, armor: bool = True) -> bytes:
        if armor:
            return _armor(self._binary, "PUBLIC KEY BLOCK")
        return self._binary

    # -- OpenPGP specifics -----------------------------------------------------------
    @property
    def version(self) -> int:
        """The primary key's version (4 or 6)."""
        return self._primary.packet.version

    @property
    def primary(self) -> KeyInfo:
        """The primary key."""
        return self._primary

    @property
    def subkeys(self) -> tuple[KeyInfo, ...]:
        """Every subkey, bound or not."""
        return self._subkeys

    @property
    def features(self) -> int:
        """The Features octet (RFC 9580 §5.2.3.32); v6 keys always imply SEIPDv2."""
        if self.version == 6:
            return self._features | FEATURE_SEIPDV2
        return self._features

    @property
    def supports_seipdv2(self) -> bool:
        """Whether the key holder advertises SEIPDv2."""
        return bool(self.features & FEATURE_SEIPDV2)

    @property
    def aead_preferences(self) -> tuple[tuple[int, int], ...]:
        """(cipher, AEAD mode) pairs the key holder prefers, best first."""
        raw = self._aead_prefs
        return tuple((raw[i], raw[i + 1]) for i in range(0, len(raw) - 1, 2))

    @property
    def expires(self) -> int | None:
        """When the primary key expires (seconds since the epoch), or None."""
        return self._primary.expires

    @property
    def revoked(self) -> bool:
        """Whether the primary key is revoked."""
        return self._primary.revoked

    def encryption_keys(self, now: int | None = None) -> list[KeyInfo]:
        """The keys a message to this certificate is encrypted to, newest first.

        Only subkeys with a verified binding granting an encryption flag count
        (the primary key too, if its self-signature grants one).
        """
        when = int(time.time()) if now is None else now
        if not self._primary.usable(when):
            return []
        found = [
            k
            for k in (*self._subkeys, self._primary)
            if k.flags & KEY_FLAG_ENCRYPT
            and k.usable(when)
            and k.packet.algorithm in _ENCRYPT_ALGOS
        ]
        found.sort(key=lambda k: k.packet.created, reverse=True)
        return found


def _subkey_info(
    primary: PublicKeyPacket, packet: Packet, sigs: list[SignaturePacket]
) -> KeyInfo:
    sub = _public_of(packet)
    data = key_signature_data(primary, subkey=sub)
    bindings = [
        s
        for s in sigs
        if s.sig_type == SIG_SUBKEY_BINDING and verify_signature(s, primary, data)
    ]
    revoked = any(
        s.sig_type == SIG_SUBKEY_REVOCATION and verify_signature(s, primary, data)
        for s in sigs
    )
    newest = _newest(bindings)
    return KeyInfo(
        sub,
        fingerprint(sub),
        _flags(newest),
        _expiry(newest, sub) if newest else None,
        revoked,
        newest is not None,
    )


def _algorithm_name(packet: PublicKeyPacket) -> str:
    if packet.algorithm == PK_X25519:
        return "x25519"
    if packet.algorithm == PK_ECDH:
        return "ecdh-curve25519"
    if packet.algorithm in (PK_RSA, PK_RSA_ENCRYPT_ONLY):
        return f"rsa{rsa_bits(packet)}"
    return f"algorithm-{packet.algorithm}"


def _ordered(packets: list[Packet]) -> list[Packet]:
    return [p for p in packets if p.tag not in _SKIP]


def _public_packet(packet: Packet) -> tuple[int, bytes]:
    if packet.tag == TAG_SECRET_KEY:
        return TAG_PUBLIC_KEY, serialize_public_key(_public_of(packet))
    if packet.tag == TAG_SECRET_SUBKEY:
        return TAG_PUBLIC_SUBKEY, serialize_public_key(_public_of(packet))
    return packet.tag, packet.body


def _armor(binary: bytes, block: str) -> bytes:
    return armor.enarmor(binary, block)


def _decode(data: bytes) -> bytes:
    if armor.is_armored(data):
        label, binary = armor.dearmor(data)
        if label not in (armor.BLOCK_PUBLIC_KEY, armor.BLOCK_PRIVATE_KEY):
            raise KeyLoadError(f"armor block PGP {label} is not a key")
        return binary
    return bytes(data)


def _packets(data: bytes) -> list[Packet]:
    try:
        return parse_packets(_decode(data), max_packets=10_000)
    except FormatError as exc:
        raise KeyLoadError(f"not a readable OpenPGP key: {exc}") from None


def load_certificate(data: bytes) -> OpenPGPCertificate:
    """Load an OpenPGP certificate (binary or armored; a secret key gives its public
    part).

    Raises:
        KeyLoadError: not a usable OpenPGP key.
    """
    try:
        return OpenPGPCertificate(_packets(data))
    except KeyLoadError:
        raise
    except Error as exc:
        raise KeyLoadError(f"not a usable OpenPGP certificate: {exc}") from None


class OpenPGPSecretKey(SecretKey):
    """An OpenPGP secret key: the certificate plus the unlocked secret keys."""

    __slots__ = ("_keys", "_packets", "_public")

    def __init__(
        self,
        public: OpenPGPCertificate,
        keys: dict[bytes, object],
        packets: list[Packet],
    ) -> None:
        self._public = public
        self._keys = keys
        # The key's packets with every secret packet unprotected (usage 0).
        self._packets = packets

    @property
    def public(self) -> OpenPGPCertificate:
        return self._public

    def private_key(self, fpr: bytes) -> object | None:
        """The private key object of the (sub)key with fingerprint ``fpr``."""
        return self._keys.get(fpr)

    def decryption_keys(self) -> list[tuple[KeyInfo, object]]:
        """(key, private key) pairs this key can decrypt with, subkeys first.

        Expired or revoked subkeys still decrypt: old mail must stay readable.
        """
        infos = [*self._public.subkeys, self._public.primary]
        return [
            (k, self._keys[k.fingerprint])
            for k in infos
            if k.fingerprint in self._keys and k.packet.algorithm in _ENCRYPT_ALGOS
        ]

    def export(self, *, passphrase: bytes | None = None, armor: bool = True) -> bytes:
        out = bytearray()
        for packet in self._packets:
            if packet.tag in (TAG_SECRET_KEY, TAG_SECRET_SUBKEY) and passphrase:
                out += serialize_packet(packet.tag, _protect(packet, passphrase))
            else:
                out += serialize_packet(packet.tag, packet.body)
        if armor:
            return _armor(bytes(out), "PRIVATE KEY BLOCK")
        return bytes(out)


def _split_secret(packet: Packet) -> tuple[PublicKeyPacket, bytes, int]:
    from .packets.keys import parse_secret_key

    public = parse_secret_key(packet.body).public
    body = serialize_public_key(public)
    return public, body, len(body)


def _protect(packet: Packet, passphrase: bytes) -> bytes:
    public, body, offset = _split_secret(packet)
    prot, pos = keyprotect.parse_protection(packet.body, offset, version=public.version)
    plain = keyprotect.unprotect(
        prot,
        packet.body[pos:],
        None,
        version=public.version,
        packet_tag=packet.tag,
        public_body=body,
    )
    new, tail = keyprotect.protect(
        plain,
        passphrase,
        version=public.version,
        packet_tag=packet.tag,
        public_body=body,
    )
    return body + keyprotect.serialize_protection(new, version=public.version) + tail


def _unlock(packet: Packet, passphrase: bytes | None) -> tuple[bytes, object, Packet]:
    """(fingerprint, private key, the packet rewritten unprotected)."""
    public, body, offset = _split_secret(packet)
    prot, pos = keyprotect.parse_protection(packet.body, offset, version=public.version)
    plain = keyprotect.unprotect(
        prot,
        packet.body[pos:],
        passphrase,
        version=public.version,
        packet_tag=packet.tag,
        public_body=body,
    )
    key = private_from_material(public, plain)
    _, tail = keyprotect.protect(
        plain, None, version=public.version, packet_tag=packet.tag, public_body=body
    )
    return fingerprint(public), key, Packet(packet.tag, body + b"\x00" + tail)


def load_key(data: bytes, passphrase: bytes | None) -> OpenPGPSecretKey:
    """Load an OpenPGP secret key (binary or armored).

    Raises:
        PassphraseError: protected and the passphrase is missing or wrong.
        KeyLoadError: not a usable OpenPGP secret key.
    """
    packets = _packets(data)
    if not packets or packets[0].tag != TAG_SECRET_KEY:
        raise KeyLoadError("not an OpenPGP secret key (this may be a certificate)")
    try:
        public = OpenPGPCertificate(packets)
        keys: dict[bytes, object] = {}
        plain: list[Packet] = []
        for packet in packets:
            if packet.tag in (TAG_SECRET_KEY, TAG_SECRET_SUBKEY):
                try:
                    fpr, key, rewritten = _unlock(packet, passphrase)
                except UnsupportedError:
                    if packet.tag == TAG_SECRET_KEY:
                        # A primary key kept offline (GnuPG stub) still lets its
                        # subkeys decrypt; keep the packet as it is.
                        plain.append(packet)
                        continue
                    raise
                keys[fpr] = key
                plain.append(rewritten)
            elif packet.tag not in _SKIP:
                plain.append(packet)
    except KeyLoadError:
        raise
    except Error as exc:
        raise KeyLoadError(f"not a usable OpenPGP secret key: {exc}") from None
    return OpenPGPSecretKey(public, keys, plain)


def generate(uid: str, *, kind: str, profile: str) -> OpenPGPSecretKey:
    """Generate a key: v6 for profile "rfc9580", v4 for "rfc4880".

    Raises:
        UnsupportedError: a profile whose generator is not available.
    """
    if profile == "rfc4880":
        try:
            v4keys = importlib.import_module(".v4keys", __package__)
        except ImportError:
            raise UnsupportedError(
                "generating v4 keys (profile rfc4880) is not available yet"
            ) from None
        key: OpenPGPSecretKey = v4keys.generate_v4(uid, kind=kind)
        return key
    from . import keygen

    return keygen.generate_v6(uid, kind=kind)
