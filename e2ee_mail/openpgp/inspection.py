"""What an OpenPGP message says about itself, read without any key
(``e2ee_mail.inspect``): the encoding, the SEIPD version and AEAD suite (RFC 9580
§5.13) or those of LibrePGP's OCB Encrypted Data packet, the chunk size, and the
recipients the PKESK packets name (§5.1: key ID or fingerprint, or anonymous).

:func:`inspect_stream` reads a stream in bounded memory: the packet headers, the
PKESKs and the first octets of the encrypted data packet are parsed; the rest of
that packet is walked in fixed-size pieces, to report its size and any truncation,
never held. :func:`inspect` describes a message held in memory.

:func:`inspect_key` describes an OpenPGP key (certificate or secret key, no
passphrase needed): its primary key and each subkey, with the reason a subkey is
skipped (tpk.defect) or is not an encryption key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO

from ..policy import Policy
from . import armor as armor_mod
from . import ocbed, seipdv2
from .message import Buffer, ParsedMessage, drain_trailing, read_to_seipd
from .packets import TAG_OCBED
from .packets.header import PacketBodyReader
from .packets.ocbed import OCBEDHeader, header_size, parse_ocbed_header
from .packets.pkesk import PKESKv3, PKESKv6
from .packets.seipd import (
    SEIPDV2_HEADER_SIZE,
    SEIPDv2Header,
    parse_seipd_version,
    parse_seipdv2_header,
)
from .tpk import KeyInfo, algorithm_name, defect, rejection

if TYPE_CHECKING:
    from .._inspect import Inspection, RecipientDescription

__all__ = ["inspect", "inspect_key", "inspect_stream"]


def _describe(packet: PKESKv3 | PKESKv6) -> RecipientDescription:
    from .._inspect import RecipientDescription

    names = {
        1: "rsa",
        2: "rsa",
        16: "elgamal",
        18: "ecdh",
        20: "elgamal",
        25: "x25519",
        26: "x448",
    }
    algorithm = names.get(packet.algorithm, f"algorithm-{packet.algorithm}")
    if isinstance(packet, PKESKv6):
        ident = packet.fingerprint.hex().upper() if packet.fingerprint else "anonymous"
        return RecipientDescription("PKESKv6", ident, algorithm)
    ident = "anonymous" if packet.anonymous else packet.key_id.hex().upper()
    return RecipientDescription("PKESKv3", ident, algorithm)


def _inspection(
    armored: bool,
    header: SEIPDv2Header | OCBEDHeader | None,
    size: int,
    pkesks: list[PKESKv3 | PKESKv6],
) -> Inspection:
    from .._inspect import Inspection

    details = [("encoding", "armored" if armored else "binary")]
    if isinstance(header, OCBEDHeader):
        content = ocbed.algorithm_name(header)
        details.append(("packet", ocbed.description(header)))
        details.append(("chunk size", str(header.chunk_size)))
    elif header is not None:
        content = seipdv2.algorithm_name(header)
        details.append(("chunk size", str(1 << (header.chunk_size_octet + 6))))
    else:
        content = "seipdv1-cfb-mdc"
    details.append(("encrypted size", str(size)))
    return Inspection(
        "openpgp",
        content,
        tuple(_describe(p) for p in pkesks),
        tuple(details),
    )


def _key_line(key: KeyInfo, state: str) -> str:
    return f"{key.fingerprint.hex().upper()} {algorithm_name(key.packet)}: {state}"


def inspect_key(data: bytes, *, secret: bool) -> Inspection:
    """Describe an OpenPGP key (binary or armored) without unlocking it.

    Raises:
        KeyLoadError: not a usable OpenPGP key (the reason says why).
    """
    import time

    from .._inspect import Inspection
    from .certs import load_certificate

    cert = load_certificate(data)
    now = int(time.time())
    chosen = cert.encryption_key(now)
    details = [("fingerprint", cert.fingerprint)]
    details += [("user ID", uid) for uid in cert.user_ids]
    primary = cert.primary
    state = defect(primary, now) or "usable"
    details.append(("primary key", _key_line(primary, state)))
    for key in cert.subkeys:
        skipped = defect(key, now)
        if skipped is not None:
            state = f"skipped: {skipped}"
        elif chosen is not None and key.fingerprint == chosen.fingerprint:
            state = "encryption key (messages are encrypted to it)"
        else:
            state = rejection(key, now) or "encryption key"
        details.append(("subkey", _key_line(key, state)))
    details += [
        ("subkey", f"{name}: skipped: {why}")
        for name, why in cert.skipped_subkeys(now)
        if name.startswith("subkey #")
    ]
    if chosen is None:
        reasons = "; ".join(cert.encryption_rejections(now)) or "no subkey"
        details.append(("encryption", f"none usable: {reasons}"))
    kind = "secret key" if secret else "certificate"
    return Inspection(
        "openpgp", f"v{cert.version} {kind}", (), tuple(details), is_key=True
    )


def inspect(data: Buffer) -> Inspection:
    """Describe a message held in memory, without any key."""
    parsed = ParsedMessage(data, Policy())
    header: SEIPDv2Header | OCBEDHeader | None = None
    if parsed.tag == TAG_OCBED:
        header = parse_ocbed_header(parsed.seipd_body)
    elif parsed.version == 2:
        header = parse_seipdv2_header(parsed.seipd_body)
    return _inspection(parsed.armored, header, len(parsed.seipd_body), parsed.pkesks)


def inspect_stream(src: BinaryIO, policy: Policy) -> Inspection:
    """Describe the message read from ``src`` (binary or armored) in bounded
    memory, without any key.

    Raises:
        FormatError, PacketError, ArmorError: malformed or truncated.
        PolicyError: SED, or more recipient entries than the policy allows.
    """
    from .._io import PrefixedReader

    head = src.read(1024)
    src = PrefixedReader(head, src)  # type: ignore[assignment]
    armored = bool(head) and not head[0] & 0x80 and armor_mod.is_armored(head)
    if armored:
        src = armor_mod.ArmorReader(src)  # type: ignore[assignment]
    tag, length, partial, pkesks = read_to_seipd(src, policy)
    body = PacketBodyReader(src, length, partial)
    first = body.read_exact(1)
    header: SEIPDv2Header | OCBEDHeader | None = None
    size = 1
    if tag == TAG_OCBED:
        first += body.read_exact(2)
        rest = body.read_exact(header_size(first) - 3)
        header = parse_ocbed_header(first + rest)
        size += 2 + len(rest)
    elif parse_seipd_version(first) == 2:
        rest = body.read_exact(SEIPDV2_HEADER_SIZE - 1)
        header = parse_seipdv2_header(first + rest)
        size += len(rest)
    size += body.drain()
    drain_trailing(src)
    return _inspection(armored, header, size, pkesks)
