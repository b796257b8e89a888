"""e2ee_mail.inspect reads bytes, a path or a stream in bounded memory, and says
the same as the in-memory descriptions of each format."""

from __future__ import annotations

import io
import os
import tracemalloc
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

import e2ee_mail
from e2ee_mail._inspect import Inspection
from e2ee_mail.cms import envelope
from e2ee_mail.mime import detect
from e2ee_mail.openpgp import inspection as pgp_inspection


@pytest.fixture(scope="module")
def keys() -> dict[str, e2ee_mail.SecretKey]:
    return {
        "x509": e2ee_mail.generate_key("Ann <ann@example.org>", format="x509"),
        "openpgp": e2ee_mail.generate_key("Ben <ben@example.org>", format="openpgp"),
        "openpgp-v4": e2ee_mail.generate_key(
            "Cat <cat@example.org>", format="openpgp", profile="rfc4880"
        ),
    }


def _mail(size: int) -> EmailMessage:
    msg = EmailMessage(policy=policy.default)
    msg["From"] = "Dan <dan@example.org>"
    msg["To"] = "Ann <ann@example.org>"
    msg["Subject"] = "report"
    msg.set_content("see attachment\n")
    msg.add_attachment(
        os.urandom(size), maintype="application", subtype="octet-stream", filename="a"
    )
    return msg


def _cms_stream(body: bytes, cert: e2ee_mail.Certificate) -> bytes:
    out = io.BytesIO()
    e2ee_mail.encrypt_stream(io.BytesIO(body), out, cert, format="cms")
    return out.getvalue()


Maker = Callable[[dict[str, e2ee_mail.SecretKey], int], bytes]
MAKERS: dict[str, Maker] = {
    "cms-der": lambda k, n: bytes(
        e2ee_mail.encrypt(os.urandom(n), k["x509"].public, format="cms")
    ),
    "cms-pem": lambda k, n: bytes(
        e2ee_mail.encrypt(os.urandom(n), k["x509"].public, format="cms", armor=True)
    ),
    "cms-ber": lambda k, n: _cms_stream(os.urandom(n), k["x509"].public),
    "openpgp": lambda k, n: bytes(
        e2ee_mail.encrypt(os.urandom(n), k["openpgp"].public)
    ),
    "openpgp-armor": lambda k, n: bytes(
        e2ee_mail.encrypt(os.urandom(n), k["openpgp"].public, armor=True)
    ),
    "openpgp-v4": lambda k, n: bytes(
        e2ee_mail.encrypt(os.urandom(n), k["openpgp-v4"].public)
    ),
    "smime": lambda k, n: e2ee_mail.encrypt_message(
        _mail(n), k["x509"].public, format="smime"
    ).as_bytes(),
    "pgpmime": lambda k, n: e2ee_mail.encrypt_message(
        _mail(n), k["openpgp"].public, format="pgpmime"
    ).as_bytes(),
}


def _in_memory(name: str, data: bytes) -> Inspection:
    """The description each format gives of a message held in memory."""
    if name.startswith("cms"):
        return envelope.inspect(data)
    if name.startswith("openpgp"):
        return pgp_inspection.inspect(data)
    return detect.inspect(detect.parse(data))


class _Pipe(io.RawIOBase):
    """A non-seekable reader handing out at most 4000 octets per read."""

    def __init__(self, data: bytes | io.BufferedIOBase) -> None:
        self._src = io.BytesIO(data) if isinstance(data, bytes) else data

    def readable(self) -> bool:
        return True

    def readinto(self, buf: bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = self._src.read(min(len(buf), 4000))
        memoryview(buf)[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_bytes_path_file_and_pipe_say_the_same(
    keys: dict[str, e2ee_mail.SecretKey], name: str, tmp_path: Path
) -> None:
    data = MAKERS[name](keys, 200_000)
    path = tmp_path / "message"
    path.write_bytes(data)
    want = _in_memory(name, data)
    assert e2ee_mail.inspect(data) == want
    assert e2ee_mail.inspect(path) == want
    assert e2ee_mail.inspect(str(path)) == want
    with open(path, "rb") as fh:
        assert e2ee_mail.inspect(fh) == want
    assert e2ee_mail.inspect(io.BufferedReader(_Pipe(data))) == want
    assert want.recipients


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_a_truncated_message_is_reported(
    keys: dict[str, e2ee_mail.SecretKey], name: str
) -> None:
    data = MAKERS[name](keys, 200_000)
    cut = data[: len(data) // 2]
    with pytest.raises(e2ee_mail.Error):
        e2ee_mail.inspect(io.BufferedReader(_Pipe(cut)))


def _peak(source: object) -> int:
    tracemalloc.start()
    try:
        e2ee_mail.inspect(source)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_inspect_reads_in_bounded_memory(
    keys: dict[str, e2ee_mail.SecretKey], name: str, tmp_path: Path
) -> None:
    peaks = []
    for size in (4 << 20, 24 << 20):
        path = tmp_path / f"m{size}"
        path.write_bytes(MAKERS[name](keys, size))
        from_file = _peak(path)
        with open(path, "rb") as fh:
            from_pipe = _peak(io.BufferedReader(_Pipe(fh)))
        peaks.append((from_file, from_pipe))
    # 24 times the message, the same few read buffers, from a file (the body
    # skipped by seeking where the format allows) and from a pipe (read through).
    for small, large in zip(peaks[0], peaks[1], strict=True):
        assert large < small + (2 << 20)
        assert large < 10 << 20
