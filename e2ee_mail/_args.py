"""Checking the public API's arguments: every mistake is a UsageError that says what
to pass instead.

The public functions take values that are easy to confuse: a path where a loaded key
is expected, a secret key where its certificate is, text where octets are, a text
stream (``sys.stdout``) where a binary one (``sys.stdout.buffer``) is. Left to the
formats, each surfaced as whatever the first operation on it raised (an
AttributeError, a TypeError from ``tuple()``, a ValueError from ``cryptography``).
These checks run first, before any output is written.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, BinaryIO, Final, Literal, TypeVar, cast

from .errors import UsageError
from .model import Certificate, SecretKey
from .policy import Policy

if TYPE_CHECKING:
    from email.message import EmailMessage, Message

__all__ = [
    "body_format",
    "buffer",
    "choice",
    "cipher",
    "decrypt_policy",
    "flag",
    "is_mail",
    "keys",
    "mail",
    "mail_format",
    "not_loaded",
    "policy",
    "reader",
    "recipients",
    "writer",
]

Buffer = bytes | bytearray | memoryview
BodyFormat = Literal["openpgp", "cms"]
MailFormat = Literal["smime", "pgpmime"]
Cipher = Literal["aes-256-gcm", "aes-256-cbc"]
_T = TypeVar("_T", bound=str)

#: The message format each certificate format is written as.
_BODY: Final[dict[str, BodyFormat]] = {"x509": "cms", "openpgp": "openpgp"}
_MAIL: Final[dict[str, MailFormat]] = {"x509": "smime", "openpgp": "pgpmime"}
_CIPHERS: Final[tuple[Cipher, ...]] = ("aes-256-gcm", "aes-256-cbc")
_NAMES: Final = {"x509": "X.509", "openpgp": "OpenPGP"}


def _name(value: object) -> str:
    return type(value).__name__


def _is_path(value: object) -> bool:
    return isinstance(value, str | os.PathLike)


def _is_stream(value: object) -> bool:
    return callable(getattr(value, "read", None)) or callable(
        getattr(value, "write", None)
    )


def is_mail(value: object) -> bool:
    """Whether ``value`` is an ``email`` message object (any policy)."""
    # Without importing email: a message of any policy has these two methods.
    return hasattr(value, "get_content_type") and hasattr(value, "walk")


class _Role:
    """What a key argument takes, and what a caller who passed the other kind of
    key is told. ``name`` is the argument's noun ("recipient", "key"), ``loader``
    the public function that makes a ``want`` from a file.

    A plain class, not a dataclass: making a dataclass compiles its methods at
    import, on every start of the command line, for two constants.
    """

    __slots__ = ("empty", "loader", "name", "other", "want")

    def __init__(
        self, name: str, want: type, loader: str, other: str, empty: str
    ) -> None:
        self.name = name
        self.want = want
        self.loader = loader
        self.other = other
        self.empty = empty


_RECIPIENT: Final = _Role(
    "recipient",
    Certificate,
    "load_certificate",
    "a SecretKey is not a recipient: pass key.public, its certificate",
    "at least one recipient certificate is required",
)
_KEY: Final = _Role(
    "key",
    SecretKey,
    "load_key",
    "a Certificate cannot decrypt: pass the secret key, loaded with "
    "e2ee_mail.load_key(...)",
    "at least one secret key is required",
)


def _one(role: _Role, value: object) -> object:
    if isinstance(value, role.want):
        return value
    if isinstance(value, Certificate | SecretKey):
        raise UsageError(role.other)
    want = role.want.__name__
    load = f"load it first with e2ee_mail.{role.loader}(...)"
    if _is_path(value):
        raise UsageError(f"{role.name} {value!r} is not a {want}: {load}")
    if isinstance(value, Buffer):
        raise UsageError(f"a {role.name} must be a {want}, not bytes: {load}")
    raise UsageError(f"a {role.name} must be a {want}, not {_name(value)}")


def _many(
    role: _Role, value: object, *, allow_empty: bool = False
) -> tuple[object, ...]:
    want = role.want.__name__
    if value is None:
        raise UsageError(
            f"{role.name}s is None: pass a {want} or a list of them, loaded with "
            f"e2ee_mail.{role.loader}(...)"
        )
    if isinstance(value, Certificate | SecretKey | str | os.PathLike | Buffer):
        return (_one(role, value),)
    if not isinstance(value, Iterable):
        raise UsageError(
            f"{role.name}s must be a {want} or a list of them, not {_name(value)}"
        )
    found = tuple(_one(role, v) for v in value)
    if not found and not allow_empty:
        raise UsageError(role.empty)
    return found


def recipients(value: object, *, allow_empty: bool = False) -> tuple[Certificate, ...]:
    """One certificate or an iterable of them, as a tuple (non-empty unless
    ``allow_empty``: passwords open the message)."""
    # _many checked every item against _RECIPIENT.want (abstract classes cannot
    # be a generic ``type[T]`` under mypy, hence the cast).
    found = _many(_RECIPIENT, value, allow_empty=allow_empty)
    return cast("tuple[Certificate, ...]", found)


def keys(value: object, *, allow_empty: bool = False) -> tuple[SecretKey, ...]:
    """One secret key or an iterable of them, as a tuple (non-empty unless
    ``allow_empty``: passwords are tried)."""
    return cast("tuple[SecretKey, ...]", _many(_KEY, value, allow_empty=allow_empty))


def passwords(value: object, *, func: str) -> tuple[bytes, ...]:
    """``passwords=`` of ``func``: None, one str or bytes, or an iterable of them,
    as UTF-8 octets. An empty password is refused: it protects nothing."""
    if value is None:
        return ()
    items = (value,) if isinstance(value, str | bytes) else value
    if not isinstance(items, Iterable):
        raise UsageError(
            f"{func}(passwords=...) takes str or bytes, or a list of them, "
            f"not {_name(value)}"
        )
    found: list[bytes] = []
    for item in items:
        if not isinstance(item, str | bytes):
            raise UsageError(
                f"{func}(passwords=...) takes str or bytes, not {_name(item)}"
            )
        octets = item.encode("utf-8") if isinstance(item, str) else bytes(item)
        if not octets:
            raise UsageError(f"{func}(passwords=...): an empty password")
        found.append(octets)
    return tuple(found)


def openpgp_only(secrets: tuple[bytes, ...], chosen: str) -> None:
    """Passwords protect OpenPGP messages only (SKESK); CMS password recipients
    (PasswordRecipientInfo) are not written or read."""
    if secrets and chosen != "openpgp":
        raise UsageError(f"passwords are for OpenPGP messages; this one is {chosen}")


def buffer(
    value: object, *, func: str, stream: str | None = None, mail: str | None = None
) -> Buffer:
    """The octets argument of ``func``: bytes, bytearray or memoryview.

    Args:
        value: what the caller passed.
        func: the public function, for the message.
        stream: its streaming twin, if any, named for a path or a stream.
        mail: its twin for mail, named for an ``EmailMessage``.
    """
    if isinstance(value, Buffer):
        return value
    streamed = f", or stream it with e2ee_mail.{stream}(...)" if stream else ""
    if isinstance(value, str):
        raise UsageError(
            f"{func}() takes bytes, not str: encode text first "
            f'(text.encode("utf-8")); read a file in binary mode{streamed}'
        )
    if isinstance(value, os.PathLike):
        raise UsageError(
            f"{func}() takes bytes, not a path: read the file first "
            f"(Path(...).read_bytes()){streamed}"
        )
    if mail and is_mail(value):
        raise UsageError(f"this is a mail message: use e2ee_mail.{mail}()")
    if _is_stream(value):
        raise UsageError(
            f"{func}() takes bytes, not a stream: pass stream.read(){streamed}"
        )
    raise UsageError(f"{func}() takes bytes, not {_name(value)}")


def reader(value: object, *, func: str) -> BinaryIO:
    """``src`` of a streaming function: a binary stream open for reading."""
    if isinstance(value, io.TextIOBase):
        raise UsageError(
            "src is a text stream: pass a binary one, such as sys.stdin.buffer or "
            'open(path, "rb")'
        )
    if isinstance(value, Buffer):
        raise UsageError(
            f"src must be a binary stream, not {_name(value)}: wrap the octets in "
            f"io.BytesIO(...), or call e2ee_mail.{func}() on them"
        )
    if _is_path(value):
        raise UsageError(f'src must be an open binary stream: open({value!r}, "rb")')
    if not callable(getattr(value, "read", None)):
        raise UsageError(
            f"src must be a binary stream open for reading, not {_name(value)}"
        )
    _open_for(value, "src", "readable", "reading")
    return value  # type: ignore[return-value]


def writer(value: object) -> BinaryIO:
    """``dst`` of a streaming function: a binary stream open for writing."""
    if isinstance(value, io.TextIOBase):
        raise UsageError(
            "dst is a text stream: pass a binary one, such as sys.stdout.buffer or "
            'open(path, "wb")'
        )
    if _is_path(value):
        raise UsageError(f'dst must be an open binary stream: open({value!r}, "wb")')
    if not callable(getattr(value, "write", None)):
        raise UsageError(
            f"dst must be a binary stream open for writing, such as io.BytesIO() or "
            f'open(path, "wb"), not {_name(value)}'
        )
    _open_for(value, "dst", "writable", "writing")
    return value  # type: ignore[return-value]


def _open_for(stream: object, name: str, method: str, purpose: str) -> None:
    if getattr(stream, "closed", False) is True:
        raise UsageError(f"{name} is closed")
    able = getattr(stream, method, None)
    if callable(able) and able() is False:
        raise UsageError(f"{name} is not open for {purpose}")


def mail(value: object, *, func: str) -> EmailMessage | Message:
    """The message argument of ``encrypt_message``: an ``email`` message object."""
    from email.message import Message

    if isinstance(value, Message):
        return value
    if isinstance(value, Buffer | str):
        raise UsageError(
            f"{func}() takes an email.message.EmailMessage, not {_name(value)}: parse "
            "the mail with email.message_from_bytes(raw, policy=email.policy.default), "
            'or stream its octets with e2ee_mail.encrypt_stream(..., format="smime")'
        )
    raise UsageError(
        f"{func}() takes an email.message.EmailMessage, not {_name(value)}"
    )


def flag(value: object, name: str) -> bool:
    """A keyword argument that must be True or False."""
    if not isinstance(value, bool):
        raise UsageError(f"{name} must be True or False, not {_name(value)}")
    return value


def choice(value: object, name: str, allowed: tuple[_T, ...]) -> _T:
    """One of ``allowed`` (exact strings)."""
    for option in allowed:
        if value == option and isinstance(value, str):
            return option
    raise UsageError(f"unknown {name} {value!r}: use {_one_of(allowed)}")


def _one_of(options: tuple[str, ...]) -> str:
    return ", ".join(options[:-1]) + " or " + options[-1]


def policy(value: object) -> Policy:
    """A :class:`~e2ee_mail.policy.Policy`."""
    if isinstance(value, Policy):
        return value
    raise UsageError(
        f"policy must be an e2ee_mail.Policy (DEFAULT, RFC9580, RFC4880, "
        f"LEGACY_DECRYPT, POST_QUANTUM, or dataclasses.replace() of one), not "
        f"{_name(value)}"
    )


def decrypt_policy(value: object, allow_unauthenticated: object) -> Policy:
    """The Policy a decryption runs under: ``value``, opened to legacy CMS
    EnvelopedData when ``allow_unauthenticated``."""
    checked = policy(value)
    if flag(allow_unauthenticated, "allow_unauthenticated") and (
        not checked.allow_unauthenticated
    ):
        import dataclasses

        return dataclasses.replace(checked, allow_unauthenticated=True)
    return checked


def cipher(value: object, format: str) -> Cipher:
    """The content cipher: AES-256-CBC only for the CMS formats."""
    chosen = choice(value, "cipher", _CIPHERS)
    if chosen != "aes-256-gcm" and format not in ("cms", "smime"):
        raise UsageError("cipher aes-256-cbc exists only for format cms/smime")
    return chosen


def not_loaded(value: object, what: Literal["certificate", "key"]) -> None:
    """Refuse a key or certificate given to a loader, saying what it is."""
    if isinstance(value, SecretKey):
        raise UsageError(
            "this SecretKey is loaded already"
            + (": its certificate is key.public" if what == "certificate" else "")
        )
    if isinstance(value, Certificate):
        raise UsageError(
            "this Certificate is loaded already"
            if what == "certificate"
            else "a Certificate holds no secret key: pass the secret key's file or "
            "octets to load_key()"
        )


def _certificate_formats(certs: tuple[Certificate, ...]) -> str | None:
    formats = {cert.format for cert in certs}
    if len(formats) > 1:
        raise UsageError(
            "the recipients mix X.509 and OpenPGP certificates: a message has one "
            "format, so encrypt once for each kind of certificate"
        )
    return formats.pop()


def _matching(
    value: object,
    certs: tuple[Certificate, ...],
    by_cert: dict[str, _T],
    other: tuple[str, ...],
    hint: str,
) -> _T:
    allowed = tuple(by_cert.values())
    cert_format = _certificate_formats(certs)
    if value is None:
        if cert_format not in by_cert:
            raise UsageError(f"cannot tell the format of {cert_format!r} certificates")
        return by_cert[cert_format]
    if value in other:
        raise UsageError(f"format {value!r} {hint}")
    chosen = choice(value, "format", allowed)
    if by_cert.get(str(cert_format)) != chosen:
        needed = next(c for c, f in by_cert.items() if f == chosen)
        raise UsageError(
            f"format {chosen!r} needs {_NAMES[needed]} certificates and the "
            f"recipients are {_NAMES.get(str(cert_format), cert_format)}: leave "
            "format out to follow the certificates"
        )
    return chosen


def body_format(value: object, certs: tuple[Certificate, ...]) -> BodyFormat:
    """The message format to write: ``value``, or from the certificates when None
    (X.509: "cms", OpenPGP: "openpgp")."""
    return _matching(
        value,
        certs,
        _BODY,
        ("smime", "pgpmime"),
        "is for mail: use e2ee_mail.encrypt_message() for an EmailMessage, or "
        "e2ee_mail.encrypt_stream() for mail octets",
    )


def mail_format(value: object, certs: tuple[Certificate, ...]) -> MailFormat:
    """The mail format to write: ``value``, or from the certificates when None
    (X.509: "smime", OpenPGP: "pgpmime")."""
    return _matching(
        value,
        certs,
        _MAIL,
        ("cms", "openpgp"),
        "is for bodies: encrypt_message() writes smime (X.509) or pgpmime (OpenPGP)",
    )


_SIGNER: Final = _Role(
    "signer",
    SecretKey,
    "load_key",
    "a Certificate cannot sign: pass the secret key, loaded with "
    "e2ee_mail.load_key(...)",
    "at least one signing key is required",
)
_VERIFIER: Final = _Role(
    "verify_with certificate",
    Certificate,
    "load_certificate",
    "a SecretKey is not what verifies: pass key.public, its certificate",
    "verify_with needs at least one certificate",
)

SignFormat = Literal["cms", "smime", "openpgp", "pgpmime"]
SIGN_FORMATS: Final[tuple[SignFormat, ...]] = ("cms", "smime", "openpgp", "pgpmime")


def signers(value: object) -> tuple[SecretKey, ...]:
    """``sign_with``: one secret key or an iterable of them, as a non-empty tuple."""
    return cast("tuple[SecretKey, ...]", _many(_SIGNER, value))


def verifiers(value: object) -> tuple[Certificate, ...]:
    """``verify_with``: one certificate or an iterable of them (may be empty for
    the functions that only report)."""
    if isinstance(value, tuple | list) and not value:
        return ()
    return cast("tuple[Certificate, ...]", _many(_VERIFIER, value))


def signing_format(value: object, keys: tuple[SecretKey, ...]) -> SignFormat:
    """The signature format: ``value``, or by the keys' kind "cms" (X.509) or
    "openpgp"; the keys must be of the format's kind."""
    kinds = {k.format for k in keys}
    if len(kinds) > 1:
        raise UsageError("signing keys must be all X.509 or all OpenPGP")
    kind = next(iter(kinds))
    if value is None:
        return _BODY[kind]
    chosen = choice(value, "format", SIGN_FORMATS)
    wanted = "x509" if chosen in ("cms", "smime") else "openpgp"
    if kind != wanted:
        raise UsageError(
            f"format {chosen!r} signs with "
            f"{'X.509' if wanted == 'x509' else 'OpenPGP'} keys"
        )
    return chosen
