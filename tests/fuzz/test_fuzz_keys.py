"""Fuzzing certificate and secret-key loading (X.509 / PKCS#8, OpenPGP v4 and v6).

Exports of every key kind (armored and binary, passphrase-protected or not) are mutated
as packets / DER trees / text; load_certificate and load_key may only raise
e2ee_mail.Error subclasses. A mutated key that still loads must not decrypt to anything
but the original plaintext.
"""

from __future__ import annotations

import pytest
import strategies as s
from hypothesis import given, settings
from hypothesis import strategies as st

import e2ee_mail

NAMES = sorted(s.key_exports())


@pytest.mark.parametrize("name", NAMES)
def test_valid_export_loads(name: str) -> None:
    kind, binary, pw, _ = s.key_exports()[name]
    assert s.load_key_or_cert(kind, binary, pw) is not None


def _mutate_and_load(name: str, data: st.DataObject) -> None:
    kind, binary, pw, family = s.key_exports()[name]
    strategy = s.der_mutation(binary) if family == "der" else s.pgp_mutation(binary)
    _, mutated = data.draw(strategy, label="mutation")
    s.try_key(kind, mutated, pw)


@pytest.mark.parametrize("name", [n for n in NAMES if "protected" not in n])
@settings(max_examples=s.examples(25))
@given(data=st.data())
def test_mutated_key_material_raises_library_errors_only(
    name: str, data: st.DataObject
) -> None:
    _mutate_and_load(name, data)


# Fewer examples: every protected key that still parses runs its S2K (Argon2 / the
# iterated-salted KDF), the slowest step of the suite.
@pytest.mark.parametrize("name", [n for n in NAMES if "protected" in n])
@settings(max_examples=s.examples(12))
@given(data=st.data())
def test_mutated_protected_key_raises_library_errors_only(
    name: str, data: st.DataObject
) -> None:
    _mutate_and_load(name, data)


@pytest.mark.parametrize("name", [n for n in NAMES if "protected" not in n])
@settings(max_examples=s.examples(15))
@given(data=st.data())
def test_mutated_armored_key_text_raises_library_errors_only(
    name: str, data: st.DataObject
) -> None:
    kind, _, pw, _ = s.key_exports()[name]
    attr = name.rsplit("-", 1)[0]
    key: e2ee_mail.SecretKey = getattr(s.keys(), attr)
    text = bytes(
        key.public.export(armor=True) if kind == "cert" else key.export(armor=True)
    )
    _, mutated = data.draw(s.text_mutation(text), label="mutation")
    s.try_key(kind, mutated, pw)


def test_every_truncation_and_huge_length_of_key_material_stays_bounded() -> None:
    """Every length field huge and every boundary truncation of every export, in a
    child process whose address space is capped (setup + 768 MiB)."""
    result = s.run_bounded("keys", "sweep_keys")
    assert sum(result.values()) > 500


@settings(max_examples=s.examples(40))
@given(blob=st.binary(max_size=300), pw=st.none() | st.just(s.PASSPHRASE))
def test_random_bytes_as_key_or_certificate_raise_library_errors_only(
    blob: bytes, pw: bytes | None
) -> None:
    s.try_key("cert", blob, None)
    s.try_key("key", blob, pw)
