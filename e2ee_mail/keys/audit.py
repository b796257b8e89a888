"""The audit trail: key-lifecycle and re-wrap events as structured log records.

Records go to the standard ``logging`` logger ``e2ee_mail.audit`` at INFO. Each carries
``event``, ``identity`` and ``fingerprints`` as record attributes (``extra=``), so a
JSON or syslog handler can ship them as fields. They name keys only by fingerprint:
never key material, passphrases or plaintext. Handlers are the application's
business; this module adds none.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final

__all__ = ["AUDIT_LOGGER", "record"]

AUDIT_LOGGER: Final = "e2ee_mail.audit"
_LOG: Final = logging.getLogger(AUDIT_LOGGER)


def record(
    event: str,
    message: str,
    *,
    identity: str | None = None,
    fingerprints: Sequence[str] = (),
    **fields: str | int | None,
) -> None:
    """Log one audit event.

    Args:
        event: a short machine-readable name, e.g. "key.rotate", "mail.rewrap".
        message: the human-readable line (public facts only).
        identity: the email address concerned, if any.
        fingerprints: the fingerprints of the keys concerned.
        **fields: further public fields (counts, formats, file names).
    """
    extra: dict[str, object] = {
        "event": event,
        "identity": identity,
        "fingerprints": tuple(fingerprints),
    }
    extra.update(fields)
    _LOG.info(message, extra=extra)
