"""The public functions on whole mails as ``email`` messages: encrypt, decrypt and
re-key S/MIME and PGP/MIME mail, and report on its header protection.

Format packages are imported lazily, as for the message functions in _api.py; a
mail's encrypted parts are re-keyed by :func:`e2ee_mail._api.rewrap`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from . import _args
from ._api import Cipher, MailFormat, rewrap
from .errors import UsageError
from .model import Certificate, SecretKey, VerifiedMessage
from .policy import DEFAULT, Policy

if TYPE_CHECKING:
    from email.message import EmailMessage, Message

    from .mime.hcp import HCPChoice
    from .mime.protection_report import HeaderProtectionReport
    from .mime.scan import EncryptedPart

__all__ = [
    "decrypt_message",
    "decrypt_message_verified",
    "encrypt_message",
    "header_protection_report",
    "rewrap_message",
    "sign_message",
    "verify_message",
]


def encrypt_message(
    msg: EmailMessage | Message,
    recipients: Certificate | Iterable[Certificate],
    *,
    format: MailFormat | None = None,
    cipher: Cipher = "aes-256-gcm",
    policy: Policy = DEFAULT,
    hcp: HCPChoice = "baseline",
    legacy_display: bool = True,
    sign_with: SecretKey | Iterable[SecretKey] | None = None,
) -> EmailMessage:
    """Encrypt a whole mail as S/MIME (RFC 8551) or PGP/MIME (RFC 3156), with its
    header fields protected (RFC 9788).

    Every header field of ``msg`` travels inside the encryption. Which ones the
    outer message shows, and how, is the Header Confidentiality Policy ``hcp``
    (RFC 9788 §3):

    - ``"baseline"`` (the default, RFC 9788 §3.2.1): the Subject becomes ``[...]``,
      Keywords and Comments are left out, every other field is shown as it is, so
      From, To, Cc, Date, Message-ID, threading, List-Unsubscribe and
      List-Unsubscribe-Post, Feedback-ID, Auto-Submitted and a provider's own
      fields (X-SES-*, X-Mailgun-* ...) reach the sending service and the
      receiving MTA.
    - ``"minimal"``: only the Subject becomes ``[...]``.
    - ``"shy"`` (RFC 9788 §3.2.2): baseline, and From, To and Cc without display
      names, Date in UTC.
    - ``"no-confidentiality"`` (RFC 9788 §3.2.3): every field as it is.
    - a callable ``(name, value) -> str | None``: the value to show, or None to
      leave the field out. It sees every field but MIME-Version, the Content-*
      fields (they describe the encrypted body; the outer message has its own),
      Bcc and Resent-Bcc (never copied anywhere). It must not remove From or Date,
      nor return line breaks (UsageError). ``e2ee_mail.hcp_baseline`` and the other
      policies can be called from it, e.g.
      ``lambda n, v: v if n.lower() == "x-campaign" else e2ee_mail.hcp_shy(n, v)``.

    The encrypted entity records what the outside shows (HP-Outer fields), and when
    the policy hides a field a mail client displays (Subject, From, To, Cc, Date
    ...), its text and HTML body parts start with a Legacy Display Element showing
    the real values to clients that decrypt but do not read protected header fields
    (``legacy_display=False`` leaves the body alone). :func:`decrypt_message` removes
    it again.

    Args:
        msg: the mail (an ``email.message.EmailMessage``; a message parsed with
            the compat32 policy is parsed again with ``email.policy.default``).
        recipients: one or more certificates, all X.509 or all OpenPGP.
        format: "smime" or "pgpmime"; by default the recipients' kind says:
            "smime" for X.509 certificates, "pgpmime" for OpenPGP ones.
        cipher: "aes-256-cbc" writes legacy S/MIME 3.2 EnvelopedData; smime only.
        policy: what may be written.
        sign_with: sign, then encrypt, the protected entity's header fields
            signed too. smime (RFC 8551 §3.7): the entity is signed by these
            keys as opaque signed-data, which is encrypted. pgpmime (RFC 3156
            §6.2, the combined form): one OpenPGP key signs the OpenPGP message
            that carries the entity, inside its encryption.

    Returns:
        A new message whose ``as_bytes()`` is ready for SMTP (CRLF line ends, lines
        of at most 998 octets: ``email.policy.SMTP``): ``smtplib``'s ``sendmail``,
        SES SendRawEmail and Mailgun's MIME upload take it unchanged.

    Raises:
        UsageError: bad arguments (an unknown ``hcp`` name, a policy answer that
            is not a str or None ...).
    """
    import email.message

    mail = _args.mail(msg, func="encrypt_message")
    if not isinstance(mail, email.message.EmailMessage):
        # A compat32 Message (email.message_from_bytes without a policy): the
        # formats read it through the modern API.
        from .mime import detect as mime_detect

        mail = mime_detect.parse(mail)  # type: ignore[arg-type]
    certs = _args.recipients(recipients)
    chosen = _args.mail_format(format, certs)
    checked_cipher = _args.cipher(cipher, chosen)
    checked_policy = _args.policy(policy)
    with_display = _args.flag(legacy_display, "legacy_display")
    if sign_with is not None:
        from ._api import _signing_keys

        signers = _signing_keys(sign_with, chosen, checked_cipher)
        if chosen == "pgpmime":
            from .mime import pgpmime as pgpmime_mod

            return pgpmime_mod.encrypt_signed_message(
                mail,
                certs,
                signers[0],
                policy=checked_policy,
                hcp=hcp,
                legacy_display=with_display,
            )
        from .mime import smime_signed

        return smime_signed.encrypt_signed_message(
            mail,
            certs,
            signers,
            policy=checked_policy,
            hcp=hcp,
            legacy_display=with_display,
        )
    if chosen == "smime":
        from .mime import smime

        return smime.encrypt_message(
            mail,
            certs,
            cipher=checked_cipher,
            policy=checked_policy,
            hcp=hcp,
            legacy_display=with_display,
        )
    from .mime import pgpmime

    return pgpmime.encrypt_message(
        mail, certs, policy=checked_policy, hcp=hcp, legacy_display=with_display
    )


def decrypt_message(
    msg: EmailMessage | Message | bytes | bytearray | memoryview,
    keys: SecretKey | Iterable[SecretKey],
    *,
    allow_unauthenticated: bool = False,
    policy: Policy = DEFAULT,
    verify_with: Certificate | Iterable[Certificate] | None = None,
    trust: Iterable[Certificate] | None = None,
) -> EmailMessage:
    """Decrypt an S/MIME or PGP/MIME mail; returns the inner message with its
    protected headers restored.

    With ``verify_with`` (certificates) or ``trust`` (CA certificates), the
    decrypted mail must be signed as a whole (signed then encrypted, RFC 8551
    §3.7) with a good signature, and the message returned is the signed one;
    see :func:`verify_message` for what "good" means and
    :func:`decrypt_message_verified` for every signature's result.

    The message reads like the one that was encrypted: its header fields are the
    protected ones (RFC 9788; the outer ones only for senders without header
    protection), its text parts' ``get_content()`` has the LF line ends the
    ``email`` package gives a message it builds (the mail was encrypted with CRLF
    line ends; the parts of a multipart/signed keep their exact octets for their
    signature), and Legacy Display Elements are removed. How the outer header
    fields compare with the protected ones (fields changed on the way, a From that
    differs) is in :func:`header_protection_report`.

    Only a message whose whole body is the encrypted part is opened: an encrypted part
    beside plaintext siblings is refused (EFAIL direct exfiltration).

    Without ``verify_with`` and ``trust``, a signed-then-encrypted mail gives the
    signed mail without checking its signature: S/MIME's opaque signed-data is
    opened to the entity it carries, a multipart/signed entity is returned as it
    is, and PGP/MIME's combined form gives the decrypted entity.
    """
    if not _args.is_mail(msg):
        _args.buffer(msg, func="decrypt_message", stream="decrypt_stream")
    secret_keys = _args.keys(keys)
    checked_policy = _args.decrypt_policy(policy, allow_unauthenticated)
    if verify_with is not None or trust is not None:
        if trust is None and not _args.verifiers(verify_with):
            raise UsageError("verify_with needs at least one certificate")
        verified = decrypt_message_verified(
            msg,
            secret_keys,
            verify_with=() if verify_with is None else verify_with,
            trust=trust,
            policy=checked_policy,
        )
        from ._api import require_good

        require_good(verified.signatures)
        return verified.message
    from .mime import detect as mime_detect

    parsed = mime_detect.parse(
        msg,  # type: ignore[arg-type]
        max_header_bytes=checked_policy.max_mail_header_bytes,
    )
    kind = mime_detect.kind(parsed)
    if kind == "smime":
        from .mime import smime, smime_signed

        inner = smime.decrypt_message(parsed, secret_keys, policy=checked_policy)
        # Signed then encrypted: the signed mail, not its opaque signed-data.
        return smime_signed.unsigned_view(inner, policy=checked_policy)
    from .mime import pgpmime

    return pgpmime.decrypt_message(parsed, secret_keys, policy=checked_policy)


def _parsed(msg: object, func: str, policy: Policy) -> EmailMessage:
    if not _args.is_mail(msg):
        _args.buffer(msg, func=func, stream=func)
    from .mime import detect as mime_detect

    return mime_detect.parse(
        msg,  # type: ignore[arg-type]
        max_header_bytes=policy.max_mail_header_bytes,
    )


def _trust(value: object) -> tuple[Certificate, ...] | None:
    if value is None:
        return None
    found = _args.verifiers(value)
    if not found:
        raise UsageError("trust needs at least one CA certificate")
    return found


def decrypt_message_verified(
    msg: EmailMessage | Message | bytes | bytearray | memoryview,
    keys: SecretKey | Iterable[SecretKey],
    *,
    verify_with: Certificate | Iterable[Certificate] = (),
    trust: Iterable[Certificate] | None = None,
    allow_unauthenticated: bool = False,
    policy: Policy = DEFAULT,
) -> VerifiedMessage:
    """Decrypt an S/MIME or PGP/MIME mail and report on every signature of the
    signed layer inside it, without deciding (see :func:`verify_message` for the
    arguments). For PGP/MIME that layer is the signed OpenPGP message of RFC 3156
    §6.2's combined form, or the multipart/signed entity of §6.1's nested form
    (as Thunderbird and others send it); ``trust`` applies to S/MIME only.

    Returns:
        ``VerifiedMessage(message, signatures)``: the signed message (or the
        decrypted one, with no signature, when it was not signed as a whole).

    Raises:
        Error: what :func:`decrypt_message` raises, but never SignatureError.
    """
    secret_keys = _args.keys(keys)
    certs = _args.verifiers(verify_with)
    roots = _trust(trust)
    checked_policy = _args.decrypt_policy(policy, allow_unauthenticated)
    parsed = _parsed(msg, "decrypt_message_verified", checked_policy)
    from .mime import detect as mime_detect

    if mime_detect.kind(parsed) == "pgpmime":
        if roots is not None:
            raise UsageError("trust applies to S/MIME mail; give verify_with")
        from .mime import pgpmime

        message, results = pgpmime.decrypt_verified(
            parsed, secret_keys, certs, policy=checked_policy
        )
        return VerifiedMessage(message, results)
    from .mime import smime_signed

    message, results = smime_signed.decrypt_verified(
        parsed, secret_keys, certs, policy=checked_policy, trust=roots
    )
    return VerifiedMessage(message, results)


def sign_message(
    msg: EmailMessage | Message | bytes | bytearray | memoryview,
    key: SecretKey | Iterable[SecretKey],
    *,
    format: MailFormat | None = None,
    opaque: bool = False,
    policy: Policy = DEFAULT,
) -> EmailMessage:
    """Sign a whole mail, its header fields protected (RFC 9788: the signed entity
    carries them all, ``hp="clear"``).

    Args:
        msg: the mail.
        key: X.509 secret keys with their certificates (smime), or one OpenPGP
            secret key (pgpmime).
        format: "smime" (RFC 8551) or "pgpmime" (RFC 3156 §5 multipart/signed,
            protocol application/pgp-signature, the signed part in canonical
            CRLF form); by default the keys' kind says.
        opaque: application/pkcs7-mime signed-data (readable only by S/MIME
            clients) instead of multipart/signed (RFC 8551 §3.5.3, micalg from
            the signers' hashes; 8-bit parts are sent quoted-printable or base64,
            as its 7-bit rule asks); smime only.
        policy: what may be written.

    Returns:
        The signed mail; ``as_bytes()`` is ready for SMTP.

    Raises:
        UnsupportedError: an OpenPGP key that may not sign.
    """
    checked_policy = _args.policy(policy)
    mail = _parsed(msg, "sign_message", checked_policy)
    signers = _args.signers(key)
    kind = _args.signing_format(None, signers)
    chosen = _args.choice(
        format or ("smime" if kind == "cms" else "pgpmime"),
        "format",
        ("smime", "pgpmime"),
    )
    use_opaque = _args.flag(opaque, "opaque")
    if chosen == "pgpmime":
        if use_opaque:
            raise UsageError("opaque applies to smime; PGP/MIME signs multipart")
        from ._api import _openpgp_signer
        from .mime import pgpmime_signed

        return pgpmime_signed.sign_message(
            mail, _openpgp_signer(signers), policy=checked_policy
        )
    _args.signing_format("smime", signers)
    from .mime import smime_signed

    return smime_signed.sign_message(
        mail,
        signers,
        shape="opaque" if use_opaque else "multipart",
        policy=checked_policy,
    )


def verify_message(
    msg: EmailMessage | Message | bytes | bytearray | memoryview,
    certs: Certificate | Iterable[Certificate] = (),
    *,
    trust: Iterable[Certificate] | None = None,
    policy: Policy = DEFAULT,
) -> VerifiedMessage:
    """Verify a signed mail: its whole body must be the signed layer
    (multipart/signed or opaque signed-data), with a good signature.

    Without ``trust``, a signature is good when one of ``certs`` made it. With
    ``trust`` (CA certificates), a signature is good when its certificate (one of
    ``certs`` or one the signature carries) chains to one of them for
    emailProtection at the signing time and names the mail's From address.

    A mail whose signed part sits beside unsigned parts is not signed as a whole:
    it has no signature here, and SignatureError is raised.

    Returns:
        ``VerifiedMessage(message, signatures)``: the signed entity as a message
        (its protected header fields restored) and every signature's result.

    Raises:
        SignatureError: no good signature (its ``results`` say what was found).
    """
    checked_policy = _args.policy(policy)
    raw = None
    if isinstance(msg, bytes | bytearray | memoryview):
        raw = bytes(msg)
    mail = _parsed(msg, "verify_message", checked_policy)
    verifiers = _args.verifiers(certs)
    roots = _trust(trust)
    if not verifiers and roots is None:
        raise UsageError("verify_message needs certificates or a trust list")
    from ._api import require_good
    from .mime import pgpmime_signed

    if pgpmime_signed.is_signed(mail):
        if roots is not None:
            raise UsageError("trust applies to S/MIME mail; give certs")
        signed, found = pgpmime_signed.verify_message(
            mail, raw, verifiers, policy=checked_policy
        )
        require_good(found)
        return VerifiedMessage(signed, found)
    from .mime import smime_signed

    message, results = smime_signed.verify_message(
        mail, raw, verifiers, policy=checked_policy, trust=roots
    )
    require_good(results)
    return VerifiedMessage(message, results)


def header_protection_report(msg: EmailMessage) -> HeaderProtectionReport:
    """How the outer header fields of a mail compare with its protected ones.

    ``msg`` is a message :func:`decrypt_message` returned, or the message of what
    :func:`verify_message` or :func:`decrypt_message_verified` returned (a
    signed-only mail, ``hp="clear"``, hides nothing: every field the outside shows
    otherwise than signed is a mismatch). The report says whether
    the sender protected the header fields, which protected fields the outside did
    not show as they are (``confidential``), which outer fields differ from what
    the sender recorded it showed (``mismatches``: changed, added or removed on the
    way), which outer fields the sender never wrote (``unprotected``: Received and
    other trace fields), and whether the outer From names other addresses
    (``from_mismatch``). See ``e2ee_mail.HeaderProtectionReport``.

    Raises:
        UsageError: ``msg`` did not come from :func:`decrypt_message`.
    """
    from .mime import protection_report

    return protection_report.report(msg)


def rewrap_message(
    msg: EmailMessage | Message | bytes | bytearray | memoryview,
    key: SecretKey | Sequence[SecretKey],
    recipients: Certificate | Iterable[Certificate],
    *,
    policy: Policy = DEFAULT,
) -> EmailMessage:
    """Re-key an S/MIME or PGP/MIME mail: every encrypted part (the encrypted body,
    and encrypted attachments or inline PGP blocks too) is re-wrapped as
    :func:`rewrap` does it, to the certificates of its format among ``recipients``;
    every other octet of the mail is kept.

    Args:
        msg: the mail, as an ``EmailMessage`` or its bytes.
        key: secret keys that open its encrypted parts.
        recipients: the new recipients: X.509 certificates for S/MIME and CMS
            parts, OpenPGP ones for PGP/MIME and OpenPGP parts.
        policy: what may be read and written.

    Returns:
        The re-keyed mail.

    Raises:
        MIMEError: no encrypted part.
        UsageError: no certificate of the format an encrypted part needs.
        NoMatchingKeyError, DecryptionError: an encrypted part does not open with
            ``key``.
    """
    if not _args.is_mail(msg):
        _args.buffer(msg, func="rewrap_message", stream="rewrap_stream")
    secret_keys = _args.keys(key)
    certs = _args.recipients(recipients)
    checked_policy = _args.policy(policy)
    from .mime import rekey as mime_rekey

    def rewrap_part(part: EncryptedPart, blob: bytes) -> bytearray:
        wanted = "x509" if part.kind == "cms" else "openpgp"
        mine = [c for c in certs if c.format == wanted]
        if not mine:
            raise UsageError(
                f"the {part.where} is {part.kind}: give an "
                f"{'X.509' if wanted == 'x509' else 'OpenPGP'} certificate"
            )
        return rewrap(blob, secret_keys, mine, policy=checked_policy)

    return mime_rekey.rewrap_message(msg, rewrap_part)
