"""The general reader of the CMS structures, through asn1crypto.

Reads RecipientInfos (RFC 5652 §6.1), the KEMRecipientInfo an OtherRecipientInfo
of type id-ori-kem carries (RFC 9629 §3; asn1crypto has no class for it, so one is
declared here from the RFC's module), AlgorithmIdentifier, GCMParameters (RFC 5084
§3.2) and RSAES-OAEP-params (RFC 8017 App. C) into the values of structures.py,
whatever their encoding. It is the reference the DER fast path (der.py) is checked
against, and the path for everything that one declines. asn1crypto was chosen over
pyasn1 by measurement; it parses lazily, so every value is read to the end inside one
``try``, and no asn1crypto exception escapes: malformed input is an ASN1Error.
asn1crypto is imported on first use, to keep it out of the command line's start-up.

A codec: no cryptography, no randomness, no files opened.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final, TypeVar

from ..errors import ASN1Error
from . import oids, structures

__all__ = [
    "algorithm_identifier",
    "gcm_parameters",
    "key_encryption_algorithm",
    "oaep_parameters",
    "object_identifier",
    "public_key_algorithm",
    "recipient_infos",
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

#: The same, for the other asn1crypto readers of this package (signed.py).
ASN1CRYPTO_ERRORS: Final = _ASN1CRYPTO_ERRORS

_T = TypeVar("_T")


def _read(what: str, spec: Any, der: bytes, convert: Callable[[Any], _T]) -> _T:
    """``convert`` of ``der`` loaded as ``spec``; asn1crypto's errors as ASN1Error."""
    try:
        return convert(spec.load(der, strict=True))
    except _ASN1CRYPTO_ERRORS as exc:
        raise ASN1Error(f"malformed {what}: {exc}") from None


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


def _algorithm(value: object) -> structures.AlgorithmIdentifier:
    algorithm = value["algorithm"].dotted  # type: ignore[index]
    params = value["parameters"]  # type: ignore[index]
    raw = None if params.__class__.__name__ == "Void" else params.dump()
    return structures.AlgorithmIdentifier(algorithm, raw)


def _rid(choice: object) -> structures.RecipientId:
    name = choice.name  # type: ignore[attr-defined]
    chosen = choice.chosen  # type: ignore[attr-defined]
    if name == "issuer_and_serial_number":
        # The issuer is compared byte for byte with the certificate's raw issuer, never
        # interpreted, so its inner structure need not be parsed here.
        issuer = chosen["issuer"]
        return structures.RecipientId(
            issuer=issuer.dump(), serial_number=chosen["serial_number"].native
        )
    if name == "subject_key_identifier":
        return structures.RecipientId(subject_key_identifier=chosen.native)
    if name == "r_key_id":
        return structures.RecipientId(
            subject_key_identifier=chosen["subject_key_identifier"].native
        )
    raise ASN1Error(f"unknown recipient identifier {name!r}")


def _ktri(chosen: object) -> structures.KeyTransRecipientInfo:
    return structures.KeyTransRecipientInfo(
        version=_version(chosen["version"]),  # type: ignore[index]
        rid=_rid(chosen["rid"]),  # type: ignore[index]
        key_encryption_algorithm=_algorithm(chosen["key_encryption_algorithm"]),  # type: ignore[index]
        encrypted_key=chosen["encrypted_key"].native,  # type: ignore[index]
    )


def _kari(
    chosen: object,
) -> structures.KeyAgreeRecipientInfo | structures.OtherRecipientInfo:
    originator = chosen["originator"]  # type: ignore[index]
    if originator.name != "originator_key":
        return structures.OtherRecipientInfo(
            "KeyAgreeRecipientInfo (static originator)"
        )
    key_info = originator.chosen
    public = key_info["public_key"]
    # The BIT STRING content: one unused-bits octet, then the raw public key.
    contents = public.contents
    if not contents or contents[0] != 0:
        raise ASN1Error("malformed originator public key")
    reks = tuple(
        structures.RecipientEncryptedKey(_rid(rek["rid"]), rek["encrypted_key"].native)
        for rek in chosen["recipient_encrypted_keys"]  # type: ignore[index]
    )
    ukm = chosen["ukm"].native  # type: ignore[index]
    return structures.KeyAgreeRecipientInfo(
        version=_version(chosen["version"]),  # type: ignore[index]
        originator_algorithm=_algorithm(key_info["algorithm"]),
        originator_public_key=bytes(contents[1:]),
        ukm=ukm,
        key_encryption_algorithm=_algorithm(chosen["key_encryption_algorithm"]),  # type: ignore[index]
        recipient_encrypted_keys=reks,
    )


def _ori(chosen: Any) -> structures.RecipientInfo:
    ori_type = chosen["ori_type"].dotted
    if ori_type != oids.ORI_KEM:
        return structures.OtherRecipientInfo(f"OtherRecipientInfo ({ori_type})")
    value = _kemri_class().load(chosen["ori_value"].dump(), strict=True)
    ukm = value["ukm"]
    return structures.KEMRecipientInfo(
        version=_version(value["version"]),
        rid=_rid(value["rid"]),
        kem=_algorithm(value["kem"]),
        kemct=bytes(value["kemct"].native),
        kdf=_algorithm(value["kdf"]),
        kek_length=int(value["kek_length"].native),
        ukm=None if ukm.native is None else bytes(ukm.native),
        wrap=_algorithm(value["wrap"]),
        encrypted_key=bytes(value["encrypted_key"].native),
    )


@functools.cache
def _kemri_class() -> Any:
    # KEMRecipientInfo (RFC 9629 §3), with the asn1crypto classes RecipientInfo uses
    # for the same kinds of field elsewhere (rid as in KeyTransRecipientInfo, wrap
    # as a keyEncryptionAlgorithm).
    from asn1crypto import algos, cms, core

    class KEMRecipientInfo(core.Sequence):  # type: ignore[misc]
        _fields = [  # noqa: RUF012
            ("version", cms.CMSVersion),
            ("rid", cms.RecipientIdentifier),
            ("kem", algos.AlgorithmIdentifier),
            ("kemct", core.OctetString),
            ("kdf", algos.AlgorithmIdentifier),
            ("kek_length", core.Integer),
            ("ukm", core.OctetString, {"explicit": 0, "optional": True}),
            ("wrap", cms.KeyEncryptionAlgorithm),
            ("encrypted_key", core.OctetString),
        ]

    return KEMRecipientInfo


def recipient_infos(
    der: bytes, max_recipients: int
) -> tuple[structures.RecipientInfo, ...]:
    """A RecipientInfos SET (RFC 5652 §6.1), every kind of entry.

    Raises:
        ASN1Error: malformed, empty, or more than ``max_recipients`` entries.
    """
    from asn1crypto import cms

    def convert(infos: Any) -> list[structures.RecipientInfo]:
        if len(infos) > max_recipients:
            raise ASN1Error(
                f"the message has {len(infos)} recipient entries, more than the "
                f"policy limit of {max_recipients}"
            )
        out: list[structures.RecipientInfo] = []
        for info in infos:
            if info.name == "ktri":
                out.append(_ktri(info.chosen))
            elif info.name == "kari":
                out.append(_kari(info.chosen))
            elif info.name == "ori":
                out.append(_ori(info.chosen))
            else:
                out.append(structures.OtherRecipientInfo(type(info.chosen).__name__))
        return out

    out = _read("CMS RecipientInfos", cms.RecipientInfos, der, convert)
    if not out:
        raise ASN1Error("malformed CMS: RecipientInfos is empty")
    return tuple(out)


def algorithm_identifier(der: bytes) -> structures.AlgorithmIdentifier:
    """One AlgorithmIdentifier, its parameters as raw DER.

    Raises:
        ASN1Error: malformed.
    """
    from asn1crypto import algos

    return _read("AlgorithmIdentifier", algos.AlgorithmIdentifier, der, _algorithm)


def key_encryption_algorithm(der: bytes) -> structures.AlgorithmIdentifier:
    """A RecipientInfo's keyEncryptionAlgorithm, read by asn1crypto's own class for
    that field (so its parameters come out as they do inside RecipientInfos).

    Raises:
        ASN1Error: malformed.
    """
    from asn1crypto.cms import KeyEncryptionAlgorithm

    return _read("AlgorithmIdentifier", KeyEncryptionAlgorithm, der, _algorithm)


def public_key_algorithm(der: bytes) -> structures.AlgorithmIdentifier:
    """An originatorKey's algorithm, read by asn1crypto's class for that field.

    Raises:
        ASN1Error: malformed.
    """
    from asn1crypto.keys import PublicKeyAlgorithm

    return _read("AlgorithmIdentifier", PublicKeyAlgorithm, der, _algorithm)


def object_identifier(der: bytes) -> str:
    """The dotted form of an OBJECT IDENTIFIER element, as asn1crypto reads it.

    Raises:
        ASN1Error: malformed.
    """
    from asn1crypto import core

    return _read("OBJECT IDENTIFIER", core.ObjectIdentifier, der, _dotted)


def _dotted(value: Any) -> str:
    return str(value.dotted)


def gcm_parameters(der: bytes) -> structures.GCMParameters:
    """GCMParameters; an absent aes-ICVlen is its DEFAULT 12 (RFC 5084 §3.2).

    Raises:
        ASN1Error: malformed.
    """
    return _read("GCMParameters", _gcm_params_class(), der, _gcm_value)


def _gcm_value(params: Any) -> structures.GCMParameters:
    return structures.GCMParameters(
        bytes(params["aes_nonce"].native), int(params["aes_icvlen"].native)
    )


@functools.cache
def _gcm_params_class() -> Any:
    # asn1crypto has no GCMParameters; RFC 5084 §3.2 defines it with ICVlen DEFAULT 12.
    from asn1crypto import core

    class GCMParams(core.Sequence):  # type: ignore[misc]
        _fields = [  # noqa: RUF012
            ("aes_nonce", core.OctetString),
            ("aes_icvlen", core.Integer, {"default": 12}),
        ]

    return GCMParams


def oaep_parameters(der: bytes | None) -> structures.OAEPParameters:
    """RSAES-OAEP-params; absent fields take their SHA-1 defaults (RFC 8017 App. C).

    Raises:
        ASN1Error: malformed, or a hash, mask generation or label source we do not
            know.
    """
    from asn1crypto import algos

    if der is None or der == b"\x05\x00":
        return structures.OAEPParameters("sha1", "sha1", b"")
    return _read("RSAES-OAEP parameters", algos.RSAESOAEPParams, der, _oaep_value)


def _oaep_value(params: Any) -> structures.OAEPParameters:
    hash_oid = params["hash_algorithm"]["algorithm"].dotted
    mgf = params["mask_gen_algorithm"]
    if mgf["algorithm"].dotted != oids.MGF1:
        raise ASN1Error("RSAES-OAEP with a mask generation other than MGF1")
    mgf_oid = mgf["parameters"]["algorithm"].dotted
    source = params["p_source_algorithm"]
    if source["algorithm"].dotted != oids.P_SPECIFIED:
        raise ASN1Error("RSAES-OAEP with an unknown pSourceAlgorithm")
    label = source["parameters"].native or b""
    if hash_oid not in oids.HASH_NAMES or mgf_oid not in oids.HASH_NAMES:
        raise ASN1Error("RSAES-OAEP with an unknown hash algorithm")
    return structures.OAEPParameters(
        oids.HASH_NAMES[hash_oid], oids.HASH_NAMES[mgf_oid], label
    )
