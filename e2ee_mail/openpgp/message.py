"""OpenPGP messages: encrypt and decrypt (RFC 9580 §10.3, §5.1, §5.13); rewrap is in
rekey.py and inspect in inspection.py, both on this module's parse (``ParsedMessage``).

Writes PKESK v6 packets and one SEIPDv2 packet (AEAD, chunked) holding a binary
Literal Data packet; binary or ASCII armored. The container follows the recipients
(:func:`choose_container`): SEIPDv2 when every recipient advertises it, else SEIPDv1,
which the v4 compatibility module ``seipdv1.py`` provides (the seam: ``encrypt``,
``encrypt_stream``, ``open_body``, ``open_stream``). The ciphersuite is AES-256-GCM
when every recipient lists GCM, else the best OCB suite all accept (OCB is MTI).

Reads SEIPDv2 (GCM, OCB), through ``seipdv1.py`` SEIPDv1 with its MDC, and through
``ocbed.py`` LibrePGP's OCB Encrypted Data (tag 20, never written). Never writes, and
refuses to open, Symmetrically Encrypted Data (tag 9): it has no integrity
protection. Left out: SKESK (passwords), signatures.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, BinaryIO, Final, Literal

from ..core.random import random_bytes
from ..errors import (
    DecryptionError,
    FormatError,
    NoMatchingKeyError,
    PacketError,
    PolicyError,
    UnsupportedError,
)
from ..model import Certificate, SecretKey
from ..policy import DEFAULT, Policy
from . import armor as armor_mod
from . import seipdv2
from .certs import OpenPGPSecretKey
from .packets import (
    TAG_LITERAL,
    TAG_MARKER,
    TAG_OCBED,
    TAG_PADDING,
    TAG_PKESK,
    TAG_SED,
    TAG_SEIPD,
    TAG_SKESK,
)
from .packets.header import (
    PacketBodyReader,
    PartialBodyWriter,
    parse_span,
    read_packet_header,
    serialize_header,
)
from .packets.literal import LiteralHeader, serialize_literal_header
from .packets.pkesk import PKESKv3, PKESKv6, parse_pkesk
from .packets.seipd import (
    SEIPDV2_HEADER_SIZE,
    SEIPDv2Header,
    parse_seipd_version,
    parse_seipdv2_header,
)
from .recipients import (
    choose_container,
    choose_suite,
    openpgp_certs,
    openpgp_keys,
    pkesk_packets,
    recipient_keys,
    session_keys,
)

if TYPE_CHECKING:
    from .._io import TapReader
    from ..core import chunked
    from .skesk import SKESK
    from .verifying import SignatureCollector

__all__ = [
    "choose_container",
    "choose_suite",
    "decrypt",
    "decrypt_stream",
    "encrypt",
    "encrypt_stream",
    "remaining_size",
]

Container = Literal["seipdv2", "seipdv1"]
_SESSION_KEY_SIZE: Final = 32
SED_REFUSED: Final = (
    "this message uses Symmetrically Encrypted Data (packet type 9), which has no "
    "integrity protection; it is refused"
)
Buffer = bytes | bytearray | memoryview
#: The packet count iter_packet_spans allows (its default), kept by ParsedMessage
#: and read_to_seipd.
_MAX_PACKETS: Final = 100_000


def _v1() -> ModuleType:
    """The SEIPDv1 module, imported only for RFC 4880 recipients and messages."""
    from . import seipdv1

    return seipdv1


def _literal_prefix(length: int) -> bytes:
    head = serialize_literal_header(LiteralHeader())
    return serialize_header(TAG_LITERAL, len(head) + length) + head


def encrypt(
    data: Buffer,
    certs: Sequence[Certificate],
    *,
    armor: bool,
    policy: Policy,
    passwords: Sequence[bytes] = (),
) -> bytearray:
    """Encrypt ``data`` to ``certs`` as one OpenPGP message.

    Args:
        data: the body; it becomes a binary Literal Data packet.
        certs: OpenPGP certificates; each one's newest usable encryption key gets a
            PKESK.
        armor: ASCII armor instead of binary.
        policy: profile, chunk size and RSA minimum.
        passwords: each also opens the message (a SKESK packet: v6 with Argon2
            before SEIPDv2, v4 with iterated S2K before SEIPDv1).

    Returns:
        The message: SEIPDv2 (or SEIPDv1 for recipients without SEIPDv2 support).

    Raises:
        UsageError: a certificate is not OpenPGP.
        UnsupportedError: a certificate has no usable encryption key.
        PolicyError: an RSA key below the policy's minimum.

    Not provided: sender authentication (the message is not signed) and hiding the
    recipients' key IDs (PKESKs name them).
    """
    recipients = openpgp_certs(certs) if certs or not passwords else []
    if choose_container(recipients, policy) == "seipdv1":
        return _v1().encrypt(  # type: ignore[no-any-return]
            data, recipients, armor=armor, policy=policy, passwords=passwords
        )
    keys = recipient_keys(recipients, policy)
    cipher, aead = choose_suite(recipients)
    session_key = random_bytes(seipdv2.CIPHER_KEY_SIZE[cipher])
    header = seipdv2.new_header(cipher, aead, policy.chunk_size_octet)
    pkesks = pkesk_packets(session_key, keys) + password_entries(
        session_key, passwords, 2
    )
    return _encrypt_from_parts(data, header, session_key, pkesks, armor=armor)


def password_entries(
    session_key: bytes, passwords: Sequence[bytes], seipd_version: int
) -> bytes:
    """The SKESK packets for ``passwords`` (none: no import of the S2K code)."""
    if not passwords:
        return b""
    from .skesk import password_packets

    return password_packets(session_key, passwords, seipd_version=seipd_version)


def _encrypt_from_parts(
    data: Buffer,
    header: SEIPDv2Header,
    session_key: bytes,
    pkesks: bytes,
    *,
    armor: bool,
) -> bytearray:
    """The rest of :func:`encrypt` with its random parts given: the session key, the
    header (with its salt) and the serialized PKESK packets. For test-vector
    generators and runners only (the *_from_parts seams); never for real mail."""
    prefix = _literal_prefix(len(data))
    body_size = seipdv2.sealed_body_size(header, len(prefix) + len(data))
    head = pkesks + serialize_header(TAG_SEIPD, body_size)
    # One allocation at the final size, the chunks sealed in place: a second copy
    # of a large body costs as much as sealing it.
    out = bytearray(len(head) + body_size)
    out[: len(head)] = head
    seipdv2.seal_into(header, session_key, prefix, data, memoryview(out)[len(head) :])
    if armor:
        return armor_mod.enarmor(out)
    return out


def remaining_size(src: BinaryIO) -> int | None:
    """Octets left in a seekable ``src`` (a file), or None for pipes and sockets."""
    try:
        if not src.seekable():
            return None
        here = src.tell()
        end = src.seek(0, 2)
        src.seek(here)
    except (OSError, AttributeError, ValueError):
        return None
    return max(0, end - here)


def encrypt_stream(
    src: BinaryIO,
    dst: BinaryIO,
    certs: Sequence[Certificate],
    *,
    armor: bool,
    policy: Policy,
) -> None:
    """Encrypt ``src`` to ``dst`` in bounded memory.

    A seekable ``src`` of known size gets definite packet lengths and the direct
    read-seal-write loop; other streams are framed with partial body lengths.
    """
    from ..core import chunkstream

    recipients = openpgp_certs(certs)
    if choose_container(recipients, policy) == "seipdv1":
        _v1().encrypt_stream(src, dst, recipients, armor=armor, policy=policy)
        return
    keys = recipient_keys(recipients, policy)
    cipher, aead = choose_suite(recipients)
    session_key = random_bytes(seipdv2.CIPHER_KEY_SIZE[cipher])
    header = seipdv2.new_header(cipher, aead, policy.chunk_size_octet)
    params = seipdv2.chunk_params(header, session_key)
    out: BinaryIO = armor_mod.ArmorWriter(dst) if armor else dst  # type: ignore[assignment]
    out.write(pkesk_packets(session_key, keys))
    head = bytes([2, header.cipher, header.aead, header.chunk_size_octet]) + header.salt
    size = remaining_size(src)
    if size is not None:
        prefix = _literal_prefix(size)
        body_size = seipdv2.sealed_body_size(header, len(prefix) + size)
        out.write(serialize_header(TAG_SEIPD, body_size) + head)
        sealer = chunkstream.ChunkSealer(params, out, len(prefix) + size)
        sealer.write(prefix)
        sealer.pump(src, size)
        sealer.close()
    else:
        seipd = PartialBodyWriter(out, TAG_SEIPD)
        seipd.write(head)
        sealer = chunkstream.ChunkSealer(params, seipd)  # type: ignore[arg-type]
        literal = PartialBodyWriter(sealer, TAG_LITERAL)  # type: ignore[arg-type]
        literal.write(serialize_literal_header(LiteralHeader()))
        _copy(src, literal)
        literal.close()
        sealer.close()
        seipd.close()
    if armor:
        out.close()


def _copy(src: BinaryIO, dst: PartialBodyWriter) -> None:
    buf = bytearray(1 << 20)
    readinto = getattr(src, "readinto", None)
    while True:
        if readinto is not None:
            n = readinto(buf)
            piece: Buffer = memoryview(buf)[: n or 0]
        else:
            piece = src.read(len(buf))
            n = len(piece)
        if not n:
            break
        dst.write(piece)


# -- opening ---------------------------------------------------------------------


def _binary(data: Buffer) -> tuple[Buffer, bool]:
    # A binary message starts with a packet header octet, which has its top bit set
    # (RFC 9580 §4.2); armor starts with ASCII. Skips the armor probe per message.
    first = data[0] if len(data) else None
    if isinstance(first, int) and first & 0x80:
        return data, False
    if armor_mod.is_armored(data):
        label, binary = armor_mod.dearmor(data)
        if label != armor_mod.BLOCK_MESSAGE:
            raise FormatError(f"armor block PGP {label} is not an encrypted message")
        return binary, True
    return data, False


class ParsedMessage:
    """One pass over a message in memory: its PKESKs and its encrypted data packet,
    ``tag`` = SEIPD (18) or LibrePGP's OCB Encrypted Data (20), ``seipd_body`` and
    ``seipd_span`` whichever it is."""

    __slots__ = (
        "armored",
        "binary",
        "pkesks",
        "seipd_body",
        "seipd_span",
        "skesks",
        "tag",
    )

    def __init__(self, data: Buffer, policy: Policy) -> None:
        binary, self.armored = _binary(data)
        view = memoryview(binary).cast("B")
        pkesks: list[PKESKv3 | PKESKv6] = []
        self.skesks: list[SKESK] = []
        seipd: tuple[Buffer, int, int] | None = None
        # One pass over the packet headers (parse_span, no generator: this runs
        # once per message and a 1 KiB message is mostly overhead).
        start = count = 0
        size = len(view)
        while start < size:
            count += 1
            if count > _MAX_PACKETS:
                raise PacketError(f"more than {_MAX_PACKETS} packets")
            here = start
            tag, body, start, _, _ = parse_span(view, here)
            if seipd is not None:
                if tag not in (TAG_PADDING, TAG_MARKER):
                    raise PacketError(
                        f"unexpected packet type {tag} after the encrypted data"
                    )
            elif tag == TAG_PKESK:
                if len(pkesks) >= policy.max_recipients:
                    raise PolicyError(
                        f"more than {policy.max_recipients} recipient entries"
                    )
                try:
                    pkesks.append(parse_pkesk(body))
                except UnsupportedError:
                    continue  # RFC 9580 §5.1: PKESKs of unknown versions are skipped.
            elif tag in (TAG_SEIPD, TAG_OCBED):
                seipd = (body, here, start)
                self.tag = tag
            elif tag == TAG_SKESK:
                take_skesk(body, self.skesks)
            elif tag == TAG_SED:
                raise PolicyError(SED_REFUSED)
            elif tag not in (TAG_MARKER, TAG_PADDING):
                raise PacketError(
                    f"unexpected packet type {tag} in an encrypted message"
                )
        if seipd is None:
            raise FormatError("the message holds no encrypted data packet")
        self.pkesks = pkesks
        self.seipd_body = memoryview(seipd[0]).cast("B")
        self.seipd_span = (seipd[1], seipd[2])
        self.binary = binary

    @property
    def version(self) -> int:
        """The SEIPD version (1 or 2); 0 for the OCB Encrypted Data packet."""
        if self.tag == TAG_OCBED:
            return 0
        return parse_seipd_version(self.seipd_body)


def candidate_session_keys(
    pkesks: Sequence[PKESKv3 | PKESKv6],
    keys: Sequence[OpenPGPSecretKey],
    skesks: Sequence[SKESK],
    passwords: Sequence[bytes],
    version: int,
    *,
    key_size: int = 32,
    policy: Policy,
) -> Iterator[tuple[int | None, bytes]]:
    """(cipher, session key) candidates: from the password entries when passwords
    are given, then from the PKESKs (:func:`session_keys`).

    Raises (when exhausted without a candidate):
        NoMatchingKeyError: nothing names our keys, and no password entry.
        DecryptionError: a key or password entry is there but does not open.
    """
    if passwords:
        from .skesk import password_session_keys

        yield from password_session_keys(skesks, passwords, version, policy=policy)
        if not keys:
            if not skesks:
                raise NoMatchingKeyError("the message has no password entry")
            raise DecryptionError()
    yield from session_keys(pkesks, keys, version, key_size=key_size)


def open_parsed(
    parsed: ParsedMessage,
    keys: Sequence[OpenPGPSecretKey],
    passwords: Sequence[bytes] = (),
    *,
    policy: Policy = DEFAULT,
    follow: chunked.Follow | None = None,
) -> tuple[bytearray, bytes]:
    """(authenticated inner packets, session key); ``policy`` bounds the password
    entries' key derivation; ``follow`` sees each authenticated SEIPDv2 chunk as
    it opens (``chunked.open_into``; other containers do not call it)."""
    if parsed.tag == TAG_OCBED:
        from . import ocbed  # LibrePGP, read-only: not on the common path

        return ocbed.open_with_keys(parsed.seipd_body, parsed.pkesks, keys)
    version = parsed.version
    header = None
    if version == 2:
        header = parse_seipdv2_header(parsed.seipd_body)
        seipdv2.check_supported(header)
    key_size = 32 if header is None else seipdv2.CIPHER_KEY_SIZE[header.cipher]
    for cipher, session_key in candidate_session_keys(
        parsed.pkesks,
        keys,
        parsed.skesks,
        passwords,
        version,
        key_size=key_size,
        policy=policy,
    ):
        try:
            if header is not None:
                packets = seipdv2.open_body(
                    parsed.seipd_body, session_key, header, follow
                )
                return packets, session_key
            assert cipher is not None
            packets = _v1().open_body(parsed.seipd_body, cipher, session_key)
            return packets, bytes([cipher]) + session_key
        except DecryptionError:
            continue
    raise DecryptionError()  # pragma: no cover - _session_keys raises first


def checked_v2_key(parsed: ParsedMessage, keys: Sequence[OpenPGPSecretKey]) -> bytes:
    """The first session key whose SEIPDv2 final tag authenticates (rewrap)."""
    header = parse_seipdv2_header(parsed.seipd_body)
    seipdv2.check_supported(header)
    key_size = seipdv2.CIPHER_KEY_SIZE[header.cipher]
    for _, session_key in session_keys(parsed.pkesks, keys, 2, key_size=key_size):
        try:
            seipdv2.check_session_key(parsed.seipd_body, session_key)
        except DecryptionError:
            continue
        return session_key
    raise DecryptionError()  # pragma: no cover - session_keys raises first


def decrypt(
    data: Buffer,
    keys: Sequence[SecretKey],
    *,
    policy: Policy,
    passwords: Sequence[bytes] = (),
) -> bytearray:
    """Decrypt a binary or armored message.

    Args:
        data: the message.
        keys: secret keys; OpenPGP ones are tried where a PKESK names them, and
            with every anonymous PKESK.
        policy: decompression bound and nesting limit.
        passwords: tried on the message's password entries (SKESK) first.

    Returns:
        The literal data, released only after every chunk and the final tag (or
        the MDC) verified.

    Raises:
        NoMatchingKeyError: no PKESK names one of ``keys``.
        DecryptionError: a key was named but the message does not open with it.
        FormatError, PacketError, ArmorError: malformed input.
        PolicyError: SED (no integrity protection), a decompression bomb.
        UnsupportedError: EAX, non-AES ciphers.
    """
    parsed = ParsedMessage(data, policy)
    ours = openpgp_keys(keys) if keys or not passwords else []
    packets, _ = open_parsed(parsed, ours, passwords, policy=policy)
    from . import inner  # decrypting only: not on an encrypt's start-up

    return inner.take_literal_data(packets, policy)


def decrypt_stream(
    src: BinaryIO,
    dst: BinaryIO,
    keys: Sequence[SecretKey],
    *,
    policy: Policy,
    spool_dir: str | None = None,
    signatures: SignatureCollector | None = None,
    passwords: Sequence[bytes] = (),
) -> None:
    """Decrypt from a stream; each chunk reaches ``dst`` once authenticated.

    ``signatures``, when given, collects the signature packets inside and hashes
    the literal data as it is written (``verifying.py``).

    Armored input is decoded as it streams (bounded memory). SEIPDv1 has one MDC at
    the end: its plaintext waits in a spool in ``spool_dir`` (see
    :func:`e2ee_mail.openpgp.seipdv1.open_stream`), sealed under a key held only in
    memory.
    """
    ours = openpgp_keys(keys) if keys or not passwords else []
    head = src.read(1024)
    from .._io import PrefixedReader

    src = PrefixedReader(head, src)  # type: ignore[assignment]
    if armor_mod.is_armored(head):
        src = armor_mod.ArmorReader(src)  # type: ignore[assignment]
    skesks: list[SKESK] = []
    tag, length, partial, pkesks = read_to_seipd(src, policy, skesks=skesks)
    body = PacketBodyReader(src, length, partial)

    def first_key(version: int, key_size: int = 32) -> tuple[int | None, bytes]:
        return next(
            candidate_session_keys(
                pkesks,
                ours,
                skesks,
                passwords,
                version,
                key_size=key_size,
                policy=policy,
            )
        )

    # The OCB Encrypted Data packet's own version octet (1) is not a SEIPD version.
    version = 0 if tag == TAG_OCBED else parse_seipd_version(body.read_exact(1))
    if version == 0:
        known = None if partial else length
        from . import ocbed  # LibrePGP, read-only: not on the common path

        stream: BinaryIO = ocbed.stream_with_keys(body, pkesks, ours, known)  # type: ignore[assignment]
    elif version == 2:
        header = parse_seipdv2_header(
            b"\x02" + body.read_exact(SEIPDV2_HEADER_SIZE - 1)
        )
        seipdv2.check_supported(header)
        key_size = seipdv2.CIPHER_KEY_SIZE[header.cipher]
        _, session_key = first_key(2, key_size)
        left = None if partial or length is None else length - SEIPDV2_HEADER_SIZE
        stream = seipdv2.open_stream(body, session_key, header, left)  # type: ignore[arg-type, assignment]
    else:
        cipher, session_key = first_key(1)
        stream = _v1().open_stream(body, cipher, session_key, spool_dir=spool_dir)
    from . import inner  # decrypting only: not on an encrypt's start-up

    try:
        inner.copy_literal(stream, dst, policy, signatures)
    finally:
        if version == 1:
            # The SEIPDv1 spool is a temporary file: close it when the inner
            # packets fail too (a bomb, a malformed packet), not only at its end.
            stream.close()
    drain_trailing(src)


def read_to_seipd(
    src: BinaryIO,
    policy: Policy,
    tap: TapReader | None = None,
    *,
    skesks: list[SKESK] | None = None,
) -> tuple[int, int | None, bool, list[PKESKv3 | PKESKv6]]:
    """Read a message's packets up to and including the SEIPD packet's header (or
    that of LibrePGP's OCB Encrypted Data packet): the stream counterpart of
    :class:`ParsedMessage`, shared by decrypt, inspect and rewrap. PKESKs are
    collected; Marker, Padding and SKESK packets are skipped.

    Args:
        src: the message, binary (armor already removed).
        policy: the bounds on the recipient entries.
        tap: the :class:`TapReader` that ``src`` is, when the caller copies the SEIPD
            packet as it came (rewrap): its kept octets are then that packet's
            header, and nothing read before it.
        skesks: when given, the password entries (SKESK) are parsed into it;
            otherwise they are skipped.

    Returns:
        The packet's type (SEIPD or OCB Encrypted Data), its first length and
        partial flag (for a :class:`PacketBodyReader` over ``src``), and the PKESKs
        read.

    Raises:
        FormatError: no encrypted data packet.
        PacketError: another packet type, or more packets than the bytes path reads.
        PolicyError: SED; too many or too large recipient entries.
    """
    pkesks: list[PKESKv3 | PKESKv6] = []
    count = 0
    while True:
        if tap is not None:
            tap.keep()
        found = read_packet_header(src)
        if found is None:
            raise FormatError("the message holds no encrypted data packet")
        count += 1
        if count > _MAX_PACKETS:
            raise PacketError(f"more than {_MAX_PACKETS} packets")
        tag, length, partial = found
        if tag in (TAG_SEIPD, TAG_OCBED):
            return tag, length, partial, pkesks
        if tap is not None:
            tap.drop()
        body = PacketBodyReader(src, length, partial)
        if tag == TAG_PKESK:
            take_pkesk(body, pkesks, policy)
        elif tag == TAG_SKESK and skesks is not None:
            take_skesk(body.read(policy.max_header_bytes + 1), skesks)
            body.drain()
        elif tag in (TAG_MARKER, TAG_PADDING, TAG_SKESK):
            body.drain()
        elif tag == TAG_SED:
            raise PolicyError(SED_REFUSED)
        else:
            raise PacketError(f"unexpected packet type {tag} in an encrypted message")


def drain_trailing(src: BinaryIO) -> None:
    """Read what follows the SEIPD packet: as in the bytes path, only Padding or
    Marker packets may."""
    while (found := read_packet_header(src)) is not None:
        tag, length, partial = found
        if tag not in (TAG_PADDING, TAG_MARKER):
            raise PacketError(f"unexpected packet type {tag} after the encrypted data")
        PacketBodyReader(src, length, partial).drain()


def take_pkesk(
    body: PacketBodyReader, pkesks: list[PKESKv3 | PKESKv6], policy: Policy
) -> None:
    """Read one PKESK packet's body into ``pkesks``, within the policy's bounds on
    their number and size. RFC 9580 §5.1: PKESKs of unknown versions are skipped.

    Raises:
        PolicyError: one entry too many, or one too large.
    """
    if len(pkesks) >= policy.max_recipients:
        raise PolicyError(f"more than {policy.max_recipients} recipient entries")
    raw = body.read(policy.max_header_bytes + 1)
    if len(raw) > policy.max_header_bytes:
        raise PolicyError("a recipient entry is larger than the policy allows")
    try:
        pkesks.append(parse_pkesk(raw))
    except UnsupportedError:
        return


def take_skesk(body: Buffer, skesks: list[SKESK]) -> None:
    """Parse one SKESK packet body into ``skesks``. RFC 9580 §5.3: entries of
    unknown versions are skipped.

    Raises:
        PolicyError: one entry too many (:data:`skesk.MAX_PASSWORD_ENTRIES`).
    """
    from .skesk import check_entry_count, parse_skesk

    check_entry_count(len(skesks) + 1)
    with contextlib.suppress(UnsupportedError):
        skesks.append(parse_skesk(body))
