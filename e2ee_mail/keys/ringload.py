"""Loading a keyring manifest: validate every entry and load every key it names.

A key file whose key does not carry the fingerprint and format its manifest entry
says (or lacks the OpenPGP encryption subkey the entry names) is reported (a swapped
or damaged file), never used. Entries without "subkey" (written before OpenPGP
subkey rotation) get it from their key.
"""

from __future__ import annotations

from .. import _keys_api
from ..errors import KeyLoadError, PassphraseError, UsageError
from ..model import SecretKey
from .ringstore import KeyringError, Store
from .versions import KeyVersion, encryption_subkey, holds_subkey, parse_entry

__all__ = ["load"]


# An indirection the unit tests may replace with an in-test fake.
def _load_key(data: bytes, passphrase: bytes | None) -> SecretKey:
    return _keys_api.load_key(data, passphrase)


def load(
    body: dict[str, object],
    store: Store,
    passphrase: bytes | None,
    cache: dict[str, SecretKey],
) -> tuple[dict[str, list[KeyVersion]], int]:
    """Validate a manifest body and load (or take from ``cache``) every key it
    names, checking each key file holds the fingerprint the manifest says.

    Returns:
        The versions per identity, and the next serial number.

    Raises:
        KeyringError: a malformed manifest, or a missing, damaged or swapped key
            file.
        PassphraseError: the passphrase is missing or wrong.
    """
    protected, serial = body.get("protected"), body.get("next_serial")
    idents = body.get("identities")
    if (
        not isinstance(protected, bool)
        or not isinstance(serial, int)
        or isinstance(serial, bool)
        or serial < 1
        or not isinstance(idents, dict)
    ):
        raise KeyringError("the keyring manifest is malformed")
    if protected and passphrase is None:
        raise PassphraseError("this keyring is passphrase-protected: give passphrase")
    if not protected and passphrase is not None:
        raise UsageError("this keyring has no passphrase: open it without one")
    versions: dict[str, list[KeyVersion]] = {}
    for ident, entries in idents.items():
        if not isinstance(entries, list):
            raise KeyringError("the keyring manifest is malformed")
        versions[ident] = [
            _version(ident, e, serial, store, passphrase, cache) for e in entries
        ]
    return versions, serial


def _version(
    ident: str,
    entry: object,
    next_serial: int,
    store: Store,
    passphrase: bytes | None,
    cache: dict[str, SecretKey],
) -> KeyVersion:
    fields = parse_entry(ident, entry, next_serial)
    name = Store.key_file_name(fields.serial)
    key = cache.get(name)
    if key is None:
        data = store.read_key_file(name)
        try:
            key = _load_key(data, passphrase)
        except PassphraseError:
            raise
        except KeyLoadError as exc:
            raise KeyringError(f"key file keys/{name} is unreadable: {exc}") from None
        except Exception:
            # Any parser failure on a damaged file is the store's fault, reported
            # without echoing the file's bytes.
            raise KeyringError(f"key file keys/{name} is damaged") from None
    if key.fingerprint != fields.fingerprint or key.format != fields.format:
        raise KeyringError(
            f"key file keys/{name} holds key {key.fingerprint}, but the manifest "
            f"says {fields.fingerprint}: the keyring was tampered with or damaged"
        )
    subkey = fields.subkey
    if subkey is None:
        # Manifests written before subkey rotation name no subkey: take the one
        # the key encrypts to (written back with the next change).
        subkey = encryption_subkey(key)
    elif not holds_subkey(key, subkey):
        raise KeyringError(
            f"key file keys/{name} has no subkey {subkey}, which the manifest "
            "names: the keyring was tampered with or damaged"
        )
    cache[name] = key
    return KeyVersion(
        identity=ident,
        format=fields.format,
        version=fields.version,
        serial=fields.serial,
        fingerprint=fields.fingerprint,
        algorithm=fields.algorithm,
        created=fields.created,
        expires=fields.expires,
        state=fields.state,
        key=key,
        subkey=subkey,
    )
