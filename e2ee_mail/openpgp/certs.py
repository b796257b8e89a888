"""OpenPGP certificates and secret keys (RFC 9580 §10.1, §10.2, §5.2.3.10).

Parses Transferable Public Keys and Transferable Secret Keys, v6 and v4: fingerprints
and key IDs, User IDs, expiry, revocation, preferences, and which keys may encrypt.
A subkey is used for encryption only if a binding signature by the primary key
verifies and grants an encryption key flag, and neither the primary key nor the
subkey is revoked or expired. Each subkey is judged on its own: one we cannot use
(an unknown algorithm, ElGamal, a bad binding, revoked, expired) is skipped, and the
reason is kept for ``repr``, ``inspect`` and the error when no encryption key is
left. A secret key whose secret part we cannot use (ElGamal, a GnuPG stub for a
smartcard) loads the others, and a message to that part fails naming why.
Secret keys: unprotected, or protected with any usage ``keyprotect`` reads (Argon2
+ AEAD for v6, §3.7.2.1 / §5.5.3); export protects v6 keys with Argon2 +
AES-256-OCB. Generation lives in ``keygen.py`` (v6, and the entry point for both
profiles) and ``keygen_v4.py`` (v4, the RFC 4880 profile).
Left out: third-party certifications (ignored), User Attributes (skipped), v3 keys.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Final

from ..errors import Error, FormatError, KeyLoadError, PolicyError, UnsupportedError
from ..model import Certificate, KeyFormat, SecretKey
from ..policy import DEFAULT, Policy
from . import armor
from .keymaterial import private_from_material
from .packets import TAG_SECRET_KEY, TAG_SECRET_SUBKEY, TAG_SIGNATURE
from .packets.header import Packet, parse_packets, serialize_packet
from .packets.keys import PublicKeyPacket, fingerprint, parse_secret_key
from .packets.signature import (
    SIG_DIRECT_KEY,
    SIG_KEY_REVOCATION,
    SP_FEATURES,
    SP_PREFERRED_AEAD,
    SP_PREFERRED_SYMMETRIC,
    SP_PRIMARY_USER_ID,
    SignaturePacket,
)
from .sigs import key_signature_data, verify_signature
from .tpk import (
    ALGORITHM_NAMES,
    CERT_TYPES,
    ENCRYPT_ALGOS,
    FEATURE_SEIPDV1,
    FEATURE_SEIPDV2,
    KEY_FLAG_CERTIFY,
    KEY_FLAG_ENCRYPT,
    KEY_FLAG_SIGN,
    SIGNING_ALGOS,
    SKIP,
    KeyInfo,
    ParsedTPK,
    algorithm_name,
    algorithm_problem,
    created_time,
    defect,
    encryption_candidates,
    expiry,
    key_flags,
    newest_sig,
    ordered,
    public_of,
    public_packet,
    rejection,
    split_tpk,
    subkey_info,
    uid_addresses,
    validity_end,
)

if TYPE_CHECKING:
    import datetime

__all__ = [
    "FEATURE_SEIPDV1",
    "FEATURE_SEIPDV2",
    "KEY_FLAG_CERTIFY",
    "KEY_FLAG_ENCRYPT",
    "KEY_FLAG_SIGN",
    "KeyInfo",
    "OpenPGPCertificate",
    "OpenPGPSecretKey",
    "load_certificate",
    "load_key",
]


class OpenPGPCertificate(Certificate):
    """A parsed, self-signature-checked OpenPGP certificate (v4 or v6)."""

    __slots__ = (
        "_aead_prefs",
        "_aead_suites",
        "_binary",
        "_encryption",
        "_features",
        "_primary",
        "_subkeys",
        "_symmetric_prefs",
        "_uids",
        "_unreadable",
    )

    def __init__(self, packets: list[Packet]) -> None:
        parsed = split_tpk(packets)
        primary = public_of(parsed.primary)
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
                if s.sig_type in CERT_TYPES and verify_signature(s, primary, data)
            ]
            if valid:
                latest = newest_sig(valid)
                assert latest is not None
                uids.append(uid.decode("utf-8", "replace"))
                uid_sigs.append((bool(latest.subpacket(SP_PRIMARY_USER_ID)), latest))
        # RFC 9580 §5.2.3.10: preferences come from the direct-key signature (v6),
        # else from the primary User ID's self-signature.
        main = newest_sig(direct)
        if main is None and uid_sigs:
            main = max(uid_sigs, key=lambda t: (t[0], created_time(t[1])))[1]
        if main is None:
            raise KeyLoadError(_no_self_signature(primary, parsed))
        self._primary = KeyInfo(
            primary,
            fpr,
            key_flags(main),
            expiry(main, primary),
            revoked,
            True,
            algorithm_problem(primary),
        )
        self._uids = tuple(uids)
        features = main.subpacket(SP_FEATURES)
        self._features = features[0] if features else 0
        if primary.version == 6:
            # RFC 9580 §5.2.3.32: a v6 key implies SEIPDv2 whatever it lists.
            self._features |= FEATURE_SEIPDV2
        self._aead_prefs = main.subpacket(SP_PREFERRED_AEAD) or b""
        raw = self._aead_prefs
        self._aead_suites = tuple(
            (raw[i], raw[i + 1]) for i in range(0, len(raw) - 1, 2)
        )
        # encryption_keys() memo: (valid from, valid until, keys); see there.
        self._encryption: tuple[int, int, tuple[KeyInfo, ...]] | None = None
        self._symmetric_prefs = main.subpacket(SP_PREFERRED_SYMMETRIC) or b""
        subkeys: list[KeyInfo] = []
        unreadable: list[tuple[str, str]] = []
        for number, (packet, sigs) in enumerate(parsed.subkeys, start=1):
            try:
                subkeys.append(subkey_info(primary, packet, sigs))
            except (FormatError, UnsupportedError) as exc:
                # Not even its public part can be read (a v4 secret subkey of an
                # algorithm whose fields we cannot delimit, malformed material):
                # it has no fingerprint we could name, so it is named by position.
                unreadable.append((f"subkey #{number}", str(exc)))
        self._subkeys = tuple(subkeys)
        self._unreadable = tuple(unreadable)
        self._binary = _public_binary(packets)

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
        return algorithm_name(keys[0].packet)

    def export(self, *, armor: bool = True) -> bytes:
        if armor:
            return _armor(self._binary, "PUBLIC KEY BLOCK", crc=self.version == 4)
        return self._binary

    def __repr__(self) -> str:
        text = super().__repr__()
        skipped = self.skipped_subkeys()
        if not skipped:
            return text
        shown = "; ".join(f"{name}: {why}" for name, why in skipped)
        return f"{text[:-1]} skipped {shown}>"

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
        """Every subkey whose public part could be read, bound or not."""
        return self._subkeys

    def skipped_subkeys(self, now: int | None = None) -> tuple[tuple[str, str], ...]:
        """(subkey, reason) for every subkey skipped at ``now``: its algorithm,
        curve or material is one we cannot use, its binding does not verify, it
        is revoked or expired (tpk.defect), or it cannot be read at all. A subkey
        is named by its fingerprint (hex), or by its position when it has none.
        """
        when = int(time.time()) if now is None else now
        found = [
            (k.fingerprint.hex().upper(), reason)
            for k in self._subkeys
            if (reason := defect(k, when)) is not None
        ]
        return (*found, *self._unreadable)

    def encryption_rejections(self, now: int | None = None) -> tuple[str, ...]:
        """Why each key (primary and subkeys) is not an encryption key at ``now``,
        one line each, e.g. "subkey 0123...: ElGamal keys are not supported"; the
        keys that are encryption keys are left out."""
        when = int(time.time()) if now is None else now
        lines = []
        primary = self._primary
        reason = rejection(primary, when)
        if reason is not None:
            lines.append(f"primary key {_label(primary)}: {reason}")
        for key in self._subkeys:
            reason = rejection(key, when)
            if reason is not None:
                lines.append(f"subkey {_label(key)}: {reason}")
        lines += [f"{name}: {why}" for name, why in self._unreadable]
        return tuple(lines)

    @property
    def features(self) -> int:
        """The Features octet (RFC 9580 §5.2.3.32); v6 keys always imply SEIPDv2."""
        return self._features

    @property
    def supports_seipdv2(self) -> bool:
        """Whether the key holder advertises SEIPDv2."""
        return bool(self._features & FEATURE_SEIPDV2)

    @property
    def symmetric_preferences(self) -> bytes:
        """Cipher IDs preferred for SEIPDv1, best first (RFC 9580 §5.2.3.14)."""
        return bytes(self._symmetric_prefs)

    @property
    def aead_preferences(self) -> tuple[tuple[int, int], ...]:
        """(cipher, AEAD mode) pairs the key holder prefers, best first."""
        return self._aead_suites

    @property
    def expires(self) -> int | None:
        """When the primary key expires (seconds since the epoch), or None."""
        return self._primary.expires

    @property
    def revoked(self) -> bool:
        """Whether the primary key is revoked."""
        return self._primary.revoked

    @property
    def not_before(self) -> datetime.datetime:
        """The primary key's creation time (UTC)."""
        return _utc(self._primary.packet.created)

    @property
    def not_after(self) -> datetime.datetime | None:
        """The last moment the certificate has an encryption key (tpk.validity_end:
        the primary key's expiry, or the last encryption key's if earlier); None
        when nothing expires."""
        end = validity_end(self._primary, self._subkeys)
        return None if end is None else _utc(end)

    @property
    def emails(self) -> tuple[str, ...]:
        """The addresses of the self-signed User IDs, in order, without repeats."""
        return uid_addresses(self._uids)

    def encryption_keys(self, now: int | None = None) -> list[KeyInfo]:
        """The keys a message to this certificate is encrypted to, newest first.

        Only subkeys with a verified binding granting an encryption flag count
        (the primary key too, if its self-signature grants one).
        """
        return list(self._encryption_keys(now))

    def encryption_key(self, now: int | None = None) -> KeyInfo | None:
        """The newest of :meth:`encryption_keys` (the one a message is encrypted
        to), or None."""
        keys = self._encryption_keys(now)
        return keys[0] if keys else None

    def _encryption_keys(self, now: int | None) -> tuple[KeyInfo, ...]:
        when = int(time.time()) if now is None else now
        memo = self._encryption
        if memo is not None and memo[0] <= when < memo[1]:
            return memo[2]
        found = tuple(self._select_encryption_keys(when))
        # The answer depends on ``when`` only through expiry times (binding checks,
        # flags and revocations were settled at load: the certificate is
        # immutable). It holds from ``when`` until the next expiry after it, so it
        # is kept for that window instead of being recomputed per recipient per
        # message; an earlier ``now`` recomputes.
        until = min(
            (
                k.expires
                for k in (self._primary, *self._subkeys)
                if k.expires is not None and k.expires > when
            ),
            default=_FOREVER,
        )
        self._encryption = (when, until, found)
        return found

    def _select_encryption_keys(self, when: int) -> list[KeyInfo]:
        if not self._primary.usable(when):
            return []
        found = [
            k
            for k in (*self._subkeys, self._primary)
            if k.flags & KEY_FLAG_ENCRYPT
            and k.usable(when)
            and k.problem is None
            and k.packet.algorithm in ENCRYPT_ALGOS
        ]
        found.sort(key=lambda k: k.packet.created, reverse=True)
        return found

    def expired_encryption_key(self, now: int | None = None) -> KeyInfo | None:
        """When the certificate has no encryption key at ``now`` only because of
        expiry (of the primary key or of the encryption subkeys), the key a message
        would have been encrypted to: the newest one that expired last. Else None.
        """
        if self.encryption_key(now):
            return None
        keys = encryption_candidates(self._primary, self._subkeys)
        if not keys:
            return None
        return max(keys, key=lambda k: (k.expires or _FOREVER, k.packet.created))


#: "Never expires" for the encryption_keys() memo window.
_FOREVER: Final = 1 << 62


def _public_binary(packets: list[Packet]) -> bytes:
    """The certificate's packets, each secret key packet as its public form.

    A secret subkey whose public part cannot be read (an algorithm whose fields
    we cannot delimit) is left out with its signatures: they cannot be told
    apart from its secret fields, and without it they would bind nothing.
    """
    out = bytearray()
    dropping = False
    for packet in ordered(packets):
        if packet.tag == TAG_SIGNATURE and dropping:
            continue
        try:
            out += serialize_packet(*public_packet(packet))
            dropping = False
        except (FormatError, UnsupportedError):
            dropping = True
    return bytes(out)


def _label(key: KeyInfo) -> str:
    """A key as errors name it: fingerprint (hex) and algorithm."""
    name = ALGORITHM_NAMES.get(
        key.packet.algorithm, f"algorithm {key.packet.algorithm}"
    )
    return f"{key.fingerprint.hex().upper()} ({name})"


def _no_self_signature(primary: PublicKeyPacket, parsed: ParsedTPK) -> str:
    """Why no self-signature of ``primary`` counts, as the load error says it."""
    problem = algorithm_problem(primary)
    if problem is None and primary.algorithm not in SIGNING_ALGOS:
        name = ALGORITHM_NAMES[primary.algorithm]
        problem = f"{name} keys cannot sign"
    if problem is not None:
        return f"the primary key's self-signatures cannot be checked: {problem}"
    sigs = [*parsed.direct, *(s for _, uid_sigs in parsed.uids for s in uid_sigs)]
    if not sigs:
        return "the key has no self-signature (no User ID certification)"
    return "no self-signature of the key verifies (altered or damaged)"


def _utc(seconds: int) -> datetime.datetime:
    # Imported here: the CLI's start-up path never imports datetime.
    import datetime

    return datetime.datetime.fromtimestamp(seconds, datetime.UTC)


def _armor(binary: bytes, block: str, *, crc: bool = False) -> bytes:
    return bytes(armor.enarmor(binary, block, crc=crc))


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

    __slots__ = ("_decryption", "_keys", "_missing", "_packets", "_public")

    def __init__(
        self,
        public: OpenPGPCertificate,
        keys: dict[bytes, object],
        packets: list[Packet],
        missing: dict[bytes, str] | None = None,
    ) -> None:
        self._public = public
        # A copy: the key is immutable, so what it decrypts with is settled here.
        self._keys = dict(keys)
        # Fingerprint -> why that secret part cannot be used here.
        self._missing = dict(missing or {})
        # The key's packets with every secret packet unprotected (usage 0).
        self._packets = list(packets)
        infos = [*public.subkeys, public.primary]
        # Asked once per message: computed once per key.
        self._decryption = tuple(
            (k, self._keys[k.fingerprint])
            for k in infos
            if k.fingerprint in self._keys and k.packet.algorithm in ENCRYPT_ALGOS
        )

    @property
    def public(self) -> OpenPGPCertificate:
        return self._public

    def private_key(self, fpr: bytes) -> object | None:
        """The private key object of the (sub)key with fingerprint ``fpr``."""
        return self._keys.get(fpr)

    def unlocked_parts(self) -> tuple[list[Packet], dict[bytes, object]]:
        """Copies of the unprotected packets and of the fingerprint -> private key
        map, for building an updated key (``rotate.py``)."""
        return list(self._packets), dict(self._keys)

    def unusable_keys(self) -> list[tuple[KeyInfo, str]]:
        """(key, reason) for every encryption key of the certificate (by its key
        flags) whose secret part cannot decrypt here: an algorithm we do not
        handle (ElGamal), or a secret part that is not in this key (a GnuPG stub)
        or not readable here."""
        found = []
        for key in (*self._public.subkeys, self._public.primary):
            if not key.flags & KEY_FLAG_ENCRYPT:
                continue
            if key.fingerprint in self._keys and key.problem is None:
                continue
            reason = key.problem or self._missing.get(key.fingerprint)
            if reason is None:
                reason = "its secret part is not in this key"
            found.append((key, reason))
        return found

    def __repr__(self) -> str:
        text = super().__repr__()
        skipped = {name for name, _ in self._public.skipped_subkeys()}
        extra = [
            f"{key.fingerprint.hex().upper()}: {why}"
            for key, why in self.unusable_keys()
            if key.fingerprint.hex().upper() not in skipped
            and key.fingerprint in self._missing
        ]
        if not extra:
            return text
        return f"{text[:-1]} without the secret of {'; '.join(extra)}>"

    __str__ = __repr__

    def decryption_keys(self) -> list[tuple[KeyInfo, object]]:
        """(key, private key) pairs this key can decrypt with, subkeys first.

        Expired or revoked subkeys still decrypt: old mail must stay readable.
        """
        return list(self._decryption)

    def _export(self, passphrase: bytes | None, *, armor: bool) -> bytes:
        """The key's packets, each secret one protected with ``passphrase`` when
        it is not empty."""
        from . import keyprotect  # secret keys only: kept out of the CLI's start-up

        out = bytearray()
        for packet in self._packets:
            if (
                packet.tag in (TAG_SECRET_KEY, TAG_SECRET_SUBKEY)
                and passphrase
                and not _kept_as_is(packet)
            ):
                out += serialize_packet(
                    packet.tag, keyprotect.protect_packet(packet, passphrase)
                )
            else:
                out += serialize_packet(packet.tag, packet.body)
        if armor:
            return _armor(bytes(out), "PRIVATE KEY BLOCK", crc=self.public.version == 4)
        return bytes(out)


def load_key(
    data: bytes, passphrase: bytes | None, policy: Policy = DEFAULT
) -> OpenPGPSecretKey:
    """Load an OpenPGP secret key (binary or armored).

    Args:
        policy: bounds what unlocking a protected key may cost (Argon2).

    Raises:
        PassphraseError: protected and the passphrase is missing or wrong.
        PolicyError: its Argon2 parameters are beyond the policy's bounds.
        KeyLoadError: not a usable OpenPGP secret key.
    """
    packets = _packets(data)
    if not packets or packets[0].tag != TAG_SECRET_KEY:
        raise KeyLoadError("not an OpenPGP secret key (this may be a certificate)")
    try:
        public = OpenPGPCertificate(packets)
        keys: dict[bytes, object] = {}
        missing: dict[bytes, str] = {}
        plain: list[Packet] = []
        for packet in packets:
            if packet.tag in (TAG_SECRET_KEY, TAG_SECRET_SUBKEY):
                plain.append(_unlock(packet, passphrase, policy, keys, missing))
            elif packet.tag not in SKIP:
                plain.append(packet)
    except (KeyLoadError, PolicyError):
        raise
    except Error as exc:
        raise KeyLoadError(f"not a usable OpenPGP secret key: {exc}") from None
    return OpenPGPSecretKey(public, keys, plain, missing)


def _unlock(
    packet: Packet,
    passphrase: bytes | None,
    policy: Policy,
    keys: dict[bytes, object],
    missing: dict[bytes, str],
) -> Packet:
    """Unlock one secret key packet: its private key goes to ``keys``, or the
    reason it cannot be used to ``missing``; returns the packet to keep (rewritten
    unprotected when its material could be read).

    Raises:
        PassphraseError: protected and the passphrase is missing or wrong.
    """
    from . import keyprotect  # secret keys only: kept out of the CLI's start-up

    try:
        public, body, material = keyprotect.secret_material_of(
            packet, passphrase, policy
        )
    except UnsupportedError as exc:
        # A GnuPG stub (the secret kept offline or on a smartcard), a protection
        # we do not read, or an algorithm whose fields we cannot delimit: the
        # packet is kept as it is, and the key it holds does not decrypt here.
        fpr = _fingerprint_of(packet)
        if fpr is not None:
            missing[fpr] = f"its secret part cannot be used here: {exc}"
        return packet
    fpr = fingerprint(public)
    try:
        keys[fpr] = private_from_material(public, material)
    except UnsupportedError as exc:
        # An algorithm we do not handle (ElGamal, DSA, ECDSA, Ed448): the other
        # keys still decrypt, and this one is kept unprotected like them.
        missing[fpr] = str(exc)
    _, tail = keyprotect.protect(
        material,
        None,
        version=public.version,
        packet_tag=packet.tag,
        public_body=body,
    )
    return Packet(packet.tag, body + b"\x00" + tail)


def _fingerprint_of(packet: Packet) -> bytes | None:
    try:
        return fingerprint(public_of(packet))
    except Error:
        return None


def _kept_as_is(packet: Packet) -> bool:
    """Whether secret key ``packet`` was kept as loaded (a stub, or a protection or
    algorithm we do not read) rather than unprotected: it is exported as it is."""
    try:
        return parse_secret_key(packet.body).s2k_usage != 0
    except Error:
        return True
