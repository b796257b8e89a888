"""Signed and signed-then-encrypted S/MIME and CMS through the public API against
the real ``openssl`` (3.x), both ways.

openssl -> us: ``openssl smime -sign`` (multipart/signed, and opaque with
``-nodetach``) and ``openssl cms -sign`` read by :func:`e2ee_mail.verify_message`;
``openssl cms -sign -nodetach`` (DER) by :func:`e2ee_mail.verify`; ``openssl cms
-sign | openssl cms -encrypt -aes-256-gcm`` as mail by
``decrypt_message(verify_with=)`` and as DER by ``decrypt(verify_with=)``.

us -> openssl: :func:`e2ee_mail.sign_message` (both shapes) checked by ``openssl
smime -verify``; ``encrypt(sign_with=)`` opened by ``openssl cms -decrypt`` and
its output checked by ``openssl cms -verify``; ``encrypt_message(sign_with=)`` the
same way on the mail.

ECDSA P-256 and RSA signers (OpenSSL 3.0 does not make or check Ed25519 in CMS); an
RSA recipient. The self-signed certificate is its own trust anchor for openssl
(``-CAfile cert -purpose any``).
"""

from __future__ import annotations

import subprocess
from email.message import EmailMessage
from pathlib import Path

import pytest
from peers import require_peer
from signing_keys import Kind, signer

import e2ee_mail
from e2ee_mail.x509 import certs, keygen

pytestmark = pytest.mark.interop

PART = b"Content-Type: text/plain\r\n\r\nhello from openssl\r\n"
KINDS: list[Kind] = ["p256", "rsa2048"]


@pytest.fixture(scope="module")
def openssl() -> str:
    return require_peer("openssl")


@pytest.fixture(scope="module")
def rita() -> certs.X509SecretKey:
    return keygen.generate("Rita <r@example.org>", kind="rsa3072")


def _run(*args: str, stdin: bytes | None = None) -> bytes:
    proc = subprocess.run(args, capture_output=True, check=False, input=stdin)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout


def _files(tmp_path: Path, kind: Kind, rita: certs.X509SecretKey) -> dict[str, str]:
    key = signer(kind)
    paths = {
        "cert": tmp_path / "signer.pem",
        "key": tmp_path / "signer.key",
        "rcert": tmp_path / "rita.pem",
        "rkey": tmp_path / "rita.key",
        "part": tmp_path / "part.txt",
    }
    paths["cert"].write_bytes(key.public.export())
    paths["key"].write_bytes(key.export())
    paths["rcert"].write_bytes(rita.public.export())
    paths["rkey"].write_bytes(rita.export())
    paths["part"].write_bytes(PART)
    return {name: str(p) for name, p in paths.items()}


def _mail() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "alice@example.org"
    msg["To"] = "r@example.org"
    msg["Subject"] = "Interop"
    msg.set_content("hello from e2ee_mail\n")
    return msg


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "command",
    [("smime", "-sign"), ("smime", "-sign", "-nodetach"), ("cms", "-sign")],
    ids=["smime-multipart", "smime-opaque", "cms-multipart"],
)
def test_openssl_signed_mail_we_verify(
    openssl: str,
    tmp_path: Path,
    rita: certs.X509SecretKey,
    kind: Kind,
    command: tuple[str, ...],
) -> None:
    f = _files(tmp_path, kind, rita)
    signed = _run(
        openssl,
        *command,
        "-in",
        f["part"],
        "-signer",
        f["cert"],
        "-inkey",
        f["key"],
        "-from",
        "alice@example.org",
        "-subject",
        "Interop",
    )
    verified = e2ee_mail.verify_message(signed, signer(kind).public)
    assert [s.status for s in verified.signatures] == ["good"]
    assert verified.message.get_content() == "hello from openssl\n"
    with pytest.raises(e2ee_mail.SignatureError):
        e2ee_mail.verify_message(signed, signer("p384").public)


@pytest.mark.parametrize("kind", KINDS)
def test_openssl_cms_der_we_verify(
    openssl: str, tmp_path: Path, rita: certs.X509SecretKey, kind: Kind
) -> None:
    f = _files(tmp_path, kind, rita)
    der = _run(
        openssl,
        "cms",
        "-sign",
        "-binary",
        "-nodetach",
        "-outform",
        "DER",
        "-in",
        f["part"],
        "-signer",
        f["cert"],
        "-inkey",
        f["key"],
    )
    assert e2ee_mail.verify(der, signer(kind).public).data == PART


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("opaque", [False, True], ids=["multipart", "opaque"])
def test_we_sign_mail_openssl_verifies(
    openssl: str, tmp_path: Path, rita: certs.X509SecretKey, kind: Kind, opaque: bool
) -> None:
    f = _files(tmp_path, kind, rita)
    signed = tmp_path / "signed.eml"
    signed.write_bytes(
        e2ee_mail.sign_message(_mail(), signer(kind), opaque=opaque).as_bytes()
    )
    out = _run(
        openssl,
        "smime",
        "-verify",
        "-in",
        str(signed),
        "-CAfile",
        f["cert"],
        "-purpose",
        "any",
    )
    assert b"hello from e2ee_mail" in out
    assert b'hp="clear"' in out  # the protected header fields went along


@pytest.mark.parametrize("kind", KINDS)
# A body past 256 KiB is hashed and encrypted segment by segment (cms/signenv.py).
@pytest.mark.parametrize("body", [PART, PART * 15_000], ids=["small", "large"])
def test_we_sign_then_encrypt_openssl_decrypts_and_verifies(
    openssl: str, tmp_path: Path, rita: certs.X509SecretKey, kind: Kind, body: bytes
) -> None:
    f = _files(tmp_path, kind, rita)
    sealed = tmp_path / "sealed.p7m"
    sealed.write_bytes(e2ee_mail.encrypt(body, rita.public, sign_with=signer(kind)))
    inner = _run(
        openssl,
        "cms",
        "-decrypt",
        "-binary",
        "-inform",
        "DER",
        "-in",
        str(sealed),
        "-inkey",
        f["rkey"],
    )
    out = _run(
        openssl,
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-CAfile",
        f["cert"],
        "-purpose",
        "any",
        stdin=inner,
    )
    assert out == body


@pytest.mark.parametrize("kind", KINDS)
def test_we_sign_then_encrypt_mail_openssl_decrypts_and_verifies(
    openssl: str, tmp_path: Path, rita: certs.X509SecretKey, kind: Kind
) -> None:
    f = _files(tmp_path, kind, rita)
    sealed = tmp_path / "sealed.eml"
    sealed.write_bytes(
        e2ee_mail.encrypt_message(
            _mail(), rita.public, sign_with=signer(kind)
        ).as_bytes()
    )
    inner = _run(openssl, "cms", "-decrypt", "-in", str(sealed), "-inkey", f["rkey"])
    assert b"smime-type=signed-data" in inner
    out = _run(
        openssl,
        "cms",
        "-verify",
        "-CAfile",
        f["cert"],
        "-purpose",
        "any",
        stdin=inner,
    )
    assert b"hello from e2ee_mail" in out
    assert b'hp="cipher"' in out


@pytest.mark.parametrize("kind", KINDS)
def test_openssl_sign_then_encrypt_we_decrypt_and_verify(
    openssl: str, tmp_path: Path, rita: certs.X509SecretKey, kind: Kind
) -> None:
    f = _files(tmp_path, kind, rita)
    signed = _run(
        openssl,
        "cms",
        "-sign",
        "-in",
        f["part"],
        "-signer",
        f["cert"],
        "-inkey",
        f["key"],
    )
    sealed = _run(
        openssl,
        "cms",
        "-encrypt",
        "-aes-256-gcm",
        "-from",
        "alice@example.org",
        "-to",
        "r@example.org",
        "-subject",
        "Interop",
        f["rcert"],
        stdin=signed,
    )
    opened = e2ee_mail.decrypt_message(sealed, rita, verify_with=signer(kind).public)
    assert opened.get_content() == "hello from openssl\n"
    with pytest.raises(e2ee_mail.SignatureError):
        e2ee_mail.decrypt_message(sealed, rita, verify_with=signer("p384").public)


@pytest.mark.parametrize("kind", KINDS)
def test_openssl_sign_then_encrypt_der_we_decrypt_and_verify(
    openssl: str, tmp_path: Path, rita: certs.X509SecretKey, kind: Kind
) -> None:
    f = _files(tmp_path, kind, rita)
    signed = _run(
        openssl,
        "cms",
        "-sign",
        "-binary",
        "-nodetach",
        "-outform",
        "DER",
        "-in",
        f["part"],
        "-signer",
        f["cert"],
        "-inkey",
        f["key"],
    )
    sealed = _run(
        openssl,
        "cms",
        "-encrypt",
        "-binary",
        "-inform",
        "DER",
        "-outform",
        "DER",
        "-aes-256-gcm",
        f["rcert"],
        stdin=signed,
    )
    assert e2ee_mail.decrypt(sealed, rita, verify_with=signer(kind).public) == PART


def test_openssl_multipart_signed_parsed_first_we_verify(
    openssl: str, tmp_path: Path, rita: certs.X509SecretKey
) -> None:
    """The mail as an application holds it, parsed by ``email``: the signed part
    must still be read as the octets that were signed."""
    import email
    import email.policy

    f = _files(tmp_path, "p256", rita)
    signed = _run(
        openssl,
        "smime",
        "-sign",
        "-in",
        f["part"],
        "-signer",
        f["cert"],
        "-inkey",
        f["key"],
    )
    for parsed in (
        email.message_from_bytes(signed, policy=email.policy.default),
        email.message_from_bytes(signed),
    ):
        assert e2ee_mail.verify_message(parsed, signer("p256").public).good


def test_openssl_sha1_signature_refused(
    openssl: str, tmp_path: Path, rita: certs.X509SecretKey
) -> None:
    f = _files(tmp_path, "p256", rita)
    signed = _run(
        openssl,
        "smime",
        "-sign",
        "-md",
        "sha1",
        "-in",
        f["part"],
        "-signer",
        f["cert"],
        "-inkey",
        f["key"],
    )
    with pytest.raises(e2ee_mail.SignatureError) as info:
        e2ee_mail.verify_message(signed, signer("p256").public)
    assert [r.status for r in info.value.results] == ["policy-refused"]


def test_we_sign_8bit_mail_openssl_verifies(
    openssl: str, tmp_path: Path, rita: certs.X509SecretKey
) -> None:
    f = _files(tmp_path, "p256", rita)
    msg = _mail()
    msg.set_content("Grüße aus Köln\n")
    signed = tmp_path / "signed.eml"
    signed.write_bytes(e2ee_mail.sign_message(msg, signer("p256")).as_bytes())
    out = _run(
        openssl,
        "smime",
        "-verify",
        "-in",
        str(signed),
        "-CAfile",
        f["cert"],
        "-purpose",
        "any",
    )
    assert b"Gr=C3=BC=C3=9Fe" in out
