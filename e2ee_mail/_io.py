"""I/O at the edges: reading "data or path" arguments, spooling, atomic writes.

Temporary files are created 0600 in a directory the caller chooses (next to the target
for the CLI), and removed on every path out.

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
from typing import BinaryIO

from .core.random import random_bytes
from .errors import KeyLoadError, UsageError

__all__ = [
    "PrefixedReader",
    "PullReader",
    "atomic_writer",
    "copy_spool",
    "current_umask",
    "read_input",
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
    """A 0600 temporary file, deleted when the block ends."""
    # tempfile only here: it finds the system temporary directory when none is given.
    import tempfile

    fd, name = tempfile.mkstemp(prefix=".e2ee-mail-", dir=directory)
    try:
        with os.fdopen(fd, "w+b") as fh:
            yield fh
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def copy_spool(spool_file: BinaryIO, dst: BinaryIO) -> None:
    """Copy a whole spool file (from :func:`spool`) to ``dst``.

    When ``dst`` is a real file the kernel copies (``os.copy_file_range``, then
    ``os.sendfile``): no pass through user space, which halves the I/O cost of
    releasing a spooled plaintext (CMS stream decrypt). Anything else, or a
    kernel that refuses, gets ``shutil.copyfileobj`` with a 1 MiB buffer.
    """
    spool_file.flush()
    size = spool_file.seek(0, os.SEEK_END)
    done = 0
    try:
        out_fd = dst.fileno()
    except (AttributeError, OSError):  # io.UnsupportedOperation is an OSError
        out_fd = -1
    if out_fd >= 0:
        dst.flush()
        in_fd = spool_file.fileno()
        for copy in (_copy_file_range, _sendfile):
            try:
                while done < size:
                    n = copy(in_fd, out_fd, done, size - done)
                    if n <= 0:
                        break
                    done += n
            except OSError:
                pass  # EXDEV, EINVAL (not a regular file), ENOSYS...: next way
            if done >= size:
                return
    import shutil

    spool_file.seek(done)
    shutil.copyfileobj(spool_file, dst, 1 << 20)


def _copy_file_range(in_fd: int, out_fd: int, offset: int, count: int) -> int:
    copy_file_range = getattr(os, "copy_file_range", None)
    if copy_file_range is None:
        return 0
    return int(copy_file_range(in_fd, out_fd, count, offset_src=offset))


def _sendfile(in_fd: int, out_fd: int, offset: int, count: int) -> int:
    return os.sendfile(out_fd, in_fd, offset, count)


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
        ok = True
    finally:
        if not ok:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


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
            del temps[0]
    finally:
        for tmp, _ in temps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


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
        name = os.path.join(directory, prefix + random_bytes(8).hex())
        try:
            return os.open(name, _TEMP_FLAGS, 0o600), os.path.abspath(name)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", directory)


def write_secret_file(path: str | os.PathLike[str], data: bytes) -> None:
    """Write a key file 0600 (less the umask, which never widens it), atomically."""
    with atomic_writer(path, mode=0o600) as fh:
        fh.write(data)


class PrefixedReader:
    """A readable binary stream that yields ``head`` and then the rest of ``src``.

    Lets format detection peek at a non-seekable stream without losing bytes.
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
