"""Interop with Sequoia (pysequoia, sequoia-openpgp 2) for ML-KEM-768+X25519
(RFC 9980, algorithm 35), v6 and v4 keys, both directions:

* pysequoia makes an Ed25519 key with an ML-KEM-768+X25519 subkey; we encrypt to its
  certificate and it decrypts; it encrypts to its own certificate and we decrypt
  with its secret key, loaded by us.
* We make a key of kind mlkem768-x25519; pysequoia encrypts to our certificate and
  we decrypt; we encrypt and pysequoia decrypts with our exported secret key.
* The archive upgrade: a message pysequoia encrypted to a classical key is re-wrapped
  by us to pysequoia's PQ certificate (body untouched), and pysequoia opens it.

The peers' versions are in the session header (tests/conftest.py).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Literal

import pytest
from peers import require_pysequoia

import e2ee_mail
from e2ee_mail.openpgp import inspection

pytestmark = pytest.mark.interop
BODY = b"post-quantum interop \x00\xff\r\n" * 100
Profile = Literal["rfc9580", "rfc4880"]
PROFILES: tuple[Profile, ...] = ("rfc9580", "rfc4880")


def _their_pq_key(ps: ModuleType, profile: Profile) -> Any:
    return ps.Tsk.generate(
        f"Sequoia PQ <seq-{profile}@example.org>",
        profile=ps.Profile.RFC9580 if profile == "rfc9580" else ps.Profile.RFC4880,
        signing_algorithm=ps.SigningAlgorithm.Ed25519,
        encryption_algorithm=ps.EncryptionAlgorithm.MLKEM768_X25519,
    )


def _recipient_algorithms(sealed: bytes) -> list[str]:
    return [r.algorithm for r in inspection.inspect(sealed).recipients]


@pytest.mark.parametrize("profile", PROFILES)
def test_we_encrypt_to_a_pysequoia_pq_certificate_it_decrypts(
    profile: Profile,
) -> None:
    ps = require_pysequoia()
    tsk = _their_pq_key(ps, profile)
    cert = e2ee_mail.load_certificate(bytes(tsk.extract_certificate()))
    assert cert.version == (6 if profile == "rfc9580" else 4)  # type: ignore[attr-defined]
    for armored in (True, False):
        sealed = bytes(e2ee_mail.encrypt(BODY, cert, armor=armored))
        assert _recipient_algorithms(sealed) == ["mlkem768-x25519"]
        # RFC 9980 §7.1: a PQ certificate implies AES-256 with OCB.
        assert inspection.inspect(sealed).content_algorithm == "seipdv2-aes256-ocb"
        assert ps.decrypt(sealed, decryptor=tsk.decryptor()).bytes == BODY


@pytest.mark.parametrize("profile", PROFILES)
def test_pysequoia_encrypts_to_its_pq_certificate_we_decrypt(
    profile: Profile,
) -> None:
    ps = require_pysequoia()
    tsk = _their_pq_key(ps, profile)
    key = e2ee_mail.load_key(bytes(tsk))
    for armored in (True, False):
        sealed = bytes(ps.encrypt(BODY, [tsk.extract_certificate()], armor=armored))
        assert _recipient_algorithms(sealed) == ["mlkem768-x25519"]
        assert e2ee_mail.decrypt(sealed, key) == BODY


@pytest.mark.parametrize("profile", PROFILES)
def test_pysequoia_encrypts_to_our_pq_certificate_we_decrypt(
    profile: Profile,
) -> None:
    ps = require_pysequoia()
    ours = e2ee_mail.generate_key(
        "Ours PQ <ours-pq@example.org>", kind="mlkem768-x25519", profile=profile
    )
    cert = ps.Cert.from_bytes(ours.public.export())
    sealed = bytes(ps.encrypt(BODY, [cert]))
    assert _recipient_algorithms(sealed) == ["mlkem768-x25519"]
    assert e2ee_mail.decrypt(sealed, ours) == BODY


@pytest.mark.parametrize("profile", PROFILES)
def test_pysequoia_decrypts_with_our_pq_secret_key(profile: Profile) -> None:
    ps = require_pysequoia()
    ours = e2ee_mail.generate_key(
        "Ours PQ <ours-pq@example.org>", kind="mlkem768-x25519", profile=profile
    )
    tsk = ps.Tsk.from_bytes(ours.export())
    sealed = bytes(e2ee_mail.encrypt(BODY, ours.public))
    assert ps.decrypt(sealed, decryptor=tsk.decryptor()).bytes == BODY


@pytest.mark.parametrize("profile", PROFILES)
def test_rewrap_a_pysequoia_message_to_its_pq_certificate(profile: Profile) -> None:
    ps = require_pysequoia()
    old = e2ee_mail.generate_key("Old <old@example.org>", profile=profile)
    old_cert = ps.Cert.from_bytes(old.public.export())
    sealed = bytes(ps.encrypt(BODY, [old_cert], armor=False))
    tsk = _their_pq_key(ps, "rfc9580")
    pq_cert = e2ee_mail.load_certificate(bytes(tsk.extract_certificate()))
    rewrapped = bytes(e2ee_mail.rewrap(sealed, old, pq_cert))
    assert _recipient_algorithms(rewrapped) == ["mlkem768-x25519"]
    assert ps.decrypt(rewrapped, decryptor=tsk.decryptor()).bytes == BODY


def test_mlkem1024_x448_both_ways() -> None:
    """ML-KEM-1024+X448 (36, v6 only): we encrypt to pysequoia's certificate and it
    decrypts; it encrypts and we decrypt with its secret key."""
    ps = require_pysequoia()
    tsk = ps.Tsk.generate(
        "Sequoia PQ 1024 <seq-1024@example.org>",
        profile=ps.Profile.RFC9580,
        signing_algorithm=ps.SigningAlgorithm.Ed25519,
        encryption_algorithm=ps.EncryptionAlgorithm.MLKEM1024_X448,
    )
    cert = e2ee_mail.load_certificate(bytes(tsk.extract_certificate()))
    sealed = bytes(e2ee_mail.encrypt(BODY, cert))
    assert _recipient_algorithms(sealed) == ["mlkem1024-x448"]
    assert ps.decrypt(sealed, decryptor=tsk.decryptor()).bytes == BODY
    theirs = bytes(ps.encrypt(BODY, [tsk.extract_certificate()]))
    assert _recipient_algorithms(theirs) == ["mlkem1024-x448"]
    assert e2ee_mail.decrypt(theirs, e2ee_mail.load_key(bytes(tsk))) == BODY
