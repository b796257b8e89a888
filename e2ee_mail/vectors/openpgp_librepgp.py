"""Vector runner for kind ``openpgp-librepgp`` (data/openpgp/rnp-librepgp.json):
LibrePGP OCB Encrypted Data messages (packet type 20) made by rnp.

Every operation goes through the code that ships: ``certs.load_key``, and both
``message.decrypt`` and ``message.decrypt_stream`` for each message, which must agree:
the same plaintext, or the same error. Imported by :mod:`.loader` on first use.
"""

from __future__ import annotations

import io

from ..errors import Error
from ..openpgp import certs, message
from ..policy import Policy
from .case import Case, Mismatch, expect_equal
from .openpgp import check_key

__all__: list[str] = []


def _key(case: Case) -> certs.OpenPGPSecretKey:
    value = case.group.get("key")
    if not isinstance(value, str):
        raise Mismatch("the group has no key")
    return certs.load_key(value.encode(), None)


def run_librepgp(case: Case, policy: Policy) -> None:
    op = case.text("op")
    if op == "load_key":
        key = _key(case)
        check_key(key.public, case)
        if not key.decryption_keys():
            raise Mismatch("the secret key gives no decryption key")
        return
    if op != "decrypt":
        raise Mismatch(f"unknown op {op!r}")
    key = _key(case)
    data = case.message()
    try:
        plain: bytes | Error = bytes(message.decrypt(data, [key], policy=policy))
    except Error as exc:
        plain = exc
    out = io.BytesIO()
    try:
        message.decrypt_stream(io.BytesIO(data), out, [key], policy=policy)
        streamed: bytes | Error = out.getvalue()
    except Error as exc:
        streamed = exc
    if isinstance(plain, Error) or isinstance(streamed, Error):
        if type(plain) is not type(streamed):
            raise Mismatch(f"decrypt gave {plain!r}, decrypt_stream {streamed!r}")
        raise plain  # type: ignore[misc]
    expect_equal(plain.hex(), case.expected.get("plaintext"), "plaintext")
    expect_equal(streamed.hex(), case.expected.get("plaintext"), "streamed plaintext")
