"""CMS structures as frozen dataclasses: parse (asn1crypto) and serialize (DER).

Implements the recipient side of RFC 5652: RecipientInfo §6.2 with
KeyTransRecipientInfo §6.2.1 and KeyAgreeRecipientInfo §6.2.2 (others are kept as
:class:`OtherRecipientInfo` so that inspect() can name them), AlgorithmIdentifier,
RSAES-OAEP-params (RFC 8017 App. C), GCMParameters (RFC 5084 §3.2) and
ECC-CMS-SharedInfo (RFC 5753 §7.2, used by RFC 8418 §2.2).

Parsing uses asn1crypto (chosen over pyasn1 by measurement, docs/ARCHITECTURE.md) and is
forced to completion inside one ``try`` so that no asn1crypto exception escapes: every
malformed input is an :class:`ASN1Error`. Serialization writes DER directly: the
structures are small and fixed, and building them by hand keeps parameters exactly as
the RFCs require (absent, not NULL, for AES key wrap, RFC 3565 §2.3.2).

This is a codec: it never encrypts, draws randomness or opens files.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable
from typing import Any, Final

from ..errors import ASN1Error
from . import oids

__all__ = [
    "AlgorithmIdentifier",
    "GCMParameters",
    "KeyAgreeRecipientInfo",
    "KeyTransRecipientInfo",
    "OAEPParameters",
    "OtherRecipientInfo",
    "RecipientEncryptedKey",
    "RecipientId",
    "RecipientInfo",
    "der_int",
    "der_oid",
    "der_tlv",
    "parse_algorithm_identifier",
    "parse_gcm_parameters",
    "parse_oaep_parameters",
    "parse_recipient_infos",
    "serialize_algorithm_identifier",
    "serialize_ecc_cms_shared_info",
    "serialize_gcm_parameters",
    "serialize_oaep_parameters",
    "serialize_recipient_info",
    "serialize_recipient_infos",
    "serialize_rid",
    "set_of",
]

#: Exceptions asn1crypto raises on malformed input; all become ASN1Error.
_ASN1CRYPTO_ERRORS: Final = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    AttributeError,
    RecursionError,
    UnicodeError,
)

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
    raw = n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big", signed=True)
    return der_tlv(0x02, raw)


@functools.lru_cache(maxsize=256)
def der_oid(dotted: str) -> bytes:
    """OBJECT IDENTIFIER from its dotted form.

    Cached: the same handful of OIDs is encoded for every message and recipient
    (~30 µs each uncached). Errors are not cached, and the result is bytes.
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


def _set_of(parts: Iterable[bytes]) -> bytes:
    # DER SET OF: elements sorted by their encodings (X.690 §11.6).
    return der_tlv(0x31, b"".join(sorted(parts)))


# --- Data model -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class AlgorithmIdentifier:
    """AlgorithmIdentifier: OID and the raw DER of its parameters (None if absent)."""

    algorithm: str
    parameters: bytes | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class RecipientId:
    """issuerAndSerialNumber (the issuer's DER and a serial) or subjectKeyIdentifier."""

    issuer: bytes | None = None
    serial_number: int | None = None
    subject_key_identifier: bytes | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class KeyTransRecipientInfo:
    """RFC 5652 §6.2.1."""

    version: int
    rid: RecipientId
    key_encryption_algorithm: AlgorithmIdentifier
    encrypted_key: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class RecipientEncryptedKey:
    """RFC 5652 §6.2.2 RecipientEncryptedKey."""

    rid: RecipientId
    encrypted_key: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class KeyAgreeRecipientInfo:
    """RFC 5652 §6.2.2 with an originatorKey (the only form RFC 8418 §2.3 uses)."""

    version: int
    originator_algorithm: AlgorithmIdentifier
    originator_public_key: bytes
    ukm: bytes | None
    key_encryption_algorithm: AlgorithmIdentifier
    recipient_encrypted_keys: tuple[RecipientEncryptedKey, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class OtherRecipientInfo:
    """A recipient kind we do not open (KEK, password, other, or an originator by
    reference); kept so inspect() can list it."""

    kind: str


RecipientInfo = KeyTransRecipientInfo | KeyAgreeRecipientInfo | OtherRecipientInfo


@dataclasses.dataclass(frozen=True, slots=True)
class OAEPParameters:
    """RSAES-OAEP-params (RFC 8017 App. C) reduced to the hash names and label."""

    hash_name: str
    mgf_hash_name: str
    label: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class GCMParameters:
    """GCMParameters (RFC 5084 §3.2)."""

    nonce: bytes
    icv_len: int


# --- Parsing (asn1crypto) ---------------------------------------------------------


def _version(value: object) -> int:
    # X.690 §8.3.1: an INTEGER has one or more content octets. asn1crypto reads an
    # empty one as 0, which would make a malformed entry pass for version 0.
    if not getattr(value, "contents", None):
        raise ASN1Error("malformed CMS version: an empty INTEGER")
    native = getattr(value, "native", None)
    if isinstance(native, str) and native.startswith("v"):
        return int(native[1:])
    if isinstance(native, int):
        return native
    raise ASN1Error("malformed CMS version")


def _alg(value: object) -> AlgorithmIdentifier:
    algorithm = value["algorithm"].dotted  # type: ignore[index]
    params = value["parameters"]  # type: ignore[index]
    raw = None if params.__class__.__name__ == "Void" else params.dump()
    return AlgorithmIdentifier(algorithm, raw)


def _rid(choice: object) -> RecipientId:
    name = choice.name  # type: ignore[attr-defined]
    chosen = choice.chosen  # type: ignore[attr-defined]
    if name == "issuer_and_serial_number":
        # The issuer is compared byte for byte with the certificate's raw issuer, never
        # interpreted, so its inner structure need not be parsed here.
        issuer = chosen["issuer"]
        return RecipientId(
            issuer=issuer.dump(), serial_number=chosen["serial_number"].native
        )
    if name == "subject_key_identifier":
        return RecipientId(subject_key_identifier=chosen.native)
    if name == "r_key_id":
        return RecipientId(
            subject_key_identifier=chosen["subject_key_identifier"].native
        )
    raise ASN1Error(f"unknown recipient identifier {name!r}")


def _ktri(chosen: object) -> KeyTransRecipientInfo:
    return KeyTransRecipientInfo(
        version=_version(chosen["version"]),  # type: ignore[index]
        rid=_rid(chosen["rid"]),  # type: ignore[index]
        key_encryption_algorithm=_alg(chosen["key_encryption_algorithm"]),  # type: ignore[index]
        encrypted_key=chosen["encrypted_key"].native,  # type: ignore[index]
    )


def _kari(chosen: object) -> KeyAgreeRecipientInfo | OtherRecipientInfo:
    originator = chosen["originator"]  # type: ignore[index]
    if originator.name != "originator_key":
        return OtherRecipientInfo("KeyAgreeRecipientInfo (static originator)")
    key_info = originator.chosen
    public = key_info["public_key"]
    # The BIT STRING content: one unused-bits octet, then the raw public key.
    contents = public.contents
    if not contents or contents[0] != 0:
        raise ASN1Error("malformed originator public key")
    reks = tuple(
        RecipientEncryptedKey(_rid(rek["rid"]), rek["encrypted_key"].native)
        for rek in chosen["recipient_encrypted_keys"]  # type: ignore[index]
    )
    ukm = chosen["ukm"].native  # type: ignore[index]
    return KeyAgreeRecipientInfo(
        version=_version(chosen["version"]),  # type: ignore[index]
        originator_algorithm=_alg(key_info["algorithm"]),
        originator_public_key=bytes(contents[1:]),
        ukm=ukm,
        key_encryption_algorithm=_alg(chosen["key_encryption_algorithm"]),  # type: ignore[index]
        recipient_encrypted_keys=reks,
    )


def parse_recipient_infos(
    der: bytes, *, max_recipients: int
) -> tuple[RecipientInfo, ...]:
    """Parse a RecipientInfos SET (RFC 5652 §6.1).

    Raises:
        ASN1Error: malformed, or more than ``max_recipients`` entries.
    """
    plain = _fast.recipient_infos(der, max_recipients=max_recipients)
    if plain is not None:
        return plain
    return _recipient_infos_asn1crypto(der, max_recipients)


def _recipient_infos_asn1crypto(
    der: bytes, max_recipients: int
) -> tuple[RecipientInfo, ...]:
    # The reference path: anything the DER fast path (der.py) declines.
    from asn1crypto import cms

    try:
        infos = cms.RecipientInfos.load(der, strict=True)
        if len(infos) > max_recipients:
            raise ASN1Error(
                f"the message has {len(infos)} recipient entries, more than the "
                f"policy limit of {max_recipients}"
            )
        out: list[RecipientInfo] = []
        for info in infos:
            if info.name == "ktri":
                out.append(_ktri(info.chosen))
            elif info.name == "kari":
                out.append(_kari(info.chosen))
            else:
                out.append(OtherRecipientInfo(type(info.chosen).__name__))
    except ASN1Error:
        raise
    except _ASN1CRYPTO_ERRORS as exc:
        raise ASN1Error(f"malformed CMS RecipientInfos: {exc}") from None
    if not out:
        raise ASN1Error("malformed CMS: RecipientInfos is empty")
    return tuple(out)


def parse_algorithm_identifier(der: bytes) -> AlgorithmIdentifier:
    """Parse one AlgorithmIdentifier."""
    plain = _fast.algorithm_identifier(der)
    if plain is not None:
        return plain
    return _algorithm_identifier_asn1crypto(der)


def _algorithm_identifier_asn1crypto(der: bytes) -> AlgorithmIdentifier:
    from asn1crypto import algos

    try:
        alg = algos.AlgorithmIdentifier.load(der, strict=True)
        result = _alg(alg)
    except _ASN1CRYPTO_ERRORS as exc:
        raise ASN1Error(f"malformed AlgorithmIdentifier: {exc}") from None
    return result


def parse_gcm_parameters(der: bytes | None) -> GCMParameters:
    """Parse GCMParameters; an absent aes-ICVlen means its DEFAULT 12 (RFC 5084)."""
    if der is None:
        raise ASN1Error("AES-GCM parameters are missing (RFC 5084 §3.2)")
    plain = _fast.gcm_parameters(der)
    if plain is not None:
        return plain
    return _gcm_parameters_asn1crypto(der)


def _gcm_parameters_asn1crypto(der: bytes) -> GCMParameters:
    try:
        params = _gcm_params_class().load(der, strict=True)
        nonce = params["aes_nonce"].native
        icv_len = params["aes_icvlen"].native
    except _ASN1CRYPTO_ERRORS as exc:
        raise ASN1Error(f"malformed GCMParameters: {exc}") from None
    return GCMParameters(bytes(nonce), int(icv_len))


def _gcm_params_class() -> Any:
    # asn1crypto has no GCMParameters; RFC 5084 §3.2 defines it with ICVlen DEFAULT 12.
    global _GCM_PARAMS
    if _GCM_PARAMS is None:
        from asn1crypto import core

        class GCMParams(core.Sequence):  # type: ignore[misc]
            _fields = [  # noqa: RUF012
                ("aes_nonce", core.OctetString),
                ("aes_icvlen", core.Integer, {"default": 12}),
            ]

        _GCM_PARAMS = GCMParams
    return _GCM_PARAMS


_GCM_PARAMS: Any = None


def parse_oaep_parameters(der: bytes | None) -> OAEPParameters:
    """Parse RSAES-OAEP-params; absent fields take their SHA-1 defaults."""
    from asn1crypto import algos

    if der is None or der == b"\x05\x00":
        return OAEPParameters("sha1", "sha1", b"")
    try:
        params = algos.RSAESOAEPParams.load(der, strict=True)
        hash_oid = params["hash_algorithm"]["algorithm"].dotted
        mgf = params["mask_gen_algorithm"]
        if mgf["algorithm"].dotted != oids.MGF1:
            raise ASN1Error("RSAES-OAEP with a mask generation other than MGF1")
        mgf_oid = mgf["parameters"]["algorithm"].dotted
        source = params["p_source_algorithm"]
        if source["algorithm"].dotted != oids.P_SPECIFIED:
            raise ASN1Error("RSAES-OAEP with an unknown pSourceAlgorithm")
        label = source["parameters"].native or b""
    except ASN1Error:
        raise
    except _ASN1CRYPTO_ERRORS as exc:
        raise ASN1Error(f"malformed RSAES-OAEP parameters: {exc}") from None
    if hash_oid not in oids.HASH_NAMES or mgf_oid not in oids.HASH_NAMES:
        raise ASN1Error("RSAES-OAEP with an unknown hash algorithm")
    return OAEPParameters(oids.HASH_NAMES[hash_oid], oids.HASH_NAMES[mgf_oid], label)


# --- Serialization (DER) ----------------------------------------------------------
# The pure encoders of values repeated across messages and recipients (algorithm
# identifiers, OAEP parameters, shared info, recipient ids) are memoized: their
# arguments are frozen values and their results immutable bytes (per-message and
# per-recipient overhead).


@functools.lru_cache(maxsize=1024)
def serialize_algorithm_identifier(alg: AlgorithmIdentifier) -> bytes:
    """AlgorithmIdentifier DER."""
    return _seq(der_oid(alg.algorithm), alg.parameters or b"")


def serialize_gcm_parameters(params: GCMParameters) -> bytes:
    """GCMParameters DER. aes-ICVlen is always written: 16 differs from DEFAULT 12."""
    return _seq(der_tlv(0x04, params.nonce), der_int(params.icv_len))


@functools.lru_cache(maxsize=1024)
def serialize_oaep_parameters(params: OAEPParameters) -> bytes:
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
def serialize_rid(rid: RecipientId, *, kari: bool) -> bytes:
    """RecipientIdentifier (KTRI) or KeyAgreeRecipientIdentifier (KARI) DER."""
    if rid.subject_key_identifier is not None:
        if kari:
            # rKeyId [0] IMPLICIT RecipientKeyIdentifier (RFC 5652 §6.2.2).
            return der_tlv(0xA0, der_tlv(0x04, rid.subject_key_identifier))
        return der_tlv(0x80, rid.subject_key_identifier)
    if rid.issuer is None or rid.serial_number is None:
        raise ValueError("RecipientId needs issuer+serial or a subjectKeyIdentifier")
    return _seq(rid.issuer, der_int(rid.serial_number))


def serialize_recipient_info(info: RecipientInfo) -> bytes:
    """One RecipientInfo (an element of RecipientInfos), DER."""
    if isinstance(info, KeyTransRecipientInfo):
        return _seq(
            der_int(info.version),
            serialize_rid(info.rid, kari=False),
            serialize_algorithm_identifier(info.key_encryption_algorithm),
            der_tlv(0x04, info.encrypted_key),
        )
    if isinstance(info, KeyAgreeRecipientInfo):
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
    raise ValueError(f"cannot serialize {info.kind}")


def serialize_recipient_infos(infos: Iterable[RecipientInfo]) -> bytes:
    """RecipientInfos SET OF, DER."""
    return _set_of(serialize_recipient_info(info) for info in infos)


def set_of(elements: Iterable[bytes]) -> bytes:
    """A SET OF from the DER of its elements (sorted, X.690 §11.6)."""
    return _set_of(elements)


# The DER fast path reads these module's dataclasses, so it is imported last.
from . import der as _fast  # noqa: E402
