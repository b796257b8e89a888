"""CMS ECDH (RFC 5753) with the real ``openssl cms`` (OpenSSL 3.x), both directions,
to certificates and keys OpenSSL made on P-256, P-384 and P-521.

openssl -> us: AuthEnvelopedData (``-aes-256-gcm``) with OpenSSL's default scheme
(the X9.63 KDF with SHA-1), with ``-keyopt ecdh_kdf_md:sha256/384/512``, with cofactor
ECDH, ``-aes128-wrap``/``-aes192-wrap``, recipients named by subjectKeyIdentifier
(``-keyid``), and EnvelopedData with AES-256-CBC (only with the opt-in), as DER and
as S/MIME. us -> openssl: DER, PEM, subjectKeyIdentifier, S/MIME, and the CLI's
S/MIME output. ``openssl smime`` (the PKCS#7 front end) has no key agreement at all:
its refusal of an EC recipient is recorded as an xfail with OpenSSL's reason.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from peers import require_peer

import e2ee_mail
from e2ee_mail.mime import detect

pytestmark = pytest.mark.interop

CURVES = {"p256": "P-256", "p384": "P-384", "p521": "P-521"}
BODY = b"EC interop body line\r\n" * 300 + b"last line without newline"
MAIL = (
    b"From: Bob <bob@example.org>\r\nTo: Erin <p256@example.org>\r\n"
    b"Subject: curves\r\nDate: Fri, 20 Nov 2026 10:00:00 +0000\r\n"
    b"Message-ID: <curves@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"\r\nHello Erin,\r\nthis came over P-256.\r\n"
)


@pytest.fixture(scope="module")
def openssl() -> str:
    return require_peer("openssl")


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(args, capture_output=True, check=False, cwd=cwd)


@pytest.fixture(scope="module")
def keydir(openssl: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """For each curve: ``<curve>.key`` (OpenSSL's PKCS#8), ``<curve>.pub`` (its
    self-signed certificate with keyUsage keyAgreement), and ``<curve>.both``
    (key then certificate, the key file layout the library reads)."""
    d = tmp_path_factory.mktemp("eckeys")
    for short, curve in CURVES.items():
        proc = _run(
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            f"ec_paramgen_curve:{curve}",
            "-nodes",
            "-keyout",
            str(d / f"{short}.key"),
            "-out",
            str(d / f"{short}.pub"),
            "-subj",
            f"/CN={curve} interop",
            "-addext",
            f"subjectAltName=email:{short}@example.org",
            "-addext",
            "keyUsage=critical,digitalSignature,keyAgreement",
            "-days",
            "30",
        )
        assert proc.returncode == 0, proc.stderr.decode()
        both = (d / f"{short}.key").read_bytes() + (d / f"{short}.pub").read_bytes()
        (d / f"{short}.both").write_bytes(both)
    return d


def _key(keydir: Path, curve: str) -> e2ee_mail.SecretKey:
    return e2ee_mail.load_key(keydir / f"{curve}.both")


def _openssl_encrypt(
    openssl: str, keydir: Path, tmp_path: Path, curve: str, *extra: str
) -> bytes:
    """``openssl cms -encrypt`` of BODY to ``curve``'s certificate; ``extra`` goes
    before the recipient, its ``-keyopt`` options after it (OpenSSL's rule)."""
    src = tmp_path / "plain"
    src.write_bytes(BODY)
    out = tmp_path / "enc"
    before = [a for a in extra if not a.startswith("ecdh_") and a != "-keyopt"]
    after: list[str] = []
    for a in extra:
        if a.startswith("ecdh_"):
            after += ["-keyopt", a]
    proc = _run(
        openssl,
        "cms",
        "-encrypt",
        "-binary",
        "-in",
        str(src),
        "-out",
        str(out),
        *before,
        "-recip",
        str(keydir / f"{curve}.pub"),
        *after,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return out.read_bytes()


def _openssl_decrypt(
    openssl: str, keydir: Path, tmp_path: Path, data: bytes, inform: str, curve: str
) -> subprocess.CompletedProcess[bytes]:
    src = tmp_path / "msg"
    src.write_bytes(data)
    return _run(
        openssl,
        "cms",
        "-decrypt",
        "-binary",
        "-inform",
        inform,
        "-in",
        str(src),
        "-recip",
        str(keydir / f"{curve}.pub"),
        "-inkey",
        str(keydir / f"{curve}.key"),
    )


# --- openssl -> us -------------------------------------------------------------------

_SCHEME = {"p256": "sha256", "p384": "sha384", "p521": "sha512"}


@pytest.mark.parametrize("curve", sorted(CURVES))
@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ((), "x963-sha1+aes256-wrap"),
        (("ecdh_kdf_md:{md}",), "x963-{md}+aes256-wrap"),
        (("ecdh_cofactor_mode:1",), "cofactor-x963-sha1+aes256-wrap"),
        (("-aes128-wrap", "ecdh_kdf_md:{md}"), "x963-{md}+aes128-wrap"),
        (("-aes192-wrap", "-keyid"), "x963-sha1+aes192-wrap"),
    ],
    ids=["default", "sha2", "cofactor", "aes128-wrap", "aes192-wrap-keyid"],
)
def test_openssl_gcm_to_our_ec_key(
    openssl: str,
    keydir: Path,
    tmp_path: Path,
    curve: str,
    options: tuple[str, ...],
    expected: str,
) -> None:
    md = _SCHEME[curve]
    extra = tuple(o.format(md=md) for o in options)
    ct = _openssl_encrypt(
        openssl, keydir, tmp_path, curve, "-aes-256-gcm", "-outform", "DER", *extra
    )
    (described,) = e2ee_mail.inspect(ct).recipients
    assert described.algorithm == f"ecdh-{curve}-{expected.format(md=md)}"
    assert described.id.startswith("ski=" if "-keyid" in extra else "issuer=")
    assert e2ee_mail.decrypt(ct, _key(keydir, curve)) == BODY


@pytest.mark.parametrize("curve", sorted(CURVES))
def test_openssl_cbc_to_our_ec_key_needs_the_opt_in(
    openssl: str, keydir: Path, tmp_path: Path, curve: str
) -> None:
    ct = _openssl_encrypt(
        openssl, keydir, tmp_path, curve, "-aes-256-cbc", "-outform", "DER"
    )
    key = _key(keydir, curve)
    with pytest.raises(e2ee_mail.PolicyError, match="allow_unauthenticated"):
        e2ee_mail.decrypt(ct, key)
    assert e2ee_mail.decrypt(ct, key, allow_unauthenticated=True) == BODY


def test_openssl_smime_mail_to_our_p256_key(
    openssl: str, keydir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "mail.eml"
    src.write_bytes(MAIL)
    proc = _run(
        openssl,
        "cms",
        "-encrypt",
        "-aes-256-gcm",
        "-in",
        str(src),
        "-recip",
        str(keydir / "p256.pub"),
        "-keyopt",
        "ecdh_kdf_md:sha256",
    )
    assert proc.returncode == 0, proc.stderr.decode()
    inner = e2ee_mail.decrypt_message(proc.stdout, _key(keydir, "p256"))
    assert "this came over P-256" in inner.get_content()


def test_openssl_smime_command_has_no_ec_recipients(
    openssl: str, keydir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "mail.eml"
    src.write_bytes(MAIL)
    proc = _run(
        openssl,
        "smime",
        "-encrypt",
        "-aes256",
        "-in",
        str(src),
        str(keydir / "p256.pub"),
    )
    if proc.returncode != 0:
        pytest.xfail(
            "openssl smime (PKCS#7) cannot encrypt to an EC certificate: "
            + proc.stderr.decode(errors="replace").strip().splitlines()[-1]
        )
    inner = e2ee_mail.decrypt_message(
        proc.stdout, _key(keydir, "p256"), allow_unauthenticated=True
    )
    assert "this came over P-256" in inner.get_content()


# --- us -> openssl -------------------------------------------------------------------


@pytest.mark.parametrize("curve", sorted(CURVES))
@pytest.mark.parametrize("armor", [False, True])
def test_our_ec_output_opens_in_openssl(
    openssl: str, keydir: Path, tmp_path: Path, curve: str, armor: bool
) -> None:
    cert = e2ee_mail.load_certificate(keydir / f"{curve}.pub")
    ct = e2ee_mail.encrypt(BODY, cert, format="cms", armor=armor)
    proc = _openssl_decrypt(
        openssl, keydir, tmp_path, bytes(ct), "PEM" if armor else "DER", curve
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == BODY


def test_our_streamed_output_by_ski_to_several_curves_opens_in_openssl(
    openssl: str, keydir: Path, tmp_path: Path
) -> None:
    from e2ee_mail.cms import envelope

    certs = [e2ee_mail.load_certificate(keydir / f"{c}.pub") for c in sorted(CURVES)]
    ct = envelope.encrypt(
        BODY,
        certs,
        policy=e2ee_mail.DEFAULT,
        rid_kind="subject_key_identifier",
    )
    for curve in CURVES:
        proc = _openssl_decrypt(openssl, keydir, tmp_path, bytes(ct), "DER", curve)
        assert proc.returncode == 0, proc.stderr.decode()
        assert proc.stdout == BODY
    dst = io.BytesIO()
    e2ee_mail.encrypt_stream(io.BytesIO(BODY * 50), dst, certs[0], format="cms")
    proc = _openssl_decrypt(openssl, keydir, tmp_path, dst.getvalue(), "DER", "p256")
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == BODY * 50


@pytest.mark.parametrize("cipher", ["aes-256-gcm", "aes-256-cbc"])
def test_our_smime_mail_to_p256_opens_in_openssl(
    openssl: str, keydir: Path, tmp_path: Path, cipher: str
) -> None:
    cert = e2ee_mail.load_certificate(keydir / "p256.pub")
    out = io.BytesIO()
    e2ee_mail.encrypt_stream(
        io.BytesIO(MAIL),
        out,
        cert,
        format="smime",
        cipher=cipher,  # type: ignore[arg-type]
    )
    proc = _openssl_decrypt(openssl, keydir, tmp_path, out.getvalue(), "SMIME", "p256")
    assert proc.returncode == 0, proc.stderr.decode()
    inner = detect.parse(proc.stdout)
    assert inner["Subject"] == "curves"
    assert "this came over P-256" in inner.get_content()


def test_openssl_smime_command_cannot_open_our_ec_mail(
    openssl: str, keydir: Path, tmp_path: Path
) -> None:
    cert = e2ee_mail.load_certificate(keydir / "p256.pub")
    wire = detect.serialize(
        e2ee_mail.encrypt_message(detect.parse(MAIL), cert, cipher="aes-256-cbc")
    )
    (tmp_path / "in.eml").write_bytes(wire)
    proc = _run(
        openssl,
        "smime",
        "-decrypt",
        "-in",
        str(tmp_path / "in.eml"),
        "-recip",
        str(keydir / "p256.pub"),
        "-inkey",
        str(keydir / "p256.key"),
    )
    if proc.returncode != 0:
        pytest.xfail(
            "openssl smime (PKCS#7) has no KeyAgreeRecipientInfo: "
            + proc.stderr.decode(errors="replace").strip().splitlines()[-1]
        )
    assert "this came over P-256" in detect.parse(proc.stdout).get_content()


# --- the CLI, both directions --------------------------------------------------------


def test_cli_encrypts_to_and_decrypts_with_openssl_ec_keys(
    openssl: str, keydir: Path, tmp_path: Path
) -> None:
    cli = [sys.executable, "-m", "e2ee_mail.cli"]
    # The package under test, whatever the working directory (files are relative).
    root = str(Path(e2ee_mail.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": root}

    def run(*a: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [*cli, *a], cwd=tmp_path, capture_output=True, check=False, env=env
        )

    (tmp_path / "mail.eml").write_bytes(MAIL)
    pub = str(keydir / "p256.pub")
    proc = run(
        "encrypt", "--format", "smime", "--to", pub, "-i", "mail.eml", "-o", "out.eml"
    )
    assert proc.returncode == 0, proc.stderr.decode()
    proc = _run(
        openssl,
        "cms",
        "-decrypt",
        "-in",
        "out.eml",
        "-recip",
        pub,
        "-inkey",
        str(keydir / "p256.key"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert "this came over P-256" in detect.parse(proc.stdout).get_content()

    proc = run("inspect", "-i", "out.eml")
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"ecdh-p256-x963-sha256+aes256-wrap" in proc.stdout

    proc = run(
        "decrypt", "--key", str(keydir / "p256.both"), "-i", "out.eml", "-o", "back.eml"
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"this came over P-256" in (tmp_path / "back.eml").read_bytes()

    theirs = _openssl_encrypt(
        openssl, keydir, tmp_path, "p384", "-aes-256-gcm", "-outform", "DER"
    )
    (tmp_path / "theirs.p7m").write_bytes(theirs)
    proc = run(
        "decrypt", "--key", str(keydir / "p384.both"), "-i", "theirs.p7m", "-o", "-"
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == BODY
