"""Interop with Sequoia (pysequoia, sequoia-openpgp 2) for the composite signatures
of RFC 9980: ML-DSA-65+Ed25519 (algorithm 30) and ML-DSA-87+Ed448 (31), both ways.

* pysequoia makes a v6 key whose primary key and signing subkey are ML-DSA
  composites (with an ML-KEM encryption subkey); it signs inline, detached and
  inside an encrypted message, and we verify "good";
* we sign with our key of kind mldsa65-ed25519 (inline, detached, sign-then-encrypt
  to pysequoia's key) and pysequoia lists the signature as valid;
* we sign with pysequoia's own secret key (its ML-DSA signing subkey, chosen with
  its back-signature) and pysequoia verifies;
* PGP/MIME: pysequoia verifies the part our multipart/signed signature covers, and
  we verify a multipart/signed mail around pysequoia's detached signature.

sqop 0.27 (Sequoia 1.12), sq 0.27, gosop (GopenPGP 2), rnp 0.16 and GnuPG 2.2 know
no post-quantum signature algorithm, and OpenPGP.js 6.3 only a pre-RFC experimental
code point (107, not 30), so Sequoia 2 is the one peer here.
"""

from __future__ import annotations

import functools
from email.message import EmailMessage
from typing import Any

import pytest
from peers import require_pysequoia

import e2ee_mail
from e2ee_mail.openpgp import keygen, signing, verifying
from e2ee_mail.openpgp.certs import OpenPGPCertificate, OpenPGPSecretKey
from e2ee_mail.policy import DEFAULT

pytestmark = pytest.mark.interop

BODY = b"composite signatures \x00\xff\r\n" * 100
SUITES = ("MLDSA65_Ed25519", "MLDSA87_Ed448")
NAMES = {"MLDSA65_Ed25519": "mldsa65-ed25519", "MLDSA87_Ed448": "mldsa87-ed448"}
KEMS = {"MLDSA65_Ed25519": "MLKEM768_X25519", "MLDSA87_Ed448": "MLKEM1024_X448"}


@functools.cache
def _ours() -> OpenPGPSecretKey:
    return keygen.generate(
        "Ours ML-DSA <ours-mldsa@example.org>",
        kind="mldsa65-ed25519",
        profile="rfc9580",
    )


@functools.cache
def _theirs(suite: str) -> tuple[Any, Any, OpenPGPCertificate]:
    ps = require_pysequoia()
    tsk = ps.Tsk.generate(
        f"Sequoia {suite} <seq-{suite.lower()}@example.org>",
        profile=ps.Profile.RFC9580,
        signing_algorithm=getattr(ps.SigningAlgorithm, suite),
        encryption_algorithm=getattr(ps.EncryptionAlgorithm, KEMS[suite]),
    )
    cert = e2ee_mail.load_certificate(bytes(tsk.extract_certificate()))
    assert isinstance(cert, OpenPGPCertificate)
    return ps, tsk, cert


def _good(
    results: tuple[e2ee_mail.SignatureResult, ...], fpr: str, algorithm: str
) -> None:
    assert [r.status for r in results] == ["good"], results
    assert results[0].fingerprint == fpr
    assert results[0].algorithm == algorithm


def _valid_by(found: Any, fpr: str) -> bool:
    return any(fpr.lower() in repr(v).lower() for v in found.valid_sigs)


@pytest.mark.parametrize("suite", SUITES)
def test_pysequoia_key_loads_with_composite_primary_and_subkey(suite: str) -> None:
    _, tsk, cert = _theirs(suite)
    assert cert.primary.packet.algorithm == (30 if "65" in suite else 31)
    signing_info, _ = signing.signing_key(e2ee_mail.load_key(bytes(tsk)))
    assert signing_info.packet.algorithm == cert.primary.packet.algorithm
    assert signing_info.fingerprint != cert.primary.fingerprint


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("armor", [True, False])
def test_pysequoia_signs_inline_we_verify(suite: str, armor: bool) -> None:
    ps, tsk, cert = _theirs(suite)
    signed = bytes(ps.sign(tsk.signer(), BODY, armor=armor))
    content, results = verifying.verify_inline(signed, [cert], policy=DEFAULT)
    assert content == BODY
    _good(results, cert.fingerprint, NAMES[suite])


@pytest.mark.parametrize("suite", SUITES)
def test_pysequoia_signs_detached_we_verify(suite: str) -> None:
    ps, tsk, cert = _theirs(suite)
    sig = bytes(ps.sign(tsk.signer(), BODY, mode=ps.SignatureMode.DETACHED))
    results = verifying.verify_detached(BODY, sig, [cert], policy=DEFAULT)
    _good(results, cert.fingerprint, NAMES[suite])


@pytest.mark.parametrize("suite", SUITES)
def test_pysequoia_encrypts_and_signs_we_verify(suite: str) -> None:
    ps, tsk, cert = _theirs(suite)
    ours = _ours()
    sealed = bytes(
        ps.encrypt(
            BODY,
            recipients=[ps.Cert.from_bytes(ours.public.export())],
            signer=tsk.signer(),
        )
    )
    plain, results = verifying.decrypt_verified(sealed, [ours], [cert], policy=DEFAULT)
    assert plain == BODY
    _good(results, cert.fingerprint, NAMES[suite])


def test_pysequoia_altered_composite_signature_is_not_good() -> None:
    ps, tsk, cert = _theirs("MLDSA65_Ed25519")
    sig = bytearray(
        bytes(ps.sign(tsk.signer(), BODY, mode=ps.SignatureMode.DETACHED, armor=False))
    )
    sig[-100] ^= 0x01  # inside the ML-DSA half, the Ed25519 half untouched
    results = verifying.verify_detached(BODY, bytes(sig), [cert], policy=DEFAULT)
    assert [r.status for r in results] == ["bad"]


def test_we_sign_inline_pysequoia_verifies() -> None:
    ps = require_pysequoia()
    ours = _ours()
    theirs = ps.Cert.from_bytes(ours.public.export())
    found = ps.verify(bytes=signing.sign_inline(BODY, ours), store=lambda ids: [theirs])
    assert found.bytes == BODY
    assert _valid_by(found, ours.public.fingerprint)


def test_we_sign_detached_pysequoia_verifies() -> None:
    ps = require_pysequoia()
    ours = _ours()
    theirs = ps.Cert.from_bytes(ours.public.export())
    sig = ps.Sig.from_bytes(signing.sign_detached(BODY, ours))
    found = ps.verify(bytes=BODY, store=lambda ids: [theirs], signature=sig)
    assert _valid_by(found, ours.public.fingerprint)


@pytest.mark.parametrize("suite", SUITES)
def test_we_encrypt_and_sign_pysequoia_decrypts_valid(suite: str) -> None:
    ps, tsk, cert = _theirs(suite)
    ours = _ours()
    theirs = ps.Cert.from_bytes(ours.public.export())
    sealed = signing.encrypt_signed(BODY, [cert], ours, armor=True, policy=DEFAULT)
    found = ps.decrypt(
        bytes(sealed), decryptor=tsk.decryptor(), store=lambda ids: [theirs]
    )
    assert found.bytes == BODY
    assert _valid_by(found, ours.public.fingerprint)


@pytest.mark.parametrize("suite", SUITES)
def test_we_sign_with_pysequoia_composite_subkey(suite: str) -> None:
    ps, tsk, _ = _theirs(suite)
    signed = signing.sign_inline(BODY, e2ee_mail.load_key(bytes(tsk)))
    found = ps.verify(bytes=signed, store=lambda ids: [tsk.extract_certificate()])
    assert found.bytes == BODY
    assert found.valid_sigs


def _mail() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Ours ML-DSA <ours-mldsa@example.org>"
    msg["To"] = "seq@example.org"
    msg["Subject"] = "post-quantum plans"
    msg.set_content("See you at 3pm.\n")
    return msg


def test_we_sign_pgpmime_pysequoia_verifies_the_part() -> None:
    ps = require_pysequoia()
    ours = _ours()
    signed = e2ee_mail.sign_message(_mail(), ours, format="pgpmime")
    boundary = signed.get_boundary()
    assert boundary is not None
    raw = signed.as_bytes()
    body = raw[raw.index(b"\r\n\r\n") + 2 :]
    # RFC 3156 §5: the first part's octets (the CRLF before the delimiter excluded)
    # are what the second part's signature covers.
    _, first, second, _ = body.split(b"\r\n--" + boundary.encode())
    content = first.split(b"\r\n", 1)[1]
    sig = ps.Sig.from_bytes(second.split(b"\r\n\r\n", 1)[1])
    theirs = ps.Cert.from_bytes(ours.public.export())
    found = ps.verify(bytes=content, store=lambda ids: [theirs], signature=sig)
    assert _valid_by(found, ours.public.fingerprint)


def test_pysequoia_signs_a_pgpmime_part_we_verify() -> None:
    ps, tsk, cert = _theirs("MLDSA65_Ed25519")
    entity = b'Content-Type: text/plain; charset="utf-8"\r\n\r\nSee you at 3pm.\r\n'
    sig = bytes(ps.sign(tsk.signer(), entity, mode=ps.SignatureMode.DETACHED))
    boundary = b"pq-boundary-1"
    mail = b"".join(
        [
            b"From: seq@example.org\r\nTo: ours-mldsa@example.org\r\n",
            b"Subject: signed by Sequoia\r\nMIME-Version: 1.0\r\n",
            b'Content-Type: multipart/signed; micalg="pgp-sha512"; ',
            b'protocol="application/pgp-signature"; boundary="pq-boundary-1"\r\n\r\n',
            b"--" + boundary + b"\r\n" + entity,
            b"\r\n--" + boundary + b"\r\n",
            b"Content-Type: application/pgp-signature\r\n\r\n" + sig,
            b"\r\n--" + boundary + b"--\r\n",
        ]
    )
    verified = e2ee_mail.verify_message(mail, cert)
    _good(verified.signatures, cert.fingerprint, "mldsa65-ed25519")
    assert verified.message.get_content() == "See you at 3pm.\n"
