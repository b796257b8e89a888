"""A small harness around the real GnuPG 2.2 for interop tests.

Every home is a fresh temporary directory with a short path under /tmp (gpg-agent's
socket path has a length limit), driven non-interactively (--batch, loopback
pinentry), and its agent is killed when the home is closed. Nothing here touches the
user's own ~/.gnupg.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

_TIMEOUT = 120


class GpgFailed(RuntimeError):
    """gpg exited non-zero; carries stderr for the assertion message."""


@dataclass
class GpgHome:
    """One temporary GNUPGHOME."""

    path: str
    gpg: str = "gpg"

    # -- plumbing -----------------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["GNUPGHOME"] = self.path
        env.pop("GPG_AGENT_INFO", None)
        env["LC_ALL"] = "C"
        return env

    def run(
        self,
        args: Sequence[str],
        *,
        input: bytes | None = None,
        passphrase: str | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[bytes]:
        cmd = [
            self.gpg,
            "--homedir",
            self.path,
            "--batch",
            "--yes",
            "--no-tty",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            passphrase if passphrase is not None else "",
            *args,
        ]
        proc = subprocess.run(
            cmd,
            input=input,
            capture_output=True,
            env=self.env(),
            timeout=_TIMEOUT,
            check=False,
        )
        if check and proc.returncode != 0:
            raise GpgFailed(
                f"gpg {' '.join(args)} failed ({proc.returncode}):\n"
                + proc.stderr.decode("utf-8", "replace")
            )
        return proc

    def close(self) -> None:
        gpgconf = shutil.which("gpgconf")
        if gpgconf:
            subprocess.run(
                [gpgconf, "--homedir", self.path, "--kill", "all"],
                capture_output=True,
                env=self.env(),
                timeout=_TIMEOUT,
                check=False,
            )
        # The agent may still write (random_seed, trustlist) while it shuts down:
        # remove the home until it stays gone.
        for _ in range(50):
            shutil.rmtree(self.path, ignore_errors=True)
            time.sleep(0.02)
            if not os.path.exists(self.path):
                break

    # -- keys -----------------------------------------------------------------------
    def generate(self, uid: str, kind: str = "cv25519", passphrase: str = "") -> str:
        """Generate a key pair; returns the primary fingerprint.

        ``kind`` is "cv25519" (Ed25519 primary + cv25519 subkey) or "rsa3072"/"rsa4096"
        (RSA primary + RSA encryption subkey).
        """
        primary, sub = ("ed25519", "cv25519") if kind == "cv25519" else (kind, kind)
        self.run(
            ["--quick-gen-key", uid, primary, "cert,sign", "never"],
            passphrase=passphrase,
        )
        fpr = self.fingerprints(uid)[0]
        self.run(["--quick-add-key", fpr, sub, "encr", "never"], passphrase=passphrase)
        return fpr

    def fingerprints(self, query: str) -> list[str]:
        out = self.run(["--with-colons", "--list-keys", query]).stdout.decode()
        found: list[str] = []
        want = False
        for line in out.splitlines():
            fields = line.split(":")
            if fields[0] == "pub":
                want = True
            elif fields[0] == "sub":
                want = False
            elif fields[0] == "fpr" and want:
                found.append(fields[9])
                want = False
        return found

    def subkey_fingerprints(self, query: str) -> list[str]:
        out = self.run(["--with-colons", "--list-keys", query]).stdout.decode()
        found: list[str] = []
        in_sub = False
        for line in out.splitlines():
            fields = line.split(":")
            if fields[0] in ("pub", "sub"):
                in_sub = fields[0] == "sub"
            elif fields[0] == "fpr" and in_sub:
                found.append(fields[9])
        return found

    def export_public(self, fpr: str, *, armor: bool = True) -> bytes:
        return self.run([*(["--armor"] if armor else []), "--export", fpr]).stdout

    def export_secret(
        self, fpr: str, *, passphrase: str = "", armor: bool = True
    ) -> bytes:
        return self.run(
            [*(["--armor"] if armor else []), "--export-secret-keys", fpr],
            passphrase=passphrase,
        ).stdout

    def import_keys(self, data: bytes) -> None:
        self.run(["--import"], input=data)

    # -- messages -------------------------------------------------------------------
    def encrypt(
        self,
        data: bytes,
        recipients: Sequence[str],
        *,
        armor: bool = False,
        extra: Sequence[str] = (),
    ) -> bytes:
        args = ["--trust-model", "always", *(["--armor"] if armor else []), *extra]
        for r in recipients:
            args += ["--recipient", r]
        return self.run([*args, "--encrypt"], input=data).stdout

    def decrypt(self, data: bytes, *, passphrase: str = "") -> bytes:
        return self.run(["--decrypt"], input=data, passphrase=passphrase).stdout

    def session_key(self, data: bytes, *, passphrase: str = "") -> tuple[int, bytes]:
        """(cipher algorithm ID, session key) as ``--show-session-key`` reveals it."""
        proc = self.run(
            ["--show-session-key", "--decrypt"], input=data, passphrase=passphrase
        )
        m = re.search(rb"session key: '(\d+):([0-9A-Fa-f]+)'", proc.stderr)
        if not m:
            raise GpgFailed("no session key in gpg output:\n" + proc.stderr.decode())
        return int(m.group(1)), bytes.fromhex(m.group(2).decode())

    def list_packets(self, data: bytes, *, passphrase: str = "") -> str:
        proc = self.run(
            ["--list-packets"], input=data, passphrase=passphrase, check=False
        )
        return proc.stdout.decode("utf-8", "replace")


@contextlib.contextmanager
def gpg_home(gpg: str = "gpg") -> Iterator[GpgHome]:
    """A fresh temporary GNUPGHOME, its agent killed and files removed afterwards."""
    path = tempfile.mkdtemp(prefix="g", dir="/tmp")
    os.chmod(path, 0o700)
    with open(os.path.join(path, "gpg-agent.conf"), "w", encoding="ascii") as fh:
        fh.write("allow-loopback-pinentry\n")
    home = GpgHome(path, gpg)
    try:
        yield home
    finally:
        home.close()


def _new_length(data: bytes, i: int) -> tuple[int, int, bool]:
    """(length, header octets, partial?) of a new-format length at ``i``."""
    o = data[i]
    if o < 192:
        return o, 1, False
    if o < 224:
        return ((o - 192) << 8) + data[i + 1] + 192, 2, False
    if o == 255:
        return int.from_bytes(data[i + 1 : i + 5], "big"), 5, False
    return 1 << (o & 0x1F), 1, True


def split_packets(data: bytes) -> list[tuple[int, bytes]]:
    """Minimal OpenPGP packet splitter for tests (new and old headers, partial
    lengths): [(tag, body)]. Independent of the library's own codecs on purpose."""
    out: list[tuple[int, bytes]] = []
    i = 0
    while i < len(data):
        first = data[i]
        i += 1
        if first & 0x40:
            tag = first & 0x3F
            body = bytearray()
            while True:
                length, hl, partial = _new_length(data, i)
                i += hl
                body += data[i : i + length]
                i += length
                if not partial:
                    break
            out.append((tag, bytes(body)))
            continue
        tag = (first >> 2) & 0x0F
        lt = first & 3
        if lt == 3:
            length = len(data) - i
        else:
            n = (1, 2, 4)[lt]
            length = int.from_bytes(data[i : i + n], "big")
            i += n
        out.append((tag, data[i : i + length]))
        i += length
    return out


def dearmor(text: bytes) -> bytes:
    """Strip ASCII armor (test helper; ignores the CRC)."""
    import base64

    lines = text.decode("ascii").strip().splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("-----BEGIN"))
    body = lines[start + 1 :]
    blank = next(i for i, ln in enumerate(body) if not ln.strip())
    payload = [ln for ln in body[blank + 1 :] if not ln.startswith(("=", "-----END"))]
    return base64.b64decode("".join(payload))


def temp_dir() -> str:
    return tempfile.mkdtemp(prefix="e2ee-test-")
