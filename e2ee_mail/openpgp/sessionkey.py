"""Session keys as values: the key a message was opened with, and opening a message
with a session key given by the caller (RFC 9580 §5.1, §5.13; the "ALGO:HEX" text
form of the Stateless OpenPGP CLI draft, draft-dkg-openpgp-stateless-cli).

Recovering the session key from the recipient entries is ``message.open_parsed``,
the same code ``rekey.py`` re-wraps with; this module only names what it returns
(SEIPDv2: the key alone, its cipher in the packet header; SEIPDv1 and the OCB
Encrypted Data packet: the cipher octet, then the key) and goes the other way: a
known session key opens the body without any secret key. A wrong session key is a
``DecryptionError`` like a wrong secret key: the body's tags (or the MDC) decide.
"""

from __future__ import annotations

import binascii
import dataclasses
from collections.abc import Sequence

from ..errors import DecryptionError, FormatError
from ..model import Certificate, SecretKey, SignatureResult
from ..policy import DEFAULT, Policy
from . import ocbed, seipdv2
from .message import Buffer, ParsedMessage, open_parsed
from .packets.ocbed import parse_ocbed_header
from .packets.seipd import parse_seipdv2_header
from .recipients import openpgp_keys

__all__ = ["SessionKey", "decrypt_verified", "open_message"]


@dataclasses.dataclass(frozen=True, slots=True)
class SessionKey:
    """A message's symmetric cipher (RFC 9580 §9.3 number) and session key."""

    algorithm: int
    key: bytes = dataclasses.field(repr=False)

    def text(self) -> str:
        """The "ALGO:HEX" form, e.g. "9:FCA4..." (hex in upper case)."""
        return f"{self.algorithm}:{self.key.hex().upper()}"

    @classmethod
    def parse(cls, text: str) -> SessionKey:
        """Read the "ALGO:HEX" form (surrounding whitespace ignored).

        Raises:
            FormatError: not that form.
        """
        algo, sep, hexkey = text.strip().partition(":")
        if not sep or not algo.isdigit() or not hexkey or int(algo) > 255:
            raise FormatError('a session key is "ALGORITHM:HEX", e.g. "9:A1B2..."')
        try:
            key = binascii.unhexlify(hexkey)
        except (binascii.Error, ValueError):
            raise FormatError("the session key is not hexadecimal") from None
        return cls(int(algo), key)


def _named(parsed: ParsedMessage, opened: bytes) -> SessionKey:
    """``open_parsed``'s session key as a value."""
    if parsed.version == 2:
        header = parse_seipdv2_header(parsed.seipd_body)
        return SessionKey(header.cipher, bytes(opened))
    return SessionKey(opened[0], bytes(opened[1:]))


def _open_with(parsed: ParsedMessage, session_key: SessionKey) -> bytearray:
    """The authenticated inner packets, opened with a caller's session key.

    Raises:
        DecryptionError: the key does not open the body (wrong key, wrong cipher).
    """
    if parsed.version == 2:
        header = parse_seipdv2_header(parsed.seipd_body)
        seipdv2.check_supported(header)
        if session_key.algorithm != header.cipher:
            raise DecryptionError()
        return seipdv2.open_body(parsed.seipd_body, session_key.key, header)
    if parsed.version == 0:
        header_ocb = parse_ocbed_header(parsed.seipd_body)
        ocbed.check_supported(header_ocb)
        if session_key.algorithm != header_ocb.cipher:
            raise DecryptionError()
        return ocbed.open_body(parsed.seipd_body, session_key.key, header_ocb)
    from . import seipdv1

    return seipdv1.open_body(parsed.seipd_body, session_key.algorithm, session_key.key)


def open_message(
    parsed: ParsedMessage,
    keys: Sequence[SecretKey],
    session_keys: Sequence[SessionKey] = (),
    passwords: Sequence[bytes] = (),
    *,
    policy: Policy = DEFAULT,
) -> tuple[bytearray, SessionKey]:
    """Open ``parsed``: with the first of ``session_keys`` that opens it, else
    with ``passwords`` and ``keys`` through the message's password and recipient
    entries (``message.open_parsed``; ``policy`` bounds the password entries' key
    derivation).

    Returns:
        (authenticated inner packets, the session key that opened them).

    Raises:
        DecryptionError: no session key opens it and there are no keys or
            passwords.
        NoMatchingKeyError, DecryptionError: as ``message.decrypt``.
    """
    for candidate in session_keys:
        try:
            return _open_with(parsed, candidate), candidate
        except DecryptionError:
            continue
    if not keys and not passwords:
        raise DecryptionError()
    ours = openpgp_keys(keys) if keys else []
    packets, opened = open_parsed(parsed, ours, passwords, policy=policy)
    return packets, _named(parsed, opened)


def decrypt_verified(
    data: Buffer,
    keys: Sequence[SecretKey],
    certs: Sequence[Certificate],
    *,
    policy: Policy,
    session_keys: Sequence[SessionKey] = (),
    passwords: Sequence[bytes] = (),
) -> tuple[bytearray, tuple[SignatureResult, ...], SessionKey]:
    """``verifying.decrypt_verified`` that also takes and returns session keys.

    Returns:
        The literal data, the verdict on each signature inside, and the session
        key the message opened with.
    """
    from .verifying import signed_content

    parsed = ParsedMessage(data, policy)
    packets, session_key = open_message(
        parsed, keys, session_keys, passwords, policy=policy
    )
    content, results = signed_content(packets, keys, certs, policy=policy)
    return content, results, session_key
