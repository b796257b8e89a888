"""The ``e2ee-mail`` command (stable: scripts depend on its options and exit codes).

Exit 0 on success; otherwise exactly one line ``e2ee-mail: error: ...`` on stderr, a
non-zero status that says what went wrong (:data:`EXIT_CODES`), and nothing written
to the output path: output goes to a temporary file next to the target and is renamed
only once the whole operation has succeeded. Output to stdout is held back the same
way and written at the end; a reader that goes away early (``| head``) ends the
command quietly with status 141, as a program killed by SIGPIPE reports in a shell.
SIGINT, SIGTERM and SIGHUP end a command the same way: its temporary files are
removed and it exits 128 + the signal number (130, 143, 129), as a shell reports a
command that a signal ended.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from . import cli_commands as cmd
from . import cli_fastparse
from . import cli_options as opt
from ._io import remove_temporaries
from .cli_status import (
    EXIT_BAD_INPUT,
    EXIT_BROKEN_PIPE,
    EXIT_CODES,
    EXIT_ERROR,
    EXIT_NO_KEY,
    EXIT_PASSPHRASE,
    EXIT_SIGNAL_BASE,
    EXIT_SIGNATURE,
    EXIT_USAGE,
)
from .errors import (
    DecryptionError,
    Error,
    FormatError,
    NoMatchingKeyError,
    PassphraseError,
    SignatureError,
    UsageError,
)

if TYPE_CHECKING:
    import argparse
    import signal as _signal
else:
    try:
        # CPython's own signal functions, which the interpreter has loaded before any
        # code runs: `signal` wraps the same functions and first builds its three
        # enums, about 0.7 ms of every start for names only an error message uses.
        import _signal
    except ImportError:  # another interpreter
        import signal as _signal

# Start-up: importing this module costs the exception classes and the command
# line's own light modules (its statuses, options, input and output, the command
# functions, the parser of plain command lines); argparse (cli_parser.py) only when
# cli_fastparse.py leaves the command line to it. The library (`_api`, hence
# `policy` and `cryptography`) is imported by the command that runs; the formats by
# the library when a message needs them.

__all__ = ["main"]


class _Terminated(BaseException):
    """Raised in the main thread by SIGINT, SIGTERM or SIGHUP.

    A BaseException, as KeyboardInterrupt is, so that no ``except Exception`` stops
    it: it unwinds through every ``finally`` and context manager, which remove their
    temporary files, up to :func:`main`.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _terminate(signum: int, frame: object) -> None:
    # One is enough: a second signal must not interrupt the clean-up the first one
    # starts (SIGKILL remains for a clean-up that hangs).
    for name in _SIGNALS:
        other = getattr(_signal, name, None)
        if other is not None:
            _signal.signal(other, _signal.SIG_IGN)
    raise _Terminated(signum)


#: The signals that end a command with its clean-up.
_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


@contextlib.contextmanager
def _signals_end_cleanly() -> Iterator[None]:
    """Route :data:`_SIGNALS` to :func:`_terminate` for the block, then restore them.

    A signal its parent set to be ignored (``nohup``, a background job's SIGINT)
    stays ignored; and outside the main thread nothing changes (only the main
    thread may set handlers, as when :func:`main` runs inside another program).
    """
    saved: dict[int, Any] = {}
    try:
        for name in _SIGNALS:
            signum = getattr(_signal, name, None)
            if signum is None:  # no SIGHUP on Windows
                continue
            previous = _signal.getsignal(signum)
            if previous == _signal.SIG_IGN:
                continue
            try:
                _signal.signal(signum, _terminate)
            except ValueError:  # not the main thread: leave every handler alone
                break
            saved[signum] = previous
        yield
    finally:
        for signum, previous in saved.items():
            _signal.signal(signum, previous)


if TYPE_CHECKING:
    _Configure = Callable[[argparse.ArgumentParser], None]

#: name -> (handler, help, argument set), in the order ``--help`` lists them.
_COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], None], str, _Configure]] = {
    "keygen": (
        cmd.cmd_keygen,
        "generate a key pair (PREFIX.pub, PREFIX.key)",
        opt.configure_keygen,
    ),
    "encrypt": (
        cmd.cmd_encrypt,
        "encrypt a body (openpgp, cms) or a mail (smime, pgpmime)",
        opt.configure_encrypt,
    ),
    "decrypt": (
        cmd.cmd_decrypt,
        "decrypt any supported message (format detected)",
        opt.configure_decrypt,
    ),
    "sign": (
        cmd.cmd_sign,
        "sign a body (cms, openpgp) or a mail (smime, pgpmime)",
        opt.configure_sign,
    ),
    "verify": (
        cmd.cmd_verify,
        "verify signed data, a detached signature or a signed mail",
        opt.configure_verify,
    ),
    "inspect": (
        cmd.cmd_inspect,
        "describe a message, or an OpenPGP key and its subkeys, without any key",
        opt.configure_inspect,
    ),
    "rewrap": (
        cmd.cmd_rewrap,
        "re-key a message without re-encrypting its body",
        opt.configure_rewrap,
    ),
    "keyring": (
        cmd.cmd_keyring,
        "manage a keyring: key versions and rotation",
        opt.configure_keyring,
    ),
    "vectors": (cmd.cmd_vectors, "verify test vectors", opt.configure_vectors),
    "demo": (
        cmd.cmd_demo,
        "encrypt and decrypt a built-in sample mail with throwaway keys",
        opt.configure_demo,
    ),
}


def _build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ``argv``: only the chosen command's arguments when it is named.

    Building every sub-parser cost about a third of the CLI's start-up above the
    import floor (argparse looks up gettext catalogues for each one; the keyring
    commands add sixteen). When ``argv`` starts with a known command only that
    sub-parser exists, which parses exactly as the full parser would (no sibling is
    reachable after the command word); anything else (``--help``, no command, an
    unknown one) gets the full parser and its usual messages.
    """
    from . import __version__
    from .cli_parser import Parser

    parser = Parser(
        prog="e2ee-mail",
        description="End-to-end encrypted mail: S/MIME and OpenPGP.",
        epilog=_EPILOG,
    )
    parser.add_argument(
        "--version", action="version", version=f"e2ee-mail {__version__}"
    )
    sub = parser.add_subparsers(
        dest="command", required=True, parser_class=Parser, metavar="COMMAND"
    )
    chosen = argv[0] if argv and argv[0] in _COMMANDS else None
    for name, (func, help_text, configure) in _COMMANDS.items():
        if chosen is not None and name != chosen:
            continue
        epilog = _EPILOG if name in _STATUS_COMMANDS else None
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=epilog)
        p.set_defaults(func=func)
        configure(p)
    return parser


#: The commands whose --help lists the exit statuses (as ``e2ee-mail --help`` does).
_STATUS_COMMANDS = frozenset(("encrypt", "decrypt", "inspect", "rewrap"))
_EPILOG = "exit status:\n" + "\n".join(
    f"  {code:<5}{meaning}" for code, meaning in EXIT_CODES.items()
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (see :data:`EXIT_CODES`)."""
    if argv is None:
        argv = sys.argv[1:]
    try:
        args = cli_fastparse.parse(argv, _COMMANDS)
        if args is None:
            args = _build_parser(argv).parse_args(argv)
        with _signals_end_cleanly():
            try:
                args.func(args)
            finally:
                # The blocks that made them remove their temporary files as the
                # exception passes; a signal inside one of those clean-ups would
                # skip the rest of it, so sweep up (a no-op when all went well).
                remove_temporaries()
    except BrokenPipeError:
        return _reader_gone()
    except _Terminated as exc:
        return _signalled(exc.signum)
    except KeyboardInterrupt:  # SIGINT while its handler is Python's own
        return _signalled(_signal.SIGINT)
    except Error as exc:
        sys.stderr.write(f"e2ee-mail: error: {_one_line(exc)}\n")
        return _status(exc)
    except OSError as exc:
        sys.stderr.write(f"e2ee-mail: error: {_one_line(exc)}\n")
        return EXIT_ERROR
    return 0


def _status(exc: Error) -> int:
    """The exit status for a library error: what a script can act on."""
    if isinstance(exc, UsageError):
        return EXIT_USAGE
    if isinstance(exc, SignatureError):
        return EXIT_SIGNATURE
    if isinstance(exc, PassphraseError):
        return EXIT_PASSPHRASE
    if isinstance(exc, NoMatchingKeyError):
        return EXIT_NO_KEY
    if isinstance(exc, FormatError | DecryptionError):
        return EXIT_BAD_INPUT
    return EXIT_ERROR


def _reader_gone() -> int:
    """The reader of stdout closed it (``| head``): stop without a word.

    What is still buffered for stdout can never be written, and the interpreter
    would report that failure when it flushes at exit: stdout is pointed at
    /dev/null first.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return EXIT_BROKEN_PIPE


def _signalled(signum: int) -> int:
    import signal

    name = signal.Signals(signum).name
    reason = "interrupted" if name == "SIGINT" else f"terminated by {name}"
    sys.stderr.write(f"e2ee-mail: error: {reason}\n")
    return EXIT_SIGNAL_BASE + signum


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


if __name__ == "__main__":
    raise SystemExit(main())
