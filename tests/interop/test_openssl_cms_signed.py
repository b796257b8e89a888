"""CMS SignedData interop with the real ``openssl cms`` (OpenSSL 3.x), both ways.

openssl -> us: ``openssl cms -sign -binary`` detached and with ``-nodetach``, RSA
PKCS#1 v1.5, RSA-PSS (``-keyopt rsa_padding_mode:pss``), ECDSA P-256 and P-384, and
Ed25519 (``-md sha512``, RFC 8419), verified by us; SHA-1, ``-noattr`` and
``-stream`` shapes judged. us -> openssl: our SignedData of each
algorithm, detached, encapsulated and streamed (BER), verified by ``openssl cms
-verify -binary -CAfile cert -purpose any`` (the self-signed certificate is its own
trust anchor).

OpenSSL 3.0 cannot sign or verify Ed25519 in CMS (its EdDSA signature provider
refuses the digest CMS passes it); the Ed25519 cases xfail with that reason when it
refuses, and run when a later OpenSSL accepts them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from peers import require_peer
from signing_keys import Kind, signer

from e2ee_mail.cms import signing, verification

pytestmark = pytest.mark.interop

BODY = b"Signed interop line\r\n" * 300 + b"last line without newline"

#: (key kind, openssl -sign options, our pss flag, the algorithm we report)
CASES = [
    ("rsa2048", (), False, "rsa-pkcs1v15-sha256"),
    ("rsa2048", ("-keyopt", "rsa_padding_mode:pss"), True, "rsa-pss-sha256"),
    ("p256", (), False, "ecdsa-p256-sha256"),
    ("p384", ("-md", "sha384"), False, "ecdsa-p384-sha384"),
    ("ed25519", ("-md", "sha512"), False, "ed25519"),
]
IDS = ["rsa", "rsa-pss", "p256", "p384", "ed25519"]

_OPENSSL_ED25519 = "OpenSSL 3.0 CMS refuses Ed25519 (eddsa_digest_signverify_init)"


@pytest.fixture(scope="module")
def openssl() -> str:
    return require_peer("openssl")


def _files(tmp_path: Path, kind: Kind) -> tuple[Path, Path]:
    key = signer(kind)
    cert_path = tmp_path / f"{kind}.pem"
    key_path = tmp_path / f"{kind}.key"
    cert_path.write_bytes(key.public.export())
    key_path.write_bytes(key.export())
    return cert_path, key_path


def _run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(args, capture_output=True, check=False)


def _xfail_ed25519(kind: str, proc: subprocess.CompletedProcess[bytes]) -> None:
    if kind == "ed25519" and b"eddsa" in proc.stderr:
        pytest.xfail(_OPENSSL_ED25519)


@pytest.mark.parametrize(("kind", "opts", "pss", "name"), CASES, ids=IDS)
@pytest.mark.parametrize("detach", [True, False], ids=["detached", "nodetach"])
def test_openssl_signs_we_verify(
    openssl: str,
    tmp_path: Path,
    kind: Kind,
    opts: tuple[str, ...],
    pss: bool,
    name: str,
    detach: bool,
) -> None:
    cert_path, key_path = _files(tmp_path, kind)
    src = tmp_path / "body"
    src.write_bytes(BODY)
    out = tmp_path / "sig.der"
    proc = _run(
        openssl, "cms", "-sign", "-binary", "-in", str(src), "-outform", "DER",
        "-out", str(out), "-signer", str(cert_path), "-inkey", str(key_path),
        *opts, *(() if detach else ("-nodetach",)),
    )  # fmt: skip
    _xfail_ed25519(kind, proc)
    assert proc.returncode == 0, proc.stderr.decode()
    body, results = verification.verify(
        out.read_bytes(), [signer(kind).public], content=BODY if detach else None
    )
    assert body == BODY
    (result,) = results
    assert result.good, result
    assert result.algorithm == name
    # And with a body altered after signing: bad.
    content = BODY + b"!"
    if detach:
        (result,) = verification.verify(
            out.read_bytes(), [signer(kind).public], content=content
        )[1]
        assert result.status == "bad"


def _openssl_verify(
    openssl: str, tmp_path: Path, cert_path: Path, der: bytes, detached: bool
) -> subprocess.CompletedProcess[bytes]:
    sig = tmp_path / "ours.der"
    sig.write_bytes(der)
    src = tmp_path / "body"
    src.write_bytes(BODY)
    content = ("-content", str(src)) if detached else ()
    return _run(
        openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", str(sig),
        *content, "-CAfile", str(cert_path), "-purpose", "any",
        "-out", str(tmp_path / "verified"),
    )  # fmt: skip


@pytest.mark.parametrize(("kind", "opts", "pss", "name"), CASES, ids=IDS)
@pytest.mark.parametrize("form", ["detached", "opaque", "streamed"])
def test_we_sign_openssl_verifies(
    openssl: str,
    tmp_path: Path,
    kind: Kind,
    opts: tuple[str, ...],
    pss: bool,
    name: str,
    form: str,
) -> None:
    cert_path, _ = _files(tmp_path, kind)
    key = signer(kind)
    if form == "streamed":
        builder = signing.SignedDataBuilder([key], pss=pss)
        parts = [builder.stream_head()]
        for start in range(0, len(BODY), 1000):
            parts.append(builder.stream_chunk(BODY[start : start + 1000]))
        der = b"".join([*parts, builder.stream_tail()])
    else:
        der = signing.sign(BODY, [key], detached=form == "detached", pss=pss)
    proc = _openssl_verify(openssl, tmp_path, cert_path, der, form == "detached")
    _xfail_ed25519(kind, proc)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Verification successful" in proc.stderr
    assert (tmp_path / "verified").read_bytes() == BODY


def test_openssl_refuses_our_signature_over_other_content(
    openssl: str, tmp_path: Path
) -> None:
    cert_path, _ = _files(tmp_path, "p256")
    der = signing.sign(BODY + b"x", [signer("p256")])
    proc = _openssl_verify(openssl, tmp_path, cert_path, der, True)
    assert proc.returncode != 0


def test_two_signers_both_verified_by_openssl_and_us(
    openssl: str, tmp_path: Path
) -> None:
    rsa_cert, _ = _files(tmp_path, "rsa2048")
    ec_cert, _ = _files(tmp_path, "p256")
    both = tmp_path / "both.pem"
    both.write_bytes(rsa_cert.read_bytes() + ec_cert.read_bytes())
    keys = [signer("rsa2048"), signer("p256")]
    der = signing.sign(BODY, keys)
    proc = _openssl_verify(openssl, tmp_path, both, der, True)
    assert proc.returncode == 0, proc.stderr.decode()
    results = verification.verify(der, [k.public for k in keys], content=BODY)[1]
    assert [r.status for r in results] == ["good", "good"]


@pytest.mark.parametrize(
    ("opts", "status"),
    [
        (("-md", "sha1"), "policy-refused"),
        (("-noattr",), "good"),
        (("-stream", "-nodetach"), "good"),
        (("-noattr", "-nodetach", "-md", "sha512"), "good"),
    ],
    ids=["sha1", "noattr", "stream-ber", "noattr-sha512-nodetach"],
)
def test_openssl_shapes_we_judge(
    openssl: str, tmp_path: Path, opts: tuple[str, ...], status: str
) -> None:
    # SHA-1 is refused by policy whoever made it; signatures without signed
    # attributes (RFC 5652 §5.4) and streamed BER verify.
    cert_path, key_path = _files(tmp_path, "rsa2048")
    src = tmp_path / "body"
    src.write_bytes(BODY)
    out = tmp_path / "sig.der"
    proc = _run(
        openssl, "cms", "-sign", "-binary", "-in", str(src), "-outform", "DER",
        "-out", str(out), "-signer", str(cert_path), "-inkey", str(key_path), *opts,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    detached = "-nodetach" not in opts
    body, results = verification.verify(
        out.read_bytes(),
        [signer("rsa2048").public],
        content=BODY if detached else None,
    )
    assert body == BODY
    (result,) = results
    assert result.status == status, result
