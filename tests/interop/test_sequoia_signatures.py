"""v6 signatures with Sequoia through pysequoia (sequoia-openpgp 2), both ways.

* pysequoia signs (inline, detached, encrypt with a signer) with a v6 key whose
  signing key is an Ed25519 subkey → we verify "good";
* we sign with our v6 key (inline, detached, sign-then-encrypt to pysequoia's key)
  → pysequoia's verify / decrypt list our signature as valid;
* we sign with pysequoia's own v6 secret key (its signing subkey, selected with its
  back-signature) → pysequoia verifies.
"""

from __future__ import annotations

from typing import Any

import pytest
from openpgp_signers import signer
from peers import require_pysequoia

import e2ee_mail
from e2ee_mail.openpgp import signing, verifying
from e2ee_mail.openpgp.certs import OpenPGPCertificate
from e2ee_mail.policy import DEFAULT

pytestmark = pytest.mark.interop

BODY = b"sequoia signs \x00\xff\r\n" * 100


@pytest.fixture(scope="module")
def peer() -> tuple[Any, Any, OpenPGPCertificate]:
    ps = require_pysequoia()
    tsk = ps.Tsk.generate("Py <py@example.org>", profile=ps.Profile.RFC9580)
    cert = e2ee_mail.load_certificate(bytes(tsk.extract_certificate()))
    assert isinstance(cert, OpenPGPCertificate) and cert.version == 6
    return ps, tsk, cert


def _good(results: tuple[e2ee_mail.SignatureResult, ...], fpr: str) -> None:
    assert [r.status for r in results] == ["good"], results
    assert results[0].fingerprint == fpr


@pytest.mark.parametrize("armor", [True, False])
def test_pysequoia_signs_inline_we_verify(
    peer: tuple[Any, Any, OpenPGPCertificate], armor: bool
) -> None:
    ps, tsk, cert = peer
    signed = bytes(ps.sign(tsk.signer(), BODY, armor=armor))
    content, results = verifying.verify_inline(signed, [cert], policy=DEFAULT)
    assert content == BODY
    _good(results, cert.fingerprint)


def test_pysequoia_signs_detached_we_verify(
    peer: tuple[Any, Any, OpenPGPCertificate],
) -> None:
    ps, tsk, cert = peer
    sig = bytes(ps.sign(tsk.signer(), BODY, mode=ps.SignatureMode.DETACHED))
    _good(
        verifying.verify_detached(BODY, sig, [cert], policy=DEFAULT), cert.fingerprint
    )


def test_pysequoia_encrypts_and_signs_we_verify(
    peer: tuple[Any, Any, OpenPGPCertificate],
) -> None:
    ps, tsk, cert = peer
    ours = signer("v6")
    sealed = bytes(
        ps.encrypt(
            BODY,
            recipients=[ps.Cert.from_bytes(ours.public.export())],
            signer=tsk.signer(),
        )
    )
    plain, results = verifying.decrypt_verified(sealed, [ours], [cert], policy=DEFAULT)
    assert plain == BODY
    _good(results, cert.fingerprint)


def _valid_by(found: Any, fpr: str) -> bool:
    return any(fpr.lower() in repr(v).lower() for v in found.valid_sigs)


def test_we_sign_inline_pysequoia_verifies(
    peer: tuple[Any, Any, OpenPGPCertificate],
) -> None:
    ps, _, _ = peer
    ours = signer("v6")
    theirs = ps.Cert.from_bytes(ours.public.export())
    found = ps.verify(bytes=signing.sign_inline(BODY, ours), store=lambda ids: [theirs])
    assert found.bytes == BODY
    assert _valid_by(found, ours.public.fingerprint)


def test_we_sign_detached_pysequoia_verifies(
    peer: tuple[Any, Any, OpenPGPCertificate],
) -> None:
    ps, _, _ = peer
    ours = signer("v6")
    theirs = ps.Cert.from_bytes(ours.public.export())
    sig = ps.Sig.from_bytes(signing.sign_detached(BODY, ours))
    found = ps.verify(bytes=BODY, store=lambda ids: [theirs], signature=sig)
    assert _valid_by(found, ours.public.fingerprint)


def test_we_encrypt_and_sign_pysequoia_decrypts_valid(
    peer: tuple[Any, Any, OpenPGPCertificate],
) -> None:
    ps, tsk, cert = peer
    ours = signer("v6")
    theirs = ps.Cert.from_bytes(ours.public.export())
    sealed = signing.encrypt_signed(BODY, [cert], ours, armor=True, policy=DEFAULT)
    found = ps.decrypt(
        bytes(sealed), decryptor=tsk.decryptor(), store=lambda ids: [theirs]
    )
    assert found.bytes == BODY
    assert _valid_by(found, ours.public.fingerprint)


def test_we_sign_with_pysequoia_signing_subkey(
    peer: tuple[Any, Any, OpenPGPCertificate],
) -> None:
    ps, tsk, cert = peer
    key = e2ee_mail.load_key(bytes(tsk))
    info, _ = signing.signing_key(key)
    assert info.fingerprint != cert.primary.fingerprint
    signed = signing.sign_inline(BODY, key)
    found = ps.verify(bytes=signed, store=lambda ids: [tsk.extract_certificate()])
    assert found.bytes == BODY and found.valid_sigs
