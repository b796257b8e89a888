"""OpenPGP packet codecs (RFC 9580 §4, §5): bytes <-> frozen slotted dataclasses.

Codecs here never encrypt, draw randomness or open files; the composers in
``e2ee_mail.openpgp`` do. Every parser treats its input as hostile and ends any
malformed input in a :class:`e2ee_mail.errors.PacketError`.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "AEAD_EAX",
    "AEAD_GCM",
    "AEAD_OCB",
    "CIPHER_AES128",
    "CIPHER_AES192",
    "CIPHER_AES256",
    "CIPHER_KEY_SIZE",
    "HASH_SHA256",
    "HASH_SHA384",
    "HASH_SHA512",
    "OID_CV25519",
    "OID_ED25519_LEGACY",
    "PK_DSA",
    "PK_ECDH",
    "PK_ECDSA",
    "PK_ED448",
    "PK_ED25519",
    "PK_EDDSA_LEGACY",
    "PK_ELGAMAL",
    "PK_ELGAMAL_SIGN",
    "PK_MLDSA65_ED25519",
    "PK_MLDSA87_ED448",
    "PK_MLKEM768_X25519",
    "PK_MLKEM1024_X448",
    "PK_RSA",
    "PK_RSA_ENCRYPT_ONLY",
    "PK_RSA_SIGN_ONLY",
    "PK_X448",
    "PK_X25519",
    "PQ_KEM_ALGOS",
    "PQ_SIG_ALGOS",
    "TAG_COMPRESSED",
    "TAG_LITERAL",
    "TAG_MARKER",
    "TAG_MDC",
    "TAG_OCBED",
    "TAG_ONE_PASS_SIG",
    "TAG_PADDING",
    "TAG_PKESK",
    "TAG_PUBLIC_KEY",
    "TAG_PUBLIC_SUBKEY",
    "TAG_SECRET_KEY",
    "TAG_SECRET_SUBKEY",
    "TAG_SED",
    "TAG_SEIPD",
    "TAG_SIGNATURE",
    "TAG_SKESK",
    "TAG_TRUST",
    "TAG_USER_ATTRIBUTE",
    "TAG_USER_ID",
]

# Packet Type IDs, RFC 9580 §5.
TAG_PKESK: Final = 1
TAG_SIGNATURE: Final = 2
TAG_SKESK: Final = 3
TAG_ONE_PASS_SIG: Final = 4
TAG_SECRET_KEY: Final = 5
TAG_PUBLIC_KEY: Final = 6
TAG_SECRET_SUBKEY: Final = 7
TAG_COMPRESSED: Final = 8
TAG_SED: Final = 9
TAG_MARKER: Final = 10
TAG_LITERAL: Final = 11
TAG_TRUST: Final = 12
TAG_USER_ID: Final = 13
TAG_PUBLIC_SUBKEY: Final = 14
TAG_USER_ATTRIBUTE: Final = 17
TAG_SEIPD: Final = 18
TAG_MDC: Final = 19
#: LibrePGP's OCB Encrypted Data packet (RFC 4880bis-10 §5.16, "AEAD Encrypted
#: Data"); RFC 9580 leaves type 20 reserved. Read, never written.
TAG_OCBED: Final = 20
TAG_PADDING: Final = 21

# Public key algorithms, RFC 9580 §9.1.
PK_RSA: Final = 1
PK_RSA_ENCRYPT_ONLY: Final = 2
PK_RSA_SIGN_ONLY: Final = 3
PK_ELGAMAL: Final = 16
PK_DSA: Final = 17
PK_ECDH: Final = 18
PK_ECDSA: Final = 19
#: Reserved, formerly ElGamal encrypt-or-sign (RFC 4880 §9.1): still found in old keys.
PK_ELGAMAL_SIGN: Final = 20
PK_EDDSA_LEGACY: Final = 22
PK_X25519: Final = 25
PK_X448: Final = 26
PK_ED25519: Final = 27
PK_ED448: Final = 28
#: ML-DSA-65+Ed25519, RFC 9980 §2.1: v6 keys and v6 signatures only.
PK_MLDSA65_ED25519: Final = 30
#: ML-DSA-87+Ed448, RFC 9980 §2.1: v6 keys and v6 signatures only.
PK_MLDSA87_ED448: Final = 31
#: ML-KEM-768+X25519, RFC 9980 §2.1: the one post-quantum algorithm v4 keys may use.
PK_MLKEM768_X25519: Final = 35
#: ML-KEM-1024+X448, RFC 9980 §2.1: v6 keys only.
PK_MLKEM1024_X448: Final = 36
#: The post-quantum composite KEMs (RFC 9980 §4).
PQ_KEM_ALGOS: Final = frozenset({PK_MLKEM768_X25519, PK_MLKEM1024_X448})
#: The post-quantum composite signatures (RFC 9980 §5).
PQ_SIG_ALGOS: Final = frozenset({PK_MLDSA65_ED25519, PK_MLDSA87_ED448})

# Curve OIDs of the legacy v4 curves, RFC 9580 §9.2 (DER contents, no tag/length).
OID_ED25519_LEGACY: Final = bytes.fromhex("2b06010401da470f01")
OID_CV25519: Final = bytes.fromhex("2b060104019755010501")

# Symmetric algorithms, RFC 9580 §9.3.
CIPHER_AES128: Final = 7
CIPHER_AES192: Final = 8
CIPHER_AES256: Final = 9
#: Key size in octets of each AES cipher: session keys, S2K-derived keys and the
#: ECDH key-wrap KEK (RFC 9580 §11.5) all use this one table.
CIPHER_KEY_SIZE: Final = {CIPHER_AES128: 16, CIPHER_AES192: 24, CIPHER_AES256: 32}

# AEAD algorithms, RFC 9580 §9.6.
AEAD_EAX: Final = 1
AEAD_OCB: Final = 2
AEAD_GCM: Final = 3

# Hash algorithms, RFC 9580 §9.5.
HASH_SHA256: Final = 8
HASH_SHA384: Final = 9
HASH_SHA512: Final = 10
