"""The ``e2ee-mail`` command's argparse parser classes.

Imported only when argparse parses the command line: for ``--help``, for an error,
and for whatever cli_fastparse.py leaves to it (the entry point, cli.py, builds the
parser).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, NoReturn

from .cli_status import EXIT_USAGE

__all__ = ["Formatter", "Parser"]


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``, without importing ``shutil``."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        # sys.__stdout__ may be None: the AttributeError is caught, as in shutil.
        fileno = sys.__stdout__.fileno()  # type: ignore[union-attr]
        return os.get_terminal_size(fileno).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


class Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, given its width so that it never imports ``shutil``.

    argparse builds a formatter for every ``add_argument`` and, without a width,
    imports ``shutil`` (with ``bz2``, ``lzma`` and ``zlib``) to ask the terminal's:
    milliseconds of every command's start-up for a help text it never prints. The
    width is the one argparse would have computed. Descriptions and epilogs are
    printed as written (the exit status table keeps its columns); option help is
    wrapped as usual.
    """

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


class Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"e2ee-mail: error: {message}\n")
        raise SystemExit(EXIT_USAGE)
