"""The public functions, dispatching to the format packages.

Format packages are imported lazily so that `import e2ee_mail` stays near the import
floor of `cryptography`: the CLI pays only for the format its command uses.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, BinaryIO, Final, Literal

from . import _args, _detect
from ._io import DataOrPath, PrefixedReader, read_input
from .errors import FormatError, UsageError
from .model import Certificate, KeyKind, Passphrase, SecretKey, passphrase_bytes
from .policy import DEFAULT, Policy

if TYPE_CHECKING:
    from email.message import EmailMessage, Message

    from ._inspect import Inspection
    from .mime.hcp import HCPChoice
    from .mime.protection_report import HeaderProtectionReport
    from .mime.scan import EncryptedPart

__all__ = [
    "decrypt",
    "decrypt_message",
    "decrypt_stream",
    "encrypt",
    "encrypt_message",
    "encrypt_stream",
    "generate_key",
    "header_protection_report",
    "inspect",
    "load_certificate",
    "load_key",
    "rewrap",
    "rewrap_message",
    "rewrap_stream",
]

MessageFormat = _args.BodyFormat
MailFormat = _args.MailFormat
Cipher = _args.Cipher

_PEEK_BYTES = 64 * 1024
_OPENPGP_KEY_ARMOR = (
    b"-----BEGIN PGP PUBLIC KEY BLOCK-----",
    b"-----BEGIN PGP PRIVATE KEY BLOCK-----",
)


def _is_openpgp_key(data: bytes) -> bool:
    stripped = data.lstrip()
    return stripped.startswith(_OPENPGP_KEY_ARMOR) or bool(data and data[0] & 0x80)


_KINDS: Final[tuple[KeyKind, ...]] = ("x25519", "rsa3072", "rsa4096")


def load_certificate(data_or_path: DataOrPath) -> Certificate:
    """Load a recipient certificate: X.509 (PEM/DER) or OpenPGP (armored/binary).

    Raises:
        KeyLoadError: unreadable file.
        FormatError: not a certificate we can parse.
    """
    _args.not_loaded(data_or_path, "certificate")
    data = read_input(data_or_path, what="certificate")
    if _is_openpgp_key(data):
        from .openpgp import certs

        return certs.load_certificate(data)
    from .x509 import certs as x509

    return x509.load_certificate(data)


def load_key(
    data_or_path: DataOrPath,
    passphrase: Passphrase = None,
    *,
    policy: Policy = DEFAULT,
) -> SecretKey:
    """Load a secret key: PKCS#8 (PEM/DER) or an OpenPGP secret key.

    Args:
        policy: bounds what unlocking a protected OpenPGP key may cost (Argon2
            memory and work, checked before any work: a wrong passphrase costs
            the same as the right one).

    Raises:
        PassphraseError: the key is protected and the passphrase is missing or wrong.
        PolicyError: its Argon2 parameters are beyond the policy's bounds.
        KeyLoadError, FormatError: not a key we can use.
    """
    _args.not_loaded(data_or_path, "key")
    secret = passphrase_bytes(passphrase)
    data = read_input(data_or_path, what="key")
    if _is_openpgp_key(data):
        from .openpgp import certs

        return certs.load_key(data, secret, policy)
    from .x509 import certs as x509

    return x509.load_key(data, secret)


def generate_key(
    uid: str,
    *,
    format: Literal["openpgp", "x509"] = "openpgp",
    kind: KeyKind = "x25519",
    profile: Literal["rfc9580", "rfc4880"] = "rfc9580",
) -> SecretKey:
    """Generate a new key pair for ``uid``: "Name <addr>" or a bare address.

    Args:
        uid: the user ID; X.509 needs an address in it (it goes into the SAN).
        format: "openpgp" or "x509".
        kind: "x25519", "rsa3072" or "rsa4096".
        profile: for OpenPGP, "rfc9580" (a v6 key) or "rfc4880" (a v4 key, for
            GnuPG 2.2 and other RFC 4880 implementations).

    Returns:
        The secret key; ``key.public`` is its certificate.

    Raises:
        UsageError: an empty uid, or one without an address for X.509; an unknown
            format, kind or profile.
    """
    if not isinstance(uid, str):
        raise UsageError(
            f'uid must be a str such as "Alice <alice@example.org>", not '
            f"{type(uid).__name__}"
        )
    chosen = _args.choice(format, "key format", ("openpgp", "x509"))
    checked_kind = _args.choice(kind, "key kind", _KINDS)
    checked_profile = _args.choice(profile, "profile", ("rfc9580", "rfc4880"))
    if chosen == "x509":
        if checked_profile != "rfc9580":
            raise UsageError("profile applies to format openpgp only")
        from .x509 import keygen as x509_keygen

        return x509_keygen.generate(uid, kind=checked_kind)
    from .openpgp import keygen

    return keygen.generate(uid, kind=checked_kind, profile=checked_profile)


def encrypt(
    data: bytes | bytearray | memoryview,
    recipients: Certificate | Iterable[Certificate],
    *,
    format: MessageFormat | None = None,
    armor: bool = False,
    cipher: Cipher = "aes-256-gcm",
    policy: Policy = DEFAULT,
) -> bytearray:
    """Encrypt ``data`` for every recipient with a fresh AES-256 content key.

    Args:
        data: the plaintext body.
        recipients: one or more certificates, all X.509 or all OpenPGP.
        format: "openpgp" (RFC 9580 / RFC 4880 by the recipients) or "cms"
            (AuthEnvelopedData, RFC 5083); by default the recipients' kind says:
            "cms" for X.509 certificates, "openpgp" for OpenPGP ones.
        armor: ASCII armor (openpgp) or PEM (cms) instead of binary/DER.
        cipher: "aes-256-cbc" writes legacy unauthenticated CMS EnvelopedData for old
            clients; cms only.
        policy: what may be written.

    Returns:
        The encrypted message, as a bytearray allocated once at its final size (a
        second copy into ``bytes`` would halve the throughput on large bodies; call
        ``bytes()`` on it if you need an immutable value).

    Raises:
        UsageError: bad arguments (X.509 and OpenPGP recipients mixed, a format
            that does not fit the certificates ...).
        PolicyError, UnsupportedError: a recipient's key is refused or unsupported.
    """
    body = _args.buffer(
        data, func="encrypt", stream="encrypt_stream", mail="encrypt_message"
    )
    certs = _args.recipients(recipients)
    chosen = _args.body_format(format, certs)
    use_armor = _args.flag(armor, "armor")
    checked_cipher = _args.cipher(cipher, chosen)
    checked_policy = _args.policy(policy)
    if chosen == "cms":
        from .cms import envelope

        return envelope.encrypt(
            body, certs, armor=use_armor, cipher=checked_cipher, policy=checked_policy
        )
    from .openpgp import message

    return message.encrypt(body, certs, armor=use_armor, policy=checked_policy)


def decrypt(
    data: bytes | bytearray | memoryview,
    keys: SecretKey | Iterable[SecretKey],
    *,
    allow_unauthenticated: bool = False,
    policy: Policy = DEFAULT,
) -> bytearray:
    """Decrypt a CMS or OpenPGP message (format detected).

    Args:
        data: the message, binary or armored/PEM.
        keys: secret keys to try; the message's recipient entries pick the match.
        allow_unauthenticated: also open legacy CMS EnvelopedData (AES-CBC), which has
            no integrity protection. Never opens OpenPGP SED or SEIPDv1 without MDC.
        policy: what may be accepted.

    Returns:
        The plaintext, released only after it was authenticated, as a bytearray
        allocated once (the caller may wipe it when done).

    Raises:
        NoMatchingKeyError: no key is named by the message.
        DecryptionError: a key was named but the message does not open with it.
        FormatError, PolicyError, UnsupportedError: as the names say.
    """
    # No bytes() copy here: the formats read any buffer, and feeding encrypt()'s
    # bytearray straight back must not cost a copy of the body (a 16 MiB copy costs
    # about as much as the AEAD over it).
    body = _args.buffer(
        data, func="decrypt", stream="decrypt_stream", mail="decrypt_message"
    )
    secret_keys = _args.keys(keys)
    checked_policy = _args.decrypt_policy(policy, allow_unauthenticated)
    kind = _detect.detect(bytes(body[:_PEEK_BYTES]))
    if kind == "cms":
        from .cms import envelope

        return envelope.decrypt(body, secret_keys, policy=checked_policy)
    if kind == "openpgp":
        from .openpgp import message

        return message.decrypt(body, secret_keys, policy=checked_policy)
    raise FormatError("this is a MIME message: use e2ee_mail.decrypt_message()")


def encrypt_stream(
    src: BinaryIO,
    dst: BinaryIO,
    recipients: Certificate | Iterable[Certificate],
    *,
    format: MessageFormat | MailFormat | None = None,
    armor: bool = False,
    cipher: Cipher = "aes-256-gcm",
    policy: Policy = DEFAULT,
    hcp: HCPChoice = "baseline",
) -> None:
    """Like :func:`encrypt`, from stream ``src`` to stream ``dst`` in bounded memory.

    ``src`` and ``dst`` are binary streams (``open(path, "rb")``,
    ``sys.stdin.buffer``, ``io.BytesIO``; ``sys.stdout.buffer``, not
    ``sys.stdout``). With ``format="smime"`` or ``"pgpmime"``, ``src`` is a whole
    mail (RFC 5322 octets) and ``dst`` receives the encrypted mail, as
    :func:`encrypt_message` builds it, with CRLF line ends (``armor`` does not
    apply), the outer header fields chosen by ``hcp`` as there; the body is
    streamed as it is, so it gets no Legacy Display Element. Without a format the
    recipients' kind picks "cms" or "openpgp".
    """
    source = _args.reader(src, func="encrypt")
    target = _args.writer(dst)
    certs = _args.recipients(recipients)
    chosen: MessageFormat | MailFormat
    if format in ("smime", "pgpmime"):
        chosen = _args.mail_format(format, certs)
    else:
        chosen = _args.body_format(format, certs)
    use_armor = _args.flag(armor, "armor")
    checked_cipher = _args.cipher(cipher, chosen)
    checked_policy = _args.policy(policy)
    if hcp != "baseline" and chosen not in ("smime", "pgpmime"):
        raise UsageError("hcp applies to the mail formats smime and pgpmime only")
    if chosen in ("smime", "pgpmime"):
        from .mime import stream as mime_stream

        mime_stream.encrypt_stream(
            source,
            target,
            certs,
            format=chosen,
            cipher=checked_cipher,
            policy=checked_policy,
            hcp=hcp,
        )
    elif chosen == "cms":
        from .cms import envelope

        envelope.encrypt_stream(
            source,
            target,
            certs,
            armor=use_armor,
            cipher=checked_cipher,
            policy=checked_policy,
        )
    else:
        from .openpgp import message

        message.encrypt_stream(
            source, target, certs, armor=use_armor, policy=checked_policy
        )


def decrypt_stream(
    src: BinaryIO,
    dst: BinaryIO,
    keys: SecretKey | Iterable[SecretKey],
    *,
    allow_unauthenticated: bool = False,
    policy: Policy = DEFAULT,
    spool_dir: str | os.PathLike[str] | None = None,
) -> None:
    """Like :func:`decrypt`, stream to stream (binary streams, as for
    :func:`encrypt_stream`).

    Nothing unauthenticated is written to ``dst``: a CMS body (one tag at its end)
    is read twice, once to check the tag and once to decrypt into ``dst``; SEIPDv2
    releases each chunk after its tag, and a truncated message raises; SEIPDv1 (one
    MDC at its end) releases its plaintext after the MDC. On failure ``dst`` may
    hold a prefix of *authenticated* chunks only; callers that need all-or-nothing
    write to a temporary file and rename (as the CLI does). An S/MIME or PGP/MIME
    mail is opened as :func:`decrypt_message` opens it, and ``dst`` receives the
    decrypted mail with its protected header fields restored (CRLF line ends).

    What waits on disk meanwhile is never plaintext in clear, whatever stops the
    process (SIGKILL included): a CMS message that cannot be read twice where it is
    (a pipe, PEM, a MIME part) is spooled as the ciphertext it is, and SEIPDv1
    plaintext is spooled sealed with AES-256-GCM under a fresh key that exists only
    in memory. Spools are 0600, have no name once open, and are gone when the call
    returns.

    Args:
        spool_dir: the directory for those spools. The default, the system
            temporary directory (``$TMPDIR``, often a tmpfs shared by every user),
            is acceptable only because of the above: a spool there holds
            nothing readable without this process's memory. Give the output's own
            directory to keep the spool on the same filesystem as the result (the
            CLI does).

    Raises:
        DecryptionError: also when a CMS source (or its spool) changed between the
            two passes; ``dst`` may then hold plaintext of the altered octets.
    """
    source = _args.reader(src, func="decrypt")
    target = _args.writer(dst)
    secret_keys = _args.keys(keys)
    checked_policy = _args.decrypt_policy(policy, allow_unauthenticated)
    directory = None if spool_dir is None else os.fspath(spool_dir)
    head = source.read(_PEEK_BYTES)
    if not isinstance(head, bytes | bytearray):
        raise UsageError(
            f"src gave {type(head).__name__}, not bytes: pass a binary stream, such "
            'as sys.stdin.buffer or open(path, "rb")'
        )
    kind = _detect.detect(bytes(head))
    stream: BinaryIO = PrefixedReader(bytes(head), source)  # type: ignore[assignment]
    if kind == "cms":
        from .cms import envelope

        envelope.decrypt_stream(
            stream, target, secret_keys, policy=checked_policy, spool_dir=directory
        )
        return
    if kind == "openpgp":
        from .openpgp import message

        message.decrypt_stream(
            stream, target, secret_keys, policy=checked_policy, spool_dir=directory
        )
        return
    # A mail (S/MIME or PGP/MIME): the decrypted mail, its header fields restored.
    from .mime import stream as mime_stream

    mime_stream.decrypt_stream(
        stream, target, secret_keys, policy=checked_policy, spool_dir=directory
    )


def encrypt_message(
    msg: EmailMessage | Message,
    recipients: Certificate | Iterable[Certificate],
    *,
    format: MailFormat | None = None,
    cipher: Cipher = "aes-256-gcm",
    policy: Policy = DEFAULT,
    hcp: HCPChoice = "baseline",
    legacy_display: bool = True,
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
) -> EmailMessage:
    """Decrypt an S/MIME or PGP/MIME mail; returns the inner message with its
    protected headers restored.

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
    """
    if not _args.is_mail(msg):
        _args.buffer(msg, func="decrypt_message", stream="decrypt_stream")
    secret_keys = _args.keys(keys)
    checked_policy = _args.decrypt_policy(policy, allow_unauthenticated)
    from .mime import detect as mime_detect

    parsed = mime_detect.parse(
        msg,  # type: ignore[arg-type]
        max_header_bytes=checked_policy.max_mail_header_bytes,
    )
    kind = mime_detect.kind(parsed)
    if kind == "smime":
        from .mime import smime

        return smime.decrypt_message(parsed, secret_keys, policy=checked_policy)
    from .mime import pgpmime

    return pgpmime.decrypt_message(parsed, secret_keys, policy=checked_policy)


def header_protection_report(msg: EmailMessage) -> HeaderProtectionReport:
    """How the outer header fields of a mail compare with its protected ones.

    ``msg`` is a message :func:`decrypt_message` returned. The report says whether
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


def rewrap(
    data: bytes | bytearray | memoryview,
    key: SecretKey | Sequence[SecretKey],
    recipients: Certificate | Iterable[Certificate],
    *,
    policy: Policy = DEFAULT,
) -> bytearray:
    """Re-key a message: unwrap its content key with ``key`` and wrap it to
    ``recipients``, copying the sealed body byte for byte (O(1) in the body size).

    The result is checked to open before it is returned.
    """
    body = bytes(
        _args.buffer(data, func="rewrap", stream="rewrap_stream", mail="rewrap_message")
    )
    secret_keys = _args.keys(key)
    certs = _args.recipients(recipients)
    checked_policy = _args.policy(policy)
    kind = _detect.detect(body[:_PEEK_BYTES])
    if kind == "cms":
        from .cms import rekey as cms_rekey

        return cms_rekey.rewrap(body, secret_keys, certs, policy=checked_policy)
    if kind == "openpgp":
        from .openpgp import rekey

        return rekey.rewrap(body, secret_keys, certs, policy=checked_policy)
    raise FormatError(
        "rewrap takes a bare CMS or OpenPGP message, not a MIME mail: use "
        "e2ee_mail.rewrap_message() or rewrap_stream()"
    )


def rewrap_stream(
    src: BinaryIO,
    dst: BinaryIO,
    key: SecretKey | Sequence[SecretKey],
    recipients: Certificate | Iterable[Certificate],
    *,
    policy: Policy = DEFAULT,
) -> None:
    """Like :func:`rewrap`, from stream ``src`` to stream ``dst`` in bounded memory:
    only the part before the sealed body (CMS RecipientInfos, OpenPGP PKESKs) is
    rewritten; the body is copied through in chunks.

    Takes CMS (DER, BER or PEM) and OpenPGP (binary or armored), written in the same
    encoding, and S/MIME or PGP/MIME mail (the shapes :func:`decrypt_stream` reads),
    written as the same mail with its encrypted part re-keyed. The result is checked
    as :func:`rewrap` checks it, but a check that needs the body happens as the body
    passes: on failure ``dst`` may hold part of the output, so write to a temporary
    file and rename it for all or nothing (as the CLI does).

    Raises:
        NoMatchingKeyError: the message names none of ``key``.
        DecryptionError: a key was named but the message does not open with it.
        UsageError: certificates of the other format.
        FormatError, MIMEError, PolicyError, UnsupportedError: as the names say.
    """
    source = _args.reader(src, func="rewrap")
    target = _args.writer(dst)
    secret_keys = _args.keys(key)
    certs = _args.recipients(recipients)
    checked_policy = _args.policy(policy)
    head = source.read(_PEEK_BYTES)
    kind = _detect.detect(head)
    stream: BinaryIO = PrefixedReader(head, source)  # type: ignore[assignment]
    if kind == "cms":
        from .cms import rekey as cms_rekey

        cms_rekey.rewrap_stream(
            stream, target, secret_keys, certs, policy=checked_policy
        )
    elif kind == "openpgp":
        from .openpgp import rekey as openpgp_rekey

        openpgp_rekey.rewrap_stream(
            stream, target, secret_keys, certs, policy=checked_policy
        )
    else:
        from .mime import stream as mime_stream

        mime_stream.rewrap_stream(
            stream, target, secret_keys, certs, policy=checked_policy
        )


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


def inspect(
    data: bytes
    | bytearray
    | memoryview
    | str
    | os.PathLike[str]
    | BinaryIO
    | EmailMessage
    | Message,
    *,
    policy: Policy = DEFAULT,
) -> Inspection:
    """Describe a message (format, content algorithm, recipients) without any key.

    Args:
        data: a bare CMS or OpenPGP message or a mail, as bytes, a path to it, or a
            readable binary stream (read from its current position to its end);
            or the ``EmailMessage`` that :func:`encrypt_message` returned.
        policy: limits on the header structures read.

    Reads in bounded memory whatever the message's size: the header and the
    recipient entries are parsed; the encrypted body is walked (skipped by seeking
    in a seekable source) to report its size and any truncation, never held.
    """
    policy = _args.policy(policy)
    if _args.is_mail(data):
        from .mime import detect as mime_detect

        parsed = mime_detect.parse(
            data,  # type: ignore[arg-type]
            max_header_bytes=policy.max_mail_header_bytes,
        )
        return mime_detect.inspect(parsed)
    if isinstance(data, bytes | bytearray | memoryview):
        return _inspect_stream(io.BytesIO(data), policy)
    if isinstance(data, str | os.PathLike):
        try:
            fh = open(data, "rb")  # noqa: SIM115
        except OSError as exc:
            raise UsageError(
                f"cannot read {os.fspath(data)!r}: {exc.strerror}"
            ) from None
        with fh:
            return _inspect_stream(fh, policy)
    if not hasattr(data, "read"):
        raise UsageError(
            f"data must be bytes, a path or a binary stream, not {type(data).__name__}"
        )
    return _inspect_stream(data, policy)  # type: ignore[arg-type]


def _inspect_stream(src: BinaryIO, policy: Policy) -> Inspection:
    head = src.read(_PEEK_BYTES)
    if not isinstance(head, bytes):
        raise UsageError("inspect needs a binary stream (opened with 'rb')")
    kind = _detect.detect(head)
    seekable = getattr(src, "seekable", None)
    if seekable is not None and seekable():
        # Back to the start: the format readers skip the body by seeking.
        src.seek(-len(head), io.SEEK_CUR)
    else:
        src = PrefixedReader(head, src)  # type: ignore[assignment]
    if kind == "cms":
        from .cms import inspection as cms_inspection

        return cms_inspection.inspect_stream(src, policy)
    if kind == "openpgp":
        from .openpgp import inspection

        return inspection.inspect_stream(src, policy)
    from .mime import stream as mime_stream

    return mime_stream.inspect_stream(src, policy)
