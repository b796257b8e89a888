"""Document signatures: making them (RFC 9580 §5.2, §5.4, §10.3).

Signs with the signing key :func:`signing_key` selects: a signing subkey (key flag
0x02, bound, its primary key binding back-signature verified, not expired or
revoked) or else the primary key with the same flag. v6 keys make salted v6
signatures and v6 One-Pass Signature packets; v4 keys make v4 signatures and v3
One-Pass Signature packets. Every signature carries its creation time and the
issuer fingerprint; those inside encrypted messages also name each recipient in an
Intended Recipient Fingerprint subpacket (§5.2.3.36), which keeps a signed message
from being re-encrypted to somebody else unnoticed.

Outputs: inline-signed messages (One-Pass Signature, Literal Data, Signature),
detached signatures, and signed-then-encrypted messages (the same three packets
inside SEIPDv2 or SEIPDv1), each as bytes or as a stream; the body is hashed as it
is written, in the one pass that also encrypts it.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import BinaryIO, Final

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from ..core import signature as primitives
from ..core.random import random_bytes
from ..errors import FormatError, PacketError, UnsupportedError, UsageError
from ..model import Certificate, SecretKey
from ..policy import Policy
from . import armor as armor_mod
from .certs import OpenPGPCertificate, OpenPGPSecretKey
from .document import SIG_BINARY, SIG_TEXT, SP_INTENDED_RECIPIENT, DocumentHasher
from .packets import (
    PK_ECDSA,
    PK_ED25519,
    PK_EDDSA_LEGACY,
    PK_RSA,
    PK_RSA_SIGN_ONLY,
    PQ_SIG_ALGOS,
    TAG_LITERAL,
    TAG_ONE_PASS_SIG,
    TAG_SIGNATURE,
)
from .packets.header import (
    PartialBodyWriter,
    parse_packets,
    serialize_header,
    serialize_packet,
)
from .packets.keys import PublicKeyPacket, key_id
from .packets.literal import LiteralHeader, serialize_literal_header
from .packets.onepass import OnePassSignature, serialize_one_pass
from .packets.seipd import SEIPDv2Header, chunk_size
from .packets.signature import (
    SALT_SIZE,
    SIG_PRIMARY_BINDING,
    SIG_SUBKEY_BINDING,
    SP_CREATION_TIME,
    SP_EMBEDDED_SIGNATURE,
    SP_ISSUER_FINGERPRINT,
    SP_ISSUER_KEY_ID,
    SignaturePacket,
    Subpacket,
    parse_signature,
    serialize_signature,
    serialize_subpackets,
)
from .packets.wire import encode_mpi
from .sigs import key_signature_data, verify_signature
from .tpk import KeyInfo, newest_sig, public_of, split_tpk

__all__ = [
    "BLOCK_SIGNATURE",
    "DocumentSigner",
    "encrypt_signed",
    "encrypt_signed_stream",
    "has_back_signature",
    "micalg",
    "sign_detached",
    "sign_detached_stream",
    "sign_inline",
    "sign_inline_stream",
    "signing_key",
]

#: The armor label of a detached signature (RFC 9580 §6.2).
BLOCK_SIGNATURE: Final = "SIGNATURE"
#: Key flag "this key may be used to sign data" (RFC 9580 §5.2.3.29).
FLAG_SIGN: Final = 0x02
_SIGNING_ALGOS: Final = frozenset(
    {PK_ED25519, PK_EDDSA_LEGACY, PK_RSA, PK_RSA_SIGN_ONLY, PK_ECDSA, *PQ_SIG_ALGOS}
)
_HASH_SHA256: Final = 8
_HASH_SHA384: Final = 9
_HASH_SHA512: Final = 10
_CORE_HASH: Final[dict[int, primitives.HashName]] = {
    _HASH_SHA256: "sha256",
    _HASH_SHA384: "sha384",
    _HASH_SHA512: "sha512",
}
_READ_SIZE: Final = 1 << 20

Buffer = bytes | bytearray | memoryview


# -- choosing the key --------------------------------------------------------------


def _has_back_signature(
    cert: OpenPGPCertificate, info: KeyInfo, primary: PublicKeyPacket
) -> bool:
    """Whether the newest valid binding of subkey ``info`` embeds a valid primary
    key binding signature (0x19) made by the subkey (RFC 9580 §5.2.1.9): without
    it anybody could bind somebody else's signing key to their own certificate."""
    parsed = split_tpk(parse_packets(cert.export(armor=False)))
    data = key_signature_data(primary, subkey=info.packet)
    for packet, sigs in parsed.subkeys:
        if public_of(packet) != info.packet:
            continue
        bindings = [
            s
            for s in sigs
            if s.sig_type == SIG_SUBKEY_BINDING and verify_signature(s, primary, data)
        ]
        latest = newest_sig(bindings)
        if latest is None:
            return False
        for sub in (*latest.hashed, *latest.unhashed):
            if sub.type != SP_EMBEDDED_SIGNATURE:
                continue
            try:
                back = parse_signature(sub.body)
            except (PacketError, UnsupportedError):
                continue  # a malformed embedded signature is no back-signature
            if back.sig_type == SIG_PRIMARY_BINDING and verify_signature(
                back, info.packet, data
            ):
                return True
    return False


def has_back_signature(cert: OpenPGPCertificate, info: KeyInfo) -> bool:
    """Whether signing subkey ``info`` of ``cert`` carries a valid primary key
    binding back-signature (always True for the primary key itself)."""
    primary = cert.primary
    if info.fingerprint == primary.fingerprint:
        return True
    return _has_back_signature(cert, info, primary.packet)


def signing_key(key: SecretKey, now: int | None = None) -> tuple[KeyInfo, object]:
    """The (key, private key) that signs for ``key`` at ``now`` (default: now).

    A usable signing subkey is preferred (the newest), else the primary key; each
    needs the signing key flag and a supported algorithm, and the certificate
    itself must be neither expired nor revoked.

    Raises:
        UsageError: ``key`` is not an OpenPGP secret key.
        UnsupportedError: no key that may sign.
    """
    if not isinstance(key, OpenPGPSecretKey):
        raise UsageError("an OpenPGP signature needs an OpenPGP secret key")
    when = int(time.time()) if now is None else now
    cert = key.public
    primary = cert.primary
    if not primary.usable(when):
        raise UnsupportedError(
            f"key {cert.fingerprint} cannot sign: it is expired or revoked"
        )
    subkeys = sorted(cert.subkeys, key=lambda k: k.packet.created, reverse=True)
    for info in (*subkeys, primary):
        if not (info.flags & FLAG_SIGN and info.usable(when)):
            continue
        if info.packet.created > when:
            # Not yet valid: readers refuse a signature older than its key (a
            # rotation within the second dates its subkey a second ahead).
            continue
        if info.packet.algorithm not in _SIGNING_ALGOS:
            continue
        private = key.private_key(info.fingerprint)
        if private is None:
            continue
        if info is not primary and not _has_back_signature(cert, info, primary.packet):
            continue
        return info, private
    raise UnsupportedError(
        f"key {cert.fingerprint} has no usable signing key (the signing key flag, "
        "a valid binding with its back-signature, not expired or revoked)"
    )


def micalg(key: SecretKey, now: int | None = None) -> str:
    """The ``micalg`` parameter (RFC 3156 §5) of what ``key`` signs with now,
    e.g. "pgp-sha512": a PGP/MIME writer needs it before the signature exists.

    Raises:
        As :func:`signing_key`.
    """
    info, private = signing_key(key, now)
    return "pgp-" + _CORE_HASH[_hash_for(info.packet, private)]


def _hash_for(packet: PublicKeyPacket, private: object) -> int:
    """SHA-512, except ECDSA, whose hash follows the curve size (RFC 9580 §5.2.3.2
    asks for a hash at least as long as the curve's order)."""
    if isinstance(private, ec.EllipticCurvePrivateKey):
        size = private.curve.key_size
        return (
            _HASH_SHA256
            if size <= 256
            else _HASH_SHA384
            if size <= 384
            else _HASH_SHA512
        )
    return _HASH_SHA512


# -- one signature -----------------------------------------------------------------


class DocumentSigner:
    """One document signature in the making: announce it (:meth:`one_pass`), feed
    it the data (:meth:`update`), then take the packet (:meth:`finish`).

    Args:
        key: the signer's secret key (see :func:`signing_key`).
        text: a text signature (0x01) over CR LF line endings, else binary (0x00).
        recipients: fingerprints of the keys the message is encrypted to, named in
            Intended Recipient Fingerprint subpackets.
        now: the creation time (seconds since the epoch; default: now).
        _salt: the v6 salt instead of a fresh one; a private seam for the
            deterministic signature vectors only (Ed25519 is deterministic, so a
            pinned salt and time give known bytes). Never pass it elsewhere.

    Raises:
        As :func:`signing_key`.
    """

    __slots__ = (
        "_created",
        "_hasher",
        "_info",
        "_private",
        "_recipients",
        "_salt",
        "hash_algorithm",
        "sig_type",
        "version",
    )

    def __init__(
        self,
        key: SecretKey,
        *,
        text: bool = False,
        recipients: Sequence[bytes] = (),
        now: int | None = None,
        _salt: bytes | None = None,
    ) -> None:
        when = int(time.time()) if now is None else now
        self._info, self._private = signing_key(key, when)
        self._created = when
        self._recipients = tuple(recipients)
        self.version = self._info.packet.version
        self.hash_algorithm = _hash_for(self._info.packet, self._private)
        self.sig_type = SIG_TEXT if text else SIG_BINARY
        size = SALT_SIZE[self.hash_algorithm] if self.version == 6 else 0
        if _salt is not None and len(_salt) != size:
            raise UsageError(f"this signature takes a salt of {size} octets")
        self._salt = random_bytes(size) if _salt is None and size else _salt or b""
        self._hasher = DocumentHasher(
            self.version, self.hash_algorithm, self._salt, text=text
        )

    @property
    def signer(self) -> KeyInfo:
        """The key that signs."""
        return self._info

    @property
    def micalg(self) -> str:
        """The hash as PGP/MIME's ``micalg`` parameter names it (RFC 3156 §5),
        e.g. "pgp-sha512"."""
        return "pgp-" + _CORE_HASH[self.hash_algorithm]

    def one_pass(self, *, last: bool = True) -> bytes:
        """The One-Pass Signature packet announcing this signature (serialized).

        ``last``: whether the literal data follows directly (RFC 9580 §5.4).
        """
        packet = self._info.packet
        if self.version == 6:
            body = OnePassSignature(
                6,
                self.sig_type,
                self.hash_algorithm,
                packet.algorithm,
                self._info.fingerprint,
                self._salt,
                int(last),
            )
        else:
            body = OnePassSignature(
                3,
                self.sig_type,
                self.hash_algorithm,
                packet.algorithm,
                key_id(packet),
                b"",
                int(last),
            )
        return serialize_packet(TAG_ONE_PASS_SIG, serialize_one_pass(body))

    def update(self, data: Buffer) -> None:
        """Hash the next piece of the signed data."""
        self._hasher.update(data)

    def _draft(self) -> SignaturePacket:
        """The signature without its left 16 bits and algorithm fields."""
        packet = self._info.packet
        hashed = [
            Subpacket(
                SP_CREATION_TIME, self._created.to_bytes(4, "big"), critical=True
            ),
            Subpacket(
                SP_ISSUER_FINGERPRINT, bytes([self.version]) + self._info.fingerprint
            ),
        ]
        for fpr in self._recipients:
            version = 6 if len(fpr) == 32 else 4
            hashed.append(Subpacket(SP_INTENDED_RECIPIENT, bytes([version]) + fpr))
        unhashed = (
            [] if self.version == 6 else [Subpacket(SP_ISSUER_KEY_ID, key_id(packet))]
        )
        return SignaturePacket(
            self.version,
            self.sig_type,
            packet.algorithm,
            self.hash_algorithm,
            serialize_subpackets(hashed),
            serialize_subpackets(unhashed),
            b"\0\0",
            self._salt,
            b"",
        )

    def packet_size(self) -> int | None:
        """The octets of :meth:`signature_packet` before the data is hashed, when
        the algorithm fixes them (Ed25519: 64 octets), else None (MPIs lose
        their leading zeros)."""
        packet = self._info.packet
        if packet.algorithm != PK_ED25519:
            return None
        sized = self._draft().replace(material=bytes(64))
        return len(serialize_packet(TAG_SIGNATURE, serialize_signature(sized)))

    def finish(self) -> SignaturePacket:
        """The signature over everything given to :meth:`update`."""
        packet = self._info.packet
        draft = self._draft()
        digest = self._hasher.digest(draft)
        material = _sign_digest(packet, self._private, self.hash_algorithm, digest)
        return draft.replace(left16=digest[:2], material=material)

    def signature_packet(self) -> bytes:
        """:meth:`finish`, serialized as a Signature packet."""
        return serialize_packet(TAG_SIGNATURE, serialize_signature(self.finish()))


def _sign_digest(
    packet: PublicKeyPacket, private: object, hash_algorithm: int, digest: bytes
) -> bytes:
    """The algorithm-specific signature fields (RFC 9580 §5.2.3.1-§5.2.3.4).

    EdDSA signs the digest as its message; RSA and ECDSA sign it prehashed; an
    RFC 9980 composite signs it with both EdDSA and ML-DSA.
    """
    if isinstance(private, ed25519.Ed25519PrivateKey):
        raw = primitives.sign(private, primitives.Scheme("ed25519", "sha512"), digest)
        if packet.algorithm == PK_ED25519:
            return raw
        return encode_mpi(raw[:32]) + encode_mpi(raw[32:])
    name = _CORE_HASH[hash_algorithm]
    if isinstance(private, rsa.RSAPrivateKey):
        scheme = primitives.Scheme("rsa-pkcs1v15", name)
        return encode_mpi(primitives.sign_digest(private, scheme, digest))
    if isinstance(private, ec.EllipticCurvePrivateKey):
        der = primitives.sign_digest(private, primitives.Scheme("ecdsa", name), digest)
        r, s = decode_dss_signature(der)
        size = (private.curve.key_size + 7) // 8
        return encode_mpi(r.to_bytes(size, "big")) + encode_mpi(s.to_bytes(size, "big"))
    if packet.algorithm in PQ_SIG_ALGOS:
        from ..core import mldsa  # PQ keys only: kept out of the start-up path

        if isinstance(private, mldsa.CompositeSigPrivateKey):
            return mldsa.sign(private, digest)
    raise UnsupportedError(
        f"signing with key algorithm {packet.algorithm} is not supported"
    )


# -- signed messages ---------------------------------------------------------------


def _literal_header(text: bool) -> bytes:
    return serialize_literal_header(LiteralHeader(b"u" if text else b"b"))


def _armored(data: bytes | bytearray, block: str, version: int) -> bytes:
    # GnuPG 2.2 requires the CRC24 line; v6 readers do not want it.
    return bytes(armor_mod.enarmor(data, block, crc=version == 4))


def _detached(signer: DocumentSigner, pieces: Iterable[Buffer], armor: bool) -> bytes:
    """The detached signature ``signer`` makes over ``pieces``: bytes are hashed in
    one piece, a stream in bounded ones."""
    for piece in pieces:
        signer.update(piece)
    out = signer.signature_packet()
    return _armored(out, BLOCK_SIGNATURE, signer.version) if armor else out


def sign_detached(
    data: Buffer,
    key: SecretKey,
    *,
    text: bool = False,
    armor: bool = True,
    now: int | None = None,
    _salt: bytes | None = None,
) -> bytes:
    """A detached signature of ``data`` (a Signature packet alone; armored as
    "PGP SIGNATURE"). ``_salt``: see :class:`DocumentSigner` (vectors only)."""
    signer = DocumentSigner(key, text=text, now=now, _salt=_salt)
    return _detached(signer, (data,), armor)


def sign_detached_stream(
    src: BinaryIO,
    key: SecretKey,
    *,
    text: bool = False,
    armor: bool = True,
    now: int | None = None,
) -> bytes:
    """:func:`sign_detached` over a stream read once, in bounded memory."""
    pieces = iter(functools.partial(src.read, _READ_SIZE), b"")
    return _detached(DocumentSigner(key, text=text, now=now), pieces, armor)


def _signed_prefix(signer: DocumentSigner, size: int, text: bool) -> bytes:
    """The One-Pass Signature packet and the Literal Data packet's header, for
    ``size`` octets of data."""
    head = _literal_header(text)
    return signer.one_pass() + serialize_header(TAG_LITERAL, len(head) + size) + head


def _joined(*parts: Buffer) -> bytearray:
    """``parts`` in one buffer allocated at its final size (each copied once)."""
    out = bytearray(sum(len(part) for part in parts))
    view = memoryview(out)
    pos = 0
    for part in parts:
        view[pos : pos + len(part)] = part
        pos += len(part)
    return out


def _inner_packets(data: Buffer, signer: DocumentSigner, text: bool) -> bytearray:
    """One-Pass Signature, Literal Data and Signature packets around ``data``,
    built at their final size (``data`` is copied once)."""
    prefix = _signed_prefix(signer, len(data), text)
    signer.update(data)
    return _joined(prefix, data, signer.signature_packet())


class _HashAside:
    """Hashes the data in a thread of its own (hashlib releases the GIL on large
    updates) while the caller seals it; calling the object waits for the hash and
    returns the Signature packet."""

    __slots__ = ("_errors", "_signer", "_thread")

    def __init__(self, signer: DocumentSigner, data: Buffer) -> None:
        self._signer = signer
        self._errors: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(data,), name="e2ee-mail-hash"
        )
        self._thread.start()

    def _run(self, data: Buffer) -> None:
        try:
            self._signer.update(data)
        except BaseException as exc:  # re-raised in the caller's thread
            self._errors.append(exc)

    def join(self) -> None:
        self._thread.join()

    def __call__(self) -> bytes:
        self._thread.join()
        if self._errors:
            raise self._errors[0]
        return self._signer.signature_packet()


def sign_inline(
    data: Buffer,
    key: SecretKey,
    *,
    text: bool = False,
    armor: bool = True,
    now: int | None = None,
    _salt: bytes | None = None,
) -> bytes:
    """An inline-signed message: One-Pass Signature, Literal Data, Signature
    (RFC 9580 §10.3), armored as "PGP MESSAGE" unless ``armor`` is False.
    ``_salt``: see :class:`DocumentSigner` (vectors only)."""
    signer = DocumentSigner(key, text=text, now=now, _salt=_salt)
    out = _inner_packets(data, signer, text)
    return (
        _armored(out, armor_mod.BLOCK_MESSAGE, signer.version) if armor else bytes(out)
    )


def sign_inline_many(
    data: Buffer,
    keys: Sequence[SecretKey],
    *,
    text: bool = False,
    armor: bool = True,
    now: int | None = None,
) -> bytes:
    """An inline-signed message with one signature per key (RFC 9580 §10.3): the
    One-Pass Signature packets in key order (only the last one says the data
    follows), the Literal Data, then the signatures in reverse key order, each
    matching its One-Pass Signature packet from the inside out.

    Raises:
        UsageError: no key. As :func:`DocumentSigner`: a key that cannot sign.
    """
    if not keys:
        raise UsageError("an inline-signed message needs at least one key")
    if len(keys) == 1:
        return sign_inline(data, keys[0], text=text, armor=armor, now=now)
    signers = [DocumentSigner(k, text=text, now=now) for k in keys]
    out = bytearray()
    for index, signer in enumerate(signers):
        out += signer.one_pass(last=index == len(signers) - 1)
        signer.update(data)
    head = _literal_header(text)
    out += serialize_header(TAG_LITERAL, len(head) + len(data)) + head
    out += data
    for signer in reversed(signers):
        out += signer.signature_packet()
    version = max(s.version for s in signers)
    if armor:
        return _armored(out, armor_mod.BLOCK_MESSAGE, 4 if version == 4 else 6)
    return bytes(out)


def _write_signed(
    src: BinaryIO,
    sink: BinaryIO,
    signer: DocumentSigner,
    text: bool,
    size: int | None = None,
) -> None:
    """Write One-Pass Signature, Literal Data and Signature to ``sink``, hashing
    each piece of ``src`` as it is written. With ``size`` known (a file) the
    Literal Data packet gets a definite length and the pieces go straight to
    ``sink``; otherwise partial body lengths frame it.

    Raises:
        FormatError: ``src`` did not hold ``size`` octets.
    """
    sink.write(signer.one_pass())
    head = _literal_header(text)
    literal: BinaryIO | PartialBodyWriter
    if size is not None:
        sink.write(serialize_header(TAG_LITERAL, len(head) + size) + head)
        literal = sink
    else:
        literal = PartialBodyWriter(sink, TAG_LITERAL)
        literal.write(head)
    buf = bytearray(_READ_SIZE if size is None else max(1, min(size, _READ_SIZE)))
    view = memoryview(buf)
    readinto = getattr(src, "readinto", None)
    seen = 0
    while True:
        if readinto is not None:
            n = readinto(buf) or 0
            piece: Buffer = view[:n]
        else:
            piece = src.read(len(buf))
            n = len(piece)
        if not n:
            break
        seen += n
        signer.update(piece)
        literal.write(piece)
    if size is not None and seen != size:
        raise FormatError("the input changed size while it was being signed")
    if isinstance(literal, PartialBodyWriter):
        literal.close()
    sink.write(signer.signature_packet())


def sign_inline_stream(
    src: BinaryIO,
    dst: BinaryIO,
    key: SecretKey,
    *,
    text: bool = False,
    armor: bool = True,
    now: int | None = None,
) -> None:
    """:func:`sign_inline` from ``src`` to ``dst`` in bounded memory, one pass."""
    signer = DocumentSigner(key, text=text, now=now)
    out: BinaryIO = (
        armor_mod.ArmorWriter(dst, crc=signer.version == 4) if armor else dst  # type: ignore[assignment]
    )
    from .message import remaining_size

    _write_signed(src, out, signer, text, remaining_size(src))
    if armor:
        out.close()


# -- signed and encrypted ----------------------------------------------------------


def _signed_to(
    certs: Sequence[Certificate],
    key: SecretKey,
    policy: Policy,
    text: bool,
    now: int | None,
) -> tuple[list[OpenPGPCertificate], list[KeyInfo], DocumentSigner]:
    """The recipients, the key each is encrypted to, and a signer naming each
    recipient's fingerprint (RFC 9580 §5.2.3.36)."""
    from .recipients import openpgp_certs, recipient_keys

    # No certificate: a message only passwords open.
    recipients = openpgp_certs(certs) if certs else []
    keys = recipient_keys(recipients, policy)
    signer = DocumentSigner(
        key, text=text, recipients=[c.primary.fingerprint for c in recipients], now=now
    )
    return recipients, keys, signer


def _v2_session(
    recipients: Sequence[OpenPGPCertificate], policy: Policy
) -> tuple[SEIPDv2Header, bytes]:
    """A SEIPDv2 header with the suite every recipient accepts, and a fresh
    session key for it."""
    from . import seipdv2
    from .recipients import choose_suite

    cipher, aead = choose_suite(recipients)
    session_key = random_bytes(seipdv2.CIPHER_KEY_SIZE[cipher])
    return seipdv2.new_header(cipher, aead, policy.chunk_size_octet), session_key


def encrypt_signed(
    data: Buffer,
    certs: Sequence[Certificate],
    key: SecretKey,
    *,
    armor: bool,
    policy: Policy,
    text: bool = False,
    now: int | None = None,
    passwords: Sequence[bytes] = (),
) -> bytearray:
    """Sign then encrypt ``data``: the One-Pass Signature, Literal Data and
    Signature packets (RFC 9580 §10.3) sealed in SEIPDv2, or SEIPDv1 when a
    recipient lacks SEIPDv2, chosen and suited as for unsigned messages. The
    signature names every recipient's fingerprint (§5.2.3.36). ``passwords``
    open the message too (SKESK packets, as ``message.encrypt`` writes them).

    Raises:
        As ``message.encrypt`` and :func:`signing_key`.
    """
    from ..core import cfb, chunked
    from . import seipdv2
    from .message import password_entries
    from .packets import TAG_SEIPD
    from .recipients import choose_container, pkesk_packets

    recipients, keys, signer = _signed_to(certs, key, policy, text, now)
    if choose_container(recipients, policy) == "seipdv1":
        # CFB has no chunks to seal pieces into: the inner packets are joined.
        inner = _inner_packets(data, signer, text)
        from . import seipdv1

        session_key, pkesks = seipdv1.new_session(recipients, policy)
        pkesks += password_entries(session_key, passwords, 1)
        body_size = 1 + cfb.sealed_size(len(inner))
        head = pkesks + serialize_header(TAG_SEIPD, body_size)
        out = bytearray(len(head) + body_size)
        out[: len(head)] = head
        out[len(head)] = 1
        cfb.cfb_seal_into(session_key, inner, memoryview(out)[len(head) + 1 :])
        return armor_mod.enarmor(out, crc=True) if armor else out
    header, session_key = _v2_session(recipients, policy)
    # The inner packets are sealed as pieces: the body straight from ``data``
    # (never joined), the Signature packet last, computed once the body is
    # hashed, in a thread alongside the sealing for large bodies when its size
    # is known beforehand.
    room = chunk_size(header.chunk_size_octet)
    prefix = _signed_prefix(signer, len(data), text)
    late = signer.packet_size() if len(data) >= chunked.PARALLEL_MIN_BYTES else None
    suffix: bytes | _HashAside
    if late is not None and max(len(prefix), late) <= room:
        suffix, suffix_size = _HashAside(signer, data), late
    else:
        signer.update(data)
        suffix = signer.signature_packet()
        suffix_size = len(suffix)
        if max(len(prefix), suffix_size) > room:  # tiny chunks: one joined body
            data = _joined(prefix, data, suffix)
            prefix = suffix = b""
            suffix_size = 0
    body_size = seipdv2.sealed_body_size(header, len(prefix) + len(data) + suffix_size)
    entries = pkesk_packets(session_key, keys) + password_entries(
        session_key, passwords, 2
    )
    head = entries + serialize_header(TAG_SEIPD, body_size)
    out = bytearray(len(head) + body_size)
    out[: len(head)] = head
    try:
        seipdv2.seal_into(
            header,
            session_key,
            prefix,
            data,
            memoryview(out)[len(head) :],
            suffix,
            suffix_size,
        )
    finally:
        if isinstance(suffix, _HashAside):
            suffix.join()
    return armor_mod.enarmor(out) if armor else out


class _Sealing:
    """A write-only sink over the SEIPDv2 chunk sealer or the SEIPDv1 CFB sealer."""

    __slots__ = ("_write",)

    def __init__(self, write: Callable[[Buffer], object]) -> None:
        self._write = write

    def write(self, data: Buffer) -> int:
        self._write(data)
        return len(data)


def encrypt_signed_stream(
    src: BinaryIO,
    dst: BinaryIO,
    certs: Sequence[Certificate],
    key: SecretKey,
    *,
    armor: bool,
    policy: Policy,
    text: bool = False,
    now: int | None = None,
) -> None:
    """Sign then encrypt, in one pass over ``src``: the One-Pass Signature, Literal
    Data and Signature packets are written into the encryption container as the
    body is read, hashed and sealed (RFC 9580 §10.3). The container and its suite
    follow the recipients exactly as for unsigned messages.

    Raises:
        As ``message.encrypt_stream`` and :func:`signing_key`.
    """
    from ..core import chunkstream
    from . import seipdv2
    from .message import remaining_size
    from .packets import TAG_SEIPD
    from .recipients import choose_container, pkesk_packets

    recipients, keys, signer = _signed_to(certs, key, policy, text, now)
    if choose_container(recipients, policy) == "seipdv1":
        from ..core import cfb
        from . import seipdv1

        session_key, pkesks = seipdv1.new_session(recipients, policy)
        out: BinaryIO = armor_mod.ArmorWriter(dst, crc=True) if armor else dst  # type: ignore[assignment]
        out.write(pkesks)
        seipd = PartialBodyWriter(out, TAG_SEIPD)
        seipd.write(b"\x01")
        cfb_sealer = cfb.CFBStreamSealer(session_key)
        seipd.write(cfb_sealer.start())
        sink = _Sealing(lambda data: seipd.write(cfb_sealer.update(data)))
        _write_signed(src, sink, signer, text, remaining_size(src))  # type: ignore[arg-type]
        seipd.write(cfb_sealer.finalize())
        seipd.close()
        if armor:
            out.close()
        return
    header, session_key = _v2_session(recipients, policy)
    params = seipdv2.chunk_params(header, session_key)
    out = armor_mod.ArmorWriter(dst) if armor else dst  # type: ignore[assignment]
    out.write(pkesk_packets(session_key, keys))
    seipd = PartialBodyWriter(out, TAG_SEIPD)
    seipd.write(
        bytes([2, header.cipher, header.aead, header.chunk_size_octet]) + header.salt
    )
    size = remaining_size(src)
    sealer = chunkstream.ChunkSealer(params, seipd, size)  # type: ignore[arg-type]
    _write_signed(src, sealer, signer, text, size)  # type: ignore[arg-type]
    sealer.close()
    seipd.close()
    if armor:
        out.close()
