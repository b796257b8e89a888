"""Interop with gpgsm (GnuPG 2.2), driven non-interactively in a temporary GNUPGHOME.

The key goes in as PKCS#12 (PBES1 3DES, which gpgsm 2.2's parser reads) with the
passphrase through loopback pinentry (``--pinentry-mode loopback --passphrase-fd 0``;
``--passphrase`` alone does not reach the PKCS#12 import). To encrypt, gpgsm needs the
self-signed certificate in trustlist.txt ("<SHA-1 fingerprint> S relax") and
``--disable-crl-checks``.

Cases: our legacy EnvelopedData (cipher="aes-256-cbc", DER, PEM and streamed BER)
opened by gpgsm; gpgsm's own output opened by us only with the opt-in; and our
AuthEnvelopedData, which gpgsm 2.2 cannot read (xfail with its error) — the reason the
legacy mode exists.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import PrivateFormat, pkcs12
from peers import require_peer

import e2ee_mail
from e2ee_mail.x509 import certs as kx
from e2ee_mail.x509 import keygen as x509_keygen

pytestmark = pytest.mark.interop

BODY = b"gpgsm interop body\n" * 200
PASSPHRASE = b"interop-test-only"


@pytest.fixture(scope="module")
def key() -> kx.X509SecretKey:
    return x509_keygen.generate("Gus <gus@example.org>", kind="rsa3072")


@pytest.fixture(scope="module")
def gpgsm(key: kx.X509SecretKey) -> Iterator[tuple[str, dict[str, str]]]:
    exe = require_peer("gpgsm")
    # A short path: gpg-agent's socket path must fit in sun_path.
    home = tempfile.mkdtemp(prefix="e2g", dir="/tmp")
    env = dict(os.environ, GNUPGHOME=home)
    Path(home, "gpg-agent.conf").write_text("allow-loopback-pinentry\n")
    sha1 = key.public._cert.fingerprint(hashes.SHA1()).hex(":").upper()
    Path(home, "trustlist.txt").write_text(f"{sha1} S relax\n")
    encryption = (
        PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())
        .build(PASSPHRASE)
    )
    p12 = pkcs12.serialize_key_and_certificates(
        b"gus",
        key.private_key,
        key.public._cert,
        None,
        encryption,
    )
    Path(home, "key.p12").write_bytes(p12)
    proc = subprocess.run(
        [
            exe,
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase-fd",
            "0",
            "--import",
            str(Path(home, "key.p12")),
        ],
        input=PASSPHRASE + b"\n",
        capture_output=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    try:
        yield exe, env
    finally:
        with contextlib.suppress(OSError):
            subprocess.run(
                ["gpgconf", "--kill", "gpg-agent"],
                env=env,
                capture_output=True,
                check=False,
            )
        import shutil

        shutil.rmtree(home, ignore_errors=True)


def _gpgsm_decrypt(
    gpgsm: tuple[str, dict[str, str]], data: bytes, tmp_path: Path
) -> subprocess.CompletedProcess[bytes]:
    exe, env = gpgsm
    src = tmp_path / "msg"
    src.write_bytes(data)
    return subprocess.run(
        [
            exe,
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase-fd",
            "0",
            "--decrypt",
            str(src),
        ],
        input=PASSPHRASE + b"\n",
        capture_output=True,
        env=env,
        check=False,
    )


@pytest.mark.parametrize("armor", [False, True])
def test_our_legacy_cbc_opens_in_gpgsm(
    gpgsm: tuple[str, dict[str, str]],
    key: kx.X509SecretKey,
    tmp_path: Path,
    armor: bool,
) -> None:
    ct = e2ee_mail.encrypt(
        BODY, key.public, format="cms", cipher="aes-256-cbc", armor=armor
    )
    proc = _gpgsm_decrypt(gpgsm, bytes(ct), tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == BODY


def test_our_streamed_legacy_cbc_opens_in_gpgsm(
    gpgsm: tuple[str, dict[str, str]], key: kx.X509SecretKey, tmp_path: Path
) -> None:
    dst = io.BytesIO()
    e2ee_mail.encrypt_stream(
        io.BytesIO(BODY), dst, key.public, format="cms", cipher="aes-256-cbc"
    )
    proc = _gpgsm_decrypt(gpgsm, dst.getvalue(), tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == BODY


def test_gpgsm_output_opens_only_with_opt_in(
    gpgsm: tuple[str, dict[str, str]], key: kx.X509SecretKey, tmp_path: Path
) -> None:
    exe, env = gpgsm
    (tmp_path / "plain").write_bytes(BODY)
    proc = subprocess.run(
        [
            exe,
            "--batch",
            "--disable-crl-checks",
            "-r",
            "gus@example.org",
            "--encrypt",
            str(tmp_path / "plain"),
        ],
        capture_output=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    with pytest.raises(e2ee_mail.PolicyError):
        e2ee_mail.decrypt(proc.stdout, key)
    assert e2ee_mail.decrypt(proc.stdout, key, allow_unauthenticated=True) == BODY


def test_our_authenveloped_data_in_gpgsm(
    gpgsm: tuple[str, dict[str, str]], key: kx.X509SecretKey, tmp_path: Path
) -> None:
    ct = e2ee_mail.encrypt(BODY, key.public, format="cms")
    proc = _gpgsm_decrypt(gpgsm, bytes(ct), tmp_path)
    if proc.returncode != 0:
        pytest.xfail(
            "gpgsm cannot read AuthEnvelopedData: "
            + proc.stderr.decode(errors="replace").strip().splitlines()[-1]
        )
    assert proc.stdout == BODY
