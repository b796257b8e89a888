"""Rotating the encryption subkey of an OpenPGP key (RFC 9580 §10.1, §5.2.1, §5.2.3).

The standard way to rotate: keep the primary key (and so the fingerprint every
correspondent knows), add a fresh encryption subkey with a Subkey Binding Signature
(type 0x18, §5.2.1) made by the primary key, and re-bind each older encryption subkey
with a newer binding signature carrying a Key Expiration Time (§5.2.3.13: seconds after
the *subkey's* creation). Readers take the newest valid binding of a subkey (§5.2.3.10,
``tpk.subkey_info``), so the old subkey stops being chosen for new mail while its
secret stays in the key to open old mail.

Subkey versions follow the primary: v6 keys get X25519 (25) or RSA subkeys and salted
v6 signatures; v4 keys get ECDH over Curve25519Legacy (18, RFC 9580 §5.5.5.6) or RSA
subkeys and v4 signatures. Signatures are made with ``sigs.make_signature`` (SHA2-512).

Signing rotates the same way (:func:`add_signing_subkey`): a fresh Ed25519 signing
subkey bound with its embedded Primary Key Binding signature (0x19, §5.2.3.34, made
by the subkey), and the older signing subkeys re-bound with an expiry and a fresh
back-signature (their secrets are in the key).

Left out: subkeys that both encrypt and sign (left as they are), revocation of the
old subkey (expiry is enough and keeps old mail
openable by every implementation), and keeping the original S2K protection: the
updated key holds unprotected secrets like every loaded key, and ``export(passphrase=)``
protects it again.
"""

from __future__ import annotations

import time
from typing import Final

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa, x25519

from ..errors import UnsupportedError, UsageError
from ..model import RSA_BITS
from . import keyprotect
from .certs import KEY_FLAG_ENCRYPT, KEY_FLAG_SIGN, OpenPGPCertificate, OpenPGPSecretKey
from .keymaterial import public_material, secret_material
from .packets import (
    PK_ECDH,
    PK_ED25519,
    PK_EDDSA_LEGACY,
    PK_MLKEM768_X25519,
    PK_RSA,
    PK_X25519,
    PQ_SIG_ALGOS,
    TAG_PUBLIC_SUBKEY,
    TAG_SECRET_SUBKEY,
    TAG_SIGNATURE,
)
from .packets.header import Packet
from .packets.keys import PublicKeyPacket, fingerprint, serialize_public_key
from .packets.signature import (
    SIG_PRIMARY_BINDING,
    SIG_SUBKEY_BINDING,
    SP_CREATION_TIME,
    SP_EMBEDDED_SIGNATURE,
    SP_ISSUER_FINGERPRINT,
    SP_ISSUER_KEY_ID,
    SP_KEY_EXPIRATION,
    SP_KEY_FLAGS,
    SignaturePacket,
    Subpacket,
    serialize_signature,
)
from .sigs import SigningKey, key_signature_data, make_signature, verify_signature
from .tpk import KeyInfo, algorithm_name, created_time, newest_sig, public_of
from .tpk import split_tpk as _split_tpk

__all__ = [
    "KINDS",
    "add_encryption_subkey",
    "add_signing_subkey",
    "earliest_time",
    "subkey_kind",
    "without_subkeys",
]

#: The subkey kinds :func:`add_encryption_subkey` makes.
KINDS: Final = frozenset({"x25519", "rsa3072", "rsa4096", "mlkem768-x25519"})
#: Subpackets a re-issued binding must not copy from the one it replaces: made
#: afresh by ``make_signature`` (creation time, issuer) or set here (expiry).
_FRESH: Final = frozenset(
    {SP_CREATION_TIME, SP_ISSUER_FINGERPRINT, SP_ISSUER_KEY_ID, SP_KEY_EXPIRATION}
)
_MAX_U32: Final = (1 << 32) - 1
_KIND_NAMES: Final = "x25519, mlkem768-x25519, rsa3072 or rsa4096"


def subkey_kind(info: KeyInfo) -> str:
    """The kind name ("x25519", "rsa3072", "rsa4096", "mlkem768-x25519") matching an
    existing key; RSA keys of other sizes map to the nearest size we make (at least
    3072)."""
    name = algorithm_name(info.packet)
    if name in ("x25519", "ecdh-curve25519"):
        return "x25519"
    if name == "mlkem768-x25519":
        return name
    if name.startswith("rsa"):
        return "rsa4096" if int(name[3:] or 0) > 3072 else "rsa3072"
    raise UnsupportedError(f"cannot make a subkey like {name}")


def _new_subkey(
    kind: str, version: int, created: int
) -> tuple[PublicKeyPacket, object, bytes]:
    """(public subkey packet, private key, plain secret material)."""
    if kind in RSA_BITS:
        key = rsa.generate_private_key(65537, RSA_BITS[kind])
        return (
            PublicKeyPacket(version, created, PK_RSA, public_material(key)),
            key,
            secret_material(key),
        )
    if kind == "mlkem768-x25519":
        # RFC 9980 §3.5: the one post-quantum algorithm a v4 key may carry, with
        # the same raw fields in v4 and v6 keys.
        from ..core import mlkem

        pq = mlkem.generate()
        return (
            PublicKeyPacket(version, created, PK_MLKEM768_X25519, pq.public),
            pq,
            pq.secret_bytes(),
        )
    if kind != "x25519":
        raise UsageError(f"unknown key kind {kind!r}: use {_KIND_NAMES}")
    if version == 6:
        x = x25519.X25519PrivateKey.generate()
        return (
            PublicKeyPacket(6, created, PK_X25519, public_material(x)),
            x,
            secret_material(x),
        )
    from .keygen_v4 import cv25519_legacy_key  # v4 keys only

    legacy, material, secret = cv25519_legacy_key()
    return PublicKeyPacket(4, created, PK_ECDH, material), legacy, secret


def _secret_packet(public: PublicKeyPacket, material: bytes) -> Packet:
    """An unprotected Secret-Subkey packet (usage 0; v4 adds the checksum)."""
    body = serialize_public_key(public)
    _, tail = keyprotect.protect(
        material,
        None,
        version=public.version,
        packet_tag=TAG_SECRET_SUBKEY,
        public_body=body,
    )
    return Packet(TAG_SECRET_SUBKEY, body + b"\x00" + tail)


def _signer(key: OpenPGPSecretKey) -> tuple[SigningKey, PublicKeyPacket]:
    primary = key.public.primary
    private = key.private_key(primary.fingerprint)
    if isinstance(private, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        return private, primary.packet
    if primary.packet.algorithm in PQ_SIG_ALGOS:
        from ..core.mldsa import CompositeSigPrivateKey  # PQ keys only

        if isinstance(private, CompositeSigPrivateKey):
            return private, primary.packet
    # A GnuPG stub (primary kept offline) or an algorithm we cannot sign with.
    raise UnsupportedError(
        "the primary key cannot sign here, so no subkey can be bound to it"
    )


def _subkey_groups(packets: list[Packet]) -> dict[bytes, int]:
    """Fingerprint of each subkey -> index just past its last signature packet."""
    ends: dict[bytes, int] = {}
    current: bytes | None = None
    for index, packet in enumerate(packets):
        if packet.tag in (TAG_SECRET_SUBKEY, TAG_PUBLIC_SUBKEY):
            current = fingerprint(public_of(packet))
            ends[current] = index + 1
        elif packet.tag == TAG_SIGNATURE and current is not None:
            ends[current] = index + 1
        else:
            current = None
    return ends


def _latest_binding(
    packets: list[Packet], primary: PublicKeyPacket, sub: PublicKeyPacket
) -> SignaturePacket | None:
    """The newest binding of ``sub`` that verifies, as ``tpk`` chooses it."""
    data = key_signature_data(primary, subkey=sub)
    want = fingerprint(sub)
    for packet, sigs in _split_tpk(packets).subkeys:
        if fingerprint(public_of(packet)) == want:
            return newest_sig(
                [
                    s
                    for s in sigs
                    if s.sig_type == SIG_SUBKEY_BINDING
                    and verify_signature(s, primary, data)
                ]
            )
    return None


def _lifetime(sub: PublicKeyPacket, expires_at: int) -> Subpacket:
    # RFC 9580 §5.2.3.13: seconds after the key's creation; 0 would mean "never".
    seconds = min(max(expires_at - sub.created, 1), _MAX_U32)
    return Subpacket(SP_KEY_EXPIRATION, seconds.to_bytes(4, "big"))


def add_encryption_subkey(
    key: OpenPGPSecretKey,
    *,
    kind: str | None = None,
    created: int | None = None,
    expire_others_at: int | None = None,
) -> OpenPGPSecretKey:
    """Add a fresh encryption subkey to ``key`` and expire the older ones.

    The primary key, its fingerprint, User IDs and self-signatures are kept. The new
    subkey has the primary key's version and a binding signature (0x18) granting the
    encryption flags (0x0C). Every older encryption subkey usable at ``created`` gets a
    newer binding signature, a copy of its current one (same flags) plus a Key
    Expiration Time at ``expire_others_at`` (unless it already expires sooner).

    Args:
        key: the current secret key; its primary key must be able to sign.
        kind: "x25519", "rsa3072" or "rsa4096"; None: the kind of the newest usable
            encryption subkey (x25519 when there is none).
        created: creation time of the new subkey and of the new signatures (seconds
            since the epoch); default the clock. Must be later than every existing
            subkey's creation and self-signature, so the new ones are the newest.
        expire_others_at: when the older encryption subkeys stop being valid for new
            mail; default ``created`` (at once: senders holding the updated
            certificate use only the new subkey).

    Returns:
        The updated key; ``.public`` is the certificate to publish. Its secrets are
        unprotected in memory, as for any loaded key: ``export(passphrase=...)``
        protects them again. Decryption keeps every subkey, expired ones included.

    Raises:
        UnsupportedError: the primary key cannot sign (e.g. a GnuPG offline stub),
            is expired or revoked at ``created``, or an existing key is of a kind
            we cannot copy.
        UsageError: an unknown kind, or ``created`` not later than the key's newest
            subkey or self-signature.
    """
    if not isinstance(key, OpenPGPSecretKey):
        raise UsageError("add_encryption_subkey() takes an OpenPGP secret key")
    cert = key.public
    signer, primary = _signer(key)
    packets, privates = key.unlocked_parts()
    newest_time = _newest_time(packets, cert.subkeys)
    when = max(int(time.time()), newest_time + 1) if created is None else created
    if when <= newest_time:
        raise UsageError(
            "the new subkey must be created after the key's newest subkey and "
            "self-signature"
        )
    if not cert.primary.usable(when):
        # A subkey bound to an expired or revoked primary key is never used.
        raise UnsupportedError(
            "the primary key is expired or revoked: it cannot take a new subkey"
        )
    expire_at = when if expire_others_at is None else expire_others_at
    current = [
        k
        for k in cert.encryption_keys(now=when)
        if k.fingerprint != cert.primary.fingerprint
    ]
    if kind is None:
        kind = subkey_kind(current[0]) if current else "x25519"
    if kind == "mldsa65-ed25519":
        raise UsageError(
            "kind mldsa65-ed25519 is a primary key, and a rotation keeps the primary "
            "key: rotate to mlkem768-x25519 for a post-quantum subkey"
        )
    if kind not in KINDS:
        raise UsageError(f"unknown key kind {kind!r}: use {_KIND_NAMES}")
    sub, private, material = _new_subkey(kind, cert.version, when)

    # Re-bind the older encryption subkeys with an expiry, newest binding last.
    ends = _subkey_groups(packets)
    inserts: list[tuple[int, Packet]] = []
    for info in current:
        if info.expires is not None and info.expires <= expire_at:
            continue
        old = _latest_binding(packets, primary, info.packet)
        if old is None or (info.flags & KEY_FLAG_SIGN):
            continue
        kept = [s for s in old.hashed if s.type not in _FRESH]
        binding = make_signature(
            signer,
            primary,
            SIG_SUBKEY_BINDING,
            key_signature_data(primary, subkey=info.packet),
            [*kept, _lifetime(info.packet, expire_at)],
            created=when,
        )
        sig_packet = Packet(TAG_SIGNATURE, serialize_signature(binding))
        inserts.append((ends[info.fingerprint], sig_packet))
    for index, packet in sorted(inserts, key=lambda t: t[0], reverse=True):
        packets.insert(index, packet)

    binding = make_signature(
        signer,
        primary,
        SIG_SUBKEY_BINDING,
        key_signature_data(primary, subkey=sub),
        [Subpacket(SP_KEY_FLAGS, bytes((KEY_FLAG_ENCRYPT,)), True)],
        created=when,
    )
    packets += [
        _secret_packet(sub, material),
        Packet(TAG_SIGNATURE, serialize_signature(binding)),
    ]
    privates[fingerprint(sub)] = private
    return OpenPGPSecretKey(OpenPGPCertificate(packets), privates, packets)


def _new_signing_subkey(
    version: int, created: int
) -> tuple[PublicKeyPacket, ed25519.Ed25519PrivateKey, bytes]:
    """(public subkey packet, private key, plain secret material) of an Ed25519
    signing subkey: algorithm 27 in a v6 key, EdDSALegacy (22) in a v4 one."""
    if version == 6:
        private = ed25519.Ed25519PrivateKey.generate()
        return (
            PublicKeyPacket(6, created, PK_ED25519, public_material(private)),
            private,
            secret_material(private),
        )
    from .keygen_v4 import eddsa_legacy_key  # v4 keys only

    legacy, material, secret = eddsa_legacy_key()
    return PublicKeyPacket(4, created, PK_EDDSA_LEGACY, material), legacy, secret


def _signing_binding(
    signer: SigningKey,
    primary: PublicKeyPacket,
    sub: PublicKeyPacket,
    sub_private: object,
    hashed: list[Subpacket],
    created: int,
) -> Packet:
    """A subkey binding (0x18) of signing subkey ``sub`` with ``hashed``, embedding
    a fresh primary key binding signature (0x19) made by the subkey itself (RFC
    9580 §5.2.1.9, §5.2.3.34): without it no reader takes the subkey's signatures."""
    if not isinstance(sub_private, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        raise UnsupportedError("the signing subkey cannot make its back-signature")
    data = key_signature_data(primary, subkey=sub)
    back = make_signature(
        sub_private, sub, SIG_PRIMARY_BINDING, data, [], created=created
    )
    embedded = Subpacket(SP_EMBEDDED_SIGNATURE, serialize_signature(back))
    binding = make_signature(
        signer, primary, SIG_SUBKEY_BINDING, data, [*hashed, embedded], created=created
    )
    return Packet(TAG_SIGNATURE, serialize_signature(binding))


def add_signing_subkey(
    key: OpenPGPSecretKey, *, created: int, expire_others_at: int | None = None
) -> OpenPGPSecretKey:
    """Add a fresh Ed25519 signing subkey to ``key`` and expire the older ones
    (``key`` unchanged when its primary key is post-quantum, ML-DSA+EdDSA).

    The new subkey (of the primary key's version) is bound with the signing flag
    (0x02) and its back-signature; it is the newest signing subkey, which
    ``signing.signing_key`` prefers over the primary key. Every older signing
    subkey usable at ``created`` whose secret is in ``key`` gets a newer binding
    with a Key Expiration Time at ``expire_others_at`` (default ``created``) and
    a fresh back-signature; signatures it made before then stay good (a verifier
    judges a key at the signature's creation time).

    Args:
        key: the current secret key; its primary key must be able to sign.
        created: creation time of the subkey and of the new signatures; not
            earlier than the key's newest subkey or self-signature.

    Raises:
        UnsupportedError: the primary key cannot sign, or is expired or revoked.
        UsageError: ``created`` is earlier than the key's newest part.
    """
    if not isinstance(key, OpenPGPSecretKey):
        raise UsageError("add_signing_subkey() takes an OpenPGP secret key")
    cert = key.public
    signer, primary = _signer(key)
    if primary.algorithm in PQ_SIG_ALGOS:
        # A post-quantum primary key keeps signing itself: an Ed25519 subkey
        # would lower every later signature to a classic one.
        return key
    packets, privates = key.unlocked_parts()
    if created < _newest_time(packets, cert.subkeys):
        raise UsageError(
            "the new subkey must not predate the key's newest subkey or self-signature"
        )
    if not cert.primary.usable(created):
        raise UnsupportedError(
            "the primary key is expired or revoked: it cannot take a new subkey"
        )
    expire_at = created if expire_others_at is None else expire_others_at
    ends = _subkey_groups(packets)
    inserts: list[tuple[int, Packet]] = []
    for info in cert.subkeys:
        old_private = privates.get(info.fingerprint)
        if not (info.flags & KEY_FLAG_SIGN and info.usable(created)):
            continue
        if not isinstance(old_private, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
            continue  # no secret here (a stub), or one we cannot sign with
        if info.expires is not None and info.expires <= expire_at:
            continue
        old = _latest_binding(packets, primary, info.packet)
        if old is None:
            continue
        kept = [s for s in old.hashed if s.type not in _FRESH | {SP_EMBEDDED_SIGNATURE}]
        kept.append(_lifetime(info.packet, expire_at))
        rebound = _signing_binding(
            signer, primary, info.packet, old_private, kept, created
        )
        inserts.append((ends[info.fingerprint], rebound))
    for index, packet in sorted(inserts, key=lambda t: t[0], reverse=True):
        packets.insert(index, packet)
    sub, private, material = _new_signing_subkey(cert.version, created)
    flags = [Subpacket(SP_KEY_FLAGS, bytes((KEY_FLAG_SIGN,)), True)]
    packets += [
        _secret_packet(sub, material),
        _signing_binding(signer, primary, sub, private, flags, created),
    ]
    privates[fingerprint(sub)] = private
    return OpenPGPSecretKey(OpenPGPCertificate(packets), privates, packets)


def _newest_time(packets: list[Packet], subkeys: tuple[KeyInfo, ...]) -> int:
    """The latest creation time of any subkey or self-signature in the key."""
    parsed = _split_tpk(packets)
    times = [k.packet.created for k in subkeys]
    times += [created_time(s) for s in parsed.direct]
    times += [created_time(s) for _, sigs in parsed.uids for s in sigs]
    times += [created_time(s) for _, sigs in parsed.subkeys for s in sigs]
    return max(times, default=0)


def earliest_time(key: OpenPGPSecretKey) -> int:
    """The earliest ``created`` :func:`add_encryption_subkey` accepts for ``key``."""
    packets, _ = key.unlocked_parts()
    return _newest_time(packets, key.public.subkeys) + 1


def without_subkeys(
    key: OpenPGPSecretKey, fingerprints: set[bytes]
) -> OpenPGPSecretKey:
    """A copy of ``key`` without the subkeys named by ``fingerprints`` (packets,
    bindings and secrets), e.g. to stop a revoked subkey from opening mail."""
    packets, privates = key.unlocked_parts()
    kept: list[Packet] = []
    dropping = False
    for packet in packets:
        if packet.tag in (TAG_SECRET_SUBKEY, TAG_PUBLIC_SUBKEY):
            dropping = fingerprint(public_of(packet)) in fingerprints
        elif packet.tag != TAG_SIGNATURE:
            dropping = False
        if not dropping:
            kept.append(packet)
    for fpr in fingerprints:
        privates.pop(fpr, None)
    return OpenPGPSecretKey(OpenPGPCertificate(kept), privates, kept)
