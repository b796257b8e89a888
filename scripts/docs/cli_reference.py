"""mkdocs hook: the command-line reference, generated from the CLI's own parser.

``docs/cli.md`` holds the line ``<!-- cli-reference -->``; this hook replaces it with
the ``--help`` text of every command and sub-command, as ``e2ee-mail ... --help``
prints it at 88 columns, so the page cannot disagree with the parser. It runs the
CLI's parser builder (``e2ee_mail.cli._build_parser``) from the checkout next to it:
the docs describe this tree, not some other installed copy.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MARKER = "<!-- cli-reference -->"
PAGE = "cli.md"
WIDTH = 88
ROOT = Path(__file__).resolve().parents[2]


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.HelpFormatter(prog, width=WIDTH)


Parsers = list[tuple[tuple[str, ...], argparse.ArgumentParser, str | None]]


def _walk(
    parser: argparse.ArgumentParser,
    path: tuple[str, ...] = (),
    summary: str | None = None,
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, str | None]]:
    """Every parser under ``parser`` (itself first), with its command words and
    the one-line help its parent lists it with."""
    yield path, parser, summary
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield from _walk(sub, (*path, name), helps.get(name))


def parsers() -> Parsers:
    """The full ``e2ee-mail`` parser and all its sub-parsers, in help order."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from e2ee_mail import cli

    return list(_walk(cli._build_parser(None)))


def cli_reference() -> str:
    """The Markdown of the reference: one section per command."""
    out: list[str] = []
    for path, parser, summary in parsers():
        parser.formatter_class = _formatter
        level = "#" * min(2 + max(len(path) - 1, 0), 4)
        out.append(f"{level} `{' '.join(('e2ee-mail', *path))}`\n")
        if summary and not parser.description:
            # The sub-command's own help does not repeat the line its parent
            # lists it with: say it here.
            out.append(summary[0].upper() + summary[1:] + ".\n")
        out.append("```text\n" + parser.format_help().rstrip() + "\n```\n")
    return "\n".join(out)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """mkdocs event: fill in the reference on the CLI page."""
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        from mkdocs.exceptions import PluginError

        raise PluginError(f"docs/{PAGE} lost its {MARKER} line")
    return markdown.replace(MARKER, cli_reference())
