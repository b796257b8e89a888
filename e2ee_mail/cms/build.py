"""Writing CMS AuthEnvelopedData (RFC 5083 §2.1, RFC 5084) and, on request, legacy
EnvelopedData AES-256-CBC (RFC 5652 §6.1, RFC 3565 §4).

Layout written (RFC 5652 §3 ContentInfo around it)::

    AuthEnvelopedData ::= SEQUENCE { version 0, recipientInfos,
        authEncryptedContentInfo { id-data, id-aes256-GCM GCMParameters{nonce 12,
        ICVlen 16}, [0] IMPLICIT encryptedContent }, mac OCTET STRING (16) }

No authAttrs, so the GCM AAD is empty (RFC 5083 §2.2). The bytes API builds the whole
output in one buffer allocated at its final size: the ciphertext is sealed in place by
``gcm_seal_into`` and the tag moved two bytes along, after the mac's OCTET STRING
header, so the body is never copied. Streams write DER with definite lengths when the
input's remaining length is known (a regular file); otherwise BER with indefinite
lengths for the outer layers and the encrypted content as 1 MiB OCTET STRING segments
(X.690 §8.1.3.6, §8.7.3), which ``openssl cms`` and gpgsm read. EnvelopedData streams
always use the segmented form.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from typing import BinaryIO, Final, NamedTuple

from ..core import aead
from ..core.random import random_bytes
from ..policy import Policy
from ..x509.certs import X509Certificate
from . import asn1, legacy, oids, structures, templates
from .structures import AlgorithmIdentifier
from .tlv import EOC

__all__ = [
    "SEGMENT_SIZE",
    "Sealing",
    "build_prefix",
    "encrypt_bytes",
    "encrypt_bytes_from_parts",
    "encrypt_to_stream",
    "our_prefix",
    "sealing",
]

#: Encrypted-content segment size in the indefinite-length form.
SEGMENT_SIZE: Final = 1 << 20
_VERSION_0: Final = asn1.der_int(0)
_VERSION_3: Final = asn1.der_int(3)
_VERSION_2: Final = asn1.der_int(2)
#: The mac element after the content: OCTET STRING of the 16-byte GCM tag.
_MAC_SIZE: Final = 2 + aead.GCM_TAG_SIZE
CBC_IV_SIZE: Final = 16


def _content_type(authenticated: bool) -> bytes:
    return asn1.der_oid(
        oids.AUTH_ENVELOPED_DATA if authenticated else oids.ENVELOPED_DATA
    )


class Sealing(NamedTuple):
    """What one message is sealed with: its content-encryption key, and the
    RecipientInfos (DER) and enveloped-data version that carry the key."""

    authenticated: bool
    cek: bytes
    ris_der: bytes
    version: bytes


def sealing(
    certs: Sequence[X509Certificate],
    *,
    authenticated: bool,
    policy: Policy,
    rid_kind: templates.RidKind,
    cek: bytes | None = None,
    ephemeral_secrets: Sequence[bytes | None] | None = None,
    encrypted_keys: Sequence[bytes | None] | None = None,
) -> Sealing:
    """A fresh content key (or ``cek``) wrapped for every certificate.

    ``cek``, ``ephemeral_secrets`` and ``encrypted_keys`` pin, per certificate,
    what templates.wrap_der may pin: test vectors, and rewrap (the message's own
    content key).
    """
    if cek is None:
        cek = random_bytes(aead.KEY_SIZE)
    if ephemeral_secrets is None and encrypted_keys is None:
        entries = [
            templates.wrap_der(cert, cek, policy=policy, rid_kind=rid_kind)
            for cert in certs
        ]
    else:
        pinned = zip(
            ephemeral_secrets or [None] * len(certs),
            encrypted_keys or [None] * len(certs),
            strict=True,
        )
        entries = [
            templates.wrap_der(
                cert,
                cek,
                policy=policy,
                rid_kind=rid_kind,
                ephemeral_secret=ephemeral,
                encrypted_key=encrypted,
            )
            for cert, (ephemeral, encrypted) in zip(certs, pinned, strict=True)
        ]
    ris_der = asn1.set_of(entries)
    # RFC 5083 §2.1: AuthEnvelopedData version is always 0. RFC 5652 §6.1: 3 when
    # an entry is an ori (an ML-KEM KEMRecipientInfo, RFC 9629 §3); 0 when every
    # entry is a KTRI of version 0, that is RSA named by issuerAndSerialNumber;
    # else 2.
    if authenticated or (
        rid_kind == "issuer_and_serial_number"
        and all(cert.algorithm.startswith("rsa") for cert in certs)
    ):
        return Sealing(authenticated, cek, ris_der, _VERSION_0)
    if any(cert.algorithm.startswith("mlkem") for cert in certs):
        return Sealing(authenticated, cek, ris_der, _VERSION_3)
    return Sealing(authenticated, cek, ris_der, _VERSION_2)


def build_prefix(
    *,
    authenticated: bool,
    version: bytes,
    originator_info: bytes,
    ris_der: bytes,
    algorithm: AlgorithmIdentifier,
    body_length: int | None,
    tail_length: int,
) -> bytes:
    """Everything up to the first encrypted-content byte.

    Args:
        body_length: the encrypted content's length, or None for the indefinite form.
        tail_length: bytes after the content inside the enveloped-data SEQUENCE
            (the mac element for AuthEnvelopedData); ignored when indefinite.
    """
    eci_head = asn1.der_oid(oids.DATA) + asn1.serialize_algorithm_identifier(algorithm)
    inner = version + originator_info + ris_der
    if body_length is None:
        return (
            b"\x30\x80"
            + _content_type(authenticated)
            + b"\xa0\x80\x30\x80"
            + inner
            + b"\x30\x80"
            + eci_head
            + b"\xa0\x80"
        )
    content_hdr = b"\x80" + asn1.der_length(body_length)
    eci_len = len(eci_head) + len(content_hdr) + body_length
    eci_hdr = b"\x30" + asn1.der_length(eci_len)
    env_len = len(inner) + len(eci_hdr) + eci_len + tail_length
    env_hdr = b"\x30" + asn1.der_length(env_len)
    explicit_len = len(env_hdr) + env_len
    explicit_hdr = b"\xa0" + asn1.der_length(explicit_len)
    oid = _content_type(authenticated)
    ci_len = len(oid) + len(explicit_hdr) + explicit_len
    return (
        b"\x30"
        + asn1.der_length(ci_len)
        + oid
        + explicit_hdr
        + env_hdr
        + inner
        + eci_hdr
        + eci_head
        + content_hdr
    )


def our_prefix(keys: Sealing, nonce: bytes, body_length: int | None) -> bytes:
    """:func:`build_prefix` for what we write: no originatorInfo and no authAttrs;
    id-aes256-GCM with ``nonce`` (ICVlen 16) and the mac after the content, or
    id-aes256-CBC with ``nonce`` as its IV (RFC 3565 §4.1)."""
    if keys.authenticated:
        params = asn1.serialize_gcm_parameters(
            structures.GCMParameters(nonce, aead.GCM_TAG_SIZE)
        )
        algorithm = AlgorithmIdentifier(oids.AES256_GCM, params)
        tail_length = _MAC_SIZE
    else:
        algorithm = AlgorithmIdentifier(oids.AES256_CBC, asn1.der_tlv(0x04, nonce))
        tail_length = 0
    return build_prefix(
        authenticated=keys.authenticated,
        version=keys.version,
        originator_info=b"",
        ris_der=keys.ris_der,
        algorithm=algorithm,
        body_length=body_length,
        tail_length=tail_length,
    )


def encrypt_bytes(
    data: bytes | bytearray | memoryview, keys: Sealing, nonce: bytes | None = None
) -> bytearray:
    """The whole DER message, built in one buffer of its final size.

    ``nonce`` (the GCM nonce or CBC IV) is drawn fresh unless given (test vectors).
    """
    if nonce is None:
        nonce = random_bytes(aead.GCM_NONCE_SIZE if keys.authenticated else CBC_IV_SIZE)
    view = memoryview(data)
    n = len(view)
    if keys.authenticated:
        prefix = our_prefix(keys, nonce, n)
        p = len(prefix)
        out = bytearray(p + n + _MAC_SIZE)
        out_view = memoryview(out)
        out_view[:p] = prefix
        sealed = out_view[p : p + n + aead.GCM_TAG_SIZE]
        aead.gcm_seal_into(keys.cek, nonce, view, sealed)
        # The tag lands right after the ciphertext; move it behind the mac's
        # OCTET STRING header (RFC 5083 §2.1: mac follows authEncryptedContentInfo).
        tag = bytes(out_view[p + n : p + n + aead.GCM_TAG_SIZE])
        out_view[p + n : p + n + 2] = b"\x04\x10"
        out_view[p + n + 2 :] = tag
        return out
    enc = legacy.CBCEncryptor(keys.cek, nonce)
    out = bytearray(our_prefix(keys, nonce, legacy.padded_length(n)))
    out += enc.update(view)
    out += enc.finalize()
    return out


def encrypt_pieces(pieces: Sequence[bytes], keys: Sealing) -> bytearray:
    """:func:`encrypt_bytes` of the pieces' concatenation, without making it: each
    piece is sealed straight into the message buffer (a mail's inner entity is
    built as cache-sized pieces; joining them was a copy of the whole body)."""
    if not keys.authenticated:
        return encrypt_bytes(b"".join(pieces), keys)
    nonce = random_bytes(aead.GCM_NONCE_SIZE)
    n = sum(map(len, pieces))
    prefix = our_prefix(keys, nonce, n)
    p = len(prefix)
    out = bytearray(p + n + _MAC_SIZE)
    out_view = memoryview(out)
    out_view[:p] = prefix
    # Unbuffered: update_into writes each piece's octets at once. The mac's 18
    # octets after the body are the 15 octets of slack cryptography asks for.
    sealer = aead.GCMStreamSealer(keys.cek, nonce, buffer_size=0)
    pos = p
    for piece in pieces:
        pos += sealer.update_into(piece, out_view[pos:])
    out_view[pos : pos + 2] = b"\x04\x10"
    out_view[pos + 2 :] = sealer.finalize()
    return out


def encrypt_bytes_from_parts(
    data: bytes | bytearray | memoryview,
    certs: Sequence[X509Certificate],
    *,
    cek: bytes,
    nonce: bytes,
    ephemeral_secrets: Sequence[bytes | None],
    authenticated: bool = True,
    policy: Policy,
    rid_kind: templates.RidKind = "issuer_and_serial_number",
    encrypted_keys: Sequence[bytes | None] | None = None,
) -> bytearray:
    """Like :func:`encrypt_bytes` with the content key, nonce/IV and X25519
    ephemeral keys pinned: for test-vector generators and runners only, never for
    real mail. RSA wraps stay randomized by their padding unless ``encrypted_keys``
    gives, per certificate, the RSA-wrapped CEK a vector recorded (None: wrap)."""
    keys = sealing(
        certs,
        authenticated=authenticated,
        policy=policy,
        rid_kind=rid_kind,
        cek=cek,
        ephemeral_secrets=ephemeral_secrets,
        encrypted_keys=encrypted_keys,
    )
    return encrypt_bytes(data, keys, nonce)


def _remaining_length(src: BinaryIO) -> int | None:
    """Bytes left in ``src`` when it is a regular file, else None."""
    try:
        st = os.fstat(src.fileno())
        if not stat.S_ISREG(st.st_mode):
            return None
        return st.st_size - src.tell()
    except (AttributeError, OSError, ValueError):
        return None


def encrypt_to_stream(src: BinaryIO, dst: BinaryIO, keys: Sealing) -> None:
    """Encrypt ``src`` into ``dst`` (DER or BER, see the module docstring)."""
    if not keys.authenticated:
        _cbc_stream(src, dst, keys)
        return
    nonce = random_bytes(aead.GCM_NONCE_SIZE)
    length = _remaining_length(src)
    sealer = aead.GCMStreamSealer(keys.cek, nonce)
    dst.write(our_prefix(keys, nonce, length))
    if length is not None:
        sealer.pump(src, dst, length)
        dst.write(b"\x04\x10" + sealer.finalize())
        return
    buf = bytearray(SEGMENT_SIZE)
    view = memoryview(buf)
    while True:
        got = _fill(src, view)
        if not got:
            break
        dst.write(b"\x04" + asn1.der_length(got))
        sealer.update(view[:got], dst)
    # End the content [0] and the EncryptedContentInfo, then the mac, then the
    # enveloped-data SEQUENCE, [0] and ContentInfo.
    dst.write(EOC + EOC + b"\x04\x10" + sealer.finalize() + EOC * 3)


def _fill(src: BinaryIO, view: memoryview) -> int:
    """Read until ``view`` is full or the input ends."""
    total = 0
    readinto = src.readinto  # type: ignore[attr-defined]
    while total < len(view):
        got = readinto(view[total:])
        if not got:
            break
        total += got
    return total


def _cbc_stream(src: BinaryIO, dst: BinaryIO, keys: Sealing) -> None:
    iv = random_bytes(CBC_IV_SIZE)
    dst.write(our_prefix(keys, iv, None))
    enc = legacy.CBCEncryptor(keys.cek, iv)
    buf = bytearray(SEGMENT_SIZE)
    view = memoryview(buf)
    while True:
        got = _fill(src, view)
        out = enc.update(view[:got]) if got else enc.finalize()
        if out:
            dst.write(b"\x04" + asn1.der_length(len(out)) + out)
        if not got:
            break
    dst.write(EOC * 5)
