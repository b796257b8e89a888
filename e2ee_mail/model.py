"""The key model shared by every format.

A :class:`Certificate` is public: what you encrypt to. A :class:`SecretKey` is what you
decrypt with; ``key.public`` is its certificate. X.509 (``x509/certs.py``) and OpenPGP
(``openpgp/certs.py``) provide the concrete classes. Both serialize to exactly the files
``e2ee-mail keygen`` writes.
"""

from __future__ import annotations

import abc
import os
from typing import TYPE_CHECKING, Final, Literal, get_args

from .errors import UsageError

if TYPE_CHECKING:
    # Annotations only: the CLI's start-up path never imports datetime.
    import datetime

    from ._verdicts import SignatureResult, Verified, VerifiedMessage

__all__ = [
    "KEY_KINDS",
    "OPENPGP_ONLY_KINDS",
    "RSA_BITS",
    "X509_ONLY_KINDS",
    "Certificate",
    "KeyFormat",
    "KeyKind",
    "Passphrase",
    "SecretKey",
    "SignatureResult",
    "SignatureStatus",
    "Verified",
    "VerifiedMessage",
    "passphrase_bytes",
]

KeyFormat = Literal["x509", "openpgp"]
#: The kinds of key that ``generate_key`` makes. "mlkem768-x25519" and
#: "mldsa65-ed25519" are OpenPGP only (RFC 9980); "mlkem768" and "mlkem1024" are
#: X.509 only (RFC 9935 certificates for RFC 9936 CMS); the others exist in both
#: formats.
KeyKind = Literal[
    "x25519",
    "rsa3072",
    "rsa4096",
    "mlkem768-x25519",
    "mldsa65-ed25519",
    "mlkem768",
    "mlkem1024",
]
#: Every key kind, in the order of ``KeyKind``: the one list the API and CLI check.
KEY_KINDS: Final[tuple[KeyKind, ...]] = get_args(KeyKind)
#: The kinds that exist in the OpenPGP format only.
OPENPGP_ONLY_KINDS: Final = frozenset({"mlkem768-x25519", "mldsa65-ed25519"})
#: The kinds that exist in the X.509 format only.
X509_ONLY_KINDS: Final = frozenset({"mlkem768", "mlkem1024"})
#: The modulus size of each RSA kind.
RSA_BITS: Final = {"rsa3072": 3072, "rsa4096": 4096}
#: A passphrase as callers give it: text (encoded as UTF-8) or octets.
Passphrase = str | bytes | None


def passphrase_bytes(passphrase: Passphrase) -> bytes | None:
    """The octets of ``passphrase``; str is encoded as UTF-8.

    Raises:
        UsageError: not str, bytes or None.
    """
    if passphrase is None or isinstance(passphrase, bytes):
        return passphrase
    if isinstance(passphrase, str):
        return passphrase.encode("utf-8")
    raise UsageError("passphrase must be str, bytes or None")


def _check_armor(armor: object) -> None:
    if not isinstance(armor, bool):
        raise UsageError(f"armor must be True or False, not {type(armor).__name__}")


class Certificate(abc.ABC):
    """A recipient's public certificate (X.509 or OpenPGP)."""

    __slots__ = ()

    @property
    @abc.abstractmethod
    def format(self) -> KeyFormat:
        """ "x509" or "openpgp"."""

    @property
    @abc.abstractmethod
    def fingerprint(self) -> str:
        """Upper-case hex fingerprint (OpenPGP v4/v6, or SHA-256 of the X.509 DER)."""

    @property
    @abc.abstractmethod
    def user_ids(self) -> tuple[str, ...]:
        """User IDs (OpenPGP) or the subject and email addresses (X.509)."""

    @property
    @abc.abstractmethod
    def algorithm(self) -> str:
        """Encryption key algorithm, e.g. "x25519", "rsa3072"."""

    @property
    def not_before(self) -> datetime.datetime | None:
        """Start of validity (UTC): X.509 notBefore, or the OpenPGP primary key's
        creation time; None when unknown."""
        return None

    @property
    def not_after(self) -> datetime.datetime | None:
        """End of validity (UTC): X.509 notAfter, or the last moment an OpenPGP
        certificate has an encryption key (see OpenPGPCertificate); None when it
        does not expire."""
        return None

    @property
    def emails(self) -> tuple[str, ...]:
        """The email addresses the certificate names (X.509 rfc822Name and
        emailAddress, OpenPGP User IDs' addresses), in order, without repeats."""
        return ()

    @abc.abstractmethod
    def export(self, *, armor: bool = True) -> bytes:
        """Serialize: PEM or ASCII armor when ``armor``, else DER or binary."""

    def __eq__(self, other: object) -> bool:
        # Two loads of the same certificate are equal: same format, same octets in
        # the canonical binary form (DER, or the OpenPGP packets in their order).
        # Equal fingerprints are not enough for OpenPGP, whose certificates grow
        # subkeys and signatures under one primary key.
        if not isinstance(other, Certificate):
            return NotImplemented
        mine, theirs = self.export(armor=False), other.export(armor=False)
        return self.format == other.format and mine == theirs

    def __hash__(self) -> int:
        return hash((self.format, self.export(armor=False)))

    def __repr__(self) -> str:
        uid = self.user_ids[0] if self.user_ids else ""
        return (
            f"<{type(self).__name__} {self.format} {self.algorithm} "
            f"{self.fingerprint} {uid!r}>"
        )


class SecretKey(abc.ABC):
    """A secret key; never shows key material in repr, str or errors."""

    __slots__ = ()

    @property
    @abc.abstractmethod
    def public(self) -> Certificate:
        """The certificate that belongs to this key."""

    @property
    def format(self) -> KeyFormat:
        """ "x509" or "openpgp"."""
        return self.public.format

    @property
    def fingerprint(self) -> str:
        """The certificate's fingerprint."""
        return self.public.fingerprint

    @property
    def signing_key(self) -> SecretKey:
        """The key that signs for this identity: the key itself, except for an
        X.509 X25519 key, whose Ed25519 signing key (generated beside it, in the
        same key file) signs. An OpenPGP key signs with its primary key or a
        signing subkey, chosen when signing.

        Raises:
            UnsupportedError: the identity has no key that can sign.
        """
        return self

    def export(self, *, passphrase: Passphrase = None, armor: bool = True) -> bytes:
        """Serialize the secret key (PKCS#8 or OpenPGP).

        Args:
            passphrase: protect the key with it (str is encoded as UTF-8, as
                :func:`e2ee_mail.load_key` reads it); None or empty: unprotected.
            armor: PEM or ASCII armor (default), else DER or binary.

        Raises:
            UsageError: a passphrase that is not str, bytes or None.
        """
        secret = passphrase_bytes(passphrase)
        _check_armor(armor)
        return self._export(secret, armor=armor)

    def save(
        self, path: str | os.PathLike[str], *, passphrase: Passphrase = None
    ) -> None:
        """Write :meth:`export`'s armored form to ``path``: mode 0600, atomically.

        The file is written next to ``path`` under a temporary name and renamed
        only once complete, so a failure leaves ``path`` as it was; the key is
        never readable by other users, not even while it is being written.

        Raises:
            UsageError: ``path`` is not a path, or a bad passphrase type.
            OSError: the file cannot be written.
        """
        if not isinstance(path, str | os.PathLike):
            raise UsageError(
                f"path must be a str or os.PathLike, not {type(path).__name__}"
            )
        data = self.export(passphrase=passphrase)
        # Imported on use: every other use of the model goes without file I/O.
        from ._io import write_secret_file

        write_secret_file(path, data)

    @abc.abstractmethod
    def _export(self, passphrase: bytes | None, *, armor: bool) -> bytes:
        """The serialized key, protected with ``passphrase`` when it is not empty."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} for {self.public!r}>"

    __str__ = __repr__


#: What a verifier concluded about one signature. "good": made by the key of a
#: certificate the caller trusts, over exactly this content, at a time that key was
#: valid. "bad": the signature does not match the content, or the signed data is
#: inconsistent. "unknown-signer": none of the caller's certificates made it (it may
#: still be intact). "expired-key" and "revoked-key": the signer's key was not
#: valid when the signature says it was made. "policy-refused": an algorithm, key
#: size or key usage the policy does not accept, so the signature was not trusted.
SignatureStatus = Literal[
    "good", "bad", "unknown-signer", "expired-key", "revoked-key", "policy-refused"
]


#: The verdict types, defined in ``_verdicts`` and imported on first use: they are
#: dataclasses (callers copy them with ``dataclasses.replace``), and creating one
#: costs about a millisecond; an encrypt or a decrypt without verifying never
#: needs them.
_VERDICTS: Final = frozenset({"SignatureResult", "Verified", "VerifiedMessage"})


def __getattr__(name: str) -> object:
    if name in _VERDICTS:
        from . import _verdicts

        value: object = getattr(_verdicts, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
