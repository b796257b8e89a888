"""cms/templates.py (with cms/recipients.py): wrap_der, the per-recipient hot path,
writes exactly the entry serialize_recipient_info writes for wrap()'s value, and it
opens with the key; decrypt unwraps lazily."""

from __future__ import annotations

import dataclasses

import pytest

from e2ee_mail.cms import asn1, build, recipients, templates
from e2ee_mail.errors import DecryptionError, PolicyError
from e2ee_mail.policy import DEFAULT, Policy
from e2ee_mail.x509 import certs as kx

CEK = bytes(range(32))
PKCS1 = Policy(allow_rsa_pkcs1v15_encrypt=True)


def _reparse(der: bytes) -> asn1.RecipientInfo:
    (info,) = asn1.parse_recipient_infos(asn1.set_of([der]), max_recipients=1)
    assert asn1.serialize_recipient_info(info) == der
    return info


def _without_randomness(info: asn1.RecipientInfo) -> asn1.RecipientInfo:
    if isinstance(info, asn1.KeyTransRecipientInfo):
        return dataclasses.replace(info, encrypted_key=b"")
    assert isinstance(info, asn1.KeyAgreeRecipientInfo)
    reks = tuple(
        dataclasses.replace(rek, encrypted_key=b"")
        for rek in info.recipient_encrypted_keys
    )
    return dataclasses.replace(
        info, originator_public_key=b"", recipient_encrypted_keys=reks
    )


@pytest.mark.parametrize(
    "rid_kind", ["issuer_and_serial_number", "subject_key_identifier"]
)
@pytest.mark.parametrize("policy", [DEFAULT, PKCS1], ids=["oaep", "pkcs1v15"])
@pytest.mark.parametrize("which", ["xkey", "rkey"])
def test_wrap_der_is_the_serialized_wrap_and_opens(
    request: pytest.FixtureRequest,
    which: str,
    policy: Policy,
    rid_kind: recipients.RidKind,
) -> None:
    key: kx.X509SecretKey = request.getfixturevalue(which)
    for _ in range(2):  # the second call comes from the per-certificate cache
        der = templates.wrap_der(key.public, CEK, policy=policy, rid_kind=rid_kind)
        info = _reparse(der)
        reference = recipients.wrap(key.public, CEK, policy=policy, rid_kind=rid_kind)
        assert _without_randomness(info) == _without_randomness(reference)
        recipients.check_supported(info, key, DEFAULT)
        assert recipients.unwrap(info, 0, key) == CEK


def test_wrap_der_refuses_small_rsa_keys(rkey: kx.X509SecretKey) -> None:
    strict = Policy(min_rsa_bits=4096)
    with pytest.raises(PolicyError, match="below the policy minimum"):
        templates.wrap_der(rkey.public, CEK, policy=strict)


def test_wrap_der_without_template_still_writes_the_entry(
    xkey: kx.X509SecretKey,
) -> None:
    # A content key other than 32 bytes wraps to another size: no template applies.
    cek = bytes(range(16))
    info = _reparse(templates.wrap_der(xkey.public, cek, policy=DEFAULT))
    assert recipients.unwrap(info, 0, xkey) == cek


class _MarkedCertificate:
    """A certificate stand-in whose SKI equals the template's ephemeral marker."""

    def __init__(self, real: kx.X509Certificate) -> None:
        self.public_key = real.public_key
        self.subject_key_identifier = b"\xee" * 32
        self.fingerprint = real.fingerprint


def test_marker_in_the_recipient_id_falls_back_to_full_serialization(
    xkey: kx.X509SecretKey,
) -> None:
    cert = _MarkedCertificate(xkey.public)
    der = templates.wrap_der(
        cert,  # type: ignore[arg-type]
        CEK,
        policy=DEFAULT,
        rid_kind="subject_key_identifier",
    )
    info = _reparse(der)
    assert isinstance(info, asn1.KeyAgreeRecipientInfo)
    assert info.recipient_encrypted_keys[0].rid.subject_key_identifier == b"\xee" * 32
    assert info.originator_public_key != b"\xee" * 32


@pytest.mark.parametrize(
    ("authenticated", "rid_kind", "expected"),
    [
        (True, "subject_key_identifier", 0),
        (False, "issuer_and_serial_number", 0),
        (False, "subject_key_identifier", 2),
    ],
)
def test_recipient_infos_der_version_follows_rfc5652(
    rkey: kx.X509SecretKey,
    authenticated: bool,
    rid_kind: recipients.RidKind,
    expected: int,
) -> None:
    _, version = build.recipient_infos_der(
        [rkey.public],
        CEK,
        authenticated=authenticated,
        policy=DEFAULT,
        rid_kind=rid_kind,
    )
    assert version == asn1.der_int(expected)


def test_recipient_infos_der_with_x25519_in_legacy_mode_is_version_2(
    rkey: kx.X509SecretKey, xkey: kx.X509SecretKey
) -> None:
    ris, version = build.recipient_infos_der(
        [rkey.public, xkey.public],
        CEK,
        authenticated=False,
        policy=DEFAULT,
        rid_kind="issuer_and_serial_number",
    )
    assert version == asn1.der_int(2)
    assert len(asn1.parse_recipient_infos(ris, max_recipients=5)) == 2


def _message(infos: list[asn1.RecipientInfo], cek: bytes, body: bytes) -> bytes:
    ris = asn1.serialize_recipient_infos(infos)
    sealed = build._seal_bytes(
        body, ris, asn1.der_int(0), cek, bytes(12), authenticated=True
    )
    return bytes(sealed)


def test_decrypt_stops_unwrapping_at_the_first_key_that_opens(
    monkeypatch: pytest.MonkeyPatch, rkey: kx.X509SecretKey
) -> None:
    from e2ee_mail.cms import envelope

    infos = [recipients.wrap(rkey.public, CEK, policy=DEFAULT) for _ in range(3)]
    message = _message(infos, CEK, b"body")
    calls = []
    real = recipients.unwrap_content_key

    def counting(*args: object) -> tuple[bytes, bool]:
        calls.append(args)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(recipients, "unwrap_content_key", counting)
    assert envelope.decrypt(message, [rkey], policy=DEFAULT) == b"body"
    assert len(calls) == 1


def test_decrypt_tries_the_next_entry_when_a_content_key_fails(
    xkey: kx.X509SecretKey,
) -> None:
    from e2ee_mail.cms import envelope

    wrong = bytes(32)
    infos = [
        recipients.wrap(xkey.public, wrong, policy=DEFAULT),
        recipients.wrap(xkey.public, CEK, policy=DEFAULT),
    ]
    assert envelope.decrypt(_message(infos, CEK, b"body"), [xkey], policy=DEFAULT) == (
        b"body"
    )
    only_wrong = [recipients.wrap(xkey.public, wrong, policy=DEFAULT)]
    with pytest.raises(DecryptionError):
        envelope.decrypt(_message(only_wrong, CEK, b"body"), [xkey], policy=DEFAULT)
