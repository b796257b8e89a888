"""ML-KEM recipients: writing and opening one KEMRecipientInfo (RFC 9629 §3) with
ML-KEM-768 or ML-KEM-1024 (RFC 9936).

Written: kem id-alg-ml-kem-768 or id-alg-ml-kem-1024 with parameters absent (RFC 9936
§3 and §4), kemct the FIPS 203 encapsulation to the certificate's key, kdf
id-alg-hkdf-with-sha256 with parameters absent (RFC 9936 §3, RFC 8619 §2), kekLength
32, no ukm, wrap id-aes256-wrap (RFC 9936 §3 makes AES-Wrap-256 the one ML-KEM-768 and
-1024 implementations must support), version 0 (RFC 9629 §3). The key-encryption key
is HKDF-SHA256 with an empty salt, the shared secret as IKM and the DER
CMSORIforKEMOtherInfo as info (RFC 9629 §5, RFC 9936 §3.2).

Opened: the same, with any ukm, with HKDF-SHA384 or HKDF-SHA512 as well (RFC 8619
§2, parameters absent; RFC 9936 §3 allows other KDFs, and senders write SHA-512), and
with id-aes192-wrap as well for ML-KEM-768 (the
192-bit key-encryption strength RFC 9936 §3.1 asks of it) and id-aes128-wrap for
neither (below both parameter sets' strength). kekLength must be the wrap's key size
(RFC 9936 §3.2: "L is consistent with the key size of the key-encryption
algorithm"). Everything that can be checked without the private key is checked
first, as a FormatError; after decapsulation every failure is the same
DecryptionError. ML-KEM decapsulation never fails on a well-formed ciphertext (FIPS
203 §6.3 implicit rejection): an altered kemct gives an unrelated secret, and the AES
key wrap's integrity check (RFC 3394 §2.2.3) then refuses the entry.
"""

from __future__ import annotations

import functools
from typing import Final

from ..core import kdf, kem, keywrap
from ..errors import ASN1Error, UnsupportedError
from ..x509.certs import X509Certificate, X509SecretKey
from . import asn1, oids
from .structures import AlgorithmIdentifier, KEMRecipientInfo, RecipientId

__all__ = [
    "KEM_OIDS",
    "check_supported",
    "decapsulate",
    "derive_kek",
    "describe_algorithm",
    "entry",
    "unwrap",
    "wrap_der",
]

#: The key algorithm name (x509/certs.py) -> its id-alg-ml-kem OID (RFC 9935 §3).
KEM_OIDS: Final = oids.KEM_OIDS
#: Ciphertext sizes by KEM OID (FIPS 203 §8, Table 3).
_CIPHERTEXT_SIZES: Final = {
    KEM_OIDS[name]: size for name, size in kem.CIPHERTEXT_SIZES.items()
}
#: The key wraps opened for each parameter set: a key-encryption strength at least
#: the parameter set's (RFC 9936 §3.1, Table 1).
_WRAPS: Final = {
    oids.ML_KEM_768: frozenset((oids.AES192_WRAP, oids.AES256_WRAP)),
    oids.ML_KEM_1024: frozenset((oids.AES256_WRAP,)),
}
_KDF: Final = AlgorithmIdentifier(oids.HKDF_SHA256)
#: The KDFs opened: HKDF with each SHA-2 hash of RFC 8619 §2.
_HKDF_HASHES: Final = {
    oids.HKDF_SHA256: "sha256",
    oids.HKDF_SHA384: "sha384",
    oids.HKDF_SHA512: "sha512",
}
_WRAP: Final = AlgorithmIdentifier(oids.AES256_WRAP)
_KEK_LENGTH: Final = 32


def derive_kek(
    shared: bytes,
    kdf_oid: str,
    wrap: AlgorithmIdentifier,
    kek_length: int,
    ukm: bytes | None,
) -> bytes:
    """The key-encryption key: HKDF(salt="", IKM=shared, info=DER
    CMSORIforKEMOtherInfo, L=kekLength) (RFC 9629 §5, RFC 9936 §3.2), with the hash
    ``kdf_oid`` names."""
    info = asn1.serialize_kem_other_info(wrap, kek_length, ukm)
    hash_name = _HKDF_HASHES[kdf_oid]
    return kdf.hkdf(
        shared, hash_name=hash_name, salt=None, info=info, length=kek_length
    )


def entry(
    rid: RecipientId, kem_oid: str, kemct: bytes, encrypted_key: bytes
) -> KEMRecipientInfo:
    """The KEMRecipientInfo this module writes, around its variable parts."""
    return KEMRecipientInfo(
        version=0,
        rid=rid,
        kem=AlgorithmIdentifier(kem_oid),
        kemct=kemct,
        kdf=_KDF,
        kek_length=_KEK_LENGTH,
        ukm=None,
        wrap=_WRAP,
        encrypted_key=encrypted_key,
    )


@functools.lru_cache(maxsize=1024)
def _cut(rid: RecipientId, kem_oid: str) -> tuple[bytes, bytes]:
    """The entry's DER before the kemct content and between it and the wrapped key
    (whose sizes never change for a 32-byte content key), serialized once."""
    size = _CIPHERTEXT_SIZES[kem_oid]
    kemct_marker = b"\xee" * size
    wrapped_marker = b"\xdd" * 40
    template = asn1.serialize_kem_recipient_info(
        entry(rid, kem_oid, kemct_marker, wrapped_marker)
    )
    at = template.rindex(kemct_marker)
    return template[:at], template[at + size : -len(wrapped_marker)]


def wrap_der(cert: X509Certificate, rid: RecipientId, cek: bytes) -> bytes:
    """Wrap ``cek`` for an ML-KEM certificate: the DER of its RecipientInfo."""
    public = cert.public_key
    assert isinstance(public, kem.PublicKey)
    kem_oid = KEM_OIDS[cert.algorithm]
    shared, kemct = kem.encapsulate(public)
    kek = derive_kek(shared, _KDF.algorithm, _WRAP, _KEK_LENGTH, None)
    wrapped = keywrap.wrap(kek, cek)
    head, mid = _cut(rid, kem_oid)
    if len(wrapped) != 40 or len(kemct) != _CIPHERTEXT_SIZES[kem_oid]:
        return asn1.serialize_kem_recipient_info(entry(rid, kem_oid, kemct, wrapped))
    return b"".join((head, kemct, mid, wrapped))


def _absent(alg: AlgorithmIdentifier, what: str) -> None:
    if alg.parameters is not None:
        raise ASN1Error(f"the {what} parameters must be absent")


def check_supported(info: KEMRecipientInfo, key: X509SecretKey) -> None:
    """Refuse, from public data only, an entry ``key`` cannot or may not open.

    Raises:
        ASN1Error: a version other than 0, parameters where there must be none, or
            a ciphertext of the wrong size.
        UnsupportedError: another KEM than the key's, another KDF than HKDF
            with SHA-256, SHA-384 or SHA-512, a key wrap weaker than the KEM, or
            a kekLength that is not the wrap's key size.
    """
    if info.version != 0:  # RFC 9629 §3: always 0.
        raise ASN1Error("KEMRecipientInfo version must be 0")
    kem_oid = KEM_OIDS.get(key.algorithm)
    if info.kem.algorithm != kem_oid:
        raise UnsupportedError(
            f"KEM algorithm {oids.name(info.kem.algorithm)} does not match the "
            f"{key.algorithm} key"
        )
    _absent(info.kem, "ML-KEM")  # RFC 9935 §3
    if len(info.kemct) != _CIPHERTEXT_SIZES[kem_oid]:
        raise ASN1Error(f"the {key.algorithm} ciphertext has the wrong size")
    if info.kdf.algorithm not in _HKDF_HASHES:
        raise UnsupportedError(
            f"KEM key derivation {oids.name(info.kdf.algorithm)} is not supported"
        )
    _absent(info.kdf, "HKDF")  # RFC 8619 §2
    if info.wrap.algorithm not in _WRAPS[kem_oid]:
        raise UnsupportedError(
            f"key wrap {oids.name(info.wrap.algorithm)} is not supported with "
            f"{key.algorithm}"
        )
    _absent(info.wrap, "AES key wrap")  # RFC 3565 §2.3.2
    if info.kek_length != oids.WRAP_KEY_SIZES[info.wrap.algorithm]:
        raise UnsupportedError(
            f"kekLength {info.kek_length} does not match "
            f"{oids.name(info.wrap.algorithm)}"
        )


def decapsulate(key: X509SecretKey, kemct: bytes) -> bytes:
    """ML-KEM.Decaps (FIPS 203 §7.3) of ``kemct`` with ``key``: the shared secret.

    Raises:
        DecryptionError: a ciphertext of the wrong size (check_supported refuses
            those first, from public data).
    """
    private = key.private_key
    assert isinstance(private, kem.PrivateKey)
    return kem.decapsulate(private, kemct)


def unwrap(info: KEMRecipientInfo, key: X509SecretKey) -> bytes:
    """The content key from one entry. Call :func:`check_supported` first.

    Raises:
        DecryptionError: the key wrap's integrity check failed (a wrong key, an
            altered ciphertext, wrapped key or ukm).
    """
    shared = decapsulate(key, info.kemct)
    kek = derive_kek(shared, info.kdf.algorithm, info.wrap, info.kek_length, info.ukm)
    return keywrap.unwrap(kek, info.encrypted_key)


def describe_algorithm(info: KEMRecipientInfo) -> str:
    """ "mlkem768-hkdf-sha256+aes256-wrap" and the like, for inspect."""
    return (
        f"{oids.name(info.kem.algorithm)}-{oids.name(info.kdf.algorithm)}"
        f"+{oids.name(info.wrap.algorithm)}"
    )
