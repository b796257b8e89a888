"""Password-encrypted OpenPGP messages (SKESK) against real peers, both directions.

v4 entries (before SEIPDv1) with GnuPG 2.2, sqop, gosop, pysequoia and OpenPGP.js;
v6 entries (before SEIPDv2, Argon2 or iterated S2K, GCM or OCB) with pysequoia and
OpenPGP.js (GnuPG 2.2, sqop 0.27 and gosop's GopenPGP 2 predate RFC 9580).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from gpg import gpg_home
from peers import node, require_peer, require_pysequoia

from e2ee_mail.openpgp import message
from e2ee_mail.policy import DEFAULT, RFC4880, RFC9580, Policy

pytestmark = pytest.mark.interop

PASSWORD = "correct horse battery staple"
BODY = b"opened with a password\n" * 20


def _ours(data: bytes) -> bytes:
    return bytes(
        message.decrypt(data, [], policy=DEFAULT, passwords=[PASSWORD.encode()])
    )


def _sealed(policy: Policy, *, armor: bool = True) -> bytes:
    return bytes(
        message.encrypt(
            BODY, [], armor=armor, policy=policy, passwords=[PASSWORD.encode()]
        )
    )


def _run(cmd: list[str], data: bytes, cwd: Path | None = None) -> bytes:
    proc = subprocess.run(
        cmd, input=data, capture_output=True, timeout=120, check=False, cwd=cwd
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout


@pytest.mark.parametrize("cipher", ["AES", "AES256"])
def test_gnupg_symmetric_opens_here_and_ours_opens_there(cipher: str) -> None:
    require_peer("gpg")
    with gpg_home() as home:
        sealed = home.run(
            ["--symmetric", "--cipher-algo", cipher, "--output", "-"],
            input=BODY,
            passphrase=PASSWORD,
        ).stdout
        assert _ours(sealed) == BODY
        opened = home.run(
            ["--decrypt", "--output", "-"], input=_sealed(RFC4880), passphrase=PASSWORD
        ).stdout
    assert opened == BODY


@pytest.mark.parametrize("sop", ["sqop", "gosop"])
def test_sop_peers_with_password(sop: str, tmp_path: Path) -> None:
    exe = require_peer(sop)
    # gosop reads the password from a file whose path is at least five characters.
    password_file = tmp_path / "password.txt"
    password_file.write_text(PASSWORD)
    password = f"--with-password={password_file}"
    opened = _ours(_run([exe, "encrypt", "--as=binary", password], BODY))
    if sop == "gosop":
        # gosop (GopenPGP 2.5) writes a text literal packet, its line ends made
        # CRLF, whatever --as says.
        opened = opened.replace(b"\r\n", b"\n")
    assert opened == BODY
    assert _run([exe, "decrypt", password], _sealed(RFC4880)) == BODY


@pytest.mark.parametrize("policy", [RFC9580, RFC4880], ids=["v6", "v4"])
def test_pysequoia_with_password(policy: Policy) -> None:
    sequoia = require_pysequoia()
    assert sequoia.decrypt(_sealed(policy), passwords=[PASSWORD]).bytes == BODY
    assert _ours(sequoia.encrypt(BODY, passwords=[PASSWORD])) == BODY


@pytest.mark.parametrize(
    ("aead", "s2k"), [("gcm", "argon2"), ("ocb", "iterated"), ("none", "iterated")]
)
def test_openpgpjs_writes_and_we_read(aead: str, s2k: str, tmp_path: Path) -> None:
    plain, sealed = tmp_path / "plain", tmp_path / "sealed.pgp"
    plain.write_bytes(BODY)
    node("password.mjs", "encrypt", PASSWORD, aead, s2k, str(plain), str(sealed))
    assert _ours(sealed.read_bytes()) == BODY


@pytest.mark.parametrize("policy", [RFC9580, RFC4880], ids=["v6", "v4"])
def test_we_write_and_openpgpjs_reads(policy: Policy, tmp_path: Path) -> None:
    sealed, opened = tmp_path / "sealed.asc", tmp_path / "opened"
    sealed.write_bytes(_sealed(policy))
    node("password.mjs", "decrypt", PASSWORD, str(sealed), str(opened))
    assert opened.read_bytes() == BODY
