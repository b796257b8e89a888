"""Turn a pytest-benchmark JSON into the table of ratios ours / limit.

    python benchmarks/report.py out.json [--peers peers.json]

Every benchmark carries ``extra_info["case"]`` (see benchmarks/_bench.py); ``limit.*``
cases are the baselines measured in the same run. A ratio is always "ours as a fraction
of the limit": throughput ratio for the bulk targets (>= goal), time ratio for the
per-message targets (<= goal). Missing cases (a format not landed, a peer absent) show
as "n/a" with the reason. Prints Markdown, so the output pastes into README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KIB = 1 << 10
MIB = 1 << 20
#: The statistic in use ("median" or "min"), set by main().
STAT = ["median"]
BULK_SIZES = ("16MiB", "256MiB")
SIZE_BYTES = {"1KiB": KIB, "64KiB": 64 * KIB, "1MiB": MIB, "16MiB": 16 * MIB}
SIZE_BYTES["256MiB"] = 256 * MIB
SIZE_BYTES["1GiB"] = 1024 * MIB


@dataclass(frozen=True)
class Result:
    """One benchmark: seconds per call (min or median) and what it processed."""

    case: str
    seconds: float
    nbytes: int
    info: dict[str, Any]

    @property
    def mbps(self) -> float:
        return self.nbytes / self.seconds / 1e6


@dataclass(frozen=True)
class Row:
    """One line of the targets table."""

    target: str
    case: str
    ours: str
    limit: str
    ratio: float | None
    goal: str
    met: bool | None
    note: str = ""


def load(path: Path, stat: str = "median") -> tuple[dict[str, Result], dict[str, Any]]:
    data = json.loads(path.read_text())
    results: dict[str, Result] = {}
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info", {})
        case = info.get("case")
        if not case:
            continue
        results[case] = Result(
            case, float(bench["stats"][stat]), int(info.get("bytes", 0)), info
        )
    return results, data.get("machine_info", {})


def fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} µs"


def fmt_mbps(mbps: float) -> str:
    return f"{mbps:,.0f} MB/s" if mbps >= 10 else f"{mbps:.2f} MB/s"


def paired(ours: Result | None, limit: Result | None, stat: str) -> Result | None:
    """The limit timed right next to ``ours`` when there is one, else ``limit``."""
    if ours is not None and "paired_limit" in ours.info:
        seconds = float(ours.info["paired_limit"][stat])
        name = f"{limit.case if limit else 'limit'} (paired)"
        return Result(name, seconds, ours.nbytes, {})
    return limit


def throughput_row(
    target: str,
    ours: Result | None,
    limit: Result | None,
    goal: float,
    *,
    ours_bytes: int | None = None,
    case: str = "",
    note: str = "",
) -> Row:
    """ours MB/s / limit MB/s >= goal (``ours_bytes`` overrides the bytes counted)."""
    if ours is None or limit is None:
        missing = case if ours is None else "its limit"
        return Row(
            target,
            case,
            "n/a",
            "n/a",
            None,
            f">= {goal}",
            None,
            f"{missing} not measured",
        )
    ours_mbps = (ours_bytes or ours.nbytes) / ours.seconds / 1e6
    ratio = ours_mbps / limit.mbps
    if limit.case.endswith("(paired)"):
        note = "; ".join(x for x in (note, "limit timed next to it") if x)
    return Row(
        target,
        ours.case,
        fmt_mbps(ours_mbps),
        fmt_mbps(limit.mbps),
        ratio,
        f">= {goal}",
        ratio >= goal,
        note,
    )


def time_row(
    target: str,
    ours: Result | None,
    limit_seconds: float | None,
    goal: float,
    *,
    case: str = "",
    note: str = "",
    limit_label: str = "",
) -> Row:
    """ours seconds / limit seconds <= goal (the limit timed next to ``ours``
    when there is one)."""
    if ours is not None and "paired_limit" in ours.info:
        limit_seconds = float(ours.info["paired_limit"][STAT[0]])
        note = "; ".join(x for x in (note, "limit timed next to it") if x)
    if ours is None or limit_seconds is None:
        missing = case if ours is None else "its limit"
        return Row(
            target,
            case,
            "n/a",
            "n/a",
            None,
            f"<= {goal}",
            None,
            f"{missing} not measured",
        )
    ratio = ours.seconds / limit_seconds
    return Row(
        target,
        ours.case,
        fmt_time(ours.seconds),
        limit_label or fmt_time(limit_seconds),
        ratio,
        f"<= {goal}",
        ratio <= goal,
        note,
    )


def encode_limit(
    r: dict[str, Result], line_length: int, crlf: bool, size: str
) -> Result | None:
    """The pybase64 encoding limit for the line shape the output actually has."""
    if line_length == 64:
        name = "lf64"
    elif crlf:
        name = "crlf76"
    else:
        name = "lf76"
    return r.get(f"limit.b64.encode.{name}.{size}")


def targets(
    r: dict[str, Result], peers: dict[str, Any] | None, stat: str = "median"
) -> list[Row]:
    rows: list[Row] = []
    # 16 MiB always (n/a when not run); 256 MiB when the run has it (--bench-huge).
    sizes = [
        s
        for s in BULK_SIZES
        if s == "16MiB" or any(case.endswith(f".{s}") for case in r)
    ]
    # 1. bytes API vs the fresh-buffer AEAD; 2. streams vs the reused-buffer file loop.
    for api, label, limit, goal in (
        ("bytes", "bytes API", "aead_fresh", 0.75),
        ("stream", "stream", "aead_file", 0.9),
    ):
        for fmt in ("openpgp", "cms"):
            for op in ("encrypt", "decrypt"):
                for s in sizes:
                    case = f"{fmt}.{api}.{op}.{s}"
                    ours = r.get(case)
                    rows.append(
                        throughput_row(
                            f"{label} {op}, {s}",
                            ours,
                            paired(ours, r.get(f"limit.{limit}.{op}.{s}"), stat),
                            goal,
                            case=case,
                        )
                    )
    # CMS decrypt_stream from a pipe (its ciphertext spooled) vs the same file loop;
    # the 256 MiB file and pipe rows are targets of their own, n/a without
    # --bench-huge.
    for s in sizes:
        case = f"cms.pipe.decrypt.{s}"
        ours = r.get(case)
        rows.append(
            throughput_row(
                f"stream decrypt from a pipe, {s}",
                ours,
                paired(ours, r.get(f"limit.aead_file.decrypt.{s}"), stat),
                0.9,
                case=case,
            )
        )
    if "256MiB" not in sizes:
        for case, label in (
            ("cms.stream.decrypt.256MiB", "stream decrypt, 256MiB"),
            ("cms.pipe.decrypt.256MiB", "stream decrypt from a pipe, 256MiB"),
        ):
            rows.append(
                Row(
                    label,
                    case,
                    "n/a",
                    "n/a",
                    None,
                    ">= 0.9",
                    None,
                    "256 MiB cases not run (pytest --bench-huge)",
                )
            )
    # 3. armored / S/MIME / PGP/MIME vs the encoding limit of the same line shape.
    for s in sizes:
        for api in ("bytes", "stream"):
            for op in ("encrypt", "decrypt"):
                case = f"openpgp-armor.{api}.{op}.{s}"
                ours = r.get(case)
                line = int(ours.info.get("line_length", 64)) if ours else 64
                limit = (
                    encode_limit(r, line, False, s)
                    if op == "encrypt"
                    else r.get(f"limit.b64.decode.lenient.{s}")
                )
                rows.append(
                    throughput_row(
                        f"armor {api} {op}, {s}",
                        ours,
                        paired(ours, limit, stat),
                        0.8,
                        case=case,
                        note=f"{line}-col lines" if ours else "",
                    )
                )
        for fmt in ("smime", "pgpmime"):
            for op in ("encrypt", "decrypt"):
                case = f"{fmt}.message.{op}.{s}"
                ours = r.get(case)
                line = int(ours.info.get("line_length", 76)) if ours else 76
                crlf = bool(ours.info.get("crlf", 1)) if ours else True
                limit = (
                    encode_limit(r, line, crlf, s)
                    if op == "encrypt"
                    else r.get(f"limit.b64.decode.lenient.{s}")
                )
                encoded = int(ours.info.get("encoded_bytes", 0)) if ours else None
                rows.append(
                    throughput_row(
                        f"{fmt} {op}, {s}",
                        ours,
                        limit,
                        0.8,
                        case=case,
                        ours_bytes=encoded or None,
                        note=(
                            f"{line}-col {'CRLF' if crlf else 'LF'}; MB/s of the "
                            "encoded blob"
                            if ours
                            else ""
                        ),
                    )
                )
    # 4. 1 KiB to one X25519 recipient vs one wrap + 1 KiB GCM.
    for fmt in ("openpgp", "cms"):
        for op in ("encrypt", "decrypt"):
            limit = r.get(f"limit.x25519_gcm.{op}.1KiB")
            case = f"{fmt}.bytes.{op}.1KiB"
            rows.append(
                time_row(
                    f"1 KiB, 1 X25519, {op}",
                    r.get(case),
                    limit.seconds if limit else None,
                    2.0,
                    case=case,
                    note=""
                    if op == "encrypt"
                    else "decrypt: the encrypt goal applied to decrypt",
                )
            )
    # 5. 100 recipients vs 100 wraps.
    for fmt in ("openpgp", "cms"):
        for alg in ("x25519", "rsa3072"):
            limit = r.get(f"limit.wraps100.{alg}")
            case = f"{fmt}.recip.{alg}.100.encrypt"
            note = (
                "limit: RSA-OAEP-SHA256"
                if alg == "rsa3072"
                else "limit: X25519+HKDF+KW"
            )
            rows.append(
                time_row(
                    f"100 recipients {alg}",
                    r.get(case),
                    limit.seconds if limit else None,
                    1.2,
                    case=case,
                    note=note,
                )
            )
    # 6. GnuPG (whole process, from peers.py) vs our stream API in-process.
    rows.extend(gnupg_rows(r, peers))
    # Signed messages vs the same operation unsigned plus one signature primitive.
    rows.extend(signature_rows(r))
    # Post-quantum recipients vs the same primitives with cryptography directly.
    rows.extend(pq_rows(r))
    # 7. Bulk re-key of a Maildir on disk vs the bare loop, 1 and 2 workers.
    rows.extend(rekey_rows(r, stat))
    # Stream peak RSS above an idle interpreter: bounded, and flat in the body size.
    rows.extend(memory_rows(peers))
    # The CLI at 1 KiB vs the import floor, timed round by round (bench_cli.py);
    # peers.py's figures only when the run has no CLI cases.
    measured = any(case.startswith("cli.") for case in r)
    if measured or not peers:
        rows.extend(cli_rows(r))
    else:
        floor = peer_time(peers, "python-import-floor", "cryptography", "start", 0)
        for op in ("encrypt", "decrypt"):
            seconds = peer_time(peers, "e2ee-mail-cli", "openpgp-x25519", op, KIB)
            if floor and seconds:
                ratio = seconds / floor
                rows.append(
                    Row(
                        f"CLI {op} 1 KiB vs import floor",
                        "e2ee-mail-cli",
                        fmt_time(seconds),
                        fmt_time(floor),
                        ratio,
                        "<= 1.5",
                        ratio <= 1.5,
                        "start-up target; whole process",
                    )
                )
    return rows


#: Size -> most that signing may add, as sign+encrypt (or decrypt+verify) over the
#: same operation unsigned plus one signature primitive over the same bytes.
SIGN_GOALS = {"1KiB": 1.5, "16MiB": 1.2}


def signature_rows(r: dict[str, Result]) -> list[Row]:
    """``encrypt(..., sign_with=)`` and ``decrypt(..., verify_with=)`` (bench_sign.py)
    over the limit timed next to each: the unsigned operation plus one hash of the
    body and one signature (or verification) over its digest."""
    rows: list[Row] = []
    for fmt in ("openpgp", "cms"):
        for op, label in (("encrypt", "sign+encrypt"), ("decrypt", "decrypt+verify")):
            for size, goal in SIGN_GOALS.items():
                case = f"{fmt}.sign.{op}.{size}"
                ours = r.get(case)
                kind = ours.info.get("primitive", "?") if ours else "?"
                rows.append(
                    time_row(
                        f"{fmt} {label}, {size}",
                        ours,
                        None,
                        goal,
                        case=case,
                        note=f"limit: {op} unsigned + one {kind} "
                        f"{'signature' if op == 'encrypt' else 'verification'}",
                    )
                )
    return rows


#: Post-quantum cases (bench_pq.py) -> (target, limit, goal). The wrap path and
#: whole messages: at most 1.2x the primitives; decrypt 1 KiB gets the goal of the
#: X25519 1 KiB rows (parsing and finding the key are not in its limit).
PQ_CASES = {
    "wrap": ("one PQ wrap", "encapsulation + KDF + AES-KW", 1.2),
    "unwrap": ("one PQ unwrap", "decapsulation + KDF + AES-KW unwrap", 1.2),
    "encrypt.1KiB.r1": ("PQ encrypt 1 KiB, 1 recipient", "1 wrap + GCM", 1.2),
    "encrypt.1KiB.r100": ("PQ encrypt 1 KiB, 100 recipients", "100 wraps + GCM", 1.2),
    "decrypt.1KiB": ("PQ decrypt 1 KiB", "1 unwrap + GCM open", 2.0),
}
#: fmt -> (post-quantum algorithm, its entry) in the size table.
PQ_ENTRIES = {
    "openpgp": ("ML-KEM-768+X25519 (35)", "PKESK v6"),
    "cms": ("ML-KEM-768", "KEMRecipientInfo"),
}


def pq_rows(r: dict[str, Result]) -> list[Row]:
    """ML-KEM recipients (bench_pq.py) over the primitives timed next to each."""
    rows: list[Row] = []
    for fmt, (alg, _) in PQ_ENTRIES.items():
        for suffix, (target, note, goal) in PQ_CASES.items():
            case = f"pq.{fmt}.{suffix}"
            rows.append(
                time_row(
                    f"{fmt} {target}",
                    r.get(case),
                    None,
                    goal,
                    case=case,
                    note=f"{alg}; limit: {note}, cryptography directly",
                )
            )
    return rows


def pq_size_lines(r: dict[str, Result]) -> list[str]:
    """Octets one more recipient adds to a message, post-quantum vs X25519, and
    1 KiB to one recipient in time (bench_pq.py)."""
    lines = [
        "| format | entry | octets per recipient | X25519 entry | ratio | "
        "1 KiB to 1, time | X25519, time |",
        "|---|---|---|---|---|---|---|",
    ]
    for fmt, (alg, entry) in PQ_ENTRIES.items():
        pq = r.get(f"pq.{fmt}.encrypt.1KiB.r1")
        classic = r.get(f"pq.{fmt}.x25519.encrypt.1KiB")
        pq_bytes = int(pq.info.get("entry_bytes", 0)) if pq else 0
        x_bytes = int(classic.info.get("entry_bytes", 0)) if classic else 0
        ratio = f"{pq_bytes / x_bytes:.1f}x" if pq_bytes and x_bytes else "n/a"
        lines.append(
            f"| {fmt} | {entry}, {alg} | {pq_bytes or 'n/a'} | {x_bytes or 'n/a'} | "
            f"{ratio} | {fmt_time(pq.seconds) if pq else 'n/a'} | "
            f"{fmt_time(classic.seconds) if classic else 'n/a'} |"
        )
    return lines


def mailbox_rate(ours: Result, stat: str) -> tuple[float, float, int] | None:
    """(our messages/s, the paired limit's messages/s, workers) of a mailbox case."""
    if "paired_limit" not in ours.info:
        return None
    messages = int(ours.info.get("messages", 0))
    limit_seconds = float(ours.info["paired_limit"][stat])
    workers = int(ours.info.get("workers", 1))
    return messages / ours.seconds, messages / limit_seconds, workers


def rekey_rows(r: dict[str, Result], stat: str) -> list[Row]:
    """``rewrap_mailbox`` of a Maildir on disk, messages/s against the bare loop
    (read, unwrap, wrap, fsync'd atomic write) over as many processes."""
    rows: list[Row] = []
    for fmt in ("pgpmime", "smime"):
        for workers in (1, 2):
            case = f"{fmt}.mailbox.disk.w{workers}"
            target = f"bulk re-key {fmt}, {workers} worker{'s' * (workers > 1)}"
            ours = r.get(case)
            rates = mailbox_rate(ours, stat) if ours else None
            if rates is None:
                rows.append(
                    Row(
                        target,
                        case,
                        "n/a",
                        "n/a",
                        None,
                        ">= 0.5",
                        None,
                        f"{case} not measured (benchmarks/bench_rewrap.py)",
                    )
                )
                continue
            mine, limit, n = rates
            note = "X25519; Maildir on disk; limit timed between the rounds"
            tmpfs = r.get(f"{fmt}.mailbox.tmpfs.w{workers}")
            cpu = mailbox_rate(tmpfs, stat) if tmpfs else None
            if cpu is not None:
                # No fsync cost on tmpfs: what is left is the CPU time per message.
                note += (
                    f"; tmpfs {cpu[0]:,.0f} vs {cpu[1]:,.0f} msg/s: "
                    f"{cpu[0] / cpu[1]:.2f}"
                )
            rows.append(
                Row(
                    target,
                    case,
                    f"{mine:,.0f} msg/s ({mine / n:,.0f}/core)",
                    f"{limit:,.0f} msg/s",
                    mine / limit,
                    ">= 0.5",
                    mine / limit >= 0.5,
                    note,
                )
            )
    return rows


def cli_rows(r: dict[str, Result]) -> list[Row]:
    """``e2ee-mail`` at 1 KiB over the job's import floor timed in the same rounds;
    the note gives the ratio to the bare AEAD import as well."""
    rows: list[Row] = []
    for fmt in ("openpgp", "cms"):
        for op in ("encrypt", "decrypt"):
            case = f"cli.{fmt}.{op}.1KiB"
            ours = r.get(case)
            bare = ours.info.get("floor_bare", {}).get(STAT[0]) if ours else None
            note = "whole process; floor: the job's imports (README)"
            if ours and bare:
                note += (
                    f"; bare AEAD import {fmt_time(bare)}: {ours.seconds / bare:.2f}x"
                )
            rows.append(
                time_row(
                    f"CLI {fmt} {op} 1 KiB vs import floor",
                    ours,
                    None,
                    1.5,
                    case=case,
                    note=note,
                )
            )
    return rows


def peer_time(
    peers: dict[str, Any], peer: str, variant: str, op: str, n: int
) -> float | None:
    for entry in peers.get("results", []):
        if (entry["peer"], entry["variant"], entry["op"], entry["bytes"]) == (
            peer,
            variant,
            op,
            n,
        ):
            return float(entry["seconds"])
    return None


def memory_rows(peers: dict[str, Any] | None) -> list[Row]:
    rows: list[Row] = []
    if not peers:
        return rows
    found: dict[tuple[str, str], dict[int, float]] = {}
    for m in peers.get("memory", []):
        above = (m["peak_kib"] - m["base_kib"]) / 1024
        found.setdefault((m["format"], m["op"]), {})[m["bytes"]] = above
        size = next((k for k, v in SIZE_BYTES.items() if v == m["bytes"]), "?")
        rows.append(
            Row(
                f"stream RSS {m['format']} {m['op']}, {size}",
                "peers.py rss",
                f"+{above:.1f} MiB",
                "64 MiB",
                above / 64,
                "<= 64 MiB",
                above <= 64,
                f"peak {m['peak_kib'] / 1024:.1f} MiB",
            )
        )
    for (fmt, op), by_size in found.items():
        if len(by_size) >= 2:
            small, big = by_size[min(by_size)], by_size[max(by_size)]
            sizes = [
                next((k for k, v in SIZE_BYTES.items() if v == n), str(n))
                for n in (min(by_size), max(by_size))
            ]
            rows.append(
                Row(
                    f"stream RSS {fmt} {op}: {sizes[0]} vs {sizes[1]}",
                    "peers.py rss",
                    f"{big - small:+.1f} MiB",
                    "8 MiB",
                    None,
                    "within 8 MiB",
                    abs(big - small) <= 8,
                    f"{small:.1f} vs {big:.1f} MiB above idle",
                )
            )
    return rows


def gnupg_rows(r: dict[str, Result], peers: dict[str, Any] | None) -> list[Row]:
    rows: list[Row] = []
    if peers is None:
        return [
            Row(
                "faster than GnuPG",
                "",
                "n/a",
                "n/a",
                None,
                ">= 1 (10 at 16 MiB)",
                None,
                "no --peers file: run benchmarks/peers.py",
            )
        ]
    if "gpg" in peers.get("skipped", {}):
        return [
            Row(
                "faster than GnuPG",
                "",
                "n/a",
                "n/a",
                None,
                ">= 1",
                None,
                f"gpg skipped: {peers['skipped']['gpg']}",
            )
        ]
    for op in ("encrypt", "decrypt"):
        for size, n in SIZE_BYTES.items():
            gpg = peer_time(peers, "gpg", "compress-none", op, n)
            if gpg is None:
                continue
            goal = 10.0 if n >= 16 * MIB else 1.0
            for api in ("stream", "bytes"):
                case = f"openpgp.{api}.{op}.{size}"
                ours = r.get(case)
                target = f"vs gpg {op}, {size} ({api} API)"
                if ours is None:
                    rows.append(
                        Row(
                            target,
                            case,
                            "n/a",
                            fmt_time(gpg),
                            None,
                            f">= {goal:g}",
                            None,
                            f"{case} not measured",
                        )
                    )
                    continue
                speedup = gpg / ours.seconds
                rows.append(
                    Row(
                        target,
                        case,
                        fmt_time(ours.seconds),
                        fmt_time(gpg),
                        speedup,
                        f">= {goal:g}",
                        speedup >= goal,
                        "gpg time / ours; gpg: whole process, --compress-algo none",
                    )
                )
            ceiling = r.get(f"limit.aead_file.{op}.{size}")
            if ceiling is not None and n >= 16 * MIB:
                rows.append(
                    Row(
                        f"(ceiling) AEAD file loop vs gpg {op}, {size}",
                        f"limit.aead_file.{op}.{size}",
                        fmt_time(ceiling.seconds),
                        fmt_time(gpg),
                        gpg / ceiling.seconds,
                        "info",
                        None,
                        "the best any in-process stream can do here",
                    )
                )
    return rows


def _asn1_rows(r: dict[str, Result]) -> list[str]:
    """bench_asn1.py: the CMS recipient side per message, read and written."""
    out: list[str] = []

    def times(cases: list[tuple[str, str]]) -> str:
        return ", ".join(
            f"{label} {fmt_time(r[case].seconds)}" for case, label in cases if case in r
        )

    for n in (1, 10, 100):
        p = f"info.asn1.parse.{{}}.{{}}.{n}"
        parse = times(
            [
                (p.format("door", "fast"), "door"),
                (p.format("reference", "fast"), "reference"),
                (p.format("door", "declined"), "door with one declined entry"),
            ]
        )
        build = times(
            [
                (f"info.asn1.build.{w}.{n}", w)
                for w in ("hand", "reference", "pyasn1", "asn1crypto")
            ]
        )
        frame = times(
            [
                (f"info.asn1.frame.{k}.{s}.{n}", f"{k} {s}")
                for k in ("auth", "legacy")
                for s in ("fast", "declined")
            ]
        )
        for what, value in (
            ("read", parse),
            ("written", build),
            ("framed (1 KiB body)", frame),
        ):
            if value:
                out.append(
                    f"| CMS RecipientInfos, {n} mixed entries, {what} | {value} |"
                )
    oaep = r.get("info.asn1.oaep.reference")
    if oaep:
        out.append(
            f"| RSAES-OAEP-params read by the general reader | "
            f"{fmt_time(oaep.seconds)} |"
        )
    return out


def info_rows(r: dict[str, Result]) -> list[str]:
    """The investigations: GIL, X25519 engine, base64, rewrap, per-recipient cost."""
    out: list[str] = []

    def line(label: str, value: str) -> None:
        out.append(f"| {label} | {value} |")

    for work, label in (
        ("aead", "AESGCM.encrypt_into"),
        ("sha256", "hashlib.sha256 (control)"),
    ):
        one, two = (
            r.get(f"info.gil.{work}.threads1"),
            r.get(f"info.gil.{work}.threads2"),
        )
        if one and two:
            line(
                f"GIL: {label}, 8 x 4 MiB, 1 vs 2 threads",
                f"{fmt_mbps(one.mbps)} vs {fmt_mbps(two.mbps)} "
                f"({two.mbps / one.mbps:.2f}x)",
            )
    stall = r.get("info.gil.stall")
    if stall and "aead_stall" in stall.info:
        i = stall.info
        line(
            "GIL: longest pause of a Python thread during one 32 MiB encrypt_into "
            "(vs during GIL-holding bytes.count)",
            f"{fmt_time(i['aead_stall'])} of a {fmt_time(i['aead_call'])} call (vs "
            f"{fmt_time(i['held_stall'])} of {fmt_time(i['held_call'])})",
        )
    for size in BULK_SIZES:
        pipe = r.get(f"cms.pipe.decrypt.{size}")
        loop = paired(pipe, r.get(f"limit.aead_file.decrypt.{size}"), "median")
        if pipe and loop:
            line(
                f"CMS decrypt_stream {size} from a pipe into a file (the ciphertext "
                "spooled) vs the AEAD file loop",
                f"{fmt_mbps(pipe.mbps)} vs {fmt_mbps(loop.mbps)}: "
                f"{pipe.mbps / loop.mbps:.2f}x",
            )
    for op in ("encrypt", "decrypt"):
        t1 = r.get(f"info.seipdv2_threads1.{op}.16MiB")
        t2 = r.get(f"info.seipdv2_threads2.{op}.16MiB")
        if t1 and t2:
            ratio = t1.seconds / t2.seconds
            line(
                f"SEIPDv2 16 MiB {op} (bytes API), library's 2 threads vs forced 1 "
                "(target >= 1.7x)",
                f"{fmt_mbps(t2.mbps)} vs {fmt_mbps(t1.mbps)}: {ratio:.2f}x, "
                f"{'met' if ratio >= 1.7 else 'MISSED'}",
            )
    for case, what in (
        ("info.x25519_agree", "X25519 keygen+exchange"),
        ("limit.x25519_wrap", "X25519 wrap (keygen+exchange+HKDF+AES-KW)"),
    ):
        c, n = r.get(f"{case}.cryptography"), r.get(f"{case}.pynacl")
        if c and n:
            line(
                f"{what}: cryptography vs PyNaCl",
                f"{fmt_time(c.seconds)} vs {fmt_time(n.seconds)} "
                f"(PyNaCl {c.seconds / n.seconds:.2f}x faster)",
            )
    u = r.get("limit.x25519_unwrap.cryptography")
    if u:
        line("X25519 unwrap (exchange+HKDF+AES-KW)", fmt_time(u.seconds))
    w, d = r.get("limit.rsa3072_wrap"), r.get("limit.rsa3072_unwrap")
    if w and d:
        line(
            "RSA-3072 OAEP wrap / unwrap",
            f"{fmt_time(w.seconds)} / {fmt_time(d.seconds)}",
        )
    for size in ("16MiB", "256MiB"):
        names = [
            ("limit.b64.encode.lf76", "pybase64.encodebytes (76 LF)"),
            ("limit.b64.encode.crlf76", "pybase64.encodebytes + LF->CRLF (76 CRLF)"),
            ("limit.b64.encode.lf64", "pybase64.b64encode + line views join (64 LF)"),
            ("info.b64.encode.lf64-split", "pybase64.b64encode + split/join (64 LF)"),
            (
                "info.b64.encode.crlf76-split",
                "pybase64.b64encode + split/join (76 CRLF)",
            ),
            ("info.b64.encode.crlf76-stdlib", "stdlib base64.encodebytes + LF->CRLF"),
            (
                "info.b64.encode.lf64-stdlib",
                "stdlib encodebytes per 48-byte line (64 LF)",
            ),
            ("limit.b64.decode.lenient", "decode: pybase64.b64decode(validate=False)"),
            ("info.b64.decode.strict", "decode: translate + pybase64 validate=True"),
            ("info.b64.decode.stdlib", "decode: stdlib base64.b64decode"),
        ]
        for case, label in names:
            res = r.get(f"{case}.{size}")
            if res:
                line(f"base64 {size}: {label}", fmt_mbps(res.mbps))
    copy = r.get("info.copy.16MiB")
    if copy:
        line("one extra full copy of 16 MiB (bytes(bytearray))", fmt_time(copy.seconds))
    for chunk in ("64KiB", "1MiB", "4MiB"):
        res = r.get(f"info.aead_reused.{chunk}")
        if res:
            line(
                f"AES-256-GCM reused buffers, {chunk} chunks (engine speed)",
                fmt_mbps(res.mbps),
            )
    for fmt in ("pgpmime", "smime"):
        for where in ("disk", "tmpfs"):
            one, two = (
                r.get(f"{fmt}.mailbox.{where}.w1"),
                r.get(f"{fmt}.mailbox.{where}.w2"),
            )
            if one and two:
                line(
                    f"{fmt} mailbox re-key on {where}, 1 vs 2 workers (messages/s; "
                    "the bare loop's in brackets)",
                    " vs ".join(
                        f"{mine:,.0f} ({limit:,.0f})"
                        for mine, limit, _ in filter(
                            None, (mailbox_rate(x, STAT[0]) for x in (one, two))
                        )
                    )
                    + f": {one.seconds / two.seconds:.2f}x",
                )
        tmpfs = r.get(f"{fmt}.mailbox.tmpfs.w1")
        rates = mailbox_rate(tmpfs, STAT[0]) if tmpfs else None
        if tmpfs and rates:
            line(
                f"{fmt} mailbox re-key on tmpfs (no fsync cost), 1 worker, vs the "
                "bare loop",
                f"{rates[0]:,.0f} vs {rates[1]:,.0f} msg/s: {rates[0] / rates[1]:.2f}",
            )
    for fmt in ("openpgp", "cms"):
        small, big = r.get(f"{fmt}.rewrap.1KiB"), r.get(f"{fmt}.rewrap.16MiB")
        dec = r.get(f"{fmt}.bytes.decrypt.16MiB")
        if small and big:
            extra = f"; decrypt 16 MiB {fmt_time(dec.seconds)}" if dec else ""
            line(
                f"{fmt} rewrap 1 KiB vs 16 MiB (O(1) means equal)",
                f"{fmt_time(small.seconds)} vs {fmt_time(big.seconds)}{extra}",
            )
        for alg in ("x25519", "rsa3072"):
            a, b = (
                r.get(f"{fmt}.recip.{alg}.1.encrypt"),
                r.get(f"{fmt}.recip.{alg}.100.encrypt"),
            )
            wrap = r.get(
                "limit.x25519_wrap.cryptography"
                if alg == "x25519"
                else "limit.rsa3072_wrap"
            )
            if a and b:
                per = (b.seconds - a.seconds) / 99
                ref = f" (one raw wrap {fmt_time(wrap.seconds)})" if wrap else ""
                line(f"{fmt} {alg}: cost per extra recipient", f"{fmt_time(per)}{ref}")
            a, b = (
                r.get(f"{fmt}.recip.{alg}.1.decrypt"),
                r.get(f"{fmt}.recip.{alg}.100.decrypt"),
            )
            if a and b:
                line(
                    f"{fmt} {alg}: decrypt 1 KiB with 1 vs 100 recipients",
                    f"{fmt_time(a.seconds)} vs {fmt_time(b.seconds)}",
                )
    out += _asn1_rows(r)
    for fmt in ("smime", "pgpmime"):
        enc, dec = (
            r.get(f"{fmt}.message.encrypt.16MiB"),
            # Opening includes reading the attachment, as the stdlib round trip does.
            r.get(f"{fmt}.message.open.16MiB") or r.get(f"{fmt}.message.decrypt.16MiB"),
        )
        build = r.get(f"{fmt}.message.build.1MiB")
        enc1 = r.get(f"{fmt}.message.encrypt.1MiB")
        stdlib = r.get("limit.email_roundtrip.16MiB")
        if enc and dec and stdlib:
            ratio = stdlib.seconds / (enc.seconds + dec.seconds)
            verdict = "met" if ratio >= 5 else "MISSED"
            line(
                f"{fmt} 16 MiB encrypt + decrypt and read the attachment vs stdlib "
                "email round trip (target >= 5x)",
                f"{fmt_time(enc.seconds + dec.seconds)} vs {fmt_time(stdlib.seconds)}: "
                f"{ratio:.2f}x, {verdict}",
            )
        if build and enc1:
            line(
                f"{fmt} 1 MiB encrypt_message alone vs + as_bytes()",
                f"{fmt_time(build.seconds)} vs {fmt_time(enc1.seconds)}",
            )
        for op in ("encrypt", "decrypt"):
            streamed = r.get(f"{fmt}.stream.{op}.16MiB")
            in_memory = r.get(f"{fmt}.message.{op}.16MiB")
            if streamed and in_memory:
                line(
                    f"{fmt} 16 MiB {op}: stream API file to file (bounded memory) "
                    "vs message API in memory",
                    f"{fmt_time(streamed.seconds)} vs {fmt_time(in_memory.seconds)}",
                )
    for case in (
        "openpgp-armor.bytes.encrypt.16MiB",
        "openpgp-armor.bytes.decrypt.16MiB",
        "openpgp-armor.stream.encrypt.16MiB",
        "openpgp-armor.stream.decrypt.16MiB",
        "smime.message.encrypt.16MiB",
        "smime.message.decrypt.16MiB",
        "pgpmime.message.encrypt.16MiB",
        "pgpmime.message.decrypt.16MiB",
        "smime.message.open.16MiB",
        "pgpmime.message.open.16MiB",
    ):
        floor = work_floor(r, case)
        if floor is not None:
            seconds, ours = floor
            line(
                f"{case}: vs its two limits added (AEAD into a fresh buffer, or "
                "file to file for a stream, + base64 of the same blob)",
                f"{fmt_time(ours.seconds)} vs {fmt_time(seconds)}: "
                f"{seconds / ours.seconds:.2f}",
            )
            inner = ours.info.get("inner_decode", {}).get(STAT[0])
            if inner:
                # Opening also decodes the attachment's own base64 layer.
                both = seconds + float(inner)
                line(
                    f"{case}: vs the work no implementation avoids (the limits "
                    "above + the lenient decode of the attachment's base64); the "
                    "best ratio the single-layer floor allows",
                    f"{fmt_time(ours.seconds)} vs {fmt_time(both)}: "
                    f"{both / ours.seconds:.2f}; {seconds / both:.2f}",
                )
    return out


def work_floor(r: dict[str, Result], case: str) -> tuple[float, Result] | None:
    """(seconds, ours): the AEAD limit (file to file for a stream) plus the base64
    limit over the blob ``case`` carries. The target compares with the base64 limit
    alone, which an encrypting format cannot reach: it also runs the AEAD over the
    same bytes."""
    ours = r.get(case)
    if ours is None:
        return None
    fmt, api, op, size = case.split(".")
    if api == "message" and "paired_limit" in ours.info:
        # bench_mime.py times this floor itself, next to the case.
        return float(ours.info["paired_limit"][STAT[0]]), ours
    kind = "aead_file" if api == "stream" else "aead_fresh"
    aead = r.get(f"limit.{kind}.{op}.{size}")
    line_length = int(ours.info.get("line_length", 64 if "pgp" in fmt else 76))
    b64 = (
        encode_limit(r, line_length, bool(ours.info.get("crlf", 0)), size)
        if op == "encrypt"
        else r.get(f"limit.b64.decode.lenient.{size}")
    )
    if aead is None or b64 is None:
        return None
    blob = int(ours.info.get("encoded_bytes") or ours.nbytes)
    per_byte = aead.seconds / aead.nbytes + b64.seconds / b64.nbytes
    return blob * per_byte, ours


def peer_table(r: dict[str, Result], peers: dict[str, Any]) -> list[str]:
    out = [
        "| peer | variant | op | size | peer time | peer MB/s "
        "| ours (same op, stream API) | ours / peer speed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ours_fmt = {
        "gpg": "openpgp",
        "openpgp.js": "openpgp",
        "openssl-cms": "cms",
        "e2ee-mail-cli": "openpgp",
    }
    for e in peers.get("results", []):
        size = next(
            (s for s, n in SIZE_BYTES.items() if n == e["bytes"]), str(e["bytes"])
        )
        fmt = ours_fmt.get(e["peer"], "openpgp")
        if e["variant"] == "armor":
            fmt = "openpgp-armor"
        ours = r.get(f"{fmt}.stream.{e['op']}.{size}")
        speed = f"{e['seconds'] / ours.seconds:.1f}x" if ours else "n/a"
        out.append(
            f"| {e['peer']} | {e['variant']} | {e['op']} | {size} "
            f"| {fmt_time(e['seconds'])} | "
            f"{fmt_mbps(e['bytes'] / e['seconds'] / 1e6)} | "
            f"{fmt_time(ours.seconds) if ours else 'n/a'} | {speed} |"
        )
    for peer, reason in peers.get("skipped", {}).items():
        out.append(f"| {peer} | skipped: {reason} | | | | | | |")
    return out


def machine_lines(machine: dict[str, Any], peers: dict[str, Any] | None) -> list[str]:
    extra = machine.get("e2ee_mail", {})
    cpu = machine.get("cpu", {})
    lines = [
        f"- machine: {cpu.get('brand_raw', '?')}, {cpu.get('count', '?')} cores, "
        f"{machine.get('system', '')} {machine.get('release', '')}",
        f"- Python {machine.get('python_version', '?')}, cryptography "
        f"{extra.get('cryptography', '?')} ({extra.get('openssl', '?')}), PyNaCl "
        f"{extra.get('pynacl', '?')}, pybase64 {extra.get('pybase64', '?')}",
        f"- e2ee_mail commit {extra.get('commit', '?')}; load average at start "
        f"{extra.get('loadavg', '?')}",
    ]
    if peers:
        versions = ", ".join(f"{k} {v}" for k, v in peers.get("versions", {}).items())
        lines.append(f"- peers: {versions}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", type=Path, help="pytest --benchmark-json output")
    parser.add_argument(
        "--peers", type=Path, help="JSON written by benchmarks/peers.py"
    )
    parser.add_argument("--all", action="store_true", help="also list every case")
    parser.add_argument(
        "--stat",
        choices=("min", "median"),
        default="median",
        help="statistic per case (default median; min shows the least disturbed "
        "round, but file writes are bimodal here and min picks the lucky ones)",
    )
    args = parser.parse_args(argv)
    STAT[0] = args.stat
    results, machine = load(args.json, args.stat)
    peers = json.loads(args.peers.read_text()) if args.peers else None

    print(f"## Targets (ratio = ours / limit, same run; {args.stat} of the rounds)\n")
    print("\n".join(machine_lines(machine, peers)))
    print()
    print("| target | case | ours | limit | ratio | goal | status | note |")
    print("|---|---|---|---|---|---|---|---|")
    met = missed = 0
    for row in targets(results, peers, args.stat):
        status = "n/a" if row.met is None else ("met" if row.met else "**MISSED**")
        met += row.met is True
        missed += row.met is False
        ratio = "n/a" if row.ratio is None else f"{row.ratio:.2f}"
        print(
            f"| {row.target} | {row.case} | {row.ours} | {row.limit} | {ratio} | "
            f"{row.goal} | {status} | {row.note} |"
        )
    print(f"\n{met} met, {missed} missed.\n")
    if any(case.startswith("pq.") for case in results):
        print("## Post-quantum recipients: size per recipient\n")
        print("\n".join(pq_size_lines(results)))
        print()
    print("## Investigations\n")
    print("| measurement | result |")
    print("|---|---|")
    print("\n".join(info_rows(results)))
    if peers:
        print("\n## Peers (whole process unless noted; ours in-process)\n")
        print("\n".join(peer_table(results, peers)))
    if args.all:
        print("\n## Every case\n")
        print("| case | median | MB/s |")
        print("|---|---|---|")
        for res in sorted(results.values(), key=lambda x: x.case):
            print(f"| {res.case} | {fmt_time(res.seconds)} | {fmt_mbps(res.mbps)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
