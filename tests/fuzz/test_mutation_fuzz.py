"""Volume mutation fuzzing: 100,000 inputs per format per run, in-process targets.

Seeds of twelve formats (binary and armored OpenPGP v6 and v4 messages, CMS DER and
PEM, S/MIME and PGP/MIME mails, OpenPGP certificates and secret keys, X.509
certificates and PKCS#8 keys; see mutation_seeds.py) are mutated by mutate.py and fed
to decrypt, inspect, decrypt_message, decrypt_stream, load_key and load_certificate in
a pool of worker processes (mutation_run.py), one per core, each with a capped address
space. The contract is the one every fuzz test applies: only e2ee_mail.Error comes out,
and what decrypts is the original plaintext.

Deterministic: the inputs depend only on E2EE_MAIL_MUTATION_SEED (fixed by default) and
the committed seeds. E2EE_MAIL_MUTATION_INPUTS changes the count per format (a soak:
10000000), E2EE_MAIL_MUTATION_WORKERS the number of processes. The counts, the CPU
time per format and the slow-input outliers are printed in the terminal summary.
"""

from __future__ import annotations

import base64
import multiprocessing
import os
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import mutation_run as mr
import mutation_seeds as ms
import pytest

INPUTS = int(os.environ.get("E2EE_MAIL_MUTATION_INPUTS", "100000"))
RNG_SEED = int(os.environ.get("E2EE_MAIL_MUTATION_SEED", "7"))
WORKERS = int(
    os.environ.get("E2EE_MAIL_MUTATION_WORKERS", str(min(2, os.cpu_count() or 1)))
)


class Pool:
    """A spawn-context process pool, replaced when a worker died (so that one
    format's crash does not fail the formats after it)."""

    def __init__(self) -> None:
        self._executor: ProcessPoolExecutor | None = None

    def submit(self, task: tuple[object, ...]) -> Future[object]:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                WORKERS,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=mr.init_worker,
            )
        return self._executor.submit(mr.run_task, task)

    def reset(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


@pytest.fixture(scope="module")
def pool() -> Iterator[Pool]:
    p = Pool()
    try:
        yield p
    finally:
        p.reset()


def _report(title: str, findings: list[mr.Finding], minimized: dict[str, str]) -> str:
    lines = [title]
    for f in findings:
        small = minimized.get(f.signature, f.input_b64)
        lines += [
            f"- {f.signature} ({f.count} inputs)",
            f"  target {f.target}, seed {f.seed}, key {f.key}"
            + (", with the key's passphrase" if f.passphrase else ""),
            f"  {f.detail}",
            f"  mutations: {f.ops}",
            f"  input (base64, {len(base64.b64decode(small))} octets): {small}",
        ]
    lines.append(
        f"(inputs of E2EE_MAIL_MUTATION_SEED={RNG_SEED}; "
        "see tests/fuzz/mutation_run.py for the targets' calls)"
    )
    return "\n".join(lines)


def _minimize(pool: Pool, fmt: str, findings: list[mr.Finding]) -> dict[str, str]:
    futures = {
        f.signature: pool.submit(
            (
                "minimize",
                fmt,
                f.seed,
                f.target,
                f.input_b64,
                f.signature,
                f.passphrase,
            )
        )
        for f in findings
    }
    return {sig: str(fut.result()) for sig, fut in futures.items()}


@pytest.mark.hang_limit(600)
@pytest.mark.parametrize("fmt", ms.FORMATS)
def test_mutated_inputs_raise_library_errors_only(pool: Pool, fmt: str) -> None:
    started = time.perf_counter()
    futures = [pool.submit(task) for task in mr.plan(fmt, INPUTS, RNG_SEED)]
    tally = mr.Tally(fmt)
    try:
        for fut in futures:
            result = fut.result()
            assert isinstance(result, mr.Tally)
            tally.merge(result)
    except BrokenProcessPool:
        pool.reset()
        raise
    finally:
        mr.RESULTS[fmt] = (tally, time.perf_counter() - started)
    assert tally.inputs == INPUTS

    violations = list(tally.violations.values())
    unknown = [f for f in tally.crashes.values() if not f.known]
    known = [f for f in tally.crashes.values() if f.known]
    if violations or unknown:
        minimized = _minimize(pool, fmt, unknown)
        parts = []
        if unknown:
            parts.append(
                _report("exceptions other than e2ee_mail.Error:", unknown, minimized)
            )
        if violations:
            parts.append(_report("broken contracts:", violations, {}))
        pytest.fail("\n\n".join(parts), pytrace=False)
    if known:
        pytest.xfail(_report("known crashes:", known, {}))


def test_every_format_has_seeds_of_its_kinds() -> None:
    """The seed table covers what the fuzzer promises (v4 and v6, binary and
    armored, DER and PEM, X25519 and RSA, keys protected and not)."""
    table = ms.raw_seeds()
    names = {fmt: " ".join(s.name for s in seeds) for fmt, seeds in table.items()}
    assert all(s.material.template for s in table["openpgp-v6-armor"])
    assert not any(s.material.template for s in table["openpgp-v6"])
    assert "gnupg" in names["openpgp-v4"] and "gnupg" in names["openpgp-v4-armor"]
    assert "openssl" in names["cms-der"] and "openssl" in names["cms-pem"]
    for fmt in ("openpgp-key", "pkcs8-key"):
        assert any(s.passphrase for s in table[fmt])
        assert any(s.passphrase is None for s in table[fmt])
    for fmt in ("openpgp-v6", "openpgp-v4", "cms-der", "smime", "pgpmime"):
        keys = {s.key or "" for s in table[fmt]}
        assert any("rsa" in k for k in keys) and any("25519" in k for k in keys)
    for fmt in ms.FORMATS:
        assert any(s.material.lengths for s in table[fmt]), fmt


# ----------------------------------------------------------- reproducers

#: One small input per crash the fuzzer found: (target, test key file
#: or None, passphrase or None, base64). They run in the pool's workers, under the
#: same address-space cap as the fuzzer. Known crashes are marked xfail until their
#: fix lands; the others fail until fixed.
REPRODUCERS = [
    pytest.param(
        "decrypt_stream",
        "pgp6-x25519.sec.asc",
        None,
        "Q29udGVudC1UeXBlOiBtdWx0aXBhcnQvZW5jcnlwdGVkOyBwcm90b2NvbD0iYXBwbGljYXRpb24v"
        "cGdwLWVuY3J5cHRlZCI7IGJvdW5kYXJ5PSK4Ig0KDQo=",
        id="pgpmime-non-ascii-boundary",
    ),
    pytest.param(
        "load_key",
        None,
        None,
        "MA4CAQAwBQYDK2VuBAIEAA==",
        id="pkcs8-x25519-empty-key",
    ),
    pytest.param(
        "load_key",
        None,
        None,
        "MC4CAQAwBQYDK2VvBCIEIAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g",
        id="pkcs8-x448-oid-32-octet-key",
    ),
    # RFC 9580 Appendix A.5 (the locked key's primary key packet and its direct-key
    # signature, unmodified): its Argon2 parameters ask for 2 GiB, and the
    # MemoryError under the cap is not an e2ee_mail.Error.
    pytest.param(
        "load_key",
        None,
        "correct horse battery staple",
        "xYIGY4d/4xsAAAAg+U2nu0jWCmHlZ3BqZYfQMxmZu52JGggkLq2EVD34laP9JgkCFARdb9ccngltHr"
        "aRe25uHuyuAQQVtKipJ0+r5jL4dacGWSAheCWPpITYiyfyIOPS3gIDyg8f7strd1OB4+LZsUhcIjOM"
        "pVHgmiY/IutJkulneoBYwrEGHxsKAAAAQgWCY4d/4wMLCQcFFQoOCAwCFgACmwMCHgkiIQbLGGxPBg"
        "mml+TVLfpscisMHx4nwYpWcI9lJewnutmsyQUnCQIHAgAAAACtKCAQPi19In7A5tfORHHbNr/JcIMl"
        "NpAnFJin7wV2wH+q4UWFs7kDsBJ+xP2i8CMEWi7Ha8tPlXGpZR4UruETeh1mhELIj5UeM8T/0z+5oX"
        "1RHu11j8bZzFDLX9eTsgOdWAQ=",
        id="openpgp-argon2-2gib",
    ),
    # The OpenSSL X25519 vector certificate with its issuer's commonName OID turned
    # into countryName (2.5.4.6): cryptography warns about the 20-character value,
    # and the warning escapes load_certificate (an exception where warnings are
    # errors, a stray message on stderr elsewhere).
    pytest.param(
        "load_certificate",
        None,
        None,
        "MIIBfjCCATCgAwIBAgIUKjbWnOuuglUll5zIlgQA+jJv4WowBQYDK2VwMB8xHTAbBgNVBAYMFFZlY3"
        "RvciBYMjU1MTkgaXNzdWVyMB4XDTI2MTEyMjEwMjIyOVoXDTM2MTExOTEwMjIyOVowMTERMA8GA1UE"
        "AwwIVmVjdG9yIHgxHDAaBgkqhkiG9w0BCQEWDXhAZXhhbXBsZS5vcmcwKjAFBgMrZW4DIQCgGz6uHJ"
        "PZWTWI1acPxgMeZmW78ln0qhc1gdqN0wp4eaNsMGowGAYDVR0RBBEwD4ENeEBleGFtcGxlLm9yZzAO"
        "BgNVHQ8BAf8EBAMCAwgwHQYDVR0OBBYEFAmTqX4E4FerbarPmgyOJlYWahS5MB8GA1UdIwQYMBaAFN"
        "EdoetWWbE53DCvXqnS6r399IowMAUGAytlcANBANAVRr3Ki0wxDDb7K22HWxSxgr51Pnb8beeMi7GT"
        "lTJos8T0bSPIU1m9nHWWdFi28f4rEDHnxsh58K79lWi/1w4=",
        id="x509-long-country-name-warning",
    ),
]


@pytest.mark.parametrize(("target", "key_file", "passphrase", "data_b64"), REPRODUCERS)
def test_reproducer_raises_a_library_error(
    pool: Pool,
    target: str,
    key_file: str | None,
    passphrase: str | None,
    data_b64: str,
) -> None:
    sig = pool.submit(("reproduce", target, key_file, passphrase, data_b64)).result()
    if sig is not None and mr.is_known(target, str(sig)):
        pytest.xfail(f"known crash: {sig}")
    assert sig is None, f"{target} raised {sig}"
