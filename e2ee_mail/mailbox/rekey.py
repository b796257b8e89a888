"""Re-key one stored message: re-wrap every encrypted blob in it, verify, splice.

For each encrypted blob that ``mailbox/scan.py`` finds, the keyring's keys are tried
identity by identity; the first identity whose keys open the blob owns it, and the
blob is re-wrapped (``e2ee_mail.rewrap``: only the recipient entries change, the sealed
body is copied byte for byte) to that identity's *current* certificates of the same
format. A blob already addressed to exactly those certificates is left alone.

Verification, before anything replaces the original: the new message is scanned
again, and each blob must name exactly the current certificates' recipients, open
with the identity's active keys *alone* and give the same plaintext (compared by
SHA-256) as the original did.

Not provided: re-keying mail addressed to several people keeps only our own
recipients — the stored copy is ours, and other recipients' wraps are dropped.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from typing import Literal

from .. import _api
from ..errors import Error, NoMatchingKeyError, UsageError
from ..keys.ring import Keyring, normalize_identity
from ..model import Certificate, KeyFormat, SecretKey
from . import scan as mailscan

__all__ = ["Rekeyed", "Rekeyer"]

_BlobStatus = Literal["rewrapped", "current", "foreign"]


@dataclasses.dataclass(frozen=True, slots=True)
class _Check:
    identity: str
    format: KeyFormat
    digest: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class Rekeyed:
    """The outcome for one message.

    Attributes:
        data: the re-keyed message, or None when nothing changed.
        reason: why nothing changed ("not encrypted", "already current"), else "".
        identity: the identity whose keys own the message's blobs.
        fingerprints: the fingerprints the blobs are now wrapped to.
        checks: what :meth:`Rekeyer.verify` compares (internal).
    """

    data: bytes | None = dataclasses.field(repr=False)
    reason: str
    identity: str | None = None
    fingerprints: tuple[str, ...] = ()
    checks: tuple[_Check | None, ...] = dataclasses.field(default=(), repr=False)


def _fmt(kind: mailscan.BlobKind) -> KeyFormat:
    return "x509" if kind == "cms" else "openpgp"


def _recipient_ids(blob: bytes | bytearray) -> list[tuple[str, str]]:
    return sorted((r.type, r.id) for r in _api.inspect(blob).recipients)


def _same_form(old: bytes, new: bytes | bytearray) -> bytes:
    """Keep the original's encoding: armored stays armored, binary stays binary."""
    old_armored = old.lstrip().startswith(b"-----BEGIN PGP MESSAGE-----")
    new_armored = new.lstrip().startswith(b"-----BEGIN PGP MESSAGE-----")
    if old_armored == new_armored:
        return bytes(new)  # rewrap returns a bytearray (allocated once)
    from ..openpgp import armor

    return bytes(armor.enarmor(new) if old_armored else armor.dearmor(new)[1])


class Rekeyer:
    """Re-keys messages with one keyring's keys (one per worker process)."""

    def __init__(self, ring: Keyring, identity: str | None = None) -> None:
        self._ring = ring
        self._only = normalize_identity(identity) if identity else None
        self._idents = (self._only,) if self._only else ring.identities()
        self._old: dict[tuple[str, str], tuple[SecretKey, ...]] = {}
        self._new: dict[tuple[str, str], tuple[SecretKey, ...]] = {}
        self._ids: dict[tuple[str, str], list[tuple[str, str]]] = {}

    def _old_keys(self, ident: str, fmt: KeyFormat) -> tuple[SecretKey, ...]:
        found = self._old.get((ident, fmt))
        if found is None:
            # Retired keys too: moving the mail they still open to the current key
            # is what the re-key is for.
            keys = self._ring.decryption_keys(ident, include_retired=True)
            found = self._old[ident, fmt] = tuple(k for k in keys if k.format == fmt)
        return found

    def _active_keys(self, ident: str, fmt: KeyFormat) -> tuple[SecretKey, ...]:
        found = self._new.get((ident, fmt))
        if found is None:
            found = self._new[ident, fmt] = tuple(
                v.key
                for v in self._ring.history(ident)
                if v.state == "active" and v.format == fmt
            )
        return found

    def _certs(self, ident: str, fmt: KeyFormat) -> tuple[Certificate, ...]:
        certs = self._ring.recipients(ident, format=fmt)
        if not certs:
            raise UsageError(f"{ident} has no active {fmt} key to re-wrap to")
        return certs

    def _current_ids(self, ident: str, fmt: KeyFormat) -> list[tuple[str, str]]:
        """How a message wrapped to the current certificates names its recipients
        (learned once from a probe message: inspect() needs no key)."""
        found = self._ids.get((ident, fmt))
        if found is None:
            probe = _api.encrypt(
                b"",
                self._certs(ident, fmt),
                format="cms" if fmt == "x509" else "openpgp",
            )
            found = self._ids[ident, fmt] = _recipient_ids(probe)
        return found

    def _rewrap_blob(
        self, kind: mailscan.BlobKind, blob: bytes
    ) -> tuple[bytes, _BlobStatus, _Check | None]:
        fmt = _fmt(kind)
        ids = _recipient_ids(blob)
        for ident in self._idents:
            keys = self._old_keys(ident, fmt)
            if not keys:
                continue
            if self._ring.recipients(ident, format=fmt) and (
                ids == self._current_ids(ident, fmt)
            ):
                return blob, "current", None
            try:
                plaintext = _api.decrypt(blob, keys)
            except NoMatchingKeyError:
                continue
            certs = self._certs(ident, fmt)
            new = _same_form(blob, _api.rewrap(blob, keys, certs))
            check = _Check(ident, fmt, hashlib.sha256(plaintext).digest())
            return new, "rewrapped", check
        if self._only is not None:
            # Restricted to one identity: someone else's mail is not ours to touch.
            return blob, "foreign", None
        raise NoMatchingKeyError("no key in the keyring opens this message")

    def rekey(self, data: bytes) -> Rekeyed:
        """Re-key ``data`` (one whole message) in memory.

        Raises:
            Error: the message cannot be re-keyed (no key, damaged, unsupported).
        """
        parts = mailscan.find_encrypted(data)
        if not parts:
            return Rekeyed(None, "not encrypted")
        replacements: list[tuple[mailscan.EncryptedPart, bytes]] = []
        checks: list[_Check | None] = []
        statuses: set[_BlobStatus] = set()
        for part in parts:
            blob = mailscan.extract(data, part)
            new, status, check = self._rewrap_blob(part.kind, blob)
            checks.append(check)
            statuses.add(status)
            if status == "rewrapped":
                replacements.append((part, mailscan.encode(part, new)))
        if not replacements:
            if statuses == {"foreign"}:
                return Rekeyed(None, f"not encrypted to {self._only}")
            return Rekeyed(None, "already encrypted to the current keys")
        done = [c for c in checks if c is not None]
        fprs = tuple(
            dict.fromkeys(
                c.fingerprint for k in done for c in self._certs(k.identity, k.format)
            )
        )
        new_data = mailscan.splice(data, replacements)
        return Rekeyed(new_data, "", done[0].identity, fprs, tuple(checks))

    def verify(self, written: bytes, checks: Sequence[_Check | None]) -> None:
        """Check that ``written`` (read back from disk) opens with the current keys
        alone and gives the original plaintexts.

        Raises:
            Error: it does not; the original must then be kept.
        """
        parts = mailscan.find_encrypted(written)
        if len(parts) != len(checks):
            raise Error("verification failed: the re-keyed message lost a part")
        for part, check in zip(parts, checks, strict=True):
            if check is None:
                continue  # already current: its bytes were not touched
            blob = mailscan.extract(written, part)
            # An OpenPGP key keeps its retired subkeys: opening with the active key
            # alone does not prove the blob is addressed to the current subkeys.
            if _recipient_ids(blob) != self._current_ids(check.identity, check.format):
                raise Error(
                    "verification failed: the re-keyed message is not addressed to "
                    "the current keys"
                )
            keys = self._active_keys(check.identity, check.format)
            plaintext = _api.decrypt(blob, keys)
            if hashlib.sha256(plaintext).digest() != check.digest:
                raise Error("verification failed: the re-keyed message differs")
