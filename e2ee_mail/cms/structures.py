"""The CMS recipient-side structures as immutable records.

RecipientInfo (RFC 5652 §6.2) with KeyTransRecipientInfo (§6.2.1),
KeyAgreeRecipientInfo (§6.2.2) and the KEMRecipientInfo of RFC 9629 §3 (an
OtherRecipientInfo of type id-ori-kem), the other kinds kept as
:class:`OtherRecipientInfo` so that inspect() can name them; AlgorithmIdentifier
(RFC 5280 §4.1.1.2), RSAES-OAEP-params (RFC 8017 App. C) and GCMParameters
(RFC 5084 §3.2). Parameters and names stay raw DER where the code only compares or
copies them. asn1.py reads and writes these values; this module only defines them,
so that both readers (der.py and reference.py) can build them without importing
asn1.py. They are :class:`~e2ee_mail.core.record.Record` types, not dataclasses: a
frozen dataclass costs about half a millisecond to create, and every CMS command
imports these nine (copy one with ``.replace()``).
"""

from __future__ import annotations

from ..core.record import Record

__all__ = [
    "AlgorithmIdentifier",
    "GCMParameters",
    "KEMRecipientInfo",
    "KeyAgreeRecipientInfo",
    "KeyTransRecipientInfo",
    "OAEPParameters",
    "OtherRecipientInfo",
    "RecipientEncryptedKey",
    "RecipientId",
    "RecipientInfo",
]


class AlgorithmIdentifier(Record):
    """AlgorithmIdentifier: OID and the raw DER of its parameters (None if absent)."""

    _fields = ("algorithm", "parameters")
    __slots__ = _fields
    algorithm: str
    parameters: bytes | None

    def __init__(self, algorithm: str, parameters: bytes | None = None) -> None:
        object.__setattr__(self, "algorithm", algorithm)
        object.__setattr__(self, "parameters", parameters)


class RecipientId(Record):
    """issuerAndSerialNumber (the issuer's DER and a serial) or subjectKeyIdentifier."""

    _fields = ("issuer", "serial_number", "subject_key_identifier")
    __slots__ = _fields
    issuer: bytes | None
    serial_number: int | None
    subject_key_identifier: bytes | None

    def __init__(
        self,
        issuer: bytes | None = None,
        serial_number: int | None = None,
        subject_key_identifier: bytes | None = None,
    ) -> None:
        object.__setattr__(self, "issuer", issuer)
        object.__setattr__(self, "serial_number", serial_number)
        object.__setattr__(self, "subject_key_identifier", subject_key_identifier)


class KeyTransRecipientInfo(Record):
    """RFC 5652 §6.2.1."""

    _fields = ("version", "rid", "key_encryption_algorithm", "encrypted_key")
    __slots__ = _fields
    version: int
    rid: RecipientId
    key_encryption_algorithm: AlgorithmIdentifier
    encrypted_key: bytes

    def __init__(
        self,
        version: int,
        rid: RecipientId,
        key_encryption_algorithm: AlgorithmIdentifier,
        encrypted_key: bytes,
    ) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "version", version)
        setattr_(self, "rid", rid)
        setattr_(self, "key_encryption_algorithm", key_encryption_algorithm)
        setattr_(self, "encrypted_key", encrypted_key)


class RecipientEncryptedKey(Record):
    """RFC 5652 §6.2.2 RecipientEncryptedKey."""

    _fields = ("rid", "encrypted_key")
    __slots__ = _fields
    rid: RecipientId
    encrypted_key: bytes

    def __init__(self, rid: RecipientId, encrypted_key: bytes) -> None:
        object.__setattr__(self, "rid", rid)
        object.__setattr__(self, "encrypted_key", encrypted_key)


class KeyAgreeRecipientInfo(Record):
    """RFC 5652 §6.2.2 with an originatorKey (the only form RFC 8418 §2.3 uses)."""

    _fields = (
        "version",
        "originator_algorithm",
        "originator_public_key",
        "ukm",
        "key_encryption_algorithm",
        "recipient_encrypted_keys",
    )
    __slots__ = _fields
    version: int
    originator_algorithm: AlgorithmIdentifier
    originator_public_key: bytes
    ukm: bytes | None
    key_encryption_algorithm: AlgorithmIdentifier
    recipient_encrypted_keys: tuple[RecipientEncryptedKey, ...]

    def __init__(
        self,
        version: int,
        originator_algorithm: AlgorithmIdentifier,
        originator_public_key: bytes,
        ukm: bytes | None,
        key_encryption_algorithm: AlgorithmIdentifier,
        recipient_encrypted_keys: tuple[RecipientEncryptedKey, ...],
    ) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "version", version)
        setattr_(self, "originator_algorithm", originator_algorithm)
        setattr_(self, "originator_public_key", originator_public_key)
        setattr_(self, "ukm", ukm)
        setattr_(self, "key_encryption_algorithm", key_encryption_algorithm)
        setattr_(self, "recipient_encrypted_keys", recipient_encrypted_keys)


class KEMRecipientInfo(Record):
    """RFC 9629 §3, the oriValue of an OtherRecipientInfo of type id-ori-kem."""

    _fields = (
        "version",
        "rid",
        "kem",
        "kemct",
        "kdf",
        "kek_length",
        "ukm",
        "wrap",
        "encrypted_key",
    )
    __slots__ = _fields
    version: int
    rid: RecipientId
    kem: AlgorithmIdentifier
    kemct: bytes
    kdf: AlgorithmIdentifier
    kek_length: int
    ukm: bytes | None
    wrap: AlgorithmIdentifier
    encrypted_key: bytes

    def __init__(
        self,
        version: int,
        rid: RecipientId,
        kem: AlgorithmIdentifier,
        kemct: bytes,
        kdf: AlgorithmIdentifier,
        kek_length: int,
        ukm: bytes | None,
        wrap: AlgorithmIdentifier,
        encrypted_key: bytes,
    ) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "version", version)
        setattr_(self, "rid", rid)
        setattr_(self, "kem", kem)
        setattr_(self, "kemct", kemct)
        setattr_(self, "kdf", kdf)
        setattr_(self, "kek_length", kek_length)
        setattr_(self, "ukm", ukm)
        setattr_(self, "wrap", wrap)
        setattr_(self, "encrypted_key", encrypted_key)


class OtherRecipientInfo(Record):
    """A recipient kind we do not open (KEK, password, other, or an originator by
    reference); kept so inspect() can list it."""

    _fields = ("kind",)
    __slots__ = _fields
    kind: str

    def __init__(self, kind: str) -> None:
        object.__setattr__(self, "kind", kind)


RecipientInfo = (
    KeyTransRecipientInfo
    | KeyAgreeRecipientInfo
    | KEMRecipientInfo
    | OtherRecipientInfo
)


class OAEPParameters(Record):
    """RSAES-OAEP-params (RFC 8017 App. C) reduced to the hash names and label."""

    _fields = ("hash_name", "mgf_hash_name", "label")
    __slots__ = _fields
    hash_name: str
    mgf_hash_name: str
    label: bytes

    def __init__(self, hash_name: str, mgf_hash_name: str, label: bytes) -> None:
        object.__setattr__(self, "hash_name", hash_name)
        object.__setattr__(self, "mgf_hash_name", mgf_hash_name)
        object.__setattr__(self, "label", label)


class GCMParameters(Record):
    """GCMParameters (RFC 5084 §3.2)."""

    _fields = ("nonce", "icv_len")
    __slots__ = _fields
    nonce: bytes
    icv_len: int

    def __init__(self, nonce: bytes, icv_len: int) -> None:
        object.__setattr__(self, "nonce", nonce)
        object.__setattr__(self, "icv_len", icv_len)
