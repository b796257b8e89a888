"""The documentation site (mkdocs.yml, docs/): complete, generated where it can be,
and built offline in strict mode by CI.

The strict build itself runs in .ci/run (a few seconds, and it needs the docs extra);
these checks are the fast part: every page is in the navigation, every public name is
in the API reference, the CLI reference shows every command and option of the real
parser, and nothing in the configuration fetches from the network.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

import e2ee_mail

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def config() -> dict[str, object]:
    yaml = pytest.importorskip("yaml")
    loaded = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _nav_pages(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [page for item in node for page in _nav_pages(item)]
    if isinstance(node, dict):
        return [page for value in node.values() for page in _nav_pages(value)]
    return []


def test_every_page_is_in_the_nav_and_every_nav_entry_exists(
    config: dict[str, object],
) -> None:
    nav = _nav_pages(config["nav"])
    on_disk = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    assert sorted(nav) == on_disk
    for page in ("getting-started.md", "cli.md", "security.md", "ARCHITECTURE.md"):
        assert page in nav
    for topic in ("sending", "rotation", "gnupg", "legacy"):
        assert f"recipes/{topic}.md" in nav


def test_the_build_fetches_nothing(config: dict[str, object]) -> None:
    theme = config["theme"]
    assert isinstance(theme, dict)
    assert theme["font"] is False  # material would load web fonts
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for fetching in ("social", "privacy", "inventories", "http://", "https://"):
        assert fetching not in text


def test_the_api_reference_shows_every_public_name() -> None:
    shown = {
        line.split()[1].rsplit(".", 1)[-1]
        for page in (DOCS / "api").glob("*.md")
        for line in page.read_text(encoding="utf-8").splitlines()
        if line.startswith("::: ")
    }
    assert set(e2ee_mail.__all__) - shown == set()
    assert "GnuPGKeyring" in shown and "KeyVersion" in shown


def test_the_cli_reference_is_generated_from_the_real_parser() -> None:
    hook = _load(ROOT / "scripts" / "docs" / "cli_reference.py")
    assert hook.MARKER in (DOCS / "cli.md").read_text(encoding="utf-8")
    text = hook.cli_reference()
    commands = ["keygen", "encrypt", "decrypt", "inspect", "rewrap", "keyring"]
    for words, parser, _ in hook.parsers():
        assert f"`{' '.join(('e2ee-mail', *words))}`" in text
        for action in parser._actions:
            if action.help == argparse.SUPPRESS:
                assert not any(o in text for o in action.option_strings if o != "-h")
                continue
            for option in action.option_strings:
                assert option in text, (words, option)
    for command in commands:
        assert f"## `e2ee-mail {command}`" in text
    assert "### `e2ee-mail keyring rotate`" in text
    assert "Make a new active key version." in text  # the parent's one-line help


def test_cli_page_has_the_marker_the_hook_replaces() -> None:
    hook = _load(ROOT / "scripts" / "docs" / "cli_reference.py")
    page = SimpleNamespace(file=SimpleNamespace(src_uri="cli.md"))  # as mkdocs has it
    markdown = (DOCS / "cli.md").read_text(encoding="utf-8")
    rendered = hook.on_page_markdown(markdown, page=page)
    assert hook.MARKER not in rendered and "`e2ee-mail encrypt`" in rendered


def test_sphinx_roles_become_code_spans() -> None:
    pytest.importorskip("griffe")
    roles = _load(ROOT / "scripts" / "docs" / "sphinx_roles.py")
    text = "See :func:`e2ee_mail.encrypt` and :meth:`~Keyring.open`, ``x``."
    assert roles.plain(text) == "See `e2ee_mail.encrypt` and `Keyring.open`, ``x``."


def test_the_docs_extra_is_installed_with_dev_and_ci_builds_strictly() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extras = project["project"]["optional-dependencies"]
    names = {re.split(r"[<>=\[]", req)[0] for req in extras["docs"]}
    assert {"mkdocs", "mkdocs-material", "mkdocstrings"} <= names
    assert any("docs" in req for req in extras["dev"] if req.startswith("e2ee_mail["))
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    (build,) = [line for line in ci.splitlines() if "mkdocs build" in line]
    assert "--strict" in build and "--quiet" not in build
