"""Properties of the CMS format: round trips over random bodies and recipient sets,
single-byte mutations never yield different plaintext, truncations fail closed, and a
key that is not a recipient gets NoMatchingKeyError."""

from __future__ import annotations

import io
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import e2ee_mail
from e2ee_mail.cms import framing
from e2ee_mail.x509 import certs as kx
from e2ee_mail.x509 import keygen as x509_keygen

MAX_BODY = 1 << 20


@pytest.fixture(scope="module")
def keys() -> list[kx.X509SecretKey]:
    return [
        x509_keygen.generate("One <one@example.org>", kind="x25519"),
        x509_keygen.generate("Two <two@example.org>", kind="x25519"),
        x509_keygen.generate("Three <three@example.org>", kind="rsa3072"),
    ]


def _body(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


@settings(max_examples=15)
@given(
    size=st.one_of(st.integers(0, 64), st.integers(0, MAX_BODY)),
    seed=st.integers(0, 2**32),
    chosen=st.lists(st.integers(0, 2), min_size=1, max_size=3, unique=True),
    armor=st.booleans(),
    cipher=st.sampled_from(["aes-256-gcm", "aes-256-cbc"]),
)
def test_round_trip_any_body_any_recipients(
    keys: list[kx.X509SecretKey],
    size: int,
    seed: int,
    chosen: list[int],
    armor: bool,
    cipher: str,
) -> None:
    body = _body(size, seed)
    certs = [keys[i].public for i in chosen]
    ct = e2ee_mail.encrypt(body, certs, format="cms", armor=armor, cipher=cipher)  # type: ignore[arg-type]
    for i in chosen:
        assert e2ee_mail.decrypt(ct, keys[i], allow_unauthenticated=True) == body
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(
        io.BytesIO(bytes(ct)), out, keys[chosen[0]], allow_unauthenticated=True
    )
    assert out.getvalue() == body


@settings(max_examples=15)
@given(
    seed=st.integers(0, 2**32),
    chosen=st.lists(st.integers(0, 2), min_size=1, max_size=2, unique=True),
)
def test_key_that_is_not_a_recipient_gets_no_matching_key(
    keys: list[kx.X509SecretKey], seed: int, chosen: list[int]
) -> None:
    outsider = next(i for i in range(3) if i not in chosen)
    ct = e2ee_mail.encrypt(
        _body(100, seed), [keys[i].public for i in chosen], format="cms"
    )
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(ct, keys[outsider])


@pytest.fixture(scope="module")
def small_envelope(keys: list[kx.X509SecretKey]) -> tuple[bytes, bytes]:
    body = b"attack at dawn, bring snacks"
    ct = bytes(e2ee_mail.encrypt(body, [keys[0].public, keys[2].public], format="cms"))
    return body, ct


def _opens_to_original_or_raises(ct: bytes, key: kx.X509SecretKey, body: bytes) -> bool:
    """True when it opened (to exactly ``body``), False when it raised an Error."""
    try:
        got = e2ee_mail.decrypt(ct, key)
    except e2ee_mail.Error:
        return False
    assert got == body, "a mutated envelope opened to different plaintext"
    return True


@pytest.mark.parametrize("xor", [0x01, 0x80, 0xFF])
def test_every_single_byte_flip_raises_or_yields_the_original(
    keys: list[kx.X509SecretKey], small_envelope: tuple[bytes, bytes], xor: int
) -> None:
    body, ct = small_envelope
    opened = []
    for i in range(len(ct)):
        mutated = bytearray(ct)
        mutated[i] ^= xor
        if _opens_to_original_or_raises(bytes(mutated), keys[0], body):
            opened.append(i)
    # Only bytes the opening never uses may be flipped harmlessly: those of the other
    # recipient's entry, and the top bit of the X25519 ephemeral key, which RFC 7748
    # §5 masks. Everything outside the RecipientInfos is used and checked.
    header = framing.EnvelopeReader(
        io.BytesIO(ct), max_header_bytes=1 << 20, max_recipients=10
    ).read_header()
    ris_start = ct.index(b"\x31\x82", 20)
    assert opened, "flips inside the RSA recipient's entry cannot affect key 0"
    assert all(ris_start < i < header.eci_offset for i in opened)


@settings(max_examples=40)
@given(data=st.data())
def test_random_single_byte_mutation_never_gives_other_plaintext(
    keys: list[kx.X509SecretKey],
    small_envelope: tuple[bytes, bytes],
    data: st.DataObject,
) -> None:
    body, ct = small_envelope
    pos = data.draw(st.integers(0, len(ct) - 1))
    value = data.draw(st.integers(0, 255))
    mutated = bytearray(ct)
    mutated[pos] = value
    _opens_to_original_or_raises(bytes(mutated), keys[2], body)


def test_truncation_at_every_length_fails_closed(
    keys: list[kx.X509SecretKey], small_envelope: tuple[bytes, bytes]
) -> None:
    _, ct = small_envelope
    for cut in range(len(ct)):
        with pytest.raises(e2ee_mail.FormatError):
            e2ee_mail.decrypt(ct[:cut], keys[0])


def test_truncated_stream_fails_closed_and_writes_nothing(
    keys: list[kx.X509SecretKey],
) -> None:
    body = _body(300_000, 7)
    dst = io.BytesIO()
    e2ee_mail.encrypt_stream(io.BytesIO(body), dst, keys[0].public, format="cms")
    ct = dst.getvalue()
    for cut in (10, len(ct) // 3, len(ct) - 20, len(ct) - 1):
        out = io.BytesIO()
        with pytest.raises(e2ee_mail.FormatError):
            e2ee_mail.decrypt_stream(io.BytesIO(ct[:cut]), out, keys[0])
        assert out.getvalue() == b""


@pytest.fixture(scope="module")
def smime_wire(keys: list[kx.X509SecretKey]) -> bytes:
    from email import policy
    from email.message import EmailMessage

    from e2ee_mail.mime import detect

    msg = EmailMessage(policy=policy.default)
    msg["From"] = "a@example.org"
    msg["Subject"] = "protected"
    msg.set_content("short body\n")
    return detect.serialize(e2ee_mail.encrypt_message(msg, [keys[0].public]))


@settings(max_examples=60)
@given(data=st.data())
def test_mutated_smime_mail_fails_with_library_errors_only(
    keys: list[kx.X509SecretKey], smime_wire: bytes, data: st.DataObject
) -> None:
    pos = data.draw(st.integers(0, len(smime_wire) - 1))
    value = data.draw(st.integers(0, 255))
    mutated = bytearray(smime_wire)
    mutated[pos] = value
    try:
        plain = e2ee_mail.decrypt_message(bytes(mutated), keys[0])
    except e2ee_mail.Error:
        return
    assert plain["Subject"] == "protected"
    assert plain.get_content().replace("\r\n", "\n") == "short body\n"
