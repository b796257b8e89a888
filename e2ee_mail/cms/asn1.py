"""Reading and writing the CMS recipient-side structures.

The structures of RFC 5652 §6.2 (RecipientInfo: KeyTransRecipientInfo §6.2.1,
KeyAgreeRecipientInfo §6.2.2, and RFC 9629's KEMRecipientInfo §3 with its KDF input
CMSORIforKEMOtherInfo §5), AlgorithmIdentifier, RSAES-OAEP-params (RFC 8017 App.
C), GCMParameters (RFC 5084 §3.2) and ECC-CMS-SharedInfo (RFC 5753 §7.2, used by
RFC 8418 §2.2), as the values of structures.py.

``parse_*`` reads plain DER on the fast path (der.py) and everything else with the
general reader (reference.py, pyasn1 with the RFC modules of pyasn1-alt-modules);
both give the same value, and every malformed input is an ASN1Error. ``serialize_*``
and ``der_*`` write DER directly: the structures are small and fixed, building them
by hand keeps parameters exactly as the RFCs require (absent, not NULL, for AES key
wrap, RFC 3565 §2.3.2), and it costs about a fortieth of pyasn1 building them
(benchmarks/bench_asn1.py); reference.encode_recipient_infos, the same values
written by pyasn1, is what the tests hold these writers to.

A codec: it never encrypts, draws randomness or opens files.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import cast

from ..errors import ASN1Error
from . import der as fast_path
from . import oids, reference, structures

__all__ = [
    "der_int",
    "der_length",
    "der_oid",
    "der_tlv",
    "parse_algorithm_identifier",
    "parse_gcm_parameters",
    "parse_oaep_parameters",
    "parse_recipient_infos",
    "serialize_algorithm_identifier",
    "serialize_ecc_cms_shared_info",
    "serialize_gcm_parameters",
    "serialize_kem_other_info",
    "serialize_kem_recipient_info",
    "serialize_oaep_parameters",
    "serialize_recipient_info",
    "serialize_recipient_infos",
    "serialize_rid",
    "set_of",
]

# --- DER encoding (X.690 §10) -----------------------------------------------------


def der_length(n: int) -> bytes:
    """Definite length octets, minimal (X.690 §10.1)."""
    if n < 0x80:
        return bytes((n,))
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(raw),)) + raw


def der_tlv(tag: int, content: bytes) -> bytes:
    """One element: single-octet tag, definite length, content."""
    return bytes((tag,)) + der_length(len(content)) + content


def der_int(n: int) -> bytes:
    """INTEGER (two's complement, minimal)."""
    # The magnitude's bits plus a sign bit; for a negative n that is ~n's bits, so
    # that -128 is one octet (X.690 §8.3.2), not two.
    size = ((n if n >= 0 else ~n).bit_length() + 8) // 8
    raw = n.to_bytes(size, "big", signed=True)
    return der_tlv(0x02, raw)


@functools.lru_cache(maxsize=256)
def der_oid(dotted: str) -> bytes:
    """OBJECT IDENTIFIER from its dotted form.

    Cached: the same handful of OIDs is encoded for every message and recipient, at
    ~30 µs each uncached. Errors are not cached, and the result is bytes.
    """
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return der_tlv(0x06, bytes(out))


def _seq(*parts: bytes) -> bytes:
    return der_tlv(0x30, b"".join(parts))


def set_of(elements: Iterable[bytes]) -> bytes:
    """A SET OF from the DER of its elements, sorted by their encodings (X.690
    §11.6)."""
    return der_tlv(0x31, b"".join(sorted(elements)))


# --- Parsing: the DER fast path first, the general reader for the rest -------------


def parse_recipient_infos(
    der: bytes, *, max_recipients: int
) -> tuple[structures.RecipientInfo, ...]:
    """Parse a RecipientInfos SET (RFC 5652 §6.1).

    Raises:
        ASN1Error: malformed, or more than ``max_recipients`` entries.
    """
    entries = fast_path.recipient_entries(der, max_recipients=max_recipients)
    if entries is None:
        return reference.recipient_infos(der, max_recipients)
    declined = [entry for entry in entries if isinstance(entry, bytes)]
    if not declined:
        return cast("tuple[structures.RecipientInfo, ...]", entries)
    # Only the entries the fast path declined go to the general reader (pyasn1 reads
    # an entry about forty times slower), as one SET in their order.
    general = iter(
        reference.recipient_infos(der_tlv(0x31, b"".join(declined)), max_recipients)
    )
    return tuple(
        next(general) if isinstance(entry, bytes) else entry for entry in entries
    )


def parse_algorithm_identifier(der: bytes) -> structures.AlgorithmIdentifier:
    """Parse one AlgorithmIdentifier (parameters as raw DER)."""
    plain = fast_path.algorithm_identifier(der)
    if plain is not None:
        return plain
    return reference.algorithm_identifier(der)


def parse_gcm_parameters(der: bytes | None) -> structures.GCMParameters:
    """Parse GCMParameters; an absent aes-ICVlen means its DEFAULT 12 (RFC 5084)."""
    if der is None:
        raise ASN1Error("AES-GCM parameters are missing (RFC 5084 §3.2)")
    plain = fast_path.gcm_parameters(der)
    if plain is not None:
        return plain
    return reference.gcm_parameters(der)


def parse_oaep_parameters(der: bytes | None) -> structures.OAEPParameters:
    """Parse RSAES-OAEP-params; absent fields take their SHA-1 defaults."""
    if der is not None:
        plain = fast_path.oaep_parameters(der)
        if plain is not None:
            return plain
    return reference.oaep_parameters(der)


# --- Serialization (DER) ----------------------------------------------------------
# The pure encoders of values repeated across messages and recipients (algorithm
# identifiers, OAEP parameters, shared info, recipient ids) are memoized: their
# arguments are frozen values and their results immutable bytes, and building them
# again is a measurable part of the per-message and per-recipient cost.


@functools.lru_cache(maxsize=1024)
def serialize_algorithm_identifier(alg: structures.AlgorithmIdentifier) -> bytes:
    """AlgorithmIdentifier DER."""
    return _seq(der_oid(alg.algorithm), alg.parameters or b"")


def serialize_gcm_parameters(params: structures.GCMParameters) -> bytes:
    """GCMParameters DER. aes-ICVlen is always written: 16 differs from DEFAULT 12."""
    return _seq(der_tlv(0x04, params.nonce), der_int(params.icv_len))


@functools.lru_cache(maxsize=1024)
def serialize_oaep_parameters(params: structures.OAEPParameters) -> bytes:
    """RSAES-OAEP-params DER for SHA-2 (RFC 4055 §4.1: hash parameters absent)."""
    reverse = {v: k for k, v in oids.HASH_NAMES.items()}
    hash_alg = _seq(der_oid(reverse[params.hash_name]))
    mgf_alg = _seq(der_oid(oids.MGF1), _seq(der_oid(reverse[params.mgf_hash_name])))
    parts = [der_tlv(0xA0, hash_alg), der_tlv(0xA1, mgf_alg)]
    if params.label:
        source = _seq(der_oid(oids.P_SPECIFIED), der_tlv(0x04, params.label))
        parts.append(der_tlv(0xA2, source))
    return _seq(*parts)


@functools.lru_cache(maxsize=1024)
def serialize_ecc_cms_shared_info(
    wrap_algorithm: str, ukm: bytes | None, kek_bits: int
) -> bytes:
    """ECC-CMS-SharedInfo (RFC 5753 §7.2): the KDF's shared info / HKDF info."""
    parts = [_seq(der_oid(wrap_algorithm))]
    if ukm is not None:
        parts.append(der_tlv(0xA0, der_tlv(0x04, ukm)))
    parts.append(der_tlv(0xA2, der_tlv(0x04, kek_bits.to_bytes(4, "big"))))
    return _seq(*parts)


@functools.lru_cache(maxsize=1024)
def serialize_kem_other_info(
    wrap: structures.AlgorithmIdentifier, kek_length: int, ukm: bytes | None
) -> bytes:
    """CMSORIforKEMOtherInfo (RFC 9629 §5): the KDF's info for a KEMRecipientInfo."""
    parts = [serialize_algorithm_identifier(wrap), der_int(kek_length)]
    if ukm is not None:
        parts.append(der_tlv(0xA0, der_tlv(0x04, ukm)))
    return _seq(*parts)


@functools.lru_cache(maxsize=1024)
def serialize_rid(rid: structures.RecipientId, *, kari: bool) -> bytes:
    """RecipientIdentifier (KTRI) or KeyAgreeRecipientIdentifier (KARI) DER."""
    if rid.subject_key_identifier is not None:
        if kari:
            # rKeyId [0] IMPLICIT RecipientKeyIdentifier (RFC 5652 §6.2.2).
            return der_tlv(0xA0, der_tlv(0x04, rid.subject_key_identifier))
        return der_tlv(0x80, rid.subject_key_identifier)
    if rid.issuer is None or rid.serial_number is None:
        raise ValueError("RecipientId needs issuer+serial or a subjectKeyIdentifier")
    return _seq(rid.issuer, der_int(rid.serial_number))


def serialize_recipient_info(info: structures.RecipientInfo) -> bytes:
    """One RecipientInfo (an element of RecipientInfos), DER."""
    if isinstance(info, structures.KeyTransRecipientInfo):
        return _seq(
            der_int(info.version),
            serialize_rid(info.rid, kari=False),
            serialize_algorithm_identifier(info.key_encryption_algorithm),
            der_tlv(0x04, info.encrypted_key),
        )
    if isinstance(info, structures.KeyAgreeRecipientInfo):
        spki_content = serialize_algorithm_identifier(
            info.originator_algorithm
        ) + der_tlv(0x03, b"\x00" + info.originator_public_key)
        # originator [0] EXPLICIT OriginatorIdentifierOrKey, whose originatorKey is
        # [1] IMPLICIT OriginatorPublicKey (RFC 5652 §6.2.2).
        originator = der_tlv(0xA0, der_tlv(0xA1, spki_content))
        parts = [der_int(info.version), originator]
        if info.ukm is not None:
            parts.append(der_tlv(0xA1, der_tlv(0x04, info.ukm)))
        parts.append(serialize_algorithm_identifier(info.key_encryption_algorithm))
        reks = [
            _seq(serialize_rid(rek.rid, kari=True), der_tlv(0x04, rek.encrypted_key))
            for rek in info.recipient_encrypted_keys
        ]
        parts.append(_seq(*reks))
        # [1] IMPLICIT KeyAgreeRecipientInfo inside the RecipientInfo CHOICE.
        return der_tlv(0xA1, b"".join(parts))
    if isinstance(info, structures.KEMRecipientInfo):
        return serialize_kem_recipient_info(info)
    raise ValueError(f"cannot serialize {info.kind}")


def serialize_kem_recipient_info(info: structures.KEMRecipientInfo) -> bytes:
    """The RecipientInfo carrying a KEMRecipientInfo: ori [4] IMPLICIT
    OtherRecipientInfo { id-ori-kem, KEMRecipientInfo } (RFC 5652 §6.2.5, RFC 9629
    §3)."""
    parts = [
        der_int(info.version),
        serialize_rid(info.rid, kari=False),
        serialize_algorithm_identifier(info.kem),
        der_tlv(0x04, info.kemct),
        serialize_algorithm_identifier(info.kdf),
        der_int(info.kek_length),
    ]
    if info.ukm is not None:
        parts.append(der_tlv(0xA0, der_tlv(0x04, info.ukm)))
    parts.append(serialize_algorithm_identifier(info.wrap))
    parts.append(der_tlv(0x04, info.encrypted_key))
    return der_tlv(0xA4, der_oid(oids.ORI_KEM) + _seq(*parts))


def serialize_recipient_infos(infos: Iterable[structures.RecipientInfo]) -> bytes:
    """RecipientInfos SET OF, DER."""
    return set_of(serialize_recipient_info(info) for info in infos)
