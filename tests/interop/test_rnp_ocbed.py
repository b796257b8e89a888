"""Interop with rnp: its LibrePGP OCB Encrypted Data packets (type 20), OCB and EAX.

``rnp --encrypt --aead=ocb|eax`` to keys made by GnuPG 2.2 (cv25519 and RSA-3072
subkeys, so v3 PKESKs with ECDH and RSA), at several chunk sizes
(``--aead-chunk-bits``), ciphers, compressed or not, binary and armored; bodies of
several chunks. We open each with the bytes API and the stream API, inspect names the
packet, damaged and truncated copies are refused with nothing unauthenticated
released, and a rewrapped message (new v3 PKESKs, the type 20 packet copied) opens in
rnp. A key made by ``rnpkeys --generate-key`` (its default, RSA-2048) works the same.
GnuPG 2.2 cannot write type 20 packets; rnp covers both modes.

The peers' versions are in the session header (tests/conftest.py).
"""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from gpg import gpg_home
from peers import require_peer

import e2ee_mail
from e2ee_mail.openpgp.certs import OpenPGPSecretKey

pytestmark = pytest.mark.interop
#: 300 000 octets: two chunks at rnp's default size (256 KiB), thousands at 64.
BODY = bytes((i * 131 + (i >> 9)) % 256 for i in range(300_000))


@dataclass(frozen=True)
class GpgKey:
    fpr: str
    public: Path
    secret: Path
    key: OpenPGPSecretKey


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, GpgKey]]:
    require_peer("gpg")
    require_peer("rnp")
    out = tmp_path_factory.mktemp("rnp-keys")
    found = {}
    with gpg_home() as home:
        for kind in ("cv25519", "rsa3072"):
            fpr = home.generate(f"{kind} <{kind}@example.org>", kind=kind)
            public, secret = out / f"{kind}.pub.asc", out / f"{kind}.sec.asc"
            public.write_bytes(home.export_public(fpr))
            secret.write_bytes(home.export_secret(fpr))
            key = e2ee_mail.load_key(secret.read_bytes())
            assert isinstance(key, OpenPGPSecretKey)
            found[kind] = GpgKey(fpr, public, secret, key)
    yield found


def rnp(tmp: Path, *args: str) -> bytes:
    """Run rnp with a fresh home under ``tmp``; its output file's bytes."""
    exe = require_peer("rnp")
    home = tmp / "rnp-home"
    home.mkdir(exist_ok=True)
    target = tmp / "rnp-out"
    proc = subprocess.run(
        [exe, "--homedir", str(home), *args, "--overwrite", "--output", str(target)],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    return target.read_bytes()


def rnp_encrypt(tmp: Path, key: GpgKey, *options: str) -> bytes:
    source = tmp / "body"
    source.write_bytes(BODY)
    return rnp(
        tmp,
        "--keyfile",
        str(key.public),
        "--encrypt",
        "--recipient",
        key.fpr,
        *options,
        str(source),
    )


def opened(msg: bytes, key: OpenPGPSecretKey) -> tuple[bytes, bytes]:
    """(bytes API, stream API)."""
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(io.BytesIO(msg), out, [key])
    return bytes(e2ee_mail.decrypt(msg, [key])), out.getvalue()


CASES = [
    # (AEAD, rnp options, chunk size, cipher name)
    ("ocb", (), 1 << 18, "AES-256"),
    ("eax", (), 1 << 18, "AES-256"),
    ("ocb", ("--aead-chunk-bits", "0"), 64, "AES-256"),
    ("eax", ("--aead-chunk-bits", "0"), 64, "AES-256"),
    ("ocb", ("--aead-chunk-bits", "6", "-z", "0"), 4096, "AES-256"),
    ("eax", ("--aead-chunk-bits", "10", "--cipher", "AES128"), 65536, "AES-128"),
    ("ocb", ("--aead-chunk-bits", "16", "--cipher", "AES192"), 1 << 22, "AES-192"),
    ("eax", ("--aead-chunk-bits", "16", "-z", "0", "--armor"), 1 << 22, "AES-256"),
]


@pytest.mark.parametrize("kind", ["cv25519", "rsa3072"])
@pytest.mark.parametrize(("aead", "options", "chunk", "cipher"), CASES)
def test_we_open_rnp_messages(
    keys: dict[str, GpgKey],
    tmp_path: Path,
    kind: str,
    aead: str,
    options: tuple[str, ...],
    chunk: int,
    cipher: str,
) -> None:
    key = keys[kind]
    msg = rnp_encrypt(tmp_path, key, f"--aead={aead}", *options)
    found = e2ee_mail.inspect(msg)
    details = dict(found.details)
    assert details["packet"] == (
        f"LibrePGP OCB encrypted data, {cipher}, {aead.upper()}"
    )
    assert details["chunk size"] == str(chunk)
    assert [r.type for r in found.recipients] == ["PKESKv3"]
    assert opened(msg, key.key) == (BODY, BODY)


@pytest.mark.parametrize("aead", ["ocb", "eax"])
def test_damaged_rnp_messages_are_refused(
    keys: dict[str, GpgKey], tmp_path: Path, aead: str
) -> None:
    key = keys["cv25519"]
    # Uncompressed, small chunks: the damage lands in a known chunk.
    msg = rnp_encrypt(
        tmp_path, key, f"--aead={aead}", "--aead-chunk-bits", "4", "-z", "0"
    )
    assert opened(msg, key.key) == (BODY, BODY)
    middle = len(msg) // 2
    variants = {
        "flipped in a middle chunk": msg[:middle]
        + bytes([msg[middle] ^ 4])
        + msg[middle + 1 :],
        "final tag flipped": msg[:-1] + bytes([msg[-1] ^ 1]),
        "final tag missing": msg[:-16],
        "truncated in a chunk": msg[: middle + 7],
    }
    for name, damaged in variants.items():
        with pytest.raises(e2ee_mail.Error):
            e2ee_mail.decrypt(damaged, [key.key])
        out = io.BytesIO()
        with pytest.raises(e2ee_mail.Error):
            e2ee_mail.decrypt_stream(io.BytesIO(damaged), out, [key.key])
        released = out.getvalue()
        assert BODY.startswith(released), name
        # Nothing of the last chunk, whose tag never verified after the damage.
        assert len(released) < len(BODY), name


def test_rewrapped_rnp_message_opens_in_rnp(
    keys: dict[str, GpgKey], tmp_path: Path
) -> None:
    """cv25519 -> RSA-3072: new v3 PKESK, the type 20 packet copied byte for byte."""
    source, target = keys["cv25519"], keys["rsa3072"]
    for aead in ("ocb", "eax"):
        msg = rnp_encrypt(tmp_path, source, f"--aead={aead}", "--armor")
        out = e2ee_mail.rewrap(msg, [source.key], [target.key.public])
        stream = io.BytesIO()
        e2ee_mail.rewrap_stream(
            io.BytesIO(msg), stream, [source.key], [target.key.public]
        )
        for rewrapped in (bytes(out), stream.getvalue()):
            (tmp_path / "rewrapped.asc").write_bytes(rewrapped)
            plain = rnp(
                tmp_path,
                "--keyfile",
                str(target.secret),
                "--password",
                "",
                "--decrypt",
                str(tmp_path / "rewrapped.asc"),
            )
            assert plain == BODY


@pytest.mark.parametrize("aead", ["ocb", "eax"])
def test_rnp_made_key(tmp_path: Path, aead: str) -> None:
    require_peer("rnp")
    rnpkeys = shutil.which("rnpkeys")
    assert rnpkeys, "rnpkeys comes with rnp"
    home = tmp_path / "rnp-home"
    home.mkdir()
    uid = "Rhea <rhea@example.org>"

    def run(exe: str, *args: str) -> bytes:
        proc = subprocess.run(
            [exe, "--homedir", str(home), *args],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
        return proc.stdout

    run(rnpkeys, "--generate-key", "--userid", uid, "--password", "")
    secret = run(rnpkeys, "--export-key", "--secret", uid, "--password", "")
    key = e2ee_mail.load_key(secret)
    assert isinstance(key, OpenPGPSecretKey)
    source, target = tmp_path / "body", tmp_path / "body.pgp"
    source.write_bytes(BODY)
    rnp_args = ["--encrypt", f"--aead={aead}", "--recipient", uid]
    run(require_peer("rnp"), *rnp_args, "--output", str(target), str(source))
    assert opened(target.read_bytes(), key) == (BODY, BODY)
