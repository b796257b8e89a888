"""Object identifiers used by the CMS layer (dotted strings).

Sources: RFC 5652 §14 (content types), RFC 5083 §1 (id-ct-authEnvelopedData),
RFC 5084 §3 (id-aes128-GCM, id-aes192-GCM, id-aes256-GCM), RFC 3565 §4 (AES-CBC and
AES key wrap), RFC 3370 §5.1 and §5.2 (des-ede3-cbc, rc2-cbc), RFC 8018 App. B.2.1
(desCBC), RFC 8017 App. C
(rsaEncryption, id-RSAES-OAEP, id-mgf1), RFC 5753 §7.1.4 and RFC 8418 §2.2
(dhSinglePass-stdDH-*kdf-scheme, dhSinglePass-stdDH-hkdf-*-scheme), RFC 8410 §3
(id-X25519), RFC 5754 §2 (SHA-2), RFC 5480 §2.1.1 (id-ecPublicKey and the named
curves), RFC 3278 §8.1 and SEC 1 v2 Appendix C (the SHA-1 and cofactor ECDH schemes),
RFC 9629 §3 (id-ori-kem), RFC 8619 §2 (id-alg-hkdf-with-sha256/384/512) and
RFC 9935 §3 / RFC 9936 §4 (id-alg-ml-kem-512, -768, -1024).
"""

from __future__ import annotations

from typing import Final

DATA: Final = "1.2.840.113549.1.7.1"
SIGNED_DATA: Final = "1.2.840.113549.1.7.2"
ENVELOPED_DATA: Final = "1.2.840.113549.1.7.3"
AUTH_ENVELOPED_DATA: Final = "1.2.840.113549.1.9.16.1.23"

AES128_CBC: Final = "2.16.840.1.101.3.4.1.2"
AES192_CBC: Final = "2.16.840.1.101.3.4.1.22"
AES256_CBC: Final = "2.16.840.1.101.3.4.1.42"
AES128_GCM: Final = "2.16.840.1.101.3.4.1.6"
AES192_GCM: Final = "2.16.840.1.101.3.4.1.26"
AES256_GCM: Final = "2.16.840.1.101.3.4.1.46"
DES_EDE3_CBC: Final = "1.2.840.113549.3.7"
RC2_CBC: Final = "1.2.840.113549.3.2"
DES_CBC: Final = "1.3.14.3.2.7"
AES128_WRAP: Final = "2.16.840.1.101.3.4.1.5"
AES192_WRAP: Final = "2.16.840.1.101.3.4.1.25"
AES256_WRAP: Final = "2.16.840.1.101.3.4.1.45"

RSA_ENCRYPTION: Final = "1.2.840.113549.1.1.1"
RSAES_OAEP: Final = "1.2.840.113549.1.1.7"
MGF1: Final = "1.2.840.113549.1.1.8"
P_SPECIFIED: Final = "1.2.840.113549.1.1.9"

MD5: Final = "1.2.840.113549.2.5"
SHA1: Final = "1.3.14.3.2.26"
SHA224: Final = "2.16.840.1.101.3.4.2.4"
SHA256: Final = "2.16.840.1.101.3.4.2.1"
SHA384: Final = "2.16.840.1.101.3.4.2.2"
SHA512: Final = "2.16.840.1.101.3.4.2.3"

X25519: Final = "1.3.101.110"
ORI_KEM: Final = "1.2.840.113549.1.9.16.13.3"
HKDF_SHA256: Final = "1.2.840.113549.1.9.16.3.28"
HKDF_SHA384: Final = "1.2.840.113549.1.9.16.3.29"
HKDF_SHA512: Final = "1.2.840.113549.1.9.16.3.30"
ML_KEM_512: Final = "2.16.840.1.101.3.4.4.1"
ML_KEM_768: Final = "2.16.840.1.101.3.4.4.2"
ML_KEM_1024: Final = "2.16.840.1.101.3.4.4.3"
ED25519: Final = "1.3.101.112"

# SignedData: RFC 8017 App. C and RFC 5754 §3 (sha*WithRSAEncryption), RFC 4055 §3.1
# (id-RSASSA-PSS), RFC 5758 §3.2 (ecdsa-with-SHA*), RFC 8410 §3 (id-Ed25519), the
# signed attributes of RFC 5652 §11 and RFC 8551 §2.5.2 (smimeCapabilities); MD5 and
# SHA-1 only to be refused by name.
MD5_WITH_RSA: Final = "1.2.840.113549.1.1.4"
SHA1_WITH_RSA: Final = "1.2.840.113549.1.1.5"
SHA256_WITH_RSA: Final = "1.2.840.113549.1.1.11"
SHA384_WITH_RSA: Final = "1.2.840.113549.1.1.12"
SHA512_WITH_RSA: Final = "1.2.840.113549.1.1.13"
RSASSA_PSS: Final = "1.2.840.113549.1.1.10"
ECDSA_WITH_SHA1: Final = "1.2.840.10045.4.1"
ECDSA_WITH_SHA256: Final = "1.2.840.10045.4.3.2"
ECDSA_WITH_SHA384: Final = "1.2.840.10045.4.3.3"
ECDSA_WITH_SHA512: Final = "1.2.840.10045.4.3.4"

ATTR_CONTENT_TYPE: Final = "1.2.840.113549.1.9.3"
ATTR_MESSAGE_DIGEST: Final = "1.2.840.113549.1.9.4"
ATTR_SIGNING_TIME: Final = "1.2.840.113549.1.9.5"
ATTR_SMIME_CAPABILITIES: Final = "1.2.840.113549.1.9.15"
DH_SINGLE_PASS_STDDH_SHA256KDF: Final = "1.3.132.1.11.1"
DH_SINGLE_PASS_STDDH_SHA384KDF: Final = "1.3.132.1.11.2"
DH_SINGLE_PASS_STDDH_SHA512KDF: Final = "1.3.132.1.11.3"
DH_SINGLE_PASS_STDDH_HKDF_SHA256: Final = "1.2.840.113549.1.9.16.3.19"
DH_SINGLE_PASS_STDDH_SHA1KDF: Final = "1.3.133.16.840.63.0.2"
DH_SINGLE_PASS_COFACTORDH_SHA1KDF: Final = "1.3.133.16.840.63.0.3"
DH_SINGLE_PASS_COFACTORDH_SHA256KDF: Final = "1.3.132.1.14.1"
DH_SINGLE_PASS_COFACTORDH_SHA384KDF: Final = "1.3.132.1.14.2"
DH_SINGLE_PASS_COFACTORDH_SHA512KDF: Final = "1.3.132.1.14.3"

EC_PUBLIC_KEY: Final = "1.2.840.10045.2.1"
SECP256R1: Final = "1.2.840.10045.3.1.7"
SECP384R1: Final = "1.3.132.0.34"
SECP521R1: Final = "1.3.132.0.35"
#: Named-curve OID -> the curve name core/ecdh_prime.py uses.
EC_CURVES: Final = {SECP256R1: "p256", SECP384R1: "p384", SECP521R1: "p521"}

#: The key algorithm name (x509/certs.py) -> its id-alg-ml-kem OID (RFC 9935 §3);
#: here rather than in kemri.py, which imports the KEM, so that telling an ML-KEM
#: recipient from another costs no import.
KEM_OIDS: Final = {"mlkem768": ML_KEM_768, "mlkem1024": ML_KEM_1024}

#: Hash OID -> name as core/ spells it.
HASH_NAMES: Final = {SHA1: "sha1", SHA256: "sha256", SHA384: "sha384", SHA512: "sha512"}
#: AES key wrap OID -> KEK length in bytes (RFC 3565 §2.3.2).
WRAP_KEY_SIZES: Final = {AES128_WRAP: 16, AES192_WRAP: 24, AES256_WRAP: 32}
#: AES-CBC OID -> key length in bytes (RFC 3565 §4.1).
CBC_KEY_SIZES: Final = {AES128_CBC: 16, AES192_CBC: 24, AES256_CBC: 32}
#: AES-GCM OID -> key length in bytes (RFC 5084 §3.2).
GCM_KEY_SIZES: Final = {AES128_GCM: 16, AES192_GCM: 24, AES256_GCM: 32}
#: Key-agreement scheme OID -> (KDF, hash name).
KDF_SCHEMES: Final = {
    DH_SINGLE_PASS_STDDH_SHA256KDF: ("x963", "sha256"),
    DH_SINGLE_PASS_STDDH_SHA384KDF: ("x963", "sha384"),
    DH_SINGLE_PASS_STDDH_SHA512KDF: ("x963", "sha512"),
    DH_SINGLE_PASS_STDDH_HKDF_SHA256: ("hkdf", "sha256"),
    DH_SINGLE_PASS_STDDH_SHA1KDF: ("x963", "sha1"),
    DH_SINGLE_PASS_COFACTORDH_SHA1KDF: ("x963", "sha1"),
    DH_SINGLE_PASS_COFACTORDH_SHA256KDF: ("x963", "sha256"),
    DH_SINGLE_PASS_COFACTORDH_SHA384KDF: ("x963", "sha384"),
    DH_SINGLE_PASS_COFACTORDH_SHA512KDF: ("x963", "sha512"),
}
#: The schemes opened for X25519 (RFC 8418 §2.2).
X25519_SCHEMES: Final = frozenset(
    {
        DH_SINGLE_PASS_STDDH_SHA256KDF,
        DH_SINGLE_PASS_STDDH_SHA384KDF,
        DH_SINGLE_PASS_STDDH_SHA512KDF,
        DH_SINGLE_PASS_STDDH_HKDF_SHA256,
    }
)
#: The schemes opened for the NIST curves: the X9.63 KDF with SHA-1 (what OpenSSL
#: writes unless told otherwise) or SHA-2 (RFC 5753 §7.1.4), standard or cofactor
#: ECDH (the same secret on these curves, whose cofactor is 1).
EC_SCHEMES: Final = frozenset(
    {
        DH_SINGLE_PASS_STDDH_SHA1KDF,
        DH_SINGLE_PASS_STDDH_SHA256KDF,
        DH_SINGLE_PASS_STDDH_SHA384KDF,
        DH_SINGLE_PASS_STDDH_SHA512KDF,
        DH_SINGLE_PASS_COFACTORDH_SHA1KDF,
        DH_SINGLE_PASS_COFACTORDH_SHA256KDF,
        DH_SINGLE_PASS_COFACTORDH_SHA384KDF,
        DH_SINGLE_PASS_COFACTORDH_SHA512KDF,
    }
)

NAMES: Final = {
    AES128_CBC: "aes-128-cbc",
    AES192_CBC: "aes-192-cbc",
    AES256_CBC: "aes-256-cbc",
    AES128_GCM: "aes-128-gcm",
    AES192_GCM: "aes-192-gcm",
    AES256_GCM: "aes-256-gcm",
    DES_EDE3_CBC: "des-ede3-cbc",
    RC2_CBC: "rc2-cbc",
    DES_CBC: "des-cbc",
    AES128_WRAP: "aes128-wrap",
    AES192_WRAP: "aes192-wrap",
    AES256_WRAP: "aes256-wrap",
    RSA_ENCRYPTION: "rsaes-pkcs1-v1_5",
    RSAES_OAEP: "rsaes-oaep",
    X25519: "x25519",
    DH_SINGLE_PASS_STDDH_SHA256KDF: "x963-sha256",
    DH_SINGLE_PASS_STDDH_SHA384KDF: "x963-sha384",
    DH_SINGLE_PASS_STDDH_SHA512KDF: "x963-sha512",
    DH_SINGLE_PASS_STDDH_HKDF_SHA256: "hkdf-sha256",
    DH_SINGLE_PASS_STDDH_SHA1KDF: "x963-sha1",
    DH_SINGLE_PASS_COFACTORDH_SHA1KDF: "cofactor-x963-sha1",
    DH_SINGLE_PASS_COFACTORDH_SHA256KDF: "cofactor-x963-sha256",
    DH_SINGLE_PASS_COFACTORDH_SHA384KDF: "cofactor-x963-sha384",
    DH_SINGLE_PASS_COFACTORDH_SHA512KDF: "cofactor-x963-sha512",
    EC_PUBLIC_KEY: "ec",
    HKDF_SHA256: "hkdf-sha256",
    HKDF_SHA384: "hkdf-sha384",
    HKDF_SHA512: "hkdf-sha512",
    ML_KEM_512: "mlkem512",
    ML_KEM_768: "mlkem768",
    ML_KEM_1024: "mlkem1024",
    SECP256R1: "p256",
    SECP384R1: "p384",
    SECP521R1: "p521",
}


def name(oid: str) -> str:
    """A short readable name for ``oid``, or the dotted OID itself."""
    return NAMES.get(oid, oid)
