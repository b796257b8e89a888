"""Every vector file matches its schema, and every case behaves as its file says.

The same loader serves ``e2ee-mail vectors verify``; the cases are collected from the
vector files shipped in the package (``e2ee_mail/vectors/data/``), one test per
case.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from e2ee_mail import vectors
from e2ee_mail.errors import Error

ROOT = vectors.default_dir()
FILES = vectors.iter_files(ROOT)


def _loadable_cases() -> list[vectors.Case]:
    # A file that does not load fails test_vector_file_matches_its_schema; its cases
    # cannot be trusted, so they are not collected here.
    cases: list[vectors.Case] = []
    for path in FILES:
        try:
            cases.extend(vectors.load_file(path, ROOT).cases)
        except Error:
            continue
    return cases


CASES = _loadable_cases()


def _file_id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("path", FILES, ids=_file_id)
def test_vector_file_matches_its_schema(path: Path) -> None:
    loaded = vectors.load_file(path, ROOT)
    assert loaded.cases, "a vector file holds at least one case"
    assert loaded.source


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_vector_case(case: vectors.Case) -> None:
    vectors.run_case(case)


def test_published_core_vectors_cover_every_core_kind() -> None:
    kinds = Counter(case.kind for case in CASES if case.file.startswith("core/"))
    assert set(kinds) >= {
        "core-aes-kw",
        "core-aes-gcm",
        "core-x25519",
        "core-rsa-oaep",
        "core-ecdh",
        "core-x448",
        "core-mlkem",
    }
    # The published core vectors: at least 100 cases, each kind with valid and
    # invalid ones.
    assert sum(kinds.values()) >= 100
    for kind in kinds:
        results = {c.result for c in CASES if c.kind == kind}
        assert {"valid", "invalid"} <= results, kind


def test_signature_vectors_cover_each_algorithm() -> None:
    signature_cases = [c for c in CASES if c.kind == "core-signature"]
    for name, value in (
        ("algorithm", "ecdsa"),
        ("algorithm", "dsa"),
        ("algorithm", "ed448"),
        ("algorithm", "ed25519"),
        ("algorithm", "rsa-pss"),
        ("curve", "secp384r1"),
        ("hash", "sha384"),
    ):
        results = {c.result for c in signature_cases if c.group.get(name) == value}
        assert results == {"valid", "invalid"}, value


def test_every_core_file_names_its_source() -> None:
    for path in FILES:
        if _file_id(path).startswith("core/"):
            loaded = vectors.load_file(path, ROOT)
            assert loaded.source.startswith(("RFC 3394", "Wycheproof")), loaded.name


def test_zero_shared_secret_cases_are_refused() -> None:
    zero = [c for c in CASES if "ZeroSharedSecret" in c.flags]
    assert zero, "the X25519 subset keeps the all-zero shared secret cases"
    assert all(c.result == "invalid" and c.error == "DecryptionError" for c in zero)


def test_rfc9936_example_and_wycheproof_mlkem_are_shipped() -> None:
    example = [c for c in CASES if c.kind == "cms-rfc9936"]
    assert {c.result for c in example} == {"valid", "invalid"}
    peers = [c for c in CASES if c.file == "cms/pqc-hackathon.json"]
    assert len(peers) >= 16
    assert {c.result for c in peers} == {"valid", "acceptable"}
    mlkem = {c.file for c in CASES if c.kind == "core-mlkem"}
    assert mlkem == {
        "core/mlkem_768_wycheproof.json",
        "core/mlkem_1024_wycheproof.json",
    }
