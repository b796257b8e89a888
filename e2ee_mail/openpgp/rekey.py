"""Re-wrapping an OpenPGP message to new recipients without re-encrypting its body
(``e2ee_mail.rewrap``; mailbox re-keying, mailbox/rekey.py).

The PKESK packets (RFC 9580 §5.1) are replaced and the SEIPD packet is copied byte
for byte. The session key is checked before anything is written: for SEIPDv2 by the
final authentication tag alone (§5.13.2, O(1) in the body), for SEIPDv1 by opening the
body, which has one MDC over all of it (§5.13.1).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..model import Certificate, SecretKey
from ..policy import Policy
from . import armor as armor_mod
from . import pkesk
from .message import Buffer, ParsedMessage, checked_v2_key, open_parsed
from .packets import TAG_PKESK
from .packets.header import serialize_packet
from .packets.pkesk import serialize_pkesk
from .recipients import openpgp_certs, openpgp_keys, pkesk_packets, recipient_key

__all__ = ["rewrap"]


def rewrap(
    data: Buffer,
    keys: Sequence[SecretKey],
    certs: Sequence[Certificate],
    *,
    policy: Policy,
) -> bytearray:
    """Replace the PKESK packets; the SEIPD packet is copied byte for byte.

    The session key is recovered with ``keys`` and checked before new PKESKs are
    written for ``certs``. SEIPDv2: by the final tag only (O(1), see
    :func:`seipdv2.check_session_key`; a wrong key cannot forge it). SEIPDv1 has no
    per-chunk tag (one MDC over the whole body), so the legacy path opens it all.
    The sealed body is copied once, into an output allocated at its final size.
    """
    parsed = ParsedMessage(data, policy)
    recipients = openpgp_certs(certs)
    if parsed.version == 2:
        session_key = checked_v2_key(parsed, openpgp_keys(keys))
        wraps = pkesk_packets(
            session_key, [recipient_key(c, policy) for c in recipients]
        )
    else:
        _, session_key = open_parsed(parsed, openpgp_keys(keys))
        cipher, key = session_key[0], session_key[1:]
        wraps = b"".join(
            serialize_packet(
                TAG_PKESK,
                serialize_pkesk(pkesk.wrap_v3(key, cipher, recipient_key(c, policy))),
            )
            for c in recipients
        )
    start, end = parsed.seipd_span
    out = bytearray(len(wraps) + end - start)
    out[: len(wraps)] = wraps
    out[len(wraps) :] = memoryview(parsed.binary).cast("B")[start:end]
    if parsed.armored:  # GnuPG 2.2 needs the CRC24 line on SEIPDv1 (v4) output
        return armor_mod.enarmor(out, crc=parsed.version == 1)
    return out
