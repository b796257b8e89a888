"""A griffe extension for the API reference: Sphinx roles in docstrings as code.

The docstrings are Google style, and name other objects the Sphinx way
(``:func:`e2ee_mail.encrypt```, ``:meth:`Keyring.open```), which reads well in the
source and in ``help()``. mkdocstrings renders Markdown and would show the role
verbatim; this extension turns each role into a code span before rendering.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:func|meth|class|attr|data|mod|exc|obj):`~?([^`]+)`")


def plain(text: str) -> str:
    """``text`` with every Sphinx cross-reference role turned into a code span."""
    return _ROLE.sub(r"`\1`", text)


class SphinxRolesAsCode(griffe.Extension):
    """Rewrites the docstring of every object griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = plain(obj.docstring.value)
