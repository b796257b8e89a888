"""Keys from keygen that sign, as the peers see them: ``openssl verify`` accepts
an X25519 certificate under its Ed25519 signing certificate and ``openssl x509``
reads their key usages; ``openssl cms -sign`` signs with an RSA key file as keygen
writes it, for the S/MIME signing purpose; GnuPG 2.2 imports our v4 key and lists
its primary key as certifying and signing ([SC]), and Sequoia (pysequoia) signs
with the primary key."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from gpg import GpgHome, gpg_home
from peers import require_peer, require_pysequoia

import e2ee_mail
from e2ee_mail.model import KeyKind
from e2ee_mail.openpgp import signing as openpgp_signing
from e2ee_mail.x509 import certs as kx
from e2ee_mail.x509 import keygen as x509_keygen


@pytest.fixture(scope="module")
def openssl() -> str:
    return require_peer("openssl")


@pytest.fixture(scope="module")
def x_key() -> kx.X509SecretKey:
    return x509_keygen.generate("Bob <bob@example.org>", kind="x25519")


def _openssl(openssl: str, *args: str) -> str:
    proc = subprocess.run(
        [openssl, *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_openssl_verifies_x25519_certificate_under_signing_certificate(
    openssl: str, x_key: kx.X509SecretKey, tmp_path: Path
) -> None:
    signing = tmp_path / "signing.pem"
    signing.write_bytes(x_key.signing_key.public.export())
    x25519 = tmp_path / "x25519.pem"
    x25519.write_bytes(x_key.public.export())
    out = _openssl(openssl, "verify", "-CAfile", str(signing), str(x25519))
    assert out.strip().endswith(": OK")
    # The signing certificate is fit to sign mail (OpenSSL's S/MIME signing
    # purpose: keyUsage and extendedKeyUsage).
    out = _openssl(
        openssl,
        "verify",
        "-purpose",
        "smimesign",
        "-CAfile",
        str(signing),
        str(signing),
    )
    assert out.strip().endswith(": OK")


def test_openssl_reads_key_usages(
    openssl: str, x_key: kx.X509SecretKey, tmp_path: Path
) -> None:
    rsa_key = x509_keygen.generate("Alice <alice@example.org>", kind="rsa3072")
    texts = {}
    for name, key in (
        ("rsa", rsa_key),
        ("x25519", x_key),
        ("signing", x_key.signing_key),
    ):
        path = tmp_path / f"{name}.pem"
        path.write_bytes(key.public.export())
        texts[name] = _openssl(openssl, "x509", "-noout", "-text", "-in", str(path))
    assert "Digital Signature, Key Encipherment" in texts["rsa"]
    assert "Key Agreement" in texts["x25519"]
    assert "Digital Signature, Certificate Sign" in texts["signing"]
    assert "CA:TRUE, pathlen:0" in texts["signing"]
    assert all("E-mail Protection" in text for text in texts.values())


@pytest.fixture(scope="module")
def home() -> Iterator[GpgHome]:
    require_peer("gpg")
    with gpg_home() as h:
        yield h


@pytest.mark.parametrize("kind", ["x25519", "rsa3072"])
def test_gpg_lists_our_v4_primary_as_certify_and_sign(
    home: GpgHome, kind: KeyKind
) -> None:
    ours = e2ee_mail.generate_key(
        f"Sig {kind} <sig-{kind}@example.org>", kind=kind, profile="rfc4880"
    )
    home.import_keys(ours.public.export())
    listing = home.run(["--list-keys", ours.fingerprint]).stdout.decode()
    pub_line = next(line for line in listing.splitlines() if line.startswith("pub"))
    assert "[SC]" in pub_line
    sub_line = next(line for line in listing.splitlines() if line.startswith("sub"))
    assert "[E]" in sub_line


@pytest.mark.parametrize("profile", ["rfc9580", "rfc4880"])
def test_sequoia_finds_a_signing_key(profile: Literal["rfc9580", "rfc4880"]) -> None:
    ps = require_pysequoia()
    ours = e2ee_mail.generate_key("Sig <sig@example.org>", profile=profile)
    tsk = ps.Tsk.from_bytes(ours.export())
    cert = ps.Cert.from_bytes(ours.public.export())
    signed = ps.sign(tsk.signer(), b"signed by the primary key\n")
    result = ps.verify(bytes=signed, store=lambda _ids: [cert])
    assert result.bytes == b"signed by the primary key\n"
    # The primary key made the signature: no signing subkey was needed.
    [valid] = result.valid_sigs
    assert valid.signing_key.upper() == valid.certificate.upper() == ours.fingerprint


def test_openssl_signs_with_our_rsa_key_file_for_smime(
    openssl: str, tmp_path: Path
) -> None:
    # The key file as keygen writes it (PKCS#8, then the certificate) serves as
    # both -signer and -inkey; -purpose smimesign checks the key usages.
    from e2ee_mail.cms import verification

    key = x509_keygen.generate("Alice <alice@example.org>", kind="rsa3072")
    (tmp_path / "alice.key").write_bytes(key.export())
    (tmp_path / "alice.pub").write_bytes(key.public.export())
    (tmp_path / "body.txt").write_bytes(b"signed by keygen's RSA key\r\n")
    common = (
        "-binary",
        "-nodetach",
        "-outform",
        "DER",
        "-out",
        str(tmp_path / "sig.der"),
    )
    _openssl(
        openssl, "cms", "-sign", "-in", str(tmp_path / "body.txt"),
        "-signer", str(tmp_path / "alice.key"), *common,
    )  # fmt: skip
    _openssl(
        openssl, "cms", "-verify", "-binary", "-inform", "DER",
        "-in", str(tmp_path / "sig.der"), "-CAfile", str(tmp_path / "alice.pub"),
        "-purpose", "smimesign", "-out", str(tmp_path / "out.txt"),
    )  # fmt: skip
    content, results = verification.verify(
        (tmp_path / "sig.der").read_bytes(), [key.public]
    )
    assert content == b"signed by keygen's RSA key\r\n"
    assert [r.status for r in results] == ["good"]


def test_gpg_key_with_a_signing_subkey_rotates_it(
    home: GpgHome, tmp_path: Path
) -> None:
    # A certify-only primary key with a signing and an encryption subkey, as
    # some people keep their keys: the keyring names the signing subkey, and a
    # rotation replaces both subkeys; gpg takes the rotated certificate and the
    # new subkey's signatures, and the old one's made before the rotation.
    from e2ee_mail.keys.ring import Keyring

    uid = "Sub Signer <subsigner@example.org>"
    # Made (gpg's clock set back) two days ago, rotated yesterday: each signature
    # is newer than the key that makes it.
    made = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    faked = ["--faked-system-time", f"{int(made.timestamp())}!"]
    home.run([*faked, "--quick-gen-key", uid, "ed25519", "cert", "never"])
    fpr = home.fingerprints(uid)[0]
    home.run([*faked, "--quick-add-key", fpr, "ed25519", "sign", "never"])
    home.run([*faked, "--quick-add-key", fpr, "cv25519", "encr", "never"])
    signing_subkey = home.subkey_fingerprints(fpr)[0]
    key = e2ee_mail.load_key(home.export_secret(fpr))
    ring = Keyring.open(tmp_path / "ring")
    added = ring.add("subsigner@example.org", key, created=made)
    assert added.signing is not None
    assert added.signing == (signing_subkey, "eddsa-legacy")
    before = openpgp_signing.sign_detached(
        b"before", added.key, now=int(made.timestamp()) + 3600
    )
    rotated = ring.rotate("subsigner@example.org", now=made + dt.timedelta(days=1))
    assert rotated.subkey != added.subkey
    assert rotated.signing is not None and rotated.signing != added.signing
    assert rotated.signing[1] == "eddsa-legacy"
    (signer,) = ring.signing_keys("subsigner@example.org")
    after = e2ee_mail.sign(b"after", signer, format="openpgp", detached=True)
    home.import_keys(rotated.certificate.export())
    for data, sig, subkey in (
        (b"before", before, signing_subkey),
        (b"after", after, rotated.signing[0]),
    ):
        (tmp_path / "data").write_bytes(data)
        (tmp_path / "data.sig").write_bytes(sig)
        proc = home.run(
            [
                "--status-fd",
                "1",
                "--verify",
                str(tmp_path / "data.sig"),
                str(tmp_path / "data"),
            ]
        )
        assert f"[GNUPG:] VALIDSIG {subkey}" in proc.stdout.decode()
