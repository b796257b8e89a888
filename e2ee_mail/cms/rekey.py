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
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core import aead
from ..errors import DecryptionError
from ..model import Certificate, SecretKey
from ..policy import Policy
from ..x509.certs import X509SecretKey
from . import asn1, build, common, legacy, oids, pem, recipients, structures
from .framing import EnvelopeHeader

__all__ = ["rewrap"]


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
    x509_certs = common.x509_certificates(certs)
    header, (authenticated, _, size), _, trailer = common.frame(der, policy)
    ceks, rejected = common.content_keys(header, keys, policy, size)
    # A stand-in for a failed unwrap (implicit rejection) is never trusted: it goes
    # through the self-check below and fails there, like any wrong key.
    trusted = len(ceks) == 1 and not rejected and _unwrap_authenticated(header, keys)
    for cek in ceks:
        sealed = build.sealing(
            x509_certs,
            authenticated=authenticated,
            policy=policy,
            rid_kind="issuer_and_serial_number",
            cek=cek,
        )
        tail = memoryview(der)[header.eci_offset : trailer.content_end]
        out = _rewrap_frame(header, sealed.ris_der, tail)
        if trusted or _opens_with(bytes(out), cek, policy):
            return pem.armor(out) if armored else out
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
    inner = header.version + header.originator_info + ris_der
    env_len = len(inner) + len(tail)
    env_hdr = b"\x30" + asn1.der_length(env_len)
    explicit_hdr = b"\xa0" + asn1.der_length(len(env_hdr) + env_len)
    oid = asn1.der_oid(header.content_type)
    ci_len = len(oid) + len(explicit_hdr) + len(env_hdr) + env_len
    head = b"".join(
        (b"\x30", asn1.der_length(ci_len), oid, explicit_hdr, env_hdr, inner)
    )
    # One allocation at the final size; the body is copied into it exactly once.
    out = bytearray(len(head) + len(tail))
    out[: len(head)] = head
    out[len(head) :] = tail
    return out


def _opens_with(der: bytes, cek: bytes, policy: Policy) -> bool:
    """Whether ``der`` parses and its body opens with ``cek`` (rewrap self-check)."""
    _, (authenticated, nonce, _), segments, trailer = common.frame(der, policy)
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
