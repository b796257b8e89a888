"""Octets after the end of the compressed stream inside an authenticated Compressed
Data packet (RFC 9580 §5.6): Sequoia's default output has padding there. The message
opens with exactly the literal data; what follows the stream is never released, even
when it is a second complete compressed literal; the SEIPD integrity check (MDC or
AEAD tag) covers it; the decompression bound still holds."""

from __future__ import annotations

import dataclasses
import io
import zlib

import pytest
import strategies as s

import e2ee_mail
from e2ee_mail.policy import DEFAULT

CONTENT = b"the literal data \x00\xff" * 50
SMUGGLED = b"smuggled after the end"


def _deflate(data: bytes, algo: int) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15 if algo == 1 else 15)
    return c.compress(data) + c.flush()


def _compressed(algo: int, trailer: bytes) -> bytes:
    body = bytes([algo]) + _deflate(s.literal_packet(CONTENT), algo) + trailer
    return s.pgp_packet(8, body)


def _trailers(algo: int) -> dict[str, bytes]:
    return {
        "padding": b"q" * 3,
        "second-literal": _deflate(s.literal_packet(SMUGGLED), algo),
    }


def _message(container: str, inner: bytes) -> tuple[bytes, e2ee_mail.SecretKey]:
    k = s.keys()
    if container == "seipdv2":
        return s.build_seipdv2(k.pgp6_x25519, inner), k.pgp6_x25519
    return s.build_seipdv1(k.pgp4_ecdh, inner), k.pgp4_ecdh


@pytest.mark.parametrize("trailer", ["padding", "second-literal"])
@pytest.mark.parametrize("algo", [1, 2])
@pytest.mark.parametrize("container", ["seipdv1", "seipdv2"])
def test_message_opens_and_releases_only_the_literal(
    container: str, algo: int, trailer: str
) -> None:
    msg, key = _message(container, _compressed(algo, _trailers(algo)[trailer]))
    assert e2ee_mail.decrypt(msg, key) == CONTENT
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(io.BytesIO(msg), out, key)
    assert out.getvalue() == CONTENT


def _seipdv1_hashing(key: e2ee_mail.SecretKey, inner: bytes, hashed: bytes) -> bytes:
    """A SEIPDv1 message holding ``inner`` whose MDC is the hash of ``hashed``
    (RFC 9580 §5.13.1): what an attacker who changes octets of ``hashed`` has."""
    import hashlib
    import os

    from cryptography.hazmat.decrepit.ciphers.modes import CFB
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

    session_key = os.urandom(32)
    prefix = os.urandom(16)
    prefix += prefix[-2:]
    mdc = hashlib.sha1(prefix + hashed + b"\xd3\x14").digest()
    plain = prefix + inner + b"\xd3\x14" + mdc
    enc = Cipher(algorithms.AES(session_key), CFB(bytes(16))).encryptor()
    body = enc.update(plain) + enc.finalize()
    return s.v3_pkesk(key, session_key) + s.pgp_packet(18, b"\x01" + body)


def test_trailing_octets_are_covered_by_the_mdc() -> None:
    """The MDC was computed with other padding than the packet holds: the message
    fails and nothing is released."""
    key = s.keys().pgp4_ecdh
    good = _seipdv1_hashing(key, _compressed(1, b"qqq"), _compressed(1, b"qqq"))
    assert e2ee_mail.decrypt(good, key) == CONTENT
    msg = _seipdv1_hashing(key, _compressed(1, b"qqr"), _compressed(1, b"qqq"))
    with pytest.raises(e2ee_mail.DecryptionError):
        e2ee_mail.decrypt(msg, key)
    out = io.BytesIO()
    with pytest.raises(e2ee_mail.DecryptionError):
        e2ee_mail.decrypt_stream(io.BytesIO(msg), out, key)
    assert out.getvalue() == b""


@pytest.mark.parametrize("container", ["seipdv1", "seipdv2"])
def test_the_decompression_limit_counts_the_stream_only(container: str) -> None:
    """The bound applies as before: the literal packet alone must fit, and what
    follows the stream adds nothing to the output."""
    inflated = len(s.literal_packet(CONTENT))
    msg, key = _message(container, _compressed(1, _trailers(1)["second-literal"]))
    exact = dataclasses.replace(DEFAULT, max_decompressed_bytes=inflated)
    assert e2ee_mail.decrypt(msg, key, policy=exact) == CONTENT
    tight = dataclasses.replace(DEFAULT, max_decompressed_bytes=inflated - 1)
    with pytest.raises(e2ee_mail.PolicyError, match="decompression bomb"):
        e2ee_mail.decrypt(msg, key, policy=tight)
    with pytest.raises(e2ee_mail.PolicyError, match="decompression bomb"):
        e2ee_mail.decrypt_stream(io.BytesIO(msg), io.BytesIO(), key, policy=tight)
