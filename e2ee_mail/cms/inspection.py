"""inspect() for CMS: what a message says about itself, read without any key.

Reads the RFC 5652 §3 ContentInfo framing (framing.py) around AuthEnvelopedData
(RFC 5083 §2.1) or EnvelopedData (RFC 5652 §6.1), names every recipient entry
(RFC 5652 §6.2, recipients.describe) and walks the whole message, so that damage or
truncation is reported here. Opens nothing: no key, no cryptography.
"""

from __future__ import annotations

import io

from .._inspect import Inspection, RecipientDescription
from ..policy import Policy
from . import common, oids, pem, recipients

__all__ = ["inspect"]


def inspect(data: bytes) -> Inspection:
    """Describe a CMS message without any key: content type, algorithm, recipients."""
    armored = pem.is_pem(data[:64])
    der = pem.dearmor(data) if armored else data
    reader = common.reader(io.BytesIO(der), Policy())
    header = reader.read_header()
    alg = header.content_encryption_algorithm
    described = [
        RecipientDescription(*d)
        for info in header.recipient_infos
        for d in recipients.describe(info)
    ]
    kind = (
        "AuthEnvelopedData"
        if header.content_type == oids.AUTH_ENVELOPED_DATA
        else "EnvelopedData (legacy, unauthenticated)"
    )
    # Walk the rest too, so that a damaged or truncated message is reported here
    # rather than only when someone tries to open it.
    size = 0
    for length in reader.segments():
        size += length
        reader.skip(length)
    authenticated = header.content_type == oids.AUTH_ENVELOPED_DATA
    trailer = reader.read_trailer(authenticated=authenticated)
    details: tuple[tuple[str, str], ...] = (
        ("content type", kind),
        ("encoding", "PEM" if armored else ("BER" if header.indefinite else "DER")),
        ("encrypted size", str(size)),
    )
    if trailer.mac is not None:
        details += (("tag size", str(len(trailer.mac))),)
    if trailer.auth_attrs is not None:
        details += (("authenticated attributes", "present"),)
    return Inspection(
        format="cms",
        content_algorithm=oids.name(alg.algorithm),
        recipients=tuple(described),
        details=details,
    )
