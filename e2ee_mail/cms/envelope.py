"""CMS enveloped messages: the functions e2ee_mail._api calls for format "cms".

Opens RFC 5083 AuthEnvelopedData with id-aes128-GCM, id-aes192-GCM or id-aes256-GCM
(RFC 5084 §3.2: a 12-byte nonce, aes-ICVlen 16 and a 16-byte mac; anything else is
refused before any secret-key operation), authenticating authAttrs as RFC 5083 §2.2
says; and, only when policy.allow_unauthenticated, RFC 5652 §6 EnvelopedData with
AES-128/192/256-CBC or des-ede3-cbc (legacy.py; the PolicyError names the opt-in,
RC2 and single DES are refused whatever the policy). Only AES-256-GCM is written, and
on request AES-256-CBC. Writing is build.py's (EnvelopedData only for
cipher="aes-256-cbc", with RSA PKCS#1 v1.5 because gpgsm 2.2 reads no OAEP), rewrap
rekey.py's (_api calls it directly), inspect inspection.py's; the checks shared with
rewrap are in common.py.

Plaintext is released only after the tag verified: the bytes API decrypts into one
buffer that is wiped on failure; streams read the body twice, a first pass checking
the tag, then one decrypting into ``dst`` (passes.py: no plaintext rests on disk,
whatever stops the process). NoMatchingKeyError when no supplied key is named (nor
can be tried); DecryptionError (fixed text) for any failure after a secret-key
operation. An RSA unwrap that fails goes on with a random content key (implicit
rejection, recipients.unwrap_content_key), so it fails at the content tag like an
altered body. A key loaded without its certificate is tried on every entry of its
algorithm, each RSA entry costing a pass over the body when it is someone else's.

Left out: detached content, originatorInfo certificates (kept and copied, unused),
and authAttrs in streams (the bytes API authenticates them).
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO, Final, Literal

from ..core import aead
from ..errors import (
    ASN1Error,
    DecryptionError,
    UsageError,
)
from ..model import Certificate, SecretKey
from ..policy import Policy
from . import build, common, legacy, passes, pem, templates

if TYPE_CHECKING:
    # Only inspect() returns one: the CLI's encrypt and decrypt never import it.
    from .._inspect import Inspection

__all__ = [
    "decrypt",
    "decrypt_stream",
    "encrypt",
    "encrypt_pieces",
    "encrypt_stream",
    "inspect",
    "sealing_for",
]

Cipher = Literal["aes-256-gcm", "aes-256-cbc"]
#: Bodies up to this size are opened by the one-shot AEAD (see decrypt()).
_ONE_SHOT_MAX_BYTES: Final = 64 << 10


def _authenticated(cipher: str) -> bool:
    if cipher == "aes-256-gcm":
        return True
    if cipher == "aes-256-cbc":
        return False
    raise UsageError(f"unknown cipher {cipher!r}: use aes-256-gcm or aes-256-cbc")


def sealing_for(
    certs: Sequence[Certificate],
    cipher: str,
    policy: Policy,
    rid_kind: templates.RidKind,
) -> build.Sealing:
    """A fresh content key wrapped for ``certs``, as ``cipher`` is written."""
    authenticated = _authenticated(cipher)
    # The legacy mode exists for clients that predate S/MIME 4.0; those (gpgsm 2.2
    # among them) read RSA key transport only as PKCS#1 v1.5, the RFC 8551 §2.3 MUST.
    # Asking for aes-256-cbc is asking for that whole legacy profile.
    if not authenticated and not policy.allow_rsa_pkcs1v15_encrypt:
        policy = dataclasses.replace(policy, allow_rsa_pkcs1v15_encrypt=True)
    return build.sealing(
        common.x509_certificates(certs, policy),
        authenticated=authenticated,
        policy=policy,
        rid_kind=rid_kind,
    )


def encrypt(
    data: bytes | bytearray | memoryview,
    certs: Sequence[Certificate],
    *,
    armor: bool = False,
    cipher: Cipher = "aes-256-gcm",
    policy: Policy,
    rid_kind: templates.RidKind = "issuer_and_serial_number",
) -> bytearray:
    """Encrypt ``data`` as AuthEnvelopedData (or EnvelopedData for aes-256-cbc).

    Returns:
        DER (a bytearray allocated once at its final size, to spare a copy of the
        body) or PEM ("-----BEGIN CMS-----") when ``armor``.
    """
    out = build.encrypt_bytes(data, sealing_for(certs, cipher, policy, rid_kind))
    if armor:
        return pem.armor(out)
    return out


def encrypt_pieces(
    pieces: Sequence[bytes],
    certs: Sequence[Certificate],
    *,
    cipher: Cipher = "aes-256-gcm",
    policy: Policy,
) -> bytearray:
    """:func:`encrypt` (DER) of the concatenation of ``pieces``, each sealed
    straight into the output: a caller that builds its content in pieces (a mail
    entity) need not join them first."""
    return build.encrypt_pieces(
        pieces, sealing_for(certs, cipher, policy, "issuer_and_serial_number")
    )


def encrypt_stream(
    src: BinaryIO,
    dst: BinaryIO,
    certs: Sequence[Certificate],
    *,
    armor: bool = False,
    cipher: Cipher = "aes-256-gcm",
    policy: Policy,
    rid_kind: templates.RidKind = "issuer_and_serial_number",
) -> None:
    """Like :func:`encrypt`, from ``src`` to ``dst`` in bounded memory.

    The recipients are wrapped before anything is written to ``dst``.
    """
    keys = sealing_for(certs, cipher, policy, rid_kind)
    if not armor:
        build.encrypt_to_stream(src, dst, keys)
        return
    writer = pem.PemWriter(dst)
    build.encrypt_to_stream(src, writer, keys)  # type: ignore[arg-type]
    writer.close()


# --- opening ----------------------------------------------------------------------


def decrypt(
    data: bytes | bytearray | memoryview, keys: Sequence[SecretKey], *, policy: Policy
) -> bytearray:
    """Open a CMS message (DER, BER or PEM) held in memory.

    Returns:
        The plaintext (a bytearray allocated once), released only after the GCM tag
        verified (or, for opted-in legacy CBC, the padding checked).
    """
    der = common.der(data)
    header, params, segments, trailer = common.frame(der, policy)
    authenticated, nonce, size, algorithm = params
    if authenticated and (trailer.mac is None or len(trailer.mac) != aead.GCM_TAG_SIZE):
        raise ASN1Error("AuthEnvelopedData mac must be exactly 16 bytes")
    usable = common.usable_candidates(header, keys, policy)
    view = memoryview(der)
    total = segments[0][1] if len(segments) == 1 else sum(n for _, n in segments)
    small = authenticated and total <= _ONE_SHOT_MAX_BYTES
    # Content keys are unwrapped one at a time, until one opens the content.
    for cek in common.unwrapped(usable, size):
        if small:
            # A small body opens faster with the one-shot AEAD than with a
            # streaming context (~7 vs ~30 µs of per-message overhead);
            # copying it next to its tag costs next to nothing at this size.
            sealed = b"".join(
                [*[view[o : o + n] for o, n in segments], trailer.mac or b""]
            )
            small_out = bytearray(total)
            try:
                # Wipes small_out itself on failure.
                aead.gcm_open_into(
                    cek,
                    nonce,
                    sealed,
                    memoryview(small_out),
                    common.aad(trailer.auth_attrs),
                )
            except DecryptionError:
                continue
            return small_out
        if authenticated:
            # One buffer of the final size (plus the 15 bytes of slack update_into
            # demands, trimmed in place afterwards), filled without a copy.
            out = bytearray(total + 15)
            out_view = memoryview(out)
            opener = aead.GCMStreamOpener(
                cek, nonce, common.aad(trailer.auth_attrs), buffer_size=16
            )
            pos = 0
            for offset, length in segments:
                pos += opener.update_into(
                    view[offset : offset + length], out_view[pos:]
                )
            out_view.release()
            try:
                opener.finalize(trailer.mac or b"")
            except DecryptionError:
                out[:] = bytes(len(out))
                continue
            del out[total:]
            return out
        sink_io = io.BytesIO()
        dec = legacy.CBCDecryptor(cek, nonce, algorithm)
        try:
            for offset, length in segments:
                dec.update(view[offset : offset + length], sink_io)
            dec.finalize(sink_io)
        except DecryptionError:
            continue
        return bytearray(sink_io.getbuffer())
    raise DecryptionError()


#: Open a CMS message from a stream in bounded memory: two passes over the body,
#: the first checking the tag (passes.py).
decrypt_stream = passes.decrypt_stream


def inspect(data: bytes) -> Inspection:
    """Describe a CMS message without any key (see cms/inspection.py)."""
    from . import inspection

    return inspection.inspect(data)
