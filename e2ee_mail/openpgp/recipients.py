"""Choosing and opening recipient entries for OpenPGP messages (RFC 9580 §5.1,
§5.2.3.15, §5.2.3.32, §10.3.2.1).

Encrypting: which container the recipients allow (SEIPDv2 when all advertise it),
which AEAD ciphersuite, which key of each certificate (the newest usable encryption
key, RSA only above the policy's minimum size; a post-quantum one when the
certificate has one, and only such keys when the policy requires them), and the
PKESK v6 packets.
Decrypting: which PKESKs name our keys (by fingerprint or key ID), then anonymous
ones tried with every key; v6 PKESKs go with SEIPDv2, v3 with SEIPDv1.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Final, Literal

from ..errors import (
    DecryptionError,
    NoMatchingKeyError,
    PolicyError,
    UnsupportedError,
    UsageError,
)
from ..model import Certificate, SecretKey
from ..policy import Policy, post_quantum_refusal
from . import pkesk
from .certs import KeyInfo, OpenPGPCertificate, OpenPGPSecretKey
from .keymaterial import rsa_bits
from .packets import (
    AEAD_GCM,
    AEAD_OCB,
    CIPHER_AES128,
    CIPHER_AES256,
    PK_RSA,
    PK_RSA_ENCRYPT_ONLY,
    PQ_KEM_ALGOS,
    TAG_PKESK,
)
from .packets.header import serialize_packet
from .packets.pkesk import PKESKv3, PKESKv6

__all__ = [
    "Container",
    "choose_container",
    "choose_suite",
    "has_pq_key",
    "openpgp_certs",
    "openpgp_keys",
    "pkesk_packets",
    "recipient_key",
    "recipient_keys",
    "session_keys",
]

Container = Literal["seipdv2", "seipdv1"]


def openpgp_certs(certs: Sequence[Certificate]) -> list[OpenPGPCertificate]:
    found = []
    for cert in certs:
        # type() first: isinstance against an ABC subclass is the slow path, and
        # this runs per recipient per message.
        if type(cert) is not OpenPGPCertificate and not isinstance(
            cert, OpenPGPCertificate
        ):
            raise UsageError(
                f"{cert!r} is not an OpenPGP certificate: format openpgp needs one"
            )
        found.append(cert)
    return found


def openpgp_keys(keys: Sequence[SecretKey]) -> list[OpenPGPSecretKey]:
    found = [
        k
        for k in keys
        if type(k) is OpenPGPSecretKey or isinstance(k, OpenPGPSecretKey)
    ]
    if not found:
        raise NoMatchingKeyError("none of the supplied keys is an OpenPGP key")
    return found


def choose_container(certs: Sequence[OpenPGPCertificate], policy: Policy) -> Container:
    """SEIPDv2 when every recipient advertises it (RFC 9580 §5.2.3.32), else v1.

    Profile "rfc9580" forces v2, "rfc4880" forces v1.
    """
    if policy.profile == "rfc4880":
        return "seipdv1"
    if policy.profile == "rfc9580" or all(c.supports_seipdv2 for c in certs):
        return "seipdv2"
    return "seipdv1"


def has_pq_key(cert: OpenPGPCertificate) -> bool:
    """Whether ``cert`` has a usable post-quantum encryption key (RFC 9980): such a
    certificate accepts AES-256 and AES-256/OCB even when its preferences do not
    list them (RFC 9980 §7.1)."""
    return any(k.packet.algorithm in PQ_KEM_ALGOS for k in cert.encryption_keys())


_AES256_OCB: Final = (CIPHER_AES256, AEAD_OCB)


def choose_suite(certs: Sequence[OpenPGPCertificate]) -> tuple[int, int]:
    """(cipher, AEAD mode): AES-256-GCM if all list GCM, else the first OCB suite all
    accept; AES-128-OCB is implicitly accepted by everyone (RFC 9580 §5.2.3.15), and
    AES-256-OCB by a certificate with a post-quantum key (:func:`has_pq_key`)."""
    gcm = (CIPHER_AES256, AEAD_GCM)
    if all(gcm in c.aead_preferences for c in certs):
        return gcm
    if all(_AES256_OCB in c.aead_preferences or has_pq_key(c) for c in certs):
        return _AES256_OCB
    return CIPHER_AES128, AEAD_OCB


def recipient_key(cert: OpenPGPCertificate, policy: Policy) -> KeyInfo:
    """The key of ``cert`` a message is encrypted to.

    Raises:
        PolicyError: the certificate has expired (unless the policy accepts it),
            or its RSA key is below the policy's minimum size.
        UnsupportedError: no encryption key at all (revoked, or none bound).
    """
    key = cert.encryption_key()
    if key is None:
        key = cert.expired_encryption_key()
        if key is None:
            reasons = "; ".join(cert.encryption_rejections()) or "it has no subkey"
            raise UnsupportedError(
                f"certificate {cert.fingerprint} has no valid encryption key: {reasons}"
            )
        if not policy.allow_expired_recipients:
            ends = [e for e in (cert.expires, key.expires) if e is not None]
            when = time.strftime(
                "%Y-%m-%d %H:%M:%S UTC", time.gmtime(min(ends, default=0))
            )
            raise PolicyError(
                f"certificate {cert.fingerprint} expired on {when}: ask for a "
                "current one, or encrypt to it anyway with "
                "Policy(allow_expired_recipients=True)"
            )
    if key.packet.algorithm in (PK_RSA, PK_RSA_ENCRYPT_ONLY):
        bits = rsa_bits(key.packet)
        if bits < policy.min_rsa_bits:
            raise PolicyError(
                f"certificate {cert.fingerprint} has a {bits}-bit RSA key; the "
                f"policy requires at least {policy.min_rsa_bits} bits"
            )
    return key


def recipient_keys(
    certs: Sequence[OpenPGPCertificate], policy: Policy
) -> list[KeyInfo]:
    """:func:`recipient_key` of each certificate; under a policy that requires
    post-quantum encryption, only if each is a post-quantum key.

    Raises:
        PolicyError: as :func:`recipient_key`; or the policy requires
            post-quantum keys, naming every certificate that has none.
        UnsupportedError: as :func:`recipient_key`.
    """
    keys = [recipient_key(c, policy) for c in certs]
    if policy.require_post_quantum:
        classic = [
            _display(cert)
            for cert, key in zip(certs, keys, strict=True)
            if key.packet.algorithm not in PQ_KEM_ALGOS
        ]
        if classic:
            raise PolicyError(post_quantum_refusal(classic))
    return keys


def _display(cert: OpenPGPCertificate) -> str:
    if cert.emails:
        return f"{cert.fingerprint} <{cert.emails[0]}>"
    return cert.fingerprint


def pkesk_packets(session_key: bytes, recipients: Sequence[KeyInfo]) -> bytes:
    return b"".join(
        [
            serialize_packet(TAG_PKESK, pkesk.wrap_v6_body(session_key, key))
            for key in recipients
        ]
    )


def session_keys(
    packets: Sequence[PKESKv3 | PKESKv6],
    keys: Sequence[OpenPGPSecretKey],
    version: int,
    *,
    key_size: int = 32,
) -> Iterator[tuple[int | None, bytes]]:
    """Candidate (cipher, session key) pairs, from PKESKs that name one of our keys
    first, then anonymous ones tried with every key.

    A PKESK that names our key always gives a candidate: when its RSA unwrap fails,
    a random stand-in (:func:`pkesk.unwrap_named`, implicit rejection; ``key_size``
    is the SEIPDv2 cipher's key size, AES-256's by default), which the content check
    then rejects like a wrong key. An anonymous PKESK is most likely someone else's:
    one that does not unwrap is skipped (its checksum, not the content, rejects it),
    so that a stream, which opens the first candidate only, still finds ours.

    Raises (when exhausted without a candidate):
        NoMatchingKeyError: no PKESK names any of our keys and none is anonymous.
        DecryptionError: a PKESK named our key but did not open.
    """
    wanted = PKESKv6 if version == 2 else PKESKv3
    ours = [pair for key in keys for pair in key.decryption_keys()]
    named = False
    anonymous = []
    for packet in packets:
        if not isinstance(packet, wanted):
            continue
        if packet.anonymous:
            anonymous.append(packet)
            continue
        for info, private in ours:
            if not pkesk.names(packet, info):
                continue
            named = True
            try:
                found = pkesk.unwrap_named(packet, private, info, key_size=key_size)
            except DecryptionError:
                continue
            yield found
    for packet in anonymous:
        for info, private in ours:
            if packet.algorithm != info.packet.algorithm:
                continue
            named = True
            try:
                found = pkesk.unwrap(packet, private, info)
            except (DecryptionError, UnsupportedError):
                continue
            yield found
    if named:
        raise DecryptionError()
    _refuse_unusable(packets, keys, wanted)
    if not packets:
        raise UnsupportedError(
            "the message has no public-key recipient entries (password-encrypted "
            "messages are not supported)"
        )
    raise NoMatchingKeyError("none of the supplied keys is a recipient of this message")


def _refuse_unusable(
    packets: Sequence[PKESKv3 | PKESKv6],
    keys: Sequence[OpenPGPSecretKey],
    wanted: type[PKESKv3 | PKESKv6],
) -> None:
    """When a PKESK names a key of ours that cannot decrypt here (an ElGamal
    subkey, a secret part kept on a smartcard), say so rather than that the
    message is not for us.

    Raises:
        UnsupportedError: naming the key and why it cannot decrypt.
    """
    for packet in packets:
        if not isinstance(packet, wanted) or packet.anonymous:
            continue
        for key in keys:
            for info, reason in key.unusable_keys():
                if pkesk.names(packet, info):
                    raise UnsupportedError(
                        f"the message is encrypted to key "
                        f"{info.fingerprint.hex().upper()}, which cannot decrypt "
                        f"here: {reason}"
                    )
