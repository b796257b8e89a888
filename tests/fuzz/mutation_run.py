"""The volume fuzzer's inner loop, run in worker processes (test_mutation_fuzz.py).

A worker loads every seed once (keys included), caps its own address space, then runs
tasks: a block of random mutations of one format, every truncation of one seed, or the
minimization of a crashing input. For each input it calls the targets in-process and
applies the contract:

- only ``e2ee_mail.Error`` may come out; any other exception is a crash, recorded with
  its signature (type and innermost library frame) and the input in base64;
- a decryption that succeeds gives back exactly the seed's plaintext (or a spliced-in
  donor's, whose ciphertext the input then carries); a stream that fails has written a
  prefix of it at most;
- per input, CPU time above a multiple of the seed's own cost is counted as a slow
  outlier (reported, never asserted: timing on shared machines is noise), a peak-RSS
  rise is recorded with the input that caused it, and a hang guard turns an input that
  runs for a minute into a crash with its base64.

Tallies are plain data so they cross the process boundary; the test merges them in
submission order, so the report does not depend on scheduling.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import io
import random
import resource
import signal
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import mutation_seeds as ms
from mutate import Material, mutate

import e2ee_mail

#: Inputs per random task (a unit of work for the pool and of reproduction).
BLOCK = 1000
#: Seeds up to this size (and their binary, for text seeds) are truncated at every
#: length; larger ones get random truncations only.
SWEEP_MAX = 4096
#: Fraction of inputs that also go through these targets (cost-bounded).
RATES: dict[str, dict[str, float]] = {
    "openpgp-v6": {"decrypt_stream": 0.1},
    "smime": {"inspect": 0.25},
    "pgpmime": {"inspect": 0.1, "decrypt_stream": 0.05},
}
#: Fraction of loads of a protected key given its passphrase (each one runs the
#: key's Argon2 / iterated S2K / PBKDF2, 0.5-650 ms); the others stop at the
#: missing passphrase after the whole key is parsed.
PASSPHRASE_RATE = 0.0005
#: Fraction of successfully loaded mutated keys that must then decrypt their message
#: to the original plaintext or fail.
KEY_USE_RATE = 0.05
#: An input slower than this multiple of its seed's own cost is a slow outlier...
SLOW_FACTOR = 20.0
#: ... and than this many CPU seconds.
SLOW_FLOOR = 0.02
#: ... or, when a protected key was given its passphrase, than this many (the key's
#: own KDF costs up to 0.7 s here).
KDF_BUDGET = 3.0
#: An input still running after this many seconds is a hang (a crash).
HANG_SECONDS = 60.0
#: Address space a worker may add after setup: far above what these small inputs
#: need, low enough that an allocation from a hostile length fails fast.
HEADROOM_BYTES = 768 << 20

#: Known crashes, waiting for library fixes: (target, exception type name, a part of
#: the innermost library file). The test marks a format xfail when these are all it
#: found; anything else fails it.
KNOWN_CRASHES: tuple[tuple[str, str, str], ...] = ()


#: Parent side: format -> (merged tally, wall seconds), for the terminal summary.
RESULTS: dict[str, tuple[Tally, float]] = {}


class InputHang(BaseException):
    """Raised by the hang guard inside a target (a BaseException, so that no
    ``except Exception`` in the library can swallow it)."""


@dataclasses.dataclass
class Finding:
    """A crash or a broken contract, with the smallest input seen for it."""

    signature: str
    target: str
    seed: str
    key: str
    detail: str
    input_b64: str
    ops: str
    passphrase: bool = False
    count: int = 1

    def absorb(self, other: Finding) -> None:
        self.count += other.count
        if len(other.input_b64) < len(self.input_b64):
            count = self.count
            self.__dict__.update(other.__dict__)
            self.count = count

    @property
    def known(self) -> bool:
        return is_known(self.target, self.signature)


def is_known(target: str, sig: str) -> bool:
    """Whether ``sig`` (see :func:`signature`) from ``target`` is a known crash."""
    return any(
        target == t and sig.startswith(e + " ") and f in sig
        for t, e, f in KNOWN_CRASHES
    )


@dataclasses.dataclass
class Tally:
    """What one task (or, merged, one format) did."""

    fmt: str
    inputs: int = 0
    calls: collections.Counter[str] = dataclasses.field(
        default_factory=collections.Counter
    )
    outcomes: collections.Counter[str] = dataclasses.field(
        default_factory=collections.Counter
    )
    crashes: dict[str, Finding] = dataclasses.field(default_factory=dict)
    violations: dict[str, Finding] = dataclasses.field(default_factory=dict)
    slow: int = 0
    slowest: list[tuple[float, float, str, str, str]] = dataclasses.field(
        default_factory=list
    )
    cpu: float = 0.0
    target_cpu: dict[str, float] = dataclasses.field(default_factory=dict)
    rss_rise_kib: int = 0
    rss_input: str = ""

    def merge(self, other: Tally) -> None:
        self.inputs += other.inputs
        self.calls.update(other.calls)
        self.outcomes.update(other.outcomes)
        for mine, theirs in (
            (self.crashes, other.crashes),
            (self.violations, other.violations),
        ):
            for sig, f in theirs.items():
                if sig in mine:
                    mine[sig].absorb(f)
                else:
                    mine[sig] = f
        self.slow += other.slow
        self.slowest = sorted(self.slowest + other.slowest, reverse=True)[:3]
        self.cpu += other.cpu
        for target, spent in other.target_cpu.items():
            self.target_cpu[target] = self.target_cpu.get(target, 0.0) + spent
        if other.rss_rise_kib > self.rss_rise_kib:
            self.rss_rise_kib, self.rss_input = other.rss_rise_kib, other.rss_input


# --------------------------------------------------------------- live seeds


@dataclasses.dataclass(frozen=True)
class Live:
    """A seed with its key loaded and its own cost per target measured."""

    raw: ms.RawSeed
    key: e2ee_mail.SecretKey | None
    stream_expected: bytes | None
    baseline: dict[str, float]
    message: Live | None  # for a key seed: a message its key opens

    @property
    def key_ref(self) -> str:
        if self.raw.key:
            return f"vectors/keys/{self.raw.key}"
        if self.raw.key_text:
            return f"the key in the vector file of {self.raw.name}"
        return "-"


_STATE: dict[str, Any] = {}


def _load_key(raw: ms.RawSeed) -> e2ee_mail.SecretKey | None:
    if raw.key:
        return e2ee_mail.load_key(ms.KEYS / raw.key)
    if raw.key_text:
        return e2ee_mail.load_key(raw.key_text, passphrase=raw.key_passphrase)
    return None


def _family(name: str) -> str:
    """``pgp6-x25519`` for every file of that key (.sec.asc, .pub.pgp, ...)."""
    return name.split(".", 1)[0]


def init_worker(headroom: int = HEADROOM_BYTES) -> None:
    """Pool initializer: warnings are errors (as in the suite), seeds are loaded and
    checked, then the address space is capped."""
    warnings.simplefilter("error")
    keys: dict[object, e2ee_mail.SecretKey | None] = {}
    table: dict[str, tuple[Live, ...]] = {}
    messages: list[Live] = []
    raw_table = ms.raw_seeds()
    for fmt in ms.FORMATS:
        lives: list[Live] = []
        for raw in raw_table[fmt]:
            ref = raw.key or raw.key_text
            if ref not in keys:
                keys[ref] = _load_key(raw)
            live = Live(raw, keys[ref], None, {}, None)
            live = dataclasses.replace(live, stream_expected=_stream_expected(live))
            lives.append(live)
            if raw.kind == "message":
                messages.append(live)
        table[fmt] = tuple(lives)
    # Key seeds: the message their key opens, for the "a mutated key that loads
    # opens nothing else" check.
    for fmt in ("openpgp-key", "pkcs8-key"):
        table[fmt] = tuple(
            dataclasses.replace(live, message=_message_for(live.raw, messages))
            for live in table[fmt]
        )
    for fmt, measured in table.items():
        table[fmt] = tuple(
            dataclasses.replace(live, baseline=_baseline(live)) for live in measured
        )
    _STATE["table"] = table
    _STATE["rss0"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with Path("/proc/self/status").open() as fh:
        vm = next(int(x.split()[1]) << 10 for x in fh if x.startswith("VmSize"))
    limit = vm + headroom
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    _STATE["started"] = None
    signal.signal(signal.SIGALRM, _on_tick)
    signal.setitimer(signal.ITIMER_REAL, 1.0, 1.0)


def _on_tick(signum: int, frame: FrameType | None) -> None:
    started = _STATE.get("started")
    if started is not None and time.monotonic() - started > HANG_SECONDS:
        _STATE["started"] = None
        raise InputHang(f"still running after {HANG_SECONDS:.0f} s")


def _message_for(raw: ms.RawSeed, messages: list[Live]) -> Live | None:
    for m in messages:
        if m.raw.expected is None:
            continue
        if m.raw.key and _family(m.raw.key) == _family(raw.name):
            return m
        if m.raw.key_text and m.raw.key_text == raw.data:
            return m
    return None


def _stream_expected(live: Live) -> bytes | None:
    """What decrypt_stream writes for the unmutated seed (for mails: the decrypted
    mail with CRLF line ends, which the bytes API does not give)."""
    rates = RATES.get(live.raw.fmt, {})
    if "decrypt_stream" not in rates or live.raw.expected is None:
        return None
    out = io.BytesIO()
    e2ee_mail.decrypt_stream(io.BytesIO(live.raw.data), out, live.key)  # type: ignore[arg-type]
    return out.getvalue()


def _baseline(live: Live) -> dict[str, float]:
    """CPU seconds of each target on the unmutated seed (the best of three), which
    also checks that every seed opens to what it should."""
    out: dict[str, float] = {}
    runs = 3 if live.raw.weight >= ms.CHEAP else 1
    for target in _targets(live):
        best = float("inf")
        for _ in range(runs):
            t0 = time.process_time()
            try:
                problem = _call(target, live, live.raw.data, (), False, False)
            except e2ee_mail.PassphraseError:
                problem = None if live.raw.passphrase else "needs a passphrase"
            except e2ee_mail.PolicyError:
                # Legacy CBC: refused under the default policy, as it must be.
                problem = None if live.raw.expected is None else "refused"
            best = min(best, time.process_time() - t0)
            assert problem is None, f"seed {live.raw.name}: {target}: {problem}"
        out[target] = best
    return out


def _targets(live: Live) -> tuple[str, ...]:
    kind = live.raw.kind
    rates = RATES.get(live.raw.fmt, {})
    if kind == "message":
        base: tuple[str, ...] = ("decrypt", "inspect")
    elif kind == "mail":
        base = ("decrypt_message", "inspect")
    elif kind == "cert":
        base = ("load_certificate",)
    else:
        base = ("load_key",)
    extra = tuple(t for t in rates if t not in base)
    return base + extra


# ------------------------------------------------------------------ targets


def _call(
    target: str,
    live: Live,
    data: bytes,
    donors: tuple[Live, ...],
    passphrase: bool,
    use_key: bool,
) -> str | None:
    """Run one target on ``data``; None when the outcome honours the contract, else
    a description of what broke it. e2ee_mail.Error is an allowed outcome (raised
    through); any other exception propagates to the caller.

    ``passphrase``: give a protected key its passphrase. ``use_key``: a key that
    loaded must then open its seed's message to the original plaintext or fail.
    """
    raw = live.raw
    allowed = [raw.expected] + [d.raw.expected for d in donors]
    if target == "decrypt":
        out = bytes(e2ee_mail.decrypt(data, live.key))  # type: ignore[arg-type]
        return None if out in allowed else _other(out)
    if target == "inspect":
        result = e2ee_mail.inspect(data)
        return None if isinstance(result, e2ee_mail.Inspection) else repr(result)
    if target == "decrypt_message":
        from e2ee_mail.mime.wire import to_bytes

        out = to_bytes(e2ee_mail.decrypt_message(data, live.key))  # type: ignore[arg-type]
        return None if out in allowed else _other(out)
    if target == "decrypt_stream":
        allowed_stream = [live.stream_expected] + [d.stream_expected for d in donors]
        dst = io.BytesIO()
        try:
            e2ee_mail.decrypt_stream(io.BytesIO(data), dst, live.key)  # type: ignore[arg-type]
        except e2ee_mail.Error:
            # What a failed stream released must be authenticated: a prefix of
            # what the seed (or a donor) streams.
            got = dst.getvalue()
            if not any(a is not None and a.startswith(got) for a in allowed_stream):
                return (
                    f"a failed stream released {len(got)} octets that are not a "
                    "prefix of the plaintext"
                )
            raise
        got = dst.getvalue()
        return None if got in allowed_stream else _other(got)
    if target == "load_certificate":
        cert = e2ee_mail.load_certificate(data)
        return None if isinstance(cert, e2ee_mail.Certificate) else repr(cert)
    if target == "load_key":
        key = e2ee_mail.load_key(
            data, passphrase=raw.passphrase if passphrase else None
        )
        if not isinstance(key, e2ee_mail.SecretKey):
            return repr(key)
        if use_key and live.message is not None:
            return _opens_only_its_plaintext(key, live.message)
        return None
    raise AssertionError(target)


def _other(out: bytes) -> str:
    return f"a mutated message opened to {len(out)} octets that are not its plaintext"


def _opens_only_its_plaintext(key: e2ee_mail.SecretKey, message: Live) -> str | None:
    try:
        out = bytes(e2ee_mail.decrypt(message.raw.data, key))
    except e2ee_mail.Error:
        return None
    if out != message.raw.expected:
        return f"a mutated key that loaded opened {message.raw.name} to other plaintext"
    return None


def signature(exc: BaseException) -> str:
    """``Type at file:function``: the exception type and its innermost frame inside
    e2ee_mail (or the innermost frame, when none is)."""
    frames = list(traceback.walk_tb(exc.__traceback__))
    where = "?"
    for frame, _ in reversed(frames):
        path = frame.f_code.co_filename
        if "/e2ee_mail/" in path:
            where = path[path.rindex("/e2ee_mail/") + 1 :] + ":" + frame.f_code.co_name
            break
    else:
        if frames:
            f = frames[-1][0].f_code
            where = f"{Path(f.co_filename).name}:{f.co_name}"
    return f"{type(exc).__name__} at {where}"


def _short(exc: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text[:300]


# -------------------------------------------------------------------- tasks


def _rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class _Runner:
    def __init__(self, fmt: str) -> None:
        self.tally = Tally(fmt)
        self.rss = _rss()
        self.rss0: int = _STATE["rss0"]

    def one(
        self,
        live: Live,
        data: bytes,
        donors: tuple[Live, ...],
        ops: str,
        rng: random.Random,
    ) -> None:
        tally = self.tally
        tally.inputs += 1
        rates = RATES.get(live.raw.fmt, {})
        for target in _targets(live):
            rate = rates.get(target, 1.0)
            if rate < 1.0 and rng.random() >= rate:
                continue
            passphrase = use_key = False
            if target == "load_key":
                passphrase = (
                    live.raw.passphrase is not None and rng.random() < PASSPHRASE_RATE
                )
                use_key = rng.random() < KEY_USE_RATE
            self._run(target, live, data, donors, ops, passphrase, use_key)

    def _run(
        self,
        target: str,
        live: Live,
        data: bytes,
        donors: tuple[Live, ...],
        ops: str,
        passphrase: bool,
        use_key: bool,
    ) -> None:
        tally = self.tally
        tally.calls[target] += 1
        t0 = time.process_time()
        _STATE["started"] = time.monotonic()
        try:
            problem = _call(target, live, data, donors, passphrase, use_key)
            outcome = "loaded" if target.startswith("load") else "opened"
            if target == "inspect":
                outcome = "described"
        except e2ee_mail.Error as exc:
            problem, outcome = None, type(exc).__name__
        except (Exception, InputHang) as exc:
            problem, outcome = None, "crash"
            self._record(
                tally.crashes,
                signature(exc),
                target,
                live,
                data,
                ops,
                _short(exc),
                passphrase,
            )
        finally:
            _STATE["started"] = None
        spent = time.process_time() - t0
        tally.target_cpu[target] = tally.target_cpu.get(target, 0.0) + spent
        tally.outcomes[f"{target}:{outcome}"] += 1
        if problem is not None:
            self._record(
                tally.violations,
                f"{target}: {problem}",
                target,
                live,
                data,
                ops,
                problem,
                passphrase,
            )
        budget = max(
            SLOW_FACTOR * live.baseline.get(target, 0.0),
            KDF_BUDGET if passphrase else SLOW_FLOOR,
        )
        if spent > budget:
            tally.slow += 1
            entry = (
                spent,
                spent / max(live.baseline.get(target, 0.0), 1e-6),
                f"{target} on {live.raw.name}",
                _b64(data),
                ops,
            )
            tally.slowest = sorted([*tally.slowest, entry], reverse=True)[:3]
        rss = _rss()
        if rss > self.rss:
            if rss - self.rss0 > tally.rss_rise_kib:
                tally.rss_rise_kib = rss - self.rss0
                tally.rss_input = f"{target} on {live.raw.name}: {_b64(data)[:120]}"
            self.rss = rss

    def _record(
        self,
        into: dict[str, Finding],
        sig: str,
        target: str,
        live: Live,
        data: bytes,
        ops: str,
        detail: str,
        passphrase: bool,
    ) -> None:
        found = Finding(
            sig,
            target,
            live.raw.name,
            live.key_ref,
            detail,
            _b64(data),
            ops,
            passphrase,
        )
        if sig in into:
            into[sig].absorb(found)
        else:
            into[sig] = found


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _weights(lives: tuple[Live, ...]) -> list[float]:
    total = 0.0
    out = []
    for live in lives:
        total += live.raw.weight
        out.append(total)
    return out


def _donors(lives: tuple[Live, ...]) -> tuple[Material, ...]:
    return tuple(live.raw.material for live in lives)


def run_random(fmt: str, block: int, count: int, rng_seed: int) -> Tally:
    """``count`` random mutations of the seeds of ``fmt``; the inputs depend only
    on (rng_seed, fmt, block)."""
    lives: tuple[Live, ...] = _STATE["table"][fmt]
    cum = _weights(lives)
    donors = _donors(lives)
    rng = random.Random(f"{rng_seed}/{fmt}/{block}")
    runner = _Runner(fmt)
    t0 = time.process_time()
    for _ in range(count):
        live = rng.choices(lives, cum_weights=cum)[0]
        data, used, ops = mutate(rng, live.raw.material, donors)
        runner.one(live, data, tuple(lives[k] for k in used), ops, rng)
    runner.tally.cpu = time.process_time() - t0
    return runner.tally


def truncations(fmt: str) -> list[tuple[int, str, int]]:
    """(seed index, "data" | "binary", length) of the every-length sweep of ``fmt``:
    every prefix of each cheap seed up to SWEEP_MAX octets and, for a text seed, of
    its binary re-encoded."""
    out = []
    for i, raw in enumerate(ms.raw_seeds()[fmt]):
        if raw.weight < ms.CHEAP:
            continue
        if len(raw.data) <= SWEEP_MAX:
            out += [(i, "data", n) for n in range(len(raw.data))]
        m = raw.material
        if m.template is not None and len(m.binary) <= SWEEP_MAX:
            out += [(i, "binary", n) for n in range(len(m.binary))]
    return out


def run_truncations(
    fmt: str, items: list[tuple[int, str, int]], rng_seed: int
) -> Tally:
    lives: tuple[Live, ...] = _STATE["table"][fmt]
    rng = random.Random(f"{rng_seed}/{fmt}/truncate/{items[0] if items else ''}")
    runner = _Runner(fmt)
    t0 = time.process_time()
    for i, what, n in items:
        live = lives[i]
        m = live.raw.material
        if what == "data":
            data = m.data[:n]
        else:
            assert m.template is not None
            data = m.template.encode(m.binary[:n])
        runner.one(live, data, (), f"truncate-{what}@{n}", rng)
    runner.tally.cpu = time.process_time() - t0
    return runner.tally


def minimize(
    fmt: str, seed_name: str, target: str, input_b64: str, sig: str, passphrase: bool
) -> str:
    """A smaller input with the same crash signature (chunk removal, bounded)."""
    lives: tuple[Live, ...] = _STATE["table"][fmt]
    live = next(x for x in lives if x.raw.name == seed_name)
    data = base64.b64decode(input_b64)

    def same(candidate: bytes) -> bool:
        try:
            _call(target, live, candidate, (), passphrase, True)
        except e2ee_mail.Error:
            return False
        except Exception as exc:
            return signature(exc) == sig
        return False

    budget = 4000
    n = max(1, len(data) // 2)
    while n >= 1 and budget > 0:
        i = 0
        changed = False
        while i < len(data) and budget > 0:
            candidate = data[:i] + data[i + n :]
            budget -= 1
            if candidate and same(candidate):
                data = candidate
                changed = True
            else:
                i += n
        if not changed:
            n //= 2
    return _b64(data)


def reproduce(
    target: str, key_file: str | None, passphrase: str | None, input_b64: str
) -> str | None:
    """The crash signature of one recorded input, or None when only an
    e2ee_mail.Error (or a result) comes out."""
    data = base64.b64decode(input_b64)
    key = e2ee_mail.load_key(ms.KEYS / key_file) if key_file else None
    secret = passphrase.encode() if passphrase else None
    try:
        if target == "decrypt":
            e2ee_mail.decrypt(data, key)  # type: ignore[arg-type]
        elif target == "decrypt_message":
            e2ee_mail.decrypt_message(data, key)  # type: ignore[arg-type]
        elif target == "decrypt_stream":
            e2ee_mail.decrypt_stream(io.BytesIO(data), io.BytesIO(), key)  # type: ignore[arg-type]
        elif target == "inspect":
            e2ee_mail.inspect(data)
        elif target == "load_certificate":
            e2ee_mail.load_certificate(data)
        else:
            e2ee_mail.load_key(data, passphrase=secret)
    except e2ee_mail.Error:
        return None
    except Exception as exc:
        return signature(exc)
    return None


def run_task(task: tuple[Any, ...]) -> Any:
    """Entry point for the pool. Tasks: ("random", fmt, block, count, rng_seed),
    ("truncate", fmt, items, rng_seed),
    ("minimize", fmt, seed, target, b64, signature, passphrase) and
    ("reproduce", target, key file, passphrase, b64)."""
    kind, *args = task
    if kind == "random":
        return run_random(*args)
    if kind == "truncate":
        return run_truncations(*args)
    if kind == "minimize":
        return minimize(*args)
    if kind == "reproduce":
        return reproduce(*args)
    raise AssertionError(kind)


def plan(fmt: str, total: int, rng_seed: int) -> Iterator[tuple[Any, ...]]:
    """The tasks of one format: the truncation sweep, then random blocks up to
    ``total`` inputs in all."""
    sweep = truncations(fmt)
    if len(sweep) > total // 2:
        sweep = sweep[:: -(-len(sweep) // (total // 2))] if total >= 2 else []
    for i in range(0, len(sweep), BLOCK):
        yield ("truncate", fmt, sweep[i : i + BLOCK], rng_seed)
    rest = total - len(sweep)
    block = 0
    while rest > 0:
        n = min(BLOCK, rest)
        yield ("random", fmt, block, n, rng_seed)
        rest -= n
        block += 1


def summary(section: Callable[[str], None], write: Callable[[str], None]) -> None:
    """The terminal-summary lines: per format, the inputs, the calls per target,
    the CPU time and rate, the slow outliers and the peak-RSS rise."""
    section("mutation fuzz inputs per format")
    total_inputs = 0
    total_cpu = 0.0
    total_wall = 0.0
    for fmt in ms.FORMATS:
        if fmt not in RESULTS:
            continue
        tally, wall = RESULTS[fmt]
        total_inputs += tally.inputs
        total_cpu += tally.cpu
        total_wall += wall
        rate = tally.inputs / tally.cpu if tally.cpu else 0.0
        calls = ", ".join(f"{t} {n}" for t, n in sorted(tally.calls.items()))
        write(
            f"{fmt:17s} {tally.inputs:8d} inputs  {tally.cpu:6.1f} s CPU "
            f"{wall:6.1f} s wall  {rate:6.0f} inputs/CPU-s  ({calls})"
        )
        per_call = ", ".join(
            f"{t} {tally.target_cpu[t] / n * 1e6:.0f} us"
            for t, n in sorted(tally.calls.items())
            if n
        )
        outcomes = ", ".join(f"{k} {n}" for k, n in tally.outcomes.most_common(6))
        write(f"{'':17s} per call: {per_call}")
        write(f"{'':17s} outcomes: {outcomes}")
        crashes = sum(f.count for f in tally.crashes.values())
        write(
            f"{'':17s} crashes {crashes} ({len(tally.crashes)} kinds), broken "
            f"contracts {sum(f.count for f in tally.violations.values())}, slow "
            f"inputs {tally.slow}, peak RSS +{tally.rss_rise_kib >> 10} MiB"
        )
        for spent, ratio, what, data, ops in tally.slowest:
            write(
                f"{'':17s} slow: {spent * 1e3:.0f} ms CPU ({ratio:.0f}x the seed), "
                f"{what}, {ops}: {data[:100]}"
            )
    write(
        f"{'total':17s} {total_inputs:8d} inputs  {total_cpu:6.1f} s CPU "
        f"{total_wall:6.1f} s wall"
    )
