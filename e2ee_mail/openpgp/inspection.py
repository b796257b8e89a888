"""What an OpenPGP message says about itself, read without any key
(``e2ee_mail.inspect``): the encoding, the SEIPD version and AEAD suite (RFC 9580
§5.13), the chunk size, and the recipients the PKESK packets name (§5.1: key ID or
fingerprint, or anonymous).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..policy import Policy
from . import seipdv2
from .message import Buffer, ParsedMessage
from .packets.pkesk import PKESKv3, PKESKv6
from .packets.seipd import parse_seipdv2_header

if TYPE_CHECKING:
    from .._inspect import Inspection, RecipientDescription

__all__ = ["inspect"]


def _describe(packet: PKESKv3 | PKESKv6) -> RecipientDescription:
    from .._inspect import RecipientDescription

    names = {1: "rsa", 2: "rsa", 18: "ecdh", 25: "x25519", 26: "x448"}
    algorithm = names.get(packet.algorithm, f"algorithm-{packet.algorithm}")
    if isinstance(packet, PKESKv6):
        ident = packet.fingerprint.hex().upper() if packet.fingerprint else "anonymous"
        return RecipientDescription("PKESKv6", ident, algorithm)
    ident = "anonymous" if packet.anonymous else packet.key_id.hex().upper()
    return RecipientDescription("PKESKv3", ident, algorithm)


def inspect(data: Buffer) -> Inspection:
    """Describe a message without any key."""
    from .._inspect import Inspection

    parsed = ParsedMessage(data, Policy())
    details = [("encoding", "armored" if parsed.armored else "binary")]
    if parsed.version == 2:
        header = parse_seipdv2_header(parsed.seipd_body)
        content = seipdv2.algorithm_name(header)
        details.append(("chunk size", str(1 << (header.chunk_size_octet + 6))))
    else:
        content = "seipdv1-cfb-mdc"
    details.append(("encrypted size", str(len(parsed.seipd_body))))
    return Inspection(
        "openpgp",
        content,
        tuple(_describe(p) for p in parsed.pkesks),
        tuple(details),
    )
