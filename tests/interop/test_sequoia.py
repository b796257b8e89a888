"""Interop with Sequoia: the ``sq`` command line, default settings, both directions,
and Sequoia's Python binding (pysequoia) for v6 keys.

* ``sq encrypt`` to our exported v4 and v6 certificates, armored and binary; we
  decrypt (bytes and stream). Its default compression is "pad": a ZIP stream with
  padding after its end inside the Compressed Data packet.
* We encrypt, armored and binary, to a key made by ``sq key generate``; ``sq decrypt``
  opens it. We load that key and open sq's message to it; ``sq decrypt`` opens our
  message with our exported v4 secret key.
* sq before sequoia-openpgp 2 (Debian bookworm's sq 0.27) predates v6 keys and
  refuses our v6 certificate; pysequoia (sequoia-openpgp 2) covers v6 both ways.

The peers' versions are in the session header (tests/conftest.py).
"""

from __future__ import annotations

import io
import os
import re
import subprocess
from pathlib import Path

import pytest
from peers import peer_version, require_peer, require_pysequoia

import e2ee_mail
from e2ee_mail.openpgp import inspection

pytestmark = pytest.mark.interop
BODY = b"sequoia interop \x00\xff\r\n" * 200
PROFILES = {"v4": "rfc4880", "v6": "rfc9580"}


def _sq_library_major() -> int:
    """The major version of the sequoia-openpgp library behind ``sq``."""
    require_peer("sq")
    found = re.search(r"sequoia-openpgp (\d+)\.", peer_version("sq") or "")
    assert found, f"cannot read sq's library version from {peer_version('sq')!r}"
    return int(found.group(1))


def sq(home: Path, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
    """Run ``sq args`` (0.x command line) with ``home`` as HOME; its stdout."""
    exe = require_peer("sq")
    version = peer_version("sq") or ""
    if not version.startswith("sq 0."):
        pytest.fail(
            f"{version}: these tests speak the sq 0.x command line "
            "(--recipient-cert, --recipient-key, key generate --export); "
            "sq 1.x renamed those options"
        )
    proc = subprocess.run(
        [exe, *args],
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, "HOME": str(home), "LC_ALL": "C"},
    )
    if check:
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    elif proc.returncode == 0:
        pytest.fail(f"sq {' '.join(args)} succeeded where it was expected to fail")
    return proc.stdout if check else proc.stderr


@pytest.fixture(scope="module")
def ours(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[e2ee_mail.SecretKey, Path]]:
    """Our keys, v4 and v6, each exported as ``<version>.pub`` and ``<version>.key``."""
    out = tmp_path_factory.mktemp("ours")
    keys: dict[str, tuple[e2ee_mail.SecretKey, Path]] = {}
    for version, profile in PROFILES.items():
        key = e2ee_mail.generate_key(
            f"Ours {version} <ours-{version}@example.org>", profile=profile
        )
        (out / f"{version}.pub").write_bytes(key.public.export())
        (out / f"{version}.key").write_bytes(key.export())
        keys[version] = (key, out / version)
    return keys


@pytest.fixture(scope="module")
def sq_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A key made by ``sq key generate`` with its defaults; its cert beside it."""
    home = tmp_path_factory.mktemp("sq")
    key = home / "sq.key"
    sq(home, "key", "generate", "--userid", "Sq <sq@example.org>", "--export", str(key))
    sq(home, "key", "extract-cert", "--output", str(home / "sq.cert"), str(key))
    return key


def _open_both_ways(sealed: bytes, key: e2ee_mail.SecretKey) -> None:
    assert e2ee_mail.decrypt(sealed, key) == BODY
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(io.BytesIO(sealed), out, key)
    assert out.getvalue() == BODY


@pytest.mark.parametrize("armored", [True, False], ids=["armored", "binary"])
@pytest.mark.parametrize("version", sorted(PROFILES))
def test_sq_encrypts_to_our_certificate_we_decrypt(
    tmp_path: Path,
    ours: dict[str, tuple[e2ee_mail.SecretKey, Path]],
    version: str,
    armored: bool,
) -> None:
    key, prefix = ours[version]
    args = ["encrypt", "--recipient-cert", f"{prefix}.pub"]
    if not armored:
        args.append("--binary")
    if version == "v6" and _sq_library_major() < 2:
        refusal = sq(tmp_path, *args, input=BODY, check=False)
        assert b"Unsupported" in refusal, refusal
        return
    sealed = sq(tmp_path, *args, input=BODY)
    assert sealed.startswith(b"-----BEGIN PGP MESSAGE-----") == armored
    _open_both_ways(sealed, key)


def test_sq_decrypts_with_our_v4_secret_key(
    tmp_path: Path, ours: dict[str, tuple[e2ee_mail.SecretKey, Path]]
) -> None:
    key, prefix = ours["v4"]
    sealed = e2ee_mail.encrypt(BODY, key.public)
    assert (
        sq(tmp_path, "decrypt", "--recipient-key", f"{prefix}.key", input=sealed)
        == BODY
    )


@pytest.mark.parametrize("armored", [True, False], ids=["armored", "binary"])
def test_we_encrypt_to_an_sq_key_sq_decrypts(
    tmp_path: Path, sq_key: Path, armored: bool
) -> None:
    cert = e2ee_mail.load_certificate(sq_key.with_name("sq.cert"))
    sealed = e2ee_mail.encrypt(BODY, cert, armor=armored)
    assert sq(tmp_path, "decrypt", "--recipient-key", str(sq_key), input=sealed) == BODY


def test_we_read_an_sq_key(tmp_path: Path, sq_key: Path) -> None:
    """sq's own message to its own key, opened with that key as we load it."""
    key = e2ee_mail.load_key(sq_key)
    sealed = sq(
        tmp_path,
        "encrypt",
        "--recipient-cert",
        str(sq_key.with_name("sq.cert")),
        input=BODY,
    )
    _open_both_ways(sealed, key)


@pytest.mark.parametrize("armored", [True, False], ids=["armored", "binary"])
def test_pysequoia_encrypts_to_our_v6_certificate_we_decrypt(
    ours: dict[str, tuple[e2ee_mail.SecretKey, Path]], armored: bool
) -> None:
    ps = require_pysequoia()
    key, prefix = ours["v6"]
    cert = ps.Cert.from_bytes(Path(f"{prefix}.pub").read_bytes())
    sealed = bytes(ps.encrypt(BODY, [cert], armor=armored))
    assert inspection.inspect(sealed).content_algorithm.startswith("seipdv2")
    _open_both_ways(sealed, key)


@pytest.mark.parametrize("armored", [True, False], ids=["armored", "binary"])
def test_we_encrypt_to_a_pysequoia_v6_key_it_decrypts(armored: bool) -> None:
    ps = require_pysequoia()
    tsk = ps.Tsk.generate("Py <py@example.org>", profile=ps.Profile.RFC9580)
    cert = e2ee_mail.load_certificate(bytes(tsk.extract_certificate()))
    sealed = e2ee_mail.encrypt(BODY, cert, armor=armored)
    assert ps.decrypt(bytes(sealed), decryptor=tsk.decryptor()).bytes == BODY
