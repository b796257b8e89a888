"""How each key format rotates.

* X.509: a new key pair and a new self-issued certificate (there is nothing to extend:
  an X.509 certificate binds exactly one key). An X25519 identity's signing key
  rotates with it: keygen makes a new Ed25519 signing certificate, which issues the
  new X25519 one, and both go into the version's key file. An RSA key signs with
  itself.
* OpenPGP, the standard way (RFC 9580 §5.2.3.13, §10.1; ``openpgp/rotate.py``): keep
  the primary key and its fingerprint, add a fresh encryption subkey of the primary's
  version with a new subkey binding signature (type 0x18), and re-bind the old
  encryption subkey with a Key Expiration Time at the rotation time so senders stop
  using it; reported as ``method="new-subkey"``. The new key holds old and new
  subkeys, so it alone opens old mail. Correspondents fetch the updated certificate
  (``e2ee-mail keyring export``); until they do they keep encrypting to the old
  subkey, which still decrypts. Only when no subkey can be added (the primary key
  cannot sign, e.g. a GnuPG offline stub) does rotation fall back to a **new key**
  (new primary, new fingerprint) of the same key version, ``method="new-key"``.
  Signing rotates with it: a fresh Ed25519 signing subkey (EdDSALegacy in a v4
  key) is bound with its primary key binding back-signature (RFC 9580 §5.2.1.9),
  and older signing subkeys expire at the rotation time, so the new version signs
  with the new subkey (``openpgp.signing.signing_key`` takes the newest signing
  subkey before the primary key). Signatures made before keep verifying: with the
  old version's certificate, which the keyring keeps, and with the new one, since
  a signature is judged at its creation time. A primary key that certifies and
  signs keeps its flags (certifying is what it is kept for; readers check the
  signatures it made).

The keyring (``keys/ring.py``) records the result; this module only makes keys.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Final, Literal, TypeGuard

from .. import _keys_api
from ..errors import UnsupportedError, UsageError
from ..model import KEY_KINDS, KeyFormat, KeyKind, SecretKey
from ..openpgp.certs import OpenPGPSecretKey
from ..openpgp.rotate import add_encryption_subkey, add_signing_subkey, earliest_time

__all__ = ["Rotated", "is_kind", "rotate_key"]

RotationMethod = Literal["new-key", "new-subkey"]
_KINDS: Final = frozenset(KEY_KINDS)
_CN: Final = re.compile(r"(?:^|,)CN=((?:[^,\\]|\\.)*)")


@dataclasses.dataclass(frozen=True, slots=True)
class Rotated:
    """The outcome of one rotation.

    Attributes:
        key: the new secret key (for "new-subkey": the updated key holding old and
            new encryption subkeys).
        previous_expires: when the previous key stops being valid for new mail, when
            the rotation set such an expiry; else None.
        method: "new-key" or "new-subkey".
    """

    key: SecretKey = dataclasses.field(repr=False)
    previous_expires: dt.datetime | None
    method: RotationMethod


def is_kind(name: str) -> TypeGuard[KeyKind]:
    """Whether ``name`` is a key kind that :func:`e2ee_mail.generate_key` takes."""
    return name in _KINDS


def user_id_for(identity: str, previous: SecretKey | None) -> str:
    """The user ID for a new key: the previous key's when it names the same address
    in "Name <addr>" form, else "local <addr>"."""
    name = identity.partition("@")[0]
    if previous is not None:
        for uid in previous.public.user_ids:
            if uid.lower().endswith(f"<{identity}>"):
                return uid
            # X.509 user IDs are RFC 4514 subjects: keep the common name.
            cn = _CN.search(uid)
            if cn and identity in (a.lower() for a in previous.public.user_ids):
                name = cn.group(1).strip() or name
                break
    return f"{name} <{identity}>"


Profile = Literal["rfc9580", "rfc4880"]


def _generate_key(
    uid: str, format: KeyFormat, kind: KeyKind, profile: Profile = "rfc9580"
) -> SecretKey:
    return _keys_api.generate_key(uid, format=format, kind=kind, profile=profile)


def profile_of(previous: SecretKey | None) -> Profile:
    """Keep an OpenPGP identity on its key version: a v4 key (RFC 4880, for GnuPG
    2.2 correspondents) rotates to a v4 key, anything else to v6 (RFC 9580)."""
    version = getattr(previous.public, "version", 6) if previous is not None else 6
    return "rfc4880" if version == 4 else "rfc9580"


def rotate_key(
    previous: SecretKey | None,
    identity: str,
    *,
    format: KeyFormat,
    kind: KeyKind,
    now: dt.datetime,
) -> Rotated:
    """Make the next key version of ``identity``.

    Args:
        previous: the current active key of that format, or None for a first key.
        identity: the (normalized) email address.
        format: "x509" or "openpgp".
        kind: the algorithm of the new key.
        now: the rotation time (used for expiry of the previous key).

    Returns:
        The new key and how it was made.
    """
    if not is_kind(kind):
        raise UsageError(
            f"unknown key kind {kind!r}: use x25519, mlkem768-x25519, rsa3072 or "
            "rsa4096"
        )
    uid = user_id_for(identity, previous)
    if format == "openpgp" and previous is not None:
        return _rotate_openpgp(previous, kind, now, uid)
    return Rotated(_generate_key(uid, format, kind), None, "new-key")


def _rotate_openpgp(
    previous: SecretKey, kind: KeyKind, now: dt.datetime, uid: str
) -> Rotated:
    """OpenPGP rotation: a new encryption subkey and a new signing subkey on the
    same primary key, the old ones expiring at once; a new key only when the
    primary cannot bind a subkey."""
    if isinstance(previous, OpenPGPSecretKey):
        # The subkey and its signatures must be newer than everything in the key
        # (readers take the newest binding), even if ``now`` is earlier.
        created = max(int(now.timestamp()), earliest_time(previous))
        try:
            key = add_encryption_subkey(
                previous, kind=kind, created=created, expire_others_at=created
            )
            key = add_signing_subkey(key, created=created)
        except UnsupportedError:
            pass
        else:
            expires = dt.datetime.fromtimestamp(created, dt.UTC)
            return Rotated(key, expires, "new-subkey")
    return Rotated(
        _generate_key(uid, "openpgp", kind, profile_of(previous)), None, "new-key"
    )
