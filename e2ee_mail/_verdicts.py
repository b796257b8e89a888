"""The verdict of a signature check, in the same shape for every format.

Public as ``e2ee_mail.SignatureResult``, ``e2ee_mail.Verified`` and
``e2ee_mail.VerifiedMessage`` (and from :mod:`e2ee_mail.model`, which imports this
module on first use: it is needed only when verifying, and its dataclasses cost
start-up time that an encrypt or a decrypt should not pay).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import datetime
    from email.message import EmailMessage

    from .model import Certificate, SignatureStatus

__all__ = ["SignatureResult", "Verified", "VerifiedMessage"]


@dataclasses.dataclass(frozen=True, slots=True)
class SignatureResult:
    """The verdict on one signature, in the same shape for every format.

    Only ``status == "good"`` (:attr:`good`) means the signer is one the caller
    named and the content is what was signed. Who signed and when are read from
    the signature and the signer's certificate; the signing time is the signer's
    own claim, not a trusted timestamp.

    Attributes:
        status: the verdict (see :data:`SignatureStatus`).
        fingerprint: the signer certificate's fingerprint, or None when no
            certificate was found for the signer.
        signer: the signer's email address (X.509: the first subjectAltName
            rfc822Name, else the subject's emailAddress; OpenPGP: the primary User
            ID's address) or else its user ID; None when unknown.
        signing_time: when the signer says the signature was made (UTC), or None.
        algorithm: the signature algorithm, e.g. "rsa-pkcs1v15-sha256",
            "rsa-pss-sha256", "ecdsa-p256-sha256", "ed25519"; None when it is not
            one we know.
        certificate: the signer's certificate when known: one the caller gave, or
            (with "unknown-signer") one the signed data carried.
        reason: why the status is not "good", in words; empty when it is.
        signing_key: OpenPGP: the fingerprint of the (sub)key whose mathematics
            checked out (the primary key's or a signing subkey's); None otherwise.
        mode: OpenPGP: "binary" (signature type 0x00) or "text" (0x01) for a
            document signature; None otherwise.
    """

    status: SignatureStatus
    fingerprint: str | None = None
    signer: str | None = None
    signing_time: datetime.datetime | None = None
    algorithm: str | None = None
    certificate: Certificate | None = dataclasses.field(default=None, repr=False)
    reason: str = ""
    signing_key: str | None = None
    mode: Literal["binary", "text"] | None = None

    @property
    def good(self) -> bool:
        """Whether the signature is good (see :data:`SignatureStatus`)."""
        return self.status == "good"

    def __str__(self) -> str:
        who = self.signer or "an unknown signer"
        words = [f"{self.status} signature from {who}"]
        if self.fingerprint is not None:
            words.append(f"(fingerprint {self.fingerprint})")
        if self.signing_time is not None:
            words.append(f"made {self.signing_time:%Y-%m-%d %H:%M:%S} UTC")
        if self.algorithm is not None:
            words.append(f"with {self.algorithm}")
        text = " ".join(words)
        return f"{text}: {self.reason}" if self.reason else text

    def __repr__(self) -> str:
        return f"<SignatureResult {self}>"


@dataclasses.dataclass(frozen=True, slots=True)
class Verified:
    """Signed data as read: the content and the verdict on each of its signatures.

    Attributes:
        data: the signed content (the plaintext, for a message that was also
            encrypted).
        signatures: one :class:`SignatureResult` per signature found, in the
            order they appear; empty when the data carried none.
    """

    data: bytes
    signatures: tuple[SignatureResult, ...]

    @property
    def good(self) -> tuple[SignatureResult, ...]:
        """The good signatures (by a certificate the caller named)."""
        return tuple(s for s in self.signatures if s.good)


@dataclasses.dataclass(frozen=True, slots=True)
class VerifiedMessage:
    """A signed mail as read: the message the signature covers (its protected
    header fields restored) and the verdict on each signature.

    Attributes:
        message: the signed entity as an ``email.message.EmailMessage``, without
            the signature layer.
        signatures: one :class:`SignatureResult` per signature found; empty when
            the mail was not signed as a whole.
    """

    message: EmailMessage
    signatures: tuple[SignatureResult, ...]

    @property
    def good(self) -> tuple[SignatureResult, ...]:
        """The good signatures (by a certificate the caller named)."""
        return tuple(s for s in self.signatures if s.good)
