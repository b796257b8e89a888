"""cms/der.py: the DER fast path reads what the general reader (reference.py,
pyasn1) reads, or declines.

Every input the fast path accepts must come out of the pyasn1 path (the
reference) as the same value; everything else must be declined (None), never an
exception. Checked on real recipient entries of every kind we write, on entries with
ukm / rKeyId / PKCS#1 v1.5, and on every single-byte mutation and truncation of them.
"""

from __future__ import annotations

import pytest
from ec_keys import ec_key
from hypothesis import given
from hypothesis import strategies as st

from e2ee_mail.cms import asn1, der, oids, reference, structures, templates
from e2ee_mail.errors import ASN1Error
from e2ee_mail.policy import DEFAULT, Policy
from e2ee_mail.x509 import certs as kx
from e2ee_mail.x509 import keygen as x509_keygen

CEK = bytes(range(32))


def _wrap(
    cert: kx.X509Certificate,
    policy: Policy = DEFAULT,
    rid_kind: templates.RidKind = "issuer_and_serial_number",
) -> structures.RecipientInfo:
    """The entry templates.wrap_der writes for ``cert``, read back."""
    der = templates.wrap_der(cert, CEK, policy=policy, rid_kind=rid_kind)
    (info,) = reference.recipient_infos(asn1.set_of([der]), 1)
    return info


@pytest.fixture(scope="module")
def samples() -> list[bytes]:
    x = x509_keygen.generate("Xavier <x@example.org>", kind="x25519")
    r = x509_keygen.generate("Rita <r@example.org>", kind="rsa3072")
    pkcs1 = Policy(allow_rsa_pkcs1v15_encrypt=True)
    infos = [
        _wrap(x.public),
        _wrap(x.public, rid_kind="subject_key_identifier"),
        _wrap(r.public),
        _wrap(r.public, rid_kind="subject_key_identifier"),
        _wrap(r.public, policy=pkcs1),
    ]
    kari = infos[0]
    assert isinstance(kari, structures.KeyAgreeRecipientInfo)
    with_ukm = structures.KeyAgreeRecipientInfo(
        kari.version,
        kari.originator_algorithm,
        kari.originator_public_key,
        b"user keying material",
        structures.AlgorithmIdentifier(
            oids.DH_SINGLE_PASS_STDDH_HKDF_SHA256,
            kari.key_encryption_algorithm.parameters,
        ),
        (*kari.recipient_encrypted_keys, *infos[1].recipient_encrypted_keys),  # type: ignore[union-attr]
    )
    ec_entry = _wrap(ec_key("p256").public)
    assert isinstance(ec_entry, structures.KeyAgreeRecipientInfo)
    # RFC 5753 §3.1.1 also allows the named curve as the originator's parameters.
    ec_named = ec_entry.replace(
        originator_algorithm=structures.AlgorithmIdentifier(
            oids.EC_PUBLIC_KEY, asn1.der_oid(oids.SECP256R1)
        ),
    )
    infos += [ec_entry, ec_named, _wrap(ec_key("p521").public)]
    out = [asn1.serialize_recipient_infos([info]) for info in infos]
    out.append(asn1.serialize_recipient_infos([with_ukm]))
    out.append(asn1.serialize_recipient_infos(infos))
    return out


def _reference(data: bytes) -> tuple[structures.RecipientInfo, ...] | Exception:
    try:
        return reference.recipient_infos(data, 1000)
    except Exception as exc:
        return exc


def _check_agrees(data: bytes) -> bool:
    fast = der.recipient_infos(data, max_recipients=1000)
    if fast is None:
        return False
    assert _reference(data) == fast
    return True


def test_fast_path_reads_every_entry_we_write(samples: list[bytes]) -> None:
    for data in samples:
        assert _check_agrees(data)


def test_parse_recipient_infos_gives_the_reference_value(samples: list[bytes]) -> None:
    for data in samples:
        assert asn1.parse_recipient_infos(data, max_recipients=10) == _reference(data)


def test_every_single_byte_mutation_agrees_or_is_declined(samples: list[bytes]) -> None:
    accepted = declined = 0
    for data in samples[:-1]:  # the combined sample repeats the others
        for i in range(len(data)):
            for value in {0x00, 0xFF, data[i] ^ 0x01, data[i] ^ 0x80, data[i] ^ 0x20}:
                mutated = data[:i] + bytes((value,)) + data[i + 1 :]
                if _check_agrees(mutated):
                    accepted += 1
                else:
                    declined += 1
    # Both outcomes occur: mutations inside values pass, framing damage is declined.
    assert accepted and declined


def test_truncations_and_extensions_are_declined(samples: list[bytes]) -> None:
    data = samples[0]
    for cut in range(len(data)):
        assert der.recipient_infos(data[:cut], max_recipients=10) is None
    assert der.recipient_infos(data + b"\x00", max_recipients=10) is None


def test_recipient_limit_is_left_to_the_reference_path(samples: list[bytes]) -> None:
    data = samples[-1]
    assert der.recipient_infos(data, max_recipients=2) is None
    with pytest.raises(ASN1Error, match="policy limit"):
        asn1.parse_recipient_infos(data, max_recipients=2)


@given(st.data())
def test_random_mutations_agree_or_are_declined(data: st.DataObject) -> None:
    base = data.draw(st.sampled_from(range(6)))
    blobs = _SAMPLES_CACHE or _fill_cache()
    blob = bytearray(blobs[base])
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(blob) - 1))
        blob[i] = data.draw(st.integers(0, 255))
    _check_agrees(bytes(blob))


_SAMPLES_CACHE: list[bytes] = []


def _fill_cache() -> list[bytes]:
    x = x509_keygen.generate("Hyp <h@example.org>", kind="x25519")
    for kind in ("issuer_and_serial_number", "subject_key_identifier"):
        der = templates.wrap_der(x.public, CEK, policy=DEFAULT, rid_kind=kind)  # type: ignore[arg-type]
        _SAMPLES_CACHE.append(asn1.set_of([der]))
    _SAMPLES_CACHE.extend(_SAMPLES_CACHE * 2)
    return _SAMPLES_CACHE


@pytest.mark.parametrize(
    "alg",
    [
        structures.AlgorithmIdentifier(oids.AES256_WRAP),
        structures.AlgorithmIdentifier(oids.RSA_ENCRYPTION, b"\x05\x00"),
        structures.AlgorithmIdentifier(
            oids.AES256_GCM,
            asn1.serialize_gcm_parameters(structures.GCMParameters(b"\x07" * 12, 16)),
        ),
    ],
)
def test_algorithm_identifier_agrees_with_reference(
    alg: structures.AlgorithmIdentifier,
) -> None:
    data = asn1.serialize_algorithm_identifier(alg)
    assert der.algorithm_identifier(data) == alg
    assert reference.algorithm_identifier(data) == alg
    for i in range(len(data)):
        for value in (0x00, 0xFF, data[i] ^ 0x80):
            mutated = data[:i] + bytes((value,)) + data[i + 1 :]
            fast = der.algorithm_identifier(mutated)
            if fast is not None:
                assert reference.algorithm_identifier(mutated) == fast


@pytest.mark.parametrize(
    "hex_der",
    [
        "3011040c000102030405060708090a0b020110",  # nonce 12, ICVlen 16
        "300e040c000102030405060708090a0b",  # ICVlen absent: DEFAULT 12
        "3011040c000102030405060708090a0b02010c",
        "3012040c000102030405060708090a0b02020010",  # non-minimal: declined
        "3011240c000102030405060708090a0b020110",  # constructed: declined
    ],
)
def test_gcm_parameters_agree_or_are_declined(hex_der: str) -> None:
    data = bytes.fromhex(hex_der)
    fast = der.gcm_parameters(data)
    try:
        expected: object = reference.gcm_parameters(data)
    except ASN1Error as exc:
        expected = exc
    if fast is not None:
        assert fast == expected
    if isinstance(expected, Exception):
        with pytest.raises(ASN1Error):
            asn1.parse_gcm_parameters(data)
    else:
        assert asn1.parse_gcm_parameters(data) == expected


def test_x25519_originator_shortcut_matches_what_we_write(samples: list[bytes]) -> None:
    # Our own KARI carries exactly the originator bytes the shortcut compares.
    assert der._X25519_ORIGINATOR in samples[0]
    assert der._X25519_ORIGINATOR in samples[1]
