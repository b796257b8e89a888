"""CMS with ML-KEM recipients (RFC 9936 KEMRecipientInfo, RFC 9629; RFC 9935
certificates): round trips for ML-KEM-768 and ML-KEM-1024, mixed with RSA and X25519
recipients, S/MIME and rewrap; entries made here from `cryptography` alone (an
independent sender) opened as they state their KDF input; and the refusals (a
wrong key, an altered ciphertext, a KEM, KDF, key wrap or kekLength outside the
allowed set, a version other than 0, parameters where RFC 9936 has none, a key
usage without keyEncipherment)."""

from __future__ import annotations

import datetime
import importlib.resources
import io
import json
from email.message import EmailMessage

import pytest
from cms_messages import gcm_message
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, mlkem
from cryptography.hazmat.primitives.hashes import SHA256, SHA384, SHA512
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from cryptography.x509.oid import NameOID

import e2ee_mail
from e2ee_mail._args import Cipher
from e2ee_mail.cms import asn1, build, common, kemri, oids, recipients
from e2ee_mail.cms.structures import (
    AlgorithmIdentifier,
    KEMRecipientInfo,
    RecipientId,
)
from e2ee_mail.cms.templates import RidKind
from e2ee_mail.model import KeyKind
from e2ee_mail.policy import DEFAULT, LEGACY_DECRYPT
from e2ee_mail.x509 import certs as kx
from e2ee_mail.x509 import keygen, usage

KINDS: list[KeyKind] = ["mlkem768", "mlkem1024"]
_CIPHERS: tuple[Cipher, ...] = ("aes-256-gcm", "aes-256-cbc")
BODY = b"post-quantum body\r\n" * 50
CEK = bytes(range(32))
_HKDF = AlgorithmIdentifier(oids.HKDF_SHA256)
_HASHES: dict[str, type[SHA256 | SHA384 | SHA512]] = {
    oids.HKDF_SHA256: SHA256,
    oids.HKDF_SHA384: SHA384,
    oids.HKDF_SHA512: SHA512,
}


@pytest.fixture(scope="module")
def keys() -> dict[str, kx.X509SecretKey]:
    return {
        kind: keygen.generate(f"{kind} <{kind}@example.org>", kind=kind)
        for kind in KINDS
    }


def _kemri(
    cert: kx.X509Certificate,
    cek: bytes = CEK,
    *,
    kem: str | None = None,
    kdf: AlgorithmIdentifier = _HKDF,
    wrap: str = oids.AES256_WRAP,
    kek_length: int | None = None,
    ukm: bytes | None = None,
    version: int = 0,
) -> KEMRecipientInfo:
    """An entry built from `cryptography` alone (RFC 9629 §5: HKDF over the DER
    CMSORIforKEMOtherInfo, written out here byte by byte)."""
    public = cert.public_key
    assert isinstance(public, mlkem.MLKEM768PublicKey | mlkem.MLKEM1024PublicKey)
    shared, kemct = public.encapsulate()
    size = oids.WRAP_KEY_SIZES[wrap]
    length = size if kek_length is None else kek_length
    wrap_der = asn1.der_tlv(0x30, asn1.der_oid(wrap))
    other = wrap_der + asn1.der_int(length)
    if ukm is not None:
        other += b"\xa0" + asn1.der_length(len(ukm) + 2) + asn1.der_tlv(0x04, ukm)
    info = asn1.der_tlv(0x30, other)
    hash_algorithm = _HASHES.get(kdf.algorithm, SHA256)()
    kek = HKDF(hash_algorithm, length, None, info).derive(shared)
    # A kekLength other than the wrap's key size is cut or padded to it, so that
    # the entry can still be made and its refusal comes from the check.
    wrapped = aes_key_wrap(kek[:size].ljust(size, b"\0"), cek)
    return KEMRecipientInfo(
        version=version,
        rid=RecipientId(issuer=cert.issuer_der, serial_number=cert.serial_number),
        kem=AlgorithmIdentifier(kem or kemri.KEM_OIDS[cert.algorithm]),
        kemct=kemct,
        kdf=kdf,
        kek_length=length,
        ukm=ukm,
        wrap=AlgorithmIdentifier(wrap),
        encrypted_key=wrapped,
    )


def _message(info: KEMRecipientInfo) -> bytes:
    """An AuthEnvelopedData around ``info`` with the content key CEK."""
    return gcm_message([info], CEK, BODY)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("armor", [False, True])
def test_round_trip(keys: dict[str, kx.X509SecretKey], kind: str, armor: bool) -> None:
    key = keys[kind]
    assert key.algorithm == key.public.algorithm == kind
    ct = e2ee_mail.encrypt(BODY, key.public, armor=armor)
    assert e2ee_mail.decrypt(ct, key) == BODY
    (described,) = e2ee_mail.inspect(bytes(ct)).recipients
    assert described.algorithm == f"{kind}-hkdf-sha256+aes256-wrap"
    assert described.type == "KEMRecipientInfo"


@pytest.mark.parametrize("kind", KINDS)
def test_entry_is_rfc9936(keys: dict[str, kx.X509SecretKey], kind: str) -> None:
    key = keys[kind]
    rid_kinds: tuple[RidKind, ...] = (
        "issuer_and_serial_number",
        "subject_key_identifier",
    )
    for rid_kind in rid_kinds:
        sealing = build.sealing(
            [key.public],
            authenticated=True,
            policy=DEFAULT,
            rid_kind=rid_kind,
            cek=CEK,
        )
        (info,) = asn1.parse_recipient_infos(sealing.ris_der, max_recipients=1)
        assert isinstance(info, KEMRecipientInfo)
        assert info.version == 0
        assert info.kem == AlgorithmIdentifier(kemri.KEM_OIDS[kind])
        assert info.kdf == AlgorithmIdentifier(oids.HKDF_SHA256)
        assert info.wrap == AlgorithmIdentifier(oids.AES256_WRAP)
        assert info.kek_length == 32
        assert info.ukm is None
        if rid_kind == "subject_key_identifier":
            assert info.rid.subject_key_identifier == key.public.subject_key_identifier
        # The cut template joins to the serialized entry.
        assert asn1.set_of([asn1.serialize_recipient_info(info)]) == sealing.ris_der
        recipients.check_supported(info, key, DEFAULT)
        assert recipients.unwrap(info, 0, key) == CEK
        # RFC 5083 §2.1: AuthEnvelopedData is version 0 whatever the entries.
        assert sealing.version == asn1.der_int(0)


def test_mixed_recipients_and_enveloped_data_version(
    keys: dict[str, kx.X509SecretKey],
    rkey: kx.X509SecretKey,
    xkey: kx.X509SecretKey,
) -> None:
    everyone = [keys["mlkem768"], keys["mlkem1024"], rkey, xkey]
    for cipher in _CIPHERS:
        ct = e2ee_mail.encrypt(BODY, [k.public for k in everyone], cipher=cipher)
        for key in everyone:
            assert e2ee_mail.decrypt(ct, key, policy=LEGACY_DECRYPT) == BODY
        types = sorted(r.type for r in e2ee_mail.inspect(bytes(ct)).recipients)
        assert types == [
            "KEMRecipientInfo",
            "KEMRecipientInfo",
            "KeyAgreeRecipientInfo",
            "KeyTransRecipientInfo",
        ]
    # RFC 5652 §6.1: EnvelopedData with an ori entry is version 3.
    sealing = build.sealing(
        [keys["mlkem768"].public, rkey.public],
        authenticated=False,
        policy=DEFAULT,
        rid_kind="issuer_and_serial_number",
    )
    assert sealing.version == asn1.der_int(3)


def _enveloped_version(der: bytes) -> int:
    """The enveloped-data version of a DER or BER message, as the reader reads it."""
    header = common.frame(der, LEGACY_DECRYPT)[0]
    return int.from_bytes(header.version[2:])


def test_rewrap_to_and_from_mlkem(
    keys: dict[str, kx.X509SecretKey], rkey: kx.X509SecretKey, xkey: kx.X509SecretKey
) -> None:
    for cipher in _CIPHERS:
        ct = e2ee_mail.encrypt(BODY, rkey.public, cipher=cipher)
        pq = e2ee_mail.rewrap(ct, rkey, keys["mlkem768"].public, policy=LEGACY_DECRYPT)
        assert e2ee_mail.decrypt(pq, keys["mlkem768"], policy=LEGACY_DECRYPT) == BODY
        back = e2ee_mail.rewrap(
            pq,
            keys["mlkem768"],
            [xkey.public, keys["mlkem1024"].public],
            policy=LEGACY_DECRYPT,
        )
        for key in (xkey, keys["mlkem1024"]):
            assert e2ee_mail.decrypt(back, key, policy=LEGACY_DECRYPT) == BODY
        to_x = e2ee_mail.rewrap(
            pq, keys["mlkem768"], xkey.public, policy=LEGACY_DECRYPT
        )
        if cipher == "aes-256-cbc":
            # RFC 5652 §6.1: 0 for RSA by issuerAndSerialNumber, 3 with an ori
            # entry, 2 for key agreement alone.
            assert _enveloped_version(bytes(ct)) == 0
            assert _enveloped_version(bytes(pq)) == 3
            assert _enveloped_version(bytes(to_x)) == 2
        else:
            for message in (ct, pq, to_x):
                assert _enveloped_version(bytes(message)) == 0


def test_smime_round_trip(keys: dict[str, kx.X509SecretKey]) -> None:
    msg = EmailMessage()
    msg["From"] = "alice@example.org"
    msg["To"] = "mlkem1024@example.org"
    msg["Subject"] = "quantum-safe"
    msg.set_content("hello\n")
    sealed = e2ee_mail.encrypt_message(msg, keys["mlkem1024"].public)
    opened = e2ee_mail.decrypt_message(sealed, keys["mlkem1024"])
    assert opened["Subject"] == "quantum-safe"
    assert opened.get_content() == "hello\n"


@pytest.mark.parametrize("kind", KINDS)
def test_independent_sender_with_ukm_opens(
    keys: dict[str, kx.X509SecretKey], kind: str
) -> None:
    key = keys[kind]
    info = _kemri(key.public, ukm=b"user keying material")
    assert e2ee_mail.decrypt(_message(info), key) == BODY


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("kdf", [oids.HKDF_SHA384, oids.HKDF_SHA512])
def test_hkdf_sha384_and_sha512_open(
    keys: dict[str, kx.X509SecretKey], kind: str, kdf: str
) -> None:
    # RFC 9936 §3 allows other KDFs; senders write HKDF-SHA512 (RFC 8619 §2).
    key = keys[kind]
    info = _kemri(key.public, kdf=AlgorithmIdentifier(kdf), ukm=b"u")
    assert e2ee_mail.decrypt(_message(info), key) == BODY
    (described,) = recipients.describe(info)
    assert described[2] == f"{kind}-{oids.name(kdf)}+aes256-wrap"


def test_aes192_wrap_opens_for_mlkem768(keys: dict[str, kx.X509SecretKey]) -> None:
    # RFC 9936 §3.1: ML-KEM-768 asks a 192-bit key-encryption strength.
    key = keys["mlkem768"]
    info = _kemri(key.public, wrap=oids.AES192_WRAP)
    assert e2ee_mail.decrypt(_message(info), key) == BODY


def test_wrong_key(keys: dict[str, kx.X509SecretKey]) -> None:
    ct = e2ee_mail.encrypt(BODY, keys["mlkem768"].public)
    stranger = keygen.generate("s@example.org", kind="mlkem768")
    # Named by its certificate, the entry is not ours.
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(ct, stranger)
    # Without a certificate the key is tried on the entry, and fails.
    bare = kx.X509SecretKey(stranger.private_key, None)
    with pytest.raises(e2ee_mail.DecryptionError):
        e2ee_mail.decrypt(ct, bare)
    # A key of the other parameter set is never tried on it.
    other = kx.X509SecretKey(keys["mlkem1024"].private_key, None)
    with pytest.raises(e2ee_mail.NoMatchingKeyError):
        e2ee_mail.decrypt(ct, other)


@pytest.mark.parametrize("field", ["kemct", "encrypted_key", "ukm"])
def test_altered_entry_is_a_decryption_error(
    keys: dict[str, kx.X509SecretKey], field: str
) -> None:
    key = keys["mlkem768"]
    info = _kemri(key.public, ukm=b"ukm")
    raw = bytearray(getattr(info, field))
    raw[len(raw) // 2] ^= 0x01
    altered = info.replace(**{field: bytes(raw)})  # type: ignore[arg-type]
    with pytest.raises(e2ee_mail.DecryptionError):
        e2ee_mail.decrypt(_message(altered), key)


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"kem": oids.ML_KEM_512}, e2ee_mail.UnsupportedError, "mlkem512"),
        ({"kem": oids.ML_KEM_1024}, e2ee_mail.UnsupportedError, "mlkem1024"),
        ({"kem": "1.2.3.4"}, e2ee_mail.UnsupportedError, "1.2.3.4"),
        (
            {"kdf": AlgorithmIdentifier(oids.SHA256)},
            e2ee_mail.UnsupportedError,
            "derivation",
        ),
        (
            {"kdf": AlgorithmIdentifier(oids.HKDF_SHA256, b"\x05\x00")},
            e2ee_mail.ASN1Error,
            "HKDF parameters must be absent",
        ),
        ({"wrap": oids.AES128_WRAP}, e2ee_mail.UnsupportedError, "aes128-wrap"),
        ({"kek_length": 16}, e2ee_mail.UnsupportedError, "kekLength 16"),
        ({"version": 2}, e2ee_mail.ASN1Error, "version must be 0"),
    ],
)
def test_outside_the_allowed_set_is_refused(
    keys: dict[str, kx.X509SecretKey],
    change: dict[str, object],
    error: type[Exception],
    match: str,
) -> None:
    key = keys["mlkem768"]
    info = _kemri(key.public, **change)  # type: ignore[arg-type]
    with pytest.raises(error, match=match):
        recipients.check_supported(info, key, DEFAULT)
    with pytest.raises(error):
        e2ee_mail.decrypt(_message(info), key)


def test_kem_parameters_and_short_ciphertext_are_refused(
    keys: dict[str, kx.X509SecretKey],
) -> None:
    key = keys["mlkem1024"]
    info = _kemri(key.public)
    with_params = info.replace(kem=AlgorithmIdentifier(oids.ML_KEM_1024, b"\x05\x00"))
    with pytest.raises(e2ee_mail.ASN1Error, match="absent"):
        recipients.check_supported(with_params, key, DEFAULT)
    short = info.replace(kemct=info.kemct[:-1])
    with pytest.raises(e2ee_mail.ASN1Error, match="wrong size"):
        recipients.check_supported(short, key, DEFAULT)


def test_the_rfc9629_kdf_input() -> None:
    # CMSORIforKEMOtherInfo, as RFC 9936's example writes it for aes128-wrap/16.
    info = asn1.serialize_kem_other_info(
        AlgorithmIdentifier(oids.AES128_WRAP), 16, None
    )
    assert info.hex().upper() == "3010300B0609608648016503040105020110"
    with_ukm = asn1.serialize_kem_other_info(
        AlgorithmIdentifier(oids.AES256_WRAP), 32, b"\x01\x02"
    )
    assert (
        with_ukm
        == bytes.fromhex("3016300b060960864801650304012d020120a0040402") + b"\x01\x02"
    )


# --- X.509: certificates and keys (RFC 9935) --------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_generated_certificate(keys: dict[str, kx.X509SecretKey], kind: str) -> None:
    cert = keys[kind].public
    assert isinstance(cert, kx.X509Certificate)
    parsed = cert.x509
    key_usage = parsed.extensions.get_extension_for_class(x509.KeyUsage)
    assert key_usage.critical
    # RFC 9935 §5: keyEncipherment, and nothing else.
    assert key_usage.value.key_encipherment
    assert not key_usage.value.digital_signature
    assert not key_usage.value.key_agreement
    assert not key_usage.value.key_cert_sign
    assert isinstance(parsed.signature_algorithm_oid, x509.ObjectIdentifier)
    assert parsed.public_key_algorithm_oid.dotted_string == kemri.KEM_OIDS[kind]
    assert cert.usage_refusal is None
    assert usage.signing_refusal(cert) == "its ML-KEM key cannot sign (RFC 9935 §5)"
    # The SPKI is the raw encapsulation key, with no parameters (RFC 9935 §3).
    spki = parsed.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    oid = asn1.der_oid(kemri.KEM_OIDS[kind])
    assert spki[4 : 4 + 2 + len(oid)] == asn1.der_tlv(0x30, oid)
    assert e2ee_mail.load_certificate(cert.export()) == cert


@pytest.mark.parametrize("kind", KINDS)
def test_pkcs8_seed_form_loads(keys: dict[str, kx.X509SecretKey], kind: str) -> None:
    key = keys[kind]
    plain = key.export(armor=False)
    # RFC 9935 §6: the seed CHOICE, [0] IMPLICIT OCTET STRING of 64 octets.
    assert b"\x80\x40" in plain[:40]
    loaded = e2ee_mail.load_key(plain)
    assert isinstance(loaded, kx.X509SecretKey)
    assert loaded.algorithm == kind
    protected = e2ee_mail.load_key(key.export(passphrase="pw"), passphrase="pw")
    assert protected.public == key.public
    ct = e2ee_mail.encrypt(BODY, key.public)
    assert e2ee_mail.decrypt(ct, loaded) == BODY


def _mlkem_cert(key_usage: x509.KeyUsage) -> kx.X509Certificate:
    private = mlkem.MLKEM768PrivateKey.generate()
    issuer = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ku")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(7)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(key_usage, critical=True)
        .sign(issuer, None)
    )
    return kx.X509Certificate(cert)


def test_key_usage_without_key_encipherment_is_refused() -> None:
    agreement = x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=True,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    cert = _mlkem_cert(agreement)
    assert cert.usage_refusal == (
        "its keyUsage does not allow keyEncipherment (RFC 9935 §5)"
    )
    with pytest.raises(e2ee_mail.PolicyError):
        e2ee_mail.encrypt(BODY, cert)


def test_openpgp_has_no_mlkem_kind() -> None:
    with pytest.raises(e2ee_mail.UsageError, match="x509 only"):
        e2ee_mail.generate_key("a@example.org", format="openpgp", kind="mlkem768")


@pytest.mark.parametrize("cipher", _CIPHERS)
def test_streams(
    keys: dict[str, kx.X509SecretKey], rkey: kx.X509SecretKey, cipher: Cipher
) -> None:
    key = keys["mlkem1024"]
    src = io.BytesIO()
    e2ee_mail.encrypt_stream(io.BytesIO(BODY), src, [rkey.public], cipher=cipher)
    # The stream re-key writes the new entries and copies the body through.
    rewrapped = io.BytesIO()
    e2ee_mail.rewrap_stream(
        io.BytesIO(src.getvalue()),
        rewrapped,
        rkey,
        key.public,
        policy=LEGACY_DECRYPT,
    )
    if cipher == "aes-256-cbc":
        assert _enveloped_version(rewrapped.getvalue()) == 3
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(
        io.BytesIO(rewrapped.getvalue()), out, key, policy=LEGACY_DECRYPT
    )
    assert out.getvalue() == BODY
    (described,) = e2ee_mail.inspect(io.BytesIO(rewrapped.getvalue())).recipients
    assert described.algorithm == "mlkem1024-hkdf-sha256+aes256-wrap"


def _both_form_case() -> tuple[bytes, bytes, bytes]:
    """(seed, expanded key, encapsulation key) of a Wycheproof key generation case
    shipped in the ML-KEM-768 vector file."""
    data = importlib.resources.files("e2ee_mail.vectors") / "data" / "core"
    doc = json.loads((data / "mlkem_768_wycheproof.json").read_text())
    case = next(
        c for g in doc["groups"] for c in g["cases"] if "expanded" in c["inputs"]
    )
    return (
        bytes.fromhex(case["inputs"]["seed"]),
        bytes.fromhex(case["inputs"]["expanded"]),
        bytes.fromhex(case["expected"]["public"]),
    )


def _pkcs8(inner: bytes) -> bytes:
    algorithm = asn1.der_tlv(0x30, asn1.der_oid(oids.ML_KEM_768))
    return asn1.der_tlv(0x30, asn1.der_int(0) + algorithm + asn1.der_tlv(0x04, inner))


def test_pkcs8_both_form_is_checked_against_its_seed() -> None:
    seed, expanded, public = _both_form_case()

    def both(dk: bytes) -> bytes:
        return _pkcs8(
            asn1.der_tlv(0x30, asn1.der_tlv(0x04, seed) + asn1.der_tlv(0x04, dk))
        )

    key = e2ee_mail.load_key(both(expanded))
    assert isinstance(key, kx.X509SecretKey)
    raw = key.private_key.public_key().public_bytes_raw()  # type: ignore[union-attr]
    assert raw == public
    # The encapsulation key, H(ek) and z inside the expanded key are checked.
    for at in (1152 + 7, len(expanded) - 40, len(expanded) - 1):
        altered = bytearray(expanded)
        altered[at] ^= 0x01
        with pytest.raises(e2ee_mail.KeyLoadError, match="does not match its seed"):
            e2ee_mail.load_key(both(bytes(altered)))
    # The expandedKey form alone has no seed: `cryptography` cannot load it.
    with pytest.raises(e2ee_mail.KeyLoadError):
        e2ee_mail.load_key(_pkcs8(asn1.der_tlv(0x04, expanded)))
