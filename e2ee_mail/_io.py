"""I/O at the edges: reading "data or path" arguments, spooling, atomic writes.

Temporary files are created 0600 in a directory the caller chooses (next to the target
for the CLI), and removed on every path out. Spools have no name at all once open, and
plaintext goes only into a :class:`SealedSpool`, encrypted under a key that never
leaves memory: whatever stops the process, no plaintext rests on disk in clear.

Start-up: every CLI command goes through this module, so it imports only ``os`` and
``contextlib`` eagerly. ``tempfile`` (which pulls in ``shutil``, ``random``, ``bz2``
and ``lzma``) and ``shutil`` are imported where a spool or a user-space copy is
needed; :func:`atomic_writer` names its temporary file itself.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from .core.random import random_bytes
from .errors import KeyLoadError, UsageError

if TYPE_CHECKING:
    from .core.chunkstream import ChunkOpener

__all__ = [
    "PrefixedReader",
    "PullReader",
    "SealedSpool",
    "TapReader",
    "atomic_writer",
    "current_umask",
    "fsync_dir",
    "read_input",
    "remove_temporaries",
    "sealed_spool",
    "spool",
    "write_files_atomically",
    "write_secret_file",
]

DataOrPath = bytes | bytearray | memoryview | str | os.PathLike[str]


def read_input(data_or_path: DataOrPath, *, what: str) -> bytes:
    """Return bytes given either bytes or a filesystem path.

    A ``str`` is a path unless it holds a PEM/armor block, which is taken as data.
    """
    if isinstance(data_or_path, bytes | bytearray | memoryview):
        return bytes(data_or_path)
    if isinstance(data_or_path, str) and "-----BEGIN " in data_or_path:
        return data_or_path.encode("ascii", "replace")
    if isinstance(data_or_path, str | os.PathLike):
        try:
            with open(data_or_path, "rb") as fh:
                return fh.read()
        except OSError as exc:
            raise KeyLoadError(
                f"cannot read {what} {os.fspath(data_or_path)!r}: {exc.strerror}"
            ) from None
    raise UsageError(
        f"{what} must be bytes or a path, not {type(data_or_path).__name__}"
    )


@contextlib.contextmanager
def spool(directory: str | None = None) -> Iterator[BinaryIO]:
    """A 0600 temporary file with no name, closed when the block ends.

    It is unlinked as soon as it is open, so a process killed with SIGKILL leaves
    nothing behind: the kernel frees the space when the last descriptor closes.
    ``directory`` defaults to the system temporary directory (``$TMPDIR``). Never put
    plaintext in it (see :func:`sealed_spool`).
    """
    if directory is None:
        # tempfile only here: it finds the system temporary directory.
        import tempfile

        directory = tempfile.gettempdir()
    fd, name = _create_temp(directory, ".e2ee-mail-spool-")
    # A system that cannot unlink an open file keeps the name until the end.
    with contextlib.suppress(OSError):
        _forget_temp(name)
    try:
        with os.fdopen(fd, "w+b") as fh:
            yield fh
    finally:
        _forget_temp(name)


class SealedSpool:
    """A spool whose content is encrypted under a key that exists only in memory.

    Plaintext written here goes to disk only as AES-256-GCM chunks (core/chunkstream.py,
    the RFC 9580 §5.13.2 chunk loop) under a fresh random key and nonce prefix held by
    this object: a copy of the file (a leftover after SIGKILL, a backup of a tmpfs, a
    swapped-out page of the directory's filesystem) reveals nothing, and a chunk
    altered on disk is refused when it is read back. The key is gone when the
    process is.
    """

    #: Plaintext octets per sealed chunk: two buffers of this size are held.
    CHUNK_SIZE = 1 << 20
    #: The sealer's buffers start this small and grow to a chunk when the data
    #: does: first touching two fresh 1 MiB buffers cost a short spool (a command's
    #: output of a few KiB) 2 ms, a hundred times its sealing.
    FIRST_BUFFER_SIZE = 64 << 10

    def __init__(self, fh: BinaryIO) -> None:
        from .core.chunked import ChunkParams
        from .core.chunkstream import ChunkSealer

        self._fh = fh
        self._params = ChunkParams(
            "gcm", random_bytes(32), random_bytes(4), self.CHUNK_SIZE, b""
        )
        self._sealer: ChunkSealer | None = ChunkSealer(
            self._params, fh, size_hint=self.FIRST_BUFFER_SIZE
        )

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Seal ``data`` into the spool."""
        if self._sealer is None:
            raise UsageError("the spool has been read back: it takes no more data")
        return self._sealer.write(data)

    def flush(self) -> None:
        """Nothing to do: sealed chunks are written whole."""

    def writable(self) -> bool:
        return self._sealer is not None

    def reader(self) -> ChunkOpener:
        """Seal the last chunk and return a reader of the plaintext from the start.

        The reader releases each chunk only after its tag verified, and raises
        DecryptionError for a spool altered on disk or cut short.
        """
        from .core.chunkstream import ChunkOpener

        if self._sealer is not None:
            self._sealer.close()
            self._sealer = None
            self._fh.flush()
        # Its buffers sized by what the spool holds (at most a chunk).
        sealed = self._fh.seek(0, os.SEEK_END)
        self._fh.seek(0)
        return ChunkOpener(self._params, self._fh, size_hint=sealed)


@contextlib.contextmanager
def sealed_spool(directory: str | None = None) -> Iterator[SealedSpool]:
    """A :class:`SealedSpool` over a :func:`spool` in ``directory``."""
    with spool(directory) as fh:
        yield SealedSpool(fh)


@contextlib.contextmanager
def atomic_writer(
    path: str | os.PathLike[str], *, mode: int = 0o666, umask: bool = True
) -> Iterator[BinaryIO]:
    """Write ``path`` atomically: a temp file next to it, fsync, rename on success.

    The temp file is 0600 while it is written. Just before the rename it gets its
    permissions: ``mode`` less the process umask, as open(2) would create the file,
    or ``mode`` exactly when ``umask`` is false (a caller's explicit request). The
    target is replaced, not rewritten: the new file belongs to the writer and has
    these permissions, whatever the file it replaces had.

    If the block raises, the target is left untouched and the temp file removed.
    """
    target = os.fspath(path)
    # As pathlib did: a trailing separator does not change the name or the directory.
    stripped = target.rstrip(os.sep) or target
    directory = os.path.dirname(stripped) or "."
    final = mode & ~current_umask() if umask else mode
    fd, tmp = _create_temp(directory, f".{os.path.basename(stripped)}.")
    ok = False
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fchmod(fh.fileno(), final)
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        _TEMPORARIES.discard(tmp)
        ok = True
    finally:
        if not ok:
            _forget_temp(tmp)


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make the renames and creations in the directory ``path`` durable: fsync(2)
    on a file makes its data durable, but its name is the directory's."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_files_atomically(
    files: list[tuple[str | os.PathLike[str], bytes, int]],
) -> None:
    """Write several files, each ``(path, data, mode)``, all or none.

    Every file is written to its temp file and fsynced before the first rename, so a
    full disk or an I/O error leaves none of them; the renames then go in the order
    given (put the file the others depend on first). ``mode`` is applied as in
    :func:`atomic_writer`.
    """
    mask = current_umask()
    temps: list[tuple[str, str]] = []  # (temp file, target), not yet renamed
    try:
        for name, data, mode in files:
            path = os.fspath(name)
            stripped = path.rstrip(os.sep) or path
            directory = os.path.dirname(stripped) or "."
            fd, tmp = _create_temp(directory, f".{os.path.basename(stripped)}.")
            temps.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fchmod(fh.fileno(), mode & ~mask)
                os.fsync(fh.fileno())
        while temps:
            tmp, path = temps[0]
            os.replace(tmp, path)
            _TEMPORARIES.discard(tmp)
            del temps[0]
    finally:
        for tmp, _ in temps:
            _forget_temp(tmp)


def current_umask() -> int:
    """The process umask, read without changing it where the system allows.

    ``os.umask`` reads the mask only by setting it, which for a moment gives every
    other thread of the process another one; Linux (4.7 and later) shows it in
    /proc/self/status. Elsewhere it is set and put back, to 077 meanwhile, so that a
    file another thread creates in that moment is at worst too private.
    """
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


#: O_EXCL create, never following a planted symlink (what tempfile.mkstemp does).
_TEMP_FLAGS = (
    os.O_RDWR
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_TEMP_ATTEMPTS = 100


def _create_temp(directory: str, prefix: str) -> tuple[int, str]:
    """Create a new 0600 file ``directory/prefix<random>``: its fd and path.

    ``tempfile.mkstemp`` semantics (exclusive create, mode 0600, retry on a name
    clash) without importing ``tempfile``, which cost every CLI command its imports
    of ``shutil``, ``random``, ``bz2`` and ``lzma``.
    """
    for _ in range(_TEMP_ATTEMPTS):
        name = os.path.abspath(os.path.join(directory, prefix + random_bytes(8).hex()))
        # Registered before it exists: a signal between the two cannot orphan it.
        _TEMPORARIES.add(name)
        try:
            return os.open(name, _TEMP_FLAGS, 0o600), name
        except FileExistsError:
            _TEMPORARIES.discard(name)
            continue
        except BaseException:
            _TEMPORARIES.discard(name)
            raise
    raise FileExistsError(errno.EEXIST, "no free temporary file name", directory)


#: Paths of the temporary files this process created and has not yet removed or
#: renamed into place (see :func:`remove_temporaries`).
_TEMPORARIES: set[str] = set()


def _forget_temp(name: str) -> None:
    """Remove a temporary file of ours (gone already is fine)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name)
    _TEMPORARIES.discard(name)


def remove_temporaries() -> None:
    """Remove every temporary file this process still has.

    For the CLI after a terminating signal: the exception the signal raises unwinds
    through each ``finally`` that removes its file, but a signal that lands inside
    such a clean-up (or between creating a file and entering the block that removes
    it) would skip it; this sweeps up what is left.
    """
    for name in list(_TEMPORARIES):
        with contextlib.suppress(OSError):
            _forget_temp(name)


def write_secret_file(path: str | os.PathLike[str], data: bytes) -> None:
    """Write a key file 0600 (less the umask, which never widens it), atomically."""
    with atomic_writer(path, mode=0o600) as fh:
        fh.write(data)


class PrefixedReader:
    """A readable binary stream that yields ``head`` and then the rest of ``src``.

    Lets format detection peek at a non-seekable stream without losing bytes. Over a
    seekable ``src`` whose last octets read were ``head``, it is seekable too.
    """

    def __init__(self, head: bytes, src: BinaryIO) -> None:
        self._head = memoryview(head)
        self._src = src

    def readinto(self, buf: bytearray | memoryview) -> int:
        if self._head:
            n = min(len(buf), len(self._head))
            memoryview(buf)[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        return self._src.readinto(buf)  # type: ignore[attr-defined, no-any-return]

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            rest = bytes(self._head) + self._src.read()
            self._head = memoryview(b"")
            return rest
        if self._head:
            out = bytes(self._head[:size])
            self._head = self._head[len(out) :]
            return out
        return self._src.read(size)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        """Whether ``src`` is: then :meth:`seek` and :meth:`tell` work as on it."""
        seekable = getattr(self._src, "seekable", None)
        return bool(seekable and seekable())

    def tell(self) -> int:
        """The position in ``src`` of the next octet this reader yields."""
        return int(self._src.tell()) - len(self._head)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Seek ``src`` (``offset`` as :meth:`tell` counts); the head is dropped:
        its octets are ``src``'s own, read again from there."""
        if whence == os.SEEK_CUR:
            offset, whence = self.tell() + offset, os.SEEK_SET
        self._head = memoryview(b"")
        return int(self._src.seek(offset, whence))


class PullReader:
    """A read-only binary stream over bytes a subclass makes on demand.

    Subclasses define :meth:`_fill`, which appends to ``_buf`` until it holds at least
    ``size`` bytes or the input is used up (and then sets ``_done``); reading hands
    out and drops the head of ``_buf``.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._done = False

    def _fill(self, size: int) -> None:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            self._fill(1 << 62)
            size = len(self._buf)
        self._fill(size)
        out = bytes(self._buf[:size])
        del self._buf[:size]
        return out

    def readinto(self, buf: bytearray | memoryview) -> int:
        """Read into ``buf``: one copy, no intermediate bytes."""
        view = memoryview(buf).cast("B")
        self._fill(len(view))
        n = min(len(view), len(self._buf))
        with memoryview(self._buf) as pending:
            view[:n] = pending[:n]
        del self._buf[:n]
        return n


class TapReader:
    """A readable stream over ``src`` that hands on every octet read through it.

    Lets a re-keying parser read a message's framing while the octets it reads are
    kept (:meth:`keep`, into :attr:`kept`), passed to a sink unchanged
    (:meth:`pass_to`: the sealed body, copied as it is parsed), or dropped
    (:meth:`drop`). :attr:`pos` counts the octets read so far. Not seekable, so that
    parsers read what they skip.
    """

    __slots__ = ("_sink", "_src", "kept", "pos")

    def __init__(self, src: BinaryIO) -> None:
        self._src = src
        self._sink: BinaryIO | None = None
        self.kept: bytearray | None = None
        self.pos = 0

    def keep(self) -> None:
        """Keep what is read from now on in :attr:`kept` (a new, empty buffer)."""
        self._sink = None
        self.kept = bytearray()

    def pass_to(self, sink: BinaryIO) -> None:
        """Write what is read from now on to ``sink``."""
        self._sink = sink
        self.kept = None

    def drop(self) -> None:
        """Hand on nothing that is read from now on."""
        self._sink = None
        self.kept = None

    def _hand_on(self, data: bytes | memoryview) -> None:
        self.pos += len(data)
        if self._sink is not None:
            self._sink.write(data)
        elif self.kept is not None:
            self.kept += data

    def read(self, size: int = -1) -> bytes:
        data = self._src.read(size)
        self._hand_on(data)
        return data

    def readinto(self, buf: bytearray | memoryview) -> int:
        view = memoryview(buf).cast("B")
        readinto = getattr(self._src, "readinto", None)
        if readinto is None:
            data = self._src.read(len(view))
            n = len(data)
            view[:n] = data
        else:
            n = readinto(view) or 0
        self._hand_on(view[:n])
        return n

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False
