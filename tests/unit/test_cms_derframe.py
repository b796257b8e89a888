"""cms/derframe.py: the in-memory framing reads what framing.EnvelopeReader reads,
or declines (None) and leaves the decision to it."""

from __future__ import annotations

import dataclasses
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

import e2ee_mail
from e2ee_mail.cms import common, derframe, envelope, reference
from e2ee_mail.errors import Error
from e2ee_mail.policy import DEFAULT, LEGACY_DECRYPT, Policy
from e2ee_mail.x509 import keygen as x509_keygen

BODY = b"framing under test\r\n" * 30


@pytest.fixture(scope="module")
def messages() -> list[bytes]:
    x = x509_keygen.generate("Xavier <x@example.org>", kind="x25519")
    r = x509_keygen.generate("Rita <r@example.org>", kind="rsa3072")
    out = [
        bytes(e2ee_mail.encrypt(BODY, [x.public], format="cms")),
        bytes(e2ee_mail.encrypt(b"", [x.public, r.public], format="cms")),
        bytes(e2ee_mail.encrypt(BODY, [r.public], format="cms", cipher="aes-256-cbc")),
    ]
    # The stream writer's BER form (indefinite lengths) is declined.
    ber = io.BytesIO()
    e2ee_mail.encrypt_stream(io.BytesIO(BODY), ber, [x.public], format="cms")
    out.append(ber.getvalue())
    return out


def _reference(data: bytes, policy: Policy) -> object:
    """What the stream reader makes of ``data``: the triple, or the exception."""
    try:
        reader = common.reader(io.BytesIO(data), policy)
        header = reader.read_header()
        segments = []
        for length in reader.segments():
            segments.append((reader.pos, length))
            reader.skip(length)
        authenticated = header.content_type.endswith(".23")  # id-ct-authEnvelopedData
        trailer = reader.read_trailer(authenticated=authenticated)
    except Error as exc:
        return exc
    if len(segments) != 1:
        return segments
    return header, segments[0], trailer


def _agrees(data: bytes, policy: Policy = DEFAULT) -> bool:
    """Whether derframe accepted ``data``; if it did, the reader read the same."""
    try:
        fast = derframe.parse(data, policy)
    except Error as exc:
        reference = _reference(data, policy)
        assert type(reference) is type(exc)
        return True
    if fast is None:
        return False
    assert _reference(data, policy) == fast
    return True


def test_our_der_messages_are_read_on_the_fast_path(messages: list[bytes]) -> None:
    for data in messages[:3]:
        assert derframe.parse(data, LEGACY_DECRYPT) is not None
        assert _agrees(data, LEGACY_DECRYPT)


def test_ber_messages_are_declined(messages: list[bytes]) -> None:
    assert derframe.parse(messages[3], DEFAULT) is None


def test_header_budget_is_left_to_the_reader(messages: list[bytes]) -> None:
    small = dataclasses.replace(DEFAULT, max_header_bytes=64)
    assert derframe.parse(messages[0], small) is None
    with pytest.raises(e2ee_mail.ASN1Error, match="max_header_bytes"):
        envelope.decrypt(messages[0], [], policy=small)


def test_every_single_byte_mutation_agrees_or_is_declined(
    messages: list[bytes],
) -> None:
    data = messages[1]
    body_start = len(data) - 18  # no body: everything is framing
    accepted = declined = 0
    for i in range(body_start + 18):
        for value in {0x00, 0xFF, data[i] ^ 0x01, data[i] ^ 0x80}:
            mutated = data[:i] + bytes((value,)) + data[i + 1 :]
            if _agrees(mutated):
                accepted += 1
            else:
                declined += 1
    assert accepted and declined


def test_truncations_and_trailing_bytes_are_declined(messages: list[bytes]) -> None:
    data = messages[0]
    for cut in range(0, len(data), 7):
        assert derframe.parse(data[:cut], DEFAULT) is None
    assert derframe.parse(data + b"\x00", DEFAULT) is None


@given(st.data())
def test_random_mutations_agree_or_are_declined(data: st.DataObject) -> None:
    blob = bytearray(_sample())
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(blob) - 1))
        blob[i] = data.draw(st.integers(0, 255))
    _agrees(bytes(blob))


_SAMPLE: list[bytes] = []


def _sample() -> bytes:
    if not _SAMPLE:
        x = x509_keygen.generate("Hyp <h@example.org>", kind="x25519")
        _SAMPLE.append(bytes(e2ee_mail.encrypt(b"hi", [x.public], format="cms")))
    return _SAMPLE[0]


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_every_buffer_kind_opens_on_both_paths(kind: type) -> None:
    # Plain DER takes the fast path; BER the stream reader over the caller's buffer
    # (without a copy for bytearray / memoryview).
    x = x509_keygen.generate("Buffer <b@example.org>", kind="x25519")
    der = bytes(e2ee_mail.encrypt(BODY, [x.public], format="cms"))
    ber = io.BytesIO()
    e2ee_mail.encrypt_stream(io.BytesIO(BODY), ber, [x.public], format="cms")
    for blob in (der, ber.getvalue()):
        assert envelope.decrypt(kind(blob), [x], policy=DEFAULT) == BODY


def test_gcm_algorithm_shortcut_gives_the_reference_value(
    messages: list[bytes],
) -> None:
    from e2ee_mail.cms import asn1

    framed = derframe.parse(messages[0], DEFAULT)
    assert framed is not None
    alg = framed[0].content_encryption_algorithm
    der = asn1.serialize_algorithm_identifier(alg)
    assert der.startswith(derframe._GCM_ALG_HEAD)
    assert alg == reference.algorithm_identifier(der)


def test_memoryview_of_other_shapes_opens() -> None:
    x = x509_keygen.generate("Shape <s@example.org>", kind="x25519")
    der = bytes(e2ee_mail.encrypt(BODY, [x.public], format="cms"))
    chars = memoryview(der).cast("c")  # items are 1-byte bytes, not ints
    assert envelope.decrypt(chars, [x], policy=DEFAULT) == BODY
    doubled = bytearray(2 * len(der))
    doubled[::2] = der
    strided = memoryview(doubled)[::2]  # not contiguous
    assert envelope.decrypt(strided, [x], policy=DEFAULT) == BODY
