"""Whether an X.509 certificate may receive encrypted mail (RFC 5280 §4.1.2.5,
§4.2.1.3, §4.2.1.12; RFC 8550 §4.4.2, §4.4.4; RFC 8410 §5; RFC 5480 §3; RFC 9935
§5).

:func:`usage_refusal` reads once, when the certificate is loaded, what never
changes: a keyUsage extension must allow keyEncipherment for an RSA key (RFC 8550
§4.4.2) or an ML-KEM key (RFC 9935 §5), or keyAgreement for an X25519 key (RFC 8410
§5) or an EC key (RFC 5480 §3, the ECDH use of RFC 5753), and an extendedKeyUsage
extension must list id-kp-emailProtection or anyExtendedKeyUsage (RFC 8550 §4.4.4).
A certificate without either extension is not restricted by it. :func:`check_recipient`
adds the validity period (RFC 5280 §4.1.2.5: notBefore through notAfter, inclusive)
against the clock, each time a message is encrypted. An Ed25519 key only signs
(RFC 8419).

Whether it may sign mail: :func:`signing_refusal` (RFC 8550 §4.4.2, §4.4.4): a
keyUsage extension must allow digitalSignature or nonRepudiation, an
extendedKeyUsage must list emailProtection or anyExtendedKeyUsage, and the key must
be one that signs (RSA, ECDSA, Ed25519). :func:`check_signer` adds the validity
period when signing; a verifier asks :func:`validity_refusal` about the signing
time.

Left out: certification path validation and revocation (CRL, OCSP): the caller
decides whom to encrypt to; this refuses only what the certificate itself forbids.
"""

from __future__ import annotations

import datetime
import functools
import time
from typing import TYPE_CHECKING, Final

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from ..errors import PolicyError
from ..policy import Policy

if TYPE_CHECKING:
    from .certs import X509Certificate

__all__ = [
    "check_recipient",
    "check_signer",
    "signing_refusal",
    "usage_refusal",
    "validity_refusal",
]

_MAIL_USAGES: Final = frozenset(
    {ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE}
)


def usage_refusal(cert: x509.Certificate, *, key_kind: str) -> str | None:
    """Why ``cert`` may never receive encrypted mail, or None when it may.

    Args:
        cert: the parsed certificate (its extensions already parsed).
        key_kind: its key algorithm as the certificate names it: "rsa<bits>" (key
            transport), "mlkem768" or "mlkem1024" (key encapsulation), "x25519" or
            "ecdh-<curve>" (key agreement), or "ed25519".
    """
    if key_kind == "ed25519":
        return "its Ed25519 key signs only (RFC 8419)"
    # Key transport (RSA) and key encapsulation (ML-KEM, RFC 9935 §5) both need
    # keyEncipherment; key agreement needs keyAgreement.
    rsa_key = key_kind.startswith(("rsa", "mlkem"))
    extensions = cert.extensions
    key_usage = _key_usage(extensions)
    if key_usage is not None:
        if rsa_key and not key_usage.key_encipherment:
            rfc = "RFC 9935 §5" if key_kind.startswith("mlkem") else "RFC 8550 §4.4.2"
            return f"its keyUsage does not allow keyEncipherment ({rfc})"
        if not rsa_key and not key_usage.key_agreement:
            rfc = "RFC 8410 §5" if key_kind == "x25519" else "RFC 5480 §3"
            return f"its keyUsage does not allow keyAgreement ({rfc})"
    return _extended_usage_refusal(extensions)


_EKU_REFUSAL: Final = (
    "its extendedKeyUsage lists neither emailProtection nor "
    "anyExtendedKeyUsage (RFC 8550 §4.4.4)"
)


def _key_usage(extensions: x509.Extensions) -> x509.KeyUsage | None:
    try:
        return extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None


def _extended_usage_refusal(extensions: x509.Extensions) -> str | None:
    """RFC 8550 §4.4.4, for encryption and signing alike: an extendedKeyUsage
    extension must list id-kp-emailProtection (or anyExtendedKeyUsage)."""
    try:
        extended = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return None
    return None if _MAIL_USAGES.intersection(extended) else _EKU_REFUSAL


@functools.lru_cache(maxsize=256)
def signing_refusal(cert: X509Certificate) -> str | None:
    """Why ``cert``'s key may not sign mail, or None when it may.

    Memoized: a certificate's extensions never change, and every signature made or
    checked asks.

    RFC 8550 §4.4.2: a keyUsage extension must set digitalSignature or
    nonRepudiation; §4.4.4: an extendedKeyUsage extension must list
    id-kp-emailProtection (or anyExtendedKeyUsage). An X25519 key cannot sign.
    """
    if cert.algorithm == "x25519":
        return "its X25519 key cannot sign (RFC 8410 §5)"
    if cert.algorithm.startswith("mlkem"):
        return "its ML-KEM key cannot sign (RFC 9935 §5)"
    extensions = cert.x509.extensions
    key_usage = _key_usage(extensions)
    if key_usage is not None and not (
        key_usage.digital_signature or key_usage.content_commitment
    ):
        return (
            "its keyUsage allows neither digitalSignature nor nonRepudiation "
            "(RFC 8550 §4.4.2)"
        )
    return _extended_usage_refusal(extensions)


def validity_refusal(cert: X509Certificate, when: float) -> str | None:
    """Why ``cert`` was not valid at ``when`` (seconds since the epoch), or None."""
    if when < cert.valid_from:
        return f"the certificate is not valid before {_when(cert.not_before)}"
    if when > cert.valid_until:
        return f"the certificate expired on {_when(cert.not_after)}"
    return None


def check_signer(cert: X509Certificate, now: float | None = None) -> None:
    """Refuse a certificate whose key may not sign mail at ``now``.

    Args:
        cert: the signer's certificate.
        now: seconds since the epoch; the current time when None.

    Raises:
        PolicyError: its key usage forbids signing mail, or it is not valid now.
    """
    refusal = signing_refusal(cert)
    if refusal is None:
        refusal = validity_refusal(cert, time.time() if now is None else now)
    if refusal is not None:
        raise PolicyError(
            f"certificate {cert.display_name} cannot sign mail: {refusal}"
        )


def _when(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def check_recipient(
    cert: X509Certificate, policy: Policy, now: float | None = None
) -> None:
    """Refuse a certificate that may not receive encrypted mail at ``now``.

    Args:
        cert: the recipient certificate.
        policy: ``allow_expired_recipients`` accepts one past its notAfter.
        now: seconds since the epoch; the current time when None.

    Raises:
        PolicyError: its key usage forbids encryption, it is not yet valid, or it
            has expired (unless the policy accepts that), naming the reason.
    """
    refusal = cert.usage_refusal
    if refusal is not None:
        raise PolicyError(
            f"certificate {cert.display_name} cannot receive encrypted mail: {refusal}"
        )
    when = time.time() if now is None else now
    not_before, not_after = cert.not_before, cert.not_after
    if when < cert.valid_from:
        raise PolicyError(
            f"certificate {cert.display_name} is not valid before "
            f"{_when(not_before)}: check the clock, or wait"
        )
    if when > cert.valid_until and not policy.allow_expired_recipients:
        raise PolicyError(
            f"certificate {cert.display_name} expired on {_when(not_after)}: ask "
            "for a current one, or encrypt to it anyway with "
            "Policy(allow_expired_recipients=True)"
        )
