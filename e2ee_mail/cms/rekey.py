"""Re-keying a CMS message in O(1) of the body size: only the recipient entries change.

The content-encryption key is unwrapped once with the caller's key, wrapped for the
new recipients (RFC 5652 §6.2), and the message is rebuilt from the original version
and originatorInfo, the new RecipientInfos and the original EncryptedContentInfo, mac
and attributes copied byte for byte. The outer ContentInfo / enveloped-data layers get
fresh definite lengths (X.690 §8.1.3); the copied tail keeps its own encoding.

The self-check is O(1) in the body size wherever the unwrap itself authenticates the
content key: RSAES-OAEP (RFC 8017 §7.1.2: the decoded
label hash and 0x01 separator reject a wrong key or altered entry) and AES key wrap
(RFC 3394 §2.2.3: the integrity check value) only ever yield the key the sender
wrapped. The body is then copied, not opened: re-opening it would only re-check the
sender's own pairing of key and body, which the eventual reader checks anyway. When
any candidate entry was RSAES-PKCS1-v1_5 (RFC 8017 §7.2.2, with OpenSSL's implicit
rejection a wrong key yields a random key instead of an error), or when several
distinct keys came out, the only proof of the right key is the body itself: the
result is parsed again and opened whole (AuthEnvelopedData: the single GCM tag covers
the whole body, RFC 5084 §3.2), so a rewrap never hands back a message that does not
open. An RSA unwrap that failed yields a random stand-in key (implicit rejection,
recipients.unwrap_content_key) that is never trusted: it reaches the body check and
fails there with the same DecryptionError. The sealed body is copied once, into an
output allocated at its final size.

:func:`rewrap_stream` does the same from a stream to a stream in bounded memory: the
framing is parsed as it arrives, the new header is written, and the sealed body is
copied through in chunks as the parser reads it (the tail from EncryptedContentInfo
on, byte for byte, as in the bytes path). When the input's enveloped-data SEQUENCE
has a definite length the output is framed exactly as :func:`rewrap` frames it;
when it is indefinite (``openssl cms -stream``, our own stream encrypter) the length
of the tail is known only at its end, and the three outer layers are written with
indefinite lengths and closed by end-of-contents octets (X.690 §8.1.3.6). The
self-check needs the body when the unwrap does not authenticate the content key:
then every candidate key runs its decryption over the body as it passes, the copy
goes to a 0600 spool, and the header naming the key that opened is written before
the spool is copied out (authAttrs, which come after the body, are then refused, as
decrypt_stream refuses them).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import BinaryIO, Final

from .._io import PrefixedReader, TapReader, spool
from ..core import aead
from ..errors import ASN1Error, DecryptionError, FormatError, UnsupportedError
from ..model import Certificate, SecretKey
from ..policy import Policy
from ..x509.certs import X509Certificate, X509SecretKey
from . import asn1, build, common, legacy, oids, pem, recipients, structures, tlv
from .framing import EnvelopeHeader, EnvelopeReader, Trailer

__all__ = ["ParsedEnvelope", "rewrap", "rewrap_opened", "rewrap_stream"]

#: Body octets read (and copied) at a time by :func:`rewrap_stream`.
_CHUNK: Final = 1 << 20
#: End-of-contents octets of the three outer layers written with indefinite lengths.
_CLOSE_INDEFINITE: Final = b"\x00\x00" * 3
#: What :func:`common.frame` returns.
_Framed = tuple[EnvelopeHeader, common.ContentParams, list[tuple[int, int]], Trailer]


def rewrap(
    data: bytes | bytearray | memoryview,
    keys: Sequence[SecretKey],
    certs: Sequence[Certificate],
    *,
    policy: Policy,
) -> bytearray:
    """Re-key a message: new recipient entries, the same sealed body.

    The content key is unwrapped once with ``keys``, wrapped for ``certs``, and the
    EncryptedContentInfo, mac and attributes are copied byte for byte. The result
    is checked before it is returned (see the module docstring). PEM in, PEM out.
    """
    raw = bytes(data)
    armored = pem.is_pem(raw[:64])
    der = pem.dearmor(raw) if armored else raw
    x509_certs = common.x509_certificates(certs, policy)
    header, params, _, trailer = common.frame(der, policy)
    authenticated, size = params.authenticated, params.key_size
    ceks, rejected = common.content_keys(header, keys, policy, size)
    # A stand-in for a failed unwrap (implicit rejection) is never trusted: it goes
    # through the self-check below and fails there, like any wrong key.
    trusted = len(ceks) == 1 and not rejected and _unwrap_authenticated(header, keys)
    for cek in ceks:
        ris_der = _recipient_infos(x509_certs, cek, authenticated, policy)
        tail = memoryview(der)[header.eci_offset : trailer.content_end]
        out = _rewrap_frame(header, ris_der, tail)
        if trusted or _opens_with(bytes(out), cek, policy):
            return pem.armor(out) if armored else out
    raise DecryptionError()


class ParsedEnvelope:
    """A CMS message held in memory (DER, BER or PEM), framed once: its recipient
    entries read, opened and re-wrapped without parsing it again (the mailbox
    re-key does all three, on the stored message and on the one it wrote)."""

    __slots__ = ("armored", "der", "framed")

    def __init__(self, data: bytes | bytearray | memoryview, policy: Policy) -> None:
        raw = bytes(data)
        self.armored = pem.is_pem(raw[:64])
        self.der = pem.dearmor(raw) if self.armored else raw
        self.framed: _Framed = common.frame(self.der, policy)

    @property
    def recipient_infos(self) -> tuple[structures.RecipientInfo, ...]:
        return tuple(self.framed[0].recipient_infos)

    def open(
        self, keys: Sequence[SecretKey], policy: Policy
    ) -> tuple[bytes, bytearray]:
        """(the content key, the plaintext): the first unwrapped key that opens
        the whole body."""
        header, params, _, _ = self.framed
        usable = common.usable_candidates(header, keys, policy)
        for cek in common.unwrapped(usable, params.key_size):
            plaintext = _open_body(self.der, self.framed, cek)
            if plaintext is not None:
                return cek, plaintext
        raise DecryptionError()


def rewrap_opened(
    data: bytes | bytearray | memoryview | ParsedEnvelope,
    keys: Sequence[SecretKey],
    certs: Sequence[Certificate],
    *,
    policy: Policy,
) -> tuple[bytearray, bytearray]:
    """:func:`rewrap` that opens the whole body with the content key it unwraps,
    and returns the new message with the plaintext.

    For a caller that needs the plaintext anyway (the mailbox re-key compares it
    with what the new message opens to): one unwrap instead of a decrypt and a
    rewrap each unwrapping the same key; the opened body is the self-check, for
    every kind of recipient entry.
    """
    env = data if isinstance(data, ParsedEnvelope) else ParsedEnvelope(data, policy)
    x509_certs = common.x509_certificates(certs, policy)
    cek, plaintext = env.open(keys, policy)
    header, params, _, trailer = env.framed
    authenticated = params.authenticated
    ris_der = _recipient_infos(x509_certs, cek, authenticated, policy)
    tail = memoryview(env.der)[header.eci_offset : trailer.content_end]
    out = _rewrap_frame(header, ris_der, tail)
    return (pem.armor(out) if env.armored else out), plaintext


def rewrap_stream(
    src: BinaryIO,
    dst: BinaryIO,
    keys: Sequence[SecretKey],
    certs: Sequence[Certificate],
    *,
    policy: Policy,
) -> None:
    """:func:`rewrap` from ``src`` to ``dst`` in bounded memory (DER, BER or PEM in;
    PEM out for PEM in). See the module docstring for the framing and the check.

    On failure ``dst`` may hold part of the output: write to a temporary file and
    rename it (as the CLI does) for all or nothing.
    """
    head = src.read(64)
    source: BinaryIO = PrefixedReader(head, src)  # type: ignore[assignment]
    armored = pem.is_pem(head)
    if armored:
        source = pem.PemReader(source)  # type: ignore[assignment]
    x509_certs = common.x509_certificates(certs, policy)
    tap = TapReader(source)
    tap.keep()
    reader = common.reader(tap, policy)  # type: ignore[arg-type]
    header = reader.read_header()
    authenticated, nonce, size, algorithm = common.content_params(header, policy)
    ceks, rejected = common.content_keys(header, keys, policy, size)
    trusted = len(ceks) == 1 and not rejected and _unwrap_authenticated(header, keys)
    tail_size = None
    if reader.enveloped_end is not None:
        tail_size = reader.enveloped_end - header.eci_offset
    assert tap.kept is not None
    prefix = bytes(tap.kept[header.eci_offset :])
    if trusted:
        frame = _frame_head(
            header,
            _recipient_infos(x509_certs, ceks[0], authenticated, policy),
            tail_size,
        )
        out = _start_output(dst, armored, frame)
        _copy_tail(reader, tap, prefix, out, [], authenticated)
    else:
        with spool() as body:
            openers = [
                _body_opener(cek, nonce, algorithm, authenticated) for cek in ceks
            ]
            trailer = _copy_tail(reader, tap, prefix, body, openers, authenticated)
            if authenticated and trailer.auth_attrs is not None:
                raise UnsupportedError(
                    "AuthEnvelopedData with authAttrs whose recipient entry does not "
                    "authenticate the content key cannot be re-keyed as a stream: "
                    "use rewrap()"
                )
            cek = _opened(ceks, openers, trailer)
            frame = _frame_head(
                header,
                _recipient_infos(x509_certs, cek, authenticated, policy),
                tail_size,
            )
            out = _start_output(dst, armored, frame)
            # The spool holds ciphertext only: the sealed body, as it came.
            body.seek(0)
            while chunk := body.read(_CHUNK):
                out.write(chunk)
    if tail_size is None:
        out.write(_CLOSE_INDEFINITE)
    if armored:
        out.close()  # the PemWriter: the last line and the END line


def _start_output(dst: BinaryIO, armored: bool, frame: bytes) -> BinaryIO:
    """``dst``, or a PEM writer onto it, with ``frame`` written."""
    out: BinaryIO = pem.PemWriter(dst) if armored else dst  # type: ignore[assignment]
    out.write(frame)
    return out


def _recipient_infos(
    certs: Sequence[X509Certificate], cek: bytes, authenticated: bool, policy: Policy
) -> bytes:
    """The DER of the new RecipientInfos: ``cek`` wrapped for every certificate."""
    return build.sealing(
        certs,
        authenticated=authenticated,
        policy=policy,
        rid_kind="issuer_and_serial_number",
        cek=cek,
    ).ris_der


_BodyOpener = aead.GCMStreamOpener | legacy.CBCDecryptor


def _body_opener(
    cek: bytes, nonce: bytes, algorithm: str, authenticated: bool
) -> _BodyOpener:
    if authenticated:
        return aead.GCMStreamOpener(cek, nonce, buffer_size=1 << 18)
    return legacy.CBCDecryptor(cek, nonce, algorithm)


def _copy_tail(
    reader: EnvelopeReader,
    tap: TapReader,
    prefix: bytes,
    sink: BinaryIO,
    openers: Sequence[_BodyOpener],
    authenticated: bool,
) -> Trailer:
    """Copy the tail (EncryptedContentInfo to the end of the enveloped-data content)
    to ``sink`` as the reader parses it: ``prefix`` (what the header parse read of
    it), the body as it passes, the trailer up to its end. Each of ``openers`` sees
    the body octets."""
    sink.write(prefix)
    tap.pass_to(sink)
    for length in reader.segments():
        left = length
        while left:
            chunk = tap.read(min(left, _CHUNK))
            if not chunk:
                raise FormatError("the CMS message is truncated")
            for opener in openers:
                opener.update(chunk, _DISCARD)  # type: ignore[arg-type]
            left -= len(chunk)
        reader.advance(length)
    tap.keep()
    start = tap.pos
    trailer = reader.read_trailer(authenticated=authenticated)
    if authenticated and (trailer.mac is None or len(trailer.mac) != aead.GCM_TAG_SIZE):
        raise ASN1Error("AuthEnvelopedData mac must be exactly 16 bytes")
    assert tap.kept is not None
    sink.write(tap.kept[: trailer.content_end - start])
    tap.drop()
    return trailer


def _opened(
    ceks: Sequence[bytes], openers: Sequence[_BodyOpener], trailer: Trailer
) -> bytes:
    """The first content key whose opener accepted the body (the self-check)."""
    for cek, opener in zip(ceks, openers, strict=True):
        try:
            if isinstance(opener, aead.GCMStreamOpener):
                opener.finalize(trailer.mac or b"")
            else:
                opener.finalize(_DISCARD)  # type: ignore[arg-type]
        except DecryptionError:
            continue
        return cek
    raise DecryptionError()


def _unwrap_authenticated(header: EnvelopeHeader, keys: Sequence[SecretKey]) -> bool:
    """Whether every entry our keys may have opened authenticates its content key
    (RSAES-OAEP or key agreement with AES key wrap; see the module docstring)."""
    x509_keys = [k for k in keys if isinstance(k, X509SecretKey)]
    found, _ = recipients.candidates(header.recipient_infos, x509_keys)
    return bool(found) and all(
        not isinstance(info, structures.KeyTransRecipientInfo)
        or info.key_encryption_algorithm.algorithm == oids.RSAES_OAEP
        for info, _, _ in found
    )


def _rewrap_frame(
    header: EnvelopeHeader, ris_der: bytes, tail: memoryview
) -> bytearray:
    """ContentInfo around the original version and originatorInfo, the new
    RecipientInfos and the copied tail (EncryptedContentInfo onward), with definite
    lengths for the outer layers (the copied tail keeps its own encoding)."""
    head = _frame_head(header, ris_der, len(tail))
    # One allocation at the final size; the body is copied into it exactly once.
    out = bytearray(len(head) + len(tail))
    out[: len(head)] = head
    out[len(head) :] = tail
    return out


def _version(header: EnvelopeHeader, ris_der: bytes) -> bytes:
    """The enveloped-data version for the new entries. AuthEnvelopedData: always 0
    (RFC 5083 §2.1), the original. EnvelopedData (RFC 5652 §6.1): 3 with an ori
    entry (an ML-KEM KEMRecipientInfo, RFC 9629 §3); without originatorInfo, 0 when
    every entry is a version 0 KTRI and 2 otherwise; with it, the original."""
    if header.content_type != oids.ENVELOPED_DATA:
        return header.version
    tags = []
    versions = []
    pos = tlv.expect_last(ris_der, 0, len(ris_der), 0x31)
    while pos < len(ris_der):
        tag, start, stop = tlv.element(ris_der, pos, len(ris_der))
        tags.append(tag)
        versions.append(ris_der[start : start + 3])
        pos = stop
    if 0xA4 in tags:
        return max(header.version, _VERSION_3, key=lambda v: int.from_bytes(v[2:]))
    if header.originator_info:
        return header.version
    if all(t == 0x30 for t in tags) and all(v == _VERSION_0 for v in versions):
        return _VERSION_0
    return _VERSION_2


_VERSION_0: Final = asn1.der_int(0)
_VERSION_2: Final = asn1.der_int(2)
_VERSION_3: Final = asn1.der_int(3)


def _frame_head(header: EnvelopeHeader, ris_der: bytes, tail_size: int | None) -> bytes:
    """Everything before the copied tail: the ContentInfo, [0] and enveloped-data
    headers, the version, originatorInfo and the new RecipientInfos. The three outer
    layers get definite lengths for a tail of ``tail_size`` octets, or indefinite
    ones when it is None (the writer then closes them with end-of-contents octets)."""
    inner = _version(header, ris_der) + header.originator_info + ris_der
    oid = asn1.der_oid(header.content_type)
    if tail_size is None:
        return b"".join((b"\x30\x80", oid, b"\xa0\x80", b"\x30\x80", inner))
    env_len = len(inner) + tail_size
    env_hdr = b"\x30" + asn1.der_length(env_len)
    explicit_hdr = b"\xa0" + asn1.der_length(len(env_hdr) + env_len)
    ci_len = len(oid) + len(explicit_hdr) + len(env_hdr) + env_len
    return b"".join(
        (b"\x30", asn1.der_length(ci_len), oid, explicit_hdr, env_hdr, inner)
    )


def _opens_with(der: bytes, cek: bytes, policy: Policy) -> bool:
    """Whether ``der`` parses and its body opens with ``cek`` (rewrap self-check)."""
    _, (authenticated, nonce, _, algorithm), segments, trailer = common.frame(
        der, policy
    )
    view = memoryview(der)
    sink = _Discard()
    try:
        if authenticated:
            opener = aead.GCMStreamOpener(
                cek, nonce, common.aad(trailer.auth_attrs), buffer_size=1 << 18
            )
            for offset, length in segments:
                opener.update(view[offset : offset + length], sink)  # type: ignore[arg-type]
            opener.finalize(trailer.mac or b"")
        else:
            dec = legacy.CBCDecryptor(cek, nonce, algorithm)
            for offset, length in segments:
                dec.update(view[offset : offset + length], sink)  # type: ignore[arg-type]
            dec.finalize(sink)  # type: ignore[arg-type]
    except DecryptionError:
        return False
    return True


def _open_body(der: bytes, framed: _Framed, cek: bytes) -> bytearray | None:
    """The plaintext of the body of ``der`` (``framed`` is its
    :func:`common.frame`) under ``cek``, or None when it does not open. The
    body is in memory already: one AEAD call over it and its tag."""
    _, (authenticated, nonce, _, algorithm), segments, trailer = framed
    view = memoryview(der)
    pieces = [view[offset : offset + length] for offset, length in segments]
    if authenticated:
        if trailer.mac is None or len(trailer.mac) != aead.GCM_TAG_SIZE:
            raise ASN1Error("AuthEnvelopedData mac must be exactly 16 bytes")
        out = bytearray(sum(length for _, length in segments))
        sealed = b"".join([*pieces, trailer.mac])
        try:
            aead.gcm_open_into(
                cek, nonce, sealed, memoryview(out), common.aad(trailer.auth_attrs)
            )
        except DecryptionError:
            return None
        return out
    sink = io.BytesIO()
    dec = legacy.CBCDecryptor(cek, nonce, algorithm)
    try:
        for piece in pieces:
            dec.update(piece, sink)
        dec.finalize(sink)
    except DecryptionError:
        return None
    return bytearray(sink.getbuffer())


class _Discard:
    def write(self, data: bytes | bytearray | memoryview) -> int:
        return len(data)


#: Where the self-check's plaintext goes: nowhere.
_DISCARD: Final = _Discard()
