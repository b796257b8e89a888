"""Secrets hygiene (secrets never appear in a repr, a log, an exception or a file):
repr/str of every key and certificate object, every exception (message and full
traceback, chained causes included) and every log line emitted while encrypting,
decrypting, rewrapping and generating keys are scanned for the secret key material
and the plaintext in raw, hex, base64 and decimal forms; temporary files made by
decrypt_stream are 0600 and gone afterwards; `e2ee-mail keygen` writes its key 0600.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import io
import logging
import os
import stat
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa, x25519
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from doubles import Pipe

import e2ee_mail
from e2ee_mail.policy import DEFAULT

PLAINTEXT = b"TOP-SECRET-PLAINTEXT: the merger closes on Friday at 41.50/share\n"
V15 = dataclasses.replace(DEFAULT, allow_rsa_pkcs1v15_encrypt=True)


# ------------------------------------------------------------------- material


@functools.cache
def _keys() -> dict[str, e2ee_mail.SecretKey]:
    g = e2ee_mail.generate_key
    return {
        "x509-x25519": g("Ha <ha@example.org>", format="x509", kind="x25519"),
        "x509-rsa": g("Hb <hb@example.org>", format="x509", kind="rsa3072"),
        "pgp6-x25519": g("Hc <hc@example.org>"),
        "pgp6-rsa": g("Hd <hd@example.org>", kind="rsa3072"),
        "pgp4-ecdh": g("He <he@example.org>", profile="rfc4880"),
        "pgp4-rsa": g("Hf <hf@example.org>", kind="rsa3072", profile="rfc4880"),
    }


def _private_objects(key: e2ee_mail.SecretKey) -> list[object]:
    if key.format == "x509":
        return [key.private_key]  # type: ignore[attr-defined]
    return [private for _, private in key.decryption_keys()]  # type: ignore[attr-defined]


def _secret_values(key: e2ee_mail.SecretKey) -> list[bytes | int]:
    """The raw secret scalars of every private (sub)key of ``key``."""
    out: list[bytes | int] = []
    for private in _private_objects(key):
        if isinstance(private, x25519.X25519PrivateKey):
            raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
            # RFC 4880 ECDH (Curve25519Legacy) stores the scalar big-endian (MPI).
            out += [raw, raw[::-1]]
        elif isinstance(private, rsa.RSAPrivateKey):
            n = private.private_numbers()
            out += [n.d, n.p, n.q, n.dmp1, n.dmq1, n.iqmp]
    return out


def _forms(secret: bytes | int) -> list[str]:
    """Textual forms of a secret an error/log/repr could leak (long enough that a
    hit is not chance)."""
    if isinstance(secret, int):
        secret = secret.to_bytes((secret.bit_length() + 7) // 8, "big")
        forms = [str(int.from_bytes(secret, "big"))[:40]]
    else:
        forms = []
    chunks = [secret[i : i + 24] for i in range(0, max(len(secret) - 23, 1), 24)]
    for piece in chunks[:8]:
        if len(piece) < 12:
            continue
        forms += [piece.hex(), piece.hex().upper(), repr(piece)[2:-1][:40]]
        # base64 at every alignment: drop the edge characters that depend on
        # neighbouring bytes.
        for shift in range(3):
            b64 = base64.b64encode(b"\0" * shift + piece).decode()
            forms.append(b64[4:-4])
    return [f for f in forms if len(f) >= 16]


def _plaintext_forms() -> list[str]:
    return [PLAINTEXT.decode().strip(), PLAINTEXT.hex(), *_forms(PLAINTEXT)]


def _assert_clean(text: str, what: str, keys: list[e2ee_mail.SecretKey]) -> None:
    for form in _plaintext_forms():
        assert form not in text, f"{what} shows the plaintext ({form[:12]}...)"
    for key in keys:
        for value in _secret_values(key):
            for form in _forms(value):
                assert form not in text, f"{what} shows secret key material of {key!r}"


def _all_keys() -> list[e2ee_mail.SecretKey]:
    return list(_keys().values())


# ------------------------------------------------------------------ repr / str


@pytest.mark.parametrize(
    "name",
    ["x509-x25519", "x509-rsa", "pgp6-x25519", "pgp6-rsa", "pgp4-ecdh", "pgp4-rsa"],
)
def test_repr_and_str_of_keys_and_certificates_show_no_secret(name: str) -> None:
    key = _keys()[name]
    reloaded = e2ee_mail.load_key(key.export())
    objects: list[object] = [
        key,
        key.public,
        reloaded,
        reloaded.public,
        e2ee_mail.load_certificate(key.public.export()),
    ]
    if key.format == "openpgp":
        from e2ee_mail.openpgp.packets.keys import parse_secret_key

        infos = key.decryption_keys()  # type: ignore[attr-defined]
        objects += [info for info, _ in infos]
        objects += list(key.public.subkeys)  # type: ignore[attr-defined]
        for packet in key._packets:  # type: ignore[attr-defined]
            objects.append(packet)  # the generic Packet of a secret key, too
            if packet.tag in (5, 7):
                objects.append(parse_secret_key(packet.body))
    for obj in objects:
        for text in (repr(obj), str(obj), f"{obj}", f"{obj!r}"):
            _assert_clean(text, f"repr/str of {type(obj).__name__}", [key])
    assert key.public.fingerprint in repr(key)  # the repr does say something


def test_secret_container_and_inspection_show_no_secret() -> None:
    from e2ee_mail.core.secret import Secret

    raw = os.urandom(32)
    box = Secret(raw)
    for text in (repr(box), str(box)):
        assert raw.hex() not in text and base64.b64encode(raw).decode() not in text
    key = _keys()["pgp6-x25519"]
    ct = e2ee_mail.encrypt(PLAINTEXT, key.public)
    _assert_clean(
        str(e2ee_mail.inspect(ct)) + repr(e2ee_mail.inspect(ct)), "inspect()", [key]
    )


def test_keyring_repr_shows_no_secret(tmp_path: Path) -> None:
    try:
        from e2ee_mail.keys.ring import Keyring
    except ImportError:  # pragma: no cover - the keyring is optional here
        pytest.skip("the keyring module is not importable")
    key = _keys()["pgp6-x25519"]
    ring = Keyring.open(tmp_path / "ring", passphrase="ring pass")
    version = ring.add("alice@example.org", key)
    for obj in (ring, version):
        _assert_clean(repr(obj) + str(obj), f"repr of {type(obj).__name__}", [key])
    assert "ring pass" not in repr(ring)


# ------------------------------------------------------------------ exceptions


def _failures() -> Iterator[
    tuple[str, Callable[[], object], list[e2ee_mail.SecretKey]]
]:
    """(label, call that must raise e2ee_mail.Error, keys whose secrets it holds)."""
    k = _keys()
    for name, key in k.items():
        fmt = "cms" if key.format == "x509" else "openpgp"
        policy = V15 if name == "x509-rsa" else DEFAULT
        ct = bytes(e2ee_mail.encrypt(PLAINTEXT, key.public, format=fmt, policy=policy))
        other = k["pgp6-x25519"] if fmt == "cms" else k["x509-x25519"]
        same_kind = next(
            x for n, x in k.items() if n != name and x.format == key.format
        )
        flipped = bytearray(ct)
        flipped[-5] ^= 1
        header_flip = bytearray(ct)
        header_flip[len(ct) // 3] ^= 0x40
        yield (
            f"{name}: tag flip",
            lambda c=bytes(flipped), k_=key: e2ee_mail.decrypt(c, k_),
            [key],
        )
        yield (
            f"{name}: header flip",
            lambda c=bytes(header_flip), k_=key: e2ee_mail.decrypt(c, k_),
            [key],
        )
        yield (
            f"{name}: truncated",
            lambda c=ct[:-7], k_=key: e2ee_mail.decrypt(c, k_),
            [key],
        )
        yield (
            f"{name}: wrong key",
            lambda c=ct, k_=same_kind: e2ee_mail.decrypt(c, k_),
            [same_kind],
        )
        yield (
            f"{name}: other format key",
            lambda c=ct, k_=other: e2ee_mail.decrypt(c, k_),
            [other],
        )
        yield (
            f"{name}: stream tag flip",
            lambda c=bytes(flipped), k_=key: e2ee_mail.decrypt_stream(
                io.BytesIO(c), io.BytesIO(), k_
            ),
            [key],
        )
        yield (
            f"{name}: rewrap with the wrong key",
            lambda c=ct, k_=same_kind: e2ee_mail.rewrap(c, k_, k_.public),
            [same_kind],
        )
        protected = key.export(passphrase=b"right passphrase")
        yield (
            f"{name}: wrong passphrase",
            lambda p=protected: e2ee_mail.load_key(p, passphrase="wrong"),
            [key],
        )
        export = bytes(key.export(armor=False))
        yield (
            f"{name}: damaged key file",
            lambda e=export: e2ee_mail.load_key(e[: len(e) // 2 + 3]),
            [key],
        )
        flipped_key = bytearray(export)
        flipped_key[len(export) - 40] ^= 0xFF
        yield (
            f"{name}: flipped key file",
            lambda e=bytes(flipped_key): e2ee_mail.load_key(e),
            [key],
        )


def test_exceptions_never_include_plaintext_or_key_material() -> None:
    seen = 0
    for label, call, keys in _failures():
        try:
            call()
        except e2ee_mail.Error as exc:
            seen += 1
            text = "".join(traceback.format_exception(exc))
            _assert_clean(str(exc), f"{label}: str(exc)", keys)
            _assert_clean(repr(exc.args), f"{label}: exc.args", keys)
            _assert_clean(text, f"{label}: traceback", keys)
        except Exception as exc:
            pytest.fail(f"{label}: {type(exc).__name__} is not an e2ee_mail.Error")
        else:
            # A damaged key file may still load (the damage hit a public field);
            # anything else must fail.
            assert "key file" in label, f"{label}: did not fail"
    assert seen > 40


def test_assert_clean_catches_a_leak() -> None:
    """The scanner itself can fail: a message carrying key bytes in hex is caught."""
    key = _keys()["x509-x25519"]
    raw = _secret_values(key)[0]
    assert isinstance(raw, bytes)
    with pytest.raises(AssertionError):
        _assert_clean(f"oops {raw.hex()}", "probe", [key])
    with pytest.raises(AssertionError):
        _assert_clean("x" + base64.b64encode(b"ab" + raw).decode(), "probe", [key])
    with pytest.raises(AssertionError):
        _assert_clean(f"got {PLAINTEXT!r}", "probe", [])


# ---------------------------------------------------------------------- logging


def test_logging_at_debug_never_includes_secrets(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    from email.message import EmailMessage

    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="e2ee_mail")
    k = _keys()
    made = [
        e2ee_mail.generate_key("Log <log@example.org>"),
        e2ee_mail.generate_key("Log <log@example.org>", format="x509"),
    ]
    for name, key in k.items():
        fmt = "cms" if key.format == "x509" else "openpgp"
        policy = V15 if name == "x509-rsa" else DEFAULT
        for armor in (False, True):
            ct = e2ee_mail.encrypt(
                PLAINTEXT, key.public, format=fmt, armor=armor, policy=policy
            )
            assert e2ee_mail.decrypt(ct, key) == PLAINTEXT
            out = io.BytesIO()
            e2ee_mail.decrypt_stream(io.BytesIO(bytes(ct)), out, key)
            new = e2ee_mail.rewrap(ct, key, key.public)
            assert e2ee_mail.decrypt(new, key) == PLAINTEXT
            e2ee_mail.inspect(ct)
        msg = EmailMessage()
        msg["From"] = "a@example.org"
        msg["To"] = "b@example.org"
        msg["Subject"] = "s"
        msg.set_content(PLAINTEXT.decode())
        mail = e2ee_mail.encrypt_message(
            msg, key.public, format="smime" if fmt == "cms" else "pgpmime"
        )
        e2ee_mail.decrypt_message(mail, key)
        with pytest.raises(e2ee_mail.Error):
            e2ee_mail.decrypt(bytes(ct)[:-3], key)
    text = caplog.text + "".join(
        f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records
    )
    _assert_clean(text, "log output", [*k.values(), *made])


# ------------------------------------------------------------------- temp files


class _Watcher(io.RawIOBase):
    """A dst that, on every write, records the mode of each open file in ``root``
    and whether any of them holds the plaintext."""

    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self.modes: list[int] = []
        self.plaintext_in_temp = False
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: object) -> int:
        for mode, content in _open_temps(self.root):
            self.modes.append(mode)
            self.plaintext_in_temp |= PLAINTEXT[:24] in content
        view = memoryview(b)  # type: ignore[arg-type]
        self.data += view
        return len(view)


def _open_temps(root: str) -> list[tuple[int, bytes]]:
    """Mode and content of every file this process has open under ``root``,
    nameless ones (unlinked spools) included."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith(root):
                with open(f"/proc/self/fd/{fd}", "rb") as fh:
                    mode = stat.S_IMODE(os.fstat(fh.fileno()).st_mode)
                    found.append((mode, fh.read()))
        except OSError:
            continue
    return found


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "spool"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


@pytest.mark.parametrize(
    ("name", "spools"),
    [
        ("x509-x25519", True),
        ("x509-rsa", True),
        ("pgp4-ecdh", True),
        ("pgp6-x25519", False),
    ],
)
def test_decrypt_stream_temp_files_are_0600_sealed_and_removed(
    private_tmp: Path, name: str, spools: bool
) -> None:
    key = _keys()[name]
    fmt = "cms" if key.format == "x509" else "openpgp"
    ct = bytes(e2ee_mail.encrypt(PLAINTEXT * 100, key.public, format=fmt))
    dst = _Watcher(private_tmp)
    e2ee_mail.decrypt_stream(Pipe(ct), dst, key)
    assert bytes(dst.data) == PLAINTEXT * 100
    if spools:  # CMS and SEIPDv1 spool before releasing; SEIPDv2 streams chunks
        assert dst.modes, "expected a spool file while the plaintext was copied out"
    assert all(m == 0o600 for m in dst.modes), [oct(m) for m in dst.modes]
    assert not dst.plaintext_in_temp, "a temporary file held the plaintext in clear"
    assert os.listdir(private_tmp) == []
    assert _open_temps(str(private_tmp)) == []
    # And on failure: nothing left behind either.
    with pytest.raises(e2ee_mail.Error):
        e2ee_mail.decrypt_stream(Pipe(ct[:-9]), _Watcher(private_tmp), key)
    assert os.listdir(private_tmp) == []
    assert _open_temps(str(private_tmp)) == []


def _mail(key: e2ee_mail.SecretKey) -> bytes:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "a@example.org"
    msg["To"] = "b@example.org"
    msg["Subject"] = "s"
    msg.set_content((PLAINTEXT * 100).decode())
    fmt = "smime" if key.format == "x509" else "pgpmime"
    return e2ee_mail.encrypt_message(msg, key.public, format=fmt).as_bytes()


@pytest.mark.parametrize(
    ("name", "mail"),
    [
        ("x509-x25519", False),
        ("pgp4-ecdh", False),
        ("x509-x25519", True),
        ("pgp4-ecdh", True),
    ],
)
def test_decrypt_stream_spools_in_spool_dir_only(
    private_tmp: Path, tmp_path: Path, name: str, mail: bool
) -> None:
    # CMS from a pipe, SEIPDv1, S/MIME and PGP/MIME mail (their CMS and SEIPDv1
    # inside): every spool in the directory given, nothing in the system's.
    key = _keys()[name]
    if mail:
        ct = _mail(key)
    else:
        fmt = "cms" if key.format == "x509" else "openpgp"
        ct = bytes(e2ee_mail.encrypt(PLAINTEXT * 100, key.public, format=fmt))
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    dst = _Watcher(chosen)
    e2ee_mail.decrypt_stream(Pipe(ct), dst, key, spool_dir=chosen)
    assert PLAINTEXT.rstrip() in dst.data
    assert dst.modes and all(m == 0o600 for m in dst.modes)
    assert not dst.plaintext_in_temp
    assert os.listdir(chosen) == [] and os.listdir(private_tmp) == []


def test_legacy_cbc_stream_spool_is_0600_sealed_and_removed(private_tmp: Path) -> None:
    key = _keys()["x509-rsa"]
    ct = bytes(
        e2ee_mail.encrypt(PLAINTEXT, key.public, format="cms", cipher="aes-256-cbc")
    )
    dst = _Watcher(private_tmp)
    e2ee_mail.decrypt_stream(Pipe(ct), dst, key, allow_unauthenticated=True)
    assert bytes(dst.data) == PLAINTEXT
    assert dst.modes and all(m == 0o600 for m in dst.modes)
    assert not dst.plaintext_in_temp
    assert os.listdir(private_tmp) == []


# ------------------------------------------------------------------------ keygen


@pytest.mark.parametrize(("fmt", "kind"), [("openpgp", "x25519"), ("x509", "x25519")])
def test_keygen_writes_the_secret_key_0600(tmp_path: Path, fmt: str, kind: str) -> None:
    old = os.umask(0o022)
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "e2ee_mail.cli",
                "keygen",
                "--format",
                fmt,
                "--kind",
                kind,
                "--uid",
                "K <k@example.org>",
                "--out",
                str(tmp_path / "k"),
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
    finally:
        os.umask(old)
    assert proc.returncode == 0, proc.stderr.decode()
    assert stat.S_IMODE((tmp_path / "k.key").stat().st_mode) == 0o600
    assert (tmp_path / "k.pub").exists()
    key = e2ee_mail.load_key(tmp_path / "k.key")
    leftovers = [p.name for p in tmp_path.iterdir() if p.name not in ("k.key", "k.pub")]
    assert leftovers == []  # written atomically: no temp file left behind
    _assert_clean(proc.stdout.decode() + proc.stderr.decode(), "keygen output", [key])
