"""Checking document signatures (RFC 9580 §5.2.4, §5.4, §10.3).

A :class:`SignatureCollector` watches the packets of a signed message go by: it
keeps the One-Pass Signature and Signature packets, hashes the literal data as it
streams (one running hash per distinct hash, salt and signature type), and at the
end turns every signature into a :class:`~e2ee_mail.model.SignatureResult`. It is
fed by :func:`walk_signed` over bytes, and by ``inner.copy_literal`` over a
decrypted stream.

A signature is "good" only when all of these hold: it is a document signature
(binary 0x00 or text 0x01; a certification, key binding or revocation passed off
as one is "bad"), it matches its One-Pass Signature packet (type, hash, algorithm,
issuer, salt), its hash is not MD5, SHA-1 or RIPEMD-160 ("policy-refused"), a key
of one of the caller's certificates made it ("unknown-signer" otherwise), the
mathematics holds, the key may sign (signing flag; a subkey's back-signature),
the key is not revoked ("revoked-key": any revocation counts, whatever its
reason) and had not expired when the signature was made ("expired-key"), and,
inside an encrypted message, its Intended Recipient Fingerprint subpackets
(§5.2.3.36), when present, name the decrypting key.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, BinaryIO, Final, Literal, Protocol

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ..errors import FormatError, PacketError, PolicyError, UnsupportedError
from ..model import Certificate, SecretKey, SignatureResult, SignatureStatus
from ..policy import Policy
from . import armor as armor_mod
from .certs import OpenPGPCertificate, OpenPGPSecretKey
from .document import (
    HASH_NAMES,
    REFUSED_HASHES,
    SIG_BINARY,
    SIG_TEXT,
    SP_INTENDED_RECIPIENT,
    DocumentHasher,
)
from .packets import (
    PK_DSA,
    PK_ECDSA,
    PK_ED448,
    PK_ED25519,
    PK_EDDSA_LEGACY,
    PK_RSA,
    PK_RSA_SIGN_ONLY,
    TAG_COMPRESSED,
    TAG_LITERAL,
    TAG_MARKER,
    TAG_ONE_PASS_SIG,
    TAG_PADDING,
    TAG_SIGNATURE,
)
from .packets.header import iter_packet_spans, new_length, serialize_packet
from .packets.keys import PublicKeyPacket
from .packets.literal import (
    literal_header_size,
    parse_compressed,
    parse_literal_header,
)
from .packets.onepass import OnePassSignature, parse_one_pass
from .packets.signature import (
    SP_CREATION_TIME,
    SP_ISSUER_FINGERPRINT,
    SP_ISSUER_KEY_ID,
    SignaturePacket,
    parse_signature,
)
from .signing import has_back_signature
from .sigs import check_primitive, public_key_object
from .tpk import KeyInfo

if TYPE_CHECKING:
    from .sigs import VerifyKey

__all__ = [
    "BLOCK_SIGNATURE",
    "SignatureCollector",
    "check_signature",
    "decrypt_verified",
    "decrypt_verified_stream",
    "read_detached",
    "signature_valid",
    "verify_detached",
    "verify_detached_stream",
    "verify_inline",
    "verify_inline_stream",
    "walk_signed",
]

BLOCK_SIGNATURE: Final = "SIGNATURE"
_FLAG_SIGN: Final = 0x02
#: Subpacket types this reader knows (RFC 9580 §5.2.3.8): a critical subpacket of
#: any other type makes the signature invalid (§5.2.3.7).
_KNOWN_SUBPACKETS: Final = frozenset(
    {
        2,
        3,
        4,
        5,
        7,
        9,
        11,
        12,
        16,
        21,
        22,
        23,
        24,
        25,
        26,
        27,
        28,
        29,
        30,
        31,
        32,
        33,
        34,
        35,
        39,
    }
)
#: The Signature Expiration Time subpacket (RFC 9580 §5.2.3.18).
_SIGNATURE_EXPIRATION: Final = 3
_READ_SIZE: Final = 1 << 20
_NO_ONE_PASS: Final = "a signature after the data has no one-pass signature packet"
_STRIPPED: Final = (
    "a one-pass signature packet announces a signature that is missing (stripped?)"
)
_CURVE_NAMES: Final = {256: "p256", 384: "p384", 521: "p521"}

Buffer = bytes | bytearray | memoryview


def _utc(seconds: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC)


def _hex(octets: bytes) -> str:
    return octets.hex().upper()


def _issuers(sig: SignaturePacket) -> tuple[bytes | None, bytes | None]:
    """(issuer fingerprint, issuer key ID) as the signature states them; either may
    be None. The key ID may come from the unhashed area: it only picks the key to
    try, the mathematics decides."""
    fpr = sig.subpacket(SP_ISSUER_FINGERPRINT)
    fingerprint = fpr[1:] if fpr and len(fpr) in (21, 33) else None
    keyid = sig.subpacket(SP_ISSUER_KEY_ID)
    if keyid is None:
        for sub in sig.unhashed:
            if sub.type == SP_ISSUER_KEY_ID:
                keyid = sub.body
    if keyid is not None and len(keyid) != 8:
        keyid = None
    return fingerprint, keyid


def _candidates(
    sig: SignaturePacket, certs: Sequence[OpenPGPCertificate]
) -> list[tuple[OpenPGPCertificate, KeyInfo]]:
    fingerprint, keyid = _issuers(sig)
    found = []
    for cert in certs:
        for info in (cert.primary, *cert.subkeys):
            if fingerprint is not None:
                if info.fingerprint == fingerprint:
                    found.append((cert, info))
            elif keyid is not None:
                if info.key_id == keyid:
                    found.append((cert, info))
            elif info.packet.algorithm == sig.pk_algorithm:
                found.append((cert, info))
    return found


#: RFC 9980 §5 composite signatures, named as keygen kinds and ``inspect`` name them.
_PQ_SIG_NAMES: Final = {30: "mldsa65-ed25519", 31: "mldsa87-ed448"}


def _algorithm_name(sig: SignaturePacket, key: object) -> str | None:
    hash_name = HASH_NAMES.get(sig.hash_algorithm, f"hash{sig.hash_algorithm}")
    if sig.pk_algorithm in (PK_ED25519, PK_EDDSA_LEGACY):
        return "ed25519"
    if sig.pk_algorithm in (PK_RSA, PK_RSA_SIGN_ONLY):
        return f"rsa-pkcs1v15-{hash_name}"
    if sig.pk_algorithm == PK_ECDSA and isinstance(key, ec.EllipticCurvePublicKey):
        curve = _CURVE_NAMES.get(key.curve.key_size, key.curve.name)
        return f"ecdsa-{curve}-{hash_name}"
    if sig.pk_algorithm == PK_ED448:
        return "ed448"
    if sig.pk_algorithm == PK_DSA:
        return f"dsa-{hash_name}"
    return _PQ_SIG_NAMES.get(sig.pk_algorithm)


def _mathematics(sig: SignaturePacket, key: VerifyKey, digest: bytes) -> bool:
    """Whether ``sig``'s algorithm-specific fields sign ``digest`` under ``key``
    (RFC 9580 §5.2.3.1-§5.2.3.4), through the check key self-signatures use.
    Malformed fields are a False."""
    try:
        check_primitive(key, sig.pk_algorithm, sig.hash_algorithm, sig.material, digest)
    except (FormatError, UnsupportedError, PacketError, ValueError):
        return False
    return True


def signature_valid(
    sig: SignaturePacket, key: PublicKeyPacket, hasher: DocumentHasher
) -> bool:
    """Whether ``sig`` verifies under the bare key packet ``key`` over what
    ``hasher`` has seen: the mathematics and the left 16 bits only, with no
    certificate, key flag or validity check (for published samples whose key comes
    without self-signatures, such as RFC 9580 A.1)."""
    if sig.pk_algorithm != key.algorithm or sig.version != key.version:
        return False
    try:
        verifier = public_key_object(key)
    except (UnsupportedError, FormatError):
        return False
    digest = hasher.digest(sig)
    return digest[:2] == sig.left16 and _mathematics(sig, verifier, digest)


def _key_state(
    cert: OpenPGPCertificate, info: KeyInfo, created: int
) -> tuple[SignatureStatus, str] | None:
    """Why the key could not make a good signature at ``created``, or None."""
    primary = cert.primary
    if primary.revoked or info.revoked:
        return "revoked-key", "the signing key is revoked"
    for k in (primary, info):
        if k.expires is not None and created >= k.expires:
            return "expired-key", (
                f"the signing key expired on {_utc(k.expires):%Y-%m-%d %H:%M:%S} UTC, "
                "before the signature was made"
            )
    if not info.bound:
        return "bad", "the signing key has no valid binding signature"
    if created < info.packet.created:
        return "bad", "the signature claims to predate its key"
    if not info.flags & _FLAG_SIGN:
        return "policy-refused", "the key is not flagged for signing data"
    if not has_back_signature(cert, info):
        return "bad", (
            "the signing subkey has no valid primary key binding back-signature"
        )
    return None


def _who(cert: OpenPGPCertificate) -> str | None:
    if cert.emails:
        return cert.emails[0]
    return cert.user_ids[0] if cert.user_ids else None


def check_signature(
    sig: SignaturePacket,
    hasher: DocumentHasher,
    certs: Sequence[Certificate],
    *,
    policy: Policy,
    recipients: Iterable[bytes] | None = None,
) -> SignatureResult:
    """The verdict on one document signature.

    Args:
        sig: the signature.
        hasher: the hash of the signed data so far, set up for ``sig`` (its
            version, hash, salt and text mode); it is not changed.
        certs: the certificates whose keys may have made it (non-OpenPGP ones are
            ignored).
        policy: the RSA minimum applies to signing keys too.
        recipients: inside an encrypted message, the fingerprints (primary and
            subkeys) of the keys it was decrypted with; None for an unencrypted one.
    """
    ours = [c for c in certs if isinstance(c, OpenPGPCertificate)]
    mode: Literal["binary", "text"] | None = (
        "binary"
        if sig.sig_type == SIG_BINARY
        else "text"
        if sig.sig_type == SIG_TEXT
        else None
    )
    signing_time = None
    created_octets = sig.subpacket(SP_CREATION_TIME)
    if created_octets is not None and len(created_octets) == 4:
        signing_time = _utc(int.from_bytes(created_octets, "big"))

    def result(
        status: SignatureStatus,
        reason: str,
        cert: OpenPGPCertificate | None = None,
        key: object = None,
        info: KeyInfo | None = None,
    ) -> SignatureResult:
        return SignatureResult(
            status,
            fingerprint=cert.fingerprint if cert is not None else None,
            signer=_who(cert) if cert is not None else None,
            signing_time=signing_time,
            algorithm=_algorithm_name(sig, key),
            certificate=cert,
            reason=reason,
            signing_key=info.fingerprint.hex().upper() if info is not None else None,
            mode=mode,
        )

    if sig.sig_type not in (SIG_BINARY, SIG_TEXT):
        return result(
            "bad",
            f"signature type 0x{sig.sig_type:02X} is not a document signature "
            "(only binary 0x00 and text 0x01 sign a message)",
        )
    if signing_time is None:
        return result("bad", "the signature has no hashed creation time")
    created = int(signing_time.timestamp())
    for sub in sig.hashed:
        if sub.critical and sub.type not in _KNOWN_SUBPACKETS:
            return result("bad", f"critical subpacket {sub.type} is not understood")
    candidates = _candidates(sig, ours)
    if not candidates:
        fingerprint, keyid = _issuers(sig)
        named = fingerprint or keyid
        return result(
            "unknown-signer",
            "the signer "
            + (f"({_hex(named)}) " if named else "")
            + "is none of the given certificates",
        )
    if sig.hash_algorithm in REFUSED_HASHES:
        name = HASH_NAMES[sig.hash_algorithm].upper()
        return result(
            "policy-refused",
            f"{name} document signatures are refused: the hash is broken",
            candidates[0][0],
        )
    if sig.hash_algorithm not in HASH_NAMES:
        return result(
            "policy-refused",
            f"hash algorithm {sig.hash_algorithm} is not supported",
            candidates[0][0],
        )
    digest = hasher.digest(sig)
    last: SignatureResult | None = None
    for cert, info in candidates:
        if info.packet.algorithm != sig.pk_algorithm:
            last = result("bad", "the signature's algorithm is not its key's", cert)
            continue
        if sig.version != info.packet.version:
            last = result(
                "bad",
                f"a v{sig.version} signature by a v{info.packet.version} key",
                cert,
            )
            continue
        try:
            key = public_key_object(info.packet)
        except (UnsupportedError, FormatError) as exc:
            last = result("policy-refused", str(exc), cert)
            continue
        if isinstance(key, rsa.RSAPublicKey) and key.key_size < policy.min_rsa_bits:
            last = result(
                "policy-refused",
                f"the {key.key_size}-bit RSA signing key is below the policy's "
                f"{policy.min_rsa_bits} bits",
                cert,
                key,
            )
            continue
        if digest[:2] != sig.left16 or not _mathematics(sig, key, digest):
            last = result(
                "bad", "the signature does not match the signed data", cert, key
            )
            continue
        state = _key_state(cert, info, created)
        if state is not None:
            return result(state[0], state[1], cert, key, info)
        expiration = sig.subpacket(_SIGNATURE_EXPIRATION)
        if expiration and len(expiration) == 4:
            seconds = int.from_bytes(expiration, "big")
            if seconds and created + seconds <= int(
                datetime.datetime.now(datetime.UTC).timestamp()
            ):
                return result(
                    "bad", "the signature itself has expired", cert, key, info
                )
        if recipients is not None:
            intended = [
                sub.body[1:] for sub in sig.hashed if sub.type == SP_INTENDED_RECIPIENT
            ]
            wanted = set(recipients)
            if intended and not wanted.intersection(intended):
                return result(
                    "bad",
                    "the signature was meant for other recipients (its intended "
                    "recipient fingerprints do not name the decrypting key)",
                    cert,
                    key,
                )
        return result("good", "", cert, key, info)
    assert last is not None
    return last


@dataclasses.dataclass(slots=True)
class _Pending:
    """A signature waiting for the data's end, with the hasher it needs."""

    hasher: DocumentHasher | None
    one_pass: OnePassSignature | None = None
    sig: SignaturePacket | None = None
    problem: str = ""


class SignatureCollector:
    """Collects the signature packets around one Literal Data packet and hashes
    its data as it passes (see the module docstring)."""

    __slots__ = ("_before", "_hashers", "_literal", "_ops", "_trailing", "_unreadable")

    def __init__(self) -> None:
        self._ops: list[OnePassSignature | str] = []
        self._before: list[SignaturePacket | str] = []
        self._trailing: list[SignaturePacket | str] = []
        self._hashers: dict[tuple[int, int, bytes, bool], DocumentHasher] | None = None
        self._literal = False

    @property
    def signed(self) -> bool:
        """Whether any signature packet was seen."""
        return bool(self._ops or self._before or self._trailing)

    def packet(self, tag: int, body: Buffer) -> None:
        """Take a One-Pass Signature or Signature packet body."""
        if tag == TAG_ONE_PASS_SIG:
            if self._literal:
                self._ops.append("a one-pass signature packet follows the data")
                return
            try:
                self._ops.append(parse_one_pass(body))
            except (PacketError, UnsupportedError) as exc:
                self._ops.append(f"unreadable one-pass signature packet: {exc}")
            return
        target = self._trailing if self._literal else self._before
        try:
            target.append(parse_signature(bytes(body)))
        except (PacketError, UnsupportedError) as exc:
            target.append(f"unreadable signature packet: {exc}")

    def _hasher(
        self, version: int, hash_algorithm: int, salt: bytes, sig_type: int
    ) -> DocumentHasher | None:
        assert self._hashers is not None
        key = (version, hash_algorithm, salt, sig_type == SIG_TEXT)
        found = self._hashers.get(key)
        if found is None:
            try:
                found = DocumentHasher(version, hash_algorithm, salt, text=key[3])
            except ValueError:
                return None
            self._hashers[key] = found
        return found

    def _start(self) -> None:
        if self._hashers is not None:
            return
        self._hashers = {}
        self._literal = True
        for ops in self._ops:
            if isinstance(ops, OnePassSignature):
                version = 6 if ops.version == 6 else 4
                self._hasher(version, ops.hash_algorithm, ops.salt, ops.sig_type)
        for sig in self._before:
            if isinstance(sig, SignaturePacket):
                self._hasher(sig.version, sig.hash_algorithm, sig.salt, sig.sig_type)

    def literal_start(self) -> None:
        """The Literal Data packet begins (its data may be empty)."""
        if self._literal:
            raise PacketError("the message holds more than one literal data packet")
        self._start()

    def data(self, piece: Buffer) -> None:
        """Hash the next piece of the literal data."""
        assert self._hashers is not None
        for hasher in self._hashers.values():
            hasher.update(piece)

    def _pairs(self) -> list[_Pending]:
        """Each signature with its hasher, One-Pass Signature packets matched with
        the trailing signatures innermost first (RFC 9580 §10.3)."""
        self._start()
        pending: list[_Pending] = []
        for sig in self._before:
            if isinstance(sig, str):
                pending.append(_Pending(None, problem=sig))
            else:
                hasher = self._hasher(
                    sig.version, sig.hash_algorithm, sig.salt, sig.sig_type
                )
                pending.append(_Pending(hasher, sig=sig))
        trailing = list(reversed(self._trailing))
        for i in range(max(len(self._ops), len(trailing))):
            ops = self._ops[i] if i < len(self._ops) else None
            after = trailing[i] if i < len(trailing) else None
            if isinstance(ops, str) or isinstance(after, str):
                pending.append(
                    _Pending(None, problem=str(ops if isinstance(ops, str) else after))
                )
            elif ops is None:
                pending.append(
                    _Pending(
                        None,
                        sig=after,
                        problem=_NO_ONE_PASS,
                    )
                )
            elif after is None:
                pending.append(
                    _Pending(
                        None,
                        one_pass=ops,
                        problem=_STRIPPED,
                    )
                )
            else:
                problem = _mismatch(ops, after)
                version = 6 if ops.version == 6 else 4
                hasher = self._hasher(
                    version, ops.hash_algorithm, ops.salt, ops.sig_type
                )
                pending.append(_Pending(hasher, ops, after, problem))
        return pending

    def results(
        self,
        certs: Sequence[Certificate],
        *,
        policy: Policy,
        recipients: Iterable[bytes] | None = None,
    ) -> tuple[SignatureResult, ...]:
        """The verdict on every signature seen, in message order."""
        wanted = None if recipients is None else tuple(recipients)
        out = []
        for item in self._pairs():
            if item.problem or item.sig is None:
                out.append(
                    SignatureResult("bad", reason=item.problem or "no signature")
                )
            elif item.hasher is None:
                name = HASH_NAMES.get(item.sig.hash_algorithm)
                out.append(
                    SignatureResult(
                        "policy-refused",
                        reason=f"hash algorithm {name or item.sig.hash_algorithm} "
                        "is not supported",
                    )
                )
            else:
                out.append(
                    check_signature(
                        item.sig, item.hasher, certs, policy=policy, recipients=wanted
                    )
                )
        return tuple(out)


def _mismatch(ops: OnePassSignature, sig: SignaturePacket) -> str:
    """Why a signature does not fit the One-Pass Signature packet announcing it."""
    if (ops.version, sig.version) not in ((3, 4), (6, 6)):
        return "the one-pass signature packet's version does not fit the signature's"
    if ops.sig_type != sig.sig_type:
        return "the signature type differs from the one-pass signature packet's"
    if ops.hash_algorithm != sig.hash_algorithm:
        return "the hash algorithm differs from the one-pass signature packet's"
    if ops.pk_algorithm != sig.pk_algorithm:
        return "the key algorithm differs from the one-pass signature packet's"
    if ops.version == 6 and ops.salt != sig.salt:
        return "the salt differs from the one-pass signature packet's"
    fingerprint, keyid = _issuers(sig)
    if ops.version == 6 and fingerprint is not None and fingerprint != ops.issuer:
        return "the signer differs from the one named by the one-pass signature packet"
    if ops.version == 3 and ops.issuer != b"\0" * 8:
        issuer = keyid or (fingerprint[-8:] if fingerprint else None)
        if issuer is not None and issuer != ops.issuer:
            return (
                "the signer differs from the one named by the one-pass signature packet"
            )
    return ""


class _Collects(Protocol):
    """What :func:`_walk_signed` feeds: a :class:`SignatureCollector`, or
    :class:`_AfterLiteral` when the data was hashed as it opened."""

    def packet(self, tag: int, body: Buffer) -> None: ...

    def literal_start(self) -> None: ...

    def data(self, piece: Buffer) -> None: ...


def walk_signed(
    packets: Buffer,
    collector: SignatureCollector,
    policy: Policy,
    depth: int = 0,
) -> Buffer:
    """Feed the packets of a signed message to ``collector``; return the literal
    data (a view into ``packets`` or into the decompressed octets).

    Raises:
        PacketError: no literal data, more than one, or an unexpected packet.
        PolicyError: nesting deeper than the policy allows, or a decompression bomb.
    """
    return _walk_signed(packets, collector, policy, depth)[0]


def _walk_signed(
    packets: Buffer,
    collector: _Collects,
    policy: Policy,
    depth: int = 0,
) -> tuple[Buffer, tuple[int, int] | None]:
    """:func:`walk_signed`, with where the literal data lies in ``packets``
    ((start, end); None when it is not a plain slice of them: compressed, or in
    partial body lengths)."""
    found: Buffer | None = None
    span: tuple[int, int] | None = None
    for tag, body, _, end in iter_packet_spans(packets):
        if tag in (TAG_ONE_PASS_SIG, TAG_SIGNATURE):
            collector.packet(tag, body)
        elif tag in (TAG_MARKER, TAG_PADDING):
            continue
        elif tag == TAG_LITERAL:
            if found is not None:
                raise PacketError("the message holds more than one literal data packet")
            header = parse_literal_header(body)
            found = memoryview(body)[header.size :]
            if isinstance(body, memoryview):  # a definite length: not joined
                span = (end - len(found), end)
            collector.literal_start()
            collector.data(found)
        elif tag == TAG_COMPRESSED:
            if found is not None:
                raise PacketError("the message holds more than one literal data packet")
            if depth + 1 >= policy.max_nesting:
                raise PolicyError("compressed data is nested too deeply")
            from . import compression

            algo, compressed = parse_compressed(body)
            inner = compression.decompress(
                algo, compressed, policy.max_decompressed_bytes
            )
            found = _walk_signed(inner, collector, policy, depth + 1)[0]
        else:
            raise PacketError(f"unexpected packet type {tag} in a signed message")
    if found is None:
        raise PacketError("the message holds no literal data")
    return found, span


def _binary(data: Buffer, label: str) -> Buffer:
    first = data[0] if len(data) else None
    if isinstance(first, int) and first & 0x80:
        return data
    if armor_mod.is_armored(data):
        block, binary = armor_mod.dearmor(data)
        if block != label:
            raise FormatError(f"armor block PGP {block} is not a PGP {label}")
        return binary
    return data


def verify_inline(
    data: Buffer, certs: Sequence[Certificate], *, policy: Policy
) -> tuple[bytes, tuple[SignatureResult, ...]]:
    """The content of an inline-signed message and the verdict on each signature.

    Reads One-Pass Signature + Literal Data + Signature messages, messages with
    the signatures first (as old GnuPG writes them), and either inside Compressed
    Data; binary or armored ("PGP MESSAGE").

    Raises:
        ArmorError, FormatError, PacketError: malformed input.
        PolicyError: a decompression bomb, nesting too deep.
    """
    binary = _binary(data, armor_mod.BLOCK_MESSAGE)
    collector = SignatureCollector()
    content = bytes(walk_signed(binary, collector, policy))
    return content, collector.results(certs, policy=policy)


class _SignatureKeeper(SignatureCollector):
    """A collector that also keeps each Signature packet as it came."""

    __slots__ = ("kept",)

    def __init__(self) -> None:
        super().__init__()
        self.kept = bytearray()

    def packet(self, tag: int, body: Buffer) -> None:
        if tag == TAG_SIGNATURE:
            self.kept += serialize_packet(tag, body)
        super().packet(tag, body)


def detach_inline(data: Buffer, *, policy: Policy) -> tuple[bytes, bytes]:
    """Split an inline-signed message (binary or armored "PGP MESSAGE") into its
    content and its Signature packets (serialized, in message order), as a
    detached signature over the content would hold them.

    Raises:
        As :func:`verify_inline`; FormatError: the message carries no signature.
    """
    binary = _binary(data, armor_mod.BLOCK_MESSAGE)
    keeper = _SignatureKeeper()
    content = bytes(walk_signed(binary, keeper, policy))
    if not keeper.kept:
        raise FormatError("the message carries no signature")
    return content, bytes(keeper.kept)


def read_detached(signature: Buffer) -> list[SignaturePacket | str]:
    """The Signature packets of a detached signature (binary or armored "PGP
    SIGNATURE"); an unreadable one is a string saying why.

    Raises:
        FormatError, PacketError: not a detached signature.
    """
    binary = _binary(signature, BLOCK_SIGNATURE)
    found: list[SignaturePacket | str] = []
    for tag, body, _, _ in iter_packet_spans(binary):
        if tag in (TAG_MARKER, TAG_PADDING):
            continue
        if tag != TAG_SIGNATURE:
            raise PacketError(f"unexpected packet type {tag} in a detached signature")
        try:
            found.append(parse_signature(bytes(body)))
        except (PacketError, UnsupportedError) as exc:
            found.append(f"unreadable signature packet: {exc}")
    if not found:
        raise FormatError("the detached signature holds no signature packet")
    return found


def _detached_results(
    sigs: list[SignaturePacket | str],
    hashers: dict[tuple[int, int, bytes, bool], DocumentHasher],
    certs: Sequence[Certificate],
    policy: Policy,
) -> tuple[SignatureResult, ...]:
    out = []
    for sig in sigs:
        if isinstance(sig, str):
            out.append(SignatureResult("bad", reason=sig))
            continue
        hasher = hashers.get(
            (sig.version, sig.hash_algorithm, sig.salt, sig.sig_type == SIG_TEXT)
        )
        if hasher is None:
            out.append(
                SignatureResult(
                    "policy-refused",
                    reason=f"hash algorithm {sig.hash_algorithm} is not supported",
                )
            )
            continue
        out.append(check_signature(sig, hasher, certs, policy=policy))
    return tuple(out)


def _detached_hashers(
    sigs: list[SignaturePacket | str],
) -> dict[tuple[int, int, bytes, bool], DocumentHasher]:
    hashers: dict[tuple[int, int, bytes, bool], DocumentHasher] = {}
    for sig in sigs:
        if isinstance(sig, str):
            continue
        key = (sig.version, sig.hash_algorithm, sig.salt, sig.sig_type == SIG_TEXT)
        if key not in hashers and sig.hash_algorithm in HASH_NAMES:
            try:
                hashers[key] = DocumentHasher(*key[:3], text=key[3])
            except ValueError:
                continue
    return hashers


def verify_detached(
    data: Buffer,
    signature: Buffer,
    certs: Sequence[Certificate],
    *,
    policy: Policy,
) -> tuple[SignatureResult, ...]:
    """The verdict on each signature of a detached ``signature`` over ``data``.

    Raises:
        As :func:`read_detached`.
    """
    sigs = read_detached(signature)
    hashers = _detached_hashers(sigs)
    for hasher in hashers.values():
        hasher.update(data)
    return _detached_results(sigs, hashers, certs, policy)


def verify_detached_stream(
    src: object,
    signature: Buffer,
    certs: Sequence[Certificate],
    *,
    policy: Policy,
) -> tuple[SignatureResult, ...]:
    """:func:`verify_detached` over a binary stream ``src``, read once."""
    sigs = read_detached(signature)
    hashers = _detached_hashers(sigs)
    read = src.read  # type: ignore[attr-defined]
    while piece := read(_READ_SIZE):
        for hasher in hashers.values():
            hasher.update(piece)
    return _detached_results(sigs, hashers, certs, policy)


def _decrypting_fingerprints(keys: Sequence[SecretKey]) -> tuple[bytes, ...]:
    """The fingerprints (primary and subkeys) of the caller's OpenPGP keys, which
    an Intended Recipient Fingerprint subpacket must name."""
    found: list[bytes] = []
    for key in keys:
        if isinstance(key, OpenPGPSecretKey):
            cert = key.public
            found += [cert.primary.fingerprint, *(k.fingerprint for k in cert.subkeys)]
    return tuple(found)


def decrypt_verified(
    data: Buffer,
    keys: Sequence[SecretKey],
    certs: Sequence[Certificate],
    *,
    policy: Policy,
    passwords: Sequence[bytes] = (),
) -> tuple[bytearray, tuple[SignatureResult, ...]]:
    """Decrypt a message and check the signatures inside it.

    Returns:
        The literal data (released only after the container authenticated) and
        the verdict on each signature inside, in message order (empty when the
        message is not signed). Intended Recipient Fingerprint subpackets are
        checked against ``keys`` (not when only ``passwords`` open the message:
        a password has no fingerprint to be named).

    Raises:
        As ``message.decrypt``.
    """
    from ..core import chunked
    from .message import ParsedMessage, open_parsed
    from .recipients import openpgp_keys

    parsed = ParsedMessage(data, policy)
    ours = openpgp_keys(keys) if keys or not passwords else []
    early = _EarlyHash()
    # Hashing as it opens pays where the opening has threads to overlap with;
    # below that the parsing it adds is more than it saves.
    large = len(parsed.seipd_body) >= chunked.PARALLEL_MIN_BYTES
    packets, _ = open_parsed(
        parsed, ours, passwords, policy=policy, follow=early if large else None
    )
    return signed_content(
        packets, keys, certs, policy=policy, early=early if large else None
    )


def signed_content(
    packets: bytearray,
    keys: Sequence[SecretKey],
    certs: Sequence[Certificate],
    *,
    policy: Policy,
    early: _EarlyHash | None = None,
) -> tuple[bytearray, tuple[SignatureResult, ...]]:
    """The literal data of a decrypted message's inner ``packets`` and the verdict
    on each signature among them (Intended Recipient Fingerprints checked against
    ``keys``; not checked without keys: opened with a password or a session key
    alone, the decrypting key is not known). A large literal data is cut out of
    ``packets`` in place, which are not to be used after. ``early`` is the hash
    taken as the chunks opened, used when it covered exactly the literal data."""
    collector = None
    if early is not None and early.span is not None:
        collector = early.collector
    if collector is not None:
        after = _AfterLiteral(collector)
        content, span = _walk_signed(packets, after, policy)
        if early is None or span != early.span or not after.literal:
            collector = None
    if collector is None:
        # Not hashed while opening (another container, compressed or partial
        # lengths, a header beyond the first chunk): hash it now.
        collector = SignatureCollector()
        content, span = _walk_signed(packets, collector, policy)
    results = collector.results(certs, policy=policy, recipients=_named(keys))
    if span is None:
        return bytearray(content), results
    del content  # the last view into packets: they may be cut now
    return _cut(packets, *span), results


class _EarlyHash:
    """Hashes the literal data of a SEIPDv2 message chunk by chunk as each one
    authenticates (``chunked.open_into``'s ``follow``), instead of in a pass of
    its own afterwards.

    The first chunk must hold the packets before the data (One-Pass Signature,
    Signature, Marker, Padding) and the Literal Data header, all with definite
    lengths; anything else leaves :attr:`span` None and the caller hashes after
    opening. :attr:`span` is where the hashed data lies in the inner packets:
    the caller checks it against its own walk of the authenticated packets.
    """

    __slots__ = ("collector", "span")

    def __init__(self) -> None:
        self.collector: SignatureCollector | None = None
        self.span: tuple[int, int] | None = None

    def __call__(self, chunk: memoryview, offset: int) -> None:
        if offset == 0:
            # A new opening (another session key): start over.
            self.collector = SignatureCollector()
            self.span = None
            try:
                self.span = self._head(chunk)
            except (PacketError, UnsupportedError):
                self.span = None
        if self.span is None or self.collector is None:
            return
        start, end = self.span
        lo = max(start - offset, 0)
        hi = min(end - offset, len(chunk))
        if lo < hi:
            self.collector.data(chunk[lo:hi])

    def _head(self, chunk: memoryview) -> tuple[int, int] | None:
        """Feed the packets before the data; the literal data's span, or None."""
        assert self.collector is not None
        pos = 0
        while pos < len(chunk):
            first = chunk[pos]
            if first & 0xC0 != 0xC0:
                return None  # a legacy header: left to the walk after opening
            tag = first & 0x3F
            length, partial, body = new_length(chunk, pos + 1)
            if partial:
                return None
            end = body + length
            if tag == TAG_LITERAL:
                start = body + literal_header_size(chunk[body : min(end, len(chunk))])
                if start > end:
                    return None
                self.collector.literal_start()
                return start, end
            if end > len(chunk) or tag not in (
                TAG_ONE_PASS_SIG,
                TAG_SIGNATURE,
                TAG_MARKER,
                TAG_PADDING,
            ):
                return None
            if tag in (TAG_ONE_PASS_SIG, TAG_SIGNATURE):
                # A copy: nothing may keep a view into the opened packets,
                # which are cut in place afterwards.
                self.collector.packet(tag, bytes(chunk[body:end]))
            pos = end
        return None


class _AfterLiteral:
    """Walks the packets the opening already hashed up to the literal data (see
    :class:`_EarlyHash`): passes on only the signatures after it."""

    __slots__ = ("_collector", "literal")

    def __init__(self, collector: SignatureCollector) -> None:
        self._collector = collector
        self.literal = False

    def packet(self, tag: int, body: Buffer) -> None:
        if self.literal:
            self._collector.packet(tag, body)

    def literal_start(self) -> None:
        if self.literal:
            raise PacketError("the message holds more than one literal data packet")
        self.literal = True

    def data(self, piece: Buffer) -> None:
        pass  # hashed as it opened


def _cut(packets: bytearray, start: int, end: int) -> bytearray:
    """``packets[start:end]``, cut in place (no copy of a large literal data):
    the end first, while the buffer still starts at its allocation (a small
    shrink is only a new length), then the start (CPython moves its logical
    start)."""
    try:
        del packets[end:]
        del packets[:start]
    except BufferError:  # a view still open on them: copy
        return packets[start:end]
    return packets


def _named(keys: Sequence[SecretKey]) -> tuple[bytes, ...] | None:
    """What an Intended Recipient Fingerprint must name: one of ``keys``, or
    nothing to check when no key (a password) opened the message."""
    return _decrypting_fingerprints(keys) if keys else None


def decrypt_verified_stream(
    src: BinaryIO,
    dst: BinaryIO,
    keys: Sequence[SecretKey],
    certs: Sequence[Certificate],
    *,
    policy: Policy,
    spool_dir: str | None = None,
    passwords: Sequence[bytes] = (),
) -> tuple[SignatureResult, ...]:
    """:func:`decrypt_verified` from stream to stream, one pass: the literal data
    is hashed as each authenticated piece is written to ``dst``. The verdicts come
    only at the end, after ``dst`` got the data: a caller that must not release
    unverified content writes to a spool and releases it on a good verdict.

    Raises:
        As ``message.decrypt_stream``.
    """
    from .message import decrypt_stream

    collector = SignatureCollector()
    decrypt_stream(
        src,
        dst,
        keys,
        policy=policy,
        spool_dir=spool_dir,
        signatures=collector,
        passwords=passwords,
    )
    return collector.results(certs, policy=policy, recipients=_named(keys))


def verify_inline_stream(
    src: BinaryIO,
    dst: BinaryIO,
    certs: Sequence[Certificate],
    *,
    policy: Policy,
) -> tuple[SignatureResult, ...]:
    """:func:`verify_inline` from stream to stream in one pass (binary or armored
    input); as with :func:`decrypt_verified_stream`, the verdicts come after the
    content was written."""
    from .._io import PrefixedReader
    from .inner import copy_literal

    head = src.read(1024)
    stream: BinaryIO = PrefixedReader(head, src)  # type: ignore[assignment]
    if armor_mod.is_armored(head):
        stream = armor_mod.ArmorReader(stream)  # type: ignore[assignment]
    collector = SignatureCollector()
    copy_literal(stream, dst, policy, collector)
    return collector.results(certs, policy=policy)
