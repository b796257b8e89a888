"""A bridge to a user's GnuPG keyring (python-gnupg over the ``gpg`` binary).

Three jobs:

* :meth:`GnuPGKeyring.find_certificates` — the certificates whose User IDs carry an
  email address, exported from the GnuPG home and loaded with
  :func:`e2ee_mail.load_certificate` (OpenPGP v4 or v6), ready to be recipients.
  Keys GnuPG marks revoked, expired or disabled, and keys we cannot use, are skipped.
  Keys of unknown or marginal validity are returned by default: whether a key
  really belongs to the address is the caller's decision (``require_valid=True``
  asks for GnuPG's full or ultimate validity instead).
* :meth:`GnuPGKeyring.decrypt` — decryption through the user's gpg-agent, for secret
  keys that never leave it (smartcards, agent-only keys). Failures come back as the
  same errors native decryption raises: NoMatchingKeyError (no secret key for any
  recipient), FormatError (not an OpenPGP message), PassphraseError, and one fixed
  DecryptionError for everything after the secret-key operation. Plaintext is
  returned only when gpg reports DECRYPTION_OKAY with an integrity check (GOODMDC or
  AEAD) and no failure status, never partial output.
* :meth:`GnuPGKeyring.decrypt_message` — a PGP/MIME mail (RFC 3156) opened through
  gpg-agent with the same checks as :func:`e2ee_mail.decrypt_message` (the whole body
  must be the encrypted entity; RFC 3156 §4 parts) and its protected header fields
  restored (RFC 9788), by the same code (``mime/pgpmime.py``).

The GnuPG home is the caller's choice (default: ``$GNUPGHOME`` or ``~/.gnupg``); the
library itself never reads the environment except through this explicit bridge.
Left out: signing, trust management, key import into the user's keyring, S/MIME
through gpgsm.
"""

from __future__ import annotations

import os
import re
import shutil
from typing import TYPE_CHECKING, Final

from ..errors import (
    DecryptionError,
    Error,
    FormatError,
    NoMatchingKeyError,
    PassphraseError,
    UnsupportedError,
    UsageError,
)
from ..model import Certificate

if TYPE_CHECKING:
    from email.message import EmailMessage

__all__ = ["GnuPGKeyring"]

#: Validity letters of ``gpg --with-colons`` for keys we must not encrypt to:
#: i invalid, d disabled, r revoked, e expired.
_UNUSABLE_VALIDITY: Final = frozenset("idre")
#: The validity letters GnuPG gives a key it has verified belongs to its User IDs
#: under its trust model: f full, u ultimate (the user's own keys).
_VALID: Final = frozenset("fu")
_STATUS = re.compile(r"^\[GNUPG:\] ([A-Z_]+)(?: (.*))?$", re.MULTILINE)
_ADDRESS = re.compile(r"<([^<>\s]+@[^<>\s]+)>")


def _addresses(uid: str) -> set[str]:
    found = {m.lower() for m in _ADDRESS.findall(uid)}
    bare = uid.strip()
    if "@" in bare and " " not in bare:
        found.add(bare.lower())
    return found


class GnuPGKeyring:
    """One GnuPG home, used read-only.

    Args:
        home: the GnuPG home directory; None means gpg's default.
        gpg_binary: the gpg executable (name or path).

    Raises:
        UnsupportedError: gpg or python-gnupg is not available.
    """

    def __init__(
        self, home: str | os.PathLike[str] | None = None, *, gpg_binary: str = "gpg"
    ) -> None:
        binary = shutil.which(gpg_binary)
        if binary is None:
            raise UnsupportedError(f"GnuPG ({gpg_binary}) is not installed")
        import gnupg  # only for keyring access: kept out of the CLI's start-up

        self._gpg = gnupg.GPG(
            gpgbinary=binary, gnupghome=os.fspath(home) if home is not None else None
        )
        self._gpg.encoding = "utf-8"

    def find_certificates(
        self, email: str, *, require_valid: bool = False
    ) -> list[Certificate]:
        """Usable certificates whose User IDs carry ``email`` (case-insensitive).

        Trust: by default every key GnuPG holds for the address is returned, also
        one of unknown or marginal validity (``gpg --list-keys`` shows
        ``[ unknown]``): anyone can put a key with your correspondent's address
        into a keyring, by ``--recv-keys``, ``--import`` or auto-key-locate, and
        nothing here checks that the key belongs to that person. This matches
        what a sending application usually has (keys it was given, no web of
        trust) but not GnuPG's own ``--encrypt``, which refuses such keys. Check
        the fingerprint out of band, or pass ``require_valid=True`` to keep only
        keys GnuPG itself computes as fully or ultimately valid under the home's
        trust model (signed by a trusted key, or your own). Revoked, expired,
        disabled and invalid keys are never returned.

        Args:
            email: the address to look for in the keys' User IDs.
            require_valid: only keys of full or ultimate validity.

        Returns:
            Loaded certificates, newest key first; empty if none matches.

        Raises:
            UsageError: ``email`` is not an address.
        """
        from .._keys_api import load_certificate

        if not isinstance(email, str) or "@" not in email:
            raise UsageError(f"{email!r} is not an email address")
        wanted = email.strip().lower()
        listed = self._gpg.list_keys(keys=[wanted])
        found: list[tuple[int, Certificate]] = []
        for key in listed:
            # python-gnupg's "trust" is the key's validity (field 2 of the
            # --with-colons "pub" record), not its owner trust.
            validity = key.get("trust", "")
            if validity in _UNUSABLE_VALIDITY or (
                require_valid and validity not in _VALID
            ):
                continue
            if not any(wanted in _addresses(uid) for uid in key.get("uids", [])):
                continue
            exported = self._gpg.export_keys(key["fingerprint"], armor=True)
            if not exported:
                continue
            try:
                cert = load_certificate(exported.encode("ascii", "replace"))
            except Error:
                continue  # unusable for us (algorithm, no valid encryption key ...)
            found.append((int(key.get("date") or 0), cert))
        found.sort(key=lambda item: item[0], reverse=True)
        return [cert for _, cert in found]

    def decrypt(
        self, data: bytes | bytearray | memoryview, *, passphrase: str | None = None
    ) -> bytes:
        """Decrypt an OpenPGP message with the secret keys gpg-agent holds.

        Args:
            data: the message, binary or armored.
            passphrase: for keys whose agent entry is protected, when no pinentry
                can ask (batch use); None lets the agent decide.

        Returns:
            The plaintext, only after gpg reported a successful integrity check.

        Raises:
            NoMatchingKeyError: gpg has no secret key for any recipient.
            FormatError: not an OpenPGP message.
            PassphraseError: the passphrase is wrong or missing.
            DecryptionError: anything else after the secret-key operation began.
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise UsageError("data must be bytes")
        extra = ["--batch", "--no-tty"]
        result = self._gpg.decrypt(bytes(data), passphrase=passphrase, extra_args=extra)
        statuses = [
            (m.group(1), m.group(2) or "")
            for m in _STATUS.finditer(result.stderr or "")
        ]
        return _outcome(statuses, result.data)

    def decrypt_message(
        self,
        msg: EmailMessage | bytes | bytearray | memoryview,
        *,
        passphrase: str | None = None,
    ) -> EmailMessage:
        """Decrypt a PGP/MIME mail with the secret keys gpg-agent holds.

        The checks and the result are those of :func:`e2ee_mail.decrypt_message`:
        only a message whose whole body is the multipart/encrypted entity is opened
        (an encrypted part beside plaintext siblings is the EFAIL shape), its two
        parts must be as RFC 3156 §4 says, and the decrypted entity is returned
        with its protected header fields restored (RFC 9788: the real Subject, no
        HP-Outer fields); for a sender that did not protect them, the outer
        header fields are copied in.

        Args:
            msg: the mail, as an EmailMessage or its octets.
            passphrase: as for :meth:`decrypt`.

        Returns:
            The decrypted message.

        Raises:
            MIMEError: not PGP/MIME of that shape, or not a mail at all.
            UnsupportedError: an S/MIME mail (open it with
                :func:`e2ee_mail.decrypt_message` and the key).
            NoMatchingKeyError, FormatError, PassphraseError, DecryptionError: as
                :meth:`decrypt` raises them.
        """
        from ..mime import detect, pgpmime

        parsed = detect.parse(msg)
        if detect.kind(parsed) != "pgpmime":
            raise UnsupportedError(
                "the GnuPG bridge opens PGP/MIME mail; this is S/MIME: use "
                "e2ee_mail.decrypt_message() with the X.509 key"
            )
        return pgpmime.open_message(
            parsed, lambda blob: self.decrypt(blob, passphrase=passphrase)
        )


#: libgpg-error codes (low 16 bits) meaning "the key could not be unlocked":
#: BAD_PASSPHRASE 11, NO_PASSPHRASE 57, NO_PIN_ENTRY 85, BAD_PIN_METHOD 86, CANCELED 99.
_PASSPHRASE_CODES: Final = frozenset({11, 57, 85, 86, 99})
_SYSTEM_ERROR_BIT: Final = 1 << 15


def _unlock_failed(statuses: list[tuple[str, str]]) -> bool:
    keys = {k for k, _ in statuses}
    if keys & {"BAD_PASSPHRASE", "MISSING_PASSPHRASE"}:
        return True
    for key, value in statuses:
        if key == "ERROR" and value.startswith("pkdecrypt_failed"):
            parts = value.split()
            code = (
                int(parts[1]) & 0xFFFF if len(parts) > 1 and parts[1].isdigit() else 0
            )
            if code in _PASSPHRASE_CODES:
                return True
            # A pinentry that could not run (no terminal) fails with a system error.
            if "PINENTRY_LAUNCHED" in keys and code & _SYSTEM_ERROR_BIT:
                return True
    return False


def _outcome(statuses: list[tuple[str, str]], data: bytes) -> bytes:
    """Map gpg's status lines to plaintext or to the library's errors."""
    keys = {k for k, _ in statuses}
    failed = {"DECRYPTION_FAILED", "BADMDC", "ERROR", "FAILURE"} & keys
    info = next((v.split() for k, v in statuses if k == "DECRYPTION_INFO"), [])
    aead = len(info) >= 3 and info[2] != "0"
    if "DECRYPTION_OKAY" in keys and ("GOODMDC" in keys or aead) and not failed:
        return bytes(data)
    if _unlock_failed(statuses):
        raise PassphraseError(
            "the GnuPG secret key could not be unlocked: wrong or missing passphrase "
            "(pass passphrase=..., or let gpg-agent ask through a pinentry)"
        )
    enc_to = {v.split()[0] for k, v in statuses if k == "ENC_TO" and v}
    no_seckey = {v.split()[0] for k, v in statuses if k == "NO_SECKEY" and v}
    if enc_to and enc_to <= no_seckey:
        raise NoMatchingKeyError(
            "GnuPG holds no secret key for any recipient of this message"
        )
    if not enc_to:
        raise FormatError(
            "GnuPG found no encrypted OpenPGP message it can read in the input "
            "(GnuPG 2.2 does not read RFC 9580 v6 messages)"
        )
    raise DecryptionError()
