"""The ``e2ee-sop`` entry point: ``e2ee-sop SUBCOMMAND [OPTIONS] [--] [ARGS]``.

Options and arguments per draft-dkg-openpgp-stateless-cli. The parser's own
failures are the draft's exit codes: an unknown subcommand UNSUPPORTED_SUBCOMMAND,
an unknown option UNSUPPORTED_OPTION, a missing option value MISSING_ARG. Every
failure is one line on standard error ("e2ee-sop: NAME: what went wrong") and its
code, never a traceback: an exception no subcommand mapped gets the code of its kind
(a library error's, else BAD_DATA, as only the input can have caused it), and an
operating-system failure (a full disk, a closed descriptor) exit 1. Standard output
gets the result only when the subcommand succeeded.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from . import status
from .status import SopError

__all__ = ["main"]

_PROG = "e2ee-sop"


class _Parser(argparse.ArgumentParser):
    """argparse that fails with the draft's exit codes instead of exiting 2."""

    def error(self, message: str) -> NoReturn:
        if "unrecognized arguments" in message:
            raise SopError(status.UNSUPPORTED_OPTION, message)
        if "expected one argument" in message or "required" in message:
            raise SopError(status.MISSING_ARG, message)
        if "not allowed with" in message:
            raise SopError(status.INCOMPATIBLE_OPTIONS, message)
        raise SopError(status.UNSUPPORTED_OPTION, message)


def _parser(name: str) -> argparse.ArgumentParser:
    return _Parser(prog=f"{_PROG} {name}", allow_abbrev=False)


def _armor(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-armor", dest="armor", action="store_false", help="binary output"
    )


def _key_password(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--with-key-password",
        action="append",
        default=[],
        metavar="PASSWORD",
        help="a password that unlocks the keys (indirect data; repeatable)",
    )


def _as(p: argparse.ArgumentParser, choices: Sequence[str]) -> None:
    p.add_argument(
        "--as", dest="as_", default="binary", metavar="{" + "|".join(choices) + "}"
    )


def _window(p: argparse.ArgumentParser, prefix: str = "") -> None:
    p.add_argument(f"--{prefix}not-before", default=None, metavar="DATE")
    p.add_argument(f"--{prefix}not-after", default=None, metavar="DATE")


def _build(name: str) -> argparse.ArgumentParser:
    p = _parser(name)
    if name == "version":
        group = p.add_mutually_exclusive_group()
        group.add_argument("--backend", action="store_true")
        group.add_argument("--extended", action="store_true")
        group.add_argument("--sop-spec", action="store_true")
    elif name == "list-profiles":
        p.add_argument("subcommand")
    elif name == "generate-key":
        _armor(p)
        p.add_argument("--with-key-password", default=None, metavar="PASSWORD")
        p.add_argument("--profile", default=None)
        p.add_argument("--signing-only", action="store_true")
        p.add_argument("userids", nargs="*")
    elif name == "change-key-password":
        _armor(p)
        p.add_argument("--new-key-password", default=None, metavar="PASSWORD")
        p.add_argument(
            "--old-key-password", action="append", default=[], metavar="PASSWORD"
        )
    elif name in ("revoke-key",):
        _armor(p)
        _key_password(p)
    elif name == "extract-cert":
        _armor(p)
    elif name == "sign":
        _armor(p)
        _as(p, ("binary", "text"))
        p.add_argument("--micalg-out", default=None, metavar="MICALG")
        _key_password(p)
        p.add_argument("keys", nargs="*")
    elif name == "verify":
        _window(p)
        p.add_argument("signatures", nargs="?")
        p.add_argument("certs", nargs="*")
    elif name == "encrypt":
        _armor(p)
        _as(p, ("binary", "text"))
        p.add_argument(
            "--with-password", action="append", default=[], metavar="PASSWORD"
        )
        p.add_argument("--sign-with", action="append", default=[], metavar="KEYS")
        _key_password(p)
        p.add_argument("--profile", default=None)
        p.add_argument("certs", nargs="*")
    elif name == "decrypt":
        p.add_argument("--session-key-out", default=None, metavar="SESSIONKEY")
        p.add_argument(
            "--with-session-key", action="append", default=[], metavar="SESSIONKEY"
        )
        p.add_argument(
            "--with-password", action="append", default=[], metavar="PASSWORD"
        )
        _key_password(p)
        # --verify-out: the draft's older name, still accepted.
        p.add_argument(
            "--verifications-out",
            "--verify-out",
            dest="verifications_out",
            default=None,
            metavar="VERIFICATIONS",
        )
        p.add_argument("--verify-with", action="append", default=[], metavar="CERTS")
        _window(p, "verify-")
        p.add_argument("keys", nargs="*")
    elif name == "inline-sign":
        _armor(p)
        _as(p, ("binary", "text", "clearsigned"))
        _key_password(p)
        p.add_argument("keys", nargs="*")
    elif name == "inline-verify":
        _window(p)
        p.add_argument("--verifications-out", default=None, metavar="VERIFICATIONS")
        p.add_argument("certs", nargs="*")
    elif name == "inline-detach":
        _armor(p)
        p.add_argument("--signatures-out", default=None, metavar="SIGNATURES")
    return p


_AS_CHOICES = {
    "sign": ("binary", "text"),
    "encrypt": ("binary", "text"),
    "inline-sign": ("binary", "text", "clearsigned"),
}


def _run(argv: Sequence[str]) -> int:
    from .commands import COMMANDS

    if not argv:
        raise SopError(
            status.UNSUPPORTED_SUBCOMMAND,
            "missing subcommand (" + ", ".join(COMMANDS) + ")",
        )
    name, rest = argv[0], list(argv[1:])
    if name in ("-h", "--help", "help"):
        sys.stdout.write(
            f"usage: {_PROG} SUBCOMMAND [OPTIONS] [--] [ARGS]\nsubcommands: "
            + ", ".join(COMMANDS)
            + "\n"
        )
        return 0
    if name not in COMMANDS:
        raise SopError(
            status.UNSUPPORTED_SUBCOMMAND, f"unsupported subcommand {name!r}"
        )
    function, reads_input = COMMANDS[name]
    parser = _build(name)
    args = parser.parse_args(rest)
    choices = _AS_CHOICES.get(name)
    if choices is not None and args.as_ not in choices:
        raise SopError(
            status.UNSUPPORTED_OPTION, f"--as={args.as_}: one of {', '.join(choices)}"
        )
    data = sys.stdin.buffer.read() if reads_input else b""
    out = sys.stdout.buffer
    function(args, data, out)
    out.flush()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; returns its exit code (0, or the draft's code)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return _run(args)
    except SopError as exc:
        _fail(f"{exc.name}: {exc}".splitlines()[0])
        return exc.code
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away: quietly, with the status of a SIGPIPE death.
        return 141
    except (MemoryError, OSError) as exc:
        _fail(f"{type(exc).__name__}: {exc}".splitlines()[0])
        return status.GENERIC
    except Exception as exc:
        # The contract: one line and a draft code, never a traceback.
        code = _code_for(exc)
        _fail(f"{status.EXIT_CODES[code]}: {type(exc).__name__}: {exc}".splitlines()[0])
        return code


def _code_for(exc: Exception) -> int:
    """The draft's code for an exception no subcommand mapped: the library's by
    its kind; anything else can only come from the input, so BAD_DATA."""
    from ..errors import (
        DecryptionError,
        NoMatchingKeyError,
        PassphraseError,
        UnsupportedError,
    )

    if isinstance(exc, PassphraseError):
        return status.KEY_IS_PROTECTED
    if isinstance(exc, (DecryptionError, NoMatchingKeyError)):
        return status.CANNOT_DECRYPT
    if isinstance(exc, UnsupportedError):
        return status.UNSUPPORTED_ASYMMETRIC_ALGO
    return status.BAD_DATA


def _fail(message: str) -> None:
    try:
        sys.stderr.write(f"{_PROG}: {message}\n")
        sys.stderr.flush()
    except OSError:
        pass
