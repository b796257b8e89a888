"""e2ee_mail: end-to-end encrypted mail in standard formats.

Encrypt a body or a whole ``email.message.EmailMessage`` for recipients' X.509 or
OpenPGP certificates before any sending API sees it; the output is S/MIME (CMS
AuthEnvelopedData, AES-256-GCM) or OpenPGP (RFC 9580 SEIPDv2 / RFC 4880), readable by
OpenSSL, GnuPG, Thunderbird, Outlook and OpenPGP.js.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._api import (
    decrypt,
    decrypt_message,
    decrypt_stream,
    encrypt,
    encrypt_message,
    encrypt_stream,
    generate_key,
    inspect,
    load_certificate,
    load_key,
    rewrap,
)
from ._inspect import Inspection, RecipientDescription
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
    UnsupportedError,
    UsageError,
)
from .keys.model import Certificate, SecretKey
from .policy import DEFAULT, LEGACY_DECRYPT, RFC4880, RFC9580, Policy

if TYPE_CHECKING:
    from .keys.ring import Keyring, KeyringError, RotationPolicy

__version__ = "0.1.0"

__all__ = [
    "DEFAULT",
    "LEGACY_DECRYPT",
    "RFC4880",
    "RFC9580",
    "ASN1Error",
    "ArmorError",
    "Certificate",
    "DecryptionError",
    "Error",
    "FormatError",
    "Inspection",
    "KeyLoadError",
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
    "UnsupportedError",
    "UsageError",
    "decrypt",
    "decrypt_message",
    "decrypt_stream",
    "encrypt",
    "encrypt_message",
    "encrypt_stream",
    "generate_key",
    "inspect",
    "load_certificate",
    "load_key",
    "rewrap",
]


def __getattr__(name: str) -> object:
    # The keyring is imported on first use: `import e2ee_mail` stays near the import
    # floor (PERF.md), and most callers never touch a keyring.
    if name in ("Keyring", "KeyringError", "RotationPolicy"):
        from .keys import ring

        return getattr(ring, name)
    raise AttributeError(f"module 'e2ee_mail' has no attribute {name!r}")
