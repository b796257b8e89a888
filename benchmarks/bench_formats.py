"""The formats through the public API: bytes, streams (real files) and recipients.

Case ids (report.py pairs them with the ``limit.*`` cases of bench_core.py):

- ``{fmt}.bytes.{op}.{size}``: ``e2ee_mail.encrypt`` / ``decrypt``;
- ``{fmt}.stream.{op}.{size}``: ``encrypt_stream`` / ``decrypt_stream`` file to file;
- ``cms.pipe.decrypt.{size}``: ``decrypt_stream`` of CMS from a pipe into a file;
- ``info.cms_two_pass_extra.decrypt.{size}``: the least extra work of CMS's two
  passes (one more read and GCM pass over the body), against the AEAD file loop;
- ``{fmt}.recip.{alg}.{n}.{op}``: 1 KiB to ``n`` recipients of one algorithm.

``fmt`` is ``openpgp`` (binary, RFC 9580 keys: SEIPDv2), ``openpgp-armor``,
``openpgp4`` (RFC 4880 keys: SEIPDv1), ``cms`` (DER) or ``cms-pem``. One X25519
recipient unless said otherwise. A format that has not landed skips with the reason.
From 1 MiB on, the bytes and stream cases also time their AEAD limit (fresh buffer,
file loop) right before and after themselves: ``extra_info["paired_limit"]``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pybase64
import pytest
from _bench import (
    KIB,
    MIB,
    Keys,
    Measure,
    call_or_skip,
    cases,
    payload,
    payload_file,
    require_format,
    size_id,
    sizes,
)
from _limits import (
    KEY,
    NONCE,
    b64_crlf76,
    b64_lines_views,
    open_chunks,
    open_file,
    seal_chunks,
    seal_file,
    wrap_gcm_decrypt,
    wrap_gcm_encrypt,
    wraps100,
)
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

import e2ee_mail

#: fmt -> (format module family, API format name, armor, key format, key kind)
FORMATS: dict[str, tuple[str, str, bool, str, str]] = {
    "openpgp": ("openpgp", "openpgp", False, "openpgp", "x25519"),
    "openpgp-armor": ("openpgp", "openpgp", True, "openpgp", "x25519"),
    "openpgp4": ("openpgp", "openpgp", False, "openpgp", "x25519@rfc4880"),
    "cms": ("cms", "cms", False, "x509", "x25519"),
    "cms-pem": ("cms", "cms", True, "x509", "x25519"),
}
STREAM_FORMATS = ("openpgp", "openpgp-armor", "cms", "cms-pem")
#: From this size on, the matching AEAD limit is timed next to each case.
PAIR_MIN = MIB


def armor_line_length(text: bytes) -> int:
    """Longest line of the base64 body of an armored / PEM message (0 if binary)."""
    if not text.startswith(b"-----BEGIN"):
        return 0
    head = text[:8192].replace(b"\r\n", b"\n").split(b"\n")
    # Skip the BEGIN line and any armor headers up to the blank line (RFC 9580 §6.2).
    lines = head[1:-1]
    if b"" in lines[:8]:
        lines = lines[lines.index(b"") + 1 :]
    return max(
        (len(line) for line in lines if not line.startswith(b"-----")), default=0
    )


def armor_limit(op: str, data: bytes) -> Callable[[], object]:
    """The base64 limit an armored case is compared with (report.py), to time right
    next to it: 64-column encoding of the same octets, or decoding their text."""
    if op == "encrypt":
        return lambda: b64_lines_views(data, 64, b"\n")
    text = b64_crlf76(data)  # what the decode limit decodes (bench_core)
    return lambda: pybase64.b64decode(text, validate=False)


def _setup(keys: Keys, fmt: str) -> tuple[str, bool, Any, Any]:
    family, api_format, armor, key_format, kind = FORMATS[fmt]
    require_format(family)
    key = call_or_skip(fmt, lambda: keys.secret(key_format, kind))
    return api_format, armor, key, key.public


@pytest.mark.parametrize(
    ("fmt", "op", "n"),
    cases(*((f, o) for f in FORMATS for o in ("encrypt", "decrypt"))),
)
def test_bytes(measure: Measure, keys: Keys, fmt: str, op: str, n: int) -> None:
    api_format, armor, key, cert = _setup(keys, fmt)
    data = payload(n)
    info: dict[str, Any] = {"format": fmt, "op": op, "api": "bytes", "size": n}

    def encrypt() -> bytes:
        return e2ee_mail.encrypt(data, [cert], format=api_format, armor=armor)  # type: ignore[arg-type]

    # Received mail arrives as bytes (a file, a socket): decrypt is fed bytes.
    sealed = bytes(call_or_skip(fmt, encrypt))
    info["line_length"] = armor_line_length(sealed)
    info["overhead"] = len(sealed) - n
    case = f"{fmt}.bytes.{op}.{size_id(n)}"
    if op == "encrypt":
        sealed = measure(
            encrypt,
            case=case,
            group=f"encrypt {size_id(n)}",
            nbytes=n,
            paired=(
                armor_limit("encrypt", data)
                if armor and n >= PAIR_MIN
                else (lambda: seal_chunks(data))
                if n >= PAIR_MIN
                else (lambda: wrap_gcm_encrypt(data))
                if n == KIB and fmt in ("openpgp", "cms")
                else None
            ),
            **info,
        )
        assert e2ee_mail.decrypt(sealed, key) == data
    else:
        limit_sealed = bytes(seal_chunks(data))
        out = measure(
            lambda: e2ee_mail.decrypt(sealed, key),
            case=case,
            group=f"decrypt {size_id(n)}",
            nbytes=n,
            paired=(
                armor_limit("decrypt", data)
                if armor and n >= PAIR_MIN
                else (lambda: open_chunks(limit_sealed))
                if n >= PAIR_MIN
                else wrap_gcm_decrypt(data)
                if n == KIB and fmt in ("openpgp", "cms")
                else None
            ),
            **info,
        )
        assert out == data


@pytest.mark.parametrize(
    ("fmt", "op", "n"),
    cases(*((f, o) for f in STREAM_FORMATS for o in ("encrypt", "decrypt"))),
)
def test_stream(
    measure: Measure, keys: Keys, scratch: Path, fmt: str, op: str, n: int
) -> None:
    api_format, armor, key, cert = _setup(keys, fmt)
    plain = payload_file(scratch, n)
    sealed = scratch / f"{fmt}-sealed-{n}"
    opened = scratch / f"{fmt}-opened-{n}"

    def encrypt() -> None:
        with plain.open("rb") as src, sealed.open("wb") as dst:
            e2ee_mail.encrypt_stream(src, dst, [cert], format=api_format, armor=armor)  # type: ignore[arg-type]

    def decrypt() -> None:
        with sealed.open("rb") as src, opened.open("wb") as dst:
            e2ee_mail.decrypt_stream(src, dst, key)

    call_or_skip(fmt, encrypt)
    info: dict[str, Any] = {"format": fmt, "op": op, "api": "stream", "size": n}
    with sealed.open("rb") as fh:
        info["line_length"] = armor_line_length(fh.read(8192))
    case = f"{fmt}.stream.{op}.{size_id(n)}"
    limit_sealed = scratch / f"{fmt}-limit-sealed-{n}"
    limit_opened = scratch / f"{fmt}-limit-opened-{n}"
    if op == "encrypt":
        measure(
            encrypt,
            case=case,
            group=f"stream encrypt {size_id(n)}",
            nbytes=n,
            paired=(
                armor_limit("encrypt", payload(n))
                if armor and n >= PAIR_MIN
                else (lambda: seal_file(plain, limit_sealed))
                if n >= PAIR_MIN
                else None
            ),
            **info,
        )
        assert e2ee_mail.decrypt(sealed.read_bytes(), key) == payload(n)
    else:
        call_or_skip(fmt, decrypt)
        seal_file(plain, limit_sealed)
        measure(
            decrypt,
            case=case,
            group=f"stream decrypt {size_id(n)}",
            nbytes=n,
            paired=(
                armor_limit("decrypt", payload(n))
                if armor and n >= PAIR_MIN
                else (lambda: open_file(limit_sealed, limit_opened))
                if n >= PAIR_MIN
                else None
            ),
            **info,
        )
        assert opened.read_bytes() == payload(n)


@pytest.mark.parametrize("n", sizes((16 * MIB,)))
def test_cms_decrypt_from_a_pipe(
    measure: Measure, keys: Keys, scratch: Path, n: int
) -> None:
    """``decrypt_stream`` of CMS read from a pipe (``cat`` in another process) into
    a file: the body cannot be read twice where it is, so its ciphertext is spooled
    (in ``scratch``) while the first pass checks the tag. Case ``cms.pipe.decrypt``,
    with the AEAD file loop timed next to it."""
    _, _, key, cert = _setup(keys, "cms")
    plain = payload_file(scratch, n)
    sealed = scratch / f"cms-pipe-sealed-{n}"
    opened = scratch / f"cms-pipe-opened-{n}"
    with plain.open("rb") as src, sealed.open("wb") as dst:
        e2ee_mail.encrypt_stream(src, dst, [cert], format="cms")
    limit_sealed = scratch / f"cms-pipe-limit-sealed-{n}"
    limit_opened = scratch / f"cms-pipe-limit-opened-{n}"
    seal_file(plain, limit_sealed)

    def decrypt() -> None:
        with subprocess.Popen(["cat", str(sealed)], stdout=subprocess.PIPE) as cat:
            assert cat.stdout is not None
            with opened.open("wb") as dst:
                e2ee_mail.decrypt_stream(cat.stdout, dst, key, spool_dir=scratch)

    measure(
        decrypt,
        case=f"cms.pipe.decrypt.{size_id(n)}",
        group=f"stream decrypt {size_id(n)}",
        nbytes=n,
        paired=lambda: open_file(limit_sealed, limit_opened),
        format="cms",
        op="decrypt",
        api="stream-pipe",
        size=n,
    )
    assert opened.read_bytes() == payload(n)


#: Read size of :func:`extra_pass`: the cheapest found for it (it stays in L2).
EXTRA_PASS_BUFFER = 256 * KIB


def extra_pass(src_path: Path) -> None:
    """What the first of CMS's two passes must do, at the least: read the file
    once more and run one GCM pass over every octet into one reused scratch
    buffer (one GCM stream over the file; its tag is not asked for)."""
    ctx = Cipher(algorithms.AES(KEY), modes.GCM(NONCE)).decryptor()
    buf = bytearray(EXTRA_PASS_BUFFER)
    scratch = bytearray(EXTRA_PASS_BUFFER + 15)
    view = memoryview(buf)
    with open(src_path, "rb") as src:
        while got := src.readinto(buf):
            ctx.update_into(view[:got], scratch)


@pytest.mark.parametrize("n", sizes((16 * MIB,)))
def test_two_pass_extra(scratch: Path, measure: Measure, n: int) -> None:
    """What the two-pass rule adds to a CMS ``decrypt_stream``, at the least: one
    more read of the sealed body and one more GCM pass over it (:func:`extra_pass`),
    with the AEAD file loop timed next to it. Case
    ``info.cms_two_pass_extra.decrypt``; the rule's cap on the ratio to the loop is
    ``loop / (loop + this)``. Timed apart from the loop, not chained to it: on a
    disk, chained before the loop, it hid in the loop's wait for the writeback of
    its previous round (ext4 flushes a file rewritten after truncation when it is
    closed), and the pair measured faster than the loop alone."""
    plain = payload_file(scratch, n)
    limit_sealed = scratch / f"extra-limit-sealed-{n}"
    limit_opened = scratch / f"extra-limit-opened-{n}"
    seal_file(plain, limit_sealed)
    measure(
        lambda: extra_pass(limit_sealed),
        case=f"info.cms_two_pass_extra.decrypt.{size_id(n)}",
        group=f"stream decrypt {size_id(n)}",
        nbytes=n,
        paired=lambda: open_file(limit_sealed, limit_opened),
        op="decrypt",
        size=n,
    )
    assert limit_opened.read_bytes() == payload(n)


RECIPIENT_CASES = [
    pytest.param(fmt, alg, count, op, id=f"{fmt}-{alg}-{count}-{op}")
    for fmt in ("openpgp", "cms")
    for alg in ("x25519", "rsa3072")
    for count, op in (
        (1, "encrypt"),
        (10, "encrypt"),
        (100, "encrypt"),
        (1, "decrypt"),
        (100, "decrypt"),
    )
]


@pytest.mark.parametrize(("fmt", "alg", "count", "op"), RECIPIENT_CASES)
def test_recipients(
    measure: Measure, keys: Keys, fmt: str, alg: str, count: int, op: str
) -> None:
    """1 KiB to 1, 10 or 100 recipients; decrypt with the last distinct key."""
    family, api_format, _, key_format, _ = FORMATS[fmt]
    require_format(family)
    certs = call_or_skip(fmt, lambda: keys.certs(key_format, alg, count))
    last = keys.distinct(alg, count) - 1
    secret = call_or_skip(fmt, lambda: keys.secret(key_format, alg, last))
    data = payload(KIB)

    def encrypt() -> bytes:
        return e2ee_mail.encrypt(data, certs, format=api_format)  # type: ignore[arg-type]

    # Received mail arrives as bytes (a file, a socket): decrypt is fed bytes.
    sealed = bytes(call_or_skip(fmt, encrypt))
    described = len(e2ee_mail.inspect(sealed).recipients)
    if described != count:
        pytest.skip(f"{fmt} wrote {described} entries for {count} recipients")
    info = {
        "format": fmt,
        "op": op,
        "alg": alg,
        "recipients": count,
        "distinct_keys": keys.distinct(alg, count),
    }
    case = f"{fmt}.recip.{alg}.{count}.{op}"
    group = f"recipients {alg} {op}"
    if op == "encrypt":
        sealed = measure(
            encrypt,
            case=case,
            group=group,
            nbytes=KIB,
            paired=wraps100(alg) if count == 100 else None,
            **info,
        )
        assert e2ee_mail.decrypt(sealed, secret) == data
    else:
        out = measure(
            lambda: e2ee_mail.decrypt(sealed, secret),
            case=case,
            group=group,
            nbytes=KIB,
            **info,
        )
        assert out == data


def test_inspect_16mib(measure: Measure, keys: Keys) -> None:
    """inspect() must not touch the body: 16 MiB should cost what 1 KiB costs."""
    api_format, _, _, cert = _setup(keys, "openpgp")
    sealed = e2ee_mail.encrypt(payload(16 * MIB), [cert], format=api_format)  # type: ignore[arg-type]
    found = measure(
        lambda: e2ee_mail.inspect(sealed),
        case="openpgp.inspect.16MiB",
        group="inspect",
        nbytes=16 * MIB,
    )
    assert found is not None


@pytest.mark.parametrize(
    ("threads", "op"),
    [(t, o) for t in (1, 2) for o in ("encrypt", "decrypt")],
    ids=lambda x: str(x),
)
def test_seipdv2_threads(
    measure: Measure,
    keys: Keys,
    monkeypatch: pytest.MonkeyPatch,
    threads: int,
    op: str,
) -> None:
    """SEIPDv2 16 MiB through the bytes API with the chunk split on 2 threads (the
    library's default at this size) or forced onto 1 (target: 2 threads >= 1.7x)."""
    api_format, _, key, cert = _setup(keys, "openpgp")
    from e2ee_mail.core import chunked

    if not hasattr(chunked, "PARALLEL_MIN_BYTES"):
        pytest.skip("core/chunked.py has no PARALLEL_MIN_BYTES switch")
    n = 16 * MIB
    if threads == 1:
        monkeypatch.setattr(chunked, "PARALLEL_MIN_BYTES", 1 << 62)
    elif n < chunked.PARALLEL_MIN_BYTES:
        pytest.skip("16 MiB is below the library's 2-thread threshold")
    data = payload(n)
    sealed = bytes(e2ee_mail.encrypt(data, [cert], format=api_format))  # type: ignore[arg-type]
    fn = (
        (lambda: e2ee_mail.encrypt(data, [cert], format=api_format))  # type: ignore[arg-type]
        if op == "encrypt"
        else (lambda: e2ee_mail.decrypt(sealed, key))
    )
    out = measure(
        fn,
        case=f"info.seipdv2_threads{threads}.{op}.16MiB",
        group=f"seipdv2 threads {op}",
        nbytes=n,
        threads=threads,
    )
    assert (e2ee_mail.decrypt(out, key) if op == "encrypt" else out) == data
