"""Key revocation signatures (RFC 9580 §5.2.1.11, §5.2.3.31): a certificate that
announces its own primary key revoked.

The signature is made by the primary key over the primary key (type 0x20), with a
Reason for Revocation subpacket of code 0, "no reason specified", which readers
treat as a hard revocation: every signature by the key becomes suspect, whatever
its time. It goes right after the primary key, where RFC 9580 §10.1 puts
revocations; the rest of the certificate is kept as it was.
"""

from __future__ import annotations

import time
from typing import cast

from ..errors import UnsupportedError, UsageError
from ..model import SecretKey
from .certs import OpenPGPCertificate, OpenPGPSecretKey
from .packets import TAG_SIGNATURE
from .packets.header import Packet, parse_packets
from .packets.signature import (
    SIG_KEY_REVOCATION,
    SP_REVOCATION_REASON,
    Subpacket,
    serialize_signature,
)
from .sigs import SigningKey, key_signature_data, make_signature

__all__ = ["revocation_certificate"]

#: Reason code 0 (no reason specified) and an empty text.
_NO_REASON = b"\x00"


def revocation_certificate(
    key: SecretKey, *, now: int | None = None
) -> OpenPGPCertificate:
    """``key``'s certificate with a key revocation signature by its primary key.

    Raises:
        UsageError: not an OpenPGP secret key.
        UnsupportedError: the primary key's secret part is not in ``key`` (a
            GnuPG stub) or cannot sign here.
    """
    if not isinstance(key, OpenPGPSecretKey):
        raise UsageError("a revocation needs an OpenPGP secret key")
    cert = key.public
    primary = cert.primary
    private = key.private_key(primary.fingerprint)
    if private is None:
        raise UnsupportedError(
            f"key {cert.fingerprint} cannot revoke itself: the primary key's secret "
            "part is not in it"
        )
    created = int(time.time()) if now is None else now
    sig = make_signature(
        cast("SigningKey", private),
        primary.packet,
        SIG_KEY_REVOCATION,
        key_signature_data(primary.packet),
        [Subpacket(SP_REVOCATION_REASON, _NO_REASON)],
        created=created,
    )
    packets = parse_packets(cert.export(armor=False))
    packets.insert(1, Packet(TAG_SIGNATURE, serialize_signature(sig)))
    return OpenPGPCertificate(packets)
