"""The keyring's values: key versions, states, rotation policy, manifest entries.

Pure values and their JSON form; loading keys and touching the disk is
``keys/ring.py`` and ``keys/ringstore.py``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Final, Literal, TypeGuard, cast, get_args

from ..errors import UnsupportedError, UsageError
from ..model import Certificate, KeyFormat, SecretKey
from ..openpgp.certs import OpenPGPCertificate, OpenPGPSecretKey
from ..openpgp.packets import (
    PK_ECDSA,
    PK_ED448,
    PK_ED25519,
    PK_EDDSA_LEGACY,
)
from ..openpgp.packets.keys import PublicKeyPacket
from ..openpgp.rotate import without_subkeys
from ..openpgp.tpk import algorithm_name
from .ringstore import KeyringError

__all__ = [
    "FORMATS",
    "STATES",
    "Entry",
    "KeyState",
    "KeyVersion",
    "RotationPolicy",
    "decryption_view",
    "encryption_subkey",
    "holds_subkey",
    "key_names",
    "normalize_identity",
    "normalize_key_name",
    "parse_entry",
    "signing_key_of",
    "to_entry",
    "to_utc",
]

KeyState = Literal["active", "decrypt-only", "retired", "revoked"]
STATES: Final = frozenset(get_args(KeyState))
FORMATS: Final = frozenset(("x509", "openpgp"))
_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"


@dataclasses.dataclass(frozen=True, slots=True)
class RotationPolicy:
    """Rotate an identity's active key once it is ``max_age`` old (or expired)."""

    max_age: dt.timedelta

    def __post_init__(self) -> None:
        if self.max_age <= dt.timedelta(0):
            raise UsageError("RotationPolicy.max_age must be positive")


@dataclasses.dataclass(frozen=True, slots=True)
class KeyVersion:
    """One version of an identity's key. ``key`` never shows in repr.

    Attributes:
        identity: the email address.
        format: "x509" or "openpgp".
        version: 1, 2, ... per identity and format.
        serial: the store's number for the key file.
        fingerprint: the certificate fingerprint.
        algorithm: e.g. "x25519", "rsa3072".
        created: when the version was added (UTC).
        expires: when it stops being valid for new mail, if set.
        state: "active", "decrypt-only", "retired" or "revoked".
        key: the secret key.
        subkey: for OpenPGP, the fingerprint of the encryption subkey this version
            brought (versions made by subkey rotation share the primary
            ``fingerprint``); None for X.509.
    """

    identity: str
    format: KeyFormat
    version: int
    serial: int
    fingerprint: str
    algorithm: str
    created: dt.datetime
    expires: dt.datetime | None
    state: KeyState
    key: SecretKey = dataclasses.field(repr=False, compare=False)
    subkey: str | None = None

    @property
    def certificate(self) -> Certificate:
        """The public certificate of this version."""
        return self.key.public

    @property
    def signing(self) -> tuple[str, str] | None:
        """(fingerprint, algorithm) of the key that signs for this version, or
        None when it has none (see :func:`signing_key_of`)."""
        return signing_key_of(self.key)

    @property
    def valid_until(self) -> dt.datetime | None:
        """The earliest of :attr:`expires` and the certificate's own expiry: an
        X.509 certificate's notAfter, an OpenPGP primary key's or this version's
        encryption subkey's expiration time; None when none of them is set."""
        own = certificate_expires(self.key, self.subkey)
        times = [t for t in (self.expires, own) if t is not None]
        return min(times) if times else None


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    """A validated manifest entry (everything of a version but its key)."""

    format: KeyFormat
    version: int
    serial: int
    fingerprint: str
    algorithm: str
    created: dt.datetime
    expires: dt.datetime | None
    state: KeyState
    subkey: str | None = None


def encryption_subkey(key: SecretKey) -> str | None:
    """The fingerprint (hex, upper case) of the encryption subkey an OpenPGP key's
    certificate encrypts to now, or None (X.509, or no usable encryption subkey)."""
    public = key.public
    if not isinstance(public, OpenPGPCertificate):
        return None
    found = [
        k
        for k in public.encryption_keys()
        if k.fingerprint != public.primary.fingerprint
    ]
    return found[0].fingerprint.hex().upper() if found else None


def signing_key_of(key: SecretKey) -> tuple[str, str] | None:
    """(fingerprint, algorithm) of the key that signs for ``key``, read from the
    key itself (the manifest records nothing of it, so keyrings written before
    keys signed need no change), or None when none may sign now.

    X.509: the signing key (an X25519 key's Ed25519 companion, else the key
    itself) when its certificate's key usage allows signing mail (RFC 8550
    §4.4.2, §4.4.4). OpenPGP: the key that signs now, as signing chooses it
    (``openpgp.signing.signing_key``): the newest usable signing subkey with its
    back-signature (a rotated key's), else the primary key when its key flags
    allow signing (RFC 9580 §5.2.3.29).
    """
    public = key.public
    if isinstance(public, OpenPGPCertificate):
        from ..openpgp.signing import signing_key

        try:
            info, _ = signing_key(key)
        except UnsupportedError:
            return None
        return _hex(info.fingerprint), _signing_algorithm(info.packet)
    if public.format != "x509":
        return None
    # Imported here: a keyring of OpenPGP keys never loads the X.509 stack.
    from ..x509.certs import X509Certificate
    from ..x509.usage import signing_refusal

    try:
        cert = key.signing_key.public
    except UnsupportedError:
        return None
    if not isinstance(cert, X509Certificate) or signing_refusal(cert) is not None:
        return None
    return cert.fingerprint, cert.algorithm


#: The names of OpenPGP signing algorithms (RFC 9580 §9.1) as ``keyring list``
#: shows them; RSA keys are named with their size, as for encryption.
_SIGNING_NAMES: Final = {
    PK_ED25519: "ed25519",
    PK_ED448: "ed448",
    PK_EDDSA_LEGACY: "eddsa-legacy",
    PK_ECDSA: "ecdsa",
}


def _signing_algorithm(packet: PublicKeyPacket) -> str:
    return _SIGNING_NAMES.get(packet.algorithm) or algorithm_name(packet)


def certificate_expires(key: SecretKey, subkey: str | None) -> dt.datetime | None:
    """When ``key``'s certificate stops being valid for new mail, by its own
    content: the notAfter of an X.509 certificate (RFC 5280 §4.1.2.5); for OpenPGP
    the earlier of the primary key's and the encryption subkey ``subkey``'s Key
    Expiration Time (RFC 9580 §5.2.3.13); None when it never expires."""
    public = key.public
    if isinstance(public, OpenPGPCertificate):
        times = [public.expires]
        times += [k.expires for k in public.subkeys if _hex(k.fingerprint) == subkey]
        found = [t for t in times if t is not None]
        return dt.datetime.fromtimestamp(min(found), dt.UTC) if found else None
    if public.format != "x509":
        return None
    # Imported here: a keyring of OpenPGP keys never loads the X.509 stack.
    from cryptography import x509

    from ..x509.certs import X509Certificate

    if not isinstance(public, X509Certificate):
        return None
    # The certificate object keeps no dates of its own: read them from its DER.
    return x509.load_der_x509_certificate(public.der).not_valid_after_utc


def _hex(fingerprint: bytes) -> str:
    return fingerprint.hex().upper()


def normalize_key_name(name: str) -> str:
    """``name`` (a fingerprint or key ID as people write them: any case, spaces,
    an optional "0x") as the upper-case hex that :func:`key_names` holds."""
    if not isinstance(name, str):
        raise UsageError("a key is named by its fingerprint or key ID (str)")
    text = "".join(name.split()).upper()
    return text[2:] if text.startswith("0X") else text


def key_names(v: KeyVersion) -> frozenset[str]:
    """Every name that designates version ``v`` (upper-case hex): its fingerprint
    and, for OpenPGP, its encryption subkey's fingerprint and the 16-digit key IDs
    of both (RFC 9580 §5.5.4: the first 8 octets of a v6 fingerprint, the last 8
    of a v4 one). Versions made by subkey rotation share the primary names."""
    names = {v.fingerprint}
    public = v.key.public
    if isinstance(public, OpenPGPCertificate):
        names.add(public.primary.key_id.hex().upper())
        for k in public.subkeys:
            if _hex(k.fingerprint) == v.subkey:
                names.update((v.subkey, k.key_id.hex().upper()))
    return frozenset(names)


def holds_subkey(key: SecretKey, subkey: str) -> bool:
    """Whether OpenPGP ``key`` has a subkey with fingerprint ``subkey`` (hex)."""
    public = key.public
    return isinstance(public, OpenPGPCertificate) and any(
        k.fingerprint.hex().upper() == subkey for k in public.subkeys
    )


def decryption_view(
    chosen: Sequence[KeyVersion], excluded: Sequence[KeyVersion]
) -> tuple[SecretKey, ...]:
    """The keys of ``chosen``, without the OpenPGP subkeys that ``excluded``
    versions brought.

    After subkey rotation the newest key also holds every older subkey's secret (so
    it alone opens old mail); a revoked (or left-out retired) version must not keep
    opening mail through a newer version's copy of its subkey.
    """
    own = {v.subkey for v in chosen if v.subkey}
    drop: set[bytes] = set()
    for v in excluded:
        if v.format == "openpgp" and v.subkey and v.subkey not in own:
            with contextlib.suppress(ValueError):
                drop.add(bytes.fromhex(v.subkey))
    keys: list[SecretKey] = []
    for v in chosen:
        key = v.key
        if isinstance(key, OpenPGPSecretKey) and any(
            key.private_key(f) is not None for f in drop
        ):
            key = without_subkeys(key, drop)
        keys.append(key)
    return tuple(keys)


def normalize_identity(identity: str) -> str:
    """Return the lower-cased address of ``identity`` ("addr" or "Name <addr>")."""
    if not isinstance(identity, str):
        raise UsageError("identity must be an email address (str)")
    text = identity.strip()
    if text.endswith(">") and "<" in text:
        text = text[text.rindex("<") + 1 : -1].strip()
    local, at, domain = text.partition("@")
    if not (local and at and domain) or any(c.isspace() or c in "<>" for c in text):
        raise UsageError(f"identity {identity!r} is not an email address")
    return text.lower()


def to_utc(when: dt.datetime | None) -> dt.datetime:
    """``when`` (default: now) in UTC, whole seconds; naive times are refused."""
    value = when if when is not None else dt.datetime.now(dt.UTC)
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise UsageError("times must be timezone-aware (e.g. datetime.now(UTC))")
    return value.astimezone(dt.UTC).replace(microsecond=0)


def _iso(when: dt.datetime | None) -> str | None:
    return None if when is None else when.strftime(_TIME_FORMAT)


def _time(value: object, field: str) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise KeyringError(f"manifest field {field!r} is not a time")
    try:
        return dt.datetime.strptime(value, _TIME_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        raise KeyringError(f"manifest field {field!r} is not a time") from None


def to_entry(v: KeyVersion) -> dict[str, object]:
    """The manifest entry of ``v`` (JSON-ready; no key material). "subkey" is
    written only when set, so X.509 entries keep their original shape."""
    extra: dict[str, object] = {} if v.subkey is None else {"subkey": v.subkey}
    return {
        "format": v.format,
        "version": v.version,
        "serial": v.serial,
        "fingerprint": v.fingerprint,
        "algorithm": v.algorithm,
        "created": _iso(v.created),
        "expires": _iso(v.expires),
        "state": v.state,
        **extra,
    }


def _is_int(value: object) -> TypeGuard[int]:
    # JSON true/false parse as bool, which Python counts as int.
    return isinstance(value, int) and not isinstance(value, bool)


def parse_entry(ident: str, entry: object, next_serial: int) -> Entry:
    """Validate one manifest entry of ``ident``.

    Raises:
        KeyringError: any field missing or of the wrong type or range.
    """
    bad = KeyringError(f"the keyring manifest has a malformed entry for {ident}")
    if not isinstance(entry, dict):
        raise bad
    fmt, state, serial = entry.get("format"), entry.get("state"), entry.get("serial")
    fpr, alg = entry.get("fingerprint"), entry.get("algorithm")
    number = entry.get("version")
    subkey = entry.get("subkey")
    if (
        not isinstance(fmt, str)
        or fmt not in FORMATS
        or not isinstance(state, str)
        or state not in STATES
        or not _is_int(serial)
        or not 0 < serial < next_serial
        or not isinstance(fpr, str)
        or not isinstance(alg, str)
        or not _is_int(number)
        or not (subkey is None or isinstance(subkey, str))
    ):
        raise bad
    created = _time(entry.get("created"), "created")
    if created is None:
        raise bad
    return Entry(
        format=cast(KeyFormat, fmt),
        version=number,
        serial=serial,
        fingerprint=fpr,
        algorithm=alg,
        created=created,
        expires=_time(entry.get("expires"), "expires"),
        state=cast(KeyState, state),
        subkey=subkey,
    )
