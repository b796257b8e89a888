"""What :func:`e2ee_mail.inspect` returns: a description computed without any key
(of a message, or of an OpenPGP key itself)."""

from __future__ import annotations

import dataclasses
from typing import Literal

__all__ = ["Inspection", "InspectionFormat", "RecipientDescription"]

#: What :func:`e2ee_mail.inspect` can report a message to be.
InspectionFormat = Literal["cms", "openpgp", "smime", "pgpmime"]


@dataclasses.dataclass(frozen=True, slots=True)
class RecipientDescription:
    """One recipient entry of a message.

    Attributes:
        type: the entry's kind, e.g. "KeyTransRecipientInfo", "PKESKv6".
        id: how it names its key: issuer and serial number, SKI, key ID,
            fingerprint, or "anonymous".
        algorithm: the key-wrapping algorithm, e.g. "rsaes-oaep-sha256", "x25519".
    """

    type: str
    id: str
    algorithm: str


@dataclasses.dataclass(frozen=True, slots=True)
class Inspection:
    """A message's format, algorithms and recipients.

    Attributes:
        format: "cms", "openpgp", "smime" or "pgpmime".
        content_algorithm: e.g. "aes-256-gcm", "seipdv2-aes256-gcm".
        recipients: one entry per recipient.
        details: other facts worth showing (encoding, chunk size, version ...);
            for a key, its primary key and every subkey with its state, a
            skipped subkey with the reason it is skipped.
        is_key: the input is an OpenPGP key (certificate or secret key), not a
            message; ``recipients`` is then empty.
    """

    format: InspectionFormat
    content_algorithm: str
    recipients: tuple[RecipientDescription, ...]
    details: tuple[tuple[str, str], ...] = ()
    is_key: bool = False

    def __str__(self) -> str:
        lines = [f"format: {self.format}", f"content: {self.content_algorithm}"]
        lines += [f"{k}: {v}" for k, v in self.details]
        if not self.is_key:
            lines.append(f"recipients: {len(self.recipients)}")
            lines += [f"  - {r.type} {r.algorithm} {r.id}" for r in self.recipients]
        return "\n".join(lines)
