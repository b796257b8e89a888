"""The exit statuses of the ``e2ee-mail`` command and what each one means.

Stable: scripts act on them. A module of its own so that the command implementations
and the entry point share them without importing each other.
"""

from __future__ import annotations

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_BROKEN_PIPE",
    "EXIT_CODES",
    "EXIT_ERROR",
    "EXIT_NO_KEY",
    "EXIT_PASSPHRASE",
    "EXIT_SIGNAL_BASE",
    "EXIT_SIGNATURE",
    "EXIT_USAGE",
]

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NO_KEY = 3
EXIT_BAD_INPUT = 4
EXIT_PASSPHRASE = 5
EXIT_SIGNATURE = 6
#: The status of a command ended by signal N is this + N (what shells report).
EXIT_SIGNAL_BASE = 128
#: 128 + SIGPIPE: what a shell reports for a program its reader left (``| head``).
EXIT_BROKEN_PIPE = EXIT_SIGNAL_BASE + 13

#: Status -> meaning, for --help and the README.
EXIT_CODES: dict[int, str] = {
    0: "success",
    EXIT_ERROR: "any other failure (refused by policy, unsupported, I/O, keyring)",
    EXIT_USAGE: "usage: bad option, unreadable input, -o DIR, binary data for a tty",
    EXIT_NO_KEY: "no matching key: the message names none of the keys given",
    EXIT_BAD_INPUT: "not an encrypted message, damaged input, or decryption failed",
    EXIT_PASSPHRASE: "passphrase missing or wrong",
    EXIT_SIGNATURE: "no good signature by the certificates given (bad, missing, "
    "unknown signer, expired, refused): nothing written",
    EXIT_SIGNAL_BASE + 1: "ended by SIGHUP, its temporary files removed",
    EXIT_SIGNAL_BASE + 2: "interrupted (SIGINT, Ctrl-C), its temporary files removed",
    EXIT_BROKEN_PIPE: "the reader of stdout went away (| head): output cut short",
    EXIT_SIGNAL_BASE + 15: "ended by SIGTERM, its temporary files removed",
}
