"""inspect() for CMS: what a message says about itself, read without any key.

Reads the RFC 5652 §3 ContentInfo framing (framing.py) around AuthEnvelopedData
(RFC 5083 §2.1) or EnvelopedData (RFC 5652 §6.1), names every recipient entry
(RFC 5652 §6.2, recipients.describe) and walks the whole message, so that damage or
truncation is reported here. Opens nothing: no key, no cryptography.

:func:`inspect_stream` reads in bounded memory: the header and the recipient
entries are parsed; the encrypted content is skipped (by seeking when the source
can, else read in fixed-size pieces and dropped), never held.
"""

from __future__ import annotations

import io
from typing import BinaryIO

from .._inspect import Inspection, RecipientDescription
from ..policy import Policy
from . import common, oids, pem, recipients

__all__ = ["inspect", "inspect_stream"]


def inspect(data: bytes) -> Inspection:
    """Describe a CMS message held in memory without any key: content type,
    algorithm, recipients."""
    return inspect_stream(io.BytesIO(data), Policy())


def inspect_stream(src: BinaryIO, policy: Policy) -> Inspection:
    """Describe the CMS message (DER, BER or PEM) read from ``src`` in bounded
    memory, without any key.

    Raises:
        ASN1Error, ArmorError, FormatError: malformed or truncated.
        UnsupportedError: a content type other than (Auth)EnvelopedData.
    """
    seekable = getattr(src, "seekable", None)
    start = src.tell() if seekable is not None and seekable() else None
    head = src.read(64)
    if start is not None:
        src.seek(start)
    else:
        from .._io import PrefixedReader

        src = PrefixedReader(head, src)  # type: ignore[assignment]
    armored = pem.is_pem(head)
    if armored:
        src = pem.PemReader(src)  # type: ignore[assignment]
    reader = common.reader(src, policy)
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
