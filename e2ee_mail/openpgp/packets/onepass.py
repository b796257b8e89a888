"""One-Pass Signature packets, versions 3 and 6 (RFC 9580 §5.4).

A One-Pass Signature packet announces, before the signed data, the signature that
follows it, so a reader can hash the data as it passes. Version 3 names the signer by
key ID and goes with v4 signatures; version 6 carries the v6 signature's salt and the
signer's fingerprint. Any other version is refused.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from ...errors import PacketError, UnsupportedError
from .wire import Reader

__all__ = ["OnePassSignature", "parse_one_pass", "serialize_one_pass"]

_FINGERPRINT_SIZE: Final = 32


@dataclasses.dataclass(frozen=True, slots=True)
class OnePassSignature:
    """A One-Pass Signature packet body.

    Attributes:
        version: 3 (with v4 signatures) or 6 (with v6 signatures).
        sig_type: the announced signature type (RFC 9580 §5.2.1).
        hash_algorithm: the announced hash algorithm.
        pk_algorithm: the announced public-key algorithm.
        issuer: the signer's 8-octet key ID (v3) or 32-octet fingerprint (v6).
        salt: the announced v6 salt (empty for v3).
        nested: the last-packet flag as written: 1 when the next packet is the
            signed data itself, 0 when another One-Pass Signature follows whose
            signature covers this one too.
    """

    version: int
    sig_type: int
    hash_algorithm: int
    pk_algorithm: int
    issuer: bytes
    salt: bytes = b""
    nested: int = 1


def parse_one_pass(body: bytes | bytearray | memoryview) -> OnePassSignature:
    """Parse a One-Pass Signature packet body.

    Raises:
        UnsupportedError: a version other than 3 or 6.
        PacketError: a truncated or overlong body.
    """
    reader = Reader(bytes(body), "one-pass signature packet")
    version = reader.u8()
    if version not in (3, 6):
        raise UnsupportedError(
            f"version {version} one-pass signature packets are not supported"
        )
    sig_type = reader.u8()
    hash_algorithm = reader.u8()
    pk_algorithm = reader.u8()
    salt = b""
    if version == 3:
        issuer = reader.take(8)
    else:
        salt = reader.take(reader.u8())
        issuer = reader.take(_FINGERPRINT_SIZE)
    nested = reader.u8()
    reader.end()
    return OnePassSignature(
        version, sig_type, hash_algorithm, pk_algorithm, issuer, salt, nested
    )


def serialize_one_pass(packet: OnePassSignature) -> bytes:
    """The body of a One-Pass Signature packet.

    Raises:
        PacketError: an issuer or salt that does not fit the version.
    """
    head = bytes(
        [packet.version, packet.sig_type, packet.hash_algorithm, packet.pk_algorithm]
    )
    if packet.version == 3:
        if len(packet.issuer) != 8 or packet.salt:
            raise PacketError("a v3 one-pass signature names an 8-octet key ID")
        return head + packet.issuer + bytes([packet.nested])
    if packet.version != 6:
        raise PacketError("one-pass signature packets are version 3 or 6")
    if len(packet.issuer) != _FINGERPRINT_SIZE or len(packet.salt) > 255:
        raise PacketError("a v6 one-pass signature names a 32-octet fingerprint")
    return (
        head
        + bytes([len(packet.salt)])
        + packet.salt
        + packet.issuer
        + bytes([packet.nested])
    )
