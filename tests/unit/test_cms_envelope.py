"""cms/envelope.py and cms/build.py: AuthEnvelopedData / EnvelopedData round trips,
refusals, recipient matching, streams, rewrap, inspect."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from cms_messages import gcm_message

import e2ee_mail
from e2ee_mail.cms import asn1, build, envelope, oids, structures, templates
from e2ee_mail.core import aead, kdf, keywrap
from e2ee_mail.core import x25519 as core_x25519
from e2ee_mail.policy import DEFAULT, LEGACY_DECRYPT
from e2ee_mail.x509 import certs as kx

BODY = b"The body of the message.\r\n" * 40


def _wrap(cert: kx.X509Certificate, cek: bytes) -> structures.RecipientInfo:
    """The entry templates.wrap_der writes for ``cert``, read back."""
    der = templates.wrap_der(cert, cek, policy=DEFAULT)
    (info,) = asn1.parse_recipient_infos(asn1.set_of([der]), max_recipients=1)
    return info


@pytest.mark.parametrize("armor", [False, True])
@pytest.mark.parametrize("who", ["x25519", "rsa", "both"])
def test_round_trip_for_each_recipient_kind(
    xkey: kx.X509SecretKey, rkey: kx.X509SecretKey, armor: bool, who: str
) -> None:
    keys = {"x25519": [xkey], "rsa": [rkey], "both": [xkey, rkey]}[who]
    ct = e2ee_mail.encrypt(BODY, [k.public for k in keys], format="cms", armor=armor)
    assert ct.startswith(b"-----BEGIN CMS-----") == armor
    for key in keys:
        assert e2ee_mail.decrypt(ct, key) == BODY


def test_empty_body_round_trips(xkey: kx.X509SecretKey) -> None:
    ct = e2ee_mail.encrypt(b"", xkey.public, format="cms")
    assert e2ee_mail.decrypt(ct, xkey) == b""


def test_output_is_authenveloped_gcm_with_rfc5084_parameters(
    xkey: kx.X509SecretKey,
) -> None:
    from asn1crypto import cms

    ct = bytes(e2ee_mail.encrypt(BODY, xkey.public, format="cms"))
    info = cms.ContentInfo.load(ct)
    assert info["content_type"].dotted == oids.AUTH_ENVELOPED_DATA
    eci = info["content"]["auth_encrypted_content_info"]
    assert eci["content_encryption_algorithm"]["algorithm"].dotted == oids.AES256_GCM
    params = asn1.parse_gcm_parameters(
        eci["content_encryption_algorithm"]["parameters"].dump()
    )
    assert len(params.nonce) == 12
    assert params.icv_len == 16
    assert len(info["content"]["mac"].native) == 16
    assert info["content"]["version"].native == "v0"


def test_wrong_key_is_no_matching_key(
    xkey: kx.X509SecretKey, other: kx.X509SecretKey
) -> None:
    ct = e2ee_mail.encrypt(BODY, xkey.public, format="cms")
    with pytest.raises(e2ee_mail.NoMatchingKeyError, match="addressed to"):
        e2ee_mail.decrypt(ct, other)


def test_altered_ciphertext_is_decryption_error(xkey: kx.X509SecretKey) -> None:
    ct = bytearray(e2ee_mail.encrypt(BODY, xkey.public, format="cms"))
    ct[-40] ^= 1
    with pytest.raises(e2ee_mail.DecryptionError) as info:
        e2ee_mail.decrypt(bytes(ct), xkey)
    assert str(info.value) == e2ee_mail.errors.DECRYPTION_FAILED


def test_truncated_message_fails_closed(xkey: kx.X509SecretKey) -> None:
    ct = bytes(e2ee_mail.encrypt(BODY, xkey.public, format="cms"))
    for cut in (1, 17, len(ct) // 2, len(ct) - 1):
        with pytest.raises(e2ee_mail.FormatError):
            e2ee_mail.decrypt(ct[:cut], xkey)


def test_trailing_garbage_is_refused(xkey: kx.X509SecretKey) -> None:
    ct = bytes(e2ee_mail.encrypt(BODY, xkey.public, format="cms"))
    with pytest.raises(e2ee_mail.ASN1Error):
        e2ee_mail.decrypt(ct + b"\x00", xkey)


def test_recipient_by_subject_key_identifier(
    xkey: kx.X509SecretKey, rkey: kx.X509SecretKey
) -> None:
    certs = [xkey.public, rkey.public]
    ct = envelope.encrypt(
        BODY, certs, policy=DEFAULT, rid_kind="subject_key_identifier"
    )
    described = e2ee_mail.inspect(bytes(ct))
    assert all(r.id.startswith("ski=") for r in described.recipients)
    assert e2ee_mail.decrypt(ct, xkey) == BODY
    assert e2ee_mail.decrypt(ct, rkey) == BODY


@pytest.mark.parametrize("which", ["x", "r"])
def test_key_without_certificate_is_tried_on_every_entry(
    xkey: kx.X509SecretKey, rkey: kx.X509SecretKey, other: kx.X509SecretKey, which: str
) -> None:
    key = {"x": xkey, "r": rkey}[which]
    bare = kx.load_key(key.export(armor=False), None)
    ct = e2ee_mail.encrypt(BODY, [other.public, xkey.public, rkey.public], format="cms")
    assert e2ee_mail.decrypt(ct, bare) == BODY


def test_pkcs1v15_written_only_when_policy_allows(rkey: kx.X509SecretKey) -> None:
    default = e2ee_mail.inspect(
        bytes(e2ee_mail.encrypt(BODY, rkey.public, format="cms"))
    )
    assert default.recipients[0].algorithm == "rsaes-oaep-sha256"
    policy = dataclasses.replace(DEFAULT, allow_rsa_pkcs1v15_encrypt=True)
    ct = e2ee_mail.encrypt(BODY, rkey.public, format="cms", policy=policy)
    assert e2ee_mail.inspect(bytes(ct)).recipients[0].algorithm == "rsaes-pkcs1-v1_5"
    assert e2ee_mail.decrypt(ct, rkey) == BODY


def test_small_rsa_key_refused_by_policy(rkey: kx.X509SecretKey) -> None:
    policy = dataclasses.replace(DEFAULT, min_rsa_bits=4096)
    with pytest.raises(e2ee_mail.PolicyError, match="4096"):
        e2ee_mail.encrypt(BODY, rkey.public, format="cms", policy=policy)


def test_legacy_cbc_is_written_only_on_request_and_opened_only_by_opt_in(
    xkey: kx.X509SecretKey, rkey: kx.X509SecretKey
) -> None:
    ct = e2ee_mail.encrypt(
        BODY, [xkey.public, rkey.public], format="cms", cipher="aes-256-cbc"
    )
    described = e2ee_mail.inspect(bytes(ct))
    assert described.content_algorithm == "aes-256-cbc"
    assert "EnvelopedData" in dict(described.details)["content type"]
    with pytest.raises(e2ee_mail.PolicyError, match="allow_unauthenticated=True"):
        e2ee_mail.decrypt(ct, rkey)
    with pytest.raises(e2ee_mail.PolicyError, match="--allow-unauthenticated"):
        e2ee_mail.decrypt(ct, xkey)
    assert e2ee_mail.decrypt(ct, rkey, allow_unauthenticated=True) == BODY
    assert e2ee_mail.decrypt(ct, xkey, policy=LEGACY_DECRYPT) == BODY


def test_icv_length_other_than_16_is_refused(xkey: kx.X509SecretKey) -> None:
    cek = bytes(range(32))
    info = _wrap(xkey.public, cek)
    params = asn1.serialize_gcm_parameters(structures.GCMParameters(bytes(12), 12))
    with pytest.raises(e2ee_mail.UnsupportedError, match="16"):
        e2ee_mail.decrypt(gcm_message([info], cek, BODY, params=params), xkey)
    # aes-ICVlen absent means its DEFAULT 12 (RFC 5084): refused too.
    absent = asn1.der_tlv(0x30, asn1.der_tlv(0x04, bytes(12)))
    with pytest.raises(e2ee_mail.UnsupportedError):
        e2ee_mail.decrypt(gcm_message([info], cek, BODY, params=absent), xkey)


def test_nonce_other_than_12_bytes_is_refused(xkey: kx.X509SecretKey) -> None:
    cek = bytes(range(32))
    info = _wrap(xkey.public, cek)
    params = asn1.serialize_gcm_parameters(structures.GCMParameters(bytes(16), 16))
    with pytest.raises(e2ee_mail.UnsupportedError, match="12"):
        e2ee_mail.decrypt(gcm_message([info], cek, BODY, params=params), xkey)


def test_short_mac_is_refused(xkey: kx.X509SecretKey) -> None:
    cek = bytes(range(32))
    info = _wrap(xkey.public, cek)
    with pytest.raises(e2ee_mail.ASN1Error, match="16"):
        e2ee_mail.decrypt(gcm_message([info], cek, BODY, tag_len=12), xkey)


def _kari(
    cert: kx.X509Certificate, cek: bytes, scheme: str, ukm: bytes | None
) -> structures.KeyAgreeRecipientInfo:
    eph, shared = core_x25519.ephemeral_agree(core_x25519.public_bytes(cert.public_key))
    info = asn1.serialize_ecc_cms_shared_info(oids.AES256_WRAP, ukm, 256)
    kind, hash_name = oids.KDF_SCHEMES[scheme]
    if kind == "hkdf":
        kek = kdf.hkdf_sha256(shared, salt=None, info=info, length=32)
    else:
        kek = kdf.x963_kdf(shared, shared_info=info, length=32, hash_name=hash_name)
    wrap_alg = asn1.serialize_algorithm_identifier(
        structures.AlgorithmIdentifier(oids.AES256_WRAP)
    )
    rid = structures.RecipientId(
        issuer=cert.issuer_der, serial_number=cert.serial_number
    )
    return structures.KeyAgreeRecipientInfo(
        3,
        structures.AlgorithmIdentifier(oids.X25519),
        eph,
        ukm,
        structures.AlgorithmIdentifier(scheme, wrap_alg),
        (structures.RecipientEncryptedKey(rid, keywrap.wrap(kek, cek)),),
    )


@pytest.mark.parametrize(
    "scheme",
    [
        oids.DH_SINGLE_PASS_STDDH_SHA256KDF,
        oids.DH_SINGLE_PASS_STDDH_SHA512KDF,
        oids.DH_SINGLE_PASS_STDDH_HKDF_SHA256,
    ],
)
@pytest.mark.parametrize("ukm", [None, b"user keying material"])
def test_x25519_opens_x963_and_hkdf_schemes(
    xkey: kx.X509SecretKey, scheme: str, ukm: bytes | None
) -> None:
    cek = bytes(range(32))
    message = gcm_message([_kari(xkey.public, cek, scheme, ukm)], cek, BODY)
    assert e2ee_mail.decrypt(message, xkey) == BODY


def test_stream_round_trip_definite_and_indefinite(
    tmp_path: Path, xkey: kx.X509SecretKey, rkey: kx.X509SecretKey
) -> None:
    body = bytes(range(256)) * 9000  # > 2 stream segments
    src_path = tmp_path / "in"
    src_path.write_bytes(body)
    certs = [xkey.public, rkey.public]
    with src_path.open("rb") as src:
        definite = io.BytesIO()
        e2ee_mail.encrypt_stream(src, definite, certs, format="cms")
    indefinite = io.BytesIO()
    e2ee_mail.encrypt_stream(io.BytesIO(body), indefinite, certs, format="cms")
    assert dict(e2ee_mail.inspect(definite.getvalue()).details)["encoding"] == "DER"
    assert dict(e2ee_mail.inspect(indefinite.getvalue()).details)["encoding"] == "BER"
    for blob in (definite.getvalue(), indefinite.getvalue()):
        assert e2ee_mail.decrypt(blob, rkey) == body
        out = io.BytesIO()
        e2ee_mail.decrypt_stream(io.BytesIO(blob), out, xkey)
        assert out.getvalue() == body


def test_armored_stream_round_trip(xkey: kx.X509SecretKey) -> None:
    dst = io.BytesIO()
    e2ee_mail.encrypt_stream(
        io.BytesIO(BODY), dst, xkey.public, format="cms", armor=True
    )
    assert dst.getvalue().startswith(b"-----BEGIN CMS-----\n")
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(io.BytesIO(dst.getvalue()), out, xkey)
    assert out.getvalue() == BODY


def test_failed_stream_decryption_writes_nothing(xkey: kx.X509SecretKey) -> None:
    ct = bytearray(e2ee_mail.encrypt(BODY, xkey.public, format="cms"))
    ct[-30] ^= 0x80
    out = io.BytesIO()
    with pytest.raises(e2ee_mail.DecryptionError):
        e2ee_mail.decrypt_stream(io.BytesIO(bytes(ct)), out, xkey)
    assert out.getvalue() == b""


def test_rewrap_keeps_body_bytes(
    xkey: kx.X509SecretKey, rkey: kx.X509SecretKey, other: kx.X509SecretKey
) -> None:
    ct = bytes(e2ee_mail.encrypt(BODY, [xkey.public], format="cms"))
    rewrapped = e2ee_mail.rewrap(ct, xkey, [other.public, rkey.public])
    sealed_tail = ct[-(len(BODY) + 18) :]
    assert rewrapped.endswith(sealed_tail)
    assert e2ee_mail.decrypt(rewrapped, other) == BODY
    assert e2ee_mail.decrypt(rewrapped, rkey) == BODY
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(rewrapped, xkey)


def test_rewrap_with_unnamed_key_is_no_matching_key(
    xkey: kx.X509SecretKey, other: kx.X509SecretKey
) -> None:
    ct = bytes(e2ee_mail.encrypt(BODY, [xkey.public], format="cms"))
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.rewrap(ct, other, [other.public])


def test_inspect_lists_every_recipient_without_a_key(
    xkey: kx.X509SecretKey, rkey: kx.X509SecretKey
) -> None:
    ct = e2ee_mail.encrypt(BODY, [xkey.public, rkey.public], format="cms", armor=True)
    described = e2ee_mail.inspect(ct)
    assert described.format == "cms"
    assert described.content_algorithm == "aes-256-gcm"
    kinds = sorted(r.type for r in described.recipients)
    assert kinds == ["KeyAgreeRecipientInfo", "KeyTransRecipientInfo"]
    assert any(
        r.algorithm == "x25519-x963-sha256+aes256-wrap" for r in described.recipients
    )
    assert "PEM" in str(described)


def test_openpgp_style_certificate_is_usage_error() -> None:
    class NotX509(e2ee_mail.Certificate):
        format = "openpgp"  # type: ignore[assignment]
        fingerprint = "00"  # type: ignore[assignment]
        user_ids = ()  # type: ignore[assignment]
        algorithm = "x25519"  # type: ignore[assignment]

        def export(self, *, armor: bool = True) -> bytes:
            return b""

    with pytest.raises(e2ee_mail.UsageError):
        e2ee_mail.encrypt(BODY, NotX509(), format="cms")


def test_signed_data_is_not_encrypted(xkey: kx.X509SecretKey) -> None:
    signed = asn1.der_tlv(
        0x30, asn1.der_oid("1.2.840.113549.1.7.2") + b"\xa0\x02\x30\x00"
    )
    with pytest.raises(e2ee_mail.UnsupportedError, match="not encrypted"):
        e2ee_mail.decrypt(signed, xkey)


def test_legacy_cbc_uses_pkcs1v15_for_rsa_recipients(rkey: kx.X509SecretKey) -> None:
    # Clients that need EnvelopedData (gpgsm 2.2) read no RSA-OAEP either.
    ct = e2ee_mail.encrypt(BODY, rkey.public, format="cms", cipher="aes-256-cbc")
    assert e2ee_mail.inspect(bytes(ct)).recipients[0].algorithm == "rsaes-pkcs1-v1_5"
    gcm = e2ee_mail.encrypt(BODY, rkey.public, format="cms")
    assert e2ee_mail.inspect(bytes(gcm)).recipients[0].algorithm == "rsaes-oaep-sha256"


def test_non_data_inner_content_type_is_refused(xkey: kx.X509SecretKey) -> None:
    ct = bytes(e2ee_mail.encrypt(BODY, xkey.public, format="cms"))
    data_oid = asn1.der_oid(oids.DATA)
    signed_oid = asn1.der_oid("1.2.840.113549.1.7.2")
    assert len(data_oid) == len(signed_oid)
    with pytest.raises(e2ee_mail.UnsupportedError, match="id-data"):
        e2ee_mail.decrypt(ct.replace(data_oid, signed_oid), xkey)


def test_from_parts_is_deterministic_and_opens(xkey: kx.X509SecretKey) -> None:
    def make() -> bytes:
        return bytes(
            build.encrypt_bytes_from_parts(
                BODY,
                [xkey.public],
                cek=bytes(range(32)),
                nonce=bytes(12),
                ephemeral_secrets=[bytes([7]) * 32],
                policy=DEFAULT,
            )
        )

    first = make()
    assert first == make()
    assert e2ee_mail.decrypt(first, xkey) == BODY


@pytest.mark.parametrize("authenticated", [True, False])
def test_stream_tries_each_candidate_content_key(
    xkey: kx.X509SecretKey, monkeypatch: pytest.MonkeyPatch, authenticated: bool
) -> None:
    cek = bytes(range(32))
    ct = bytes(
        build.encrypt_bytes_from_parts(
            BODY,
            [xkey.public],
            cek=cek,
            nonce=bytes(12 if authenticated else 16),
            ephemeral_secrets=[None],
            authenticated=authenticated,
            policy=DEFAULT,
        )
    )
    wrong = bytes(32)
    monkeypatch.setattr(
        envelope.common, "content_keys", lambda *a, **k: ([wrong, cek], True)
    )
    out = io.BytesIO()
    envelope.decrypt_stream(io.BytesIO(ct), out, [xkey], policy=LEGACY_DECRYPT)
    assert out.getvalue() == BODY
    monkeypatch.setattr(
        envelope.common,
        "content_keys",
        lambda *a, **k: ([wrong, bytes([1]) * 32], True),
    )
    out = io.BytesIO()
    with pytest.raises(e2ee_mail.DecryptionError):
        envelope.decrypt_stream(io.BytesIO(ct), out, [xkey], policy=LEGACY_DECRYPT)
    assert out.getvalue() == b""


def test_auth_attrs_are_authenticated(xkey: kx.X509SecretKey) -> None:
    # RFC 5083 §2.2: the AAD is the DER of authAttrs with an EXPLICIT SET OF tag.
    cek = bytes(range(32))
    nonce = bytes(12)
    info = _wrap(xkey.public, cek)
    attr = asn1.der_tlv(
        0x30,
        asn1.der_oid("1.2.840.113549.1.9.3")
        + asn1.der_tlv(0x31, asn1.der_oid(oids.DATA)),
    )
    attrs = asn1.der_tlv(0xA1, attr)
    sealed = aead.gcm_seal(cek, nonce, BODY, b"\x31" + attrs[1:])
    ct, tag = sealed[:-16], sealed[-16:]
    params = asn1.serialize_gcm_parameters(structures.GCMParameters(nonce, 16))
    prefix = build.build_prefix(
        authenticated=True,
        version=asn1.der_int(0),
        originator_info=b"",
        ris_der=asn1.serialize_recipient_infos([info]),
        algorithm=structures.AlgorithmIdentifier(oids.AES256_GCM, params),
        body_length=len(ct),
        tail_length=len(attrs) + 18,
    )
    message = prefix + ct + attrs + asn1.der_tlv(0x04, tag)
    assert e2ee_mail.decrypt(message, xkey) == BODY
    altered = message.replace(
        asn1.der_oid("1.2.840.113549.1.9.3"), asn1.der_oid("1.2.840.113549.1.9.4")
    )
    with pytest.raises(e2ee_mail.DecryptionError):
        e2ee_mail.decrypt(altered, xkey)
    with pytest.raises(e2ee_mail.UnsupportedError, match="authAttrs"):
        e2ee_mail.decrypt_stream(io.BytesIO(message), io.BytesIO(), xkey)


def test_rewrap_keeps_auth_attrs_and_checks_them(
    xkey: kx.X509SecretKey, other: kx.X509SecretKey
) -> None:
    cek = bytes(range(32))
    nonce = bytes(12)
    info = _wrap(xkey.public, cek)
    attrs = asn1.der_tlv(
        0xA1, asn1.der_tlv(0x30, asn1.der_oid("1.2.3.4") + b"\x31\x00")
    )
    sealed = aead.gcm_seal(cek, nonce, BODY, b"\x31" + attrs[1:])
    params = asn1.serialize_gcm_parameters(structures.GCMParameters(nonce, 16))
    prefix = build.build_prefix(
        authenticated=True,
        version=asn1.der_int(0),
        originator_info=b"",
        ris_der=asn1.serialize_recipient_infos([info]),
        algorithm=structures.AlgorithmIdentifier(oids.AES256_GCM, params),
        body_length=len(BODY),
        tail_length=len(attrs) + 18,
    )
    message = prefix + sealed[:-16] + attrs + asn1.der_tlv(0x04, sealed[-16:])
    rewrapped = e2ee_mail.rewrap(message, xkey, other.public)
    assert rewrapped.endswith(attrs + asn1.der_tlv(0x04, sealed[-16:]))
    assert e2ee_mail.decrypt(rewrapped, other) == BODY


def test_unsupported_entry_is_skipped_when_another_opens(
    rkey: kx.X509SecretKey,
) -> None:
    cek = bytes(range(32))
    good = _wrap(rkey.public, cek)
    assert isinstance(good, structures.KeyTransRecipientInfo)
    odd = good.replace(
        key_encryption_algorithm=structures.AlgorithmIdentifier("1.2.3.4")
    )
    assert e2ee_mail.decrypt(gcm_message([odd, good], cek, BODY), rkey) == BODY
    with pytest.raises(e2ee_mail.UnsupportedError, match=r"1\.2\.3\.4"):
        e2ee_mail.decrypt(gcm_message([odd], cek, BODY), rkey)


def test_inspect_reports_sizes_and_refuses_truncated(xkey: kx.X509SecretKey) -> None:
    ct = bytes(e2ee_mail.encrypt(BODY, xkey.public, format="cms"))
    details = dict(e2ee_mail.inspect(ct).details)
    assert details["encrypted size"] == str(len(BODY))
    assert details["tag size"] == "16"
    with pytest.raises(e2ee_mail.FormatError):
        e2ee_mail.inspect(ct[:-5])
