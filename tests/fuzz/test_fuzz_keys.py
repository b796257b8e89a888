"""Fuzzing certificate and secret-key loading (X.509 / PKCS#8, OpenPGP v4 and v6).

Exports of every key kind (armored and binary, passphrase-protected or not) are mutated
as packets / DER trees / text; load_certificate and load_key may only raise
e2ee_mail.Error subclasses. A mutated key that still loads must not decrypt to anything
but the original plaintext.
"""

from __future__ import annotations

import functools

import pytest
import strategies as s
from hypothesis import given, settings
from hypothesis import strategies as st

import e2ee_mail

PASSPHRASE = b"correct horse"


@functools.cache
def _exports() -> dict[str, tuple[str, bytes, bytes | None, str]]:
    """name -> (kind "cert"|"key", binary, passphrase, family "der"|"pgp")."""
    from e2ee_mail.cms import pem
    from e2ee_mail.openpgp import armor

    k = s.keys()
    out: dict[str, tuple[str, bytes, bytes | None, str]] = {}
    for name in (
        "x509_x25519",
        "x509_rsa",
        "pgp6_x25519",
        "pgp6_rsa",
        "pgp4_ecdh",
        "pgp4_rsa",
    ):
        key: e2ee_mail.SecretKey = getattr(k, name)
        family = "der" if name.startswith("x509") else "pgp"
        for kind, blob, pw in (
            ("cert", key.public.export(armor=False), None),
            ("key", key.export(armor=False), None),
            ("key", key.export(armor=False, passphrase=PASSPHRASE), PASSPHRASE),
        ):
            binary = bytes(blob)
            if binary.startswith(b"-----"):
                binary = (
                    pem.dearmor(binary) if family == "der" else armor.dearmor(binary)[1]
                )
            out[f"{name}-{kind}{'-protected' if pw else ''}"] = (
                kind,
                binary,
                pw,
                family,
            )
    return out


def _load(kind: str, data: bytes, pw: bytes | None) -> object:
    if kind == "cert":
        return e2ee_mail.load_certificate(data)
    return e2ee_mail.load_key(data, passphrase=pw)


def _try(kind: str, data: bytes, pw: bytes | None) -> None:
    s.COUNTS["keys"] += 1
    try:
        loaded = _load(kind, data, pw)
    except e2ee_mail.Error as exc:
        s.OUTCOMES["keys"][type(exc).__name__] += 1
        return
    s.OUTCOMES["keys"]["loaded"] += 1
    assert repr(loaded)  # a loaded object can be described
    if isinstance(loaded, e2ee_mail.SecretKey):
        # Whatever loaded, it must not open a message to other plaintext.
        _decrypts_only_original(loaded)


def _decrypts_only_original(key: e2ee_mail.SecretKey) -> None:
    for env in s.envelopes():
        if env.armored or env.key.format != key.format:
            continue
        s.check_outcome(
            "keys", lambda e=env: bytes(e2ee_mail.decrypt(e.binary, key)), env.plaintext
        )
        break


NAMES = sorted(_exports())


@pytest.mark.parametrize("name", NAMES)
def test_valid_export_loads(name: str) -> None:
    kind, binary, pw, _ = _exports()[name]
    assert _load(kind, binary, pw) is not None


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=25)
@given(data=st.data())
def test_mutated_key_material_raises_library_errors_only(
    name: str, data: st.DataObject
) -> None:
    kind, binary, pw, family = _exports()[name]
    strategy = s.der_mutation(binary) if family == "der" else s.pgp_mutation(binary)
    _, mutated = data.draw(strategy, label="mutation")
    _try(kind, mutated, pw)


@pytest.mark.parametrize("name", [n for n in NAMES if "protected" not in n])
@settings(max_examples=15)
@given(data=st.data())
def test_mutated_armored_key_text_raises_library_errors_only(
    name: str, data: st.DataObject
) -> None:
    kind, _, pw, _ = _exports()[name]
    attr = name.rsplit("-", 1)[0]
    key: e2ee_mail.SecretKey = getattr(s.keys(), attr)
    text = bytes(
        key.public.export(armor=True) if kind == "cert" else key.export(armor=True)
    )
    _, mutated = data.draw(s.text_mutation(text), label="mutation")
    _try(kind, mutated, pw)


@pytest.mark.parametrize("name", NAMES)
def test_every_truncation_and_huge_length_of_key_material_fails_closed(
    name: str,
) -> None:
    kind, binary, pw, family = _exports()[name]
    if family == "der":
        variants = list(s.huge_der_lengths(binary)) + list(
            s.truncations(s.der_boundaries(binary), binary)
        )
    else:
        variants = list(s.huge_pgp_lengths(binary)) + list(
            s.truncations(s.pgp_boundaries(binary), binary)
        )
    for _, mutated in variants:
        _try(kind, mutated, pw)


@settings(max_examples=40)
@given(blob=st.binary(max_size=300), pw=st.none() | st.just(PASSPHRASE))
def test_random_bytes_as_key_or_certificate_raise_library_errors_only(
    blob: bytes, pw: bytes | None
) -> None:
    _try("cert", blob, None)
    _try("key", blob, pw)
