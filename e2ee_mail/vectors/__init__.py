"""Test vectors: the loader, its schema checker and one runner module per format.

``e2ee-mail vectors verify`` and the test suite both go through :mod:`.loader`; each
runner calls the code that ships (``core``, a format's composer or the public API),
so a vector checks that code and not a copy of it.
"""

from .case import Case, Mismatch, VectorFailure, VectorFile
from .loader import (
    Runner,
    default_dir,
    iter_cases,
    iter_files,
    load_file,
    run_case,
    runners,
    verify_cli,
)

__all__ = [
    "Case",
    "Mismatch",
    "Runner",
    "VectorFailure",
    "VectorFile",
    "default_dir",
    "iter_cases",
    "iter_files",
    "load_file",
    "run_case",
    "runners",
    "verify_cli",
]
