"""e2ee_mail: end-to-end encrypted mail in standard formats.

Encrypt a body or a whole ``email.message.EmailMessage`` for recipients' X.509 or
OpenPGP certificates before any sending API sees it; the output is S/MIME (CMS
AuthEnvelopedData, AES-256-GCM) or OpenPGP (RFC 9580 SEIPDv2 / RFC 4880), readable by
OpenSSL, GnuPG, Thunderbird, Outlook and OpenPGP.js.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import (
    ArmorError,
    ASN1Error,
    DecryptionError,
    Error,
    FormatError,
    KeyLoadError,
    MIMEError,
    NoMatchingKeyError,
    PacketError,
    PassphraseError,
    PolicyError,
    SignatureError,
    UnsupportedError,
    UsageError,
)

if TYPE_CHECKING:
    from ._api import (
        decrypt,
        decrypt_stream,
        decrypt_verified,
        encrypt,
        encrypt_stream,
        inspect,
        rewrap,
        rewrap_stream,
        sign,
        verify,
    )
    from ._inspect import Inspection, RecipientDescription
    from ._keys_api import generate_key, load_certificate, load_key
    from ._mail_api import (
        decrypt_message,
        decrypt_message_verified,
        encrypt_message,
        header_protection_report,
        rewrap_message,
        sign_message,
        verify_message,
    )
    from .keys.ring import Keyring, KeyringError, KeyVersion, RotationPolicy
    from .mime.hcp import (
        hcp_baseline,
        hcp_minimal,
        hcp_no_confidentiality,
        hcp_shy,
    )
    from .mime.protection_report import HeaderProtectionReport
    from .model import (
        Certificate,
        SecretKey,
        SignatureResult,
        Verified,
        VerifiedMessage,
    )
    from .policy import (
        DEFAULT,
        LEGACY_DECRYPT,
        POST_QUANTUM,
        RFC4880,
        RFC9580,
        Policy,
    )

__version__ = "0.1.0"

__all__ = [
    "DEFAULT",
    "LEGACY_DECRYPT",
    "POST_QUANTUM",
    "RFC4880",
    "RFC9580",
    "ASN1Error",
    "ArmorError",
    "Certificate",
    "DecryptionError",
    "Error",
    "FormatError",
    "HeaderProtectionReport",
    "Inspection",
    "KeyLoadError",
    "KeyVersion",
    "Keyring",
    "KeyringError",
    "MIMEError",
    "NoMatchingKeyError",
    "PacketError",
    "PassphraseError",
    "Policy",
    "PolicyError",
    "RecipientDescription",
    "RotationPolicy",
    "SecretKey",
    "SignatureError",
    "SignatureResult",
    "UnsupportedError",
    "UsageError",
    "Verified",
    "VerifiedMessage",
    "decrypt",
    "decrypt_message",
    "decrypt_message_verified",
    "decrypt_stream",
    "decrypt_verified",
    "encrypt",
    "encrypt_message",
    "encrypt_stream",
    "generate_key",
    "hcp_baseline",
    "hcp_minimal",
    "hcp_no_confidentiality",
    "hcp_shy",
    "header_protection_report",
    "inspect",
    "load_certificate",
    "load_key",
    "rewrap",
    "rewrap_message",
    "rewrap_stream",
    "sign",
    "sign_message",
    "verify",
    "verify_message",
]


#: Public name -> the submodule that defines it. They are imported on first use
#: (PEP 562): `import e2ee_mail` costs only the exception classes, and
#: `import e2ee_mail.cli` does not pay for what its command does not use (the CLI's
#: start-up at 1 KiB is mostly imports).
_LAZY: dict[str, str] = {
    **dict.fromkeys(
        (
            "decrypt",
            "decrypt_stream",
            "decrypt_verified",
            "encrypt",
            "encrypt_stream",
            "inspect",
            "rewrap",
            "rewrap_stream",
            "sign",
            "verify",
        ),
        "._api",
    ),
    **dict.fromkeys(("generate_key", "load_certificate", "load_key"), "._keys_api"),
    **dict.fromkeys(
        (
            "decrypt_message",
            "decrypt_message_verified",
            "encrypt_message",
            "header_protection_report",
            "rewrap_message",
            "sign_message",
            "verify_message",
        ),
        "._mail_api",
    ),
    # Header protection (RFC 9788): the policies, to build one's own on.
    **dict.fromkeys(
        ("hcp_baseline", "hcp_minimal", "hcp_no_confidentiality", "hcp_shy"),
        ".mime.hcp",
    ),
    "HeaderProtectionReport": ".mime.protection_report",
    "Inspection": "._inspect",
    "RecipientDescription": "._inspect",
    "Certificate": ".model",
    "SecretKey": ".model",
    "SignatureResult": ".model",
    "Verified": ".model",
    "VerifiedMessage": ".model",
    # The keyring: most callers never touch one.
    "Keyring": ".keys.ring",
    "KeyringError": ".keys.ring",
    "KeyVersion": ".keys.ring",
    "RotationPolicy": ".keys.ring",
    **dict.fromkeys(
        ("DEFAULT", "LEGACY_DECRYPT", "POST_QUANTUM", "RFC4880", "RFC9580", "Policy"),
        ".policy",
    ),
}


if not TYPE_CHECKING:
    # Hidden from type checkers: a module-level __getattr__ would make mypy accept
    # any attribute of the package, so a misspelled name would pass unnoticed. The
    # checkers see the imports above instead.

    def __getattr__(name: str) -> object:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'e2ee_mail' has no attribute {name!r}")
        import importlib

        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
