"""``e2ee_mail.rewrap``: re-keying must be O(1) in the body size (only the recipient
entries change; the sealed body is copied).

Case ids ``{fmt}.rewrap.{size}`` (one X25519 recipient in, another out); report.py
compares 16 MiB with 1 KiB, and with a decrypt of the same message.
"""

from __future__ import annotations

import pytest
from _bench import (
    KIB,
    MIB,
    Keys,
    Measure,
    call_or_skip,
    cases,
    payload,
    require_format,
    size_id,
)

import e2ee_mail

FORMATS = {"openpgp": "openpgp", "cms": "x509"}


@pytest.mark.parametrize(
    ("fmt", "n"), cases(*((f,) for f in FORMATS), only=(KIB, MIB, 16 * MIB))
)
def test_rewrap(measure: Measure, keys: Keys, fmt: str, n: int) -> None:
    require_format(fmt)
    old = call_or_skip(fmt, lambda: keys.secret(FORMATS[fmt], "x25519", 0))
    new = call_or_skip(fmt, lambda: keys.secret(FORMATS[fmt], "x25519", 1))
    data = payload(n)
    sealed = bytes(
        call_or_skip(
            fmt,
            lambda: e2ee_mail.encrypt(data, [old.public], format=fmt),  # type: ignore[arg-type]
        )
    )
    call_or_skip(fmt, lambda: e2ee_mail.rewrap(sealed, old, [new.public]))
    out = measure(
        lambda: e2ee_mail.rewrap(sealed, old, [new.public]),
        case=f"{fmt}.rewrap.{size_id(n)}",
        group=f"rewrap {fmt}",
        nbytes=n,
        format=fmt,
        size=n,
    )
    assert e2ee_mail.decrypt(out, new) == data
    # The sealed body travels byte for byte: the tail of both messages is the same.
    tail = min(n, 4096)
    assert out[-tail:] == sealed[-tail:]
