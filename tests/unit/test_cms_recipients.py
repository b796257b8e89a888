"""cms/templates.py (with cms/recipients.py): wrap_der, the one writer of recipient
entries, writes the entry RFC 5652 §6.2 and RFC 8418 describe, byte for byte what
asn1.serialize_recipient_info writes for it, and it opens with the key; decrypt
unwraps lazily."""

from __future__ import annotations

import pytest

from e2ee_mail.cms import asn1, build, oids, recipients, templates
from e2ee_mail.cms.structures import (
    AlgorithmIdentifier,
    KeyAgreeRecipientInfo,
    KeyTransRecipientInfo,
    OAEPParameters,
    RecipientEncryptedKey,
    RecipientId,
    RecipientInfo,
)
from e2ee_mail.core import keywrap
from e2ee_mail.core import x25519 as core_x25519
from e2ee_mail.errors import DecryptionError, PolicyError
from e2ee_mail.policy import DEFAULT, Policy
from e2ee_mail.x509 import certs as kx

CEK = bytes(range(32))
PKCS1 = Policy(allow_rsa_pkcs1v15_encrypt=True)


def _reparse(der: bytes) -> RecipientInfo:
    (info,) = asn1.parse_recipient_infos(asn1.set_of([der]), max_recipients=1)
    assert asn1.serialize_recipient_info(info) == der
    return info


def _wrap(cert: kx.X509Certificate, cek: bytes) -> RecipientInfo:
    return _reparse(templates.wrap_der(cert, cek, policy=DEFAULT))


def _expected(
    cert: kx.X509Certificate, policy: Policy, rid_kind: templates.RidKind
) -> RecipientInfo:
    """The entry for ``cert``, its fresh values (keys) left empty."""
    if rid_kind == "subject_key_identifier":
        rid = RecipientId(subject_key_identifier=cert.subject_key_identifier)
    else:
        rid = RecipientId(issuer=cert.issuer_der, serial_number=cert.serial_number)
    if cert.algorithm == "x25519":
        # RFC 8418 §2: an ephemeral X25519 originatorKey, the X9.63 KDF with
        # SHA-256 and AES-256 key wrap (parameters absent, RFC 3565 §2.3.2).
        wrap = AlgorithmIdentifier(oids.AES256_WRAP)
        return KeyAgreeRecipientInfo(
            3,
            AlgorithmIdentifier(oids.X25519),
            b"",
            None,
            AlgorithmIdentifier(
                oids.DH_SINGLE_PASS_STDDH_SHA256KDF,
                asn1.serialize_algorithm_identifier(wrap),
            ),
            (RecipientEncryptedKey(rid, b""),),
        )
    if policy.allow_rsa_pkcs1v15_encrypt:
        alg = AlgorithmIdentifier(oids.RSA_ENCRYPTION, b"\x05\x00")
    else:
        params = OAEPParameters("sha256", "sha256", b"")
        alg = AlgorithmIdentifier(
            oids.RSAES_OAEP, asn1.serialize_oaep_parameters(params)
        )
    # RFC 5652 §6.2.1: version 0 with issuerAndSerialNumber, 2 with an SKI.
    return KeyTransRecipientInfo(0 if rid.issuer else 2, rid, alg, b"")


def _without_randomness(info: RecipientInfo) -> RecipientInfo:
    if isinstance(info, KeyTransRecipientInfo):
        return info.replace(encrypted_key=b"")
    assert isinstance(info, KeyAgreeRecipientInfo)
    reks = tuple(
        rek.replace(encrypted_key=b"") for rek in info.recipient_encrypted_keys
    )
    return info.replace(originator_public_key=b"", recipient_encrypted_keys=reks)


@pytest.mark.parametrize(
    "rid_kind", ["issuer_and_serial_number", "subject_key_identifier"]
)
@pytest.mark.parametrize("policy", [DEFAULT, PKCS1], ids=["oaep", "pkcs1v15"])
@pytest.mark.parametrize("which", ["xkey", "rkey"])
def test_wrap_der_writes_the_entry_and_it_opens(
    request: pytest.FixtureRequest,
    which: str,
    policy: Policy,
    rid_kind: templates.RidKind,
) -> None:
    key: kx.X509SecretKey = request.getfixturevalue(which)
    for _ in range(2):  # the second call comes from the per-certificate cache
        der = templates.wrap_der(key.public, CEK, policy=policy, rid_kind=rid_kind)
        info = _reparse(der)
        assert _without_randomness(info) == _expected(key.public, policy, rid_kind)
        recipients.check_supported(info, key, DEFAULT)
        assert recipients.unwrap(info, 0, key) == CEK


@pytest.mark.parametrize(
    "rid_kind", ["issuer_and_serial_number", "subject_key_identifier"]
)
def test_pinned_x25519_entry_is_the_serialized_entry(
    xkey: kx.X509SecretKey, rid_kind: templates.RidKind
) -> None:
    secret = bytes(range(1, 33))
    der = templates.wrap_der(
        xkey.public, CEK, policy=DEFAULT, rid_kind=rid_kind, ephemeral_secret=secret
    )
    recipient = core_x25519.public_bytes(xkey.public.public_key)  # type: ignore[arg-type]
    ephemeral, shared = core_x25519.ephemeral_agree_from_parts(recipient, secret)
    kek = recipients.derive_kek(
        templates.KARI_SCHEME, templates.KARI_WRAP, shared, None
    )
    expected = _expected(xkey.public, DEFAULT, rid_kind)
    assert isinstance(expected, KeyAgreeRecipientInfo)
    (rek,) = expected.recipient_encrypted_keys
    expected = expected.replace(
        originator_public_key=ephemeral,
        recipient_encrypted_keys=(rek.replace(encrypted_key=keywrap.wrap(kek, CEK)),),
    )
    assert der == asn1.serialize_recipient_info(expected)


@pytest.mark.parametrize("size", [384, 100])  # the modulus' size, and another
@pytest.mark.parametrize("policy", [DEFAULT, PKCS1], ids=["oaep", "pkcs1v15"])
def test_recorded_rsa_entry_is_the_serialized_entry(
    rkey: kx.X509SecretKey, policy: Policy, size: int
) -> None:
    recorded = bytes(range(256)) * 2
    der = templates.wrap_der(
        rkey.public, CEK, policy=policy, encrypted_key=recorded[:size]
    )
    expected = _expected(rkey.public, policy, "issuer_and_serial_number")
    expected = expected.replace(encrypted_key=recorded[:size])
    assert der == asn1.serialize_recipient_info(expected)


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
        self.algorithm = real.algorithm
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
    assert isinstance(info, KeyAgreeRecipientInfo)
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
def test_sealing_version_follows_rfc5652(
    rkey: kx.X509SecretKey,
    authenticated: bool,
    rid_kind: templates.RidKind,
    expected: int,
) -> None:
    keys = build.sealing(
        [rkey.public], authenticated=authenticated, policy=DEFAULT, rid_kind=rid_kind
    )
    assert keys.version == asn1.der_int(expected)
    assert len(keys.cek) == 32


def test_sealing_with_x25519_in_legacy_mode_is_version_2(
    rkey: kx.X509SecretKey, xkey: kx.X509SecretKey
) -> None:
    keys = build.sealing(
        [rkey.public, xkey.public],
        authenticated=False,
        policy=DEFAULT,
        rid_kind="issuer_and_serial_number",
        cek=CEK,
    )
    assert keys.version == asn1.der_int(2)
    infos = asn1.parse_recipient_infos(keys.ris_der, max_recipients=5)
    ktri, kari = sorted(infos, key=lambda info: type(info).__name__, reverse=True)
    assert recipients.unwrap(ktri, 0, rkey) == CEK
    assert recipients.unwrap(kari, 0, xkey) == CEK


def _message(infos: list[RecipientInfo], cek: bytes, body: bytes) -> bytes:
    ris = asn1.serialize_recipient_infos(infos)
    keys = build.Sealing(True, cek, ris, asn1.der_int(0))
    return bytes(build.encrypt_bytes(body, keys, bytes(12)))


def test_decrypt_stops_unwrapping_at_the_first_key_that_opens(
    monkeypatch: pytest.MonkeyPatch, rkey: kx.X509SecretKey
) -> None:
    from e2ee_mail.cms import envelope

    infos = [_wrap(rkey.public, CEK) for _ in range(3)]
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
        _wrap(xkey.public, wrong),
        _wrap(xkey.public, CEK),
    ]
    assert envelope.decrypt(_message(infos, CEK, b"body"), [xkey], policy=DEFAULT) == (
        b"body"
    )
    only_wrong = [_wrap(xkey.public, wrong)]
    with pytest.raises(DecryptionError):
        envelope.decrypt(_message(only_wrong, CEK, b"body"), [xkey], policy=DEFAULT)
