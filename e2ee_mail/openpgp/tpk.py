"""Transferable key parsing helpers (RFC 9580 §10.1, §10.2, §5.2.3.10).

Splits a key's packet sequence into the primary key, its direct signatures, User IDs
and subkeys with their signatures, and evaluates self-signatures: key flags, expiry
(Key Expiration Time relative to the key's creation), revocation and binding
validity. Only signatures that verify with the primary key count.

Every subkey is judged on its own, as GnuPG and other implementations do: one whose
algorithm, curve or material we cannot use, whose binding does not verify, or that
is revoked or expired is skipped with the reason recorded (:func:`defect`), and the
others stay usable. ElGamal (16, and the retired 20) is such an algorithm: there is
no ElGamal primitive in `cryptography`, and none is written here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Final

from ..core.record import Record
from ..errors import (
    FormatError,
    KeyLoadError,
    PacketError,
    UnsupportedError,
    UsageError,
)
from .keymaterial import rsa_bits
from .packets import (
    PK_DSA,
    PK_ECDH,
    PK_ECDSA,
    PK_ED448,
    PK_ED25519,
    PK_EDDSA_LEGACY,
    PK_ELGAMAL,
    PK_ELGAMAL_SIGN,
    PK_MLDSA65_ED25519,
    PK_MLDSA87_ED448,
    PK_MLKEM768_X25519,
    PK_MLKEM1024_X448,
    PK_RSA,
    PK_RSA_ENCRYPT_ONLY,
    PK_RSA_SIGN_ONLY,
    PK_X448,
    PK_X25519,
    PQ_KEM_ALGOS,
    PQ_SIG_ALGOS,
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
from .packets.header import Packet
from .packets.keys import (
    PublicKeyPacket,
    fingerprint,
    parse_public_key,
    parse_secret_key,
    serialize_public_key,
)
from .packets.signature import (
    SIG_SUBKEY_BINDING,
    SIG_SUBKEY_REVOCATION,
    SP_CREATION_TIME,
    SP_KEY_EXPIRATION,
    SP_KEY_FLAGS,
    SignaturePacket,
    parse_signature,
)
from .sigs import key_signature_data, public_key_object, verify_signature

__all__ = [
    "ALGORITHM_NAMES",
    "CERT_TYPES",
    "ENCRYPT_ALGOS",
    "FEATURE_SEIPDV1",
    "FEATURE_SEIPDV2",
    "KEY_FLAG_CERTIFY",
    "KEY_FLAG_ENCRYPT",
    "KEY_FLAG_SIGN",
    "SIGNING_ALGOS",
    "SKIP",
    "KeyInfo",
    "ParsedTPK",
    "algorithm_name",
    "algorithm_problem",
    "created_time",
    "defect",
    "encryption_candidates",
    "expiry",
    "key_flags",
    "newest_sig",
    "ordered",
    "public_of",
    "public_packet",
    "rejection",
    "split_tpk",
    "subkey_info",
    "uid_addresses",
    "user_id_octets",
    "validity_end",
]

KEY_FLAG_CERTIFY: Final = 0x01
KEY_FLAG_SIGN: Final = 0x02
KEY_FLAG_ENCRYPT: Final = 0x0C
FEATURE_SEIPDV1: Final = 0x01
FEATURE_SEIPDV2: Final = 0x08
CERT_TYPES: Final = frozenset({0x10, 0x11, 0x12, 0x13})
ENCRYPT_ALGOS: Final = frozenset(
    {PK_RSA, PK_RSA_ENCRYPT_ONLY, PK_X25519, PK_X448, PK_ECDH, *PQ_KEM_ALGOS}
)
#: The algorithms whose signatures sigs.py checks.
SIGNING_ALGOS: Final = frozenset(
    {
        PK_RSA,
        PK_RSA_SIGN_ONLY,
        PK_DSA,
        PK_ECDSA,
        PK_EDDSA_LEGACY,
        PK_ED25519,
        PK_ED448,
        *PQ_SIG_ALGOS,
    }
)
#: Names of the public key algorithms of RFC 9580 §9.1 (and the retired 20).
ALGORITHM_NAMES: Final = {
    PK_RSA: "RSA",
    PK_RSA_ENCRYPT_ONLY: "RSA",
    PK_RSA_SIGN_ONLY: "RSA",
    PK_ELGAMAL: "ElGamal",
    PK_DSA: "DSA",
    PK_ECDH: "ECDH",
    PK_ECDSA: "ECDSA",
    PK_ELGAMAL_SIGN: "ElGamal",
    PK_EDDSA_LEGACY: "EdDSALegacy",
    PK_X25519: "X25519",
    PK_X448: "X448",
    PK_ED25519: "Ed25519",
    PK_ED448: "Ed448",
    PK_MLDSA65_ED25519: "ML-DSA-65+Ed25519",
    PK_MLDSA87_ED448: "ML-DSA-87+Ed448",
    PK_MLKEM768_X25519: "ML-KEM-768+X25519",
    PK_MLKEM1024_X448: "ML-KEM-1024+X448",
}
_FLAG_NAMES: Final = ((KEY_FLAG_CERTIFY, "certify"), (KEY_FLAG_SIGN, "sign"))
SKIP: Final = frozenset({TAG_TRUST, TAG_PADDING, TAG_MARKER})
#: The address of a User ID "Name <addr>" (RFC 9580 §5.11: by convention an RFC 2822
#: name-addr), or of a User ID that is a bare address.
# Compiled on first use (re.compile keeps them): a key's addresses are asked for
# by the keyring, not by every command that loads a key.
_UID_ADDRESS: Final = r"<([^<>\s@]+@[^<>\s@]+)>"
_BARE_ADDRESS: Final = r"^\s*([^<>\s@]+@[^<>\s@]+)\s*$"


class KeyInfo(Record):
    """A primary key or subkey as the certificate's self-signatures describe it.

    Attributes:
        packet: the public key packet.
        fingerprint: its fingerprint.
        flags: key flags from the newest valid self-signature (0: none).
        expires: expiry time (seconds since the epoch), or None.
        revoked: a valid revocation signature exists.
        bound: a valid binding (subkey) or self-signature (primary) exists.
        problem: why the key cannot be used here whatever its signatures say (an
            algorithm, curve or key material we do not handle), or None.
    """

    _fields = (
        "packet",
        "fingerprint",
        "flags",
        "expires",
        "revoked",
        "bound",
        "problem",
    )
    __slots__ = _fields
    packet: PublicKeyPacket
    fingerprint: bytes
    flags: int
    expires: int | None
    revoked: bool
    bound: bool
    problem: str | None

    def __init__(
        self,
        packet: PublicKeyPacket,
        fingerprint: bytes,
        flags: int,
        expires: int | None,
        revoked: bool,
        bound: bool,
        problem: str | None = None,
    ) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "packet", packet)
        setattr_(self, "fingerprint", fingerprint)
        setattr_(self, "flags", flags)
        setattr_(self, "expires", expires)
        setattr_(self, "revoked", revoked)
        setattr_(self, "bound", bound)
        setattr_(self, "problem", problem)

    @property
    def key_id(self) -> bytes:
        """The 8-octet key ID (RFC 9580 §5.5.4): taken from the fingerprint this
        KeyInfo already holds, not hashed again (asked per v3 PKESK)."""
        fpr = self.fingerprint
        return fpr[:8] if self.packet.version == 6 else fpr[-8:]

    def usable(self, now: int) -> bool:
        """Bound, not revoked, not expired at ``now``."""
        return (
            self.bound
            and not self.revoked
            and (self.expires is None or now < self.expires)
        )


def created_time(sig: SignaturePacket) -> int:
    body = sig.subpacket(SP_CREATION_TIME)
    return int.from_bytes(body, "big") if body and len(body) == 4 else 0


def expiry(sig: SignaturePacket, key: PublicKeyPacket) -> int | None:
    body = sig.subpacket(SP_KEY_EXPIRATION)
    if not body or len(body) != 4 or body == b"\0\0\0\0":
        return None
    return key.created + int.from_bytes(body, "big")


def key_flags(sig: SignaturePacket | None) -> int:
    body = sig.subpacket(SP_KEY_FLAGS) if sig else None
    return body[0] if body else 0


def newest_sig(sigs: Sequence[SignaturePacket]) -> SignaturePacket | None:
    """The newest signature; of two made in the same second, the later packet (a
    tool that re-binds within a second appends the replacement)."""
    return max(reversed(sigs), key=created_time, default=None)


class ParsedTPK:
    """A certificate's packets grouped by what they belong to (filled in place)."""

    __slots__ = ("direct", "primary", "subkeys", "uids")

    def __init__(self, primary: Packet) -> None:
        self.primary = primary
        self.direct: list[SignaturePacket] = []
        self.uids: list[tuple[bytes, list[SignaturePacket]]] = []
        self.subkeys: list[tuple[Packet, list[SignaturePacket]]] = []


def split_tpk(packets: list[Packet]) -> ParsedTPK:
    packets = [p for p in packets if p.tag not in SKIP]
    if not packets or packets[0].tag not in (TAG_PUBLIC_KEY, TAG_SECRET_KEY):
        raise KeyLoadError("not an OpenPGP key: it does not start with a key packet")
    parsed = ParsedTPK(packets[0])
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


def public_of(packet: Packet) -> PublicKeyPacket:
    if packet.tag in (TAG_SECRET_KEY, TAG_SECRET_SUBKEY):
        return parse_secret_key(packet.body).public
    return parse_public_key(packet.body)


def subkey_info(
    primary: PublicKeyPacket, packet: Packet, sigs: list[SignaturePacket]
) -> KeyInfo:
    sub = public_of(packet)
    data = key_signature_data(primary, subkey=sub)
    # RFC 9980 §7.2: a binding of a post-quantum subkey (KEM or signing) made with
    # MD5, SHA-1 or RIPEMD-160 is invalid.
    weak = (1, 2, 3) if sub.algorithm in PQ_KEM_ALGOS | PQ_SIG_ALGOS else ()
    bindings = [
        s
        for s in sigs
        if s.sig_type == SIG_SUBKEY_BINDING
        and s.hash_algorithm not in weak
        and verify_signature(s, primary, data)
    ]
    revoked = any(
        s.sig_type == SIG_SUBKEY_REVOCATION and verify_signature(s, primary, data)
        for s in sigs
    )
    latest = newest_sig(bindings)
    return KeyInfo(
        sub,
        fingerprint(sub),
        key_flags(latest),
        expiry(latest, sub) if latest else None,
        revoked,
        latest is not None,
        algorithm_problem(sub),
    )


def algorithm_problem(packet: PublicKeyPacket) -> str | None:
    """Why the key of ``packet`` cannot be used here at all, or None: an unknown
    algorithm, ElGamal, a curve we do not handle, malformed key material.

    The key material is decoded as encrypting or verifying would decode it, so a
    key that passes here fails later only for a reason that depends on the message.
    """
    algorithm = packet.algorithm
    name = ALGORITHM_NAMES.get(algorithm)
    if name is None:
        return f"public key algorithm {algorithm} is unknown"
    if algorithm in (PK_ELGAMAL, PK_ELGAMAL_SIGN):
        return "ElGamal keys are not supported (no ElGamal decryption here)"
    try:
        if algorithm in SIGNING_ALGOS:
            public_key_object(packet)
        elif algorithm in (PK_RSA, PK_RSA_ENCRYPT_ONLY):
            rsa_bits(packet)
        elif algorithm == PK_ECDH:
            from . import curves  # v4 keys only: kept out of the v6 start-up path

            curves.decode_curve_public(packet)
        elif algorithm in PQ_KEM_ALGOS:
            from ..core import mlkem  # PQ keys only: kept out of the start-up path

            mlkem.check_public(packet.material, algorithm)
        elif algorithm not in ENCRYPT_ALGOS:
            return f"{name} keys are not supported"
    except UnsupportedError as exc:
        return str(exc)
    except FormatError:
        return f"malformed {name} key material"
    return None


def defect(key: KeyInfo, now: int) -> str | None:
    """Why ``key`` is skipped at ``now`` (the reason its holder is told), or None:
    an algorithm we cannot use, no valid binding, revoked, expired."""
    if key.problem is not None:
        return key.problem
    if not key.bound:
        return "no valid binding signature"
    if key.revoked:
        return "revoked"
    if key.expires is not None and now >= key.expires:
        when = time.strftime("%Y-%m-%d", time.gmtime(key.expires))
        return f"expired on {when}"
    return None


def rejection(key: KeyInfo, now: int) -> str | None:
    """Why ``key`` is not an encryption key at ``now``, or None when it is one."""
    found = defect(key, now)
    if found is not None:
        return found
    if key.packet.algorithm not in ENCRYPT_ALGOS:
        name = ALGORITHM_NAMES.get(key.packet.algorithm, "this algorithm")
        return f"{name} keys cannot encrypt"
    if not key.flags & KEY_FLAG_ENCRYPT:
        uses = [n for bit, n in _FLAG_NAMES if key.flags & bit] or ["no use"]
        return f"not an encryption key (key flags: {', '.join(uses)})"
    return None


#: The names of the algorithms whose name is the key kind's, parameters and all.
_KIND_NAMES: Final = {
    PK_X25519: "x25519",
    PK_X448: "x448",
    PK_MLKEM768_X25519: "mlkem768-x25519",
    PK_MLKEM1024_X448: "mlkem1024-x448",
    PK_MLDSA65_ED25519: "mldsa65-ed25519",
    PK_MLDSA87_ED448: "mldsa87-ed448",
}


def algorithm_name(packet: PublicKeyPacket) -> str:
    kind = _KIND_NAMES.get(packet.algorithm)
    if kind is not None:
        return kind
    if packet.algorithm == PK_ECDH:
        from .curves import ecdh_name  # v4 keys only: kept out of the v6 start-up path

        return ecdh_name(packet)
    if packet.algorithm in (PK_RSA, PK_RSA_ENCRYPT_ONLY, PK_RSA_SIGN_ONLY):
        try:
            return f"rsa{rsa_bits(packet)}"
        except FormatError:
            return "rsa"
    name = ALGORITHM_NAMES.get(packet.algorithm)
    if name is None:
        return f"algorithm-{packet.algorithm}"
    return name.lower()


def ordered(packets: list[Packet]) -> list[Packet]:
    return [p for p in packets if p.tag not in SKIP]


def public_packet(packet: Packet) -> tuple[int, bytes]:
    if packet.tag == TAG_SECRET_KEY:
        return TAG_PUBLIC_KEY, serialize_public_key(public_of(packet))
    if packet.tag == TAG_SECRET_SUBKEY:
        return TAG_PUBLIC_SUBKEY, serialize_public_key(public_of(packet))
    return packet.tag, packet.body


def encryption_candidates(
    primary: KeyInfo, subkeys: Sequence[KeyInfo]
) -> list[KeyInfo]:
    """The keys that are, or were until they expired, encryption keys: bound, not
    revoked, granted an encryption flag (and the primary key bound and not
    revoked); newest first."""
    if not primary.bound or primary.revoked:
        return []
    found = [
        k
        for k in (*subkeys, primary)
        if k.flags & KEY_FLAG_ENCRYPT
        and k.bound
        and not k.revoked
        and k.problem is None
        and k.packet.algorithm in ENCRYPT_ALGOS
    ]
    found.sort(key=lambda k: k.packet.created, reverse=True)
    return found


def validity_end(primary: KeyInfo, subkeys: Sequence[KeyInfo]) -> int | None:
    """The last moment a certificate has an encryption key: the primary key's
    expiry (RFC 9580 §5.2.3.13), or earlier when every encryption key expires
    before it; None when nothing bounds it."""
    keys = encryption_candidates(primary, subkeys)
    ends = [k.expires for k in keys]
    last = None if not keys or None in ends else max(e for e in ends if e)
    if last is None or (primary.expires is not None and primary.expires < last):
        return primary.expires
    return last


def uid_addresses(uids: Sequence[str]) -> tuple[str, ...]:
    """The addresses of User IDs ("Name <addr>" or a bare address), without
    repeats."""
    found = []
    for uid in uids:
        match = re.search(_UID_ADDRESS, uid) or re.match(_BARE_ADDRESS, uid)
        if match:
            found.append(match.group(1))
    return tuple(dict.fromkeys(found))


def user_id_octets(uid: str) -> bytes:
    """The User ID packet body for ``uid`` (RFC 9580 §5.11: UTF-8 text, by
    convention "Name <addr>"; a bare address is as good).

    Raises:
        UsageError: ``uid`` is empty or blank: a key nobody can be found by.
    """
    if not uid.strip():
        raise UsageError("the user ID is empty: pass an address or Name <address>")
    return uid.encode("utf-8")
