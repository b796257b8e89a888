"""Re-wrapping an OpenPGP message to new recipients without re-encrypting its body
(``e2ee_mail.rewrap``, ``e2ee_mail.rewrap_stream``; mailbox re-keying).

The PKESK packets (RFC 9580 §5.1) are replaced and the SEIPD packet is copied byte
for byte. The session key is checked before anything is written: for SEIPDv2 by the
final authentication tag alone (§5.13.2, O(1) in the body), for SEIPDv1 by opening the
body, which has one MDC over all of it (§5.13.1). LibrePGP's OCB Encrypted Data packet
(type 20) is re-keyed like SEIPDv2, by its final tag, with v3 PKESKs as it needs.

:func:`rewrap_stream` copies the SEIPD packet through in chunks, its framing (partial
body lengths included) as it came. The check then happens as the body passes: the
final tag is the body's last 16 octets, and the SEIPDv1 decryption runs over the
body with its plaintext dropped. A message with one candidate session key (the
usual case: one PKESK names our key) has its new PKESKs written first and fails at
the end if the check fails; with several, the body goes to a 0600 spool and the
PKESKs of the key that passed are written before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import BinaryIO, Final

from .._io import PrefixedReader, TapReader, spool
from ..core import cfb
from ..errors import DecryptionError
from ..model import Certificate, SecretKey
from ..policy import Policy
from . import armor as armor_mod
from . import inner, ocbed, seipdv2
from .certs import KeyInfo, OpenPGPSecretKey
from .message import (
    Buffer,
    ParsedMessage,
    checked_v2_key,
    drain_trailing,
    open_parsed,
    read_to_seipd,
)
from .packets import TAG_OCBED
from .packets.header import PacketBodyReader
from .packets.ocbed import OCBEDHeader
from .packets.pkesk import PKESKv3, PKESKv6
from .packets.seipd import (
    SEIPDV2_HEADER_SIZE,
    SEIPDv2Header,
    parse_seipd_version,
    parse_seipdv2_header,
)
from .recipients import (
    openpgp_certs,
    openpgp_keys,
    pkesk_packets,
    recipient_keys,
    session_keys,
)

__all__ = ["rewrap", "rewrap_opened", "rewrap_stream"]

#: Body octets read (and copied) at a time; the SEIPDv1 decryptor takes at most this.
_CHUNK: Final = cfb.STREAM_BUFFER_SIZE
_TAG_SIZE: Final = 16


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
    elif parsed.version == 0:  # the OCB Encrypted Data packet
        cipher, session_key = ocbed.checked_key(
            parsed.seipd_body, parsed.pkesks, openpgp_keys(keys)
        )
        session_key = bytes([cipher]) + session_key
    else:
        _, session_key = open_parsed(parsed, openpgp_keys(keys))
    return _rewrapped(parsed, session_key, recipient_keys(recipients, policy))


def rewrap_opened(
    data: Buffer | ParsedMessage,
    keys: Sequence[SecretKey],
    certs: Sequence[Certificate],
    *,
    policy: Policy,
) -> tuple[bytearray, bytearray]:
    """:func:`rewrap` that opens the whole body with the session key it unwraps,
    and returns the new message with the plaintext (the literal data).

    For a caller that needs the plaintext anyway (the mailbox re-key compares it
    with what the new message opens to): one unwrap instead of a decrypt and a
    rewrap each unwrapping the same key, and opening the body is the strongest
    check of the session key. ``data`` may be parsed already.
    """
    parsed = data if isinstance(data, ParsedMessage) else ParsedMessage(data, policy)
    infos = recipient_keys(openpgp_certs(certs), policy)
    packets, session_key = open_parsed(parsed, openpgp_keys(keys))
    new = _rewrapped(parsed, session_key, infos)
    return new, inner.take_literal_data(packets, policy)


def _rewrapped(
    parsed: ParsedMessage, session_key: bytes, infos: Sequence[KeyInfo]
) -> bytearray:
    """New PKESKs for ``infos`` in front of ``parsed``'s SEIPD (or OCB Encrypted
    Data) packet, copied. ``session_key`` is as :func:`open_parsed` returns it
    (SEIPDv1 and OCB Encrypted Data: the cipher octet first, for v3 PKESKs)."""
    if parsed.version == 2:
        wraps = _wraps(2, None, session_key, infos)
    else:
        wraps = _wraps(1, session_key[0], session_key[1:], infos)
    start, end = parsed.seipd_span
    out = bytearray(len(wraps) + end - start)
    out[: len(wraps)] = wraps
    out[len(wraps) :] = memoryview(parsed.binary).cast("B")[start:end]
    if parsed.armored:  # GnuPG 2.2 needs the CRC24 line on SEIPDv1 (v4) output
        return armor_mod.enarmor(out, crc=parsed.version == 1)
    return out


def _wraps(
    version: int, cipher: int | None, session_key: bytes, infos: Sequence[KeyInfo]
) -> bytes:
    """The new PKESK packets: v6 for a SEIPDv2 body, v3 (with the cipher) for v1
    and for the OCB Encrypted Data packet (``version`` 0)."""
    if version == 2:
        return pkesk_packets(session_key, infos)
    from . import seipdv1

    assert cipher is not None
    return seipdv1.pkesk_packets(session_key, cipher, infos)


def rewrap_stream(
    src: BinaryIO,
    dst: BinaryIO,
    keys: Sequence[SecretKey],
    certs: Sequence[Certificate],
    *,
    policy: Policy,
) -> bytes:
    """:func:`rewrap` from ``src`` to ``dst`` in bounded memory (binary or armored
    in, the same out). See the module docstring for when the check happens.

    On failure ``dst`` may hold part of the output: write to a temporary file and
    rename it (as the CLI does) for all or nothing.

    Returns:
        For armored input, the text read after the armor's tail line (see
        :meth:`ArmorReader.rest`); b"" for binary input.
    """
    head = src.read(1024)
    source: BinaryIO = PrefixedReader(head, src)  # type: ignore[assignment]
    armor_reader = None
    if armor_mod.is_armored(head):
        armor_reader = armor_mod.ArmorReader(source)
        source = armor_reader  # type: ignore[assignment]
    recipients = openpgp_certs(certs)
    ours = openpgp_keys(keys)
    tap = TapReader(source)
    tag, length, partial, pkesks = read_to_seipd(tap, policy, tap)  # type: ignore[arg-type]
    # The tap keeps the SEIPD packet's header and the octets read of its body.
    body = PacketBodyReader(tap, length, partial)  # type: ignore[arg-type]
    header: SEIPDv2Header | OCBEDHeader | None = None
    candidates: list[tuple[int | None, bytes]]
    if tag == TAG_OCBED:
        version = 0
        header = ocbed.read_header(body)
        candidates = [
            (header.cipher, ocbed.key_for(header, cipher, key))
            for cipher, key in _candidates(
                pkesks, ours, 1, seipdv2.CIPHER_KEY_SIZE[header.cipher]
            )
        ]
    elif (version := parse_seipd_version(body.read_exact(1))) == 2:
        header = parse_seipdv2_header(
            b"\x02" + body.read_exact(SEIPDV2_HEADER_SIZE - 1)
        )
        seipdv2.check_supported(header)
        key_size = seipdv2.CIPHER_KEY_SIZE[header.cipher]
        candidates = _candidates(pkesks, ours, 2, key_size)
    else:
        candidates = _candidates(pkesks, ours, 1, 32)
    # Refusals (a policy, an unusable certificate) come before anything is written.
    infos = recipient_keys(recipients, policy)
    openers = [
        None if header is not None else _v1_opener(cipher, key)
        for cipher, key in candidates
    ]
    assert tap.kept is not None
    seipd_head = bytes(tap.kept)
    armored = armor_reader is not None
    if len(candidates) == 1:
        cipher, key = candidates[0]
        out = _start_output(dst, armored, version, _wraps(version, cipher, key, infos))
        out.write(seipd_head)
        size, tail = _copy_body(body, tap, out, openers)
        drain_trailing(tap)  # type: ignore[arg-type]
        if _passes(header, key, openers[0], size, tail):
            return _finish_output(out, armored, armor_reader)
        raise DecryptionError()
    with spool() as sealed:
        sealed.write(seipd_head)
        size, tail = _copy_body(body, tap, sealed, openers)
        drain_trailing(tap)  # type: ignore[arg-type]
        for (cipher, key), opener in zip(candidates, openers, strict=True):
            if _passes(header, key, opener, size, tail):
                wraps = _wraps(version, cipher, key, infos)
                out = _start_output(dst, armored, version, wraps)
                # The spool holds ciphertext only: the sealed body, as it came.
                sealed.seek(0)
                while chunk := sealed.read(_CHUNK):
                    out.write(chunk)
                return _finish_output(out, armored, armor_reader)
    raise DecryptionError()


def _candidates(
    pkesks: Sequence[PKESKv3 | PKESKv6],
    keys: Sequence[OpenPGPSecretKey],
    version: int,
    key_size: int,
) -> list[tuple[int | None, bytes]]:
    """Every candidate (cipher, session key) our keys unwrap from the PKESKs.

    Raises:
        NoMatchingKeyError, DecryptionError, UnsupportedError: as session_keys.
    """
    found: list[tuple[int | None, bytes]] = []
    try:
        for candidate in session_keys(pkesks, keys, version, key_size=key_size):
            found.append(candidate)
    except DecryptionError:
        # Raised once the candidates are exhausted: only an error without any.
        if not found:
            raise
    return found


def _v1_opener(cipher: int | None, key: bytes) -> cfb.CFBStreamOpener | None:
    """The SEIPDv1 check of one candidate, or None when its cipher is unusable."""
    from . import seipdv1

    assert cipher is not None
    try:
        return seipdv1.stream_opener(cipher, key)
    except DecryptionError:
        return None


def _copy_body(
    body: PacketBodyReader,
    tap: TapReader,
    sink: BinaryIO,
    openers: Sequence[cfb.CFBStreamOpener | None],
) -> tuple[int, bytes]:
    """Copy the rest of the SEIPD packet to ``sink`` as it is read (framing and
    all), feeding each SEIPDv1 opener.

    Returns:
        The body octets read (after what was read before the call) and the last
        16 of them (SEIPDv2: the final tag).
    """
    tap.pass_to(sink)
    buf = bytearray(_CHUNK)
    view = memoryview(buf)
    size = 0
    tail = b""
    while n := body.readinto(view):
        chunk = view[:n]
        for opener in openers:
            if opener is not None:
                opener.update(chunk)
        size += n
        tail = (tail + bytes(chunk[-_TAG_SIZE:]))[-_TAG_SIZE:]
    tap.drop()
    return size, tail


def _passes(
    header: SEIPDv2Header | OCBEDHeader | None,
    session_key: bytes,
    opener: cfb.CFBStreamOpener | None,
    size: int,
    tail: bytes,
) -> bool:
    """Whether the candidate opened: the final tag (SEIPDv2, OCB Encrypted Data), or
    the SEIPDv1 MDC."""
    try:
        if isinstance(header, OCBEDHeader):
            ocbed.check_final_tag(header, session_key, size, tail)
        elif header is not None:
            seipdv2.check_final_tag(header, session_key, size, tail)
        elif opener is None:
            return False
        else:
            opener.finalize()
    except DecryptionError:
        return False
    return True


def _start_output(dst: BinaryIO, armored: bool, version: int, wraps: bytes) -> BinaryIO:
    """``dst``, or an armor writer onto it, with the new PKESKs written."""
    out: BinaryIO = dst
    if armored:
        # GnuPG 2.2 needs the CRC24 line on SEIPDv1 (v4) output.
        out = armor_mod.ArmorWriter(dst, crc=version == 1)  # type: ignore[assignment]
    out.write(wraps)
    return out


def _finish_output(
    out: BinaryIO, armored: bool, reader: armor_mod.ArmorReader | None
) -> bytes:
    if armored:
        out.close()  # the ArmorWriter: the last line and the tail line
    return reader.rest() if reader is not None else b""
