"""The exception hierarchy of e2ee_mail.

Every failure that crosses the public API is a subclass of :class:`Error`. The line we
hold: an error may be specific only when it is computed from public bytes. Anything
that follows a secret-key operation is a :class:`DecryptionError` with the same fixed
text every time, so no error becomes an oracle.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ASN1Error",
    "ArmorError",
    "DecryptionError",
    "Error",
    "FormatError",
    "KeyLoadError",
    "MIMEError",
    "NoMatchingKeyError",
    "PacketError",
    "PassphraseError",
    "PolicyError",
    "SignatureError",
    "UnsupportedError",
    "UsageError",
]

#: The one message used for every failure after a secret-key operation (RFC 9580 §14
#: and the Bleichenbacher lesson): tag mismatch, bad padding, bad key wrap alike.
DECRYPTION_FAILED: Final = (
    "decryption failed: the message was altered, truncated, or not encrypted "
    "to this key"
)


class Error(Exception):
    """Root of every exception raised by e2ee_mail."""


class UsageError(Error, ValueError):
    """The caller passed arguments that cannot work (wrong type, unknown option)."""


class FormatError(Error):
    """The input is malformed: not the format it claims to be, or damaged."""


class ArmorError(FormatError):
    """ASCII armor (OpenPGP) or PEM framing is malformed."""


class PacketError(FormatError):
    """An OpenPGP packet is malformed."""


class ASN1Error(FormatError):
    """A DER/BER structure (CMS, X.509, PKCS#8) is malformed."""


class MIMEError(FormatError):
    """A MIME message does not have the shape S/MIME or PGP/MIME requires."""


class UnsupportedError(Error):
    """Well formed, but uses an algorithm or feature this library does not implement."""


class PolicyError(Error):
    """Implemented, but refused by the active Policy (legacy crypto, size limits)."""


class KeyLoadError(Error):
    """A key or certificate could not be loaded."""


class PassphraseError(KeyLoadError):
    """The passphrase is missing or wrong."""


class NoMatchingKeyError(Error):
    """None of the supplied keys is named by any recipient entry of the message."""


class DecryptionError(Error):
    """One of our keys was named, but unwrapping or authentication failed.

    The message is always :data:`DECRYPTION_FAILED`, whatever failed.
    """

    def __init__(self, message: str = DECRYPTION_FAILED) -> None:
        super().__init__(message)


class SignatureError(Error):
    """A required good signature is absent: the data carries no signature, or none
    of its signatures is a good one by a certificate the caller named.

    Attributes:
        results: the verdict on every signature found (``SignatureResult`` values,
            see e2ee_mail.model), empty when there was none.
    """

    def __init__(self, message: str, results: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.results = results
