"""Shared plumbing of the optional atheris (libFuzzer) harnesses.

Never part of the default test run. Install atheris (``pip install atheris``), then:

    python tests/fuzz/atheris/fuzz_openpgp.py -atheris_runs=100000 CORPUS_DIR

Each harness seeds ``CORPUS_DIR`` (when empty) with the valid envelopes of
``tests/fuzz/strategies.py`` and feeds mutated inputs to one parser. The contract is
the fuzz suite's: only ``e2ee_mail.Error`` may come out, and a successful decryption
must give back the original plaintext. Any other exception crashes the run, and
libFuzzer saves the input.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import atheris  # noqa: E402

# Coverage feedback for the library only (instrumenting everything loaded, the
# email package included, takes minutes): import every e2ee_mail module under it.
with atheris.instrument_imports(include=["e2ee_mail"]):
    import importlib
    import pkgutil

    import e2ee_mail

    for _mod in pkgutil.walk_packages(e2ee_mail.__path__, "e2ee_mail."):
        try:
            importlib.import_module(_mod.name)
        except ImportError:  # optional dependencies (python-gnupg)
            continue

import strategies  # noqa: E402


def seed(corpus: Iterable[bytes]) -> None:
    """Write ``corpus`` into the first directory argument when it is empty."""
    dirs = [a for a in sys.argv[1:] if not a.startswith("-")]
    if not dirs:
        return
    target = Path(dirs[0])
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        return
    for i, blob in enumerate(corpus):
        (target / f"seed-{i:03d}").write_bytes(blob)


def run(one_input: Callable[[bytes], None], corpus: Iterable[bytes]) -> None:
    seed(corpus)
    os.environ.setdefault("PYTHONWARNINGS", "error")
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


__all__ = ["e2ee_mail", "run", "strategies"]
