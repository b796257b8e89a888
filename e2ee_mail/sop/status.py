"""The exit codes of draft-dkg-openpgp-stateless-cli ("Failure Modes") and the
one exception that carries them to the entry point."""

from __future__ import annotations

from typing import Final

__all__ = ["EXIT_CODES", "SopError"]

OK: Final = 0
#: An unexpected failure; the draft leaves other non-zero codes to implementations.
GENERIC: Final = 1
NO_SIGNATURE: Final = 3
UNSUPPORTED_ASYMMETRIC_ALGO: Final = 13
CERT_CANNOT_ENCRYPT: Final = 17
MISSING_ARG: Final = 19
INCOMPLETE_VERIFICATION: Final = 23
CANNOT_DECRYPT: Final = 29
PASSWORD_NOT_HUMAN_READABLE: Final = 31
UNSUPPORTED_OPTION: Final = 37
BAD_DATA: Final = 41
EXPECTED_TEXT: Final = 53
OUTPUT_EXISTS: Final = 59
MISSING_INPUT: Final = 61
KEY_IS_PROTECTED: Final = 67
UNSUPPORTED_SUBCOMMAND: Final = 69
UNSUPPORTED_SPECIAL_PREFIX: Final = 71
AMBIGUOUS_INPUT: Final = 73
KEY_CANNOT_SIGN: Final = 79
INCOMPATIBLE_OPTIONS: Final = 83
UNSUPPORTED_PROFILE: Final = 89

#: Each code's name in the draft.
EXIT_CODES: Final[dict[int, str]] = {
    NO_SIGNATURE: "NO_SIGNATURE",
    UNSUPPORTED_ASYMMETRIC_ALGO: "UNSUPPORTED_ASYMMETRIC_ALGO",
    CERT_CANNOT_ENCRYPT: "CERT_CANNOT_ENCRYPT",
    MISSING_ARG: "MISSING_ARG",
    INCOMPLETE_VERIFICATION: "INCOMPLETE_VERIFICATION",
    CANNOT_DECRYPT: "CANNOT_DECRYPT",
    PASSWORD_NOT_HUMAN_READABLE: "PASSWORD_NOT_HUMAN_READABLE",
    UNSUPPORTED_OPTION: "UNSUPPORTED_OPTION",
    BAD_DATA: "BAD_DATA",
    EXPECTED_TEXT: "EXPECTED_TEXT",
    OUTPUT_EXISTS: "OUTPUT_EXISTS",
    MISSING_INPUT: "MISSING_INPUT",
    KEY_IS_PROTECTED: "KEY_IS_PROTECTED",
    UNSUPPORTED_SUBCOMMAND: "UNSUPPORTED_SUBCOMMAND",
    UNSUPPORTED_SPECIAL_PREFIX: "UNSUPPORTED_SPECIAL_PREFIX",
    AMBIGUOUS_INPUT: "AMBIGUOUS_INPUT",
    KEY_CANNOT_SIGN: "KEY_CANNOT_SIGN",
    INCOMPATIBLE_OPTIONS: "INCOMPATIBLE_OPTIONS",
    UNSUPPORTED_PROFILE: "UNSUPPORTED_PROFILE",
}


class SopError(Exception):
    """A subcommand fails with exit ``code`` and the one-line ``message``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code

    @property
    def name(self) -> str:
        """The draft's name of the code, e.g. "BAD_DATA"."""
        return EXIT_CODES.get(self.code, "ERROR")
