"""Re-keying a CMS message (DESIGN.md "re-keying is O(1) in the body size").

The content-encryption key is unwrapped once with the caller's key, wrapped for the
new recipients (RFC 5652 §6.2), and the message is rebuilt from the original version
and originatorInfo, the new RecipientInfos and the original EncryptedContentInfo, mac
and attributes copied byte for byte. The outer ContentInfo / enveloped-data layers get
fresh definite lengths (X.690 §8.1.3); the copied tail keeps its own encoding. Before
returning, the result is parsed again and its body opened with the content key, so a
rewrap never hands back a message that does not open.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from ..core import aead
from ..errors import DecryptionError
from ..keys.model import Certificate, SecretKey
from ..policy import Policy
from . import asn1, build, common, legacy, pem
from .framing import EnvelopeHeader

__all__ = ["rewrap"]


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
    x509_certs = common.x509_certificates(certs)
    reader = common.reader(io.BytesIO(der), policy)
    header = reader.read_header()
    authenticated, _, size = common.content_params(header, policy)
    for length in reader.segments():
        reader.skip(length)
    trailer = reader.read_trailer(authenticated=authenticated)
    ceks, named = common.content_keys(header, keys, policy, size)
    for cek in ceks:
        infos = build.recipient_infos(
            x509_certs, cek, policy=policy, rid_kind="issuer_and_serial_number"
        )
        tail = memoryview(der)[header.eci_offset : trailer.content_end]
        out = _rewrap_frame(header, asn1.serialize_recipient_infos(infos), tail)
        if _opens_with(out, cek, policy):
            return bytes(pem.armor(out)) if armored else out
    if named:
        raise DecryptionError()
    raise common.no_key(header)


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
    reader = common.reader(io.BytesIO(der), policy)
    header = reader.read_header()
    authenticated, nonce, _ = common.content_params(header, policy)
    segments = []
    for length in reader.segments():
        segments.append((reader.pos, length))
        reader.skip(length)
    trailer = reader.read_trailer(authenticated=authenticated)
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
            dec = legacy.CBCDecryptor(cek, nonce)
            for offset, length in segments:
                dec.update(view[offset : offset + length], sink)  # type: ignore[arg-type]
            dec.finalize(sink)  # type: ignore[arg-type]
    except DecryptionError:
        return False
    return True


class _Discard:
    def write(self, data: bytes | bytearray | memoryview) -> int:
        return len(data)
