"""The general reader of the CMS recipient-side structures, through pyasn1.

Reads RecipientInfos (RFC 5652 §6.1), the KEMRecipientInfo an OtherRecipientInfo of
type id-ori-kem carries (RFC 9629 §3), AlgorithmIdentifier (RFC 5280 §4.1.1.2),
GCMParameters (RFC 5084 §3.2) and RSAES-OAEP-params (RFC 4055 §4.1, RFC 8017 App.
C) into the values of structures.py, in any BER encoding, with the ASN.1 modules of
pyasn1-alt-modules (rfc5652, rfc9629, rfc5280, rfc5084, rfc4055), which carry the
LAMPS modules this package follows. It is the reference the DER fast path (der.py)
is checked against, and the reader of everything that one declines: pyasn1 decodes
a RecipientInfo about forty times slower than der.py, and about three times slower
than asn1crypto, which this module used before (benchmarks/bench_asn1.py), so every
shape real messages carry stays on the fast path, and in a plain-DER SET only the
entries the fast path declines come here (asn1.parse_recipient_infos). SignedData
(signed.py) is still read through asn1crypto.

Four changes to the modules' types, and one to the input, each keeping what the
fast path reads:

- an issuer Name is kept as its raw encoding (ANY), never decoded: it is compared
  byte for byte with a certificate's issuer;
- an INTEGER with no content octets is malformed (X.690 §8.3.1), where pyasn1 reads
  it as 0, which would let a malformed entry pass for version 0;
- aes-ICVlen and kekLength are read without their ranges (RFC 5084 §3.2, RFC 9629
  §3): the code that uses them refuses every value it does not support, with an
  error that names it;
- the entries of a RecipientInfos SET are counted before anything is decoded, so
  that a message holding more than the policy allows costs only the count;
- indefinite lengths are made definite before pyasn1 reads the input (it fails on
  an indefinite-length ANY).

pyasn1's errors, and the Python exceptions it can raise on malformed input, all
become ASN1Error. pyasn1 is imported on first use, to keep it out of the command line's
start-up.

A codec: no cryptography, no randomness, no files opened.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final, NamedTuple, TypeVar

from ..errors import ASN1Error
from . import oids, structures
from .tlv import EOC, INDEFINITE, length_octets

__all__ = [
    "ASN1CRYPTO_ERRORS",
    "algorithm_identifier",
    "count_elements",
    "definite",
    "encode_recipient_infos",
    "gcm_parameters",
    "oaep_parameters",
    "object_identifier",
    "recipient_infos",
]

#: Exceptions asn1crypto raises on malformed input, for the SignedData readers
#: (signed.py, sigalgs.py), which stay on asn1crypto.
ASN1CRYPTO_ERRORS: Final = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    AttributeError,
    RecursionError,
    UnicodeError,
)

#: Deepest nesting the BER walkers (count_elements, definite) follow.
_MAX_DEPTH: Final = 64

_T = TypeVar("_T")


class _Codec(NamedTuple):
    """The decoder, the encoder and the types, made once on first use."""

    decode: Callable[..., Any]
    encode: Callable[[Any], bytes]
    errors: tuple[type[BaseException], ...]
    recipient_infos: Any
    kem_recipient_info: Any
    algorithm_identifier: Any
    gcm_parameters: Any
    oaep_parameters: Any
    object_identifier: Any
    octet_string: Any
    universal: Any


@functools.cache
def _codec() -> _Codec:
    from pyasn1.codec.ber import decoder
    from pyasn1.codec.der import encoder
    from pyasn1.error import PyAsn1Error
    from pyasn1.type import namedtype, univ
    from pyasn1_alt_modules import rfc4055, rfc5084, rfc5280, rfc5652, rfc9629

    class _Integer(decoder.IntegerPayloadDecoder):  # type: ignore[misc]
        def valueDecoder(
            self,
            substrate: Any,
            asn1Spec: Any,
            tagSet: Any = None,
            length: int | None = None,
            *args: Any,
            **options: Any,
        ) -> Any:
            if not length:
                name = type(asn1Spec).__name__
                field = "CMS version" if name == "CMSVersion" else name
                raise PyAsn1Error(f"{field}: an INTEGER with no content octets")
            return super().valueDecoder(
                substrate, asn1Spec, tagSet, length, *args, **options
            )

    integer = _Integer()
    tag_map = dict(decoder.TAG_MAP)
    tag_map[univ.Integer.tagSet] = integer
    type_map = dict(decoder.TYPE_MAP)
    type_map[univ.Integer.typeId] = integer

    def decode(der: bytes, spec: Any) -> Any:
        value, rest = decoder.decode(
            der, asn1Spec=spec, tagMap=tag_map, typeMap=type_map
        )
        if rest:
            raise PyAsn1Error("data after the end of the element")
        return value

    def swap(spec: Any, **components: Any) -> Any:
        """``spec`` with the named components replaced (keeping their tags)."""
        named = []
        for item in spec.componentType.namedTypes:
            new = components.get(item.name)
            if new is not None:
                old = item.asn1Object
                if new.tagSet != old.tagSet:
                    new = new.clone(tagSet=old.tagSet)
                item = type(item)(item.name, new)
            named.append(item)
        return spec.clone(componentType=namedtype.NamedTypes(*named))

    ias = swap(rfc5652.IssuerAndSerialNumber(), issuer=univ.Any())
    rid = swap(rfc5652.RecipientIdentifier(), issuerAndSerialNumber=ias)
    kari_rid = swap(rfc5652.KeyAgreeRecipientIdentifier(), issuerAndSerialNumber=ias)
    rek = swap(rfc5652.RecipientEncryptedKey(), rid=kari_rid)
    originator = swap(rfc5652.OriginatorIdentifierOrKey(), issuerAndSerialNumber=ias)
    kari = swap(
        rfc5652.KeyAgreeRecipientInfo(),
        originator=originator,
        recipientEncryptedKeys=rfc5652.RecipientEncryptedKeys().clone(
            componentType=rek
        ),
    )
    info = swap(
        rfc5652.RecipientInfo(),
        ktri=swap(rfc5652.KeyTransRecipientInfo(), rid=rid),
        kari=kari,
    )
    return _Codec(
        decode=decode,
        encode=encoder.encode,
        errors=(PyAsn1Error, *ASN1CRYPTO_ERRORS),
        recipient_infos=rfc5652.RecipientInfos().clone(componentType=info),
        kem_recipient_info=swap(
            rfc9629.KEMRecipientInfo(), rid=rid, kekLength=univ.Integer()
        ),
        algorithm_identifier=rfc5280.AlgorithmIdentifier(),
        gcm_parameters=swap(
            rfc5084.GCMParameters(), **{"aes-ICVlen": univ.Integer(12)}
        ),
        oaep_parameters=rfc4055.RSAES_OAEP_params(),
        object_identifier=univ.ObjectIdentifier(),
        octet_string=univ.OctetString(),
        universal=univ,
    )


def _read(
    what: str, der: bytes, spec: Callable[[_Codec], Any], convert: Callable[[Any], _T]
) -> _T:
    """``convert`` of ``der`` decoded as ``spec``; every failure an ASN1Error."""
    codec = _codec()
    try:
        return convert(codec.decode(definite(der), spec(codec)))
    except ASN1Error:
        raise
    except codec.errors as exc:
        raise ASN1Error(f"malformed {what}: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    # pyasn1 puts the whole expected type into some messages: keep what was found.
    text = str(exc).split(" not in asn1Spec", 1)[0]
    return text if len(text) <= 100 else text[:100] + "..."


# --- BER framing, before pyasn1 sees the input -------------------------------------


def _header(der: bytes, pos: int, end: int) -> tuple[int, int | None, int]:
    """(tag, content length or None for the indefinite form, content start) of the
    BER element at ``pos``, which must end by ``end``."""
    if pos + 2 > end:
        raise ASN1Error("malformed ASN.1: truncated element header")
    tag, first = der[pos], der[pos + 1]
    count = length_octets(tag, first)
    start = pos + 2 + count
    if start > end:
        raise ASN1Error("malformed ASN.1: truncated length")
    if first == INDEFINITE:
        return tag, None, start
    length = int.from_bytes(der[pos + 2 : start], "big") if count else first
    if start + length > end:
        raise ASN1Error("malformed ASN.1: element runs past its parent")
    return tag, length, start


def _skip(der: bytes, pos: int, end: int, depth: int) -> int:
    """The position after the BER element at ``pos``."""
    if depth > _MAX_DEPTH:
        raise ASN1Error("ASN.1 nesting too deep")
    _, length, start = _header(der, pos, end)
    if length is not None:
        return start + length
    while der[start : start + 2] != EOC:
        start = _skip(der, start, end, depth + 1)
    return start + 2


def count_elements(der: bytes, limit: int) -> int:
    """How many elements the constructed element ``der`` holds, counting no further
    than ``limit + 1``: BER, definite or indefinite lengths, nothing decoded.

    Raises:
        ASN1Error: not one whole constructed element.
    """
    tag, length, start = _header(der, 0, len(der))
    if not tag & 0x20:
        raise ASN1Error("malformed ASN.1: expected a constructed element")
    end = len(der) if length is None else start + length
    if end != len(der) and length is not None:
        raise ASN1Error("malformed ASN.1: data after the end of the element")
    count = 0
    pos = start
    while count <= limit:
        if length is None and der[pos : pos + 2] == EOC:
            if pos + 2 != len(der):
                raise ASN1Error("malformed ASN.1: data after the end of the element")
            break
        if pos == end:
            break
        pos = _skip(der, pos, end, 1)
        count += 1
    return count


def definite(der: bytes) -> bytes:
    """``der``, one BER element, with every indefinite length made definite
    (X.690 §8.1.3.6 to §8.1.3.3); elements without one, and definite-length ones
    whose content is not a series of elements, are copied as they are.

    pyasn1 fails on an indefinite-length value read as ANY (an issuer, algorithm
    parameters), so it is only ever given definite lengths.

    Raises:
        ASN1Error: not one whole element, or nested deeper than the bound.
    """
    out, stop = _definite(der, 0, len(der), 0)
    if stop != len(der):
        raise ASN1Error("malformed ASN.1: data after the end of the element")
    return out


def _definite(der: bytes, pos: int, end: int, depth: int) -> tuple[bytes, int]:
    if depth > _MAX_DEPTH:
        raise ASN1Error("ASN.1 nesting too deep")
    tag, length, start = _header(der, pos, end)
    if not tag & 0x20:
        stop = start + (length or 0)
        return der[pos:stop], stop
    parts = []
    changed = length is None
    child = start
    if length is None:
        while der[child : child + 2] != EOC:
            part, child = _definite(der, child, end, depth + 1)
            parts.append(part)
        stop = child + 2
    else:
        stop = start + length
        try:
            while child < stop:
                part, next_child = _definite(der, child, stop, depth + 1)
                changed = changed or len(part) != next_child - child
                parts.append(part)
                child = next_child
        except ASN1Error:
            # Content that is not a series of elements (an ANY, say) is pyasn1's to
            # judge, as it stands.
            changed = False
    if not changed:
        return der[pos:stop], stop
    content = b"".join(parts)
    return bytes((tag,)) + _length(len(content)) + content, stop


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(raw),)) + raw


# --- Conversion of decoded values to structures.py --------------------------------


def _opt(value: Any) -> Any:
    """The value of an OPTIONAL component, or None when absent."""
    return value if value.isValue else None


def _algorithm(value: Any) -> structures.AlgorithmIdentifier:
    params = _opt(value["parameters"])
    return structures.AlgorithmIdentifier(
        str(value["algorithm"]), None if params is None else bytes(params)
    )


def _rid(choice: Any) -> structures.RecipientId:
    name = choice.getName()
    chosen = choice.getComponent()
    if name == "issuerAndSerialNumber":
        return structures.RecipientId(
            issuer=bytes(chosen["issuer"]), serial_number=int(chosen["serialNumber"])
        )
    if name == "subjectKeyIdentifier":
        return structures.RecipientId(subject_key_identifier=bytes(chosen))
    # rKeyId: its date and other key attribute say nothing we match on.
    return structures.RecipientId(
        subject_key_identifier=bytes(chosen["subjectKeyIdentifier"])
    )


def _ktri(value: Any) -> structures.KeyTransRecipientInfo:
    return structures.KeyTransRecipientInfo(
        version=int(value["version"]),
        rid=_rid(value["rid"]),
        key_encryption_algorithm=_algorithm(value["keyEncryptionAlgorithm"]),
        encrypted_key=bytes(value["encryptedKey"]),
    )


def _kari(
    value: Any,
) -> structures.KeyAgreeRecipientInfo | structures.OtherRecipientInfo:
    originator = value["originator"]
    if originator.getName() != "originatorKey":
        return structures.OtherRecipientInfo(
            "KeyAgreeRecipientInfo (static originator)"
        )
    key_info = originator.getComponent()
    public = key_info["publicKey"]
    if len(public) % 8:
        raise ASN1Error("malformed originator public key")
    reks = tuple(
        structures.RecipientEncryptedKey(_rid(rek["rid"]), bytes(rek["encryptedKey"]))
        for rek in value["recipientEncryptedKeys"]
    )
    ukm = _opt(value["ukm"])
    return structures.KeyAgreeRecipientInfo(
        version=int(value["version"]),
        originator_algorithm=_algorithm(key_info["algorithm"]),
        originator_public_key=public.asOctets(),
        ukm=None if ukm is None else bytes(ukm),
        key_encryption_algorithm=_algorithm(value["keyEncryptionAlgorithm"]),
        recipient_encrypted_keys=reks,
    )


def _ori(value: Any) -> structures.RecipientInfo:
    ori_type = str(value["oriType"])
    if ori_type != oids.ORI_KEM:
        return structures.OtherRecipientInfo(f"OtherRecipientInfo ({ori_type})")
    codec = _codec()
    kemri = codec.decode(bytes(value["oriValue"]), codec.kem_recipient_info)
    ukm = _opt(kemri["ukm"])
    return structures.KEMRecipientInfo(
        version=int(kemri["version"]),
        rid=_rid(kemri["rid"]),
        kem=_algorithm(kemri["kem"]),
        kemct=bytes(kemri["kemct"]),
        kdf=_algorithm(kemri["kdf"]),
        kek_length=int(kemri["kekLength"]),
        ukm=None if ukm is None else bytes(ukm),
        wrap=_algorithm(kemri["wrap"]),
        encrypted_key=bytes(kemri["encryptedKey"]),
    )


def _recipient_info(info: Any) -> structures.RecipientInfo:
    name = info.getName()
    chosen = info.getComponent()
    if name == "ktri":
        return _ktri(chosen)
    if name == "kari":
        return _kari(chosen)
    if name == "ori":
        return _ori(chosen)
    # kekri and pwri (RFC 5652 §6.2.3, §6.2.4): named for inspect(), never opened.
    return structures.OtherRecipientInfo(type(chosen).__name__)


def recipient_infos(
    der: bytes, max_recipients: int
) -> tuple[structures.RecipientInfo, ...]:
    """A RecipientInfos SET (RFC 5652 §6.1), every kind of entry.

    Raises:
        ASN1Error: malformed, empty, or more than ``max_recipients`` entries.
    """
    if der[:1] != b"\x31":
        raise ASN1Error("malformed CMS RecipientInfos: not a SET")
    count = count_elements(der, max_recipients)
    if count > max_recipients:
        raise ASN1Error(
            f"the message has more than {max_recipients} recipient entries, the "
            "policy limit"
        )
    if not count:
        raise ASN1Error("malformed CMS: RecipientInfos is empty")

    def convert(infos: Any) -> tuple[structures.RecipientInfo, ...]:
        return tuple(_recipient_info(info) for info in infos)

    return _read(
        "CMS RecipientInfos", der, lambda codec: codec.recipient_infos, convert
    )


def encode_recipient_infos(infos: list[structures.RecipientInfo]) -> bytes:
    """RecipientInfos DER written by pyasn1 from the values: the reference the
    hand-written encoders of asn1.py are tested against (they are what messages are
    written with: about forty times faster).

    Raises:
        ValueError: an entry kind that is never written (OtherRecipientInfo).
    """
    codec = _codec()
    univ = codec.universal
    out = codec.recipient_infos.clone()
    for index, info in enumerate(infos):
        entry = out.getComponentByPosition(index, instantiate=True)
        if isinstance(info, structures.KeyTransRecipientInfo):
            ktri = entry.getComponentByName("ktri", instantiate=True)
            ktri["version"] = info.version
            _set_rid(ktri["rid"], info.rid, "subjectKeyIdentifier", codec)
            _set_algorithm(
                ktri["keyEncryptionAlgorithm"], info.key_encryption_algorithm, codec
            )
            ktri["encryptedKey"] = info.encrypted_key
        elif isinstance(info, structures.KeyAgreeRecipientInfo):
            kari = entry.getComponentByName("kari", instantiate=True)
            kari["version"] = info.version
            key = kari["originator"].getComponentByName(
                "originatorKey", instantiate=True
            )
            _set_algorithm(key["algorithm"], info.originator_algorithm, codec)
            key["publicKey"] = univ.BitString.fromOctetString(
                info.originator_public_key
            )
            if info.ukm is not None:
                kari["ukm"] = info.ukm
            _set_algorithm(
                kari["keyEncryptionAlgorithm"], info.key_encryption_algorithm, codec
            )
            reks = kari["recipientEncryptedKeys"]
            for i, rek in enumerate(info.recipient_encrypted_keys):
                item = reks.getComponentByPosition(i, instantiate=True)
                _set_rid(item["rid"], rek.rid, "rKeyId", codec)
                item["encryptedKey"] = rek.encrypted_key
        elif isinstance(info, structures.KEMRecipientInfo):
            ori = entry.getComponentByName("ori", instantiate=True)
            ori["oriType"] = univ.ObjectIdentifier(oids.ORI_KEM)
            ori["oriValue"] = univ.Any(codec.encode(_kemri_value(info, codec)))
        else:
            raise ValueError(f"cannot encode {info.kind}")
    return codec.encode(out)


def _kemri_value(info: structures.KEMRecipientInfo, codec: _Codec) -> Any:
    value = codec.kem_recipient_info.clone()
    value["version"] = info.version
    _set_rid(value["rid"], info.rid, "subjectKeyIdentifier", codec)
    _set_algorithm(value["kem"], info.kem, codec)
    value["kemct"] = info.kemct
    _set_algorithm(value["kdf"], info.kdf, codec)
    value["kekLength"] = info.kek_length
    if info.ukm is not None:
        value["ukm"] = info.ukm
    _set_algorithm(value["wrap"], info.wrap, codec)
    value["encryptedKey"] = info.encrypted_key
    return value


def _set_algorithm(
    target: Any, alg: structures.AlgorithmIdentifier, codec: _Codec
) -> None:
    target["algorithm"] = codec.universal.ObjectIdentifier(alg.algorithm)
    if alg.parameters is not None:
        target["parameters"] = codec.universal.Any(alg.parameters)


def _set_rid(
    target: Any, rid: structures.RecipientId, by_key_id: str, codec: _Codec
) -> None:
    if rid.subject_key_identifier is not None:
        chosen = target.getComponentByName(by_key_id, instantiate=True)
        if by_key_id == "rKeyId":
            chosen["subjectKeyIdentifier"] = rid.subject_key_identifier
        else:
            target[by_key_id] = rid.subject_key_identifier
        return
    ias = target.getComponentByName("issuerAndSerialNumber", instantiate=True)
    ias["issuer"] = codec.universal.Any(rid.issuer)
    ias["serialNumber"] = rid.serial_number


def algorithm_identifier(der: bytes) -> structures.AlgorithmIdentifier:
    """One AlgorithmIdentifier, its parameters as raw BER (None when absent).

    Raises:
        ASN1Error: malformed.
    """
    return _read(
        "AlgorithmIdentifier", der, lambda codec: codec.algorithm_identifier, _algorithm
    )


def object_identifier(der: bytes) -> str:
    """The dotted form of an OBJECT IDENTIFIER element.

    Raises:
        ASN1Error: malformed.
    """
    return _read("OBJECT IDENTIFIER", der, lambda codec: codec.object_identifier, str)


def gcm_parameters(der: bytes) -> structures.GCMParameters:
    """GCMParameters; an absent aes-ICVlen is its DEFAULT 12 (RFC 5084 §3.2).

    Raises:
        ASN1Error: malformed.
    """
    return _read("GCMParameters", der, lambda codec: codec.gcm_parameters, _gcm_value)


def _gcm_value(params: Any) -> structures.GCMParameters:
    return structures.GCMParameters(
        bytes(params["aes-nonce"]), int(params["aes-ICVlen"])
    )


def oaep_parameters(der: bytes | None) -> structures.OAEPParameters:
    """RSAES-OAEP-params; absent fields take their SHA-1 defaults (RFC 8017 App. C).

    Raises:
        ASN1Error: malformed, or a hash, mask generation or label source we do not
            know.
    """
    if der is None or der == b"\x05\x00":
        return structures.OAEPParameters("sha1", "sha1", b"")
    return _read(
        "RSAES-OAEP parameters", der, lambda codec: codec.oaep_parameters, _oaep_value
    )


def _oaep_value(params: Any) -> structures.OAEPParameters:
    codec = _codec()
    hash_oid = oids.SHA1
    mgf_oid = oids.SHA1
    label = b""
    hash_func = _opt(params["hashFunc"])
    if hash_func is not None:
        hash_oid = str(hash_func["algorithm"])
    mgf = _opt(params["maskGenFunc"])
    if mgf is not None:
        if str(mgf["algorithm"]) != oids.MGF1:
            raise ASN1Error("RSAES-OAEP with a mask generation other than MGF1")
        mgf_params = _opt(mgf["parameters"])
        if mgf_params is None:
            raise ASN1Error("RSAES-OAEP with MGF1 but no hash")
        mgf_oid = str(
            codec.decode(bytes(mgf_params), codec.algorithm_identifier)["algorithm"]
        )
    source = _opt(params["pSourceFunc"])
    if source is not None:
        if str(source["algorithm"]) != oids.P_SPECIFIED:
            raise ASN1Error("RSAES-OAEP with an unknown pSourceAlgorithm")
        source_params = _opt(source["parameters"])
        if source_params is not None:
            label = bytes(codec.decode(bytes(source_params), codec.octet_string))
    if hash_oid not in oids.HASH_NAMES or mgf_oid not in oids.HASH_NAMES:
        raise ASN1Error("RSAES-OAEP with an unknown hash algorithm")
    return structures.OAEPParameters(
        oids.HASH_NAMES[hash_oid], oids.HASH_NAMES[mgf_oid], label
    )
