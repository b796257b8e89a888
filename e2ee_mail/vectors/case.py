"""The data model of a vector case: :class:`Case`, :class:`VectorFile`, the failures.

Split from :mod:`e2ee_mail.vectors` (which re-exports everything here) to keep modules
small. Hex and base64 inputs are decoded here; a malformed value is a :class:`Mismatch`.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..model import Verified

__all__ = ["Case", "Mismatch", "VectorFailure", "VectorFile"]


class Mismatch(Exception):
    """Raised by a runner when an operation succeeded but gave the wrong output."""


class VectorFailure(AssertionError):
    """A case did not behave as its file says; the message says how."""


@dataclasses.dataclass(frozen=True, slots=True)
class Case:
    """One test case with the group fields it shares.

    Attributes:
        file: the vector file, relative to the directory searched (POSIX form).
        kind: the file's kind, which selects the runner.
        id: the case number, unique and stable within its file.
        comment: what the case is about.
        flags: names explained in the file's ``notes``.
        result: "valid", "invalid" or "acceptable".
        error: the expected exception class name (invalid cases).
        preset: the Policy preset that accepts the case (acceptable cases).
        inputs: the case's inputs (hex for short values, base64 for messages).
        expected: the expected outputs (valid and acceptable cases).
        group: the fields of the case's group other than ``cases``.
        directory: the directory of the vector file, for runners that read files
            it refers to (for example keys under data/keys/).
    """

    file: str
    kind: str
    id: int
    comment: str
    flags: tuple[str, ...]
    result: str
    error: str | None
    preset: str | None
    inputs: Mapping[str, object]
    expected: Mapping[str, object]
    group: Mapping[str, object]
    directory: Path

    @classmethod
    def of_inputs(cls, inputs: Mapping[str, object], directory: Path) -> Case:
        """A case holding ``inputs`` alone: for code that has recorded inputs but no
        vector file (the generators), so that it reads them as a runner does."""
        return cls(
            file="",
            kind="",
            id=0,
            comment="",
            flags=(),
            result="valid",
            error=None,
            preset=None,
            inputs=inputs,
            expected={},
            group={},
            directory=directory,
        )

    @property
    def name(self) -> str:
        """``file#id``, the name a report or a test id uses."""
        return f"{self.file}#{self.id}"

    def value(self, name: str) -> object:
        """Return input ``name``, falling back to the group field of that name."""
        if name in self.inputs:
            return self.inputs[name]
        if name in self.group:
            return self.group[name]
        raise Mismatch(f"the case has no input {name!r}")

    def text(self, name: str) -> str:
        """Return input (or group field) ``name`` as a string."""
        value = self.value(name)
        if not isinstance(value, str):
            raise Mismatch(f"input {name!r} is not a string")
        return value

    def integer(self, name: str) -> int:
        """Return input ``name``, which must be an integer."""
        value = self.value(name)
        if not isinstance(value, int):
            raise Mismatch(f"input {name!r} is not an integer")
        return value

    def hex(self, name: str) -> bytes:
        """Return input (or group field) ``name`` decoded from hex."""
        return _unhex(self.text(name), name)

    def b64(self, name: str) -> bytes:
        """Return input (or group field) ``name`` decoded from base64."""
        return _unb64(self.text(name), name)

    def paths(self, name: str) -> list[Path]:
        """Return input ``name``, a list of file names, as paths beside the file."""
        value = self.value(name)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise Mismatch(f"input {name!r} is not a list of file names")
        return [self.directory / v for v in value]

    def optional_hexes(self, name: str) -> list[bytes | None]:
        """Return input ``name``, a list of hex strings or nulls, decoded."""
        value = self.value(name)
        if not isinstance(value, list):
            raise Mismatch(f"input {name!r} is not a list")
        try:
            return [None if v is None else bytes.fromhex(v) for v in value]
        except (TypeError, ValueError):
            raise Mismatch(f"input {name!r} holds a value that is not hex") from None

    def message(self) -> bytes:
        """Input ``message`` (ASCII text: PEM, armor) or ``message_b64`` (binary)."""
        return self.message_or_b64("message")

    def message_or_b64(self, name: str) -> bytes:
        """Input ``name`` (ASCII text: PEM, armor) or ``name_b64`` (binary)."""
        if name in self.inputs:
            text = self.text(name)
            if not text.isascii():
                raise Mismatch(f"input {name!r} is not ASCII text")
            return text.encode("ascii")
        return self.b64(f"{name}_b64")

    def opened_by_every_key(
        self,
        data: bytes,
        open_with: Callable[[bytes, bytes | None], bytes | bytearray],
    ) -> bytes:
        """Open ``data`` with each key file of input ``keys`` (the optional input
        ``passphrase`` unlocks them) through ``open_with(key file, passphrase)``;
        each must give the expected ``plaintext``. Returns it (empty when no key)."""
        passphrase = self.inputs.get("passphrase")
        secret = passphrase.encode() if isinstance(passphrase, str) else None
        plain = b""
        for path in self.paths("keys"):
            plain = bytes(open_with(path.read_bytes(), secret))
            if plain.hex() != self.expected.get("plaintext"):
                raise Mismatch(f"{path.name} gives the wrong plaintext")
        return plain

    def reencrypts(self) -> bool:
        """Whether input ``op`` of a deterministic case is "encrypt" (the message is
        also made again from the recorded randomness) rather than "decrypt"."""
        op = self.text("op")
        if op not in ("decrypt", "encrypt"):
            raise Mismatch(f"unknown op {op!r}")
        return op == "encrypt"

    def plaintext_to_reencrypt(
        self, open_with: Callable[[bytes, bytes, bytes | None], bytes | bytearray]
    ) -> bytes | None:
        """The decrypting side of a deterministic case: input :meth:`message` must
        open with each key (:meth:`opened_by_every_key`), through ``open_with(message,
        key file, passphrase)``. Returns the plaintext when the case also re-encrypts
        (:meth:`reencrypts`), else None."""
        data = self.message()
        plain = self.opened_by_every_key(
            data, lambda key, secret: open_with(data, key, secret)
        )
        return plain if self.reencrypts() else None

    def expected_hex(self, name: str) -> bytes:
        """Return expected output ``name`` decoded from hex."""
        return _unhex(_str(self.expected, name), name)

    def expected_b64(self, name: str) -> bytes:
        """Return expected output ``name`` decoded from base64."""
        return _unb64(_str(self.expected, name), name)


@dataclasses.dataclass(frozen=True, slots=True)
class VectorFile:
    """A vector file that passed its schema, with its cases."""

    path: Path
    name: str
    kind: str
    source: str
    cases: tuple[Case, ...]


def _str(mapping: Mapping[str, object], name: str) -> str:
    value = mapping.get(name)
    if not isinstance(value, str):
        raise Mismatch(f"the case has no expected {name!r}")
    return value


def _unhex(text: str, name: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise Mismatch(f"{name!r} is not hex") from None


def _unb64(text: str, name: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise Mismatch(f"{name!r} is not base64") from None


def expect_equal(got: object, want: object, what: str) -> None:
    """Raise :class:`Mismatch` naming ``what`` unless ``got == want``."""
    if got != want:
        raise Mismatch(f"{what} is {got!r}, expected {want!r}")


def expect_good_signature(verified: Verified, data: bytes, case: Case) -> None:
    """Raise :class:`Mismatch` unless ``verified`` holds ``data`` and one good
    signature, by ``expected.fingerprint``."""
    expect_equal(verified.data.hex(), data.hex(), "the signed content")
    expect_equal(
        [s.fingerprint for s in verified.good],
        [case.expected.get("fingerprint")],
        "the signer",
    )
