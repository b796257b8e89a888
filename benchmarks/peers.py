"""Time the peers on the same sizes, for benchmarks/report.py --peers.

    python benchmarks/peers.py -o peers.json [--huge] [--rounds N]

- GnuPG (the ``gpg`` CLI in a temporary GNUPGHOME; Curve25519 key, "future-default"):
  encrypt with ``--compress-algo none``, with its default compression, and armored;
  decrypt. Whole process, file to file.
- ``openssl cms -encrypt -aes-256-gcm -stream`` / ``-decrypt`` to an RSA-3072
  certificate (OpenSSL 3.0 cannot encrypt CMS to X25519). Whole process, file to file.
- OpenPGP.js v6 (benchmarks/openpgpjs_bench.mjs, resolved from
  tests/interop/node/node_modules, which scripts/test installs): in-process, v6 X25519
  key, SEIPDv2 AES-256-GCM, binary.
- Our own CLI (``e2ee-mail encrypt/decrypt --format openpgp``), whole process, so the
  gpg comparison can also be read process to process.
- Our streams' peak RSS (``encrypt_stream``/``decrypt_stream`` at 16 and 256 MiB, and
  1 GiB with ``--huge``, each in a fresh interpreter; openpgp binary and armored, cms,
  and smime/pgpmime mail with an attachment of that size; the target: at most 64 MiB
  above idle, equal within 8 MiB).

A peer that is missing is skipped with the reason (in the JSON too). Every peer's round
trip is checked once; timings are medians of ``--rounds`` runs after one warm-up.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "tests" / "interop" / "node" / "node_modules"
KIB = 1 << 10
MIB = 1 << 20
SIZES = (KIB, 64 * KIB, MIB, 16 * MIB)
HUGE = 256 * MIB


class PeerError(Exception):
    """A peer is missing or failed; the peer is skipped with this reason."""


def run(cmd: list[str], env: dict[str, str] | None = None) -> None:
    done = subprocess.run(cmd, capture_output=True, env=env, check=False)
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip().splitlines()
        raise PeerError(
            f"{Path(cmd[0]).name} failed: {err[-1] if err else done.returncode}"
        )


def timed(fn: Callable[[], None], rounds: int) -> float:
    """Median wall time of ``rounds`` calls after one warm-up."""
    fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def rounds_for(n: int, base: int) -> int:
    return base if n <= MIB else max(3, base // 2) if n <= 16 * MIB else 3


def same(a: Path, b: Path) -> None:
    if a.read_bytes() != b.read_bytes():
        raise PeerError(f"round trip through the peer changed {a.name}")


def version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
    except OSError:
        return "?"
    return out.strip().splitlines()[0] if out.strip() else "?"


class Bench:
    def __init__(self, work: Path, sizes: list[int], rounds: int) -> None:
        self.work = work
        self.sizes = sizes
        self.rounds = rounds
        self.results: list[dict[str, Any]] = []
        self.skipped: dict[str, str] = {}
        self.versions: dict[str, str] = {}
        self.memory: list[dict[str, Any]] = []
        self.rss_sizes: tuple[int, ...] = RSS_SIZES
        for n in sizes:
            path = self.plain(n)
            if not path.exists():
                path.write_bytes(os.urandom(n))

    def plain(self, n: int) -> Path:
        return self.work / f"plain-{n}"

    def record(
        self, peer: str, variant: str, op: str, n: int, seconds: float, mode: str
    ) -> None:
        self.results.append(
            {
                "peer": peer,
                "variant": variant,
                "op": op,
                "bytes": n,
                "seconds": seconds,
                "mode": mode,
            }
        )
        print(
            f"  {peer:14} {variant:14} {op:8} {n:>10} B  {seconds * 1e3:9.2f} ms",
            file=sys.stderr,
        )

    def attempt(self, peer: str, fn: Callable[[], None]) -> None:
        print(f"{peer}:", file=sys.stderr)
        try:
            fn()
        except (PeerError, OSError) as exc:
            self.skipped[peer] = str(exc)
            print(f"  skipped: {exc}", file=sys.stderr)

    # --- GnuPG ------------------------------------------------------------------------

    def gpg(self) -> None:
        gpg = shutil.which("gpg")
        if gpg is None:
            raise PeerError("gpg is not on PATH")
        self.versions["gpg"] = version([gpg, "--version"])
        home = self.work / "gnupg"
        home.mkdir(mode=0o700)
        env = dict(os.environ, GNUPGHOME=str(home))
        base = [
            gpg,
            "--batch",
            "--yes",
            "--quiet",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
        ]
        try:
            run(
                [
                    *base,
                    "--quick-gen-key",
                    "Bench <bench@example.org>",
                    "future-default",
                    "default",
                    "never",
                ],
                env,
            )
            enc = [*base, "--trust-model", "always", "-r", "bench@example.org"]
            variants = {
                "compress-none": ["--compress-algo", "none"],
                "compress-default": [],
                "armor": ["--compress-algo", "none", "--armor"],
            }
            for n in self.sizes:
                src = self.plain(n)
                for variant, extra in variants.items():
                    out = self.work / f"gpg-{variant}-{n}"
                    cmd = [*enc, *extra, "-o", str(out), "-e", str(src)]
                    self.record(
                        "gpg",
                        variant,
                        "encrypt",
                        n,
                        timed(
                            lambda cmd=cmd: run(cmd, env), rounds_for(n, self.rounds)
                        ),
                        "process",
                    )
                    opened = self.work / f"gpg-opened-{n}"
                    dec = [*base, "-o", str(opened), "-d", str(out)]
                    run(dec, env)
                    same(src, opened)
                    if variant == "compress-none":
                        self.record(
                            "gpg",
                            variant,
                            "decrypt",
                            n,
                            timed(
                                lambda dec=dec: run(dec, env),
                                rounds_for(n, self.rounds),
                            ),
                            "process",
                        )
        finally:
            gpgconf = shutil.which("gpgconf")
            if gpgconf:
                subprocess.run(
                    [gpgconf, "--kill", "all"],
                    env=env,
                    capture_output=True,
                    check=False,
                )

    # --- OpenSSL ----------------------------------------------------------------------

    def openssl(self) -> None:
        openssl = shutil.which("openssl")
        if openssl is None:
            raise PeerError("openssl is not on PATH")
        self.versions["openssl"] = version([openssl, "version"])
        key, cert = self.work / "ossl.key", self.work / "ossl.pem"
        run(
            [
                openssl,
                "req",
                "-x509",
                "-newkey",
                "rsa:3072",
                "-nodes",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-subj",
                "/CN=bench",
                "-days",
                "2",
            ]
        )
        for n in self.sizes:
            src = self.plain(n)
            out, opened = self.work / f"ossl-{n}.der", self.work / f"ossl-opened-{n}"
            enc = [
                openssl,
                "cms",
                "-encrypt",
                "-binary",
                "-aes-256-gcm",
                "-stream",
                "-outform",
                "DER",
                "-in",
                str(src),
                "-out",
                str(out),
                str(cert),
            ]
            dec = [
                openssl,
                "cms",
                "-decrypt",
                "-binary",
                "-inform",
                "DER",
                "-in",
                str(out),
                "-inkey",
                str(key),
                "-recip",
                str(cert),
                "-out",
                str(opened),
            ]
            self.record(
                "openssl-cms",
                "rsa3072-gcm",
                "encrypt",
                n,
                timed(lambda enc=enc: run(enc), rounds_for(n, self.rounds)),
                "process",
            )
            self.record(
                "openssl-cms",
                "rsa3072-gcm",
                "decrypt",
                n,
                timed(lambda dec=dec: run(dec), rounds_for(n, self.rounds)),
                "process",
            )
            same(src, opened)

    # --- OpenPGP.js -------------------------------------------------------------------

    def openpgpjs(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise PeerError("node is not on PATH")
        if not (NODE_MODULES / "openpgp").is_dir():
            raise PeerError(
                "OpenPGP.js is not installed: run scripts/test (npm install)"
            )
        script = Path(__file__).with_name("openpgpjs_bench.mjs")
        done = subprocess.run(
            [
                node,
                str(script),
                str(NODE_MODULES),
                str(self.rounds),
                *(str(n) for n in self.sizes),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            tail = done.stderr.strip().splitlines()
            raise PeerError(f"openpgpjs_bench.mjs failed: {tail[-1] if tail else '?'}")
        data = json.loads(done.stdout)
        self.versions["openpgp.js"] = (
            f"{data['version']} (node {version([node, '--version'])})"
        )
        for entry in data["results"]:
            self.record(
                "openpgp.js",
                "v6-x25519-gcm",
                entry["op"],
                entry["bytes"],
                float(entry["seconds"]),
                "in-process",
            )

    # --- our CLI ----------------------------------------------------------------------

    def cli(self) -> None:
        exe = Path(sys.executable).with_name("e2ee-mail")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "e2ee_mail.cli"]
        prefix = self.work / "me"
        # As an installed package runs: with compiled bytecode (an editable install
        # under PYTHONDONTWRITEBYTECODE=1 would recompile every module on every
        # start, about 65 ms here). The warm-up run of timed() fills the cache.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(self.work / "pycache")
        run(
            [
                *cmd,
                "keygen",
                "--format",
                "openpgp",
                "--kind",
                "x25519",
                "--uid",
                "Bench <bench@example.org>",
                "--out",
                str(prefix),
            ],
            env,
        )
        pub, key = f"{prefix}.pub", f"{prefix}.key"
        for n in self.sizes:
            src = self.plain(n)
            out, opened = self.work / f"cli-{n}.pgp", self.work / f"cli-opened-{n}"
            enc = [
                *cmd,
                "encrypt",
                "--format",
                "openpgp",
                "--to",
                pub,
                "-i",
                str(src),
                "-o",
                str(out),
            ]
            dec = [*cmd, "decrypt", "--key", key, "-i", str(out), "-o", str(opened)]
            self.record(
                "e2ee-mail-cli",
                "openpgp-x25519",
                "encrypt",
                n,
                timed(lambda enc=enc: run(enc, env), rounds_for(n, self.rounds)),
                "process",
            )
            self.record(
                "e2ee-mail-cli",
                "openpgp-x25519",
                "decrypt",
                n,
                timed(lambda dec=dec: run(dec, env), rounds_for(n, self.rounds)),
                "process",
            )
            same(src, opened)
        floor = [
            sys.executable,
            "-c",
            "import cryptography.hazmat.primitives.ciphers.aead",
        ]
        self.record(
            "python-import-floor",
            "cryptography",
            "start",
            0,
            timed(lambda: run(floor, env), self.rounds),
            "process",
        )

    # --- our streams' peak memory ---------------------------------------------------

    def rss(self) -> None:
        """Peak RSS of encrypt_stream / decrypt_stream, each in a fresh interpreter,
        above that interpreter's RSS once e2ee_mail and the key are loaded; for the
        bodies (openpgp binary and armored, cms) and the mail formats (smime,
        pgpmime: a mail whose attachment has the size)."""
        import e2ee_mail

        keys: dict[str, Path] = {}
        for key_format in ("openpgp", "x509"):
            key = e2ee_mail.generate_key(
                "Bench <bench@example.org>",
                format=key_format,  # type: ignore[arg-type]
            )
            keys[key_format] = self.work / f"rss-{key_format}.key"
            keys[key_format].write_bytes(key.export())
        for fmt, key_format in RSS_FORMATS:
            for n in self.rss_sizes:
                src = self._rss_source(n, mail=fmt in ("smime", "pgpmime"))
                sealed = self.work / f"rss-{fmt}-{n}"
                opened = self.work / f"rss-{fmt}-opened-{n}"
                for op, a, b in (("encrypt", src, sealed), ("decrypt", sealed, opened)):
                    base, peak = self._rss_run(fmt, op, a, b, keys[key_format])
                    self.memory.append(
                        {
                            "format": fmt,
                            "op": op,
                            "bytes": n,
                            "base_kib": base,
                            "peak_kib": peak,
                        }
                    )
                    print(
                        f"  {fmt:13} {op:8} {n:>10} B  peak {peak / 1024:7.1f} MiB, "
                        f"+{(peak - base) / 1024:6.1f} MiB above idle",
                        file=sys.stderr,
                    )
                same_body(src, opened)
                opened.unlink()
                sealed.unlink()

    def _rss_source(self, n: int, *, mail: bool) -> Path:
        """n random octets; or a mail (CRLF) with an n-octet base64 attachment."""
        src = self.work / f"rss-{'mail' if mail else 'plain'}-{n}"
        if src.exists():
            return src
        with src.open("wb") as fh:
            if mail:
                fh.write(RSS_MAIL_HEAD)
            for _ in range(n // MIB):
                block = os.urandom(MIB)
                fh.write(
                    base64.encodebytes(block).replace(b"\n", b"\r\n") if mail else block
                )
            if mail:
                fh.write(b"\r\n--b0--\r\n")
        return src

    def _rss_run(
        self, fmt: str, op: str, src: Path, dst: Path, key: Path
    ) -> tuple[int, int]:
        done = subprocess.run(
            [sys.executable, "-c", RSS_SCRIPT, fmt, op, str(src), str(dst), str(key)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            tail = done.stderr.strip().splitlines()
            raise PeerError(f"rss {fmt} {op}: {tail[-1] if tail else '?'}")
        base, peak = (int(x) for x in done.stdout.split())
        return base, peak


def same_body(a: Path, b: Path) -> None:
    """The files are equal after their header blocks (a mail's header fields are
    rewritten by decryption; a body file has none: compared whole)."""
    with a.open("rb") as fa, b.open("rb") as fb:
        head_a, head_b = fa.read(1 << 16), fb.read(1 << 16)
        if head_a.startswith(RSS_MAIL_HEAD[:5]):
            skip_a = head_a.index(b"\r\n\r\n") + 4
            skip_b = head_b.index(b"\r\n\r\n") + 4
            fa.seek(skip_a)
            fb.seek(skip_b)
        else:
            fa.seek(0)
            fb.seek(0)
        while True:
            x, y = fa.read(MIB), fb.read(MIB)
            if x != y:
                raise PeerError(f"round trip changed {a.name}")
            if not x:
                return


RSS_SIZES = (16 * MIB, 256 * MIB)
GIB = 1024 * MIB
RSS_FORMATS = (
    ("openpgp", "openpgp"),
    ("openpgp-armor", "openpgp"),
    ("cms", "x509"),
    ("smime", "x509"),
    ("pgpmime", "openpgp"),
)
RSS_MAIL_HEAD = (
    b"From: bench@example.org\r\nTo: bench@example.org\r\nSubject: RSS\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
    b"--b0\r\nContent-Type: application/octet-stream\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n"
)
RSS_SCRIPT = """
import sys
import e2ee_mail

def hwm_kib():
    # VmHWM: this image's peak RSS (ru_maxrss would carry the parent's over exec).
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc/self/status")

fmt, op, src, dst, key_path = sys.argv[1:6]
key = e2ee_mail.load_key(key_path)
base = hwm_kib()
with open(src, "rb") as s, open(dst, "wb") as d:
    if op == "encrypt":
        armor = fmt == "openpgp-armor"
        fmt = "openpgp" if armor else fmt
        e2ee_mail.encrypt_stream(s, d, [key.public], format=fmt, armor=armor)
    else:
        e2ee_mail.decrypt_stream(s, d, key)
print(base, hwm_kib())
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=Path("peers.json"))
    parser.add_argument(
        "--huge", action="store_true", help="add 256 MiB (and 1 GiB to the RSS runs)"
    )
    parser.add_argument("--rounds", type=int, default=7, help="rounds for small sizes")
    parser.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="peers to run: gpg openssl openpgp.js e2ee-mail-cli e2ee-mail-rss",
    )
    args = parser.parse_args(argv)
    sizes = list(SIZES) + ([HUGE] if args.huge else [])
    with tempfile.TemporaryDirectory(prefix="e2ee-peers-") as tmp:
        bench = Bench(Path(tmp), sizes, args.rounds)
        bench.rss_sizes = RSS_SIZES + ((GIB,) if args.huge else ())
        peers = {
            "gpg": bench.gpg,
            "openssl-cms": bench.openssl,
            "openpgp.js": bench.openpgpjs,
            "e2ee-mail-cli": bench.cli,
            "e2ee-mail-rss": bench.rss,
        }
        for name, fn in peers.items():
            if (
                args.only is None
                or name in args.only
                or name.split("-")[0] in args.only
            ):
                bench.attempt(name, fn)
    args.output.write_text(
        json.dumps(
            {
                "results": bench.results,
                "skipped": bench.skipped,
                "versions": bench.versions,
                "memory": bench.memory,
            },
            indent=1,
        )
    )
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
