"""The content ciphers OpenSSL 3 writes besides AES-256, opened here.

``openssl cms -encrypt -aes-128-gcm`` / ``-aes-192-gcm`` (AuthEnvelopedData) open as
DER, streamed BER and S/MIME, through the bytes and stream APIs and the CLI, and a
rewrap of them opens in OpenSSL again. ``openssl smime -encrypt`` with its default
cipher (des-ede3-cbc), ``-aes128`` and ``-aes192`` (legacy EnvelopedData) open only
with the opt-in, and without it the error names the cipher and the opt-in. RC2 and
DES (OpenSSL's legacy provider) are refused by name. OpenSSL 3.0 has no CMS X25519
recipients, so every message here goes to an RSA certificate.
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
from e2ee_mail.x509 import certs as kx
from e2ee_mail.x509 import keygen as x509_keygen

pytestmark = pytest.mark.interop

BODY = b"Interop body line\r\n" * 300 + b"last line without newline"
MAIL = (
    b"From: Bob <bob@example.org>\r\nTo: Alice <alice@example.org>\r\n"
    b"Subject: old plans\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"\r\nHello Alice,\r\nthe plans from the archive.\r\n"
)
GCM = ["-aes-128-gcm", "-aes-192-gcm"]
#: openssl smime option -> the cipher's name as inspect gives it.
SMIME_CBC = {"": "des-ede3-cbc", "-aes128": "aes-128-cbc", "-aes192": "aes-192-cbc"}


@pytest.fixture(scope="module")
def openssl() -> str:
    return require_peer("openssl")


@pytest.fixture(scope="module")
def keydir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("keys")
    for name in ("rsa", "new"):
        key = x509_keygen.generate(f"{name} <{name}@example.org>", kind="rsa3072")
        (d / f"{name}.key").write_bytes(key.export())
        (d / f"{name}.pub").write_bytes(key.public.export())
    return d


def _key(keydir: Path, name: str = "rsa") -> kx.X509SecretKey:
    return kx.load_key((keydir / f"{name}.key").read_bytes(), None)


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(args, capture_output=True, check=False, cwd=cwd)


def _openssl(openssl: str, tmp_path: Path, data: bytes, *args: str) -> bytes:
    """``openssl COMMAND -in <data> OPTIONS``'s output (``args``: the command and
    its options; ``openssl smime`` takes the recipient certificate last)."""
    src = tmp_path / "plain"
    src.write_bytes(data)
    proc = _run(openssl, args[0], "-in", str(src), *args[1:])
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def _cms(openssl: str, keydir: Path, tmp_path: Path, cipher: str, *extra: str) -> bytes:
    return _openssl(
        openssl,
        tmp_path,
        BODY,
        "cms",
        "-encrypt",
        "-binary",
        cipher,
        "-recip",
        str(keydir / "rsa.pub"),
        *extra,
    )


def _smime(
    openssl: str, keydir: Path, tmp_path: Path, data: bytes, *opts: str
) -> bytes:
    """``openssl smime -encrypt`` (the old command, 3DES unless told) to rsa.pub,
    as S/MIME with a Subject (``opts`` without -outform) or as DER."""
    # OpenSSL writes a -subject header field even before DER output.
    subject = () if "-outform" in opts else ("-subject", "...")
    return _openssl(
        openssl,
        tmp_path,
        data,
        "smime",
        "-encrypt",
        *opts,
        *subject,
        str(keydir / "rsa.pub"),
    )


def _stream(data: bytes, key: kx.X509SecretKey, legacy: bool = False) -> bytes:
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(io.BytesIO(data), out, key, allow_unauthenticated=legacy)
    return out.getvalue()


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "e2ee_mail.cli", *args],
        cwd=tmp_path,
        capture_output=True,
        check=False,
        env=dict(os.environ),
        timeout=120,
    )


# --- AES-128/192-GCM --------------------------------------------------------------


@pytest.mark.parametrize("cipher", GCM)
@pytest.mark.parametrize("stream", [[], ["-stream"]], ids=["der", "ber"])
def test_openssl_gcm_opens_in_bytes_and_stream_api(
    openssl: str, keydir: Path, tmp_path: Path, cipher: str, stream: list[str]
) -> None:
    ct = _cms(openssl, keydir, tmp_path, cipher, "-outform", "DER", *stream)
    assert e2ee_mail.inspect(ct).content_algorithm == cipher[1:]
    key = _key(keydir)
    assert e2ee_mail.decrypt(ct, key) == BODY
    assert _stream(ct, key) == BODY


@pytest.mark.parametrize("cipher", GCM)
def test_openssl_gcm_with_altered_tag_fails(
    openssl: str, keydir: Path, tmp_path: Path, cipher: str
) -> None:
    ct = bytearray(_cms(openssl, keydir, tmp_path, cipher, "-outform", "DER"))
    ct[-1] ^= 0x01
    with pytest.raises(e2ee_mail.DecryptionError):
        e2ee_mail.decrypt(bytes(ct), _key(keydir))


@pytest.mark.parametrize("cipher", GCM)
def test_openssl_gcm_smime_opens_in_api_and_cli(
    openssl: str, keydir: Path, tmp_path: Path, cipher: str
) -> None:
    (tmp_path / "mail").write_bytes(MAIL)
    mail = _openssl(
        openssl,
        tmp_path,
        MAIL,
        "cms",
        "-encrypt",
        cipher,
        "-recip",
        str(keydir / "rsa.pub"),
        "-subject",
        "...",
    )
    key = _key(keydir)
    assert e2ee_mail.decrypt_message(mail, key)["Subject"] == "old plans"
    assert detect.parse(_stream(mail, key))["Subject"] == "old plans"
    (tmp_path / "in.eml").write_bytes(mail)
    proc = _cli(tmp_path, "decrypt", "--key", str(keydir / "rsa.key"), "-i", "in.eml")
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Subject: old plans" in proc.stdout
    assert b"the plans from the archive." in proc.stdout


@pytest.mark.parametrize("cipher", GCM)
def test_rewrapped_openssl_gcm_opens_in_openssl(
    openssl: str, keydir: Path, tmp_path: Path, cipher: str
) -> None:
    ct = _cms(openssl, keydir, tmp_path, cipher, "-outform", "DER")
    new = kx.load_certificate((keydir / "new.pub").read_bytes())
    rewrapped = bytes(e2ee_mail.rewrap(ct, _key(keydir), new))
    assert e2ee_mail.inspect(rewrapped).content_algorithm == cipher[1:]
    (tmp_path / "rewrapped").write_bytes(rewrapped)
    proc = _run(
        openssl,
        "cms",
        "-decrypt",
        "-binary",
        "-inform",
        "DER",
        "-in",
        str(tmp_path / "rewrapped"),
        "-recip",
        str(keydir / "new.pub"),
        "-inkey",
        str(keydir / "new.key"),
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == BODY


# --- openssl smime: 3DES (its default), AES-128/192-CBC ---------------------------


@pytest.mark.parametrize("option", sorted(SMIME_CBC))
def test_openssl_smime_cbc_opens_only_with_the_opt_in(
    openssl: str, keydir: Path, tmp_path: Path, option: str
) -> None:
    name = SMIME_CBC[option]
    mail = _smime(openssl, keydir, tmp_path, MAIL, *([option] if option else []))
    key = _key(keydir)
    assert e2ee_mail.inspect(mail).content_algorithm == name
    for refused in (
        lambda: e2ee_mail.decrypt_message(mail, key),
        lambda: _stream(mail, key),
    ):
        with pytest.raises(e2ee_mail.PolicyError) as caught:
            refused()
        assert name in str(caught.value)
        assert "allow_unauthenticated" in str(caught.value)
    plain = e2ee_mail.decrypt_message(mail, key, allow_unauthenticated=True)
    assert plain["Subject"] == "old plans"
    assert "the plans from the archive." in plain.get_content()
    streamed = detect.parse(_stream(mail, key, legacy=True))
    assert streamed["Subject"] == "old plans"


@pytest.mark.parametrize("option", sorted(SMIME_CBC))
def test_openssl_smime_cbc_in_the_cli(
    openssl: str, keydir: Path, tmp_path: Path, option: str
) -> None:
    mail = _smime(openssl, keydir, tmp_path, MAIL, *([option] if option else []))
    (tmp_path / "in.eml").write_bytes(mail)
    args = ("decrypt", "--key", str(keydir / "rsa.key"), "-i", "in.eml")
    proc = _cli(tmp_path, *args)
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert SMIME_CBC[option] in err and "--allow-unauthenticated" in err
    proc = _cli(tmp_path, *args, "--allow-unauthenticated")
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Subject: old plans" in proc.stdout


def test_openssl_smime_3des_der_opens_with_the_opt_in(
    openssl: str, keydir: Path, tmp_path: Path
) -> None:
    ct = _smime(openssl, keydir, tmp_path, BODY, "-binary", "-outform", "DER")
    key = _key(keydir)
    assert e2ee_mail.inspect(ct).content_algorithm == "des-ede3-cbc"
    assert e2ee_mail.decrypt(ct, key, allow_unauthenticated=True) == BODY
    assert _stream(ct, key, legacy=True) == BODY
    new = kx.load_certificate((keydir / "new.pub").read_bytes())
    rewrapped = e2ee_mail.rewrap(ct, key, new, policy=e2ee_mail.LEGACY_DECRYPT)
    assert bytes(rewrapped).endswith(ct[-1000:])
    assert (
        e2ee_mail.decrypt(rewrapped, _key(keydir, "new"), allow_unauthenticated=True)
        == BODY
    )


def test_openssl_smime_of_a_bare_text_opens_in_the_cli(
    openssl: str, keydir: Path, tmp_path: Path
) -> None:
    # `openssl smime -encrypt` of a text file encrypts it as it is: an entity with
    # no header fields, which the CLI opens as decrypt_message does.
    text = b"a note without header fields\r\nsecond line\r\n"
    mail = _smime(openssl, keydir, tmp_path, text, "-aes256")
    key = _key(keydir)
    message = e2ee_mail.decrypt_message(mail, key, allow_unauthenticated=True)
    assert message["Subject"] == "..."
    (tmp_path / "in.eml").write_bytes(mail)
    proc = _cli(
        tmp_path,
        "decrypt",
        "--allow-unauthenticated",
        "--key",
        str(keydir / "rsa.key"),
        "-i",
        "in.eml",
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.endswith(b"\r\n\r\n" + text)
    assert detect.parse(proc.stdout)["Subject"] == "..."


@pytest.mark.parametrize(
    ("cipher", "named"), [("-rc2-40", "RC2"), ("-des", "single DES")]
)
def test_openssl_rc2_and_des_are_refused_by_name(
    openssl: str, keydir: Path, tmp_path: Path, cipher: str, named: str
) -> None:
    src = tmp_path / "plain"
    src.write_bytes(BODY)
    proc = _run(
        openssl,
        "cms",
        "-encrypt",
        "-binary",
        cipher,
        "-provider",
        "legacy",
        "-provider",
        "default",
        "-outform",
        "DER",
        "-in",
        str(src),
        "-recip",
        str(keydir / "rsa.pub"),
    )
    if proc.returncode != 0:
        pytest.skip(
            "this OpenSSL has no legacy provider to write RC2 or DES: "
            + proc.stderr.decode(errors="replace").strip().splitlines()[-1]
        )
    for allow in (False, True):
        with pytest.raises(e2ee_mail.UnsupportedError, match=named):
            e2ee_mail.decrypt(proc.stdout, _key(keydir), allow_unauthenticated=allow)
