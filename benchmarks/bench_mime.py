"""S/MIME and PGP/MIME through ``encrypt_message`` / ``decrypt_message``.

The message is what an application sends: a short text part and one attachment of the
benchmark size (random bytes). Case ids:

- ``{fmt}.message.encrypt.{size}``: ``encrypt_message(msg, ...).as_bytes()`` (what goes
  to the sending API, so the ``email`` generator's cost is in);
- ``{fmt}.message.build.1MiB``: ``encrypt_message`` alone;
- ``{fmt}.message.decrypt.{size}``: ``decrypt_message(raw_bytes, key)``;
- ``{fmt}.message.open.{size}``: the same plus reading the attachment's bytes (what
  the stdlib round trip below also does);
- ``{fmt}.stream.{op}.{size}``: ``encrypt_stream``/``decrypt_stream`` of the same
  mail, file to file (the CLI's path; bounded memory);
- ``limit.email_roundtrip.{size}``: the stdlib ``email`` round trip of the same
  message (``as_bytes`` + ``message_from_bytes`` + reading the attachment).

``extra_info["encoded_bytes"]`` is the size of the binary blob the outer base64 layer
carries, so report.py can compare with the pybase64 encoding limit. From 1 MiB on,
each message case also times its floor right before and right after itself
(``extra_info["paired_limit"]``): the AEAD into a fresh buffer plus pybase64 of a
blob of that size, in the line shape of the output (encrypt), or the AEAD opening
into a fresh buffer plus the non-validating decode of that text (decrypt, open);
report.py divides by it (``work_floor``).
"""

from __future__ import annotations

import email
import email.policy
import os
import statistics
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pybase64
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
from _limits import b64_lines_views, open_chunks, seal_chunks

import e2ee_mail

SIZES = (KIB, MIB, 16 * MIB)
KEY_FORMAT = {"smime": "x509", "pgpmime": "openpgp"}


def make_message(n: int) -> EmailMessage:
    """A text part plus an n-byte attachment, as an application would build it."""
    msg = EmailMessage()
    msg["From"] = "app@example.org"
    msg["To"] = "bench0@example.org"
    msg["Subject"] = "Benchmark"
    msg["Message-ID"] = "<bench@example.org>"
    msg.set_content("The report is attached.\n")
    msg.add_attachment(
        payload(n), maintype="application", subtype="octet-stream", filename="data.bin"
    )
    return msg


def attachment(msg: EmailMessage) -> bytes:
    """The attachment's bytes from a (decrypted) message."""
    for part in msg.iter_attachments():
        content = part.get_content()
        assert isinstance(content, bytes)
        return content
    raise AssertionError("the attachment is missing")


def encoded_info(raw: bytes) -> dict[str, int]:
    """Blob size under the outer base64 layer, and the longest line of it."""
    lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    body = [line for line in lines if len(line) >= 60 and b":" not in line]
    return {
        "encoded_bytes": sum(len(line) for line in body) * 3 // 4,
        "line_length": max((len(line) for line in body), default=0),
        "crlf": int(b"\r\n" in raw[:4096]),
    }


def work_floor(op: str, info: dict[str, int]) -> Callable[[], object]:
    """The floor of a message case: the AEAD over a blob of the size the outer
    base64 carries, into a fresh buffer, plus pybase64 of it in the output's line
    shape (encrypt); or opening it plus the non-validating decode of the text."""
    blob = os.urandom(info["encoded_bytes"])
    eol = b"\r\n" if info["crlf"] else b"\n"
    width = info["line_length"]

    def encode(data: bytes | bytearray) -> bytes | bytearray:
        if width == 76:  # pybase64's own lines, then the line ends
            text = pybase64.encodebytes(data)
            return text if eol == b"\n" else text.replace(b"\n", eol)
        return b64_lines_views(data, width, eol)

    if op == "encrypt":
        return lambda: encode(seal_chunks(blob))
    sealed = seal_chunks(blob)
    text = encode(blob)
    return lambda: (open_chunks(sealed), pybase64.b64decode(text, validate=False))


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _setup(keys: Keys, fmt: str) -> tuple[Any, Any]:
    require_format(fmt)
    key = call_or_skip(fmt, lambda: keys.secret(KEY_FORMAT[fmt], "x25519"))
    return key, key.public


@pytest.mark.parametrize(
    ("fmt", "op", "n"),
    cases(
        *((f, o) for f in ("smime", "pgpmime") for o in ("encrypt", "decrypt", "open")),
        only=SIZES,
    ),
)
def test_message(measure: Measure, keys: Keys, fmt: str, op: str, n: int) -> None:
    key, cert = _setup(keys, fmt)
    msg = make_message(n)

    def encrypt() -> bytes:
        sealed = e2ee_mail.encrypt_message(msg, [cert], format=fmt)  # type: ignore[arg-type]
        return sealed.as_bytes()

    raw = call_or_skip(fmt, encrypt)
    info: dict[str, Any] = {"format": fmt, "op": op, "api": "message", "size": n}
    info.update(encoded_info(raw))
    floor = work_floor(op, info) if n >= MIB else None
    case = f"{fmt}.message.{op}.{size_id(n)}"
    if op == "encrypt":
        raw = measure(
            encrypt,
            case=case,
            group=f"message {size_id(n)}",
            nbytes=n,
            paired=floor,
            **info,
        )
        assert attachment(e2ee_mail.decrypt_message(raw, key)) == payload(n)
    elif op == "open":
        content = measure(
            lambda: attachment(e2ee_mail.decrypt_message(raw, key)),
            case=case,
            group=f"message {size_id(n)}",
            nbytes=n,
            paired=floor,
            **info,
        )
        assert content == payload(n)
        if n >= MIB:
            # Reading the attachment decodes a second base64 layer the floor above
            # leaves out: its own limit, so report.py can say what opening costs
            # beyond the work no implementation avoids.
            inner = pybase64.encodebytes(payload(n)).replace(b"\n", b"\r\n")
            times = [
                _timed(lambda: pybase64.b64decode(inner, validate=False))
                for _ in range(10)
            ]
            measure.extra_info["inner_decode"] = {
                "min": min(times),
                "median": statistics.median(times),
            }
    else:
        opened = measure(
            lambda: e2ee_mail.decrypt_message(raw, key),
            case=case,
            group=f"message {size_id(n)}",
            nbytes=n,
            paired=floor,
            **info,
        )
        assert attachment(opened) == payload(n)
        assert opened["Subject"] == "Benchmark"


@pytest.mark.parametrize("fmt", ["smime", "pgpmime"])
def test_message_build_1mib(measure: Measure, keys: Keys, fmt: str) -> None:
    """encrypt_message alone, without serializing: is the cost in as_bytes()?"""
    key, cert = _setup(keys, fmt)
    msg = make_message(MIB)
    sealed = measure(
        lambda: e2ee_mail.encrypt_message(msg, [cert], format=fmt),  # type: ignore[arg-type]
        case=f"{fmt}.message.build.1MiB",
        group="message 1MiB",
        nbytes=MIB,
        format=fmt,
    )
    assert attachment(e2ee_mail.decrypt_message(sealed.as_bytes(), key)) == payload(MIB)


@pytest.mark.parametrize("n", cases(only=SIZES))
def test_email_roundtrip(measure: Measure, n: int) -> None:
    """The stdlib email round trip of the same (plaintext) message."""
    msg = make_message(n)

    def roundtrip() -> bytes:
        raw = msg.as_bytes()
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return attachment(parsed)

    out = measure(
        roundtrip,
        case=f"limit.email_roundtrip.{size_id(n)}",
        group=f"message {size_id(n)}",
        nbytes=n,
    )
    assert out == payload(n)


@pytest.mark.parametrize(
    ("fmt", "op", "n"),
    cases(
        *((f, o) for f in ("smime", "pgpmime") for o in ("encrypt", "decrypt")),
        only=(MIB, 16 * MIB),
    ),
)
def test_mail_stream(
    measure: Measure, keys: Keys, tmp_path: Path, fmt: str, op: str, n: int
) -> None:
    key, cert = _setup(keys, fmt)
    mail, sealed, opened = (tmp_path / name for name in ("mail", "sealed", "opened"))
    mail.write_bytes(make_message(n).as_bytes(policy=email.policy.SMTP))

    def encrypt() -> None:
        with mail.open("rb") as src, sealed.open("wb") as dst:
            e2ee_mail.encrypt_stream(src, dst, [cert], format=fmt)  # type: ignore[arg-type]

    def decrypt() -> None:
        with sealed.open("rb") as src, opened.open("wb") as dst:
            e2ee_mail.decrypt_stream(src, dst, key)

    call_or_skip(fmt, encrypt)
    info = {"format": fmt, "op": op, "api": "stream", "size": n}
    measure(
        encrypt if op == "encrypt" else decrypt,
        case=f"{fmt}.stream.{op}.{size_id(n)}",
        group=f"mail stream {size_id(n)}",
        nbytes=n,
        **info,
    )
    decrypt()
    parsed = email.message_from_bytes(opened.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert attachment(parsed) == payload(n)
