"""Re-key one stored message: re-wrap every encrypted blob in it, verify, splice.

For each encrypted blob that ``mime/scan.py`` finds, the keyring's keys are tried
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
from ..cms.rekey import ParsedEnvelope
from ..errors import Error, NoMatchingKeyError, UsageError
from ..keys.ring import Keyring, normalize_identity
from ..mime import rekey as mailrekey
from ..mime import scan as mailscan
from ..model import Certificate, KeyFormat, SecretKey
from ..openpgp.message import ParsedMessage
from ..policy import DEFAULT, Policy

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


#: A recipient entry's kind and the key it names, raw (no key needed to read it).
_RecipientId = tuple[str, bytes, int]


class _Blob:
    """One encrypted blob, parsed once: the keys its recipient entries name
    (compared, never shown: the raw names from the parsed header; ``inspect`` would
    also render CMS issuer names, which costs more than the X25519 unwrap), then
    opened or re-wrapped from that parse."""

    __slots__ = ("ids", "parsed")

    def __init__(self, kind: mailscan.BlobKind, blob: bytes) -> None:
        ids: list[_RecipientId] = []
        if kind == "cms":
            from ..cms import structures

            env = ParsedEnvelope(blob, DEFAULT)
            for info in env.recipient_infos:
                if isinstance(info, structures.KeyTransRecipientInfo):
                    rids = [info.rid]
                elif isinstance(info, structures.KeyAgreeRecipientInfo):
                    rids = [rek.rid for rek in info.recipient_encrypted_keys]
                else:
                    ids.append((type(info).__name__, b"", -1))
                    continue
                for rid in rids:
                    if rid.subject_key_identifier is not None:
                        ids.append(("ski", rid.subject_key_identifier, -1))
                    else:
                        ids.append(("rid", rid.issuer or b"", rid.serial_number or 0))
            self.parsed: ParsedEnvelope | ParsedMessage = env
        else:
            from ..openpgp.packets.pkesk import PKESKv6

            msg = ParsedMessage(blob, DEFAULT)
            for packet in msg.pkesks:
                if isinstance(packet, PKESKv6):
                    ids.append(("v6", packet.fingerprint, packet.key_version))
                else:
                    ids.append(("v3", packet.key_id, 0))
            self.parsed = msg
        self.ids = sorted(ids)

    def rewrap_opened(
        self,
        keys: Sequence[SecretKey],
        certs: Sequence[Certificate],
        policy: Policy = DEFAULT,
    ) -> tuple[bytearray, bytearray]:
        """The blob re-wrapped to ``certs``, and its plaintext: the content key is
        unwrapped once, opens the whole body and is wrapped again."""
        if isinstance(self.parsed, ParsedMessage):
            from ..openpgp import rekey as openpgp_rekey

            return openpgp_rekey.rewrap_opened(self.parsed, keys, certs, policy=policy)
        from ..cms import rekey as cms_rekey

        return cms_rekey.rewrap_opened(self.parsed, keys, certs, policy=policy)

    def open(self, keys: Sequence[SecretKey]) -> bytearray:
        """The plaintext, as ``e2ee_mail.decrypt`` gives it."""
        if not isinstance(self.parsed, ParsedMessage):
            return self.parsed.open(keys, DEFAULT)[1]
        from ..openpgp import inner
        from ..openpgp.message import open_parsed
        from ..openpgp.recipients import openpgp_keys

        packets, _ = open_parsed(self.parsed, openpgp_keys(keys))
        return inner.take_literal_data(packets, DEFAULT)


class Rekeyer:
    """Re-keys messages with one keyring's keys (one per worker process), writing
    what ``policy`` allows (``require_post_quantum`` refuses classic keys)."""

    def __init__(
        self, ring: Keyring, identity: str | None = None, policy: Policy = DEFAULT
    ) -> None:
        self._ring = ring
        self._policy = policy
        self._only = normalize_identity(identity) if identity else None
        self._idents = (self._only,) if self._only else ring.identities()
        self._old: dict[tuple[str, str], tuple[SecretKey, ...]] = {}
        self._new: dict[tuple[str, str], tuple[SecretKey, ...]] = {}
        self._ids: dict[tuple[str, str], list[_RecipientId]] = {}
        self._recipients: dict[tuple[str, str], tuple[Certificate, ...]] = {}

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

    def _recipients_of(self, ident: str, fmt: KeyFormat) -> tuple[Certificate, ...]:
        """The identity's active certificates of ``fmt`` (looked up once a run)."""
        found = self._recipients.get((ident, fmt))
        if found is None:
            found = self._recipients[ident, fmt] = tuple(
                self._ring.recipients(ident, format=fmt)
            )
        return found

    def _certs(self, ident: str, fmt: KeyFormat) -> tuple[Certificate, ...]:
        certs = self._recipients_of(ident, fmt)
        if not certs:
            raise UsageError(f"{ident} has no active {fmt} key to re-wrap to")
        return certs

    def _current_ids(self, ident: str, fmt: KeyFormat) -> list[_RecipientId]:
        """How a message wrapped to the current certificates names its recipients
        (learned once from a probe message: reading the names needs no key)."""
        found = self._ids.get((ident, fmt))
        if found is None:
            kind: mailscan.BlobKind = "cms" if fmt == "x509" else "openpgp"
            probe = _api.encrypt(b"", self._certs(ident, fmt), format=kind)
            found = self._ids[ident, fmt] = _Blob(kind, bytes(probe)).ids
        return found

    def _rewrap_blob(
        self, kind: mailscan.BlobKind, blob: bytes
    ) -> tuple[bytes | bytearray, _BlobStatus, _Check | None]:
        fmt = _fmt(kind)
        parsed = _Blob(kind, blob)
        for ident in self._idents:
            keys = self._old_keys(ident, fmt)
            if not keys:
                continue
            certs = self._recipients_of(ident, fmt)
            if not certs:
                try:
                    _api.decrypt(blob, keys)
                except NoMatchingKeyError:
                    continue
                self._certs(ident, fmt)  # raises: nothing to re-wrap to
            if parsed.ids == self._current_ids(ident, fmt):
                return blob, "current", None
            try:
                new, plaintext = parsed.rewrap_opened(keys, certs, self._policy)
            except NoMatchingKeyError:
                continue
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
        checks: list[_Check | None] = []
        statuses: set[_BlobStatus] = set()

        def rewrap(
            part: mailscan.EncryptedPart, blob: bytes
        ) -> bytes | bytearray | None:
            new, status, check = self._rewrap_blob(part.kind, blob)
            checks.append(check)
            statuses.add(status)
            return new if status == "rewrapped" else None

        new_data = mailrekey.rewrap_parts(data, parts, rewrap)
        if new_data is None:
            if statuses == {"foreign"}:
                return Rekeyed(None, f"not encrypted to {self._only}")
            return Rekeyed(None, "already encrypted to the current keys")
        done = [c for c in checks if c is not None]
        fprs = tuple(
            dict.fromkeys(
                c.fingerprint for k in done for c in self._certs(k.identity, k.format)
            )
        )
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
            current = self._current_ids(check.identity, check.format)
            parsed = _Blob(part.kind, blob)
            if parsed.ids != current:
                raise Error(
                    "verification failed: the re-keyed message is not addressed to "
                    "the current keys"
                )
            keys = self._active_keys(check.identity, check.format)
            plaintext = parsed.open(keys)
            if hashlib.sha256(plaintext).digest() != check.digest:
                raise Error("verification failed: the re-keyed message differs")
