"""Argument checking of the public API: bad arguments are UsageError, never crashes."""

from __future__ import annotations

import io

import pytest

import e2ee_mail


def test_every_public_exception_derives_from_error() -> None:
    for name in e2ee_mail.__all__:
        obj = getattr(e2ee_mail, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, e2ee_mail.Error)


def test_usage_error_is_also_value_error() -> None:
    assert issubclass(e2ee_mail.UsageError, ValueError)


def test_decryption_error_text_is_fixed() -> None:
    assert str(e2ee_mail.DecryptionError()) == str(e2ee_mail.DecryptionError())


@pytest.mark.parametrize("recipients", [[], "alice.pub", [b"cert"], [object()]])
def test_encrypt_rejects_non_certificates(recipients: object) -> None:
    with pytest.raises(e2ee_mail.UsageError):
        e2ee_mail.encrypt(b"body", recipients)  # type: ignore[arg-type]


def test_encrypt_rejects_non_bytes_body() -> None:
    with pytest.raises(e2ee_mail.UsageError):
        e2ee_mail.encrypt("text", [])  # type: ignore[arg-type]


@pytest.mark.parametrize("keys", [[], [object()]])
def test_decrypt_rejects_non_keys(keys: object) -> None:
    with pytest.raises(e2ee_mail.UsageError):
        e2ee_mail.decrypt(b"\xc1\x00", keys)  # type: ignore[arg-type]


def test_generate_key_rejects_unknown_kind_and_format() -> None:
    with pytest.raises(e2ee_mail.UsageError):
        e2ee_mail.generate_key("A <a@example.org>", kind="dsa")  # type: ignore[arg-type]
    with pytest.raises(e2ee_mail.UsageError):
        e2ee_mail.generate_key("A <a@example.org>", format="ssh")  # type: ignore[arg-type]


def test_decrypt_of_garbage_is_format_error() -> None:
    key = _FakeKey()
    with pytest.raises(e2ee_mail.FormatError):
        e2ee_mail.decrypt(b"hello there", [key])
    with pytest.raises(e2ee_mail.FormatError):
        e2ee_mail.decrypt_stream(io.BytesIO(b""), io.BytesIO(), [key])


def test_policy_presets_are_frozen_and_distinct() -> None:
    assert e2ee_mail.RFC9580.profile == "rfc9580"
    assert e2ee_mail.RFC4880.profile == "rfc4880"
    assert e2ee_mail.LEGACY_DECRYPT.allow_unauthenticated
    assert not e2ee_mail.DEFAULT.allow_unauthenticated
    with pytest.raises(AttributeError):
        e2ee_mail.DEFAULT.profile = "rfc4880"  # type: ignore[misc]


class _FakeCert(e2ee_mail.Certificate):
    format = "x509"  # type: ignore[assignment]
    fingerprint = "00"  # type: ignore[assignment]
    user_ids = ("fake",)  # type: ignore[assignment]
    algorithm = "x25519"  # type: ignore[assignment]

    def export(self, *, armor: bool = True) -> bytes:
        return b""


class _FakeKey(e2ee_mail.SecretKey):
    public = _FakeCert()  # type: ignore[assignment]

    def _export(self, passphrase: bytes | None, *, armor: bool) -> bytes:
        return b""


def test_key_repr_names_the_certificate_only() -> None:
    assert "fake" in repr(_FakeKey())


@pytest.mark.parametrize("fmt", ["openpgp", "cms"])
@pytest.mark.parametrize("armor", [False, True])
def test_decrypt_accepts_every_buffer_type(fmt: str, armor: bool) -> None:
    key = e2ee_mail.generate_key(
        "A <a@example.org>", format="openpgp" if fmt == "openpgp" else "x509"
    )
    body = b"x" * 70_000
    sealed = e2ee_mail.encrypt(body, [key.public], format=fmt, armor=armor)  # type: ignore[arg-type]
    for given in (sealed, bytes(sealed), memoryview(sealed)):
        assert e2ee_mail.decrypt(given, [key]) == body


_PROFILES = [("x509", "rfc9580"), ("openpgp", "rfc9580"), ("openpgp", "rfc4880")]


@pytest.mark.parametrize(("fmt", "profile"), _PROFILES)
def test_a_bare_address_is_a_user_id_in_every_format(fmt: str, profile: str) -> None:
    key = e2ee_mail.generate_key(
        "alice@example.org",
        format=fmt,  # type: ignore[arg-type]
        profile=profile,  # type: ignore[arg-type]
    )
    assert "alice@example.org" in " ".join(key.public.user_ids)
    sealed = e2ee_mail.encrypt(
        b"body", key.public, format="cms" if fmt == "x509" else "openpgp"
    )
    assert e2ee_mail.decrypt(sealed, key) == b"body"


def test_an_x509_key_for_a_bare_address_names_it_in_subject_and_san() -> None:
    key = e2ee_mail.generate_key("alice@example.org", format="x509")
    subject, *addresses = key.public.user_ids
    assert "CN=alice@example.org" in subject
    assert addresses == ["alice@example.org"]


@pytest.mark.parametrize(("fmt", "profile"), _PROFILES)
@pytest.mark.parametrize("uid", ["", "   ", "\t\n"])
def test_an_empty_user_id_is_refused_in_every_format(
    fmt: str, profile: str, uid: str
) -> None:
    with pytest.raises(e2ee_mail.UsageError, match="user ID is empty"):
        e2ee_mail.generate_key(uid, format=fmt, profile=profile)  # type: ignore[arg-type]


@pytest.mark.parametrize("uid", ["Alice", "Alice <alice>", "<>", "a@b@c"])
def test_an_x509_user_id_without_an_address_says_what_to_pass(uid: str) -> None:
    with pytest.raises(e2ee_mail.UsageError, match=r"alice@example\.org"):
        e2ee_mail.generate_key(uid, format="x509")


def test_the_format_follows_the_certificates(
    alice: e2ee_mail.SecretKey, bob: e2ee_mail.SecretKey, xkey: e2ee_mail.SecretKey
) -> None:
    x509_sealed = e2ee_mail.encrypt(b"body", [xkey.public])
    assert e2ee_mail.inspect(x509_sealed).format == "cms"
    pgp_sealed = e2ee_mail.encrypt(b"body", [alice.public, bob.public])
    assert e2ee_mail.inspect(pgp_sealed).format == "openpgp"
    for key, expected in ((xkey, "cms"), (alice, "openpgp")):
        dst = io.BytesIO()
        e2ee_mail.encrypt_stream(io.BytesIO(b"body"), dst, key.public)
        assert e2ee_mail.inspect(dst.getvalue()).format == expected
        assert e2ee_mail.decrypt(dst.getvalue(), key) == b"body"


def test_the_mail_format_follows_the_certificates(
    alice: e2ee_mail.SecretKey, xkey: e2ee_mail.SecretKey
) -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.org", "b@example.org", "S"
    msg.set_content("Hello.\n")
    for key, expected in ((xkey, "smime"), (alice, "pgpmime")):
        sealed = e2ee_mail.encrypt_message(msg, [key.public])
        assert e2ee_mail.inspect(sealed.as_bytes()).format == expected
        assert e2ee_mail.decrypt_message(sealed, key)["Subject"] == "S"


def test_mixed_certificates_need_one_message_per_format(
    alice: e2ee_mail.SecretKey, xkey: e2ee_mail.SecretKey
) -> None:
    from email.message import EmailMessage

    with pytest.raises(e2ee_mail.UsageError, match=r"mix X\.509 and OpenPGP"):
        e2ee_mail.encrypt(b"body", [alice.public, xkey.public])
    with pytest.raises(e2ee_mail.UsageError, match=r"mix X\.509 and OpenPGP"):
        e2ee_mail.encrypt_stream(
            io.BytesIO(b"body"), io.BytesIO(), [xkey.public, alice.public]
        )
    with pytest.raises(e2ee_mail.UsageError, match=r"mix X\.509 and OpenPGP"):
        e2ee_mail.encrypt_message(EmailMessage(), [xkey.public, alice.public])
