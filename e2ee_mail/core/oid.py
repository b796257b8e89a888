"""The dotted form of OBJECT IDENTIFIER content octets (X.690 §8.19).

Both formats carry OIDs as these octets: CMS in its DER, OpenPGP as the curve OID of
an elliptic-curve key (RFC 9580 §9.2). This reads the arcs only; which OID means what
is the formats' business.
"""

from __future__ import annotations

__all__ = ["dotted"]


def dotted(content: bytes) -> str | None:
    """The dotted form of OBJECT IDENTIFIER content octets, or None when they are
    malformed (empty, or the last subidentifier is unfinished).

    The first subidentifier packs the first two arcs as 40 * first + second, the
    first arc being 0, 1 or 2 (X.690 §8.19.4).
    """
    if not content or content[-1] & 0x80:
        return None
    arcs: list[int] = []
    value = 0
    for octet in content:
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in (first, arcs[0] - 40 * first, *arcs[1:]))
