"""Subkey rotation (openpgp/rotate.py) under generated times and mutated output.

* For any rotation time and any requested expiry of the old subkey, the certificate
  sends new mail to the new subkey only, the old subkey's expiry is exactly what the
  re-issued binding says (RFC 9580 §5.2.3.13, at least one second after its
  creation), and the rotated key opens mail to both subkeys.
* A rotated certificate with one octet changed either still loads or fails with an
  e2ee_mail.Error, never another exception.
"""

from __future__ import annotations

import functools

from hypothesis import given, settings
from hypothesis import strategies as st

import e2ee_mail
from e2ee_mail.openpgp import keygen, keygen_v4
from e2ee_mail.openpgp.certs import OpenPGPSecretKey
from e2ee_mail.openpgp.rotate import add_encryption_subkey

T_KEY = 1_700_000_000
UID = "Alice <alice@example.org>"


@functools.cache
def _original(version: int) -> OpenPGPSecretKey:
    if version == 6:
        return keygen.generate_v6(UID, kind="x25519", now=T_KEY)
    return keygen_v4.generate_v4(UID, kind="x25519", now=T_KEY)


@functools.cache
def _rotated_cert(version: int) -> bytes:
    return add_encryption_subkey(_original(version), created=T_KEY + 60).public.export(
        armor=False
    )


@settings(max_examples=20, deadline=None)
@given(
    version=st.sampled_from([4, 6]),
    after=st.integers(min_value=1, max_value=10**8),
    expire=st.integers(min_value=-(10**8), max_value=10**8),
)
def test_new_subkey_is_chosen_and_old_expiry_is_as_bound(
    version: int, after: int, expire: int
) -> None:
    old = _original(version)
    created = T_KEY + after
    new = add_encryption_subkey(old, created=created, expire_others_at=created + expire)
    first, added = new.public.subkeys
    assert first.expires == T_KEY + max(after + expire, 1)
    assert new.public.encryption_keys(now=created)[0] == added
    assert [k.fingerprint for k in new.public.encryption_keys(now=first.expires)] == [
        added.fingerprint
    ]
    to_old = bytes(e2ee_mail.encrypt(b"old", [old.public]))
    assert e2ee_mail.decrypt(to_old, new) == b"old"


@settings(max_examples=150, deadline=None)
@given(
    version=st.sampled_from([4, 6]),
    where=st.integers(min_value=0),
    value=st.integers(min_value=0, max_value=255),
)
def test_mutated_rotated_certificate_loads_or_fails_with_error(
    version: int, where: int, value: int
) -> None:
    data = bytearray(_rotated_cert(version))
    data[where % len(data)] = value
    try:
        cert = e2ee_mail.load_certificate(bytes(data))
    except e2ee_mail.Error:
        return
    assert cert.format == "openpgp"
