"""Interop with the real ``openssl cms`` (OpenSSL 3.x), both directions.

Cases: openssl -> us (AES-256-GCM with RSA PKCS#1 v1.5, RSA-OAEP SHA-1 and SHA-256,
DER / PEM / streamed BER / S/MIME; AES-CBC only with the opt-in) and us -> openssl
(DER, PEM, streamed BER, S/MIME, PKCS#1 v1.5, SKI recipient, legacy CBC, a mixed
X25519 + RSA recipient set), X25519 in both directions (OpenSSL 3.0 has no X25519
KeyAgreeRecipientInfo: xfail with the reason when it refuses), and the whole flow
through the CLI: keygen, encrypt as S/MIME, ``openssl cms -decrypt``.
"""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from peers import require_peer

import e2ee_mail
from e2ee_mail.cms import envelope
from e2ee_mail.mime import detect
from e2ee_mail.x509 import certs as kx
from e2ee_mail.x509 import keygen as x509_keygen

pytestmark = pytest.mark.interop

BODY = b"Interop body line\r\n" * 300 + b"last line without newline"
MAIL = (
    b"From: Bob <bob@example.org>\r\nTo: Alice <alice@example.org>\r\n"
    b"Subject: secret plans\r\nDate: Fri, 20 Nov 2026 10:00:00 +0000\r\n"
    b"Message-ID: <plans@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"\r\nHello Alice,\r\nthe plans are attached in spirit.\r\n"
)


@pytest.fixture(scope="module")
def openssl() -> str:
    return require_peer("openssl")


@pytest.fixture(scope="module")
def keydir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("keys")
    for name, kind in (("rsa", "rsa3072"), ("x", "x25519")):
        key = x509_keygen.generate(f"{name} <{name}@example.org>", kind=kind)  # type: ignore[arg-type]
        (d / f"{name}.key").write_bytes(key.export())
        (d / f"{name}.pub").write_bytes(key.public.export())
    return d


def _key(keydir: Path, name: str) -> kx.X509SecretKey:
    return kx.load_key((keydir / f"{name}.key").read_bytes(), None)


def _run(*args: str, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(args, input=data, capture_output=True, check=False)


def _openssl_encrypt(
    openssl: str, keydir: Path, tmp_path: Path, *extra: str, cert: str = "rsa"
) -> bytes:
    src = tmp_path / "plain"
    src.write_bytes(BODY)
    out = tmp_path / "enc"
    proc = _run(
        openssl,
        "cms",
        "-encrypt",
        "-binary",
        "-in",
        str(src),
        "-out",
        str(out),
        "-recip",
        str(keydir / f"{cert}.pub"),
        *extra,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return out.read_bytes()


def _openssl_decrypt(
    openssl: str,
    keydir: Path,
    tmp_path: Path,
    data: bytes,
    inform: str,
    name: str = "rsa",
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
        str(keydir / f"{name}.pub"),
        "-inkey",
        str(keydir / f"{name}.key"),
    )


# --- openssl -> us -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyopts", "expected_alg"),
    [
        ((), "rsaes-pkcs1-v1_5"),
        (("-keyopt", "rsa_padding_mode:oaep"), "rsaes-oaep-sha1"),
        (
            ("-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256"),
            "rsaes-oaep-sha256",
        ),
    ],
)
def test_openssl_gcm_to_our_rsa_certificate_opens(
    openssl: str,
    keydir: Path,
    tmp_path: Path,
    keyopts: tuple[str, ...],
    expected_alg: str,
) -> None:
    ct = _openssl_encrypt(
        openssl, keydir, tmp_path, "-aes-256-gcm", "-outform", "DER", *keyopts
    )
    described = e2ee_mail.inspect(ct)
    assert described.content_algorithm == "aes-256-gcm"
    assert described.recipients[0].algorithm == expected_alg
    assert e2ee_mail.decrypt(ct, _key(keydir, "rsa")) == BODY


def test_openssl_recipient_by_subject_key_identifier_opens(
    openssl: str, keydir: Path, tmp_path: Path
) -> None:
    ct = _openssl_encrypt(
        openssl, keydir, tmp_path, "-aes-256-gcm", "-keyid", "-outform", "DER"
    )
    assert e2ee_mail.inspect(ct).recipients[0].id.startswith("ski=")
    assert e2ee_mail.decrypt(ct, _key(keydir, "rsa")) == BODY


@pytest.mark.parametrize("outform", ["PEM", "DER"])
def test_openssl_streamed_ber_opens_in_bytes_and_stream_api(
    openssl: str, keydir: Path, tmp_path: Path, outform: str
) -> None:
    ct = _openssl_encrypt(
        openssl, keydir, tmp_path, "-aes-256-gcm", "-stream", "-outform", outform
    )
    key = _key(keydir, "rsa")
    assert e2ee_mail.decrypt(ct, key) == BODY
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(io.BytesIO(ct), out, key)
    assert out.getvalue() == BODY


def _openssl_smime_mail(
    openssl: str, keydir: Path, tmp_path: Path, cipher: str, stream: list[str]
) -> bytes:
    """MAIL encrypted by ``openssl cms -encrypt`` as S/MIME to our RSA certificate."""
    (tmp_path / "mail").write_bytes(MAIL)
    proc = _run(
        openssl,
        "cms",
        "-encrypt",
        cipher,
        *stream,
        "-in",
        str(tmp_path / "mail"),
        "-recip",
        str(keydir / "rsa.pub"),
        "-subject",
        "...",
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


@pytest.mark.parametrize("cipher", ["-aes-256-gcm", "-aes-256-cbc"])
@pytest.mark.parametrize("stream", [[], ["-stream"]])
def test_openssl_smime_mail_opens_with_decrypt_message(
    openssl: str, keydir: Path, tmp_path: Path, cipher: str, stream: list[str]
) -> None:
    smime_mail = _openssl_smime_mail(openssl, keydir, tmp_path, cipher, stream)
    key = _key(keydir, "rsa")
    legacy = cipher.endswith("cbc")
    if legacy:
        with pytest.raises(e2ee_mail.PolicyError):
            e2ee_mail.decrypt_message(smime_mail, key)
    plain = e2ee_mail.decrypt_message(smime_mail, key, allow_unauthenticated=legacy)
    assert plain["Subject"] == "secret plans"
    assert "the plans are attached" in plain.get_content()


@pytest.mark.parametrize("cipher", ["-aes-256-gcm", "-aes-256-cbc"])
@pytest.mark.parametrize("stream", [[], ["-stream"]])
def test_openssl_smime_mail_opens_as_a_stream(
    openssl: str, keydir: Path, tmp_path: Path, cipher: str, stream: list[str]
) -> None:
    smime_mail = _openssl_smime_mail(openssl, keydir, tmp_path, cipher, stream)
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(
        io.BytesIO(smime_mail),
        out,
        _key(keydir, "rsa"),
        allow_unauthenticated=cipher.endswith("cbc"),
    )
    plain = detect.parse(out.getvalue())
    assert plain["Subject"] == "secret plans"
    assert "the plans are attached" in plain.get_content()


@pytest.mark.parametrize("cipher", ["-aes-256-cbc", "-aes-128-cbc"])
def test_openssl_cbc_opens_only_with_opt_in(
    openssl: str, keydir: Path, tmp_path: Path, cipher: str
) -> None:
    ct = _openssl_encrypt(openssl, keydir, tmp_path, cipher, "-outform", "DER")
    key = _key(keydir, "rsa")
    with pytest.raises(e2ee_mail.PolicyError, match="allow_unauthenticated"):
        e2ee_mail.decrypt(ct, key)
    assert e2ee_mail.decrypt(ct, key, allow_unauthenticated=True) == BODY


def test_openssl_gcm_to_our_x25519_certificate(
    openssl: str, keydir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "plain"
    src.write_bytes(BODY)
    proc = _run(
        openssl,
        "cms",
        "-encrypt",
        "-binary",
        "-aes-256-gcm",
        "-outform",
        "DER",
        "-in",
        str(src),
        "-recip",
        str(keydir / "x.pub"),
    )
    if proc.returncode != 0:
        pytest.xfail(
            "this OpenSSL cannot encrypt CMS to an X25519 certificate: "
            + proc.stderr.decode(errors="replace").strip().splitlines()[-1]
        )
    assert e2ee_mail.decrypt(proc.stdout, _key(keydir, "x")) == BODY


# --- us -> openssl -------------------------------------------------------------------


@pytest.mark.parametrize("armor", [False, True])
def test_our_rsa_output_opens_in_openssl(
    openssl: str, keydir: Path, tmp_path: Path, armor: bool
) -> None:
    cert = e2ee_mail.load_certificate(keydir / "rsa.pub")
    ct = e2ee_mail.encrypt(BODY, cert, format="cms", armor=armor)
    proc = _openssl_decrypt(openssl, keydir, tmp_path, ct, "PEM" if armor else "DER")
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == BODY


def test_our_streamed_ber_output_opens_in_openssl(
    openssl: str, keydir: Path, tmp_path: Path
) -> None:
    cert = e2ee_mail.load_certificate(keydir / "rsa.pub")
    dst = io.BytesIO()
    e2ee_mail.encrypt_stream(io.BytesIO(BODY * 300), dst, cert, format="cms")
    assert dict(e2ee_mail.inspect(dst.getvalue()).details)["encoding"] == "BER"
    proc = _openssl_decrypt(openssl, keydir, tmp_path, dst.getvalue(), "DER")
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == BODY * 300


@pytest.mark.parametrize("variant", ["pkcs1v15", "ski", "mixed-with-x25519"])
def test_our_rsa_variants_open_in_openssl(
    openssl: str, keydir: Path, tmp_path: Path, variant: str
) -> None:
    rsa_cert = e2ee_mail.load_certificate(keydir / "rsa.pub")
    x_cert = e2ee_mail.load_certificate(keydir / "x.pub")
    policy = e2ee_mail.DEFAULT
    certs = [rsa_cert]
    rid = "issuer_and_serial_number"
    if variant == "pkcs1v15":
        policy = dataclasses.replace(policy, allow_rsa_pkcs1v15_encrypt=True)
    elif variant == "ski":
        rid = "subject_key_identifier"
    else:
        certs = [x_cert, rsa_cert]
    ct = envelope.encrypt(BODY, certs, policy=policy, rid_kind=rid)  # type: ignore[arg-type]
    proc = _openssl_decrypt(openssl, keydir, tmp_path, bytes(ct), "DER")
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == BODY


def test_our_legacy_cbc_output_opens_in_openssl(
    openssl: str, keydir: Path, tmp_path: Path
) -> None:
    cert = e2ee_mail.load_certificate(keydir / "rsa.pub")
    ct = e2ee_mail.encrypt(BODY, cert, format="cms", cipher="aes-256-cbc")
    assert e2ee_mail.inspect(bytes(ct)).content_algorithm == "aes-256-cbc"
    proc = _openssl_decrypt(openssl, keydir, tmp_path, bytes(ct), "DER")
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == BODY


def test_our_smime_mail_opens_in_openssl(
    openssl: str, keydir: Path, tmp_path: Path
) -> None:
    cert = e2ee_mail.load_certificate(keydir / "rsa.pub")
    msg = detect.parse(MAIL)
    wire = detect.serialize(e2ee_mail.encrypt_message(msg, cert))
    proc = _openssl_decrypt(openssl, keydir, tmp_path, wire, "SMIME")
    assert proc.returncode == 0, proc.stderr.decode()
    inner = detect.parse(proc.stdout)
    assert inner["Subject"] == "secret plans"
    assert "the plans are attached" in inner.get_content()


@pytest.mark.parametrize("cipher", ["aes-256-gcm", "aes-256-cbc"])
def test_our_streamed_smime_mail_opens_in_openssl(
    openssl: str, keydir: Path, tmp_path: Path, cipher: str
) -> None:
    cert = e2ee_mail.load_certificate(keydir / "rsa.pub")
    out = io.BytesIO()
    e2ee_mail.encrypt_stream(
        io.BytesIO(MAIL),
        out,
        cert,
        format="smime",
        cipher=cipher,  # type: ignore[arg-type]
    )
    proc = _openssl_decrypt(openssl, keydir, tmp_path, out.getvalue(), "SMIME")
    assert proc.returncode == 0, proc.stderr.decode()
    inner = detect.parse(proc.stdout)
    assert inner["Subject"] == "secret plans"
    assert "the plans are attached" in inner.get_content()


def test_our_x25519_output_in_openssl(
    openssl: str, keydir: Path, tmp_path: Path
) -> None:
    cert = e2ee_mail.load_certificate(keydir / "x.pub")
    ct = e2ee_mail.encrypt(BODY, cert, format="cms")
    proc = _openssl_decrypt(openssl, keydir, tmp_path, bytes(ct), "DER", name="x")
    if proc.returncode != 0:
        pytest.xfail(
            "this OpenSSL cannot open an X25519 KeyAgreeRecipientInfo: "
            + proc.stderr.decode(errors="replace").strip().splitlines()[-1]
        )
    assert proc.stdout == BODY


# --- the whole flow through the CLI --------------------------------------------------


def test_cli_keygen_encrypt_smime_then_openssl_decrypt_gives_inner_entity(
    openssl: str, tmp_path: Path
) -> None:
    cli = [sys.executable, "-m", "e2ee_mail.cli"]
    env = dict(os.environ)
    run = lambda *a: subprocess.run(  # noqa: E731
        [*cli, *a], cwd=tmp_path, capture_output=True, check=False, env=env
    )
    proc = run(
        "keygen",
        "--format",
        "x509",
        "--kind",
        "rsa3072",
        "--uid",
        "Alice <alice@example.org>",
        "--out",
        "alice",
    )
    assert proc.returncode == 0, proc.stderr.decode()
    (tmp_path / "mail.eml").write_bytes(MAIL)
    proc = run(
        "encrypt",
        "--format",
        "smime",
        "--to",
        "alice.pub",
        "-i",
        "mail.eml",
        "-o",
        "out.eml",
    )
    assert proc.returncode == 0, proc.stderr.decode()
    proc = subprocess.run(
        [
            openssl,
            "cms",
            "-decrypt",
            "-in",
            "out.eml",
            "-recip",
            "alice.pub",
            "-inkey",
            "alice.key",
        ],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    inner = proc.stdout
    # The original entity, plus the RFC 9788 protection markers.
    original = detect.parse(MAIL)
    got = detect.parse(inner)
    for name in ("From", "To", "Subject", "Date", "Message-ID"):
        assert got[name] == original[name]
    assert got.get_content() == original.get_content()
    assert got.get_param("hp", header="content-type") == "cipher"
    assert inner.endswith(MAIL.split(b"\r\n\r\n", 1)[1])
