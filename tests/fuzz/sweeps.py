"""Exhaustive sweeps (every length field huge, every boundary truncated) run in a
child process under RLIMIT_AS, so that a parser allocating from a hostile length
fails the test with MemoryError instead of swapping the machine."""

from __future__ import annotations

import collections
import io
from collections.abc import Callable, Iterator
from typing import Any

from fixtures import Envelope, envelopes, key_exports
from strategies import (
    COUNTS,
    OUTCOMES,
    check_outcome,
    huge_der_lengths,
    huge_pgp_lengths,
    truncations,
    try_key,
)
from walkers import (
    der_boundaries,
    pgp_boundaries,
    seipdv2_chunk_boundaries,
)

import e2ee_mail

# ---------------------------------------------------- bounded subprocess runs

#: Address space a sweep may add on top of what the child uses once set up.
HEADROOM_BYTES = 768 << 20


def run_bounded(family: str, sweep: str, timeout_s: int = 150) -> dict[str, int]:
    """Run ``sweeps.<sweep>()`` in a child under RLIMIT_AS = setup + headroom.

    A parser that allocates from a hostile length field hits MemoryError there, which
    the sweep does not catch (it is not an e2ee_mail.Error), so the child fails and
    this raises AssertionError with its output. Outcome counts are merged into COUNTS.
    """
    import json
    import os
    import subprocess
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    code = (
        "import json, resource, sys\n"
        f"sys.path.insert(0, {here!r})\n"
        "import fixtures, sweeps\n"
        "fixtures.keys(); fixtures.envelopes(); fixtures.mails()\n"
        "with open('/proc/self/status') as fh:\n"
        "    vm = next(int(x.split()[1]) << 10 for x in fh if x.startswith('VmSize'))\n"
        f"limit = vm + {HEADROOM_BYTES}\n"
        "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
        f"result = sweeps.{sweep}()\n"
        "print('RESULT ' + json.dumps(result))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    assert proc.returncode == 0, (
        f"{sweep} failed under a {HEADROOM_BYTES >> 20} MiB address-space headroom:\n"
        f"{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    )
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    result: dict[str, int] = json.loads(line[len("RESULT ") :])
    for outcome, n in result.items():
        COUNTS[family] += n
        OUTCOMES[family][outcome] += n
    return result


def _sweep(
    family: str, cases: Iterator[tuple[Callable[[], Any], bytes]]
) -> dict[str, int]:
    before = collections.Counter(OUTCOMES[family])
    for call, original in cases:
        check_outcome(family, call, original)
    after = OUTCOMES[family]
    return {
        k: after[k] - before.get(k, 0) for k in after if after[k] - before.get(k, 0)
    }


def _envelope_cases(
    family: str,
    huge: Callable[[bytes], Iterator[tuple[str, bytes]]],
    bounds: Callable[[bytes], list[int]],
) -> Iterator[tuple[Callable[[], Any], bytes]]:

    for env in envelopes():
        if env.family != family:
            continue
        variants = list(huge(env.binary)) + list(
            truncations(bounds(env.binary), env.binary)
        )
        for _, mutated in variants:
            data = env.encode(mutated)
            yield (lambda d=data, e=env: e.open(d)), env.plaintext

            def stream(d: bytes = data, e: Envelope = env) -> bytes:
                out = io.BytesIO()
                try:
                    e2ee_mail.decrypt_stream(io.BytesIO(d), out, e.key, policy=e.policy)
                except e2ee_mail.Error:
                    # Streams may have released authenticated chunks: a prefix of
                    # the original, never anything else.
                    assert e.plaintext.startswith(out.getvalue())
                    raise
                return out.getvalue()

            yield stream, env.plaintext


def sweep_cms() -> dict[str, int]:
    """Every CMS length field set huge, and truncation around every TLV boundary."""
    return _sweep("cms", _envelope_cases("cms", huge_der_lengths, der_boundaries))


def sweep_openpgp() -> dict[str, int]:
    """Every packet length set huge/partial/old-format, truncation at every packet
    and chunk boundary."""

    def bounds(binary: bytes) -> list[int]:
        found = set(pgp_boundaries(binary))
        for env in envelopes():
            if env.binary == binary and env.family == "openpgp":
                found.update(seipdv2_chunk_boundaries(env))
        return sorted(found)

    return _sweep("openpgp", _envelope_cases("openpgp", huge_pgp_lengths, bounds))


def sweep_keys() -> dict[str, int]:
    """Every length field huge and every boundary truncation of every key export."""
    before = collections.Counter(OUTCOMES["keys"])
    for kind, binary, pw, family in key_exports().values():
        if family == "der":
            variants = list(huge_der_lengths(binary)) + list(
                truncations(der_boundaries(binary), binary)
            )
        else:
            variants = list(huge_pgp_lengths(binary)) + list(
                truncations(pgp_boundaries(binary), binary)
            )
        for _, mutated in variants:
            try_key(kind, mutated, pw)
    after = OUTCOMES["keys"]
    return {
        k: after[k] - before.get(k, 0) for k in after if after[k] - before.get(k, 0)
    }
