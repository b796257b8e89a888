"""Making CMS SignedData (RFC 5652 §5) with content hashed in one pass.

:class:`SignedDataBuilder` takes the signers' keys, is fed the content chunk by
chunk (one hash object per hash the signers use, so a caller that encrypts or
copies the content hashes it on the way), and then writes SignedData: detached
(eContent absent, §5.2) or with the content inside, in memory (DER) or around a
stream (BER, see signed.py). :func:`sign` is the bytes form.

Each SignerInfo (§5.3) names its certificate by issuerAndSerialNumber (version 1)
or, on request, subjectKeyIdentifier (version 3), and carries the signed
attributes content-type (§11.1), signing-time (§11.3), message-digest (§11.2) and
smimeCapabilities (RFC 8551 §2.5.2) listing the content encryption algorithms we
read, AES-256-GCM first. The signature covers their DER (§5.4); algorithms are
chosen per key in sigalgs.py. The signer's certificate goes into ``certificates``.

Left out: signing without signed attributes, countersignatures, certificate chains
(only the signer's own certificate is carried).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import time
from collections.abc import Mapping, Sequence
from typing import Final

from ..core import signature
from ..errors import KeyLoadError, UnsupportedError, UsageError
from ..x509.certs import X509SecretKey
from ..x509.usage import check_signer
from . import oids, sigalgs
from .asn1 import der_oid, der_tlv
from .signed import (
    Attribute,
    SignedData,
    SignerInfo,
    element,
    encode_time,
    serialize_attribute,
    serialize_signed_data,
    serialize_stream_head,
    serialize_stream_tail,
    signed_data_version,
)
from .structures import RecipientId

__all__ = ["DEFAULT_CAPABILITIES", "SignedDataBuilder", "sign"]

Buffer = bytes | bytearray | memoryview

#: The content encryption algorithms advertised in smimeCapabilities, most
#: preferred first (RFC 8551 §2.5.2): AuthEnvelopedData with AES-256-GCM, which is
#: what we read by default. Legacy AES-CBC is read only on request, so it is not
#: advertised.
DEFAULT_CAPABILITIES: Final = (oids.AES256_GCM,)


class _Signer:
    """One key, its certificate, scheme and SignerIdentifier."""

    __slots__ = ("cert", "key", "scheme", "sid", "version")

    def __init__(self, key: X509SecretKey, *, pss: bool, use_ski: bool) -> None:
        if not isinstance(key, X509SecretKey):
            raise UsageError(
                f"a CMS signer must be an X.509 secret key, not {type(key).__name__}"
            )
        cert = key.certificate
        if cert is None:
            raise KeyLoadError(
                "this PKCS#8 key was loaded without its certificate, which a CMS "
                "signature names: append the certificate PEM to the key file"
            )
        self.key = key
        self.cert = cert
        self.scheme = sigalgs.scheme_for_key(key.private_key, pss=pss)
        if use_ski:
            ski = cert.subject_key_identifier
            if ski is None:
                raise UnsupportedError(
                    f"certificate {cert.display_name} has no subjectKeyIdentifier"
                )
            self.sid = RecipientId(subject_key_identifier=ski)
            self.version = 3
        else:
            self.sid = RecipientId(
                issuer=cert.issuer_der, serial_number=cert.serial_number
            )
            self.version = 1


@functools.lru_cache(maxsize=16)
def _constant_attributes(
    econtent_type: str, capabilities: tuple[str, ...]
) -> tuple[bytes, bytes]:
    """The content-type and smimeCapabilities Attributes (DER), which every
    message of the same type repeats: encoded once."""
    listed = der_tlv(0x30, b"".join(der_tlv(0x30, der_oid(c)) for c in capabilities))
    return (
        serialize_attribute(
            Attribute(oids.ATTR_CONTENT_TYPE, (der_oid(econtent_type),))
        ),
        serialize_attribute(Attribute(oids.ATTR_SMIME_CAPABILITIES, (listed,))),
    )


class SignedDataBuilder:
    """SignedData for one or more signers over content hashed in one pass.

    Feed the content to :meth:`update`, then call :meth:`finish` (in memory) or
    write :meth:`stream_head`, each chunk through :meth:`stream_chunk`, then
    :meth:`stream_tail`. A caller that hashes the content itself passes its
    digests to :meth:`finish` or :meth:`signed_data` instead.

    Not thread-safe; one builder per message.
    """

    def __init__(
        self,
        keys: Sequence[X509SecretKey],
        *,
        pss: bool = False,
        use_ski: bool = False,
        signing_time: datetime.datetime | None = None,
        capabilities: Sequence[str] = DEFAULT_CAPABILITIES,
        econtent_type: str = oids.DATA,
        now: float | None = None,
    ) -> None:
        """Check the signers and start hashing.

        Args:
            keys: the signers' secret keys, each with its certificate.
            pss: sign with RSASSA-PSS rather than PKCS#1 v1.5 (RSA keys).
            use_ski: name the certificates by subjectKeyIdentifier (SignerInfo
                version 3) rather than issuer and serial number (version 1).
            signing_time: the signing-time attribute; the clock when None.
            capabilities: content encryption OIDs to advertise, preferred first.
            econtent_type: eContentType (id-data for mail).
            now: seconds since the epoch for the certificate checks (tests).

        Raises:
            UsageError: no keys, or a key that is not an X.509 key.
            KeyLoadError: a key without its certificate.
            PolicyError: a certificate whose key usage or validity forbids signing.
            UnsupportedError: a key that cannot sign here.
        """
        if not keys:
            raise UsageError("signing needs at least one key")
        when = time.time() if now is None else now
        self._signers = [_Signer(k, pss=pss, use_ski=use_ski) for k in keys]
        for signer in self._signers:
            check_signer(signer.cert, when)
        self._signing_time = signing_time or datetime.datetime.fromtimestamp(
            when, datetime.UTC
        )
        self._capabilities = tuple(capabilities)
        self._econtent_type = econtent_type
        self._fixed_attributes: tuple[bytes, ...] | None = None
        self._hashes = {
            s.scheme.hash_name: hashlib.new(s.scheme.hash_name) for s in self._signers
        }

    @property
    def hash_names(self) -> tuple[str, ...]:
        """The hashes the content is fed to ("sha256", "sha384", "sha512")."""
        return tuple(self._hashes)

    @property
    def micalg(self) -> str:
        """The micalg parameter of multipart/signed for these signers (RFC 8551
        §3.5.3.2): "sha-256", "sha-384", "sha-512", comma-separated when several."""
        return ",".join(f"sha-{name[3:]}" for name in self._hashes)

    def update(self, chunk: Buffer) -> None:
        """Hash the next chunk of content."""
        for h in self._hashes.values():
            h.update(chunk)

    def digests(self) -> dict[str, bytes]:
        """The digests of the content fed so far, by hash name."""
        return {name: h.digest() for name, h in self._hashes.items()}

    def _skeleton(self, econtent: bytes | None) -> SignedData:
        return SignedData(
            version=signed_data_version(
                self._econtent_type, (s.version for s in self._signers)
            ),
            digest_algorithms=tuple(
                sigalgs.digest_algorithm(s.scheme) for s in self._signers
            ),
            econtent_type=self._econtent_type,
            econtent=econtent,
            certificates=tuple(dict.fromkeys(s.cert.der for s in self._signers)),
            signer_infos=(),
        )

    def _attributes(self, digest: bytes) -> bytes:
        if self._fixed_attributes is None:
            when = encode_time(self._signing_time)
            self._fixed_attributes = (
                *_constant_attributes(self._econtent_type, self._capabilities),
                serialize_attribute(Attribute(oids.ATTR_SIGNING_TIME, (when,))),
            )
        message_digest = serialize_attribute(
            Attribute(oids.ATTR_MESSAGE_DIGEST, (element(0x04, digest),))
        )
        # SET OF in DER order (X.690 §11.6), as serialize_attributes writes it.
        return element(
            0x31, b"".join(sorted((*self._fixed_attributes, message_digest)))
        )

    def signer_infos(
        self, digests: Mapping[str, bytes] | None = None
    ) -> tuple[SignerInfo, ...]:
        """Sign: one SignerInfo per key over the content's digests (by default,
        those of the content fed to :meth:`update`).

        Raises:
            UsageError: ``digests`` lacks a hash a signer needs.
        """
        digests = self.digests() if digests is None else digests
        infos = []
        for signer in self._signers:
            digest = digests.get(signer.scheme.hash_name)
            if digest is None:
                raise UsageError(f"no {signer.scheme.hash_name} digest of the content")
            attrs = self._attributes(digest)
            infos.append(
                SignerInfo(
                    version=signer.version,
                    sid=signer.sid,
                    digest_algorithm=sigalgs.digest_algorithm(signer.scheme),
                    signed_attrs=attrs,
                    signature_algorithm=sigalgs.signature_algorithm(signer.scheme),
                    signature=signature.sign(
                        signer.key.private_key,  # type: ignore[arg-type]
                        signer.scheme,
                        attrs,
                    ),
                )
            )
        return tuple(infos)

    def signed_data(
        self,
        *,
        econtent: bytes | None = None,
        digests: Mapping[str, bytes] | None = None,
    ) -> SignedData:
        """The SignedData value: ``econtent`` inside, or detached when None."""
        return dataclasses.replace(
            self._skeleton(econtent), signer_infos=self.signer_infos(digests)
        )

    def finish(
        self,
        *,
        econtent: bytes | None = None,
        digests: Mapping[str, bytes] | None = None,
    ) -> bytes:
        """The ContentInfo DER (see :meth:`signed_data`)."""
        return serialize_signed_data(
            self.signed_data(econtent=econtent, digests=digests)
        )

    def stream_head(self) -> bytes:
        """The BER that precedes the content of a SignedData written as a stream."""
        return serialize_stream_head(self._skeleton(b""))

    def stream_chunk(self, chunk: Buffer) -> bytes:
        """Hash ``chunk`` and return it framed for the stream (one OCTET STRING);
        an empty chunk gives nothing, since BER forbids no empty segment but some
        readers stumble on one."""
        if not chunk:
            return b""
        self.update(chunk)
        return element(0x04, bytes(chunk))

    def stream_tail(self) -> bytes:
        """Sign, and return the BER that follows the content's last chunk."""
        return serialize_stream_tail(self.signed_data())


def sign(
    data: Buffer,
    keys: Sequence[X509SecretKey],
    *,
    detached: bool = True,
    pss: bool = False,
    use_ski: bool = False,
    signing_time: datetime.datetime | None = None,
) -> bytes:
    """SignedData over ``data`` by every key, as a ContentInfo (DER).

    Args:
        data: the content.
        keys: the signers (see :class:`SignedDataBuilder`).
        detached: leave the content out (the caller sends it beside the
            signature, as multipart/signed does); else it goes inside.
        pss: RSASSA-PSS for RSA keys.
        use_ski: name certificates by subjectKeyIdentifier.
        signing_time: the signing-time attribute; the clock when None.

    Raises:
        See :class:`SignedDataBuilder`.
    """
    builder = SignedDataBuilder(
        keys, pss=pss, use_ski=use_ski, signing_time=signing_time
    )
    builder.update(data)
    return builder.finish(econtent=None if detached else bytes(data))
