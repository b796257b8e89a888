"""Structure-aware fuzzing of CMS (RFC 5652 / 5083 / 5084 / 8418) envelopes.

Valid AuthEnvelopedData with RSA-OAEP, RSA PKCS#1 v1.5 and X25519 recipients, DER and
PEM, mutated at the DER-tree level. Each mutation either raises an e2ee_mail.Error or
opens to exactly the original plaintext.
"""

from __future__ import annotations

import io

import pytest
import strategies as s
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import e2ee_mail

CMS = [e.name for e in s.envelopes() if e.family == "cms"]


@pytest.mark.parametrize("name", CMS)
def test_valid_cms_envelope_opens(name: str) -> None:
    env = s.envelope(name)
    assert (
        s.check_outcome("cms", lambda: env.open(env.data), env.plaintext) == "original"
    )


@pytest.mark.parametrize("name", CMS)
@settings(
    max_examples=s.examples(60),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_structural_mutation_raises_library_error_or_opens_to_original(
    name: str, data: st.DataObject
) -> None:
    env = s.envelope(name)
    _, mutated = data.draw(s.der_mutation(env.binary), label="mutation")
    s.check_outcome("cms", lambda: env.open(env.encode(mutated)), env.plaintext)


@pytest.mark.parametrize("name", ["cms-x25519-der", "cms-rsa-oaep-der"])
@settings(max_examples=s.examples(30))
@given(data=st.data())
def test_mutated_stream_releases_nothing_but_the_original(
    name: str, data: st.DataObject
) -> None:
    env = s.envelope(name)
    _, mutated = data.draw(s.der_mutation(env.binary), label="mutation")
    out = io.BytesIO()

    def call() -> bytes:
        try:
            e2ee_mail.decrypt_stream(io.BytesIO(mutated), out, env.key)
        except e2ee_mail.Error:
            # CMS spools until the tag verifies: nothing at all reaches dst.
            assert out.getvalue() == b""
            raise
        return out.getvalue()

    s.check_outcome("cms", call, env.plaintext)


@pytest.mark.parametrize("name", ["cms-rsa-oaep-pem", "cms-x25519-pem"])
@settings(max_examples=s.examples(40))
@given(data=st.data())
def test_mutated_pem_text_fails_closed(name: str, data: st.DataObject) -> None:
    env = s.envelope(name)
    _, mutated = data.draw(s.text_mutation(env.data), label="mutation")
    s.check_outcome("cms", lambda: env.open(mutated), env.plaintext)


@settings(max_examples=s.examples(40))
@given(data=st.data())
def test_inspect_of_mutated_cms_raises_only_library_errors(data: st.DataObject) -> None:
    env = s.envelope(data.draw(st.sampled_from(CMS)))
    _, mutated = data.draw(s.der_mutation(env.binary), label="mutation")
    s.COUNTS["cms"] += 1
    try:
        e2ee_mail.inspect(env.encode(mutated))
    except e2ee_mail.Error as exc:
        s.OUTCOMES["cms"][type(exc).__name__] += 1
    else:
        s.OUTCOMES["cms"]["inspected"] += 1


def test_huge_lengths_and_every_truncation_stay_bounded() -> None:
    """Every length field huge and every TLV-boundary truncation, bytes and stream
    API, in a child process whose address space is capped (setup + 768 MiB)."""
    result = s.run_bounded("cms", "sweep_cms")
    assert sum(result.values()) > 100
    assert "original" not in result
