"""The post-quantum policy: by default a recipient with a post-quantum key gets a
post-quantum wrap and the others a classic one; ``Policy(require_post_quantum=True)``
(``POST_QUANTUM``) refuses a recipient set unless every recipient has one, naming
the others, before anything is written. Both formats; bytes, streams, mail and
re-wrap."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import io
from email.message import EmailMessage
from typing import Literal, NamedTuple

import pytest

import e2ee_mail
from e2ee_mail import POST_QUANTUM, PolicyError
from e2ee_mail.openpgp.certs import OpenPGPSecretKey
from e2ee_mail.openpgp.rotate import add_encryption_subkey
from e2ee_mail.policy import DEFAULT, Policy

BODY = b"quarterly figures\r\n" * 20
Fmt = Literal["openpgp", "x509"]


class People(NamedTuple):
    pq: e2ee_mail.SecretKey
    classic: e2ee_mail.SecretKey


def _people(fmt: Fmt) -> People:
    kind = "mlkem768" if fmt == "x509" else "mlkem768-x25519"
    return People(
        e2ee_mail.generate_key("Quinn <quinn@example.org>", format=fmt, kind=kind),
        e2ee_mail.generate_key("Carl <carl@example.org>", format=fmt, kind="x25519"),
    )


@pytest.fixture(scope="module", params=["openpgp", "x509"])
def people(request: pytest.FixtureRequest) -> People:
    fmt: Fmt = request.param
    return _people(fmt)


def _kinds(sealed: bytes | bytearray) -> list[str]:
    """ "pq" or "classic" for each recipient entry, sorted."""
    return sorted(
        "pq" if r.algorithm.startswith("mlkem") else "classic"
        for r in e2ee_mail.inspect(bytes(sealed)).recipients
    )


def _refused_naming_carl(excinfo: pytest.ExceptionInfo[PolicyError], carl: str) -> None:
    text = str(excinfo.value)
    assert "post-quantum" in text
    assert carl in text
    assert "quinn@example.org" not in text


def _mail() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "sender@example.org"
    msg["To"] = "quinn@example.org, carl@example.org"
    msg["Subject"] = "figures"
    msg.set_content("quarterly figures\n")
    return msg


def test_default_sends_to_a_mixed_set_pq_where_it_can(people: People) -> None:
    sealed = e2ee_mail.encrypt(BODY, [people.pq.public, people.classic.public])
    assert _kinds(sealed) == ["classic", "pq"]
    for key in people:
        assert e2ee_mail.decrypt(sealed, key) == BODY


def test_the_pq_profile_refuses_a_mixed_set_naming_the_classic_one(
    people: People,
) -> None:
    certs = [people.pq.public, people.classic.public]
    with pytest.raises(PolicyError) as excinfo:
        e2ee_mail.encrypt(BODY, certs, policy=POST_QUANTUM)
    _refused_naming_carl(excinfo, people.classic.public.fingerprint)


def test_the_pq_profile_names_every_classic_recipient(people: People) -> None:
    fmt: Fmt = people.pq.format
    other = e2ee_mail.generate_key("Dora <dora@example.org>", format=fmt, kind="x25519")
    certs = [people.classic.public, people.pq.public, other.public]
    with pytest.raises(PolicyError, match="these recipients") as excinfo:
        e2ee_mail.encrypt(BODY, certs, policy=POST_QUANTUM)
    assert people.classic.public.fingerprint in str(excinfo.value)
    assert other.public.fingerprint in str(excinfo.value)


def test_the_pq_profile_sends_to_pq_recipients(people: People) -> None:
    policy = Policy(require_post_quantum=True)
    sealed = e2ee_mail.encrypt(BODY, people.pq.public, policy=policy)
    assert _kinds(sealed) == ["pq"]
    assert e2ee_mail.decrypt(sealed, people.pq) == BODY


def test_stream_refusal_writes_nothing(people: People) -> None:
    certs = [people.pq.public, people.classic.public]
    dst = io.BytesIO()
    with pytest.raises(PolicyError) as excinfo:
        e2ee_mail.encrypt_stream(io.BytesIO(BODY), dst, certs, policy=POST_QUANTUM)
    _refused_naming_carl(excinfo, people.classic.public.fingerprint)
    assert dst.getvalue() == b""
    e2ee_mail.encrypt_stream(io.BytesIO(BODY), dst, certs)
    assert e2ee_mail.decrypt(dst.getvalue(), people.classic) == BODY


def test_mail_is_refused_whole_and_sent_by_default(people: People) -> None:
    certs = [people.pq.public, people.classic.public]
    with pytest.raises(PolicyError) as excinfo:
        e2ee_mail.encrypt_message(_mail(), certs, policy=POST_QUANTUM)
    _refused_naming_carl(excinfo, people.classic.public.fingerprint)
    sealed = e2ee_mail.encrypt_message(_mail(), certs)
    for key in people:
        opened = e2ee_mail.decrypt_message(sealed, key)
        assert "quarterly figures" in str(opened)


def test_mail_stream_refusal_writes_nothing(people: People) -> None:
    raw = _mail().as_bytes(policy=email.policy.SMTP)
    fmt = "smime" if people.pq.format == "x509" else "pgpmime"
    dst = io.BytesIO()
    with pytest.raises(PolicyError):
        e2ee_mail.encrypt_stream(
            io.BytesIO(raw),
            dst,
            [people.classic.public, people.pq.public],
            format=fmt,
            policy=POST_QUANTUM,
        )
    assert dst.getvalue() == b""


def test_rewrap_to_a_mixed_set_is_refused_by_the_pq_profile(people: People) -> None:
    sealed = e2ee_mail.encrypt(BODY, people.classic.public)
    certs = [people.pq.public, people.classic.public]
    with pytest.raises(PolicyError) as excinfo:
        e2ee_mail.rewrap(sealed, people.classic, certs, policy=POST_QUANTUM)
    _refused_naming_carl(excinfo, people.classic.public.fingerprint)
    dst = io.BytesIO()
    with pytest.raises(PolicyError):
        e2ee_mail.rewrap_stream(
            io.BytesIO(bytes(sealed)), dst, people.classic, certs, policy=POST_QUANTUM
        )
    assert dst.getvalue() == b""
    upgraded = e2ee_mail.rewrap(
        sealed, people.classic, people.pq.public, policy=POST_QUANTUM
    )
    assert _kinds(upgraded) == ["pq"]
    mixed = e2ee_mail.rewrap(sealed, people.classic, certs)
    for key in people:
        assert e2ee_mail.decrypt(mixed, key) == BODY


def test_mail_rewrap_is_refused_by_the_pq_profile(people: People) -> None:
    sealed = e2ee_mail.encrypt_message(_mail(), people.classic.public)
    with pytest.raises(PolicyError):
        e2ee_mail.rewrap_message(
            sealed, people.classic, people.classic.public, policy=POST_QUANTUM
        )
    upgraded = e2ee_mail.rewrap_message(
        sealed, people.classic, people.pq.public, policy=POST_QUANTUM
    )
    assert "quarterly figures" in str(e2ee_mail.decrypt_message(upgraded, people.pq))


def test_sign_then_encrypt_follows_the_pq_profile(people: People) -> None:
    signer = (
        people.classic
        if people.classic.format == "openpgp"
        else e2ee_mail.generate_key(
            "Sig <sig@example.org>", format="x509", kind="rsa3072"
        )
    )
    with pytest.raises(PolicyError):
        e2ee_mail.encrypt(
            BODY,
            [people.pq.public, people.classic.public],
            sign_with=signer,
            policy=POST_QUANTUM,
        )


def test_openpgp_certificate_with_both_subkeys_gets_only_the_pq_wrap() -> None:
    pq = _people("openpgp").pq
    assert isinstance(pq, OpenPGPSecretKey)
    created = pq.public.encryption_keys()[0].packet.created
    both = add_encryption_subkey(pq, kind="x25519", created=created + 10)
    for policy in (DEFAULT, POST_QUANTUM):
        sealed = e2ee_mail.encrypt(BODY, both.public, policy=policy)
        assert _kinds(sealed) == ["pq"]


def test_x509_pq_certificate_replaces_the_same_person_s_classic_one() -> None:
    quinn = e2ee_mail.generate_key(
        "Quinn <quinn@example.org>", format="x509", kind="mlkem768"
    )
    quinn_old = e2ee_mail.generate_key(
        "Quinn <QUINN@example.org>", format="x509", kind="x25519"
    )
    carl = e2ee_mail.generate_key(
        "Carl <carl@example.org>", format="x509", kind="x25519"
    )
    certs = [quinn_old.public, carl.public, quinn.public]
    sealed = e2ee_mail.encrypt(BODY, certs)
    assert _kinds(sealed) == ["classic", "pq"]
    assert e2ee_mail.decrypt(sealed, quinn) == BODY
    assert e2ee_mail.decrypt(sealed, carl) == BODY
    # Quinn's classic certificate was left out: a later break of it opens nothing.
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(sealed, quinn_old)
    # Under the profile only Carl is missing a post-quantum certificate.
    with pytest.raises(PolicyError) as excinfo:
        e2ee_mail.encrypt(BODY, certs, policy=POST_QUANTUM)
    assert str(excinfo.value).count("<") == 1
    _refused_naming_carl(excinfo, carl.public.fingerprint)
    sealed = e2ee_mail.encrypt(
        BODY, [quinn_old.public, quinn.public], policy=POST_QUANTUM
    )
    assert _kinds(sealed) == ["pq"]


def test_classic_x509_certificates_of_one_person_are_all_kept() -> None:
    first, second = (
        e2ee_mail.generate_key("Carl <carl@example.org>", format="x509", kind=kind)
        for kind in ("x25519", "rsa3072")
    )
    sealed = e2ee_mail.encrypt(BODY, [first.public, second.public])
    assert _kinds(sealed) == ["classic", "classic"]


def test_policy_preset_and_field() -> None:
    assert dataclasses.replace(DEFAULT, require_post_quantum=True) == POST_QUANTUM
    assert not DEFAULT.require_post_quantum


def test_mail_stream_rewrap_refusal_writes_nothing(people: People) -> None:
    sealed = e2ee_mail.encrypt_message(_mail(), people.classic.public)
    raw = sealed.as_bytes(policy=email.policy.SMTP)
    dst = io.BytesIO()
    with pytest.raises(PolicyError):
        e2ee_mail.rewrap_stream(
            io.BytesIO(raw),
            dst,
            people.classic,
            [people.pq.public, people.classic.public],
            policy=POST_QUANTUM,
        )
    assert dst.getvalue() == b""
