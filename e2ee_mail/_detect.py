"""Format detection from the first bytes of a message (public bytes only)."""

from __future__ import annotations

from typing import Literal

from .errors import FormatError

__all__ = ["Detected", "detect"]

Detected = Literal["cms", "openpgp", "mime"]

_PGP_ARMOR = b"-----BEGIN PGP MESSAGE-----"
_CMS_PEM = (b"-----BEGIN PKCS7-----", b"-----BEGIN CMS-----")


def detect(head: bytes) -> Detected:
    """Name the format of a message from its first bytes (64 KiB is plenty).

    Raises:
        FormatError: nothing we know.
    """
    stripped = head.lstrip()
    if not stripped:
        raise FormatError("empty input: expected an encrypted message")
    if stripped.startswith(_PGP_ARMOR):
        return "openpgp"
    if stripped.startswith(_CMS_PEM):
        return "cms"
    first = head[0]
    if first == 0x30:
        return "cms"
    if first & 0x80:
        return "openpgp"
    # A MIME message starts with header fields: "Name: value".
    line = stripped.split(b"\n", 1)[0]
    name, colon, _ = line.partition(b":")
    if colon and name and all(33 <= c <= 126 for c in name):
        return "mime"
    raise FormatError(
        "unrecognized input: expected CMS (DER/PEM), OpenPGP (binary/armored) "
        "or an S/MIME or PGP/MIME message"
    )
