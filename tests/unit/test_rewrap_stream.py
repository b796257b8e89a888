"""rewrap_stream re-keys as rewrap does, in bounded memory, and rewrap_message
re-keys mail: the output equals rewrap's octet for octet (with the same randomness),
the sealed body octets are untouched, and it fails closed as rewrap does."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

import e2ee_mail
from e2ee_mail import errors
from e2ee_mail.cms import oids, pem
from e2ee_mail.cms.framing import EnvelopeReader
from e2ee_mail.core import x25519
from e2ee_mail.mime import scan
from e2ee_mail.model import Certificate, SecretKey
from e2ee_mail.openpgp import armor, certs, keygen, message
from e2ee_mail.policy import DEFAULT, LEGACY_DECRYPT
from e2ee_mail.x509 import certs as kx

SMALL_CHUNKS = dataclasses.replace(DEFAULT, chunk_size_octet=0)  # 64-octet chunks
BODY = bytes(i % 251 for i in range(200_000))


@pytest.fixture(scope="module")
def v4() -> tuple[certs.OpenPGPSecretKey, certs.OpenPGPSecretKey]:
    """Two v4 keys: messages to them are SEIPDv1 (RFC 4880)."""
    return (
        keygen.generate("Vera <v@example.org>", kind="x25519", profile="rfc4880"),
        keygen.generate("Walt <w@example.org>", kind="x25519", profile="rfc4880"),
    )


@pytest.fixture
def pinned_ephemeral(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every X25519 ephemeral key is the same: two wraps of one key are equal."""
    monkeypatch.setattr(x25519, "random_bytes", lambda n: bytes(range(1, n + 1)))
    yield


def stream(
    data: bytes | bytearray,
    key: SecretKey,
    to: Certificate,
    policy: e2ee_mail.Policy = DEFAULT,
) -> bytes:
    out = io.BytesIO()
    e2ee_mail.rewrap_stream(io.BytesIO(bytes(data)), out, key, [to], policy=policy)
    return out.getvalue()


def encrypted_stream(data: bytes, to: Certificate, **options: object) -> bytes:
    """``data`` encrypted by encrypt_stream: BER with indefinite lengths (CMS),
    partial body lengths (OpenPGP)."""
    out = io.BytesIO()
    e2ee_mail.encrypt_stream(io.BytesIO(data), out, to, **options)  # type: ignore[arg-type]
    return out.getvalue()


def sealed_body(data: bytes) -> bytes:
    """The octets rewrap copies: CMS EncryptedContentInfo to the end of the
    enveloped-data content (mac included); the OpenPGP SEIPD packet."""
    if pem.is_pem(data[:64]):
        data = pem.dearmor(data)
    if data[:1] == b"\x30":
        reader = EnvelopeReader(
            io.BytesIO(data), max_header_bytes=1 << 20, max_recipients=100
        )
        header = reader.read_header()
        for length in reader.segments():
            reader.skip(length)
        trailer = reader.read_trailer(
            authenticated=header.content_type == oids.AUTH_ENVELOPED_DATA
        )
        return data[header.eci_offset : trailer.content_end]
    if armor.is_armored(data):
        data = armor.dearmor(data)[1]
    start, end = message.ParsedMessage(data, DEFAULT).seipd_span
    return data[start:end]


def _cases(
    alice: certs.OpenPGPSecretKey,
    bob: certs.OpenPGPSecretKey,
    xkey: kx.X509SecretKey,
    other: kx.X509SecretKey,
    v4: tuple[certs.OpenPGPSecretKey, certs.OpenPGPSecretKey],
    name: str,
) -> tuple[bytes, SecretKey, Certificate, SecretKey]:
    """(message, its key, the new recipient, the new recipient's key)."""
    cms = {"format": "cms"}
    made = {
        "cms-der": (e2ee_mail.encrypt(BODY, xkey.public, **cms), xkey, other),
        "cms-pem": (
            e2ee_mail.encrypt(BODY, xkey.public, armor=True, **cms),
            xkey,
            other,
        ),
        "openpgp-v6": (
            message.encrypt(BODY, [alice.public], armor=False, policy=SMALL_CHUNKS),
            alice,
            bob,
        ),
        "openpgp-v6-armored": (
            e2ee_mail.encrypt(BODY, alice.public, armor=True),
            alice,
            bob,
        ),
        "openpgp-v4": (e2ee_mail.encrypt(BODY, v4[0].public), v4[0], v4[1]),
        "openpgp-v4-armored": (
            e2ee_mail.encrypt(BODY, v4[0].public, armor=True),
            v4[0],
            v4[1],
        ),
    }
    data, key, new = made[name]
    return bytes(data), key, new.public, new


NAMES = [
    "cms-der",
    "cms-pem",
    "openpgp-v6",
    "openpgp-v6-armored",
    "openpgp-v4",
    "openpgp-v4-armored",
]


@pytest.mark.parametrize("name", NAMES)
def test_stream_output_equals_rewrap_output(
    name: str,
    alice: certs.OpenPGPSecretKey,
    bob: certs.OpenPGPSecretKey,
    xkey: kx.X509SecretKey,
    other: kx.X509SecretKey,
    v4: tuple[certs.OpenPGPSecretKey, certs.OpenPGPSecretKey],
    pinned_ephemeral: None,
) -> None:
    data, key, to, new_key = _cases(alice, bob, xkey, other, v4, name)
    expected = bytes(e2ee_mail.rewrap(data, key, [to]))
    got = stream(data, key, to)
    assert got == expected
    assert sealed_body(got) == sealed_body(data)
    assert e2ee_mail.decrypt(got, new_key) == BODY
    with pytest.raises(errors.NoMatchingKeyError):
        e2ee_mail.decrypt(got, key)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("cms", {"format": "cms"}),
        ("cms-pem", {"format": "cms", "armor": True}),
        ("openpgp", {}),
        ("openpgp-armored", {"armor": True}),
    ],
)
def test_streamed_messages_keep_their_sealed_body(
    name: str,
    options: dict[str, object],
    alice: certs.OpenPGPSecretKey,
    bob: certs.OpenPGPSecretKey,
    xkey: kx.X509SecretKey,
    other: kx.X509SecretKey,
) -> None:
    # Indefinite lengths (CMS) and partial body lengths (OpenPGP) as encrypt_stream
    # writes them: the framing of the body is copied as it came.
    old, new = (xkey, other) if name.startswith("cms") else (alice, bob)
    data = encrypted_stream(BODY, old.public, **options)
    got = stream(data, old, new.public)
    assert sealed_body(got) == sealed_body(data)
    assert e2ee_mail.decrypt(got, new) == BODY
    assert got.startswith(b"-----BEGIN") == ("armor" in options)


def test_cms_after_an_rsa_pkcs1v15_unwrap_is_checked_on_the_body(
    xkey: kx.X509SecretKey, rkey: kx.X509SecretKey, pinned_ephemeral: None
) -> None:
    # PKCS#1 v1.5 never fails to unwrap (implicit rejection): the body decides,
    # after it went by, so the copy waits in a spool until the tag verified.
    writes_v15 = dataclasses.replace(DEFAULT, allow_rsa_pkcs1v15_encrypt=True)
    ct = bytes(e2ee_mail.encrypt(BODY, [rkey.public], format="cms", policy=writes_v15))
    got = stream(ct, rkey, xkey.public, LEGACY_DECRYPT)
    assert got == bytes(
        e2ee_mail.rewrap(ct, rkey, [xkey.public], policy=LEGACY_DECRYPT)
    )
    assert e2ee_mail.decrypt(got, xkey) == BODY
    damaged = bytearray(ct)
    damaged[-40] ^= 1  # in the body
    with pytest.raises(errors.DecryptionError):
        stream(damaged, rkey, xkey.public, LEGACY_DECRYPT)


def test_legacy_cbc_is_rewrapped_by_stream(
    xkey: kx.X509SecretKey, rkey: kx.X509SecretKey
) -> None:
    ct = bytes(
        e2ee_mail.encrypt(BODY, [rkey.public], format="cms", cipher="aes-256-cbc")
    )
    with pytest.raises(errors.PolicyError):
        stream(ct, rkey, xkey.public)
    got = stream(ct, rkey, xkey.public, LEGACY_DECRYPT)
    assert sealed_body(got) == sealed_body(ct)
    assert e2ee_mail.decrypt(got, xkey, allow_unauthenticated=True) == BODY


def test_openpgp_with_two_candidate_session_keys_picks_the_one_that_opens(
    alice: certs.OpenPGPSecretKey, bob: certs.OpenPGPSecretKey
) -> None:
    # Two PKESKs name Alice's key: the body goes to a spool until one passes.
    data = bytes(e2ee_mail.encrypt(BODY, [alice.public, alice.public]))
    got = stream(data, alice, bob.public)
    assert sealed_body(got) == sealed_body(data)
    assert e2ee_mail.decrypt(got, bob) == BODY


@pytest.mark.parametrize("version", ["v6", "v4"])
def test_openpgp_damage_fails_closed(
    version: str,
    alice: certs.OpenPGPSecretKey,
    bob: certs.OpenPGPSecretKey,
    v4: tuple[certs.OpenPGPSecretKey, certs.OpenPGPSecretKey],
) -> None:
    key, to = (alice, bob.public) if version == "v6" else (v4[0], v4[1].public)
    data = bytearray(e2ee_mail.encrypt(BODY, key.public))
    # SEIPDv2: the final tag, the only part checked; SEIPDv1: anywhere (the MDC).
    data[-5 if version == "v6" else -5000] ^= 1
    with pytest.raises(errors.DecryptionError):
        stream(data, key, to)
    with pytest.raises(errors.FormatError):
        stream(data[: len(data) // 2], key, to)


def test_openpgp_spliced_body_fails_closed(
    alice: certs.OpenPGPSecretKey, bob: certs.OpenPGPSecretKey
) -> None:
    # Alice's PKESK from one message in front of another message's body.
    first = bytes(e2ee_mail.encrypt(BODY, alice.public))
    second = bytes(e2ee_mail.encrypt(BODY, alice.public))
    start, _ = message.ParsedMessage(first, DEFAULT).seipd_span
    other_start, _ = message.ParsedMessage(second, DEFAULT).seipd_span
    with pytest.raises(errors.DecryptionError):
        stream(first[:start] + second[other_start:], alice, bob.public)


@pytest.mark.parametrize("fmt", ["cms", "openpgp"])
def test_wrong_keys_and_certificates_are_refused(
    fmt: str,
    alice: certs.OpenPGPSecretKey,
    bob: certs.OpenPGPSecretKey,
    xkey: kx.X509SecretKey,
    other: kx.X509SecretKey,
) -> None:
    key, stranger, foreign = (
        (xkey, other, alice) if fmt == "cms" else (alice, bob, xkey)
    )
    data = bytes(e2ee_mail.encrypt(BODY, key.public, format=fmt))  # type: ignore[arg-type]
    with pytest.raises(errors.NoMatchingKeyError):
        stream(data, stranger, stranger.public)
    with pytest.raises(errors.UsageError):
        stream(data, key, foreign.public)


# --- mail ---------------------------------------------------------------------------


def _mail() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Alice <alice@example.org>"
    msg["To"] = "Bob <bob@example.org>"
    msg["Subject"] = "quarterly figures"
    msg.set_content("Dear Bob,\nthe figures are attached.\n")
    msg.add_attachment(
        BODY[:5000],
        maintype="application",
        subtype="octet-stream",
        filename="figures.bin",
    )
    return msg


def _opened(msg: EmailMessage | bytes, key: SecretKey) -> tuple[str, bytes]:
    inner = e2ee_mail.decrypt_message(msg, key)
    attachment = next(iter(inner.iter_attachments()))
    return str(inner["Subject"]), attachment.get_content()


@pytest.mark.parametrize("fmt", ["smime", "pgpmime"])
def test_mail_rewrap_stream_rewrites_only_the_encrypted_part(
    fmt: str,
    alice: certs.OpenPGPSecretKey,
    bob: certs.OpenPGPSecretKey,
    xkey: kx.X509SecretKey,
    other: kx.X509SecretKey,
) -> None:
    old, new = (xkey, other) if fmt == "smime" else (alice, bob)
    sealed = e2ee_mail.encrypt_message(_mail(), old.public, format=fmt)  # type: ignore[arg-type]
    data = sealed.as_bytes()
    got = stream(data, old, new.public)
    assert _opened(got, new) == ("quarterly figures", BODY[:5000])
    with pytest.raises(errors.NoMatchingKeyError):
        e2ee_mail.decrypt_message(got, old)
    (before,) = scan.find_encrypted(data)
    (after,) = scan.find_encrypted(got)
    # Every octet outside the encrypted blob is kept; the blob's body is the same.
    assert data[: before.start] == got[: after.start]
    assert data[before.end :].strip() == got[after.end :].strip()
    assert sealed_body(scan.extract(got, after)) == sealed_body(
        scan.extract(data, before)
    )


@pytest.mark.parametrize("fmt", ["smime", "pgpmime"])
def test_streamed_mail_rewrap_stream(
    fmt: str,
    alice: certs.OpenPGPSecretKey,
    bob: certs.OpenPGPSecretKey,
    xkey: kx.X509SecretKey,
    other: kx.X509SecretKey,
) -> None:
    old, new = (xkey, other) if fmt == "smime" else (alice, bob)
    data = encrypted_stream(_mail().as_bytes(), old.public, format=fmt)
    got = stream(data, old, new.public)
    assert _opened(got, new) == ("quarterly figures", BODY[:5000])


@pytest.mark.parametrize("fmt", ["smime", "pgpmime"])
@pytest.mark.parametrize("as_bytes", [False, True])
def test_rewrap_message(
    fmt: str,
    as_bytes: bool,
    alice: certs.OpenPGPSecretKey,
    bob: certs.OpenPGPSecretKey,
    xkey: kx.X509SecretKey,
    other: kx.X509SecretKey,
) -> None:
    old, new = (xkey, other) if fmt == "smime" else (alice, bob)
    sealed = e2ee_mail.encrypt_message(_mail(), old.public, format=fmt)  # type: ignore[arg-type]
    given: EmailMessage | bytes = sealed.as_bytes() if as_bytes else sealed
    # Certificates of both formats: each part takes those of its own.
    rekeyed = e2ee_mail.rewrap_message(
        given, old, [new.public, bob.public, other.public]
    )
    assert isinstance(rekeyed, EmailMessage)
    assert rekeyed["From"] == sealed["From"] and rekeyed["To"] == sealed["To"]
    assert _opened(rekeyed, new) == ("quarterly figures", BODY[:5000])
    with pytest.raises(errors.NoMatchingKeyError):
        e2ee_mail.decrypt_message(rekeyed, old)
    (before,) = scan.find_encrypted(sealed.as_bytes())
    (after,) = scan.find_encrypted(rekeyed.as_bytes())
    assert sealed_body(scan.extract(rekeyed.as_bytes(), after)) == sealed_body(
        scan.extract(sealed.as_bytes(), before)
    )


def test_rewrap_message_refuses_what_it_cannot_do(
    alice: certs.OpenPGPSecretKey, xkey: kx.X509SecretKey, other: kx.X509SecretKey
) -> None:
    with pytest.raises(errors.MIMEError):
        e2ee_mail.rewrap_message(_mail(), xkey, [other.public])
    sealed = e2ee_mail.encrypt_message(_mail(), xkey.public, format="smime")
    with pytest.raises(errors.UsageError, match=r"X\.509"):
        e2ee_mail.rewrap_message(sealed, xkey, [alice.public])
    with pytest.raises(errors.NoMatchingKeyError):
        e2ee_mail.rewrap_message(sealed, other, [other.public])


def test_rewrap_stream_and_rewrap_message_are_public() -> None:
    assert {"rewrap_stream", "rewrap_message"} <= set(e2ee_mail.__all__)
    from e2ee_mail import _api, _mail_api

    assert e2ee_mail.rewrap_stream is _api.rewrap_stream
    assert e2ee_mail.rewrap_message is _mail_api.rewrap_message
