"""_io.copy_spool: the verified spool reaches any destination whole, in order."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import pytest

from e2ee_mail import _io

DATA = bytes(i % 251 for i in range(3 * (1 << 20) + 17))


@pytest.mark.parametrize("prefix", [b"", b"already written "])
def test_copy_to_a_real_file_appends_after_what_dst_holds(
    tmp_path: Path, prefix: bytes
) -> None:
    target = tmp_path / "out"
    with _io.spool() as tmp, target.open("wb") as dst:
        tmp.write(DATA)  # left positioned at the end, unflushed
        dst.write(prefix)  # still in dst's buffer
        _io.copy_spool(tmp, dst)
        dst.write(b"!")
    assert target.read_bytes() == prefix + DATA + b"!"


def test_copy_to_a_file_object_without_fileno() -> None:
    out = io.BytesIO()
    with _io.spool() as tmp:
        tmp.write(DATA)
        _io.copy_spool(tmp, out)
    assert out.getvalue() == DATA


def test_copy_to_a_pipe() -> None:
    read_fd, write_fd = os.pipe()
    received = bytearray()

    def drain() -> None:
        with os.fdopen(read_fd, "rb") as src:
            received.extend(src.read())

    reader = threading.Thread(target=drain)
    reader.start()
    with _io.spool() as tmp, os.fdopen(write_fd, "wb") as dst:
        tmp.write(DATA)
        _io.copy_spool(tmp, dst)
    reader.join()
    assert bytes(received) == DATA
