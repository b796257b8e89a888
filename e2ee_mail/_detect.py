"""Format detection from the first bytes of a message (public bytes only)."""

from __future__ import annotations

from typing import Literal

from .errors import FormatError

__all__ = ["Detected", "detect", "openpgp_key_kind"]

Detected = Literal["cms", "openpgp", "mime"]

_PGP_ARMOR = b"-----BEGIN PGP MESSAGE-----"
_CMS_PEM = (b"-----BEGIN PKCS7-----", b"-----BEGIN CMS-----")
_PGP_KEY_ARMOR = {
    b"-----BEGIN PGP PUBLIC KEY BLOCK-----": "certificate",
    b"-----BEGIN PGP PRIVATE KEY BLOCK-----": "secret key",
}
#: Packet Type IDs a key starts with (RFC 9580 §5.5.1): Public Key, Secret Key.
_KEY_PACKETS = {6: "certificate", 5: "secret key"}


def openpgp_key_kind(head: bytes) -> str | None:
    """ "certificate" or "secret key" when ``head`` starts an OpenPGP key (armored,
    or a Public or Secret Key packet), else None."""
    stripped = head.lstrip()
    for label, kind in _PGP_KEY_ARMOR.items():
        if stripped.startswith(label):
            return kind
    if not head or not head[0] & 0x80:
        return None
    first = head[0]
    tag = first & 0x3F if first & 0x40 else (first >> 2) & 0x0F
    return _KEY_PACKETS.get(tag)


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
