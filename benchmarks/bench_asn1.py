"""The per-message cost of reading and writing the CMS recipient side.

The general (reference) reader, ``cms/reference.py``, against the door every message
goes through, ``cms/asn1.parse_recipient_infos`` (the strict DER fast path of
``cms/der.py`` first), and the hand-written DER writer against the ASN.1 libraries'
encoders, on RecipientInfos of 1, 10 and 100 entries of mixed kinds: KTRI RSA-OAEP,
KTRI RSA PKCS#1 v1.5 (the legacy EnvelopedData shape), KARI X25519 (RFC 8418), KARI
ECDH P-256 (RFC 5753), KEMRI ML-KEM-768 (RFC 9629, RFC 9936). The ``declined`` sets
carry one PasswordRecipientInfo more, which the fast path does not read: that entry
goes to the general reader, as any entry of a shape the fast path does not know
(the whole set does when the SET itself is not plain DER). The whole message is
framed too (``cms/common.frame``), as AuthEnvelopedData and as legacy EnvelopedData.

No cryptography runs: the keys and ciphertexts are random octets of the right sizes.

Case ids (all ``info.*``, printed by report.py under Investigations):
``info.asn1.parse.{door|reference}.{fast|declined}.{n}``,
``info.asn1.build.{hand|reference|pyasn1|asn1crypto}.{n}``,
``info.asn1.frame.{auth|legacy}.{fast|declined}.{n}``, ``info.asn1.oaep.reference``.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from _bench import Measure

from e2ee_mail.cms import asn1, common, oids, reference, structures
from e2ee_mail.policy import DEFAULT, LEGACY_DECRYPT

COUNTS = (1, 10, 100)
_ISSUER = asn1.der_tlv(
    0x30,
    asn1.der_tlv(
        0x31,
        asn1.der_tlv(
            0x30, asn1.der_oid("2.5.4.3") + asn1.der_tlv(0x0C, b"Bench recipient")
        ),
    ),
)
_OAEP = structures.AlgorithmIdentifier(
    oids.RSAES_OAEP,
    asn1.serialize_oaep_parameters(structures.OAEPParameters("sha256", "sha256", b"")),
)
_WRAP = asn1.serialize_algorithm_identifier(
    structures.AlgorithmIdentifier(oids.AES256_WRAP)
)
_P256 = asn1.der_oid(oids.SECP256R1)
#: pwri [3] IMPLICIT PasswordRecipientInfo (RFC 5652 §6.2.4): version 0, id-PBKDF2
#: under [0], PWRI-KEK wrap with AES-256-CBC, an encrypted key.
_PWRI = asn1.der_tlv(
    0xA3,
    asn1.der_int(0)
    + asn1.der_tlv(
        0xA0,
        asn1.der_oid("1.2.840.113549.1.5.12")
        + asn1.der_tlv(0x30, asn1.der_tlv(0x04, bytes(16)) + asn1.der_int(600_000)),
    )
    + asn1.der_tlv(
        0x30,
        asn1.der_oid("1.2.840.113549.1.9.16.3.9")
        + asn1.der_tlv(
            0x30, asn1.der_oid(oids.AES256_CBC) + asn1.der_tlv(0x04, bytes(16))
        ),
    )
    + asn1.der_tlv(0x04, bytes(48)),
)


def _rid(i: int) -> structures.RecipientId:
    if i % 2:
        return structures.RecipientId(subject_key_identifier=i.to_bytes(20, "big"))
    return structures.RecipientId(issuer=_ISSUER, serial_number=0x1000 + i)


def _entry(i: int) -> structures.RecipientInfo:
    rid = _rid(i)
    kind = i % 5
    if kind == 0:
        return structures.KeyTransRecipientInfo(
            2 if rid.subject_key_identifier else 0, rid, _OAEP, os.urandom(384)
        )
    if kind == 1:
        return structures.KeyTransRecipientInfo(
            2 if rid.subject_key_identifier else 0,
            rid,
            structures.AlgorithmIdentifier(oids.RSA_ENCRYPTION, b"\x05\x00"),
            os.urandom(384),
        )
    if kind in (2, 3):
        x25519 = kind == 2
        return structures.KeyAgreeRecipientInfo(
            3,
            structures.AlgorithmIdentifier(
                oids.X25519 if x25519 else oids.EC_PUBLIC_KEY, None if x25519 else _P256
            ),
            os.urandom(32) if x25519 else b"\x04" + os.urandom(64),
            os.urandom(16) if x25519 else None,
            structures.AlgorithmIdentifier(
                oids.DH_SINGLE_PASS_STDDH_HKDF_SHA256
                if x25519
                else oids.DH_SINGLE_PASS_STDDH_SHA256KDF,
                _WRAP,
            ),
            (structures.RecipientEncryptedKey(rid, os.urandom(40)),),
        )
    return structures.KEMRecipientInfo(
        version=0,
        rid=rid,
        kem=structures.AlgorithmIdentifier(oids.ML_KEM_768),
        kemct=os.urandom(1088),
        kdf=structures.AlgorithmIdentifier(oids.HKDF_SHA256),
        kek_length=32,
        ukm=None,
        wrap=structures.AlgorithmIdentifier(oids.AES256_WRAP),
        encrypted_key=os.urandom(40),
    )


_SETS: dict[tuple[str, int], tuple[list[structures.RecipientInfo], bytes]] = {}


def _recipients(shape: str, n: int) -> tuple[list[structures.RecipientInfo], bytes]:
    """The entries and the RecipientInfos DER of one case (made once)."""
    if (shape, n) not in _SETS:
        entries = [_entry(i) for i in range(n)]
        ders = [asn1.serialize_recipient_info(e) for e in entries]
        if shape == "declined":
            ders.append(_PWRI)
        _SETS[shape, n] = (entries, asn1.set_of(ders))
    return _SETS[shape, n]


def _message(kind: str, ris: bytes) -> bytes:
    """A whole ContentInfo around ``ris`` with a 1 KiB body (DER)."""
    body = asn1.der_tlv(0x80, os.urandom(1024))
    if kind == "auth":
        alg = asn1.serialize_algorithm_identifier(
            structures.AlgorithmIdentifier(
                oids.AES256_GCM,
                asn1.serialize_gcm_parameters(
                    structures.GCMParameters(os.urandom(12), 16)
                ),
            )
        )
        eci = asn1.der_tlv(0x30, asn1.der_oid(oids.DATA) + alg + body)
        inner = asn1.der_int(0) + ris + eci + asn1.der_tlv(0x04, os.urandom(16))
        content_type = oids.AUTH_ENVELOPED_DATA
    else:
        alg = asn1.serialize_algorithm_identifier(
            structures.AlgorithmIdentifier(
                oids.AES256_CBC, asn1.der_tlv(0x04, os.urandom(16))
            )
        )
        eci = asn1.der_tlv(0x30, asn1.der_oid(oids.DATA) + alg + body)
        inner = asn1.der_int(2) + ris + eci
        content_type = oids.ENVELOPED_DATA
    return asn1.der_tlv(
        0x30,
        asn1.der_oid(content_type) + asn1.der_tlv(0xA0, asn1.der_tlv(0x30, inner)),
    )


@pytest.mark.parametrize("n", COUNTS)
@pytest.mark.parametrize("shape", ["fast", "declined"])
@pytest.mark.parametrize("reader", ["door", "reference"])
def test_parse(measure: Measure, reader: str, shape: str, n: int) -> None:
    entries, der = _recipients(shape, n)
    if reader == "door":

        def run() -> object:
            return asn1.parse_recipient_infos(der, max_recipients=1000)

    else:

        def run() -> object:
            return reference.recipient_infos(der, 1000)

    got = measure(
        run,
        case=f"info.asn1.parse.{reader}.{shape}.{n}",
        group=f"asn1-parse-{n}",
        nbytes=len(der),
        recipients=n,
    )
    known = [e for e in got if not isinstance(e, structures.OtherRecipientInfo)]  # type: ignore[attr-defined]
    assert sorted(known, key=repr) == sorted(entries, key=repr)


def _pyasn1_tree(der: bytes) -> Any:
    from pyasn1.codec.der import decoder
    from pyasn1_alt_modules import rfc5652, rfc9629  # noqa: F401 (the ORI map)

    tree, rest = decoder.decode(der, asn1Spec=rfc5652.RecipientInfos())
    assert not rest
    return tree


def _asn1crypto_tree(der: bytes) -> Any:
    from asn1crypto import cms

    tree = cms.RecipientInfos.load(der)
    tree.dump(force=True)  # parsed all the way down: only the encoding is timed
    return tree


@pytest.mark.parametrize("n", COUNTS)
@pytest.mark.parametrize("writer", ["hand", "reference", "pyasn1", "asn1crypto"])
def test_build(measure: Measure, writer: str, n: int) -> None:
    """Entries to RecipientInfos DER: by hand from the values (what the library
    does), by the reference writer from the values where there is one, and by the
    libraries' encoders from their own parsed trees (encoding alone)."""
    entries, der = _recipients("fast", n)
    if writer == "hand":

        def run() -> bytes:
            return asn1.serialize_recipient_infos(entries)

    elif writer == "reference":
        encode = getattr(reference, "encode_recipient_infos", None)
        if encode is None:
            pytest.skip("this tree's reference.py has no writer")

        def run() -> bytes:
            return encode(entries)  # type: ignore[no-any-return]

    elif writer == "pyasn1":
        from pyasn1.codec.der import encoder

        tree = _pyasn1_tree(der)

        def run() -> bytes:
            return encoder.encode(tree)  # type: ignore[no-any-return]

    else:
        tree = _asn1crypto_tree(der)

        def run() -> bytes:
            return tree.dump(force=True)  # type: ignore[no-any-return]

    out = measure(
        run,
        case=f"info.asn1.build.{writer}.{n}",
        group=f"asn1-build-{n}",
        nbytes=len(der),
        recipients=n,
    )
    assert out == der


@pytest.mark.parametrize("n", COUNTS)
@pytest.mark.parametrize("shape", ["fast", "declined"])
@pytest.mark.parametrize("kind", ["auth", "legacy"])
def test_frame(measure: Measure, kind: str, shape: str, n: int) -> None:
    _, ris = _recipients(shape, n)
    message = _message(kind, ris)
    policy = DEFAULT if kind == "auth" else LEGACY_DECRYPT
    header = measure(
        lambda: common.frame(message, policy)[0],
        case=f"info.asn1.frame.{kind}.{shape}.{n}",
        group=f"asn1-frame-{n}",
        nbytes=len(message),
        recipients=n,
    )
    assert len(header.recipient_infos) == n + (shape == "declined")


def test_oaep_parameters(measure: Measure) -> None:
    params = _OAEP.parameters
    got = measure(
        lambda: reference.oaep_parameters(params),
        case="info.asn1.oaep.reference",
        group="asn1-oaep",
        nbytes=len(params or b""),
    )
    assert got.hash_name == "sha256"
