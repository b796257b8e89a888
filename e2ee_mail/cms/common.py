"""Steps shared by envelope.py and rekey.py: recipient certificate checks, the content
algorithm checks of RFC 5083 §2.1 / RFC 5084 §3.2 / RFC 5652 §6.1, and finding the
content key among the recipient entries (RFC 5652 §6.2).

Everything checked before a secret-key operation may raise a specific error; after
one, only DecryptionError (fixed text). NoMatchingKeyError comes from public data
alone: no recipient entry a supplied key could try.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import BinaryIO, NamedTuple

from ..core import aead
from ..errors import (
    ASN1Error,
    DecryptionError,
    Error,
    NoMatchingKeyError,
    PolicyError,
    UnsupportedError,
    UsageError,
)
from ..model import Certificate, SecretKey
from ..policy import Policy
from ..x509.certs import X509Certificate, X509SecretKey
from ..x509.usage import check_recipient
from . import asn1, choice, derframe, legacy, oids, pem, recipients
from .framing import EnvelopeHeader, EnvelopeReader, Trailer

__all__ = [
    "ContentParams",
    "aad",
    "buffer_reader",
    "content_keys",
    "content_params",
    "der",
    "frame",
    "no_key",
    "reader",
    "unwrapped",
    "usable_candidates",
    "x509_certificates",
]


def x509_certificates(
    certs: Sequence[Certificate], policy: Policy
) -> list[X509Certificate]:
    """The recipient certificates, checked before anything is encrypted to them.

    Raises:
        UsageError: one is not X.509.
        PolicyError: one may not receive encrypted mail now (key usage, validity;
            x509/usage.py), or the policy requires post-quantum keys and one has
            none (choice.py, which also drops a person's classic certificate when
            their ML-KEM one is given too).
    """
    out = []
    for cert in certs:
        if not isinstance(cert, X509Certificate):
            raise UsageError(
                f"format cms/smime needs X.509 certificates; {cert!r} is not one"
            )
        check_recipient(cert, policy)
        out.append(cert)
    return choice.choose(out, policy)


Buffer = bytes | bytearray | memoryview


def der(data: Buffer) -> Buffer:
    """The DER/BER of a message given as DER, BER or PEM (CMS or PKCS7 label).

    DER comes back as the very buffer given: no copy of the body.
    """
    if isinstance(data, memoryview) and not (
        data.format == "B" and data.ndim == 1 and data.c_contiguous
    ):
        data = bytes(data)  # the readers index octets
    if pem.is_pem(bytes(data[:64])):
        return pem.dearmor(bytes(data))
    return data


def buffer_reader(data: Buffer) -> BinaryIO:
    """A seekable reader over ``data`` that does not copy it."""
    if isinstance(data, bytes):
        return io.BytesIO(data)  # shares the bytes object until written to
    return _ViewReader(memoryview(data))  # type: ignore[return-value]


class _ViewReader:
    """The read side of BytesIO over a buffer (BytesIO would copy a bytearray)."""

    __slots__ = ("_pos", "_view")

    def __init__(self, view: memoryview) -> None:
        self._view = view
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        start = self._pos
        end = len(self._view) if size is None or size < 0 else start + size
        out = bytes(self._view[start:end])
        self._pos = start + len(out)
        return out

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._pos, len(self._view))[whence]
        self._pos = max(0, base + offset)
        return self._pos


def reader(src: BinaryIO, policy: Policy) -> EnvelopeReader:
    """An EnvelopeReader bounded by the policy's limits."""
    return EnvelopeReader(
        src,
        max_header_bytes=policy.max_header_bytes,
        max_recipients=policy.max_recipients,
    )


def frame(
    der: Buffer, policy: Policy
) -> tuple[EnvelopeHeader, ContentParams, list[tuple[int, int]], Trailer]:
    """Read a whole message held in memory, without opening it.

    Plain DER is read straight from the buffer (derframe.py); anything else by the
    stream reader over it, which decides. The content algorithm is checked as soon as
    the header is read, before the body and the trailer.

    Returns:
        (header, :func:`content_params`, the body's segments as (offset, length),
        trailer).
    """
    framed = derframe.parse(der, policy)
    if framed is not None:
        header, segment, trailer = framed
        return header, content_params(header, policy), [segment], trailer
    source = reader(buffer_reader(der), policy)
    header = source.read_header()
    params = content_params(header, policy)
    segments = []
    for length in source.segments():
        segments.append((source.pos, length))
        source.skip(length)
    return header, params, segments, source.read_trailer(authenticated=params[0])


class ContentParams(NamedTuple):
    """What the content algorithm says, checked (public data)."""

    #: AuthEnvelopedData with AES-GCM, or else legacy EnvelopedData with CBC.
    authenticated: bool
    #: The GCM nonce or the CBC IV.
    nonce: bytes
    #: The content-encryption key's length in octets.
    key_size: int
    #: The content-encryption algorithm's OID.
    algorithm: str


def content_params(header: EnvelopeHeader, policy: Policy) -> ContentParams:
    """Check the content algorithm (public data).

    Raises:
        UnsupportedError: a cipher or parameters we do not open (RC2 and single DES
            whatever the policy).
        PolicyError: legacy EnvelopedData without policy.allow_unauthenticated.
        ASN1Error: malformed parameters or version.
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
        key_size = oids.GCM_KEY_SIZES.get(alg.algorithm)
        if key_size is None:
            raise UnsupportedError(
                f"AuthEnvelopedData with {oids.name(alg.algorithm)} is not supported: "
                "only AES-128/192/256-GCM"
            )
        params = asn1.parse_gcm_parameters(alg.parameters)
        if len(params.nonce) != aead.GCM_NONCE_SIZE:
            raise UnsupportedError("AES-GCM nonces other than 12 bytes are refused")
        # RFC 5084 §3.2 lets aes-ICVlen be 12 to 16 octets (DEFAULT 12), but a
        # truncated tag weakens forgery resistance: each octet dropped makes a forged
        # body 256 times likelier to pass, and against GCM a forger gains more than
        # that from long messages (NIST SP 800-38D, Appendix C). OpenSSL, gpgsm and
        # we write 16 octets; anything shorter is refused.
        if params.icv_len != aead.GCM_TAG_SIZE:
            raise UnsupportedError(
                f"AES-GCM with a {params.icv_len}-byte tag is refused: truncated tags "
                "weaken forgery resistance; 16 required"
            )
        return ContentParams(True, params.nonce, key_size, alg.algorithm)
    # RFC 5652 §6.1: EnvelopedData version is 0, 2, 3 or 4.
    if header.version not in (
        b"\x02\x01\x00",
        b"\x02\x01\x02",
        b"\x02\x01\x03",
        b"\x02\x01\x04",
    ):
        raise ASN1Error("EnvelopedData version must be 0, 2, 3 or 4")
    refused = legacy.REFUSED.get(alg.algorithm)
    if refused is not None:
        raise UnsupportedError(
            f"EnvelopedData with {oids.name(alg.algorithm)} is not supported, even "
            f"with allow_unauthenticated: {refused}"
        )
    cipher = legacy.CIPHERS.get(alg.algorithm)
    if cipher is None:
        raise UnsupportedError(
            f"EnvelopedData with {oids.name(alg.algorithm)} is not supported"
        )
    # Unauthenticated CBC gives no integrity (see legacy.py): opened only by opt-in.
    if not policy.allow_unauthenticated:
        raise PolicyError(
            f"this is legacy EnvelopedData ({oids.name(alg.algorithm)}) without "
            "integrity protection; open it only if you accept that risk, with "
            "allow_unauthenticated=True (CLI: --allow-unauthenticated)"
        )
    iv = _iv(alg.parameters, cipher.block_size)
    return ContentParams(False, iv, cipher.key_size, alg.algorithm)


def _iv(params: bytes | None, size: int) -> bytes:
    # RFC 3565 §4.1 and RFC 3370 §5.1: the parameters are the IV, an OCTET STRING
    # of one block.
    if not params or params[0] != 0x04 or len(params) != size + 2 or params[1] != size:
        raise ASN1Error(f"malformed CBC parameters: expected a {size}-byte IV")
    return params[2:]


def no_key(header: EnvelopeHeader) -> NoMatchingKeyError:
    named = [d[1] for info in header.recipient_infos for d in recipients.describe(info)]
    return NoMatchingKeyError(
        "none of the supplied keys is a recipient of this message; it is addressed "
        f"to: {'; '.join(named) or 'nobody'}"
    )


def usable_candidates(
    header: EnvelopeHeader, keys: Sequence[SecretKey], policy: Policy
) -> list[recipients.Candidate]:
    """The entries our keys may open (public data only).

    Raises:
        NoMatchingKeyError: no entry for any of the keys: the message names none of
            them (and has no entry a key without its certificate could try).
        ASN1Error, UnsupportedError, PolicyError: the first refusal, when every
            candidate entry is refused.
    """
    x509_keys = [k for k in keys if isinstance(k, X509SecretKey)]
    found, _ = recipients.candidates(header.recipient_infos, x509_keys)
    if not found:
        raise no_key(header)
    # Entries we cannot or may not open are skipped when another one may do; the
    # first refusal (public data only) is raised when none is left.
    usable = []
    refusal: Error | None = None
    for candidate in found:
        try:
            recipients.check_supported(candidate[0], candidate[2], policy)
        except (ASN1Error, UnsupportedError, PolicyError) as exc:
            refusal = refusal or exc
            continue
        usable.append(candidate)
    if not usable:
        assert refusal is not None
        raise refusal
    return usable


def unwrapped(usable: Sequence[recipients.Candidate], size: int) -> _Unwrapped:
    """Unwrap the candidates one at a time: each distinct content key of ``size``.

    Lazy, so that a caller stops at the first key that opens the content (a message
    that names our certificate in several entries costs one RSA decryption). An RSA
    entry always yields a key, a random stand-in when its unwrap failed (implicit
    rejection, see recipients.unwrap_content_key); the iterator's ``rejected`` says
    whether one did.
    """
    return _Unwrapped(usable, size)


class _Unwrapped:
    """The iterator of :func:`unwrapped` (a class: leaving a generator early costs
    its close, a few µs per message)."""

    __slots__ = ("_next", "_seen", "_size", "_usable", "rejected")

    def __init__(self, usable: Sequence[recipients.Candidate], size: int) -> None:
        self._usable = usable
        self._size = size
        self._next = 0
        self._seen: list[bytes] = []
        self.rejected = False

    def __iter__(self) -> _Unwrapped:
        return self

    def __next__(self) -> bytes:
        while self._next < len(self._usable):
            info, index, key = self._usable[self._next]
            self._next += 1
            try:
                cek, ok = recipients.unwrap_content_key(info, index, key, self._size)
            except DecryptionError:
                continue
            self.rejected = self.rejected or not ok
            if cek not in self._seen:
                self._seen.append(cek)
                return cek
        raise StopIteration


def content_keys(
    header: EnvelopeHeader, keys: Sequence[SecretKey], policy: Policy, size: int
) -> tuple[list[bytes], bool]:
    """Unwrap every candidate content key.

    Returns:
        (the keys, whether one of them is a random stand-in for a failed unwrap).

    Raises:
        NoMatchingKeyError: the message names none of the keys.
        DecryptionError: no entry gave a key (every key agreement entry failed).
    """
    ceks = unwrapped(usable_candidates(header, keys, policy), size)
    found = list(ceks)
    if not found:
        raise DecryptionError()
    return found, ceks.rejected


def aad(auth_attrs: bytes | None) -> bytes | None:
    # RFC 5083 §2.2: the AAD is the DER of authAttrs with an EXPLICIT SET OF tag.
    return None if auth_attrs is None else b"\x31" + auth_attrs[1:]
