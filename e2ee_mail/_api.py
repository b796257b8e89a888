"""The public functions, dispatching to the format packages.

Format packages are imported lazily so that `import e2ee_mail` stays near the import
floor of `cryptography` (PERF.md: the CLI start-up budget).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, BinaryIO, Literal

from . import _detect
from ._io import DataOrPath, PrefixedReader, read_input
from .errors import FormatError, UsageError
from .model import Certificate, KeyKind, SecretKey
from .policy import DEFAULT, Policy

if TYPE_CHECKING:
    from email.message import EmailMessage

    from ._inspect import Inspection

__all__ = [
    "decrypt",
    "decrypt_message",
    "decrypt_stream",
    "encrypt",
    "encrypt_message",
    "encrypt_stream",
    "generate_key",
    "inspect",
    "load_certificate",
    "load_key",
    "rewrap",
]

MessageFormat = Literal["openpgp", "cms"]
MailFormat = Literal["smime", "pgpmime"]
Cipher = Literal["aes-256-gcm", "aes-256-cbc"]
Passphrase = str | bytes | None

_PEEK_BYTES = 64 * 1024
_OPENPGP_KEY_ARMOR = (
    b"-----BEGIN PGP PUBLIC KEY BLOCK-----",
    b"-----BEGIN PGP PRIVATE KEY BLOCK-----",
)


def _passphrase_bytes(passphrase: Passphrase) -> bytes | None:
    if passphrase is None or isinstance(passphrase, bytes):
        return passphrase
    if isinstance(passphrase, str):
        return passphrase.encode("utf-8")
    raise UsageError("passphrase must be str, bytes or None")


def _is_openpgp_key(data: bytes) -> bool:
    stripped = data.lstrip()
    return stripped.startswith(_OPENPGP_KEY_ARMOR) or bool(data and data[0] & 0x80)


def _recipients(
    recipients: Certificate | Iterable[Certificate],
) -> tuple[Certificate, ...]:
    if isinstance(recipients, Certificate):
        return (recipients,)
    if isinstance(recipients, str | bytes):
        raise UsageError(
            "recipients must be certificates: load them with "
            "e2ee_mail.load_certificate()"
        )
    found = tuple(recipients)
    if not found:
        raise UsageError("at least one recipient certificate is required")
    for cert in found:
        if not isinstance(cert, Certificate):
            raise UsageError(
                f"recipient {cert!r} is not a Certificate: load it with "
                "e2ee_mail.load_certificate()"
            )
    return found


def _keys(keys: SecretKey | Iterable[SecretKey]) -> tuple[SecretKey, ...]:
    if isinstance(keys, SecretKey):
        return (keys,)
    found = tuple(keys)
    if not found:
        raise UsageError("at least one secret key is required")
    for key in found:
        if not isinstance(key, SecretKey):
            raise UsageError(
                f"{key!r} is not a SecretKey: load it with e2ee_mail.load_key()"
            )
    return found


def _bytes(data: object, what: str = "data") -> bytes | bytearray | memoryview:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise UsageError(f"{what} must be bytes, not {type(data).__name__}")
    return data


def _legacy(policy: Policy, allow_unauthenticated: bool) -> Policy:
    if allow_unauthenticated and not policy.allow_unauthenticated:
        import dataclasses

        return dataclasses.replace(policy, allow_unauthenticated=True)
    return policy


def load_certificate(data_or_path: DataOrPath) -> Certificate:
    """Load a recipient certificate: X.509 (PEM/DER) or OpenPGP (armored/binary).

    Raises:
        KeyLoadError: unreadable file.
        FormatError: not a certificate we can parse.
    """
    data = read_input(data_or_path, what="certificate")
    if _is_openpgp_key(data):
        from .openpgp import certs

        return certs.load_certificate(data)
    from .x509 import certs as x509

    return x509.load_certificate(data)


def load_key(data_or_path: DataOrPath, passphrase: Passphrase = None) -> SecretKey:
    """Load a secret key: PKCS#8 (PEM/DER) or an OpenPGP secret key.

    Raises:
        PassphraseError: the key is protected and the passphrase is missing or wrong.
        KeyLoadError, FormatError: not a key we can use.
    """
    data = read_input(data_or_path, what="key")
    secret = _passphrase_bytes(passphrase)
    if _is_openpgp_key(data):
        from .openpgp import certs

        return certs.load_key(data, secret)
    from .x509 import certs as x509

    return x509.load_key(data, secret)


def generate_key(
    uid: str,
    *,
    format: Literal["openpgp", "x509"] = "openpgp",
    kind: KeyKind = "x25519",
    profile: Literal["rfc9580", "rfc4880"] = "rfc9580",
) -> SecretKey:
    """Generate a new key pair for ``uid`` ("Name <addr>").

    Returns:
        The secret key; ``key.public`` is its certificate.
    """
    if kind not in ("x25519", "rsa3072", "rsa4096"):
        raise UsageError(f"unknown key kind {kind!r}: use x25519, rsa3072 or rsa4096")
    if format == "x509":
        from .x509 import keygen as x509_keygen

        return x509_keygen.generate(uid, kind=kind)
    if format == "openpgp":
        if profile not in ("rfc9580", "rfc4880"):
            raise UsageError(f"unknown profile {profile!r}: use rfc9580 or rfc4880")
        from .openpgp import keygen

        return keygen.generate(uid, kind=kind, profile=profile)
    raise UsageError(f"unknown key format {format!r}: use openpgp or x509")


def encrypt(
    data: bytes | bytearray | memoryview,
    recipients: Certificate | Iterable[Certificate],
    *,
    format: MessageFormat = "openpgp",
    armor: bool = False,
    cipher: Cipher = "aes-256-gcm",
    policy: Policy = DEFAULT,
) -> bytearray:
    """Encrypt ``data`` for every recipient with a fresh AES-256 content key.

    Args:
        data: the plaintext body.
        recipients: one or more certificates (X.509 for "cms", OpenPGP for "openpgp").
        format: "openpgp" (RFC 9580 / RFC 4880 by the recipients) or "cms"
            (AuthEnvelopedData, RFC 5083).
        armor: ASCII armor (openpgp) or PEM (cms) instead of binary/DER.
        cipher: "aes-256-cbc" writes legacy unauthenticated CMS EnvelopedData for old
            clients; cms only.
        policy: what may be written.

    Returns:
        The encrypted message, as a bytearray allocated once at its final size (a
        second copy into ``bytes`` would halve the throughput on large bodies; call
        ``bytes()`` on it if you need an immutable value).

    Raises:
        UsageError: bad arguments (wrong certificate type for the format ...).
        PolicyError, UnsupportedError: a recipient's key is refused or unsupported.
    """
    body = _bytes(data)
    certs = _recipients(recipients)
    if format == "cms":
        from .cms import envelope

        return envelope.encrypt(body, certs, armor=armor, cipher=cipher, policy=policy)
    if cipher != "aes-256-gcm":
        raise UsageError("cipher aes-256-cbc exists only for format cms/smime")
    if format == "openpgp":
        from .openpgp import message

        return message.encrypt(body, certs, armor=armor, policy=policy)
    raise UsageError(f"unknown format {format!r}: use openpgp or cms")


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
    # bytearray straight back must not cost a copy of the body (PERF.md).
    body = _bytes(data)
    secret_keys = _keys(keys)
    policy = _legacy(policy, allow_unauthenticated)
    kind = _detect.detect(bytes(body[:_PEEK_BYTES]))
    if kind == "cms":
        from .cms import envelope

        return envelope.decrypt(body, secret_keys, policy=policy)
    if kind == "openpgp":
        from .openpgp import message

        return message.decrypt(body, secret_keys, policy=policy)
    raise FormatError("this is a MIME message: use e2ee_mail.decrypt_message()")


def encrypt_stream(
    src: BinaryIO,
    dst: BinaryIO,
    recipients: Certificate | Iterable[Certificate],
    *,
    format: MessageFormat | MailFormat = "openpgp",
    armor: bool = False,
    cipher: Cipher = "aes-256-gcm",
    policy: Policy = DEFAULT,
) -> None:
    """Like :func:`encrypt`, from stream ``src`` to stream ``dst`` in bounded memory.

    With ``format="smime"`` or ``"pgpmime"``, ``src`` is a whole mail (RFC 5322
    octets) and ``dst`` receives the encrypted mail, as :func:`encrypt_message`
    builds it, with CRLF line ends (``armor`` does not apply).
    """
    certs = _recipients(recipients)
    if format in ("smime", "pgpmime"):
        if format == "pgpmime" and cipher != "aes-256-gcm":
            raise UsageError("cipher aes-256-cbc exists only for format cms/smime")
        from .mime import stream as mime_stream

        mime_stream.encrypt_stream(
            src, dst, certs, format=format, cipher=cipher, policy=policy
        )
        return
    if format == "cms":
        from .cms import envelope

        envelope.encrypt_stream(
            src, dst, certs, armor=armor, cipher=cipher, policy=policy
        )
        return
    if cipher != "aes-256-gcm":
        raise UsageError("cipher aes-256-cbc exists only for format cms/smime")
    if format == "openpgp":
        from .openpgp import message

        message.encrypt_stream(src, dst, certs, armor=armor, policy=policy)
        return
    raise UsageError(f"unknown format {format!r}: use openpgp or cms")


def decrypt_stream(
    src: BinaryIO,
    dst: BinaryIO,
    keys: SecretKey | Iterable[SecretKey],
    *,
    allow_unauthenticated: bool = False,
    policy: Policy = DEFAULT,
    spool_dir: str | os.PathLike[str] | None = None,
) -> None:
    """Like :func:`decrypt`, stream to stream.

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
    secret_keys = _keys(keys)
    policy = _legacy(policy, allow_unauthenticated)
    directory = None if spool_dir is None else os.fspath(spool_dir)
    head = src.read(_PEEK_BYTES)
    kind = _detect.detect(head)
    stream: BinaryIO = PrefixedReader(head, src)  # type: ignore[assignment]
    if kind == "cms":
        from .cms import envelope

        envelope.decrypt_stream(
            stream, dst, secret_keys, policy=policy, spool_dir=directory
        )
        return
    if kind == "openpgp":
        from .openpgp import message

        message.decrypt_stream(
            stream, dst, secret_keys, policy=policy, spool_dir=directory
        )
        return
    # A mail (S/MIME or PGP/MIME): the decrypted mail, its header fields restored.
    from .mime import stream as mime_stream

    mime_stream.decrypt_stream(
        stream, dst, secret_keys, policy=policy, spool_dir=directory
    )


def encrypt_message(
    msg: EmailMessage,
    recipients: Certificate | Iterable[Certificate],
    *,
    format: MailFormat = "smime",
    cipher: Cipher = "aes-256-gcm",
    policy: Policy = DEFAULT,
) -> EmailMessage:
    """Encrypt a whole mail as S/MIME (RFC 8551) or PGP/MIME (RFC 3156).

    Routing headers (From, To, Cc, Date, Message-ID ...) stay outside; the Subject is
    protected (RFC 9788): the real one travels inside, the outer one is "...".

    Returns:
        A new message, ready for ``msg.as_bytes()`` and any sending API.
    """
    certs = _recipients(recipients)
    if format == "smime":
        from .mime import smime

        return smime.encrypt_message(msg, certs, cipher=cipher, policy=policy)
    if cipher != "aes-256-gcm":
        raise UsageError("cipher aes-256-cbc exists only for format cms/smime")
    if format == "pgpmime":
        from .mime import pgpmime

        return pgpmime.encrypt_message(msg, certs, policy=policy)
    raise UsageError(f"unknown mail format {format!r}: use smime or pgpmime")


def decrypt_message(
    msg: EmailMessage | bytes,
    keys: SecretKey | Iterable[SecretKey],
    *,
    allow_unauthenticated: bool = False,
    policy: Policy = DEFAULT,
) -> EmailMessage:
    """Decrypt an S/MIME or PGP/MIME mail; returns the inner message with its
    protected headers restored.

    Only a message whose whole body is the encrypted part is opened: an encrypted part
    beside plaintext siblings is refused (EFAIL direct exfiltration).
    """
    secret_keys = _keys(keys)
    policy = _legacy(policy, allow_unauthenticated)
    from .mime import detect as mime_detect

    parsed = mime_detect.parse(msg)
    kind = mime_detect.kind(parsed)
    if kind == "smime":
        from .mime import smime

        return smime.decrypt_message(parsed, secret_keys, policy=policy)
    from .mime import pgpmime

    return pgpmime.decrypt_message(parsed, secret_keys, policy=policy)


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
    body = bytes(_bytes(data))
    secret_keys = _keys(key)
    certs = _recipients(recipients)
    kind = _detect.detect(body[:_PEEK_BYTES])
    if kind == "cms":
        from .cms import envelope

        return envelope.rewrap(body, secret_keys, certs, policy=policy)
    if kind == "openpgp":
        from .openpgp import rekey

        return rekey.rewrap(body, secret_keys, certs, policy=policy)
    raise FormatError("rewrap takes a bare CMS or OpenPGP message, not a MIME mail")


def inspect(data: bytes | bytearray | memoryview) -> Inspection:
    """Describe a message (format, content algorithm, recipients) without any key."""
    body = bytes(_bytes(data))
    kind = _detect.detect(body[:_PEEK_BYTES])
    if kind == "cms":
        from .cms import envelope

        return envelope.inspect(body)
    if kind == "openpgp":
        from .openpgp import inspection

        return inspection.inspect(body)
    from .mime import detect as mime_detect

    return mime_detect.inspect(mime_detect.parse(body))
