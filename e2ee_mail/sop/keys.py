"""Keys, certificates, session keys and dates as the subcommands take them: each
argument is indirect data (``indirect.py``) that may hold several keys or
certificates, armored (one or more blocks) or binary."""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Sequence
from typing import Final

from ..errors import Error, KeyLoadError, PassphraseError
from ..openpgp import armor
from ..openpgp.certs import (
    OpenPGPCertificate,
    OpenPGPSecretKey,
    load_certificate,
    load_key,
)
from ..openpgp.packets import TAG_PUBLIC_KEY, TAG_SECRET_KEY
from ..openpgp.packets.header import iter_packet_spans
from ..openpgp.sessionkey import SessionKey
from ..policy import DEFAULT
from . import status
from .indirect import read_input, read_password
from .status import SopError

__all__ = [
    "dearmor_all",
    "load_certs",
    "load_keys",
    "parse_date",
    "passwords",
    "session_keys",
    "split_transferable",
    "unlock",
]

_BLOCK_START: Final = re.compile(rb"^-----BEGIN PGP ", re.MULTILINE)


def dearmor_all(data: bytes, what: str) -> bytes:
    """The packets of ``data``: binary as it is, or every armor block decoded."""
    if not armor.is_armored(data):
        return data
    starts = [m.start() for m in _BLOCK_START.finditer(data)]
    out = bytearray()
    for index, start in enumerate(starts):
        stop = starts[index + 1] if index + 1 < len(starts) else len(data)
        try:
            _, decoded = armor.dearmor(data[start:stop])
        except Error as exc:
            raise SopError(status.BAD_DATA, f"{what}: {exc}") from None
        out += decoded
    return bytes(out)


def split_transferable(data: bytes, what: str) -> list[bytes]:
    """Each transferable key or certificate in ``data``, as binary packets.

    Raises:
        SopError: BAD_DATA, when ``data`` holds no key or unreadable packets.
    """
    binary = dearmor_all(data, what)
    bounds: list[int] = []
    try:
        for tag, _, start, _ in iter_packet_spans(binary, max_packets=100_000):
            if tag in (TAG_PUBLIC_KEY, TAG_SECRET_KEY):
                bounds.append(start)
            elif not bounds:
                raise SopError(status.BAD_DATA, f"{what}: does not start with a key")
    except Error as exc:
        raise SopError(status.BAD_DATA, f"{what}: {exc}") from None
    if not bounds:
        raise SopError(status.BAD_DATA, f"{what}: holds no OpenPGP key")
    bounds.append(len(binary))
    return [binary[a:b] for a, b in itertools.pairwise(bounds)]


def passwords(specs: Sequence[str], *, what: str) -> list[bytes]:
    """Every password to try, from each of ``specs``."""
    found: list[bytes] = []
    for spec in specs:
        found += read_password(spec, what=what, human=False)
    return found


def unlock(block: bytes, tries: Sequence[bytes], what: str) -> OpenPGPSecretKey:
    """The secret key in ``block``, unprotected or unlocked by one of ``tries``.

    Raises:
        SopError: BAD_DATA, KEY_IS_PROTECTED.
    """
    # Unprotected first: a key without a password opens with None.
    for password in (None, *tries):
        try:
            return load_key(block, password, DEFAULT)
        except PassphraseError:
            continue
        except Error as exc:
            raise SopError(status.BAD_DATA, f"{what}: {exc}") from None
    said = "none of the passwords given unlocks it" if tries else "it needs a password"
    raise SopError(status.KEY_IS_PROTECTED, f"{what} is protected: {said}")


def load_keys(
    specs: Sequence[str], password_specs: Sequence[str] = ()
) -> list[OpenPGPSecretKey]:
    """The secret keys in ``specs``, unlocked with one of the passwords.

    Raises:
        SopError: BAD_DATA (not a secret key), KEY_IS_PROTECTED, and as
            ``indirect.read_input``.
    """
    tries = passwords(password_specs, what="key password")
    found = []
    for spec in specs:
        data = read_input(spec, what="key")
        for block in split_transferable(data, f"key {spec}"):
            found.append(unlock(block, tries, f"key {spec}"))
    return found


def load_certs(
    specs: Sequence[str], *, what: str = "certificate"
) -> list[OpenPGPCertificate]:
    """The certificates in ``specs`` (a secret key gives its certificate).

    Raises:
        SopError: BAD_DATA, and as ``indirect.read_input``.
    """
    found = []
    for spec in specs:
        data = read_input(spec, what=what)
        for block in split_transferable(data, f"{what} {spec}"):
            try:
                found.append(load_certificate(block))
            except (KeyLoadError, Error) as exc:
                raise SopError(status.BAD_DATA, f"{what} {spec}: {exc}") from None
    return found


def session_keys(specs: Sequence[str]) -> list[SessionKey]:
    """The session keys in ``specs``, one "ALGO:HEX" per argument.

    Raises:
        SopError: BAD_DATA, and as ``indirect.read_input``.
    """
    found = []
    for spec in specs:
        data = read_input(spec, what="session key")
        try:
            found.append(SessionKey.parse(data.decode("ascii")))
        except (UnicodeDecodeError, Error) as exc:
            raise SopError(status.BAD_DATA, f"session key {spec}: {exc}") from None
    return found


def parse_date(text: str | None, *, default_now: bool) -> datetime.datetime | None:
    """A DATE argument: ISO 8601 (a time without zone is UTC), "now", or "-" for
    no limit; None (not given) is now when ``default_now``, else no limit.

    Raises:
        SopError: UNSUPPORTED_OPTION, a date that cannot be read.
    """
    now = datetime.datetime.now(datetime.UTC)
    if text is None:
        return now if default_now else None
    if text == "-":
        return None
    if text == "now":
        return now
    try:
        when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SopError(
            status.UNSUPPORTED_OPTION,
            f'{text}: not a date (ISO 8601, e.g. 2026-01-31T12:00:00Z, "now" or "-")',
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return when
