"""cms decrypt_stream: nothing reaches dst unless the tag verified, whatever the
source (a regular file, a pipe-like stream) and whatever the damage; round trips.
The two passes: a seekable source is read twice where it is, any other is spooled
as ciphertext (in spool_dir); a change between the passes fails the second check."""

from __future__ import annotations

import io
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from doubles import Pipe, Trickle
from hypothesis import given
from hypothesis import strategies as st

import e2ee_mail
from e2ee_mail.x509 import certs as kx
from e2ee_mail.x509 import keygen as x509_keygen

BODY = bytes(range(256)) * 4100  # just over 1 MiB: two segments in the BER form


@pytest.fixture(scope="module")
def key() -> kx.X509SecretKey:
    return x509_keygen.generate("Stream <s@example.org>", kind="x25519")


@pytest.fixture(scope="module")
def sealed(key: kx.X509SecretKey) -> dict[str, bytes]:
    der = bytes(e2ee_mail.encrypt(BODY, [key.public], format="cms"))
    ber = io.BytesIO()
    e2ee_mail.encrypt_stream(io.BytesIO(BODY), ber, [key.public], format="cms")
    pem = bytes(e2ee_mail.encrypt(BODY, [key.public], format="cms", armor=True))
    return {"der": der, "ber": ber.getvalue(), "pem": pem}


def _open(tmp_path: Path, data: bytes, seekable: bool) -> BinaryIO:
    if not seekable:
        return io.BufferedReader(Pipe(data))  # type: ignore[return-value]
    path = tmp_path / "in.p7m"
    path.write_bytes(data)
    return path.open("rb")


def _decrypt_to_file(
    tmp_path: Path, data: bytes, key: kx.X509SecretKey, seekable: bool
) -> Path:
    out = tmp_path / "out"
    with _open(tmp_path, data, seekable) as src, out.open("wb") as dst:
        e2ee_mail.decrypt_stream(src, dst, key)
    return out


@pytest.mark.parametrize("seekable", [True, False], ids=["file", "pipe"])
@pytest.mark.parametrize("form", ["der", "ber"])
def test_tampered_body_leaves_dst_empty(
    tmp_path: Path,
    key: kx.X509SecretKey,
    sealed: dict[str, bytes],
    form: str,
    seekable: bool,
) -> None:
    data = bytearray(sealed[form])
    data[len(data) // 2] ^= 0x01  # inside the encrypted body
    out = tmp_path / "out"
    with (
        _open(tmp_path, bytes(data), seekable) as src,
        out.open("wb") as dst,
        pytest.raises(e2ee_mail.DecryptionError),
    ):
        e2ee_mail.decrypt_stream(src, dst, key)
    assert out.read_bytes() == b""


@pytest.mark.parametrize("seekable", [True, False], ids=["file", "pipe"])
@pytest.mark.parametrize("form", ["der", "ber", "pem"])
@pytest.mark.parametrize("keep", [0.5, 0.999])
def test_truncated_message_leaves_dst_empty(
    tmp_path: Path,
    key: kx.X509SecretKey,
    sealed: dict[str, bytes],
    form: str,
    seekable: bool,
    keep: float,
) -> None:
    data = sealed[form]
    out = tmp_path / "out"
    with (
        _open(tmp_path, data[: int(len(data) * keep)], seekable) as src,
        out.open("wb") as dst,
        pytest.raises(e2ee_mail.Error),
    ):
        e2ee_mail.decrypt_stream(src, dst, key)
    assert out.read_bytes() == b""


@pytest.mark.parametrize("seekable", [True, False], ids=["file", "pipe"])
@pytest.mark.parametrize("form", ["der", "ber", "pem"])
def test_every_form_opens_from_files_and_pipes(
    tmp_path: Path,
    key: kx.X509SecretKey,
    sealed: dict[str, bytes],
    form: str,
    seekable: bool,
) -> None:
    assert _decrypt_to_file(tmp_path, sealed[form], key, seekable).read_bytes() == BODY


@given(
    size=st.sampled_from(
        [0, 1, 15, 16, 17, 4096, (1 << 20) - 1, 1 << 20, (1 << 20) + 1]
    ),
    seekable=st.booleans(),
    definite=st.booleans(),
)
def test_stream_round_trip(size: int, seekable: bool, definite: bool) -> None:
    key = _key()
    body = bytes((i * 7) & 0xFF for i in range(size))
    if definite:
        sealed = bytes(e2ee_mail.encrypt(body, [key.public], format="cms"))
    else:
        buf = io.BytesIO()
        e2ee_mail.encrypt_stream(io.BytesIO(body), buf, [key.public], format="cms")
        sealed = buf.getvalue()
    src: BinaryIO = (
        io.BytesIO(sealed) if seekable else io.BufferedReader(Pipe(sealed))  # type: ignore[assignment]
    )
    dst = io.BytesIO()
    e2ee_mail.decrypt_stream(src, dst, key)
    assert dst.getvalue() == body


_KEYS: list[kx.X509SecretKey] = []


def _key() -> kx.X509SecretKey:
    if not _KEYS:
        _KEYS.append(x509_keygen.generate("Hyp <h@example.org>", kind="x25519"))
    return _KEYS[0]


# --- the two passes: where the body is read again, what waits on disk ------------

#: Over the size from which the passes overlap reads, decryption and writes.
LARGE = bytes(range(256)) * (9 << 12)  # 9 MiB


class _Watcher(io.RawIOBase):
    """A dst that, at its first write (the tag has verified, the whole body has been
    read once), records what this process has open under ``root``: (path, content)."""

    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self.seen: list[tuple[str, bytes]] | None = None
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: object) -> int:
        if self.seen is None:
            self.seen = _open_under(self.root)
        view = memoryview(b)  # type: ignore[arg-type]
        self.data += view
        return len(view)


def _open_under(root: str) -> list[tuple[str, bytes]]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith(root):
                with open(f"/proc/self/fd/{fd}", "rb") as fh:
                    found.append((target, fh.read()))
        except OSError:
            continue
    return found


linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="looks at open files through /proc"
)


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(the system temporary directory, for this test; a spool_dir), both empty."""
    system, chosen = tmp_path / "system-tmp", tmp_path / "chosen"
    system.mkdir()
    chosen.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system))
    return system, chosen


@linux_only
@pytest.mark.parametrize("body", [BODY, LARGE], ids=["1MiB", "9MiB"])
@pytest.mark.parametrize("reads", [None, [1, 7, 4096, 65536]], ids=["whole", "trickle"])
def test_a_pipe_is_spooled_as_the_ciphertext_it_is_in_spool_dir(
    key: kx.X509SecretKey, dirs: tuple[Path, Path], body: bytes, reads: list[int] | None
) -> None:
    system, chosen = dirs
    sealed = bytes(e2ee_mail.encrypt(body, [key.public], format="cms"))
    dst = _Watcher(chosen)
    src = io.BufferedReader(Pipe(sealed) if reads is None else Trickle(sealed, reads))
    e2ee_mail.decrypt_stream(src, dst, key, spool_dir=chosen)
    assert bytes(dst.data) == body
    assert dst.seen is not None and len(dst.seen) == 1
    name, content = dst.seen[0]
    assert name.endswith("(deleted)")  # nameless: nothing to leave behind
    assert len(content) == len(body) and content in sealed  # the body's own octets
    assert list(system.iterdir()) == [] and list(chosen.iterdir()) == []


@linux_only
def test_a_seekable_source_is_read_twice_where_it_is(
    tmp_path: Path, key: kx.X509SecretKey, dirs: tuple[Path, Path]
) -> None:
    system, chosen = dirs
    sealed = bytes(e2ee_mail.encrypt(LARGE, [key.public], format="cms"))
    path = tmp_path / "in.p7m"
    path.write_bytes(b"before" + sealed)
    dst = _Watcher(tmp_path)
    with path.open("rb") as src:
        src.seek(6)
        e2ee_mail.decrypt_stream(src, dst, key, spool_dir=chosen)
        assert src.tell() == len(b"before" + sealed)  # left after the message
    assert bytes(dst.data) == LARGE
    assert dst.seen is not None
    assert [n for n, _ in dst.seen if not n.startswith(str(path))] == []  # no spool
    assert list(system.iterdir()) == [] and list(chosen.iterdir()) == []


class _ChangesBetweenPasses(io.RawIOBase):
    """A seekable source whose body changes after the first pass: when it seeks
    back to a place it sought back to before (the body's start, for the second
    pass), it serves ``later`` from then on."""

    def __init__(self, first: bytes, later: bytes) -> None:
        self._now = io.BytesIO(first)
        self._later = later
        self._back_to: set[int] = set()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._now.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        here = self._now.tell()
        target = self._now.seek(offset, whence)
        if target < here:
            if target in self._back_to:
                self._now = io.BytesIO(self._later)
                self._now.seek(target)
            self._back_to.add(target)
        return target

    def readinto(self, buf: bytearray | memoryview) -> int:  # type: ignore[override]
        return self._now.readinto(buf)


@pytest.mark.parametrize("body", [BODY, LARGE], ids=["1MiB", "9MiB"])
def test_a_source_changed_between_the_passes_fails_the_second_tag_check(
    key: kx.X509SecretKey, body: bytes
) -> None:
    sealed = bytes(e2ee_mail.encrypt(body, [key.public], format="cms"))
    altered = bytearray(sealed)
    altered[len(altered) // 2] ^= 0x01
    src = _ChangesBetweenPasses(sealed, bytes(altered))
    dst = io.BytesIO()
    with pytest.raises(e2ee_mail.DecryptionError):
        e2ee_mail.decrypt_stream(src, dst, key)  # type: ignore[arg-type]
    # The first pass verified the tag, the second found the change only at the end:
    # dst holds the altered plaintext, the residue decrypt_stream documents (the
    # CLI writes to a temporary file and removes it on the error).
    assert len(dst.getvalue()) == len(body) and dst.getvalue() != body


def test_a_spool_altered_between_the_passes_fails_the_second_tag_check(
    key: kx.X509SecretKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    from e2ee_mail.cms import passes

    verified = passes._first_that_opens

    def then_alter(*args: Any, **kwargs: Any) -> bytes | None:
        cek = verified(*args, **kwargs)
        spool = args[5].source  # the body: the spool, here
        spool.flush()
        fd = spool.fileno()
        os.pwrite(fd, bytes([os.pread(fd, 1, 1000)[0] ^ 1]), 1000)
        return cek

    monkeypatch.setattr(passes, "_first_that_opens", then_alter)
    sealed = bytes(e2ee_mail.encrypt(BODY, [key.public], format="cms"))
    with pytest.raises(e2ee_mail.DecryptionError):
        e2ee_mail.decrypt_stream(io.BufferedReader(Pipe(sealed)), io.BytesIO(), key)


@pytest.mark.parametrize("seekable", [True, False], ids=["file", "pipe"])
@pytest.mark.parametrize("form", ["der", "ber", "pem"])
def test_large_bodies_open_and_fail_closed(
    tmp_path: Path, key: kx.X509SecretKey, seekable: bool, form: str
) -> None:
    if form == "ber":
        buf = io.BytesIO()
        e2ee_mail.encrypt_stream(
            io.BufferedReader(Pipe(LARGE)), buf, [key.public], format="cms"
        )
        sealed = buf.getvalue()
    else:
        sealed = bytes(
            e2ee_mail.encrypt(LARGE, [key.public], format="cms", armor=form == "pem")
        )
    assert _decrypt_to_file(tmp_path, sealed, key, seekable).read_bytes() == LARGE
    altered = bytearray(sealed)
    altered[len(altered) // 3] ^= 0x04
    with pytest.raises(e2ee_mail.Error):
        _decrypt_to_file(tmp_path, bytes(altered), key, seekable)
    assert (tmp_path / "out").read_bytes() == b""


@pytest.fixture(scope="module")
def rsa_keys() -> tuple[kx.X509SecretKey, kx.X509SecretKey]:
    return (
        x509_keygen.generate("R1 <r1@example.org>", kind="rsa3072"),
        x509_keygen.generate("R2 <r2@example.org>", kind="rsa3072"),
    )


@pytest.mark.parametrize("seekable", [True, False], ids=["file", "pipe"])
@pytest.mark.parametrize("body", [BODY, LARGE], ids=["1MiB", "9MiB"])
def test_a_key_without_certificate_tries_each_content_key(
    tmp_path: Path,
    rsa_keys: tuple[kx.X509SecretKey, kx.X509SecretKey],
    seekable: bool,
    body: bytes,
) -> None:
    # Without its certificate the key is tried on every entry; RSA's implicit
    # rejection gives a content key for the other's entry too, which fails at the
    # tag: the body is read once per candidate, then once more to decrypt.
    other, ours = rsa_keys
    bare = kx.load_key(ours.export(armor=False), None)
    sealed = bytes(e2ee_mail.encrypt(body, [other.public, ours.public], format="cms"))
    out = tmp_path / "out"
    with _open(tmp_path, sealed, seekable) as src, out.open("wb") as dst:
        e2ee_mail.decrypt_stream(src, dst, bare)
    assert out.read_bytes() == body
