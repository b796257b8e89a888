"""The limits, measured in the same run as the formats, and the core investigations.

Baselines (``case`` starts with ``limit.``), which benchmarks/report.py divides by:

- ``limit.aead_fresh``: chunked AES-256-GCM (4 MiB chunks, the SEIPDv2 default) with
  ``AESGCM.encrypt_into`` / ``decrypt_into`` into ONE fresh output buffer of the final
  size: what a bytes -> bytes API can at best do.
- ``limit.aead_file``: the same AEAD loop file to file over reused buffers, with the
  same ``open``/``readinto``/``write`` a stream API needs.
- ``limit.b64``: pybase64 line-wrapped encoding / decoding of the same number of bytes,
  76-column CRLF (S/MIME), 76- and 64-column LF (armor).
- ``limit.x25519_wrap`` (+ 1 KiB GCM), ``limit.wraps100``: the per-recipient work.

Investigations: GIL release of ``AESGCM.encrypt_into`` (1 vs 2 threads on
independent 4 MiB chunks), X25519 engines (PyNaCl vs cryptography), base64 methods.
Benchmarks check correctness only, never speed.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pybase64
import pytest
from _bench import (
    CHUNK,
    KIB,
    MIB,
    Measure,
    cases,
    payload,
    payload_file,
    size_id,
    sizes,
)
from _limits import (
    CEK,
    KEY,
    NONCE,
    RECIPIENT,
    RECIPIENT_PUB,
    TAG,
    b64_crlf76,
    b64_lines_views,
    nonce_for,
    open_chunks,
    open_file,
    raw_public,
    seal_chunks,
    seal_file,
    unwrap_cryptography,
    wrap_cryptography,
    wrap_pynacl,
)
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nacl import bindings as sodium

# --- AEAD limits ---------------------------------------------------------------------


@pytest.mark.parametrize("n", sizes())
def test_aead_fresh_encrypt(measure: Measure, n: int) -> None:
    data = payload(n)
    out = measure(
        lambda: seal_chunks(data),
        case=f"limit.aead_fresh.encrypt.{size_id(n)}",
        group=f"encrypt {size_id(n)}",
        nbytes=n,
    )
    assert open_chunks(out) == data


@pytest.mark.parametrize("n", sizes())
def test_aead_fresh_decrypt(measure: Measure, n: int) -> None:
    data = payload(n)
    sealed = bytes(seal_chunks(data))
    out = measure(
        lambda: open_chunks(sealed),
        case=f"limit.aead_fresh.decrypt.{size_id(n)}",
        group=f"decrypt {size_id(n)}",
        nbytes=n,
    )
    assert out == data


@pytest.mark.parametrize("n", sizes())
def test_aead_file_encrypt(measure: Measure, scratch: Path, n: int) -> None:
    src = payload_file(scratch, n)
    dst = scratch / f"limit-sealed-{n}"
    measure(
        lambda: seal_file(src, dst),
        case=f"limit.aead_file.encrypt.{size_id(n)}",
        group=f"stream encrypt {size_id(n)}",
        nbytes=n,
    )
    assert open_chunks(dst.read_bytes()) == payload(n)


@pytest.mark.parametrize("n", sizes())
def test_aead_file_decrypt(measure: Measure, scratch: Path, n: int) -> None:
    src = scratch / f"limit-sealed-in-{n}"
    src.write_bytes(seal_chunks(payload(n)))
    dst = scratch / f"limit-opened-{n}"
    measure(
        lambda: open_file(src, dst),
        case=f"limit.aead_file.decrypt.{size_id(n)}",
        group=f"stream decrypt {size_id(n)}",
        nbytes=n,
    )
    assert dst.read_bytes() == payload(n)


@pytest.mark.parametrize("chunk", [64 * KIB, MIB, CHUNK], ids=size_id)
def test_aead_reused_buffers(measure: Measure, chunk: int) -> None:
    """AES-256-GCM alone, no allocation, no I/O: the raw speed of the engine."""
    n = 16 * MIB
    data = memoryview(payload(n))
    out = bytearray(chunk + TAG)
    aead = AESGCM(KEY)

    def run() -> None:
        for i in range(0, n, chunk):
            aead.encrypt_into(NONCE, data[i : i + chunk], None, out)

    measure(
        run,
        case=f"info.aead_reused.{size_id(chunk)}",
        group="aead engine 16MiB",
        nbytes=n,
    )
    assert bytes(out) == AESGCM(KEY).encrypt(NONCE, data[n - chunk :], None)


# --- GIL: 2 threads vs 1 on independent 4 MiB chunks ---------------------------------

GIL_CHUNKS = 8


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("work", ["aead", "sha256"])
def test_gil_threads(
    measure: Measure, thread_pool: ThreadPoolExecutor, work: str, threads: int
) -> None:
    """8 x 4 MiB independent chunks on 1 or 2 threads: AESGCM.encrypt_into, and as
    the control hashlib.sha256 (known to release the GIL): if the control does not
    scale either, the second core was busy, and the AEAD figure says nothing."""
    data = payload(GIL_CHUNKS * CHUNK)
    pieces = [memoryview(data)[i * CHUNK : (i + 1) * CHUNK] for i in range(GIL_CHUNKS)]
    outs = [bytearray(CHUNK + TAG) for _ in range(GIL_CHUNKS)]
    digests = [b""] * GIL_CHUNKS
    aead = AESGCM(KEY)

    def seal(i: int) -> None:
        aead.encrypt_into(nonce_for(i), pieces[i], None, outs[i])

    def digest(i: int) -> None:
        digests[i] = hashlib.sha256(pieces[i]).digest()

    task = seal if work == "aead" else digest

    def one_thread() -> None:
        for i in range(GIL_CHUNKS):
            task(i)

    def two_threads() -> None:
        # The two pool workers take the chunks in turn; list() waits for all.
        list(thread_pool.map(task, range(GIL_CHUNKS)))

    measure(
        one_thread if threads == 1 else two_threads,
        case=f"info.gil.{work}.threads{threads}",
        group=f"gil: {work} 8x4MiB",
        nbytes=len(data),
        threads=threads,
    )
    if work == "aead":
        expected = AESGCM(KEY).encrypt(nonce_for(GIL_CHUNKS - 1), pieces[-1], None)
        assert bytes(outs[-1]) == expected
    else:
        assert digests[-1] == hashlib.sha256(pieces[-1]).digest()


def longest_stall(call: Callable[[], object], reps: int = 5) -> tuple[float, float]:
    """Median over ``reps`` calls of (longest pause of a Python thread during the call,
    the call's duration). A call that holds the GIL stalls the other thread for about
    its whole duration, whether or not a second core is free; a call that releases
    the GIL stalls it only for scheduling gaps."""
    stop = threading.Event()
    stamps: list[float] = []

    def spin() -> None:
        mark, now = stamps.append, time.perf_counter
        while not stop.is_set():
            mark(now())

    thread = threading.Thread(target=spin)
    thread.start()
    time.sleep(0.01)
    stalls, durations = [], []
    try:
        for _ in range(reps):
            start = time.perf_counter()
            call()
            end = time.perf_counter()
            points = [start, *(t for t in stamps if start <= t <= end), end]
            stalls.append(max(b - a for a, b in itertools.pairwise(points)))
            durations.append(end - start)
            time.sleep(0.005)
    finally:
        stop.set()
        thread.join()
    return statistics.median(stalls), statistics.median(durations)


def test_gil_stall(measure: Measure) -> None:
    """Direct GIL check, valid on a busy machine: one 32 MiB encrypt_into vs the same
    time spent in GIL-holding ``bytes.count``, with a Python thread running beside."""
    data = payload(GIL_CHUNKS * CHUNK)
    out = bytearray(len(data) + TAG)
    aead = AESGCM(KEY)

    def seal() -> None:
        aead.encrypt_into(NONCE, data, None, out)

    aead_stall, aead_call = longest_stall(seal)
    held_stall, held_call = longest_stall(lambda: data.count(b"\x00"))
    measure(
        seal,
        case="info.gil.stall",
        group="gil: aead 8x4MiB",
        nbytes=len(data),
        aead_stall=aead_stall,
        aead_call=aead_call,
        held_stall=held_stall,
        held_call=held_call,
    )
    assert aead_call > 0 and held_call > 0


# --- base64 ----------------------------------------------------------------------


def b64_lines(data: bytes | memoryview, cols: int, eol: bytes) -> bytes:
    """Any column count without numpy: encode 1024 lines at a time, cut the text with
    precomputed slice objects, join (the fastest pure-Python split measured here)."""
    step = cols * 3 // 4 * 1024
    cuts = tuple(slice(j, j + cols) for j in range(0, step * 4 // 3, cols))
    view = memoryview(data)
    out: list[bytes] = []
    for i in range(0, len(view), step):
        text = pybase64.b64encode(view[i : i + step])
        out.append(eol.join(map(text.__getitem__, cuts[: -(-len(text) // cols)])))
        out.append(eol)
    return b"".join(out)


ENCODERS = {
    # The limits report.py uses.
    "crlf76": b64_crlf76,
    "lf76": pybase64.encodebytes,
    "lf64": lambda d: b64_lines_views(d, 64, b"\n"),
    # The alternatives, for the investigation.
    "lf64-split": lambda d: b64_lines(d, 64, b"\n"),
    "crlf76-split": lambda d: b64_lines(d, 76, b"\r\n"),
    "crlf76-stdlib": lambda d: base64.encodebytes(d).replace(b"\n", b"\r\n"),
}
LIMIT_ENCODERS = ("crlf76", "lf76", "lf64")


def _encode_params() -> list[object]:
    limits = cases(*((name,) for name in LIMIT_ENCODERS))
    others = [name for name in ENCODERS if name not in LIMIT_ENCODERS]
    return limits + cases(*((name,) for name in others), only=(16 * MIB,), huge=False)


@pytest.mark.parametrize(("method", "n"), _encode_params())
def test_b64_encode(measure: Measure, method: str, n: int) -> None:
    data = payload(n)
    encode = ENCODERS[method]
    limit = method in LIMIT_ENCODERS
    text = measure(
        lambda: encode(data),
        case=f"{'limit' if limit else 'info'}.b64.encode.{method}.{size_id(n)}",
        group=f"base64 encode {size_id(n)}",
        nbytes=n,
        method=method,
    )
    eol = b"\r\n" if method.startswith("crlf") else b"\n"
    cols = 64 if method.startswith("lf64") else 76
    lines = bytes(text).split(eol)
    assert lines[-1] == b"" and all(len(line) <= cols for line in lines)
    assert pybase64.b64decode(b"".join(lines)) == data


DECODERS = {
    "lenient": lambda t: pybase64.b64decode(t, validate=False),
    "strict": lambda t: pybase64.b64decode(t.translate(None, b"\r\n"), validate=True),
    "stdlib": base64.b64decode,
}


def _decode_params() -> list[object]:
    stdlib = cases(("stdlib",), only=(16 * MIB,), huge=False)
    return cases(("lenient",), ("strict",)) + stdlib


@pytest.mark.parametrize(("method", "n"), _decode_params())
def test_b64_decode(measure: Measure, method: str, n: int) -> None:
    """Decoding 76-column CRLF text (S/MIME; armor decodes the same way)."""
    text = b64_crlf76(payload(n))
    decode = DECODERS[method]
    limit = method == "lenient"
    out = measure(
        lambda: decode(text),
        case=f"{'limit' if limit else 'info'}.b64.decode.{method}.{size_id(n)}",
        group=f"base64 decode {size_id(n)}",
        nbytes=n,
        method=method,
    )
    assert out == payload(n)


# --- recipient wraps ------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["cryptography", "pynacl"])
def test_x25519_agree(measure: Measure, engine: str) -> None:
    """Ephemeral keygen + exchange only: which engine is faster."""
    peer = x25519.X25519PublicKey.from_public_bytes(RECIPIENT_PUB)

    def with_cryptography() -> bytes:
        return x25519.X25519PrivateKey.generate().exchange(peer)

    def with_pynacl() -> bytes:
        _, secret = sodium.crypto_box_keypair()
        return sodium.crypto_scalarmult(secret, RECIPIENT_PUB)

    shared = measure(
        with_cryptography if engine == "cryptography" else with_pynacl,
        case=f"info.x25519_agree.{engine}",
        group="x25519 keygen+exchange",
        nbytes=32,
        engine=engine,
    )
    assert len(shared) == 32 and shared != bytes(32)


@pytest.mark.parametrize("engine", ["cryptography", "pynacl"])
def test_x25519_wrap(measure: Measure, engine: str) -> None:
    wrap = wrap_cryptography if engine == "cryptography" else wrap_pynacl
    eph, wrapped = measure(
        lambda: wrap(RECIPIENT_PUB, CEK),
        case=f"limit.x25519_wrap.{engine}",
        group="x25519 wrap",
        nbytes=32,
        engine=engine,
    )
    assert unwrap_cryptography(RECIPIENT, RECIPIENT_PUB, eph, wrapped) == CEK


def test_x25519_unwrap(measure: Measure) -> None:
    eph, wrapped = wrap_cryptography(RECIPIENT_PUB, CEK)
    cek = measure(
        lambda: unwrap_cryptography(RECIPIENT, RECIPIENT_PUB, eph, wrapped),
        case="limit.x25519_unwrap.cryptography",
        group="x25519 wrap",
        nbytes=32,
    )
    assert cek == CEK


def test_x25519_wrap_gcm_1k_encrypt(measure: Measure) -> None:
    """The 1 KiB limit: fresh content key, one wrap, AES-256-GCM of 1 KiB."""
    data = payload(KIB)

    def run() -> tuple[bytes, bytes, bytes]:
        cek = os.urandom(32)
        nonce = os.urandom(12)
        eph, wrapped = wrap_cryptography(RECIPIENT_PUB, cek)
        return eph, wrapped, nonce + AESGCM(cek).encrypt(nonce, data, None)

    eph, wrapped, body = measure(
        run, case="limit.x25519_gcm.encrypt.1KiB", group="1KiB x25519", nbytes=KIB
    )
    cek = unwrap_cryptography(RECIPIENT, RECIPIENT_PUB, eph, wrapped)
    assert AESGCM(cek).decrypt(body[:12], body[12:], None) == data


def test_x25519_wrap_gcm_1k_decrypt(measure: Measure) -> None:
    data = payload(KIB)
    cek = os.urandom(32)
    eph, wrapped = wrap_cryptography(RECIPIENT_PUB, cek)
    body = NONCE + AESGCM(cek).encrypt(NONCE, data, None)

    def run() -> bytes:
        key = unwrap_cryptography(RECIPIENT, RECIPIENT_PUB, eph, wrapped)
        return AESGCM(key).decrypt(body[:12], body[12:], None)

    out = measure(
        run, case="limit.x25519_gcm.decrypt.1KiB", group="1KiB x25519", nbytes=KIB
    )
    assert out == data


@pytest.fixture(scope="module")
def rsa3072() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 3072)


OAEP = padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)


def test_rsa3072_oaep_wrap(measure: Measure, rsa3072: rsa.RSAPrivateKey) -> None:
    public = rsa3072.public_key()
    wrapped = measure(
        lambda: public.encrypt(CEK, OAEP),
        case="limit.rsa3072_wrap",
        group="rsa-3072 oaep",
        nbytes=32,
    )
    assert rsa3072.decrypt(wrapped, OAEP) == CEK


def test_rsa3072_oaep_unwrap(measure: Measure, rsa3072: rsa.RSAPrivateKey) -> None:
    wrapped = rsa3072.public_key().encrypt(CEK, OAEP)
    cek = measure(
        lambda: rsa3072.decrypt(wrapped, OAEP),
        case="limit.rsa3072_unwrap",
        group="rsa-3072 oaep",
        nbytes=32,
    )
    assert cek == CEK


def test_wraps100_x25519(measure: Measure) -> None:
    """100 wraps to 100 different recipients: the 100-recipient limit."""
    recipients = [
        raw_public(x25519.X25519PrivateKey.generate().public_key()) for _ in range(100)
    ]
    out = measure(
        lambda: [wrap_cryptography(r, CEK) for r in recipients],
        case="limit.wraps100.x25519",
        group="100 recipients",
        nbytes=KIB,
    )
    assert len(out) == 100


def test_wraps100_rsa3072(measure: Measure, rsa3072: rsa.RSAPrivateKey) -> None:
    public = rsa3072.public_key()
    out = measure(
        lambda: [public.encrypt(CEK, OAEP) for _ in range(100)],
        case="limit.wraps100.rsa3072",
        group="100 recipients",
        nbytes=KIB,
    )
    assert len(set(out)) == 100


def test_copy_16mib(measure: Measure) -> None:
    """One full copy of 16 MiB into fresh memory: what every extra copy costs."""
    data = payload(16 * MIB)
    out = measure(
        lambda: bytes(bytearray(data)),
        case="info.copy.16MiB",
        group="aead engine 16MiB",
        nbytes=16 * MIB,
    )
    assert out == data
