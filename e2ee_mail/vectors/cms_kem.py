"""Vector runners for ML-KEM in CMS: kinds ``core-mlkem`` (Wycheproof ML-KEM-768 and
ML-KEM-1024 decapsulation) and ``cms-rfc9936`` (the example message of RFC 9936
Appendix C). Imported by :mod:`.loader` on first use.

``core-mlkem`` goes the way an ML-KEM recipient goes: the seed becomes a PKCS#8
private key in the seed form of RFC 9935 §6 and is loaded by the X.509 key loader,
the ciphertext is put into a KEMRecipientInfo and checked from public data
(cms/kemri.py, which refuses a ciphertext of the wrong size), then decapsulated.
Key generation cases load the seed with its expanded key, the "both" form, which
x509/pkcs8.py reads and checks.

``cms-rfc9936``: the example is encrypted to an ML-KEM-512 key, which `cryptography`
does not implement, so the runner starts from the shared secret the RFC publishes
and runs everything after the decapsulation through the code that ships: the
message's framing and its KEMRecipientInfo as the decrypter reads them, the
CMSORIforKEMOtherInfo, HKDF, the AES key unwrap and the AES-GCM content decryption.
"""

from __future__ import annotations

from ..cms import asn1, common, kemri, oids
from ..cms.structures import AlgorithmIdentifier, KEMRecipientInfo, RecipientId
from ..core import aead, kem, keywrap
from ..policy import Policy
from ..x509 import certs as x509
from .case import Case, Mismatch, expect_equal
from .core_mlkem import expect_outputs

__all__: list[str] = []

#: Wycheproof's parameterSet names.
_PARAMETER_SETS = {"ML-KEM-768": oids.ML_KEM_768, "ML-KEM-1024": oids.ML_KEM_1024}


def _pkcs8(oid: str, seed: bytes, expanded: bytes | None) -> bytes:
    """PrivateKeyInfo (RFC 5958): version 0, the id-alg-ml-kem AlgorithmIdentifier,
    and the privateKey OCTET STRING holding the seed CHOICE, [0] IMPLICIT OCTET
    STRING, or the both CHOICE, SEQUENCE { seed, expandedKey } (RFC 9935 §6)."""
    seed_choice = asn1.der_tlv(0x80, seed)
    if expanded is not None:
        seed_choice = asn1.der_tlv(
            0x30, asn1.der_tlv(0x04, seed) + asn1.der_tlv(0x04, expanded)
        )
    algorithm = asn1.der_tlv(0x30, asn1.der_oid(oid))
    return asn1.der_tlv(
        0x30, asn1.der_int(0) + algorithm + asn1.der_tlv(0x04, seed_choice)
    )


def run_mlkem(case: Case, policy: Policy) -> None:
    oid = _PARAMETER_SETS[case.text("parameter_set")]
    expanded = case.hex("expanded") if "expanded" in case.inputs else None
    key = x509.load_key(_pkcs8(oid, case.hex("seed"), expanded), None)
    private = key.private_key
    if kemri.KEM_OIDS.get(key.algorithm) != oid or not isinstance(
        private, kem.PrivateKey
    ):
        raise Mismatch(f"the seed loaded as a {key.algorithm} key")
    info = KEMRecipientInfo(
        version=0,
        rid=RecipientId(subject_key_identifier=b"\x00"),
        kem=AlgorithmIdentifier(oid),
        kemct=case.hex("ciphertext") if "ciphertext" in case.inputs else b"",
        kdf=AlgorithmIdentifier(oids.HKDF_SHA256),
        kek_length=32,
        ukm=None,
        wrap=AlgorithmIdentifier(oids.AES256_WRAP),
        encrypted_key=b"",
    )
    shared = None
    if "ciphertext" in case.inputs:
        kemri.check_supported(info, key)
        shared = kemri.decapsulate(key, info.kemct)
    expect_outputs(
        case,
        private.public_key().public_bytes_raw(),
        shared,
        key_field="public",
        shared_field="shared",
    )


def _published(case: Case, name: str, got: bytes, what: str) -> None:
    """Compare an intermediate value with the published one (valid cases; an
    invalid case is expected to fail further on)."""
    if case.expected:
        expect_equal(got.hex(), case.expected.get(name), what)


def run_rfc9936(case: Case, policy: Policy) -> None:
    der = case.message()
    header, params, segments, trailer = common.frame(der, policy)
    (info,) = header.recipient_infos
    if not isinstance(info, KEMRecipientInfo):
        raise Mismatch(f"the entry was read as {type(info).__name__}")
    expect_equal(info.version, 0, "KEMRecipientInfo version")
    expect_equal(
        info.rid.subject_key_identifier, case.hex("key_id"), "subjectKeyIdentifier"
    )
    expect_equal(info.kem, AlgorithmIdentifier(oids.ML_KEM_512), "kem")
    expect_equal(info.kdf, AlgorithmIdentifier(oids.HKDF_SHA256), "kdf")
    expect_equal(len(info.kemct), 768, "ML-KEM-512 ciphertext size")
    other = asn1.serialize_kem_other_info(info.wrap, info.kek_length, info.ukm)
    _published(case, "kdf_info", other, "CMSORIforKEMOtherInfo")
    kek = kemri.derive_kek(
        case.hex("shared"), info.kdf.algorithm, info.wrap, info.kek_length, info.ukm
    )
    _published(case, "kek", kek, "key-encryption key")
    cek = keywrap.unwrap(kek, info.encrypted_key)
    _published(case, "cek", cek, "content-encryption key")
    authenticated, nonce, size, _ = params
    if not authenticated or size != len(cek) or trailer.mac is None:
        raise Mismatch("expected AuthEnvelopedData with an AES-GCM key of that size")
    view = memoryview(der)
    sealed = b"".join([*(view[o : o + n] for o, n in segments), trailer.mac])
    out = bytearray(len(sealed) - len(trailer.mac))
    aead.gcm_open_into(
        cek, nonce, sealed, memoryview(out), common.aad(trailer.auth_attrs)
    )
    expect_equal(bytes(out).hex(), case.expected.get("plaintext"), "plaintext")
