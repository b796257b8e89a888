"""CMS enveloped messages: the functions e2ee_mail._api calls for format "cms".

Implements RFC 5652 §6 / RFC 5083 / RFC 5084 opening and the entry points for writing
(cms/build.py), rewrap and inspect:

- AuthEnvelopedData with id-aes256-GCM only: GCMParameters must carry a 12-byte nonce
  and aes-ICVlen 16, and the mac must be exactly 16 bytes; anything else is refused
  (UnsupportedError / ASN1Error) before any secret-key operation. authAttrs, when
  present, are authenticated as RFC 5083 §2.2 says (AAD = their DER with a SET OF tag).
- EnvelopedData AES-128/192/256-CBC opens only when policy.allow_unauthenticated; the
  PolicyError names the opt-in. It is written only for cipher="aes-256-cbc", and then
  with RSA PKCS#1 v1.5 key transport (the legacy profile: gpgsm 2.2 reads no OAEP).
- Plaintext is released only after the tag verified: the bytes API decrypts into one
  buffer that is wiped on failure; streams spool to a 0600 temporary file
  (_io.spool) and copy to ``dst`` after the tag verified.
- Errors: NoMatchingKeyError when no supplied key is named (nor can be tried);
  DecryptionError (fixed text) for any failure after a secret-key operation.

Left out: detached content, originatorInfo certificates (kept and copied, unused),
streams that need more than one candidate content key (the first is used; the bytes
API tries each).
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Sequence
from typing import BinaryIO, Literal

from .. import _io
from .._inspect import Inspection, RecipientDescription
from ..core import aead
from ..errors import (
    ASN1Error,
    DecryptionError,
    NoMatchingKeyError,
    PolicyError,
    UnsupportedError,
    UsageError,
)
from ..keys.model import Certificate, SecretKey
from ..keys.x509 import X509Certificate, X509SecretKey
from ..policy import Policy
from . import asn1, build, legacy, oids, pem, recipients
from .framing import EnvelopeHeader, EnvelopeReader

__all__ = [
    "decrypt",
    "decrypt_stream",
    "encrypt",
    "encrypt_stream",
    "inspect",
    "rewrap",
]

Cipher = Literal["aes-256-gcm", "aes-256-cbc"]


def _certs(certs: Sequence[Certificate]) -> list[X509Certificate]:
    out = []
    for cert in certs:
        if not isinstance(cert, X509Certificate):
            raise UsageError(
                f"format cms/smime needs X.509 certificates; {cert!r} is not one"
            )
        out.append(cert)
    return out


def _authenticated(cipher: str) -> bool:
    if cipher == "aes-256-gcm":
        return True
    if cipher == "aes-256-cbc":
        return False
    raise UsageError(f"unknown cipher {cipher!r}: use aes-256-gcm or aes-256-cbc")


def _write_policy(policy: Policy, authenticated: bool) -> Policy:
    # The legacy mode exists for clients that predate S/MIME 4.0; those (gpgsm 2.2
    # among them) read RSA key transport only as PKCS#1 v1.5, the RFC 8551 §2.3 MUST.
    # Asking for aes-256-cbc is asking for that whole legacy profile.
    if authenticated or policy.allow_rsa_pkcs1v15_encrypt:
        return policy
    return dataclasses.replace(policy, allow_rsa_pkcs1v15_encrypt=True)


def encrypt(
    data: bytes | bytearray | memoryview,
    certs: Sequence[Certificate],
    *,
    armor: bool = False,
    cipher: Cipher = "aes-256-gcm",
    policy: Policy,
    rid_kind: recipients.RidKind = "issuer_and_serial_number",
) -> bytes:
    """Encrypt ``data`` as AuthEnvelopedData (or EnvelopedData for aes-256-cbc).

    Returns:
        DER (a bytearray allocated once at its final size, to spare a copy of the
        body) or PEM ("-----BEGIN CMS-----") when ``armor``.
    """
    authenticated = _authenticated(cipher)
    out = build.encrypt_bytes(
        data,
        _certs(certs),
        authenticated=authenticated,
        policy=_write_policy(policy, authenticated),
        rid_kind=rid_kind,
    )
    if armor:
        return pem.armor(out)
    return out  # type: ignore[return-value]


def encrypt_stream(
    src: BinaryIO,
    dst: BinaryIO,
    certs: Sequence[Certificate],
    *,
    armor: bool = False,
    cipher: Cipher = "aes-256-gcm",
    policy: Policy,
    rid_kind: recipients.RidKind = "issuer_and_serial_number",
) -> None:
    """Like :func:`encrypt`, from ``src`` to ``dst`` in bounded memory."""
    x509_certs = _certs(certs)
    authenticated = _authenticated(cipher)
    policy = _write_policy(policy, authenticated)
    if armor:
        writer = pem.PemWriter(dst)
        build.encrypt_to_stream(
            src,
            writer,  # type: ignore[arg-type]
            x509_certs,
            authenticated=authenticated,
            policy=policy,
            rid_kind=rid_kind,
        )
        writer.close()
        return
    build.encrypt_to_stream(
        src,
        dst,
        x509_certs,
        authenticated=authenticated,
        policy=policy,
        rid_kind=rid_kind,
    )


# --- opening ----------------------------------------------------------------------


def _der(data: bytes) -> bytes:
    return pem.dearmor(data) if pem.is_pem(data[:64]) else data


def _reader(src: BinaryIO, policy: Policy) -> EnvelopeReader:
    return EnvelopeReader(
        src,
        max_header_bytes=policy.max_header_bytes,
        max_recipients=policy.max_recipients,
    )


def _content_params(header: EnvelopeHeader, policy: Policy) -> tuple[bool, bytes, int]:
    """Check the content algorithm (public data).

    Returns:
        (authenticated, nonce or IV, content key size).
    """
    alg = header.content_encryption_algorithm
    # The inner content type is not authenticated (RFC 5083 §2.1 leaves it outside
    # the AAD), so we accept only the one we can return: id-data.
    if header.inner_content_type != oids.DATA:
        raise UnsupportedError(
            f"encrypted content of type {header.inner_content_type} is not supported: "
            "only id-data"
        )
    if header.content_type == oids.AUTH_ENVELOPED_DATA:
        # RFC 5083 §2.1: version is always 0.
        if header.version != b"\x02\x01\x00":
            raise ASN1Error("AuthEnvelopedData version must be 0")
        if alg.algorithm != oids.AES256_GCM:
            raise UnsupportedError(
                f"AuthEnvelopedData with {oids.name(alg.algorithm)} is not supported: "
                "only AES-256-GCM"
            )
        params = asn1.parse_gcm_parameters(alg.parameters)
        if len(params.nonce) != aead.GCM_NONCE_SIZE:
            raise UnsupportedError("AES-GCM nonces other than 12 bytes are refused")
        if params.icv_len != aead.GCM_TAG_SIZE:
            raise UnsupportedError(
                f"AES-GCM with a {params.icv_len}-byte tag is refused: 16 required"
            )
        return True, params.nonce, aead.KEY_SIZE
    # RFC 5652 §6.1: EnvelopedData version is 0, 2, 3 or 4.
    if header.version not in (
        b"\x02\x01\x00",
        b"\x02\x01\x02",
        b"\x02\x01\x03",
        b"\x02\x01\x04",
    ):
        raise ASN1Error("EnvelopedData version must be 0, 2, 3 or 4")
    if alg.algorithm not in oids.CBC_KEY_SIZES:
        raise UnsupportedError(
            f"EnvelopedData with {oids.name(alg.algorithm)} is not supported"
        )
    if not policy.allow_unauthenticated:
        raise PolicyError(
            f"this is legacy EnvelopedData ({oids.name(alg.algorithm)}) without "
            "integrity protection; open it only if you accept that risk, with "
            "allow_unauthenticated=True (CLI: --allow-unauthenticated)"
        )
    iv = _iv(alg.parameters)
    return False, iv, oids.CBC_KEY_SIZES[alg.algorithm]


def _iv(params: bytes | None) -> bytes:
    if not params or params[0] != 0x04 or len(params) != 18 or params[1] != 16:
        raise ASN1Error("malformed AES-CBC parameters: expected a 16-byte IV")
    return params[2:]


def _no_key(header: EnvelopeHeader) -> NoMatchingKeyError:
    named = [d[1] for info in header.recipient_infos for d in recipients.describe(info)]
    return NoMatchingKeyError(
        "none of the supplied keys is a recipient of this message; it is addressed "
        f"to: {'; '.join(named) or 'nobody'}"
    )


def _content_keys(
    header: EnvelopeHeader, keys: Sequence[SecretKey], policy: Policy, size: int
) -> tuple[list[bytes], bool]:
    """Unwrap every candidate content key. Returns (keys, some entry named us)."""
    x509_keys = [k for k in keys if isinstance(k, X509SecretKey)]
    found, named = recipients.candidates(header.recipient_infos, x509_keys)
    if not found:
        raise _no_key(header)
    for info, _, key in found:
        recipients.check_supported(info, key, policy)
    ceks: list[bytes] = []
    for info, index, key in found:
        try:
            cek = recipients.unwrap(info, index, key)
        except DecryptionError:
            continue
        if len(cek) == size and cek not in ceks:
            ceks.append(cek)
    if not ceks:
        if named:
            raise DecryptionError()
        raise _no_key(header)
    return ceks, named


def _aad(auth_attrs: bytes | None) -> bytes | None:
    # RFC 5083 §2.2: the AAD is the DER of authAttrs with an EXPLICIT SET OF tag.
    return None if auth_attrs is None else b"\x31" + auth_attrs[1:]


class _Into:
    """A minimal writable stream over a preallocated buffer."""

    def __init__(self, out: bytearray) -> None:
        self._view = memoryview(out)
        self.pos = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        n = len(data)
        self._view[self.pos : self.pos + n] = data
        self.pos += n
        return n


def decrypt(
    data: bytes | bytearray | memoryview, keys: Sequence[SecretKey], *, policy: Policy
) -> bytes:
    """Open a CMS message (DER, BER or PEM) held in memory.

    Returns:
        The plaintext (a bytearray allocated once), released only after the GCM tag
        verified (or, for opted-in legacy CBC, the padding checked).
    """
    der = _der(bytes(data))
    reader = _reader(io.BytesIO(der), policy)
    header = reader.read_header()
    authenticated, nonce, size = _content_params(header, policy)
    segments = []
    for length in reader.segments():
        segments.append((reader.pos, length))
        reader.skip(length)
    trailer = reader.read_trailer(authenticated=authenticated)
    if authenticated and (trailer.mac is None or len(trailer.mac) != aead.GCM_TAG_SIZE):
        raise ASN1Error("AuthEnvelopedData mac must be exactly 16 bytes")
    ceks, named = _content_keys(header, keys, policy, size)
    view = memoryview(der)
    total = sum(length for _, length in segments)
    for cek in ceks:
        if authenticated:
            out = bytearray(total)
            sink = _Into(out)
            opener = aead.GCMStreamOpener(
                cek, nonce, _aad(trailer.auth_attrs), buffer_size=1 << 18
            )
            for offset, length in segments:
                opener.update(view[offset : offset + length], sink)  # type: ignore[arg-type]
            try:
                opener.finalize(trailer.mac or b"")
            except DecryptionError:
                out[:] = bytes(total)
                continue
            return out  # type: ignore[return-value]
        sink_io = io.BytesIO()
        dec = legacy.CBCDecryptor(cek, nonce)
        try:
            for offset, length in segments:
                dec.update(view[offset : offset + length], sink_io)
            dec.finalize(sink_io)
        except DecryptionError:
            continue
        return sink_io.getvalue()
    if named:
        raise DecryptionError()
    raise _no_key(header)


def _stream_source(src: BinaryIO) -> BinaryIO:
    head = src.read(64)
    stream: BinaryIO = _io.PrefixedReader(head, src)  # type: ignore[assignment]
    if pem.is_pem(head):
        return pem.PemReader(stream)  # type: ignore[return-value]
    return stream


def decrypt_stream(
    src: BinaryIO, dst: BinaryIO, keys: Sequence[SecretKey], *, policy: Policy
) -> None:
    """Open a CMS message from ``src`` into ``dst`` in bounded memory.

    The plaintext is spooled to a 0600 temporary file and copied to ``dst`` only
    after the tag verified; on failure nothing is written to ``dst``.
    """
    reader = _reader(_stream_source(src), policy)
    header = reader.read_header()
    authenticated, nonce, size = _content_params(header, policy)
    ceks, _ = _content_keys(header, keys, policy, size)
    cek = ceks[0]
    with _io.spool() as tmp:
        if authenticated:
            # authAttrs come after the content, so streams cannot authenticate them
            # ahead of time; messages with authAttrs are opened by the bytes API.
            opener = aead.GCMStreamOpener(cek, nonce)
            for length in reader.segments():
                opener.pump(reader.src, tmp, length)
                reader.advance(length)
            trailer = reader.read_trailer(authenticated=True)
            if trailer.auth_attrs is not None:
                raise UnsupportedError(
                    "AuthEnvelopedData with authAttrs cannot be streamed: use decrypt()"
                )
            if trailer.mac is None or len(trailer.mac) != aead.GCM_TAG_SIZE:
                raise ASN1Error("AuthEnvelopedData mac must be exactly 16 bytes")
            opener.finalize(trailer.mac)
        else:
            dec = legacy.CBCDecryptor(cek, nonce)
            buf = bytearray(1 << 20)
            for length in reader.segments():
                left = length
                while left:
                    chunk = reader.src.read(min(left, len(buf)))
                    if not chunk:
                        raise ASN1Error("the CMS message is truncated")
                    dec.update(chunk, tmp)
                    left -= len(chunk)
                reader.advance(length)
            reader.read_trailer(authenticated=False)
            dec.finalize(tmp)
        tmp.seek(0)
        while chunk := tmp.read(1 << 20):
            dst.write(chunk)


def rewrap(
    data: bytes | bytearray | memoryview,
    keys: Sequence[SecretKey],
    certs: Sequence[Certificate],
    *,
    policy: Policy,
) -> bytes:
    """Re-key a message: new recipient entries, the same sealed body.

    The content key is unwrapped once with ``keys``, wrapped for ``certs``, and the
    EncryptedContentInfo, mac and attributes are copied byte for byte. The result
    is opened with the content key before it is returned. PEM in, PEM out.
    """
    raw = bytes(data)
    armored = pem.is_pem(raw[:64])
    der = pem.dearmor(raw) if armored else raw
    x509_certs = _certs(certs)
    reader = _reader(io.BytesIO(der), policy)
    header = reader.read_header()
    authenticated, _, size = _content_params(header, policy)
    for length in reader.segments():
        reader.skip(length)
    trailer = reader.read_trailer(authenticated=authenticated)
    ceks, named = _content_keys(header, keys, policy, size)
    for cek in ceks:
        infos = build.recipient_infos(
            x509_certs, cek, policy=policy, rid_kind="issuer_and_serial_number"
        )
        tail = memoryview(der)[header.eci_offset : trailer.content_end]
        out = _rewrap_frame(header, asn1.serialize_recipient_infos(infos), tail)
        if _opens_with(out, cek, policy):
            return pem.armor(out) if armored else out
    if named:
        raise DecryptionError()
    raise _no_key(header)


def _rewrap_frame(header: EnvelopeHeader, ris_der: bytes, tail: memoryview) -> bytes:
    """ContentInfo around the original version and originatorInfo, the new
    RecipientInfos and the copied tail (EncryptedContentInfo onward), with definite
    lengths for the outer layers (the copied tail keeps its own encoding)."""
    inner = header.version + header.originator_info + ris_der
    env_len = len(inner) + len(tail)
    env_hdr = b"\x30" + asn1.der_length(env_len)
    explicit_hdr = b"\xa0" + asn1.der_length(len(env_hdr) + env_len)
    oid = asn1.der_oid(header.content_type)
    ci_len = len(oid) + len(explicit_hdr) + len(env_hdr) + env_len
    out = bytearray(b"\x30" + asn1.der_length(ci_len))
    out += oid + explicit_hdr + env_hdr + inner
    out += tail
    return bytes(out)


def _opens_with(der: bytes, cek: bytes, policy: Policy) -> bool:
    """Whether ``der`` parses and its body opens with ``cek`` (rewrap self-check)."""
    reader = _reader(io.BytesIO(der), policy)
    header = reader.read_header()
    authenticated, nonce, _ = _content_params(header, policy)
    view = memoryview(der)
    sink = _Discard()
    if authenticated:
        opener = aead.GCMStreamOpener(cek, nonce, buffer_size=1 << 18)
        for length in reader.segments():
            opener.update(view[reader.pos : reader.pos + length], sink)  # type: ignore[arg-type]
            reader.skip(length)
        trailer = reader.read_trailer(authenticated=True)
        if trailer.auth_attrs is not None:
            return True
        try:
            opener.finalize(trailer.mac or b"")
        except DecryptionError:
            return False
        return True
    dec = legacy.CBCDecryptor(cek, nonce)
    for length in reader.segments():
        dec.update(view[reader.pos : reader.pos + length], sink)  # type: ignore[arg-type]
        reader.skip(length)
    reader.read_trailer(authenticated=False)
    try:
        dec.finalize(sink)  # type: ignore[arg-type]
    except DecryptionError:
        return False
    return True


class _Discard:
    def write(self, data: bytes | bytearray | memoryview) -> int:
        return len(data)


def inspect(data: bytes) -> Inspection:
    """Describe a CMS message without any key: content type, algorithm, recipients."""
    armored = pem.is_pem(data[:64])
    der = pem.dearmor(data) if armored else data
    reader = _reader(io.BytesIO(der), Policy())
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
    details = (
        ("content type", kind),
        ("encoding", "PEM" if armored else ("BER" if header.indefinite else "DER")),
    )
    return Inspection(
        format="cms",
        content_algorithm=oids.name(alg.algorithm),
        recipients=tuple(described),
        details=details,
    )
