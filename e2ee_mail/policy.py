"""Policy: what the library will write and what it will agree to open.

A Policy is a frozen value passed down explicitly; it is never stored in a global.
Presets are built from :data:`DEFAULT` with :func:`dataclasses.replace`.
"""

from __future__ import annotations

import dataclasses
from typing import Final, Literal

__all__ = [
    "DEFAULT",
    "LEGACY_DECRYPT",
    "POST_QUANTUM",
    "RFC4880",
    "RFC9580",
    "Policy",
    "post_quantum_refusal",
]

Profile = Literal["auto", "rfc9580", "rfc4880"]

#: Largest body we agree to decompress (OpenPGP compressed data), in bytes.
DEFAULT_MAX_DECOMPRESSED_BYTES: Final = 1 << 30
#: Deepest nesting of OpenPGP containers (compressed inside encrypted ...).
DEFAULT_MAX_NESTING: Final = 8
#: Most recipient entries (RecipientInfos / PKESKs) we parse in one message.
DEFAULT_MAX_RECIPIENTS: Final = 1000
#: Largest header structure (everything before the bulk body) we parse, in bytes.
DEFAULT_MAX_HEADER_BYTES: Final = 16 << 20
#: Smallest RSA modulus we encrypt to, in bits (decryption takes any size).
DEFAULT_MIN_RSA_BITS: Final = 2048
#: SEIPDv2 chunk size octet we write: 2**(c+6) bytes; 16 gives 4 MiB chunks.
DEFAULT_CHUNK_SIZE_OCTET: Final = 16
#: Largest header block (header fields and the empty line after them) of a mail, of
#: a MIME part or of a decrypted entity we read, in bytes; the same for mail given as
#: bytes, as a message object or as a stream. Mail servers cap far lower (Postfix's
#: header_size_limit is 100 KiB).
DEFAULT_MAX_MAIL_HEADER_BYTES: Final = 1 << 20
#: Most memory one Argon2 S2K derivation may use, in KiB: 2 GiB, the first option of
#: RFC 9106 §4 (t=1, p=4, m=2**21), which RFC 9580 §3.7.1.4 gives as its example and
#: its Appendix A sample locked key uses. Above it a key is refused before any work.
DEFAULT_MAX_ARGON2_MEMORY_KIB: Final = 1 << 21
#: Most work one Argon2 S2K derivation may do: passes times memory, in KiB. One pass
#: over 2 GiB; the second RFC 9106 option (t=3, 64 MiB), which OpenPGP.js and
#: go-crypto write by default, is a tenth of it. Every unlock attempt pays this,
#: a wrong passphrase included.
DEFAULT_MAX_ARGON2_WORK_KIB: Final = 1 << 21


@dataclasses.dataclass(frozen=True, slots=True)
class Policy:
    """What is written and what is accepted.

    Attributes:
        profile: OpenPGP profile: "auto" chooses from the recipients' advertised
            features (RFC 9580 rules), "rfc9580" writes v6 / SEIPDv2, "rfc4880"
            writes v4 / SEIPDv1.
        allow_unauthenticated: open legacy unauthenticated CMS EnvelopedData (AES-CBC,
            3DES-CBC). Never affects OpenPGP: SED and SEIPDv1 without MDC stay
            refused.
        allow_rsa_pkcs1v15_encrypt: write CMS KeyTransRecipientInfo with RSA
            PKCS#1 v1.5.
        min_rsa_bits: smallest RSA modulus encrypted to, in both formats: encrypt,
            encrypt_stream and rewrap refuse a recipient certificate with a smaller
            RSA key (PolicyError). Decryption with one's own smaller RSA key is
            allowed in both formats: refusing it would protect nothing once the
            ciphertext exists, and would only lock the owner out of old mail.
        max_decompressed_bytes: bound on OpenPGP decompression (bombs are PolicyError).
        max_nesting: bound on nested OpenPGP containers.
        max_recipients: bound on recipient entries parsed in one message.
        max_header_bytes: bound on the non-body part of a message.
        max_mail_header_bytes: bound on one header block of a mail (S/MIME,
            PGP/MIME), a part or a decrypted entity, streamed or not.
        chunk_size_octet: SEIPDv2 chunk size octet written (RFC 9580 §5.13.2).
        max_argon2_memory_kib: bound on the memory of one Argon2 S2K derivation
            (OpenPGP secret keys, RFC 9580 §3.7.1.4), in KiB.
        max_argon2_work_kib: bound on passes times memory of one Argon2 S2K
            derivation, in KiB; what one unlock attempt of a key may cost.
        allow_expired_recipients: encrypt to a certificate past its validity end
            (X.509 notAfter, OpenPGP key expiration time) when the caller means to.
            A certificate not yet valid, revoked, or whose key usage forbids
            encryption is refused whatever this says.
        require_post_quantum: encrypt and re-wrap only when every recipient has
            a post-quantum key (OpenPGP ML-KEM+X25519/X448 per RFC 9980, X.509
            ML-KEM per RFC 9936); otherwise PolicyError names the others and
            nothing is written. Without it a recipient with a post-quantum key
            is still encrypted to with it, and the others classically.
    """

    profile: Profile = "auto"
    allow_unauthenticated: bool = False
    allow_rsa_pkcs1v15_encrypt: bool = False
    min_rsa_bits: int = DEFAULT_MIN_RSA_BITS
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
    max_nesting: int = DEFAULT_MAX_NESTING
    max_recipients: int = DEFAULT_MAX_RECIPIENTS
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    max_mail_header_bytes: int = DEFAULT_MAX_MAIL_HEADER_BYTES
    chunk_size_octet: int = DEFAULT_CHUNK_SIZE_OCTET
    allow_expired_recipients: bool = False
    max_argon2_memory_kib: int = DEFAULT_MAX_ARGON2_MEMORY_KIB
    max_argon2_work_kib: int = DEFAULT_MAX_ARGON2_WORK_KIB
    require_post_quantum: bool = False


def post_quantum_refusal(names: list[str]) -> str:
    """The PolicyError text for recipients ``names`` that have no post-quantum key
    under a policy that requires one (the same in both formats)."""
    which = "this recipient has" if len(names) == 1 else "these recipients have"
    return (
        f"the policy requires post-quantum encryption and {which} no post-quantum "
        f"(ML-KEM) key: {', '.join(names)}; ask them for a post-quantum "
        "certificate, or leave them out"
    )


DEFAULT: Final = Policy()
RFC9580: Final = dataclasses.replace(DEFAULT, profile="rfc9580")
RFC4880: Final = dataclasses.replace(DEFAULT, profile="rfc4880")
LEGACY_DECRYPT: Final = dataclasses.replace(DEFAULT, allow_unauthenticated=True)
#: For organisations that send only what a quantum computer cannot open later.
POST_QUANTUM: Final = dataclasses.replace(DEFAULT, require_post_quantum=True)
