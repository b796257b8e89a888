"""The keyring's on-disk store: a checksummed JSON manifest, key files and a lock.

Layout of a keyring directory (0700)::

    keyring.json      the manifest (0600): {"e2ee_mail_keyring": 1, "body": {...},
                      "sha256": hex SHA-256 of the canonical JSON of "body"}
    keys/NNNNNNNN.key one file per key version (0600): SecretKey.export() bytes,
                      passphrase-protected when the keyring is
    lock              flock(2) target serializing writers (readers take it shared)

Every write goes to a temporary file next to its target, is fsynced and renamed
(``_io.atomic_writer``), then the directory is fsynced so that the rename itself is
durable. Key files are written before the manifest that names them, so a crash
leaves at worst an unreferenced key file, never a manifest naming a missing one. A
store that does not check out (bad JSON, checksum mismatch, missing or unreadable key
file) raises :class:`KeyringError`; nothing is ever silently repaired or replaced.

A writer killed mid-write leaves its temporary file (``.keyring.json.XXXX``,
``keys/.NNNNNNNN.key.XXXX``) or a key file its manifest never named. The next writer
removes them (:meth:`Store.sweep`), holding the exclusive lock, so that no live
writer's file can be among them; only those names, only files older than the
operation, and nothing else in the directory is touched.

This module knows nothing about key formats: it moves bytes and JSON.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from .._io import atomic_writer, fsync_dir, write_secret_file
from ..errors import Error

__all__ = [
    "KeyringError",
    "Store",
]

MANIFEST_NAME: Final = "keyring.json"
LOCK_NAME: Final = "lock"
KEYS_DIR: Final = "keys"
MAGIC: Final = "e2ee_mail_keyring"
STORE_VERSION: Final = 1
#: A manifest is small; anything much larger is not ours (bounded read).
MAX_MANIFEST_BYTES: Final = 64 * 1024 * 1024
_KEY_FILE_RE: Final = re.compile(r"^[0-9]{8}\.key$")
# The temporary names _io.atomic_writer gives the manifest and the key files: a dot,
# the target's name, a dot and 16 hexadecimal digits.
_MANIFEST_TEMP_RE: Final = re.compile(r"^\.keyring\.json\.[0-9a-f]{16}$")
_KEY_TEMP_RE: Final = re.compile(r"^\.[0-9]{8}\.key\.[0-9a-f]{16}$")


class KeyringError(Error):
    """The keyring store is corrupted, half-written, or not a keyring."""


def _canonical(body: object) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


class Store:
    """Bytes-level access to one keyring directory."""

    __slots__ = ("root",)

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST_NAME

    def exists(self) -> bool:
        return self.manifest_path.exists()

    def create_dirs(self) -> None:
        """Create the directory tree 0700 (the caller then writes a manifest)."""
        for path in (self.root, self.root / KEYS_DIR):
            path.mkdir(mode=0o700, exist_ok=True)
            os.chmod(path, 0o700)

    def make_root(self) -> None:
        """Create the keyring directory (0700) if missing, so it can be locked."""
        if self.root.exists() and not self.root.is_dir():
            raise KeyringError(f"{self.root} exists and is not a directory")
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise KeyringError(f"cannot create {self.root}: {exc.strerror}") from None

    def sweep(self, before: float, next_serial: int | None = None) -> None:
        """Remove what killed writers left: temporary files, and key files at or
        past ``next_serial`` (no manifest names them), last modified before
        ``before`` (a ``time.time()``). Call holding the exclusive lock."""
        stale: list[Path] = []
        with contextlib.suppress(FileNotFoundError):
            stale += [
                entry
                for entry in self.root.iterdir()
                if _MANIFEST_TEMP_RE.match(entry.name)
            ]
        with contextlib.suppress(FileNotFoundError):
            for entry in (self.root / KEYS_DIR).iterdir():
                name = entry.name
                orphan = (
                    next_serial is not None
                    and _KEY_FILE_RE.match(name) is not None
                    and int(name[:8]) >= next_serial
                )
                if orphan or _KEY_TEMP_RE.match(name):
                    stale.append(entry)
        for path in stale:
            try:
                if path.lstat().st_mtime < before:
                    path.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise KeyringError(
                    f"cannot remove {path.name}, left by an interrupted write: "
                    f"{exc.strerror}"
                ) from None

    def check_creatable(self) -> None:
        """Refuse to initialize over a directory holding something else (an empty
        keys/ left by an interrupted initialization is fine)."""
        leftovers = {p.name for p in self.root.iterdir()} - {LOCK_NAME}
        keys = self.root / KEYS_DIR
        if KEYS_DIR in leftovers and keys.is_dir() and not any(keys.iterdir()):
            leftovers.discard(KEYS_DIR)
        if leftovers:
            raise KeyringError(
                f"{self.root} has no {MANIFEST_NAME} but is not empty: a damaged "
                "keyring or another directory; refusing to initialize over it"
            )

    @contextlib.contextmanager
    def locked(self, *, exclusive: bool) -> Iterator[None]:
        """Hold flock(2) on the lock file: exclusive for writers, shared for readers."""
        fd = os.open(self.root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            # Closing the descriptor releases the lock.
            os.close(fd)

    def read_manifest(self) -> dict[str, object]:
        """Read and verify the manifest; return its body.

        Raises:
            KeyringError: missing, unparsable, wrong magic/version or bad checksum.
        """
        try:
            with open(self.manifest_path, "rb") as fh:
                raw = fh.read(MAX_MANIFEST_BYTES + 1)
        except FileNotFoundError:
            raise KeyringError(f"{self.manifest_path} is missing") from None
        except OSError as exc:
            raise KeyringError(
                f"cannot read {self.manifest_path}: {exc.strerror}"
            ) from None
        if len(raw) > MAX_MANIFEST_BYTES:
            raise KeyringError(f"{self.manifest_path} is too large to be a manifest")
        try:
            doc = json.loads(raw)
        except (ValueError, RecursionError):
            raise KeyringError(
                f"{self.manifest_path} is not valid JSON (damaged or half-written)"
            ) from None
        if not isinstance(doc, dict) or doc.get(MAGIC) != STORE_VERSION:
            raise KeyringError(
                f"{self.manifest_path} is not an e2ee_mail keyring manifest "
                f"(version {STORE_VERSION})"
            )
        body, digest = doc.get("body"), doc.get("sha256")
        if not isinstance(body, dict) or not isinstance(digest, str):
            raise KeyringError(f"{self.manifest_path} lacks its body or checksum")
        if hashlib.sha256(_canonical(body)).hexdigest() != digest:
            raise KeyringError(
                f"{self.manifest_path} fails its checksum: the keyring was damaged "
                "or edited by hand"
            )
        return body

    def write_manifest(self, body: dict[str, object]) -> None:
        """Write the manifest atomically (0600) and make the rename durable."""
        doc = {
            MAGIC: STORE_VERSION,
            "body": body,
            "sha256": hashlib.sha256(_canonical(body)).hexdigest(),
        }
        data = json.dumps(doc, sort_keys=True, indent=1).encode("utf-8") + b"\n"
        with atomic_writer(self.manifest_path, mode=0o600) as fh:
            fh.write(data)
        fsync_dir(self.root)

    def key_path(self, name: str) -> Path:
        """The path of key file ``name``; names come from the manifest, so check
        them (a hostile manifest must not point outside the store)."""
        if not _KEY_FILE_RE.match(name):
            raise KeyringError(f"manifest names an invalid key file {name!r}")
        return self.root / KEYS_DIR / name

    def read_key_file(self, name: str) -> bytes:
        path = self.key_path(name)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise KeyringError(
                f"key file {KEYS_DIR}/{name} named by the manifest is missing"
            ) from None
        except OSError as exc:
            raise KeyringError(
                f"cannot read key file {KEYS_DIR}/{name}: {exc.strerror}"
            ) from None

    def write_key_file(self, name: str, data: bytes) -> None:
        # Serial numbers only grow, so a file already here is not named by the
        # manifest: an orphan of a write interrupted before its manifest landed.
        path = self.key_path(name)
        write_secret_file(path, data)
        fsync_dir(path.parent)

    @staticmethod
    def key_file_name(serial: int) -> str:
        return f"{serial:08d}.key"
