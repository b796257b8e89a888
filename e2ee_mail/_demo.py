"""``e2ee-mail demo``: encrypt and decrypt a built-in sample mail as S/MIME.

Throwaway X.509 keys (X25519 and RSA-3072) live in memory only; nothing is written to
disk. The demo shows what a recipient's mail client would receive (the outer header
fields, with the Subject protected per RFC 9788), what ``inspect`` sees without a key,
and that decryption gives back the body and the real Subject.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from email.message import EmailMessage

__all__ = ["run"]

_SUBJECT = "Quarterly numbers (confidential)"
_BODY = (
    "Hi Bob,\n\nthe numbers are in: revenue is up 12%.\n"
    "Please keep this to yourself until Friday.\n\nAlice\n"
)


def _sample() -> EmailMessage:
    from email import policy
    from email.message import EmailMessage

    msg = EmailMessage(policy=policy.default)
    msg["From"] = "Alice <alice@example.org>"
    msg["To"] = "Bob <bob@example.org>, Carol <carol@example.org>"
    msg["Subject"] = _SUBJECT
    msg["Date"] = "Fri, 20 Nov 2026 10:00:00 +0000"
    msg["Message-ID"] = "<demo-1@example.org>"
    msg.set_content(_BODY)
    return msg


def run(out: TextIO) -> None:
    """Run the demo, printing what happens to ``out``.

    Raises:
        e2ee_mail.Error: if anything does not round-trip (it should not).
    """
    from . import _api, _keys_api, _mail_api
    from .errors import Error
    from .mime import detect

    started = time.perf_counter()
    bob = _keys_api.generate_key("Bob <bob@example.org>", format="x509", kind="x25519")
    carol = _keys_api.generate_key(
        "Carol <carol@example.org>", format="x509", kind="rsa3072"
    )
    out.write("1. Throwaway X.509 keys (in memory only):\n")
    for key in (bob, carol):
        out.write(
            f"   {key.public.user_ids[-1]}: {key.public.algorithm}, "
            f"fingerprint {key.public.fingerprint[:16]}...\n"
        )

    msg = _sample()
    encrypted = _mail_api.encrypt_message(
        msg,
        [bob.public, carol.public],
        format="smime",
    )
    wire = detect.serialize(encrypted)
    out.write(
        f"\n2. Encrypted as S/MIME ({len(wire)} bytes on the wire). Outer headers:\n"
    )
    for name, value in encrypted.items():
        out.write(f"   {name}: {value}\n")

    out.write("\n3. What anyone can see without a key (e2ee-mail inspect):\n")
    for line in str(_api.inspect(wire)).splitlines():
        out.write(f"   {line}\n")

    out.write("\n4. Decrypted by each recipient:\n")
    for name, key in (("Bob", bob), ("Carol", carol)):
        plain = _mail_api.decrypt_message(wire, key)
        body = plain.get_content() if not plain.is_multipart() else ""
        if plain["Subject"] != _SUBJECT or body.replace("\r\n", "\n") != _BODY:
            raise Error(f"demo failed: {name}'s decrypted mail differs")
        out.write(
            f"   {name}: Subject restored: {plain['Subject']!r}; "
            f"body intact ({len(body)} characters)\n"
        )
    out.write("\nFirst lines of the decrypted body:\n")
    for line in _BODY.splitlines()[:2]:
        out.write(f"   | {line}\n")
    elapsed = time.perf_counter() - started
    out.write(f"\nOK: S/MIME round trip for 2 recipients in {elapsed * 1000:.0f} ms.\n")
