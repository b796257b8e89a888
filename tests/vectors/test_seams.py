"""The test-only randomness seams (the private ``*_from_parts`` helpers) cannot weaken
real mail.

- No public function or method of ``e2ee_mail`` (its ``__all__``) has a parameter
  that could carry pinned randomness or precomputed key material (a content key,
  nonce, salt, IV, ephemeral key, RSA blob ...), nor ``**kwargs`` to smuggle one, and
  no public name is a ``*_from_parts`` seam; ``Policy`` has no such field either.
- Two public encryptions of the same input differ, for every format.
- The deterministic vectors really check the seam: a changed recorded value fails.
- The generators are deterministic: re-running one over the committed file gives it
  again, byte for byte (the quick ones; det_openpgp.py takes ~15 s and is left out).
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest

import e2ee_mail
from e2ee_mail.vectors import VectorFailure, load_file, run_case

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "e2ee_mail" / "vectors" / "data"
KEYS = VECTORS / "keys"
GENERATORS = ROOT / "vectors" / "gen"
#: Parameter names that would let a caller pin randomness or inject key material.
_SEAM_NAME = re.compile(
    r"(cek|nonce|iv|salt|seed|random|entropy|ephemeral|session_key|content_key|"
    r"encrypted_key|pkesk|from_parts|_secret$|secrets|boundary|prefix|rng|drbg)",
    re.IGNORECASE,
)


def _seam_parameters(func: Callable[..., object]) -> list[str]:
    found = []
    for name, param in inspect.signature(func).parameters.items():
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            found.append(f"**{name}")
        elif _SEAM_NAME.search(name):
            found.append(name)
    return found


def _public_callables() -> dict[str, Callable[..., object]]:
    found: dict[str, Callable[..., object]] = {}
    for name in e2ee_mail.__all__:
        obj = getattr(e2ee_mail, name)
        if inspect.isfunction(obj):
            found[name] = obj
        elif inspect.isclass(obj) and not issubclass(obj, BaseException):
            for attr, member in vars(obj).items():
                if inspect.isfunction(member) and not attr.startswith("_"):
                    found[f"{name}.{attr}"] = member
    return found


def test_the_seam_detector_catches_a_seam_parameter() -> None:
    def leaky(data: bytes, *, nonce: bytes = b"", **extra: object) -> None: ...

    def clean(data: bytes, *, armor: bool = False) -> None: ...

    assert _seam_parameters(leaky) == ["nonce", "**extra"]
    assert _seam_parameters(clean) == []


def test_public_functions_accept_no_randomness_or_key_parts() -> None:
    functions = _public_callables()
    assert {"encrypt", "encrypt_stream", "encrypt_message", "rewrap"} <= set(functions)
    leaks = {n: p for n, f in functions.items() if (p := _seam_parameters(f))}
    assert leaks == {}


def test_no_public_name_is_a_from_parts_seam() -> None:
    assert not [n for n in e2ee_mail.__all__ if "parts" in n.lower()]
    assert not [n for n in dir(e2ee_mail) if "from_parts" in n]


def test_policy_has_no_field_that_pins_randomness() -> None:
    fields = [f.name for f in dataclasses.fields(e2ee_mail.Policy)]
    assert fields
    assert [f for f in fields if _SEAM_NAME.search(f)] == []


def _load(name: str) -> e2ee_mail.Certificate:
    return e2ee_mail.load_certificate((KEYS / name).read_bytes())


@pytest.mark.parametrize(
    ("fmt", "certs", "armor"),
    [
        ("cms", ["cms-rsa3072.crt.pem", "cms-x25519.crt.pem"], False),
        ("cms", ["cms-x25519.crt.pem"], True),
        ("openpgp", ["pgp6-x25519.pub.asc", "pgp6-rsa3072.pub.asc"], False),
        ("openpgp", ["pgp4-cv25519.pub.asc"], True),
    ],
)
def test_two_public_encryptions_of_the_same_input_differ(
    fmt: str, certs: list[str], armor: bool
) -> None:
    recipients = [_load(c) for c in certs]
    first = e2ee_mail.encrypt(b"same input", recipients, format=fmt, armor=armor)  # type: ignore[arg-type]
    second = e2ee_mail.encrypt(b"same input", recipients, format=fmt, armor=armor)  # type: ignore[arg-type]
    assert first != second


@pytest.mark.parametrize(
    ("fmt", "cert"),
    [("smime", "cms-x25519.crt.pem"), ("pgpmime", "pgp6-x25519.pub.asc")],
)
def test_two_public_mail_encryptions_differ(fmt: str, cert: str) -> None:
    msg = EmailMessage()
    msg["From"] = "a@test.invalid"
    msg["To"] = "b@test.invalid"
    msg["Subject"] = "same"
    msg.set_content("same body")
    one = e2ee_mail.encrypt_message(msg, [_load(cert)], format=fmt)  # type: ignore[arg-type]
    two = e2ee_mail.encrypt_message(msg, [_load(cert)], format=fmt)  # type: ignore[arg-type]
    assert one.as_bytes() != two.as_bytes()


def _first_encrypt_case(rel: str):  # type: ignore[no-untyped-def]
    vector_file = load_file(VECTORS / rel, VECTORS)
    return next(c for c in vector_file.cases if c.inputs.get("op") == "encrypt")


@pytest.mark.parametrize(
    ("rel", "field"),
    [
        ("cms/deterministic.json", "nonce"),
        ("cms/deterministic.json", "cek"),
        ("openpgp/deterministic-v6.json", "salt"),
        ("openpgp/deterministic-v4.json", "random_block"),
        ("mime/pgpmime.json", "boundary"),
    ],
)
def test_a_changed_recorded_value_fails_the_vector(rel: str, field: str) -> None:
    case = _first_encrypt_case(rel)
    run_case(case)  # as committed: passes
    value = str(case.inputs[field])
    changed = value[:-1] + ("0" if value[-1] != "0" else "1")
    bad = dataclasses.replace(case, inputs={**case.inputs, field: changed})
    with pytest.raises(VectorFailure):
        run_case(bad)


@pytest.mark.parametrize(
    ("script", "outputs"),
    [
        ("det_cms.py", ["cms/deterministic.json"]),
        ("det_mime.py", ["mime/smime.json", "mime/pgpmime.json"]),
    ],
)
def test_generator_reproduces_the_committed_file(
    script: str, outputs: list[str], tmp_path: Path
) -> None:
    # RSA blobs cannot be pinned: the generator keeps those of the file it replaces,
    # so it runs over a copy of the committed file(s).
    for rel in outputs:
        shutil.copy(VECTORS / rel, tmp_path / Path(rel).name)
    target = tmp_path / Path(outputs[0]).name if len(outputs) == 1 else tmp_path
    proc = subprocess.run(
        [sys.executable, str(GENERATORS / script), str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for rel in outputs:
        assert (tmp_path / Path(rel).name).read_bytes() == (VECTORS / rel).read_bytes()
