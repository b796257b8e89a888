"""Edge I/O: atomic writes, secret files, spools, prefixed readers."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest
from doubles import Pipe
from hypothesis import given
from hypothesis import strategies as st

import e2ee_mail
from e2ee_mail import _io
from e2ee_mail._io import (
    PrefixedReader,
    atomic_writer,
    current_umask,
    read_input,
    sealed_spool,
    spool,
    write_files_atomically,
    write_secret_file,
)


def test_atomic_writer_leaves_target_untouched_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"original")
    with pytest.raises(RuntimeError), atomic_writer(target) as fh:
        fh.write(b"partial")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"original"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_atomic_writer_replaces_target_on_success(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with atomic_writer(target) as fh:
        fh.write(b"new")
    assert target.read_bytes() == b"new"


def test_secret_file_is_written_0600(tmp_path: Path) -> None:
    target = tmp_path / "k.key"
    write_secret_file(target, b"secret")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert target.read_bytes() == b"secret"


def test_spool_is_private_and_has_no_name(tmp_path: Path) -> None:
    # Unlinked as soon as it is open: a SIGKILL cannot leave it behind.
    with spool(str(tmp_path)) as fh:
        fh.write(b"x")
        assert stat.S_IMODE(os.fstat(fh.fileno()).st_mode) == 0o600
        assert list(tmp_path.iterdir()) == []
        fh.seek(0)
        assert fh.read() == b"x"
    assert list(tmp_path.iterdir()) == []
    assert not _io._TEMPORARIES


MARKER = b"<plaintext marker 7d1f>"


@pytest.mark.parametrize("size", [0, 1, (1 << 20) - 1, 1 << 20, 3 * (1 << 20) + 17])
def test_sealed_spool_gives_back_what_it_took(tmp_path: Path, size: int) -> None:
    data = (MARKER * (size // len(MARKER) + 1))[:size]
    with sealed_spool(str(tmp_path)) as sp:
        for i in range(0, size, 100_000):
            sp.write(data[i : i + 100_000])
        reader = sp.reader()
        assert reader.read() == data


def test_sealed_spool_holds_no_plaintext_on_disk(tmp_path: Path) -> None:
    data = MARKER * 100_000
    with sealed_spool(str(tmp_path)) as sp:
        sp.write(data)
        reader = sp.reader()
        raw = os.pread(sp._fh.fileno(), 2 * len(data), 0)
        assert len(raw) > len(data)  # everything is on disk, sealed
        assert MARKER not in raw
        assert reader.read() == data


def test_sealed_spool_refuses_a_chunk_altered_on_disk(tmp_path: Path) -> None:
    with sealed_spool(str(tmp_path)) as sp:
        sp.write(MARKER * 100_000)
        reader = sp.reader()
        fd = sp._fh.fileno()
        os.pwrite(fd, bytes([os.pread(fd, 1, 1000)[0] ^ 1]), 1000)
        with pytest.raises(e2ee_mail.DecryptionError):
            reader.read()


def test_sealed_spool_takes_nothing_once_read_back(tmp_path: Path) -> None:
    with sealed_spool(str(tmp_path)) as sp:
        sp.write(b"x")
        sp.reader()
        with pytest.raises(e2ee_mail.UsageError):
            sp.write(b"y")


def test_remove_temporaries_sweeps_what_a_clean_up_skipped(tmp_path: Path) -> None:
    # A signal inside a clean-up skips the rest of it; the CLI sweeps afterwards.
    fd, name = _io._create_temp(str(tmp_path), ".skipped.")
    os.close(fd)
    with atomic_writer(tmp_path / "done") as fh:
        fh.write(b"kept")
    assert sorted(p.name for p in tmp_path.iterdir()) == [Path(name).name, "done"]
    _io.remove_temporaries()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["done"]
    assert not _io._TEMPORARIES


def test_read_input_accepts_bytes_paths_and_pem_text(tmp_path: Path) -> None:
    path = tmp_path / "c.pem"
    path.write_bytes(b"data")
    assert read_input(path, what="certificate") == b"data"
    assert read_input(str(path), what="certificate") == b"data"
    assert read_input(bytearray(b"ab"), what="x") == b"ab"
    pem = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"
    assert read_input(pem, what="certificate") == pem.encode()


def test_read_input_missing_file_is_key_load_error(tmp_path: Path) -> None:
    with pytest.raises(e2ee_mail.KeyLoadError, match="cannot read"):
        read_input(tmp_path / "missing", what="key")


def test_read_input_rejects_other_types() -> None:
    with pytest.raises(e2ee_mail.UsageError):
        read_input(42, what="key")  # type: ignore[arg-type]


@given(st.binary(max_size=300), st.binary(max_size=300), st.integers(1, 64))
def test_prefixed_reader_yields_head_then_rest(
    head: bytes, rest: bytes, step: int
) -> None:
    reader = PrefixedReader(head, io.BytesIO(rest))
    got = bytearray()
    buf = bytearray(step)
    while n := reader.readinto(buf):
        got += buf[:n]
    assert bytes(got) == head + rest
    assert PrefixedReader(head, io.BytesIO(rest)).read() == head + rest


def test_atomic_writer_temp_file_is_private_and_next_to_target(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with atomic_writer(target, mode=0o600) as fh:
        siblings = [p for p in tmp_path.iterdir() if p.name != "out.bin"]
        assert len(siblings) == 1 and siblings[0].name.startswith(".out.bin.")
        assert stat.S_IMODE(os.stat(siblings[0]).st_mode) == 0o600
        fh.write(b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_atomic_writer_never_reuses_an_existing_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first two names drawn are taken (one by a planted symlink): the writer must
    # skip them, never write through the link, and leave both untouched.
    from e2ee_mail import _io

    draws = iter([b"\x01" * 8, b"\x02" * 8, b"\x03" * 8])
    monkeypatch.setattr(_io, "random_bytes", lambda n: next(draws))
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    (tmp_path / f".out.bin.{'01' * 8}").write_bytes(b"taken")
    (tmp_path / f".out.bin.{'02' * 8}").symlink_to(victim)
    with atomic_writer(tmp_path / "out.bin") as fh:
        fh.write(b"new")
    assert (tmp_path / "out.bin").read_bytes() == b"new"
    assert victim.read_bytes() == b"keep"
    assert (tmp_path / f".out.bin.{'01' * 8}").read_bytes() == b"taken"


def test_atomic_writer_accepts_a_bare_file_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with atomic_writer("plain.txt") as fh:
        fh.write(b"here")
    assert (tmp_path / "plain.txt").read_bytes() == b"here"


def test_atomic_writer_applies_the_umask_unless_told_not_to(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        assert current_umask() == 0o027
        assert current_umask() == 0o027  # reading it changed nothing
        with atomic_writer(tmp_path / "a") as fh:
            fh.write(b"a")
        with atomic_writer(tmp_path / "b", mode=0o600) as fh:
            fh.write(b"b")
        with atomic_writer(tmp_path / "c", mode=0o644, umask=False) as fh:
            fh.write(b"c")
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert modes == {"a": 0o640, "b": 0o600, "c": 0o644}


def test_write_files_atomically_renames_in_order_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    write_files_atomically([(first, b"1", 0o600), (second, b"2", 0o644)])
    assert (first.read_bytes(), second.read_bytes()) == (b"1", b"2")
    renamed: list[str] = []
    real_replace = os.replace

    def replace(src: str, dst: str) -> None:
        renamed.append(os.path.basename(dst))
        if len(renamed) == 2:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="No space"):
        write_files_atomically([(first, b"x", 0o600), (second, b"y", 0o600)])
    assert renamed == ["one", "two"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "two"]


def test_prefixed_reader_over_a_seekable_source_seeks_as_it() -> None:
    src = io.BytesIO(b"0123456789abcdef")
    src.seek(2)
    reader = PrefixedReader(src.read(4), src)  # peeked at "2345"
    assert reader.seekable() and reader.tell() == 2
    assert reader.read(3) == b"234" and reader.tell() == 5
    assert reader.seek(1) == 1 and reader.read(2) == b"12"
    assert reader.seek(2, os.SEEK_CUR) == 5 and reader.read() == b"56789abcdef"
    assert not PrefixedReader(b"x", io.BufferedReader(Pipe(b""))).seekable()
