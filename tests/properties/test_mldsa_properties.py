"""The composite ML-DSA + EdDSA check of core/mldsa.py on hostile input: whatever
octets stand for the signature or the public key, the answer is a verdict (a
FormatError) and never another exception; a signature holds only unchanged."""

from __future__ import annotations

import functools

from hypothesis import given, settings
from hypothesis import strategies as st

from e2ee_mail.core import mldsa
from e2ee_mail.errors import FormatError

_SUITE = mldsa.MLDSA65_ED25519
_MESSAGE = bytes(range(64))


@functools.cache
def _key() -> mldsa.CompositeSigPrivateKey:
    return mldsa.generate(_SUITE.algorithm)


@functools.cache
def _signature() -> bytes:
    return mldsa.sign(_key(), _MESSAGE)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=_SUITE.signature_size + 8))
def test_arbitrary_signature_octets_are_refused(octets: bytes) -> None:
    try:
        mldsa.check(_key().public_key(), octets, _MESSAGE)
    except FormatError:
        return
    assert octets == _signature()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, _SUITE.signature_size - 1), st.integers(1, 255))
def test_any_altered_octet_fails(position: int, mask: int) -> None:
    altered = bytearray(_signature())
    altered[position] ^= mask
    try:
        mldsa.check(_key().public_key(), bytes(altered), _MESSAGE)
    except FormatError:
        return
    raise AssertionError(f"octet {position} altered and still valid")


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=_SUITE.public_size, max_size=_SUITE.public_size))
def test_arbitrary_public_key_octets_load_or_are_refused(octets: bytes) -> None:
    try:
        public = mldsa.public_from_bytes(octets, _SUITE.algorithm)
    except FormatError:
        return
    try:
        mldsa.check(public, _signature(), _MESSAGE)
    except FormatError:
        return
    raise AssertionError("a random public key verified a signature")
