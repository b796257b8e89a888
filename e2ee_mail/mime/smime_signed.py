"""S/MIME signed mail (RFC 8551 §3.5) and signed-then-encrypted mail (§3.7), with
header protection (RFC 9788) on the signed entity.

Signing: the entity signed is the mail's body with protected copies of all its
header fields (mime/headers.py ``build_inner``) marked ``hp="clear"`` (RFC 9788
§2.1: signed, not encrypted; no HP-Outer fields, as nothing is hidden),
canonicalized to CRLF (RFC 8551 §3.1.1). It goes out either as multipart/signed
(§3.5.3: the entity, then application/pkcs7-signature with a detached SignedData;
micalg from the signers' hashes) or opaque (§3.5.2: application/pkcs7-mime;
smime-type=signed-data, the entity inside the SignedData). The outer header fields
are the mail's own, all shown.

Signed then encrypted (§3.7): the inner entity that encrypted mail carries (with
``hp="cipher"``) is signed as opaque signed-data, and that signed entity is what
AuthEnvelopedData encrypts.

Verification reads a mail whose *whole* body is the signed layer: multipart/signed
with the pkcs7 protocol, or pkcs7-mime signed-data. A signed part beside unsigned
siblings is not the mail's signature: such a mail yields no result, so a caller that
requires a good signature refuses it, and nothing unsigned is reported as signed.
The signed entity's octets are taken as they came (CRLF restored), never
re-serialized. With ``trust`` (CA certificates), a signer's certificate must chain to
one of them for emailProtection (cryptography's X.509 verification), and the mail's
From address must be one of the certificate's addresses.

For multipart/signed, 8-bit parts are re-encoded first (quoted-printable for text,
base64 otherwise; RFC 8551 §3.1.2 asks for 7-bit). Left out: nested signed layers
(the outermost one is verified), revocation.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, Literal

import pybase64

from ..cms import envelope, pem
from ..cms.signed import parse_signed_data
from ..cms.signedcontent import signed_content
from ..cms.signenv import verify_content
from ..cms.signing import SignedDataBuilder
from ..cms.verification import ContentHasher, hash_names, verify_signed_data
from ..core.random import random_bytes
from ..errors import ASN1Error, MIMEError, UnsupportedError, UsageError
from ..model import Certificate, SecretKey, SignatureResult
from ..policy import Policy
from ..x509.certs import X509Certificate, X509SecretKey
from ..x509.usage import signing_refusal
from . import headers
from .fields import HP_OUTER, field, set_params
from .hcp import HCPChoice, hcp_no_confidentiality, resolve_hcp
from .smime import SMIME_TYPES, base64_lines, canonical_bytes, payload_bytes

if TYPE_CHECKING:
    from email.message import EmailMessage

__all__ = [
    "crlf",
    "decrypt_verified",
    "encrypt_signed_message",
    "multipart_signed",
    "seven_bit",
    "sign_message",
    "signed_inner",
    "signed_part",
    "unsigned_view",
    "verify_message",
    "wire_bytes",
]

SignedShape = Literal["multipart", "opaque"]

_MAX_SIGNERS: Final = 64
_SIGNATURE_TYPES: Final = frozenset(
    {"application/pkcs7-signature", "application/x-pkcs7-signature"}
)


def _signers(keys: Sequence[SecretKey]) -> list[X509SecretKey]:
    out = []
    for key in keys:
        if not isinstance(key, X509SecretKey):
            raise UsageError("S/MIME signs with X.509 keys")
        out.append(key)
    return out


def signed_inner(msg: EmailMessage) -> EmailMessage:
    inner = headers.build_inner(msg, hcp=hcp_no_confidentiality, legacy_display=False)
    set_params(inner, {"hp": "clear"})
    # HP-Outer records what an encrypted message shows outside (RFC 9788 §2.2);
    # a signed-only message shows every field as it is, so there is nothing to
    # record.
    del inner[HP_OUTER]
    return inner


def seven_bit(entity: EmailMessage) -> None:
    """Re-encode the 8-bit leaf parts of ``entity`` for multipart/signed, which
    must be 7-bit so that no transport rewrites the signed octets (RFC 8551
    §3.1.2): text as quoted-printable, anything else as base64."""
    import quopri

    for part in entity.walk():
        if part.is_multipart():
            continue
        cte = str(part.get("content-transfer-encoding", "7bit")).strip().lower()
        if cte in ("7bit", "quoted-printable", "base64"):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes) or payload.isascii():
            continue
        if part.get_content_maintype() == "text":
            cte, encoded = "quoted-printable", quopri.encodestring(payload)
        else:
            cte, encoded = "base64", bytes(base64_lines(payload))
        del part["Content-Transfer-Encoding"]
        part["Content-Transfer-Encoding"] = cte
        part.set_payload(encoded.decode("ascii"))


def _opaque_entity(der: bytes) -> bytes:
    return (
        b"Content-Type: application/pkcs7-mime; smime-type=signed-data;"
        b" name=smime.p7m\r\n"
        b"Content-Disposition: attachment; filename=smime.p7m\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + bytes(base64_lines(der))
    )


def sign_message(
    msg: EmailMessage,
    keys: Sequence[SecretKey],
    *,
    shape: SignedShape = "multipart",
    policy: Policy,
) -> EmailMessage:
    """Sign a whole mail (see the module docstring).

    Raises:
        UnsupportedError: 8-bit content for multipart/signed.
    """
    from .sealed import SealedMessage, attach_prebuilt
    from .streamio import check_message_header

    check_message_header(msg, policy.max_mail_header_bytes)
    signers = _signers(keys)
    inner = signed_inner(msg)
    if shape == "multipart":
        seven_bit(inner)
    entity = canonical_bytes(inner)
    builder = SignedDataBuilder(signers)
    builder.update(entity)
    if shape == "opaque":
        der = builder.finish(econtent=entity)
        outer = headers.build_outer(
            msg, hcp=hcp_no_confidentiality, message_class=SealedMessage
        )
        assert isinstance(outer, SealedMessage)
        outer["Content-Type"] = field(
            "Content-Type",
            "application/pkcs7-mime; smime-type=signed-data; name=smime.p7m",
        )
        outer["Content-Disposition"] = field(
            "Content-Disposition", "attachment; filename=smime.p7m"
        )
        outer["Content-Transfer-Encoding"] = field(
            "Content-Transfer-Encoding", "base64"
        )
        attach_prebuilt(outer, pybase64.encodebytes(der))
        return outer
    if not entity.isascii():
        raise UnsupportedError(
            "multipart/signed needs 7-bit content (RFC 8551 §3.1.2): encode the "
            "mail's parts with base64 or quoted-printable, or sign it opaque"
        )
    der = builder.finish()
    return multipart_signed(
        msg,
        entity,
        protocol="application/pkcs7-signature",
        micalg=builder.micalg,
        signature_headers=(
            b"Content-Type: application/pkcs7-signature; name=smime.p7s\r\n"
            b"Content-Disposition: attachment; filename=smime.p7s\r\n"
            b"Content-Transfer-Encoding: base64\r\n"
        ),
        signature=bytes(base64_lines(der)),
    )


def multipart_signed(
    msg: EmailMessage,
    entity: bytes,
    *,
    protocol: str,
    micalg: str,
    signature_headers: bytes,
    signature: bytes,
) -> EmailMessage:
    """The multipart/signed mail (RFC 1847 §2.1) of ``msg``'s outer header fields
    around the signed ``entity`` and the signature part (its header fields, CRLF
    each, and its CRLF-terminated body); S/MIME and PGP/MIME differ only in those
    and in ``protocol`` and ``micalg``."""
    boundary = "=-sig-" + random_bytes(12).hex()
    delimiter = b"--" + boundary.encode("ascii")
    body = b"".join(
        [
            delimiter,
            b"\r\n",
            entity,
            b"\r\n",
            delimiter,
            b"\r\n",
            signature_headers,
            b"\r\n",
            signature,
            delimiter,
            b"--\r\n",
        ]
    )
    signed = headers.build_outer(msg, hcp=hcp_no_confidentiality)
    signed["Content-Type"] = field(
        "Content-Type",
        f'multipart/signed; protocol="{protocol}"; micalg={micalg}; '
        f'boundary="{boundary}"',
    )
    # The body is set as the CRLF text it is: the ``email`` generator writes a
    # multipart body given as a string unchanged, so the signed part's octets
    # stay exactly those signed, whatever policy flattens the message.
    signed.set_payload(body.decode("ascii"))
    return signed


def encrypt_signed_message(
    msg: EmailMessage,
    certs: Sequence[Certificate],
    keys: Sequence[SecretKey],
    *,
    cipher: Literal["aes-256-gcm", "aes-256-cbc"] = "aes-256-gcm",
    policy: Policy,
    hcp: HCPChoice = "baseline",
    legacy_display: bool = True,
) -> EmailMessage:
    """Sign then encrypt a whole mail (RFC 8551 §3.7): the protected inner entity
    is signed as opaque signed-data, and that entity encrypted (as smime.py does)."""
    from .smime import message_from_parts
    from .streamio import check_message_header

    check_message_header(msg, policy.max_mail_header_bytes)
    signers = _signers(keys)
    checked = resolve_hcp(hcp)
    inner = canonical_bytes(
        headers.build_inner(msg, hcp=checked, legacy_display=legacy_display)
    )
    builder = SignedDataBuilder(signers)
    builder.update(inner)
    signed = _opaque_entity(builder.finish(econtent=inner))
    der = envelope.encrypt(signed, certs, armor=False, cipher=cipher, policy=policy)
    return message_from_parts(msg, der, cipher, hcp=checked)


# --- verifying --------------------------------------------------------------------


def crlf(data: bytes) -> bytes:
    from .wire import crlf_lines

    return crlf_lines(data)


def wire_bytes(msg: EmailMessage | bytes | bytearray | memoryview) -> bytes:
    if isinstance(msg, bytes | bytearray | memoryview):
        return crlf(bytes(msg))
    from email import policy as email_policy

    try:
        return crlf(msg.as_bytes(policy=email_policy.SMTP))
    except Exception as exc:  # the generator raises many types on odd input
        raise MIMEError(f"cannot serialize the message: {exc}") from None


def signed_part(raw: bytes, boundary: str) -> tuple[bytes, bytes]:
    """(the signed entity's octets, the signature part's octets) of a
    multipart/signed, as they came (RFC 1847 §2.1: the CRLF before a delimiter
    belongs to the delimiter)."""
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        raise MIMEError("the signed mail has no body")
    body = raw[end + 2 :]
    try:
        delimiter = b"\r\n--" + boundary.encode("ascii")
    except UnicodeEncodeError:
        raise MIMEError("the multipart/signed boundary is not ASCII") from None
    pieces = body.split(delimiter)
    # pieces[0] is the preamble; then the two parts, each starting after the
    # delimiter line's own CRLF (transport padding allowed before it).
    if len(pieces) < 4 or not pieces[3].startswith(b"--"):
        raise MIMEError("multipart/signed must hold exactly two parts")

    def part(piece: bytes) -> bytes:
        eol = piece.find(b"\r\n")
        if eol < 0 or piece[:eol].strip(b" \t"):
            raise MIMEError("malformed multipart/signed delimiter line")
        return piece[eol + 2 :]

    return part(pieces[1]), part(pieces[2])


def _signature_der(part_bytes: bytes) -> bytes:
    from .wire import from_bytes

    part = from_bytes(part_bytes, keep_raw=True)
    if part.get_content_type() not in _SIGNATURE_TYPES:
        raise MIMEError(
            f"the signature part is {part.get_content_type()}, not "
            "application/pkcs7-signature"
        )
    data = bytes(payload_bytes(part))
    return pem.dearmor(data) if pem.is_pem(data[:64]) else data


def _verify_detached(
    content: bytes, der: bytes, certs: Sequence[Certificate], policy: Policy
) -> tuple[SignatureResult, ...]:
    try:
        sd = parse_signed_data(der, max_signers=_MAX_SIGNERS)
    except ASN1Error as exc:
        return (SignatureResult("bad", reason=f"the signature is malformed: {exc}"),)
    if sd.econtent is not None:
        return (
            SignatureResult(
                "bad", reason="the signature part carries content of its own"
            ),
        )
    hasher = ContentHasher(hash_names(sd))
    hasher.update(content)
    return verify_signed_data(
        sd, hasher.digests(), certs, content=content, policy=policy
    )


def _from_address(msg: EmailMessage) -> str | None:
    from email.utils import getaddresses

    value = msg.get("from")
    if value is None:
        return None
    found = [addr for _, addr in getaddresses([str(value)]) if addr]
    return found[0].lower() if len(found) == 1 else None


def _chain_refusal(
    cert: X509Certificate, trust: Sequence[Certificate], when: datetime.datetime
) -> str | None:
    """Why ``cert`` does not chain to ``trust`` for emailProtection, or None."""
    from cryptography import x509
    from cryptography.x509 import verification as v
    from cryptography.x509.oid import ExtendedKeyUsageOID

    roots = [
        x509.load_der_x509_certificate(c.der)
        for c in trust
        if isinstance(c, X509Certificate)
    ]
    if not roots:
        return "the trust list holds no X.509 certificate"

    def email_protection(
        policy: object, certificate: object, eku: x509.ExtendedKeyUsage | None
    ) -> None:
        if eku is None:
            return  # no EKU: any purpose (RFC 5280 §4.2.1.12)
        if (
            ExtendedKeyUsageOID.EMAIL_PROTECTION not in eku
            and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku
        ):
            raise ValueError("the certificate is not for emailProtection")

    ee = v.ExtensionPolicy.permit_all().may_be_present(
        x509.ExtendedKeyUsage, v.Criticality.AGNOSTIC, email_protection
    )
    try:
        verifier = (
            v.PolicyBuilder()
            .store(v.Store(roots))
            .time(when)
            .extension_policies(
                ca_policy=v.ExtensionPolicy.webpki_defaults_ca(), ee_policy=ee
            )
            .build_client_verifier()
        )
        verifier.verify(x509.load_der_x509_certificate(cert.der), [])
    except (v.VerificationError, ValueError) as exc:
        return f"the certificate does not chain to the trusted CAs: {exc}"
    return None


def _apply_trust(
    results: tuple[SignatureResult, ...],
    msg: EmailMessage,
    trust: Sequence[Certificate],
) -> tuple[SignatureResult, ...]:
    sender = _from_address(msg)
    out = []
    for result in results:
        cert = result.certificate
        if result.status not in ("good", "unknown-signer") or not isinstance(
            cert, X509Certificate
        ):
            out.append(result)
            continue
        usage = signing_refusal(cert)
        if usage is not None:
            # A carried certificate was judged only as far as "unknown-signer":
            # its key usage is checked here, before it can become good.
            out.append(
                dataclasses.replace(
                    result, status="policy-refused", reason=f"the certificate {usage}"
                )
            )
            continue
        when = result.signing_time or datetime.datetime.now(datetime.UTC)
        refusal = _chain_refusal(cert, trust, when)
        if refusal is None and (
            sender is None or sender not in {e.lower() for e in cert.emails}
        ):
            refusal = "the mail's From address is not one of the certificate's"
        if refusal is None:
            out.append(dataclasses.replace(result, status="good", reason=""))
        else:
            out.append(
                dataclasses.replace(result, status="unknown-signer", reason=refusal)
            )
    return tuple(out)


def verify_message(
    msg: EmailMessage,
    raw: bytes | None,
    certs: Sequence[Certificate],
    *,
    policy: Policy,
    trust: Sequence[Certificate] | None = None,
) -> tuple[EmailMessage, tuple[SignatureResult, ...]]:
    """(the signed entity as a message, one result per signature) of a mail whose
    whole body is an S/MIME signed layer; (``msg``, ()) for any other mail.

    Args:
        msg: the parsed mail.
        raw: its octets when the caller has them (else serialized from ``msg``).
        certs: the certificates whose signatures count as good.
        trust: CA certificates: when given, a signature is good when its
            certificate chains to one of them and names the From address,
            whether or not it is among ``certs``.
    """
    ctype = msg.get_content_type()
    if ctype == "multipart/signed":
        protocol = str(msg.get_param("protocol", "", header="content-type")).lower()
        boundary = msg.get_boundary()
        if protocol not in _SIGNATURE_TYPES or not boundary:
            return msg, ()
        content, sig_part = signed_part(
            wire_bytes(msg) if raw is None else crlf(raw), boundary
        )
        results = _verify_detached(content, _signature_der(sig_part), certs, policy)
    elif ctype in SMIME_TYPES:
        smime_type = str(msg.get_param("smime-type", "", header="content-type")).lower()
        if smime_type != "signed-data":
            return msg, ()
        data = bytes(payload_bytes(msg))
        found, results = verify_content(data, certs, policy=policy)
        if not results:
            return msg, (SignatureResult("bad", reason="malformed signed-data"),)
        content = bytes(found)
    else:
        return msg, ()
    signed = headers.restore_entity(
        content, msg, max_header_bytes=policy.max_mail_header_bytes
    )
    if trust is not None:
        results = _apply_trust(results, signed, trust)
    return signed, results


def unsigned_view(inner: EmailMessage, *, policy: Policy) -> EmailMessage:
    """The entity an opaque signed-data ``inner`` (application/pkcs7-mime;
    smime-type=signed-data) carries, its header fields restored, without checking
    the signatures: what decrypting a signed-then-encrypted mail without a
    verification gives. Any other entity (multipart/signed among them, which
    reads as it is) is returned as it is."""
    if inner.get_content_type() not in SMIME_TYPES:
        return inner
    smime_type = str(inner.get_param("smime-type", "", header="content-type"))
    if smime_type.lower() != "signed-data":
        return inner
    der = bytes(payload_bytes(inner))
    content = signed_content(der)
    if content is der:
        return inner
    return headers.restore_entity(
        bytes(content), inner, max_header_bytes=policy.max_mail_header_bytes
    )


def decrypt_verified(
    msg: EmailMessage,
    keys: Sequence[SecretKey],
    certs: Sequence[Certificate],
    *,
    policy: Policy,
    trust: Sequence[Certificate] | None = None,
) -> tuple[EmailMessage, tuple[SignatureResult, ...]]:
    """Decrypt an S/MIME mail, then verify the signed layer that is the decrypted
    entity's whole body, if any (see :func:`verify_message`)."""
    from .smime import check_encrypted_type

    check_encrypted_type(msg)
    plaintext = envelope.decrypt(payload_bytes(msg), keys, policy=policy)
    inner = headers.restore_entity(
        plaintext, msg, max_header_bytes=policy.max_mail_header_bytes
    )
    signed, results = verify_message(
        inner, bytes(plaintext), certs, policy=policy, trust=trust
    )
    if not results:
        return inner, ()
    return signed, results
