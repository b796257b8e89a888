"""The keyring: per identity, an ordered history of key versions, stored on disk.

Each identity (an email address) has, per key format (x509, openpgp), versions
numbered 1, 2, ... with a fingerprint, creation and expiry times, a state and the
secret key. States:

* ``active`` — the current key: :meth:`Keyring.recipients` encrypts to it; at most one
  per identity and format.
* ``decrypt-only`` — superseded by a rotation; still opens old mail.
* ``retired`` — taken out of service (e.g. once stored mail was re-wrapped to the
  new key): kept, and opens mail only when asked for
  (``Keyring.decryption_keys(include_retired=True)``, ``e2ee-mail decrypt
  --keyring DIR --include-retired``) and in the mailbox re-key, which exists to move
  such mail to the current key.
* ``revoked`` — compromised or withdrawn: never used again, kept only as history.

Versions are named by fingerprint; an OpenPGP version also by its encryption
subkey's fingerprint and by the 16-hex-digit key IDs of both.

OpenPGP rotation adds a subkey (``keys/rotation.py``), so such versions share the
primary fingerprint; each version also records the encryption subkey it brought
(``KeyVersion.subkey``, the manifest's optional "subkey" field).

Storage is ``keys/ringstore.py``: a checksummed manifest and one file per key,
atomic writes, 0600/0700, writers serialized with flock(2). Every mutation re-reads
the manifest under the exclusive lock, so two processes adding keys both win. Key
files carry the ``SecretKey.export()`` bytes, passphrase-protected when the keyring
has a passphrase. Not provided: protection of the manifest's metadata (identities,
fingerprints, dates are in clear, integrity-checked only against accidents — the
checksum is not a MAC), and publishing of revocations to the world.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import Error, UsageError
from ..model import Certificate, KeyFormat, KeyKind, SecretKey, passphrase_bytes
from . import audit, ringload, rotation
from .ringstore import KeyringError, Store
from .versions import (
    FORMATS,
    STATES,
    KeyState,
    KeyVersion,
    RotationPolicy,
    decryption_view,
    encryption_subkey,
    key_names,
    normalize_identity,
    normalize_key_name,
    to_entry,
    to_utc,
)

__all__ = [
    "KeyState",
    "KeyVersion",
    "Keyring",
    "KeyringError",
    "RotationPolicy",
    "normalize_identity",
]


class Keyring:
    """A keyring directory: per identity (an email address) and key format, the
    versions of its key. Open with :meth:`Keyring.open`.

    Each version is ``active`` (encrypted to and opens mail; one per identity and
    format), ``decrypt-only`` (superseded by a rotation; opens mail), ``retired``
    (kept; opens mail only when :meth:`decryption_keys` is asked for retired
    versions) or ``revoked`` (never used again). :meth:`rotate` makes a new active
    version, :meth:`recipients` gives the certificates to encrypt to,
    :meth:`decryption_keys` the keys that open mail.
    """

    __slots__ = ("_cache", "_passphrase", "_serial", "_store", "_versions")

    def __init__(self, store: Store, passphrase: bytes | None) -> None:
        self._store = store
        self._passphrase = passphrase
        self._cache: dict[str, SecretKey] = {}
        self._versions: dict[str, list[KeyVersion]] = {}
        self._serial = 0

    def __repr__(self) -> str:
        return f"<Keyring {os.fspath(self.path)!r} identities={len(self._versions)}>"

    @property
    def path(self) -> Path:
        """The keyring directory."""
        return self._store.root

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], *, passphrase: str | bytes | None = None
    ) -> Keyring:
        """Open the keyring in directory ``path``, creating it when absent.

        Args:
            path: the keyring directory (created 0700 when missing).
            passphrase: protects every secret key file; required to open a keyring
                created with one.

        Raises:
            KeyringError: the store is damaged, half-written or not a keyring.
            PassphraseError: the passphrase is missing or wrong.
        """
        secret = passphrase_bytes(passphrase)
        ring = cls(Store(Path(path)), secret)
        store = ring._store
        if not store.exists():
            store.make_root()
            # Initialize under the lock, so that two processes opening a new keyring
            # at once create it once.
            started = time.time()
            with store.locked(exclusive=True):
                if not store.exists():
                    # A first open killed before its manifest landed left a
                    # temporary file: not a reason to refuse the directory.
                    store.sweep(started)
                    store.check_creatable()
                    store.create_dirs()
                    body = {"protected": secret is not None, "next_serial": 1}
                    store.write_manifest({**body, "identities": {}})
        with store.locked(exclusive=False):
            ring._load(store.read_manifest())
        return ring

    def reload(self) -> None:
        """Re-read the store (another process may have changed it)."""
        with self._store.locked(exclusive=False):
            self._load(self._store.read_manifest())

    # -- reading --------------------------------------------------------------

    def identities(self) -> tuple[str, ...]:
        """Every identity with at least one version, sorted."""
        return tuple(sorted(self._versions))

    def history(self, identity: str) -> tuple[KeyVersion, ...]:
        """All versions of ``identity``, oldest first (every format)."""
        return tuple(self._versions_of(normalize_identity(identity)))

    def recipients(
        self, identity: str, *, format: KeyFormat | None = None
    ) -> tuple[Certificate, ...]:
        """The active certificates of ``identity`` (one per format), for
        :func:`e2ee_mail.encrypt`; filter with ``format`` when it has both."""
        return tuple(
            v.certificate
            for v in self._versions_of(normalize_identity(identity))
            if v.state == "active" and format in (None, v.format)
        )

    def signing_keys(
        self, identity: str, *, format: KeyFormat | None = None
    ) -> tuple[SecretKey, ...]:
        """The keys that sign for ``identity`` now (one per format whose active
        version can sign), to pass as a signer: an X.509 X25519 version's Ed25519
        signing key, else the version's key itself (an RSA certificate signs
        with its own key, an OpenPGP key with its primary key or a signing
        subkey). Filter with ``format`` when it has both."""
        return tuple(
            v.key.signing_key
            for v in self._versions_of(normalize_identity(identity))
            if v.state == "active"
            and format in (None, v.format)
            and v.signing is not None
        )

    def decryption_keys(
        self, identity: str | None = None, *, include_retired: bool = False
    ) -> tuple[SecretKey, ...]:
        """The keys that open mail: active and decrypt-only versions (active first,
        then newest first), of ``identity`` or of every identity.

        Args:
            identity: one identity's keys only; None: every identity's.
            include_retired: also the retired versions (to read or re-key mail
                that still needs them). Revoked versions are never included, and
                neither are their OpenPGP subkeys inside newer versions' keys.
        """
        idents = self.identities() if identity is None else (identity,)
        chosen: list[KeyVersion] = []
        excluded: list[KeyVersion] = []
        for ident in idents:
            for v in self._versions_of(normalize_identity(ident)):
                if v.state == "revoked" or (
                    v.state == "retired" and not include_retired
                ):
                    excluded.append(v)
                    continue
                chosen.append(v)
        chosen.sort(key=lambda v: (v.state != "active", -v.serial))
        return decryption_view(chosen, excluded)

    def due(self, policy: RotationPolicy, now: dt.datetime) -> tuple[str, ...]:
        """Identities whose active key (any format) is at least ``policy.max_age``
        old or has expired at ``now`` (:attr:`KeyVersion.valid_until`: the
        keyring's expiry or the certificate's own, e.g. an X.509 notAfter);
        sorted."""
        when = to_utc(now)
        found = set()
        for ident, versions in self._versions.items():
            for v in versions:
                if v.state != "active":
                    continue
                until = v.valid_until
                expired = until is not None and until <= when
                if expired or when - v.created >= policy.max_age:
                    found.add(ident)
        return tuple(sorted(found))

    # -- writing --------------------------------------------------------------

    def add(
        self,
        identity: str,
        key: SecretKey,
        *,
        state: KeyState = "active",
        created: dt.datetime | None = None,
        expires: dt.datetime | None = None,
    ) -> KeyVersion:
        """Add ``key`` as the newest version of ``identity``.

        An ``active`` addition demotes the previous active key of the same format to
        ``decrypt-only``.

        Raises:
            UsageError: bad state, or the fingerprint is already in this history.
        """
        if not isinstance(key, SecretKey):
            raise UsageError("add() takes a SecretKey (see e2ee_mail.load_key)")
        if state not in STATES:
            raise UsageError(f"unknown key state {state!r}")
        ident = normalize_identity(identity)
        with self._writing():
            subkey = encryption_subkey(key)
            for v in self._versions_of(ident, must_exist=False):
                # An OpenPGP key updated with a new subkey keeps its fingerprint:
                # it is a new version when it encrypts to a different subkey.
                if (v.fingerprint, v.subkey, v.format) == (
                    key.fingerprint,
                    subkey,
                    key.format,
                ):
                    raise UsageError(f"{ident} already has key {key.fingerprint}")
            when = None if expires is None else to_utc(expires)
            added = self._append(ident, key, state, to_utc(created), when)
        audit.record(
            "key.add",
            f"added {added.format} key v{added.version} for {ident} ({state})",
            identity=ident,
            fingerprints=(added.fingerprint,),
            key_format=added.format,
            state=state,
        )
        return added

    def rotate(
        self,
        identity: str,
        *,
        format: KeyFormat | None = None,
        kind: KeyKind | None = None,
        now: dt.datetime | None = None,
    ) -> KeyVersion:
        """Create a new active version for ``identity``; the previous active version
        of that format becomes ``decrypt-only``. On an unknown identity this creates
        its first version. See ``keys/rotation.py`` for how each format rotates.

        Args:
            identity: the email address.
            format: "x509" or "openpgp"; defaults to the identity's newest format.
            kind: "x25519", "rsa3072" or "rsa4096"; defaults to the previous
                version's algorithm, else x25519.
            now: the creation time (defaults to the clock).

        Returns:
            The new active version.

        Raises:
            UsageError: no format for an unknown identity, or a bad format/kind.
            KeyringError: the store is damaged (nothing is written then).
        """
        ident = normalize_identity(identity)
        when = to_utc(now)
        with self._writing():
            versions = self._versions_of(ident, must_exist=False)
            if format is None:
                if not versions:
                    raise UsageError(f"{ident} has no keys yet: give format=")
                format = versions[-1].format
            if format not in FORMATS:
                raise UsageError(f"unknown key format {format!r}: use x509 or openpgp")
            previous = self._active(ident, format)
            prev_kind = previous.algorithm if previous is not None else "x25519"
            chosen = kind or (prev_kind if rotation.is_kind(prev_kind) else "x25519")
            rotated = rotation.rotate_key(
                previous.key if previous is not None else None,
                ident,
                format=format,
                kind=chosen,
                now=when,
            )
            if previous is not None:
                self._replace(
                    previous,
                    state="decrypt-only",
                    expires=rotated.previous_expires or previous.expires,
                )
            added = self._append(ident, rotated.key, "active", when, None)
        audit.record(
            "key.rotate",
            f"rotated {format} key of {ident} to v{added.version} ({rotated.method})",
            identity=ident,
            fingerprints=tuple(
                v.fingerprint for v in (previous, added) if v is not None
            ),
            key_format=format,
            method=rotated.method,
            new_fingerprint=added.fingerprint,
            old_fingerprint=previous.fingerprint if previous else None,
            new_subkey=added.subkey,
            old_subkey=previous.subkey if previous else None,
        )
        return added

    def retire(
        self, identity: str, fingerprint: str | None = None
    ) -> tuple[KeyVersion, ...]:
        """Retire the version(s) named ``fingerprint``, or with ``None`` every
        ``decrypt-only`` version of ``identity``: they stop opening mail unless
        asked for (:meth:`decryption_keys`).

        ``fingerprint`` is a fingerprint or, for OpenPGP, a 16-hex-digit key ID
        (spaces and a leading "0x" are ignored). An encryption subkey's fingerprint
        or key ID names one version; the primary key's names every version made by
        subkey rotation from that key.

        Returns:
            The retired versions.

        Raises:
            UsageError: unknown identity, or no version with that fingerprint that
                is not revoked.
        """
        return self._set_state(identity, fingerprint, "retired")

    def revoke(self, identity: str, fingerprint: str) -> tuple[KeyVersion, ...]:
        """Revoke the version(s) named ``fingerprint``: never used again, neither
        to encrypt nor to decrypt (the key file stays, as history). ``fingerprint``
        is a fingerprint, a key ID or a subkey's, as in :meth:`retire`; a revoked
        OpenPGP subkey is also left out of newer versions' keys in
        :meth:`decryption_keys`.

        Returns:
            The revoked versions.

        Raises:
            UsageError: unknown identity or fingerprint.
        """
        if not fingerprint:
            raise UsageError("revoke() needs the fingerprint of the key to revoke")
        return self._set_state(identity, fingerprint, "revoked")

    # -- internals --------------------------------------------------------------

    def _versions_of(self, ident: str, *, must_exist: bool = True) -> list[KeyVersion]:
        versions = self._versions.get(ident)
        if versions is None:
            if must_exist:
                raise UsageError(f"no identity {ident!r} in the keyring")
            return []
        return versions

    def _active(self, ident: str, format: str) -> KeyVersion | None:
        for v in reversed(self._versions_of(ident, must_exist=False)):
            if v.state == "active" and v.format == format:
                return v
        return None

    def _set_state(
        self, identity: str, fingerprint: str | None, state: KeyState
    ) -> tuple[KeyVersion, ...]:
        ident = normalize_identity(identity)
        fpr = normalize_key_name(fingerprint) if fingerprint else None
        with self._writing():
            targets = [
                v
                for v in self._versions_of(ident)
                if (fpr in key_names(v) if fpr else v.state == "decrypt-only")
                and v.state != "revoked"
            ]
            if fpr and not targets:
                raise UsageError(f"{ident} has no usable key {fpr}")
            changed = tuple(self._replace(v, state=state) for v in targets)
        if changed:
            audit.record(
                f"key.{'retire' if state == 'retired' else 'revoke'}",
                f"{state} {len(changed)} key version(s) of {ident}",
                identity=ident,
                fingerprints=tuple(v.fingerprint for v in changed),
                state=state,
            )
        return changed

    def _replace(self, old: KeyVersion, **changes: object) -> KeyVersion:
        new = dataclasses.replace(old, **changes)  # type: ignore[arg-type]
        versions = self._versions[old.identity]
        versions[versions.index(old)] = new
        return new

    def _append(
        self,
        ident: str,
        key: SecretKey,
        state: KeyState,
        created: dt.datetime,
        expires: dt.datetime | None,
    ) -> KeyVersion:
        if state == "active":
            current = self._active(ident, key.format)
            if current is not None:
                self._replace(current, state="decrypt-only")
        versions = self._versions.setdefault(ident, [])
        serial = self._serial
        self._serial += 1
        name = Store.key_file_name(serial)
        self._store.write_key_file(name, key.export(passphrase=self._passphrase))
        self._cache[name] = key
        number = 1 + sum(1 for v in versions if v.format == key.format)
        added = KeyVersion(
            identity=ident,
            format=key.format,
            version=number,
            serial=serial,
            fingerprint=key.fingerprint,
            algorithm=key.public.algorithm,
            created=created,
            expires=expires,
            state=state,
            key=key,
            subkey=encryption_subkey(key),
        )
        versions.append(added)
        return added

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Exclusive lock, fresh read, the caller's mutation, write-back.

        First the leftovers of writers killed earlier go (``Store.sweep``): each
        would otherwise stay forever, under a random name or a serial that the
        next key reuses.
        """
        store = self._store
        started = time.time()
        with store.locked(exclusive=True):
            self._load(store.read_manifest())
            store.sweep(started, self._serial)
            try:
                yield
                store.write_manifest(self._dump())
            except BaseException:
                # The in-memory view may be half-changed: restore it from disk.
                with contextlib.suppress(Error):
                    self._load(store.read_manifest())
                raise

    def _dump(self) -> dict[str, object]:
        return {
            "protected": self._passphrase is not None,
            "next_serial": self._serial,
            "identities": {
                ident: [to_entry(v) for v in versions]
                for ident, versions in sorted(self._versions.items())
            },
        }

    def _load(self, body: dict[str, object]) -> None:
        self._versions, self._serial = ringload.load(
            body, self._store, self._passphrase, self._cache
        )
