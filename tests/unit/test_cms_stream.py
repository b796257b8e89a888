"""cms decrypt_stream: nothing reaches dst unless the tag verified, whatever the
source (a regular file, a pipe-like stream) and whatever the damage; round trips."""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

import pytest
from doubles import Pipe
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
