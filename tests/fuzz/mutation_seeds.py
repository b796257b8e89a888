"""Seeds of every format for the volume fuzzer, read from committed files.

The messages and mails are the library's deterministic vectors and the imported ones
(GnuPG, OpenSSL, RFC 9580 Appendix A) under ``e2ee_mail/vectors/data/``; the keys
and certificates are the test keys under its ``keys/`` and those the vector files
carry. Nothing is generated, so a seed (and therefore every mutated input) is the same
on every run and every machine, and a reported input reproduces with the key file the
report names.

Each seed has a ``weight`` (how often the random mutator picks it): seeds whose every
input costs an RSA private-key operation, an RSA key validation or a passphrase KDF
are picked rarely, so that each format reaches its input count in the CPU budget.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
from pathlib import Path

from mutate import (
    Material,
    Template,
    der_length_fields,
    pgp_length_fields,
    split_base64,
)

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "e2ee_mail" / "vectors" / "data"
KEYS = VECTORS / "keys"

#: Passphrase of the protected test key files (see the keys' README).
KEYS_PASSPHRASE = b"test-only passphrase"

#: Relative cost classes, as selection weights.
CHEAP = 1.0
RSA_OP = 0.03  # an RSA-3072 private-key operation per input (~1 ms)
RSA_LOAD = 0.0005  # an RSA-3072 key validation per loaded input (110-250 ms)

#: The formats, in the order the summary prints them.
FORMATS = (
    "openpgp-v6",
    "openpgp-v6-armor",
    "openpgp-v4",
    "openpgp-v4-armor",
    "cms-der",
    "cms-pem",
    "smime",
    "pgpmime",
    "openpgp-cert",
    "openpgp-key",
    "x509-cert",
    "pkcs8-key",
)


@dataclasses.dataclass(frozen=True)
class RawSeed:
    """One valid input, before any key is loaded.

    ``kind`` picks the targets: "message" (decrypt, inspect), "mail"
    (decrypt_message, inspect, decrypt_stream), "cert" (load_certificate) or "key"
    (load_key). ``key`` is what opens a message (a test key file or key text from a
    vector file) and ``expected`` what it opens to; None means the seed
    must never open (legacy unauthenticated CMS under the default policy).
    """

    name: str
    fmt: str
    kind: str
    material: Material
    key: str | None = None
    key_text: bytes | None = None
    key_passphrase: bytes | None = None
    expected: bytes | None = None
    passphrase: bytes | None = None
    weight: float = CHEAP

    @property
    def data(self) -> bytes:
        return self.material.data


def material(data: bytes, structure: str) -> Material:
    """``data`` with its binary, template and length fields; ``structure`` is "der"
    or "pgp" (the binary under any text encoding)."""
    text = data.lstrip()[:1] == b"-" or structure.endswith("-text")
    template: Template | None = None
    binary = data
    if text:
        template, binary = split_base64(data)
    walk = der_length_fields if structure.startswith("der") else pgp_length_fields
    try:
        lengths = tuple(walk(binary))
    except (ValueError, IndexError):
        lengths = ()
    return Material(data, binary, template, lengths)


def _vector(path: str) -> dict[str, object]:
    with (VECTORS / path).open(encoding="utf-8") as fh:
        doc: dict[str, object] = json.load(fh)
    return doc


def _cases(path: str) -> list[tuple[dict[str, object], dict[str, object]]]:
    groups = _vector(path)["groups"]
    assert isinstance(groups, list)
    return [(g, c) for g in groups for c in g["cases"]]


def _message(inputs: dict[str, object]) -> bytes | None:
    if "message_b64" in inputs:
        return base64.b64decode(str(inputs["message_b64"]))
    if "message" in inputs:
        return str(inputs["message"]).encode()
    return None


def _pick_key(paths: list[str]) -> str:
    """The cheapest of the keys a case names (an X25519 one when there is one)."""
    names = [p.rsplit("/", 1)[-1] for p in paths]
    for n in names:
        if "25519" in n and "protected" not in n:
            return n
    return next((n for n in names if "protected" not in n), names[0])


def _messages() -> list[RawSeed]:
    out: list[RawSeed] = []
    seen: set[bytes] = set()

    def add(name: str, fmt: str, data: bytes, structure: str, **kw: object) -> None:
        if data in seen:
            return
        seen.add(data)
        out.append(RawSeed(name, fmt, "message", material(data, structure), **kw))  # type: ignore[arg-type]

    for path, family in (
        ("openpgp/deterministic-v6.json", "openpgp-v6"),
        ("openpgp/deterministic-v4.json", "openpgp-v4"),
        ("cms/deterministic.json", "cms"),
    ):
        for _, case in _cases(path):
            inputs = case["inputs"]
            assert isinstance(inputs, dict)
            data = _message(inputs)
            if data is None or case["result"] == "invalid":
                continue
            key = _pick_key(list(inputs["keys"]))
            legacy = case["result"] == "acceptable"
            plain = bytes.fromhex(str(case["expected"]["plaintext"]))  # type: ignore[index]
            armored = data.startswith(b"-----")
            fmt = (
                ("cms-pem" if armored else "cms-der")
                if family == "cms"
                else family + ("-armor" if armored else "")
            )
            add(
                f"{path.split('/')[1].removesuffix('.json')}#{case['id']}",
                fmt,
                data,
                "der" if family == "cms" else "pgp",
                key=key,
                expected=None if legacy else plain,
                weight=CHEAP if "25519" in key else RSA_OP,
            )
    # Messages of other implementations, with the keys their vector files carry.
    for path, family in (
        ("openpgp/gnupg-v4.json", "openpgp-v4"),
        ("cms/openssl.json", "cms"),
        ("openpgp/rfc9580-appendix-a.json", "openpgp-v6"),
    ):
        for group, case in _cases(path):
            inputs = case["inputs"]
            assert isinstance(inputs, dict)
            data = _message(inputs)
            if data is None or case["result"] == "invalid" or inputs["op"] == "inspect":
                continue
            key_text = str(inputs.get("key") or group.get("key")).encode()
            rsa = b"MIIG" in key_text or b"lQVY" in key_text
            armored = data.startswith(b"-----")
            fmt = (
                ("cms-pem" if armored else "cms-der")
                if family == "cms"
                else family + ("-armor" if armored else "")
            )
            pw = group.get("passphrase")
            add(
                f"{path.split('/')[1].removesuffix('.json')}#{case['id']}",
                fmt,
                data,
                "der" if family == "cms" else "pgp",
                key_text=key_text,
                key_passphrase=str(pw).encode() if pw else None,
                expected=None
                if case["result"] == "acceptable"
                else bytes.fromhex(str(case["expected"]["plaintext"])),  # type: ignore[index]
                weight=RSA_OP if rsa else CHEAP,
            )
    return out


def _mails() -> list[RawSeed]:
    out: list[RawSeed] = []
    for path, fmt, structure in (
        ("mime/smime.json", "smime", "der-text"),
        ("mime/pgpmime.json", "pgpmime", "pgp-text"),
    ):
        for _, case in _cases(path):
            inputs = case["inputs"]
            assert isinstance(inputs, dict)
            if case["result"] != "valid":
                continue
            data = base64.b64decode(str(inputs["message_b64"]))
            key = _pick_key(list(inputs["keys"]))
            out.append(
                RawSeed(
                    f"{path.split('/')[1].removesuffix('.json')}#{case['id']}",
                    fmt,
                    "mail",
                    material(data, structure),
                    key=key,
                    expected=base64.b64decode(str(case["expected"]["inner_b64"])),  # type: ignore[index]
                    weight=CHEAP if "25519" in key else RSA_OP,
                )
            )
    return out


def _key_material() -> list[RawSeed]:
    out: list[RawSeed] = []
    for path in sorted(KEYS.iterdir()):
        name = path.name
        if name == "README.md":
            continue
        data = path.read_bytes()
        x509 = name.startswith("cms-")
        cert = ".crt." in name or ".pub." in name
        rsa = "rsa" in name
        protected = "protected" in name
        fmt = (
            ("x509-cert" if cert else "pkcs8-key")
            if x509
            else ("openpgp-cert" if cert else "openpgp-key")
        )
        weight = CHEAP
        if not cert and rsa and not protected:
            weight = RSA_LOAD
        out.append(
            RawSeed(
                name,
                fmt,
                "cert" if cert else "key",
                material(data, "der" if x509 else "pgp"),
                passphrase=KEYS_PASSPHRASE if protected else None,
                weight=weight,
            )
        )
    # Keys and certificates that other implementations wrote.
    for vector, x509 in (
        ("cms/openssl.json", True),
        ("openpgp/gnupg-v4.json", False),
    ):
        groups = _vector(vector)["groups"]
        assert isinstance(groups, list)
        for group in groups:
            if "key" not in group:
                continue
            for field, kind in (("certificate", "cert"), ("key", "key")):
                text = str(group[field]).encode()
                rsa = b"MIIG" in text or b"lQVY" in text or b"mQGN" in text
                fmt = (
                    ("x509-cert" if kind == "cert" else "pkcs8-key")
                    if x509
                    else ("openpgp-cert" if kind == "cert" else "openpgp-key")
                )
                pw = group.get("passphrase")
                out.append(
                    RawSeed(
                        f"{vector.split('/')[1].removesuffix('.json')}:{field}:"
                        f"{group['comment']}",
                        fmt,
                        kind,
                        material(text, "der" if x509 else "pgp"),
                        passphrase=str(pw).encode() if pw and kind == "key" else None,
                        weight=RSA_LOAD if rsa and kind == "key" else CHEAP,
                    )
                )
    for _, case in _cases("openpgp/rfc9580-appendix-a.json"):
        inputs = case["inputs"]
        assert isinstance(inputs, dict)
        if case["result"] != "valid" or "data" not in inputs:
            continue
        kind = "cert" if inputs["op"] == "load_certificate" else "key"
        pw = inputs.get("passphrase")
        out.append(
            RawSeed(
                f"rfc9580-appendix-a#{case['id']}",
                "openpgp-cert" if kind == "cert" else "openpgp-key",
                kind,
                material(str(inputs["data"]).encode(), "pgp"),
                passphrase=str(pw).encode() if pw else None,
            )
        )
    return _unique(out)


def _unique(seeds: list[RawSeed]) -> list[RawSeed]:
    seen: set[bytes] = set()
    out = []
    for s in seeds:
        if s.data not in seen:
            seen.add(s.data)
            out.append(s)
    return out


@functools.cache
def raw_seeds() -> dict[str, tuple[RawSeed, ...]]:
    """Format name -> its seeds (no key loaded; cheap)."""
    every = _messages() + _mails() + _key_material()
    table = {fmt: tuple(s for s in every if s.fmt == fmt) for fmt in FORMATS}
    for fmt, seeds in table.items():
        assert seeds, f"no seed for {fmt}"
    return table
