"""Whether an X.509 certificate may receive encrypted mail (RFC 5280 §4.1.2.5,
§4.2.1.3, §4.2.1.12; RFC 8550 §4.4.2, §4.4.4; RFC 8410 §5; RFC 5480 §3).

:func:`usage_refusal` reads once, when the certificate is loaded, what never
changes: a keyUsage extension must allow keyEncipherment for an RSA key (RFC 8550
§4.4.2) or keyAgreement for an X25519 key (RFC 8410 §5) or an EC key (RFC 5480 §3,
the ECDH use of RFC 5753), and an extendedKeyUsage
extension must list id-kp-emailProtection or anyExtendedKeyUsage (RFC 8550 §4.4.4).
A certificate without either extension is not restricted by it. :func:`check_recipient`
adds the validity period (RFC 5280 §4.1.2.5: notBefore through notAfter, inclusive)
against the clock, each time a message is encrypted.

Left out: certification path validation and revocation (CRL, OCSP): the caller
decides whom to encrypt to; this refuses only what the certificate itself forbids.
"""

from __future__ import annotations

import datetime
import time
from typing import TYPE_CHECKING, Final

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from ..errors import PolicyError
from ..policy import Policy

if TYPE_CHECKING:
    from .certs import X509Certificate

__all__ = ["check_recipient", "usage_refusal"]

_MAIL_USAGES: Final = frozenset(
    {ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE}
)


def usage_refusal(cert: x509.Certificate, *, key_kind: str) -> str | None:
    """Why ``cert`` may never receive encrypted mail, or None when it may.

    Args:
        cert: the parsed certificate (its extensions already parsed).
        key_kind: its key algorithm as the certificate names it: "rsa<bits>" (key
            transport), "x25519" or "ecdh-<curve>" (key agreement).
    """
    rsa_key = key_kind.startswith("rsa")
    extensions = cert.extensions
    try:
        key_usage = extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        key_usage = None
    if key_usage is not None:
        if rsa_key and not key_usage.key_encipherment:
            return "its keyUsage does not allow keyEncipherment (RFC 8550 §4.4.2)"
        if not rsa_key and not key_usage.key_agreement:
            rfc = "RFC 8410 §5" if key_kind == "x25519" else "RFC 5480 §3"
            return f"its keyUsage does not allow keyAgreement ({rfc})"
    try:
        extended = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        extended = None
    if extended is not None and not _MAIL_USAGES.intersection(extended):
        return (
            "its extendedKeyUsage lists neither emailProtection nor "
            "anyExtendedKeyUsage (RFC 8550 §4.4.4)"
        )
    return None


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
