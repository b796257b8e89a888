"""The packets inside an opened SEIPD container (RFC 9580 §10.3).

Accepted: one Literal Data packet (§5.9), possibly inside Compressed Data (§5.6,
opened by ``compression.py`` with the policy's bound and nesting limit), plus
Padding, Marker, One-Pass Signature and Signature packets, which are skipped unless
the caller of :func:`copy_literal` passes a signature collector (``verifying.py``):
it then gets the signature packets and every piece of the literal data, hashed in
the same pass that copies it. Everything here runs on plaintext that has already
been authenticated, so errors may be specific.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO, Final

from ..errors import PacketError, PolicyError
from ..policy import Policy
from .packets import (
    TAG_COMPRESSED,
    TAG_LITERAL,
    TAG_MARKER,
    TAG_ONE_PASS_SIG,
    TAG_PADDING,
    TAG_SIGNATURE,
)
from .packets.header import (
    PacketBodyReader,
    iter_packet_spans,
    new_length,
    read_packet_header,
)
from .packets.literal import (
    literal_header_size,
    parse_compressed,
    parse_literal_header,
)

if TYPE_CHECKING:
    from .verifying import SignatureCollector

__all__ = ["copy_literal", "literal_data", "take_literal_data"]

_SKIPPED: Final = frozenset({TAG_PADDING, TAG_MARKER, TAG_ONE_PASS_SIG, TAG_SIGNATURE})
_COPY_SIZE: Final = 1 << 20
#: Bound on a (One-Pass) Signature packet read from a stream: far above any real
#: signature (RSA-4096 with its subpackets is under 1 KiB).
_SIGNATURE_MAX: Final = 1 << 16
#: RFC 9580 §5.9: format, name length, up to 255 name octets, 4-octet date.
_LITERAL_HEADER_MAX: Final = 6 + 255

Buffer = bytes | bytearray | memoryview


def take_literal_data(packets: bytearray, policy: Policy) -> bytearray:
    """The literal data of ``packets`` as a bytearray of its own.

    When the first packet is a definite-length Literal Data packet (what every
    encrypter here and most peers write), ``packets`` is trimmed in place and
    returned: CPython drops a bytearray's head by moving its start and shrinks its
    tail in place, so no byte of the body is copied. Anything else
    (compression, partial lengths, leading packets) is copied once.

    Raises:
        As :func:`literal_data`.
    """
    start = _sole_literal_start(packets)
    if start is not None:
        # The whole plaintext is one Literal Data packet: nothing else to check
        # (literal_data would find exactly this packet), so skip its second walk.
        del packets[:start]
        return packets
    found = literal_data(packets, policy)
    span = _first_literal_span(packets)
    if span is None or not isinstance(found, memoryview):
        return bytearray(found)
    found.release()
    del found
    start, end = span
    try:
        del packets[end:]
        del packets[:start]
    except BufferError:  # a view is still exported: fall back to one copy
        return bytearray(memoryview(packets)[start:end])
    return packets


def _sole_literal_start(packets: bytearray) -> int | None:
    """Where the data starts when ``packets`` is exactly one OpenPGP-format,
    definite-length Literal Data packet (the 1 KiB decrypt fast path); None
    for anything else, which :func:`literal_data` then reads in full.

    Reads octets by index (no view is exported, so the caller may resize).
    """
    if len(packets) < 2 or packets[0] != 0xC0 | TAG_LITERAL:
        return None
    length, partial, pos = new_length(packets, 1)
    if partial or pos + length != len(packets):
        return None
    # The slice ends at the packet's end (it is the last packet), so a header longer
    # than the packet is "truncated" here exactly as in literal_data.
    return pos + literal_header_size(packets[pos : pos + _LITERAL_HEADER_MAX])


def _first_literal_span(packets: bytearray) -> tuple[int, int] | None:
    """(start, end) of the data of a leading definite-length Literal Data packet."""
    # Only the first span is read; the temporary generator is dropped (and its view
    # of ``packets`` released) at once, before the caller resizes.
    first = next(iter_packet_spans(packets), None)
    if first is None:
        return None
    tag, body, _, end = first
    if tag != TAG_LITERAL or not isinstance(body, memoryview):
        return None
    start = end - len(body) + parse_literal_header(body).size
    body.release()
    return start, end


def _decompress(algo: int, data: Buffer, policy: Policy) -> bytes:
    from . import compression

    return compression.decompress(algo, data, policy.max_decompressed_bytes)


def literal_data(packets: Buffer, policy: Policy, depth: int = 0) -> Buffer:
    """The data of the one Literal Data packet in ``packets`` (a view, no copy).

    Raises:
        PacketError: no literal data, more than one, or an unexpected packet.
        PolicyError: nesting deeper than the policy allows, or a decompression bomb.
    """
    found: Buffer | None = None
    for tag, body, _, _ in iter_packet_spans(packets):
        if tag in _SKIPPED:
            continue
        if found is not None and tag in (TAG_LITERAL, TAG_COMPRESSED):
            raise PacketError("the message holds more than one literal data packet")
        if tag == TAG_LITERAL:
            header = parse_literal_header(body)
            found = memoryview(body)[header.size :]
        elif tag == TAG_COMPRESSED:
            if depth + 1 >= policy.max_nesting:
                raise PolicyError("compressed data is nested too deeply")
            algo, compressed = parse_compressed(body)
            inner = _decompress(algo, compressed, policy)
            found = literal_data(inner, policy, depth + 1)
        else:
            raise PacketError(
                f"unexpected packet type {tag} inside the encrypted message"
            )
    if found is None:
        raise PacketError("the encrypted message holds no literal data")
    return found


def copy_literal(
    stream: BinaryIO,
    dst: BinaryIO,
    policy: Policy,
    signatures: SignatureCollector | None = None,
) -> None:
    """Read inner packets from ``stream`` and write the literal data to ``dst``.

    Reads ``stream`` to its end, which for SEIPD means the final check has passed.
    ``signatures``, when given, is handed the One-Pass Signature and Signature
    packets and each piece of literal data as it is written.
    """
    seen = False
    buf = bytearray(_COPY_SIZE)
    while (found := read_packet_header(stream)) is not None:
        tag, length, partial = found
        body = PacketBodyReader(stream, length, partial)
        if signatures is not None and tag in (TAG_ONE_PASS_SIG, TAG_SIGNATURE):
            raw = body.read(_SIGNATURE_MAX + 1)
            if len(raw) > _SIGNATURE_MAX:
                raise PacketError("a signature packet inside the message is too large")
            signatures.packet(tag, raw)
            continue
        if tag in _SKIPPED:
            body.drain()
            continue
        if seen and tag in (TAG_LITERAL, TAG_COMPRESSED):
            raise PacketError("the message holds more than one literal data packet")
        if tag == TAG_LITERAL:
            head = body.read_exact(2)
            body.read_exact(head[1] + 4)
            if signatures is not None:
                signatures.literal_start()
                while n := body.readinto(buf):
                    piece = memoryview(buf)[:n]
                    signatures.data(piece)
                    dst.write(piece)
            elif hasattr(stream, "readview"):
                # SEIPDv2: write the authenticated chunk straight from the opener's
                # buffer (one copy fewer per octet).
                while view := body.readview(_COPY_SIZE):
                    dst.write(view)
            else:
                while n := body.readinto(buf):
                    dst.write(memoryview(buf)[:n])
        elif tag == TAG_COMPRESSED:
            algo = body.read_exact(1)[0]
            if policy.max_nesting <= 1:
                raise PolicyError("compressed data is nested too deeply")
            # Stream the inflated packets (bounded memory; GnuPG compresses by
            # default), one nesting level down.
            import dataclasses

            from . import compression

            reader = compression.DecompressingReader(
                body,  # type: ignore[arg-type]
                algo,
                policy.max_decompressed_bytes,
            )
            deeper = dataclasses.replace(policy, max_nesting=policy.max_nesting - 1)
            copy_literal(reader, dst, deeper, signatures)  # type: ignore[arg-type]
        else:
            raise PacketError(
                f"unexpected packet type {tag} inside the encrypted message"
            )
        seen = True
    if not seen:
        raise PacketError("the encrypted message holds no literal data")
