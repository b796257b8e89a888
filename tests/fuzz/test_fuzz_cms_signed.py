"""Structure-aware fuzzing of CMS SignedData (RFC 5652 §5).

Valid SignedData of every signature algorithm, detached and encapsulated, mutated at
the DER-tree level (strategies.der_mutation). Each mutation either raises an
``e2ee_mail.Error`` or gives results none of which is "good" unless the content is
the original and the signer's signed attributes and signature are the original
octets; a mutated detached content never verifies as good.
"""

from __future__ import annotations

import functools

import pytest
import strategies as s
from hypothesis import given, settings
from hypothesis import strategies as st
from signing_keys import Kind, signer

import e2ee_mail
from e2ee_mail.cms import signed, signing, verification

BODY = b"Fuzzed signed body\r\n" * 20

CASES = {
    "rsa-opaque": ("rsa2048", False, False),
    "rsa-pss-detached": ("rsa2048", True, True),
    "p256-detached": ("p256", False, True),
    "ed25519-opaque": ("ed25519", False, False),
}


@functools.cache
def _signed(name: str) -> bytes:
    kind, pss, detached = CASES[name]
    return signing.sign(BODY, [signer(kind)], detached=detached, pss=pss)  # type: ignore[arg-type]


def _check(name: str, der: bytes, content: bytes | None) -> str:
    kind: Kind = CASES[name][0]  # type: ignore[assignment]
    cert = signer(kind).public
    try:
        body, results = verification.verify(der, [cert], content=content)
    except e2ee_mail.Error as exc:
        s.record("cms-signed", type(exc).__name__)
        return type(exc).__name__
    good = [r for r in results if r.good]
    if good:
        assert body == BODY, "a good signature over content that was not signed"
        original = signed.parse_signed_data(_signed(name), max_signers=8)
        mutated = signed.parse_signed_data(der, max_signers=8)
        pairs = {(i.signed_attrs, i.signature) for i in original.signer_infos}
        assert any((i.signed_attrs, i.signature) in pairs for i in mutated.signer_infos)
        assert all(r.certificate == cert for r in good)
    outcome = "good" if good else "not-good"
    s.record("cms-signed", outcome)
    return outcome


@pytest.mark.parametrize("name", sorted(CASES))
def test_valid_signed_data_verifies(name: str) -> None:
    content = BODY if CASES[name][2] else None
    assert _check(name, _signed(name), content) == "good"


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=s.examples(60))
@given(data=st.data())
def test_mutated_signed_data_is_never_good_for_other_content(
    name: str, data: st.DataObject
) -> None:
    _, mutated = data.draw(s.der_mutation(_signed(name)), label="mutation")
    content = BODY if CASES[name][2] else None
    _check(name, mutated, content)


@pytest.mark.parametrize("name", ["p256-detached", "rsa-pss-detached"])
@settings(max_examples=s.examples(30))
@given(data=st.data())
def test_mutated_detached_content_is_never_good(name: str, data: st.DataObject) -> None:
    content = bytearray(BODY)
    at = data.draw(st.integers(0, len(content) - 1))
    content[at] ^= data.draw(st.integers(1, 255))
    assert _check(name, _signed(name), bytes(content)) in (
        "not-good",
        "ASN1Error",
    )
