"""The ``e2ee-mail`` command at 1 KiB, whole process, against the import floor.

Case ids ``cli.{fmt}.{op}.1KiB`` (``fmt`` openpgp or cms, ``op`` encrypt or
decrypt, one X25519 recipient, file to file). Every round runs, one after the
other, the bare floor, the job's floor and the command, so that the load of a
shared machine falls on all three alike; ``extra_info["paired_limit"]`` is the
job's floor (report.py divides by it), ``extra_info["floor_bare"]`` the bare one.

The floors (``python -c "import ..."`` in the same interpreter):

- bare: ``cryptography.hazmat.primitives.ciphers.aead``, the AEAD alone;
- the job's: what the least program doing the same work with `cryptography`
  imports. Both formats: AES-GCM, X25519 and the OpenSSL backend module that
  `cryptography` imports when it first makes an X25519 private key (the sender's
  ephemeral key, the recipient's key), HKDF and X9.63 KDF, SHA-2 (``hashlib``),
  AES key wrap. OpenPGP adds Ed25519 (a certificate's self-signatures are checked
  when it is loaded); CMS adds ``cryptography.x509`` (the recipient certificate,
  and the one in the key file) and, to decrypt, ``serialization`` (the PKCS#8
  key).

How an installed package runs: the command is a console script of pip's form in
a virtual environment of its own whose only ``.pth`` puts this checkout and the
dependencies on the path (the development environment's editable-install hook
imports ``pathlib``, ``re`` and more at every start, which would pad both the
floor and the command), with compiled bytecode (this environment sets
``PYTHONDONTWRITEBYTECODE``; without bytecode every start recompiles the package).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

import pytest
from _bench import KIB, payload, require_format

ROOT = Path(__file__).resolve().parent.parent
#: Each round runs the two floors and the command once; at least this many rounds.
ROUNDS = 30

BARE: tuple[str, ...] = ("cryptography.hazmat.primitives.ciphers.aead",)
_COMMON = (
    *BARE,
    "cryptography.hazmat.primitives.asymmetric.x25519",
    "cryptography.hazmat.backends.openssl.backend",
    "cryptography.hazmat.primitives.kdf.hkdf",
    "cryptography.hazmat.primitives.kdf.x963kdf",
    "cryptography.hazmat.primitives.keywrap",
    "hashlib",
)
#: (format, op) -> the modules of the job's floor (see the module docstring).
FLOORS: dict[tuple[str, str], tuple[str, ...]] = {
    ("openpgp", "encrypt"): (
        *_COMMON,
        "cryptography.hazmat.primitives.asymmetric.ed25519",
    ),
    ("openpgp", "decrypt"): (
        *_COMMON,
        "cryptography.hazmat.primitives.asymmetric.ed25519",
    ),
    ("cms", "encrypt"): (*_COMMON, "cryptography.x509"),
    ("cms", "decrypt"): (
        *_COMMON,
        "cryptography.x509",
        "cryptography.hazmat.primitives.serialization",
    ),
}
#: The key format each message format encrypts to.
KEY_FORMAT = {"openpgp": "openpgp", "cms": "x509"}

# pip's console-script template, as `pip install` writes bin/e2ee-mail.
_SCRIPT = """#!{python}
# -*- coding: utf-8 -*-
import re
import sys
from e2ee_mail.cli import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""


class Installed:
    """A virtual environment in which e2ee-mail runs as an installed command."""

    def __init__(self, base: Path) -> None:
        self.dir = base / "venv"
        self.work = base / "work"
        self.work.mkdir()
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(self.dir)],
            check=True,
            capture_output=True,
        )
        bindir = "Scripts" if os.name == "nt" else "bin"
        self.python = str(self.dir / bindir / Path(sys.executable).name)
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "PYTHONSTARTUP")
        }
        self.env["PYTHONPYCACHEPREFIX"] = str(base / "pycache")
        site = subprocess.run(
            [
                self.python,
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
            check=True,
            capture_output=True,
            text=True,
            env=self.env,
        ).stdout.strip()
        ours = sysconfig.get_paths()
        paths = dict.fromkeys([str(ROOT), ours["purelib"], ours["platlib"]])
        (Path(site) / "e2ee_mail_bench.pth").write_text("\n".join(paths) + "\n")
        self.script = self.dir / bindir / "e2ee-mail"
        self.script.write_text(_SCRIPT.format(python=self.python))
        self.script.chmod(0o755)
        where = self.run(
            [self.python, "-c", "import e2ee_mail; print(e2ee_mail.__file__)"]
        )
        assert Path(where.strip()).parent == ROOT / "e2ee_mail", where

    def run(self, argv: list[str]) -> str:
        done = subprocess.run(
            argv, cwd=self.work, env=self.env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise AssertionError(f"{argv} failed: {done.stderr.strip()}")
        return done.stdout

    def timed(self, argv: list[str]) -> float:
        start = time.perf_counter()
        self.run(argv)
        return time.perf_counter() - start

    def floor(self, modules: tuple[str, ...]) -> list[str]:
        return [self.python, "-c", "import " + ", ".join(modules)]

    def cli(self, *args: str) -> list[str]:
        return [str(self.script), *args]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    env = Installed(tmp_path_factory.mktemp("e2ee-cli"))
    (env.work / "plain").write_bytes(payload(KIB))
    for fmt, key_format in KEY_FORMAT.items():
        env.run(
            env.cli(
                "keygen",
                "--format",
                key_format,
                "--kind",
                "x25519",
                "--uid",
                f"Bench <bench-{fmt}@example.org>",
                "--out",
                fmt,
            )
        )
        env.run(
            env.cli(
                "encrypt",
                "--format",
                fmt,
                "--to",
                f"{fmt}.pub",
                "-i",
                "plain",
                "-o",
                f"{fmt}.msg",
            )
        )
    return env


def _stats(times: list[float]) -> dict[str, float]:
    return {"min": min(times), "median": statistics.median(times)}


@pytest.mark.parametrize("op", ["encrypt", "decrypt"])
@pytest.mark.parametrize("fmt", ["openpgp", "cms"])
def test_cli(
    benchmark: Any,
    request: pytest.FixtureRequest,
    installed: Installed,
    fmt: str,
    op: str,
) -> None:
    require_format(fmt)
    if op == "encrypt":
        args = ["encrypt", "--to", f"{fmt}.pub", "-i", "plain", "-o", f"{fmt}.out"]
    else:
        args = ["decrypt", "--key", f"{fmt}.key", "-i", f"{fmt}.msg", "-o", "opened"]
    command = installed.cli(*args)
    floors = {
        "bare": installed.floor(BARE),
        "job": installed.floor(FLOORS[fmt, op]),
    }
    times: dict[str, list[float]] = {"bare": [], "job": []}
    # Warm-up: the bytecode caches fill, and any failure shows before timing.
    for argv in (*floors.values(), command):
        installed.run(argv)

    def floors_first() -> None:
        # Alternate the floors' order from round to round: neither always runs
        # right after the command.
        order = ("bare", "job") if len(times["bare"]) % 2 == 0 else ("job", "bare")
        for name in order:
            times[name].append(installed.timed(floors[name]))

    seconds = float(request.config.getoption("--bench-seconds"))
    rounds = max(ROUNDS, round(100 * seconds))
    benchmark.group = "cli 1 KiB vs import floor"
    benchmark.extra_info.update(
        case=f"cli.{fmt}.{op}.1KiB",
        bytes=KIB,
        format=fmt,
        op=op,
        command="e2ee-mail " + " ".join(args),
        floor_imports=list(FLOORS[fmt, op]),
        bare_imports=list(BARE),
    )
    benchmark.pedantic(
        installed.run,
        args=(command,),
        setup=floors_first,
        rounds=rounds,
        iterations=1,
        warmup_rounds=0,
    )
    benchmark.extra_info["paired_limit"] = _stats(times["job"])
    benchmark.extra_info["floor_bare"] = _stats(times["bare"])
    if op == "decrypt":
        assert (installed.work / "opened").read_bytes() == payload(KIB)
    else:
        opened = installed.work / "check"
        installed.run(
            installed.cli(
                "decrypt", "--key", f"{fmt}.key", "-i", f"{fmt}.out", "-o", str(opened)
            )
        )
        assert opened.read_bytes() == payload(KIB)
