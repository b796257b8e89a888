"""CMS ECDH key agreement over P-256, P-384 and P-521 (RFC 5753): the entry we write,
every scheme and key wrap we open as the message states them, and the refusals
(a point off the curve, a scheme or wrap outside the allowed set, a key usage that
forbids key agreement, a curve we do not handle)."""

from __future__ import annotations

import io

import pytest
from cms_messages import gcm_message
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from ec_keys import ec_key, ec_pem

import e2ee_mail
from e2ee_mail.cms import (
    asn1,
    derframe,
    envelope,
    oids,
    recipients,
    templates,
)
from e2ee_mail.cms.structures import (
    AlgorithmIdentifier,
    KeyAgreeRecipientInfo,
    RecipientEncryptedKey,
    RecipientId,
    RecipientInfo,
)
from e2ee_mail.core import ecdh_prime
from e2ee_mail.mime import detect
from e2ee_mail.policy import DEFAULT
from e2ee_mail.x509 import certs as kx

CURVES = ["p256", "p384", "p521"]
BODY = b"ECDH body\r\n" * 100
CEK = bytes(range(32))
_SHA: dict[str, type[hashes.SHA1 | hashes.SHA256 | hashes.SHA384 | hashes.SHA512]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


@pytest.fixture(scope="module")
def keys() -> dict[str, kx.X509SecretKey]:
    return {curve: ec_key(curve, f"{curve}@example.org") for curve in CURVES}


def _kari(
    cert: kx.X509Certificate,
    cek: bytes,
    *,
    scheme: str,
    wrap: str = oids.AES256_WRAP,
    ukm: bytes | None = None,
    params: bytes | None = None,
    point: bytes | None = None,
) -> KeyAgreeRecipientInfo:
    """An entry built here from `cryptography` alone (RFC 5753 §3.1.1, §7.2): an
    independent sender, so that the library's reading is checked against it."""
    public = cert.public_key
    assert isinstance(public, ec.EllipticCurvePublicKey)
    eph = ec.generate_private_key(public.curve)
    shared = eph.exchange(ec.ECDH(), public)
    size = oids.WRAP_KEY_SIZES[wrap]
    shared_info = asn1.serialize_ecc_cms_shared_info(wrap, ukm, size * 8)
    _, hash_name = oids.KDF_SCHEMES[scheme]
    kek = X963KDF(_SHA[hash_name](), size, shared_info).derive(shared)
    eph_point = eph.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    rid = RecipientId(issuer=cert.issuer_der, serial_number=cert.serial_number)
    return KeyAgreeRecipientInfo(
        3,
        AlgorithmIdentifier(oids.EC_PUBLIC_KEY, params),
        eph_point if point is None else point,
        ukm,
        AlgorithmIdentifier(
            scheme, asn1.serialize_algorithm_identifier(AlgorithmIdentifier(wrap))
        ),
        (RecipientEncryptedKey(rid, aes_key_wrap(kek, cek)),),
    )


def _message(info: KeyAgreeRecipientInfo) -> bytes:
    """An AuthEnvelopedData around ``info`` with the content key CEK."""
    return gcm_message([info], CEK, BODY)


@pytest.mark.parametrize("curve", CURVES)
@pytest.mark.parametrize("armor", [False, True])
def test_round_trip_on_each_curve(
    keys: dict[str, kx.X509SecretKey], curve: str, armor: bool
) -> None:
    key = keys[curve]
    assert key.algorithm == key.public.algorithm == f"ecdh-{curve}"
    ct = e2ee_mail.encrypt(BODY, key.public, format="cms", armor=armor)
    assert e2ee_mail.decrypt(ct, key) == BODY
    (described,) = e2ee_mail.inspect(bytes(ct)).recipients
    scheme = {"p256": "sha256", "p384": "sha384", "p521": "sha512"}[curve]
    assert described.algorithm == f"ecdh-{curve}-x963-{scheme}+aes256-wrap"


@pytest.mark.parametrize("curve", CURVES)
def test_entry_is_rfc5753_and_the_template_is_the_serialized_entry(
    keys: dict[str, kx.X509SecretKey], curve: str
) -> None:
    cert = keys[curve].public
    scalar = (7).to_bytes(32, "big")
    rid_kinds: tuple[templates.RidKind, ...] = (
        "issuer_and_serial_number",
        "subject_key_identifier",
    )
    for rid_kind in rid_kinds:
        der = templates.wrap_der(
            cert,
            CEK,
            policy=DEFAULT,
            rid_kind=rid_kind,
            ephemeral_secret=scalar,
        )
        (info,) = asn1.parse_recipient_infos(asn1.set_of([der]), max_recipients=1)
        assert isinstance(info, KeyAgreeRecipientInfo)
        # RFC 5753 §3.1.1: id-ecPublicKey, parameters absent, an uncompressed point.
        assert info.originator_algorithm == AlgorithmIdentifier(oids.EC_PUBLIC_KEY)
        seven = ec.derive_private_key(7, ecdh_prime.CURVES[curve].curve)
        assert info.originator_public_key == ecdh_prime.encode_point(seven)
        assert info.key_encryption_algorithm.algorithm == templates.EC_SCHEMES[curve]
        assert der == asn1.serialize_recipient_info(info)
        assert recipients.unwrap(info, 0, keys[curve]) == CEK


_SCHEMES = sorted(oids.EC_SCHEMES)


@pytest.mark.parametrize("scheme", _SCHEMES, ids=[oids.name(s) for s in _SCHEMES])
@pytest.mark.parametrize("wrap", sorted(oids.WRAP_KEY_SIZES), ids=["128", "192", "256"])
def test_every_allowed_scheme_and_wrap_opens_as_stated(
    keys: dict[str, kx.X509SecretKey], scheme: str, wrap: str
) -> None:
    key = keys["p256"]
    info = _kari(key.public, CEK, scheme=scheme, wrap=wrap, ukm=b"user keying")
    recipients.check_supported(info, key, DEFAULT)
    assert recipients.unwrap(info, 0, key) == CEK


@pytest.mark.parametrize("curve", CURVES)
@pytest.mark.parametrize("params", ["absent", "null", "named"])
def test_originator_parameters_absent_null_or_the_named_curve(
    keys: dict[str, kx.X509SecretKey], curve: str, params: str
) -> None:
    curve_oid = next(o for o, n in oids.EC_CURVES.items() if n == curve)
    raw = {"absent": None, "null": b"\x05\x00", "named": asn1.der_oid(curve_oid)}
    key = keys[curve]
    info = _kari(
        key.public,
        CEK,
        scheme=oids.DH_SINGLE_PASS_STDDH_SHA1KDF,
        params=raw[params],
    )
    recipients.check_supported(info, key, DEFAULT)
    assert recipients.unwrap(info, 0, key) == CEK
    (described,) = recipients.describe(info)
    assert described[2] == f"ecdh-{curve}-x963-sha1+aes256-wrap"


def test_originator_on_another_curve_is_refused(
    keys: dict[str, kx.X509SecretKey],
) -> None:
    key = keys["p256"]
    info = _kari(
        key.public,
        CEK,
        scheme=oids.DH_SINGLE_PASS_STDDH_SHA256KDF,
        params=asn1.der_oid(oids.SECP384R1),
    )
    with pytest.raises(e2ee_mail.ASN1Error, match="not the recipient's curve P256"):
        recipients.check_supported(info, key, DEFAULT)


@pytest.mark.parametrize(
    "scheme",
    [oids.DH_SINGLE_PASS_STDDH_HKDF_SHA256, "1.3.132.1.11.0", "1.2.3.4"],
    ids=["hkdf", "sha224kdf", "unknown"],
)
def test_scheme_outside_the_allowed_set_is_refused(
    keys: dict[str, kx.X509SecretKey], scheme: str
) -> None:
    key = keys["p256"]
    info = _kari(key.public, CEK, scheme=oids.DH_SINGLE_PASS_STDDH_SHA256KDF)
    info = info.replace(
        key_encryption_algorithm=info.key_encryption_algorithm.replace(
            algorithm=scheme
        ),
    )
    with pytest.raises(e2ee_mail.UnsupportedError, match="key agreement scheme"):
        recipients.check_supported(info, key, DEFAULT)
    with pytest.raises(e2ee_mail.UnsupportedError, match="key agreement scheme"):
        e2ee_mail.decrypt(_message(info), key)


def test_sha1_scheme_is_for_ec_only(xkey: kx.X509SecretKey) -> None:
    # RFC 8418 §2.2 names no SHA-1 scheme for X25519.
    der = templates.wrap_der(xkey.public, CEK, policy=DEFAULT)
    (info,) = asn1.parse_recipient_infos(asn1.set_of([der]), max_recipients=1)
    assert isinstance(info, KeyAgreeRecipientInfo)
    sha1 = info.replace(
        key_encryption_algorithm=info.key_encryption_algorithm.replace(
            algorithm=oids.DH_SINGLE_PASS_STDDH_SHA1KDF,
        ),
    )
    with pytest.raises(e2ee_mail.UnsupportedError, match="x963-sha1"):
        recipients.check_supported(sha1, xkey, DEFAULT)


def test_key_wrap_outside_the_allowed_set_is_refused(
    keys: dict[str, kx.X509SecretKey],
) -> None:
    key = keys["p256"]
    info = _kari(key.public, CEK, scheme=oids.DH_SINGLE_PASS_STDDH_SHA256KDF)
    cbc = asn1.serialize_algorithm_identifier(AlgorithmIdentifier(oids.AES256_CBC))
    info = info.replace(
        key_encryption_algorithm=info.key_encryption_algorithm.replace(parameters=cbc),
    )
    with pytest.raises(e2ee_mail.UnsupportedError, match="key wrap algorithm"):
        recipients.check_supported(info, key, DEFAULT)


@pytest.mark.parametrize("curve", CURVES)
def test_point_not_on_the_curve_is_a_clear_error(
    keys: dict[str, kx.X509SecretKey], curve: str
) -> None:
    key = keys[curve]
    size = ecdh_prime.CURVES[curve].point_size
    off_curve = b"\x04" + bytes(size - 2) + b"\x01"
    info = _kari(
        key.public, CEK, scheme=oids.DH_SINGLE_PASS_STDDH_SHA256KDF, point=off_curve
    )
    with pytest.raises(e2ee_mail.FormatError, match="not a point on"):
        e2ee_mail.decrypt(_message(info), key)


@pytest.mark.parametrize(
    "point",
    [b"\x02" + bytes(32), b"\x04" + bytes(63), b""],
    ids=["compressed", "short", "empty"],
)
def test_point_of_the_wrong_form_is_a_clear_error(
    keys: dict[str, kx.X509SecretKey], point: bytes
) -> None:
    key = keys["p256"]
    info = _kari(key.public, CEK, scheme=oids.DH_SINGLE_PASS_STDDH_SHA256KDF)
    info = info.replace(originator_public_key=point)
    with pytest.raises(e2ee_mail.FormatError, match="uncompressed point of 65"):
        recipients.check_supported(info, key, DEFAULT)


def test_tampered_ephemeral_point_fails_to_decrypt(
    keys: dict[str, kx.X509SecretKey],
) -> None:
    key = keys["p256"]
    info = _kari(key.public, CEK, scheme=oids.DH_SINGLE_PASS_STDDH_SHA256KDF)
    # Another point on the curve agrees to another secret: the key wrap check fails.
    # (Not the negated point: it has the same x, so the same shared secret.)
    point = info.originator_public_key
    other = ecdh_prime.encode_point(ec.generate_private_key(ec.SECP256R1()))
    tampered = info.replace(originator_public_key=other)
    with pytest.raises(e2ee_mail.DecryptionError):
        e2ee_mail.decrypt(_message(tampered), key)
    # A single flipped bit takes the point off the curve: a FormatError first.
    flipped = point[:-1] + bytes((point[-1] ^ 1,))
    with pytest.raises(e2ee_mail.FormatError, match="not a point on P256"):
        e2ee_mail.decrypt(_message(info.replace(originator_public_key=flipped)), key)


def test_wrong_key_is_not_a_recipient(keys: dict[str, kx.X509SecretKey]) -> None:
    ct = e2ee_mail.encrypt(BODY, keys["p256"].public, format="cms")
    other = ec_key("p256", "other@example.org")
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(ct, other)
    # Without its certificate the key tries the entry, and fails at the key wrap.
    bare = kx.X509SecretKey(other.private_key, None)
    with pytest.raises(e2ee_mail.DecryptionError):
        e2ee_mail.decrypt(ct, bare)


def test_key_without_certificate_opens_by_trial(
    keys: dict[str, kx.X509SecretKey], xkey: kx.X509SecretKey
) -> None:
    key = keys["p384"]
    ct = e2ee_mail.encrypt(BODY, [xkey.public, key.public], format="cms")
    bare = kx.X509SecretKey(key.private_key, None)
    assert e2ee_mail.decrypt(ct, bare) == BODY
    # A key without its certificate tries only entries whose originator is of its
    # own type: here the EC entry, not the X25519 one.
    found, _ = recipients.candidates(_infos(bytes(ct)), [bare])
    assert [info.originator_algorithm.algorithm for info, _, _ in found] == [  # type: ignore[union-attr]
        oids.EC_PUBLIC_KEY
    ]


def _infos(ct: bytes) -> tuple[RecipientInfo, ...]:
    framed = derframe.parse(ct, DEFAULT)
    assert framed is not None
    return framed[0].recipient_infos


def test_mixed_recipients_each_open(
    keys: dict[str, kx.X509SecretKey],
    xkey: kx.X509SecretKey,
    rkey: kx.X509SecretKey,
) -> None:
    certs = [keys["p256"].public, xkey.public, rkey.public, keys["p521"].public]
    ct = envelope.encrypt(
        BODY, certs, policy=DEFAULT, rid_kind="subject_key_identifier"
    )
    for key in (keys["p256"], xkey, rkey, keys["p521"]):
        assert e2ee_mail.decrypt(ct, key) == BODY


def test_streaming_round_trip(keys: dict[str, kx.X509SecretKey]) -> None:
    dst = io.BytesIO()
    e2ee_mail.encrypt_stream(
        io.BytesIO(BODY * 1000), dst, keys["p384"].public, format="cms"
    )
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(io.BytesIO(dst.getvalue()), out, keys["p384"])
    assert out.getvalue() == BODY * 1000


@pytest.mark.parametrize(("source", "target"), [("p256", "x25519"), ("x25519", "p521")])
def test_rewrap_to_and_from_ec_recipients(
    keys: dict[str, kx.X509SecretKey],
    xkey: kx.X509SecretKey,
    source: str,
    target: str,
) -> None:
    by_name = {**keys, "x25519": xkey}
    ct = e2ee_mail.encrypt(BODY, by_name[source].public, format="cms")
    moved = e2ee_mail.rewrap(ct, by_name[source], by_name[target].public)
    assert e2ee_mail.decrypt(moved, by_name[target]) == BODY
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(moved, by_name[source])


def test_smime_mail_round_trip(keys: dict[str, kx.X509SecretKey]) -> None:
    mail = detect.parse(
        b"From: a@example.org\r\nTo: p256@example.org\r\nSubject: ec\r\n"
        b"Content-Type: text/plain\r\n\r\nhello over P-256\r\n"
    )
    sealed = e2ee_mail.encrypt_message(mail, keys["p256"].public)
    opened = e2ee_mail.decrypt_message(detect.serialize(sealed), keys["p256"])
    assert "hello over P-256" in opened.get_content()


def test_certificate_without_key_agreement_is_refused() -> None:
    _, cert_pem = ec_pem("p256", "sig@example.org", key_agreement=False)
    cert = e2ee_mail.load_certificate(cert_pem)
    with pytest.raises(e2ee_mail.PolicyError, match=r"keyAgreement \(RFC 5480 §3\)"):
        e2ee_mail.encrypt(BODY, cert, format="cms")


def test_other_curves_are_refused_with_the_reason() -> None:
    private = ec.generate_private_key(ec.SECP256K1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(e2ee_mail.UnsupportedError, match="secp256k1 keys can neither"):
        e2ee_mail.load_key(pem)


def test_rewrap_stream_and_rewrap_message_with_ec_keys(
    keys: dict[str, kx.X509SecretKey], rkey: kx.X509SecretKey
) -> None:
    src = io.BytesIO()
    e2ee_mail.encrypt_stream(io.BytesIO(BODY), src, keys["p384"].public, format="cms")
    dst = io.BytesIO()
    e2ee_mail.rewrap_stream(
        io.BytesIO(src.getvalue()),
        dst,
        keys["p384"],
        [keys["p256"].public, rkey.public],
    )
    assert e2ee_mail.decrypt(dst.getvalue(), keys["p256"]) == BODY
    assert e2ee_mail.decrypt(dst.getvalue(), rkey) == BODY
    mail = detect.parse(
        b"From: a@example.org\r\nTo: p521@example.org\r\nSubject: move\r\n"
        b"Content-Type: text/plain\r\n\r\nmoved between curves\r\n"
    )
    sealed = e2ee_mail.encrypt_message(mail, keys["p521"].public)
    moved = e2ee_mail.rewrap_message(sealed, keys["p521"], keys["p256"].public)
    opened = e2ee_mail.decrypt_message(detect.serialize(moved), keys["p256"])
    assert "moved between curves" in opened.get_content()
