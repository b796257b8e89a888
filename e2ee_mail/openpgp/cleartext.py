"""The Cleartext Signature Framework (RFC 9580 §7): text signed in the open,
readable without OpenPGP, with its signature armored after it.

Writing: the text is split into lines (LF or CR LF), a line starting with "-" is
dash-escaped ("- "), and one text signature (0x01) per key covers the lines with
their trailing spaces and tabs removed, joined by CR LF (§7.2). The line end before
the signature block belongs to the framework, not to the text: text that ends with
a line end is written with an empty line after it, so that its last line end is
signed too and a reader gets the text back as it was (what Sequoia writes). A
"Hash" armor header is written for v4 signatures only: RFC 9580 §7.1 makes it
optional and v6 readers ignore it.

Reading: the same lines, unescaped, become the signed text; the signature block
is checked as a detached signature over them (``verifying.verify_detached``). The
content handed back is exactly what was signed: the lines without trailing
whitespace, joined by LF.

Not provided: Hash headers are not checked against the signatures (each
signature names its own hash; a mismatch changes nothing here).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..errors import FormatError, UsageError
from ..model import Certificate, SecretKey, SignatureResult
from ..policy import Policy
from . import armor as armor_mod
from .signing import DocumentSigner

__all__ = ["is_cleartext", "read_cleartext", "sign_cleartext", "verify_cleartext"]

_BEGIN = b"-----BEGIN PGP SIGNED MESSAGE-----"
_SIGNATURE = b"-----BEGIN PGP SIGNATURE-----"
_SIGNATURE_LINE = re.compile(rb"^-----BEGIN PGP SIGNATURE-----", re.MULTILINE)


def _split(text: bytes) -> list[bytes]:
    """The lines of ``text`` (LF or CR LF) without their ends; text ending in a
    line end has an empty last line."""
    return [line[:-1] if line.endswith(b"\r") else line for line in text.split(b"\n")]


def _signed_text(lines: Sequence[bytes]) -> bytes:
    """What the text signature covers (RFC 9580 §7.2): trailing whitespace off each
    line, the lines joined (the signer makes the line ends CR LF)."""
    return b"\n".join(line.rstrip(b" \t") for line in lines)


def sign_cleartext(
    text: bytes, keys: Sequence[SecretKey], *, now: int | None = None
) -> bytes:
    """``text`` as a cleartext-signed message, one signature per key.

    Raises:
        UsageError: no key. As ``signing.DocumentSigner``: a key that cannot sign.
    """
    if not keys:
        raise UsageError("a cleartext signature needs at least one key")
    lines = _split(text)
    signed = _signed_text(lines)
    signers = [DocumentSigner(key, text=True, now=now) for key in keys]
    signatures = bytearray()
    for signer in signers:
        signer.update(signed)
        signatures += signer.signature_packet()
    v4 = [s for s in signers if s.version == 4]
    out = bytearray(_BEGIN + b"\n")
    for name in dict.fromkeys(s.micalg[4:].upper() for s in v4):
        out += b"Hash: " + name.encode() + b"\n"
    out += b"\n"
    for line in lines:
        out += (b"- " + line if line.startswith(b"-") else line) + b"\n"
    out += armor_mod.enarmor(signatures, "SIGNATURE", crc=bool(v4))
    return bytes(out)


def is_cleartext(data: bytes | bytearray | memoryview) -> bool:
    """Whether ``data`` starts (after blank space) with the cleartext header."""
    return bytes(data[:256]).lstrip().startswith(_BEGIN)


def read_cleartext(data: bytes | bytearray | memoryview) -> tuple[bytes, bytes]:
    """Split a cleartext-signed message.

    Returns:
        (the signed text, exactly as a text signature covers it: the lines
        without trailing whitespace, joined by LF; the armored signature block).

    Raises:
        FormatError: no cleartext header, no blank line after the armor headers,
            or no signature block.
    """
    raw = bytes(data)
    start = raw.find(_BEGIN)
    if start < 0 or raw[:start].strip():
        raise FormatError("not a cleartext-signed message")
    lines = _split(raw[start + len(_BEGIN) :])
    if lines[0].strip():
        raise FormatError("the cleartext header line has trailing text")
    index = 1
    while index < len(lines) and lines[index].strip():
        if b":" not in lines[index]:
            raise FormatError("malformed armor header in a cleartext-signed message")
        index += 1
    text: list[bytes] = []
    for line in lines[index + 1 :]:
        if line.rstrip() == _SIGNATURE:
            break
        text.append(line[2:] if line.startswith(b"- ") else line)
    else:
        raise FormatError("the cleartext-signed message has no signature block")
    # The first signature line at a line start: an escaped one starts "- ".
    found = _SIGNATURE_LINE.search(raw, start)
    assert found is not None  # the loop above met it
    return _signed_text(text), raw[found.start() :]


def verify_cleartext(
    data: bytes | bytearray | memoryview,
    certs: Sequence[Certificate],
    *,
    policy: Policy,
) -> tuple[bytes, tuple[SignatureResult, ...]]:
    """The content of a cleartext-signed message and the verdict on each of its
    signatures.

    Raises:
        FormatError, ArmorError, PacketError: malformed input.
    """
    from .verifying import verify_detached

    signed, block = read_cleartext(data)
    return signed, verify_detached(signed, block, certs, policy=policy)
