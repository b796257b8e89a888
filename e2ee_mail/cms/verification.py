"""Verifying CMS SignedData (RFC 5652 §5.4, §5.6) against the caller's certificates.

The content is hashed in one pass (:class:`ContentHasher`, with every hash the
SignedData names), and :func:`verify_signed_data` gives one
:class:`~e2ee_mail.model.SignatureResult` per SignerInfo, so that a bad signature
never hides a good one beside it. :func:`verify` is the bytes form.

For each SignerInfo, in this order:

1. Its certificate is looked up by issuerAndSerialNumber or subjectKeyIdentifier
   among the caller's certificates, then among those the SignedData carries; a
   carried certificate proves nothing about who signed, so a signature that checks
   out against one alone is "unknown-signer".
2. The algorithms (sigalgs.py): MD5, SHA-1 and anything unknown are
   "policy-refused", as is an RSA key below ``policy.min_rsa_bits``.
3. With signed attributes (§5.3, §11): they must be DER; exactly one content-type,
   equal to eContentType (§11.1); exactly one message-digest, equal to the content's
   digest (§11.2); at most one signing-time (§11.3). The signature covers their DER.
4. Without them (allowed only for id-data, §5.3), the signature covers the content
   itself. A content that is itself a set of signed attributes is refused: the
   signature over another message's attributes would otherwise pass as a signature
   over those octets.
5. The certificate's key usage must allow signing mail (x509/usage.py), else
   "policy-refused"; it must have been valid at the signing time (the clock when the
   SignedData gives none), else "expired-key".

Left out: certificate path validation and revocation (the caller's certificates are
the trust decision), countersignatures, the RFC 6211 algorithm protection attribute.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from ..core import signature
from ..errors import ASN1Error, Error, PolicyError, UnsupportedError, UsageError
from ..model import Certificate, SignatureResult, SignatureStatus
from ..policy import DEFAULT, Policy
from ..x509.certs import X509Certificate, load_certificate
from ..x509.usage import signing_refusal, validity_refusal
from . import oids, pem, sigalgs, tlv
from .signed import (
    SignedData,
    SignerInfo,
    attribute_values,
    decode_time,
    parse_attributes,
    parse_signed_data,
)
from .structures import RecipientId

__all__ = ["ContentHasher", "hash_names", "verify", "verify_signed_data"]

Buffer = bytes | bytearray | memoryview

#: The hashes a content may be digested with (sigalgs.py refuses the others).
_HASHES: Final = ("sha256", "sha384", "sha512")
#: Content up to this size is kept by the hasher, to tell a content that is a set
#: of signed attributes (signed attributes are far smaller).
_KEPT_CONTENT_BYTES: Final = 64 << 10
#: The most SignerInfos read from one SignedData.
_MAX_SIGNERS: Final = 64
#: The most carried certificates looked at (each costs a certificate parse).
_MAX_CARRIED: Final = 64


def hash_names(sd: SignedData) -> tuple[str, ...]:
    """The hashes to digest ``sd``'s content with: those its digestAlgorithms and
    SignerInfos name that we accept."""
    reverse = {oids.SHA256: "sha256", oids.SHA384: "sha384", oids.SHA512: "sha512"}
    algs = [*sd.digest_algorithms, *(i.digest_algorithm for i in sd.signer_infos)]
    return tuple(
        dict.fromkeys(reverse[a.algorithm] for a in algs if a.algorithm in reverse)
    )


class ContentHasher:
    """Digests of a content fed chunk by chunk, one hash object per hash."""

    __slots__ = ("_hashes", "_keep", "_kept", "_length")

    def __init__(self, names: Iterable[str] = _HASHES, *, keep: bool = True) -> None:
        """``keep``: keep a short content for :attr:`content` (False: the caller
        holds the content itself)."""
        self._hashes = {n: hashlib.new(n) for n in names if n in _HASHES}
        self._kept = bytearray()
        self._keep = keep
        self._length = 0

    def update(self, chunk: Buffer) -> None:
        """Hash the next chunk."""
        for h in self._hashes.values():
            h.update(chunk)
        if self._keep and self._length < _KEPT_CONTENT_BYTES:
            self._kept += chunk[: _KEPT_CONTENT_BYTES - self._length]
        self._length += len(chunk)

    def digests(self) -> dict[str, bytes]:
        """The digests so far, by hash name."""
        return {n: h.digest() for n, h in self._hashes.items()}

    @property
    def content(self) -> bytes | None:
        """The whole content when it is short enough to have been kept."""
        if not self._keep or self._length > _KEPT_CONTENT_BYTES:
            return None
        return bytes(self._kept)


class _Refused(Exception):
    def __init__(self, status: SignatureStatus, reason: str) -> None:
        super().__init__(reason)
        self.status: SignatureStatus = status
        self.reason = reason


def _names(sid: RecipientId, cert: X509Certificate) -> bool:
    if sid.subject_key_identifier is not None:
        return sid.subject_key_identifier == cert.subject_key_identifier
    return sid.serial_number == cert.serial_number and sid.issuer == cert.issuer_der


class _Carried:
    """The certificates a SignedData carries, loaded only when a signer is not
    among the caller's, and at most :data:`_MAX_CARRIED` of them."""

    __slots__ = ("_certs", "_sd")

    def __init__(self, sd: SignedData) -> None:
        self._sd = sd
        self._certs: list[X509Certificate] | None = None

    def find(self, sid: RecipientId) -> X509Certificate | None:
        if self._certs is None:
            self._certs = []
            for der in self._sd.certificates[:_MAX_CARRIED]:
                try:
                    self._certs.append(load_certificate(der))
                except Error:
                    continue  # one we cannot read names no signer we can check
        return next((c for c in self._certs if _names(sid, c)), None)


def _signer_cert(
    sid: RecipientId, trusted: Sequence[X509Certificate], carried: _Carried
) -> tuple[X509Certificate | None, bool]:
    for cert in trusted:
        if _names(sid, cert):
            return cert, True
    return carried.find(sid), False


def _single(values: list[bytes], what: str) -> bytes:
    if len(values) != 1:
        raise _Refused("bad", f"the signed attributes hold {len(values)} {what} values")
    return values[0]


def _check_attributes(
    info: SignerInfo, sd: SignedData, digest: bytes
) -> tuple[bytes, datetime.datetime | None]:
    """(the octets signed, the signing time or None) from the signed attributes."""
    assert info.signed_attrs is not None
    try:
        attrs = parse_attributes(info.signed_attrs)
        content_type = _single(
            attribute_values(attrs, oids.ATTR_CONTENT_TYPE), "content-type"
        )
        start = tlv.expect_last(content_type, 0, len(content_type), 0x06)
        if tlv.decode_oid(content_type[start:]) != sd.econtent_type:
            raise _Refused(
                "bad", "the content-type attribute differs from the content's type"
            )
        claimed = _single(
            attribute_values(attrs, oids.ATTR_MESSAGE_DIGEST), "message-digest"
        )
        start = tlv.expect_last(claimed, 0, len(claimed), 0x04)
        if not hmac.compare_digest(claimed[start:], digest):
            raise _Refused("bad", "the content differs from what was signed")
        times = attribute_values(attrs, oids.ATTR_SIGNING_TIME)
        if len(times) > 1:
            raise _Refused("bad", "the signed attributes hold two signing times")
        when = decode_time(times[0]) if times else None
    except (ASN1Error, tlv.Decline) as exc:
        raise _Refused("bad", f"malformed signed attributes: {exc}") from None
    return info.signed_attrs, when


def _looks_like_attributes(content: bytes) -> bool:
    try:
        attrs = parse_attributes(content)
    except ASN1Error:
        return False
    return bool(attribute_values(attrs, oids.ATTR_MESSAGE_DIGEST))


def _check(
    info: SignerInfo,
    sd: SignedData,
    cert: X509Certificate,
    digests: Mapping[str, bytes],
    content: bytes | None,
    policy: Policy,
) -> tuple[str, datetime.datetime | None]:
    """Check one signature; (the algorithm's name, the signing time or None)."""
    try:
        scheme = sigalgs.scheme_from(info.signature_algorithm, info.digest_algorithm)
    except (PolicyError, UnsupportedError) as exc:
        raise _Refused("policy-refused", str(exc)) from None
    except ASN1Error as exc:
        raise _Refused("bad", str(exc)) from None
    key = cert.public_key
    name = sigalgs.display_name(scheme, key)
    if not sigalgs.key_fits(scheme, key):
        raise _Refused("bad", f"the signer's {cert.algorithm} key cannot make {name}")
    assert isinstance(key, signature.VerifyingKey)
    bits = getattr(key, "key_size", None)
    if (
        scheme.kind.startswith("rsa")
        and bits is not None
        and bits < policy.min_rsa_bits
    ):
        raise _Refused(
            "policy-refused",
            f"an RSA key of {bits} bits is below the policy minimum of "
            f"{policy.min_rsa_bits}",
        )
    digest = digests.get(scheme.hash_name)
    if digest is None:
        raise UsageError(f"no {scheme.hash_name} digest of the content was given")
    when: datetime.datetime | None = None
    if info.signed_attrs is not None:
        signed, when = _check_attributes(info, sd, digest)
        ok = signature.verify(key, scheme, info.signature, signed)
    else:
        if sd.econtent_type != oids.DATA:
            raise _Refused(
                "bad", "signed attributes are missing for a content other than data"
            )
        if content is not None and _looks_like_attributes(content):
            raise _Refused(
                "bad",
                "the content is a set of signed attributes: a signature over "
                "another message's attributes passed off as one over this content",
            )
        if scheme.kind == "ed25519":
            if content is None:
                raise _Refused(
                    "policy-refused",
                    "an Ed25519 signature without signed attributes needs the whole "
                    "content, which was not kept",
                )
            ok = signature.verify(key, scheme, info.signature, content)
        else:
            ok = signature.verify_digest(key, scheme, info.signature, digest)
    if not ok:
        raise _Refused("bad", "the signature does not match")
    return name, when


def _one(
    info: SignerInfo,
    sd: SignedData,
    trusted: Sequence[X509Certificate],
    carried: _Carried,
    digests: Mapping[str, bytes],
    content: bytes | None,
    policy: Policy,
    now: float,
) -> SignatureResult:
    cert, is_trusted = _signer_cert(info.sid, trusted, carried)
    if cert is None:
        return SignatureResult(
            "unknown-signer", reason="no certificate for the signer was given"
        )
    who = cert.emails[0] if cert.emails else cert.user_ids[0]
    name: str | None = None
    when: datetime.datetime | None = None
    try:
        name, when = _check(info, sd, cert, digests, content, policy)
        if not is_trusted:
            raise _Refused(
                "unknown-signer",
                "the signer's certificate came with the signature, and is not one "
                "of the certificates given",
            )
        refusal = signing_refusal(cert)
        if refusal is not None:
            raise _Refused("policy-refused", f"the certificate {refusal}")
        moment = now if when is None else when.timestamp()
        refusal = validity_refusal(cert, moment)
        if refusal is not None:
            raise _Refused("expired-key", f"at the signing time {refusal}")
        status: SignatureStatus = "good"
        reason = ""
    except _Refused as refused:
        status, reason = refused.status, refused.reason
    return SignatureResult(
        status,
        fingerprint=cert.fingerprint,
        signer=who,
        signing_time=when,
        algorithm=name,
        certificate=cert,
        reason=reason,
    )


def verify_signed_data(
    sd: SignedData,
    digests: Mapping[str, bytes],
    certs: Sequence[Certificate],
    *,
    content: bytes | None = None,
    policy: Policy = DEFAULT,
    now: float | None = None,
) -> tuple[SignatureResult, ...]:
    """One result per SignerInfo of ``sd``, in order.

    Args:
        sd: the parsed SignedData.
        digests: the content's digests by hash name, for every name
            :func:`hash_names` gives (a :class:`ContentHasher`'s).
        certs: the certificates whose signatures count as "good"; others than
            X.509 are ignored.
        content: the whole content when known (needed only for signatures without
            signed attributes: see the module docstring).
        policy: ``min_rsa_bits`` bounds the signers' RSA keys.
        now: seconds since the epoch, for signatures without a signing time.

    Raises:
        UsageError: ``digests`` lacks a hash a SignerInfo needs.
    """
    trusted = [c for c in certs if isinstance(c, X509Certificate)]
    carried = _Carried(sd)
    when = time.time() if now is None else now
    return tuple(
        _one(info, sd, trusted, carried, digests, content, policy, when)
        for info in sd.signer_infos
    )


def verify(
    data: Buffer,
    certs: Sequence[Certificate],
    *,
    content: Buffer | None = None,
    policy: Policy = DEFAULT,
    now: float | None = None,
) -> tuple[bytes, tuple[SignatureResult, ...]]:
    """Parse SignedData (DER, BER or PEM) and verify every signature in it.

    Args:
        data: the ContentInfo around SignedData, or its PEM (CMS or PKCS7 label).
        certs: the certificates whose signatures count as "good".
        content: the signed content of a detached signature; None when the
            SignedData carries it.
        policy: see :func:`verify_signed_data`.
        now: see :func:`verify_signed_data`.

    Returns:
        (the content, one result per signature).

    Raises:
        ASN1Error: not SignedData.
        ArmorError: malformed PEM.
        UsageError: a detached signature without ``content``, or ``content`` given
            for a SignedData that carries its own.
    """
    raw = bytes(data)
    if pem.is_pem(raw[:64]):
        raw = pem.dearmor(raw)
    sd = parse_signed_data(raw, max_signers=_MAX_SIGNERS)
    if sd.econtent is None:
        if content is None:
            raise UsageError("the signature is detached: pass the signed content")
        body = bytes(content)
    else:
        if content is not None:
            raise UsageError("the signed data carries its content: pass none")
        body = sd.econtent
    hasher = ContentHasher(hash_names(sd))
    hasher.update(body)
    results = verify_signed_data(
        sd, hasher.digests(), certs, content=body, policy=policy, now=now
    )
    return body, results
