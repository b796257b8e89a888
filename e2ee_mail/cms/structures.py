"""The CMS recipient-side structures as frozen dataclasses.

RecipientInfo (RFC 5652 §6.2) with KeyTransRecipientInfo (§6.2.1),
KeyAgreeRecipientInfo (§6.2.2) and the KEMRecipientInfo of RFC 9629 §3 (an
OtherRecipientInfo of type id-ori-kem), the other kinds kept as
:class:`OtherRecipientInfo` so that inspect() can name them; AlgorithmIdentifier
(RFC 5280 §4.1.1.2), RSAES-OAEP-params (RFC 8017 App. C) and GCMParameters
(RFC 5084 §3.2). Parameters and names stay raw DER where the code only compares or
copies them. asn1.py reads and writes these values; this module only defines them,
so that both readers (der.py and reference.py) can build them without importing
asn1.py.
"""

from __future__ import annotations

import dataclasses

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
class KEMRecipientInfo:
    """RFC 9629 §3, the oriValue of an OtherRecipientInfo of type id-ori-kem."""

    version: int
    rid: RecipientId
    kem: AlgorithmIdentifier
    kemct: bytes
    kdf: AlgorithmIdentifier
    kek_length: int
    ukm: bytes | None
    wrap: AlgorithmIdentifier
    encrypted_key: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class OtherRecipientInfo:
    """A recipient kind we do not open (KEK, password, other, or an originator by
    reference); kept so inspect() can list it."""

    kind: str


RecipientInfo = (
    KeyTransRecipientInfo
    | KeyAgreeRecipientInfo
    | KEMRecipientInfo
    | OtherRecipientInfo
)


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
