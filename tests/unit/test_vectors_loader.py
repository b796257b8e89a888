"""e2ee_mail.vectors and its schema checker: discovery, validation, outcomes, report."""

from __future__ import annotations

import contextlib
import copy
import importlib.resources
import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from e2ee_mail import vectors
from e2ee_mail.errors import (
    DecryptionError,
    Error,
    FormatError,
    PacketError,
    UsageError,
)
from e2ee_mail.policy import Policy
from e2ee_mail.vectors.schema import SchemaError, SchemaStore, validate

VECTORS = vectors.default_dir()
RFC3394 = json.loads((VECTORS / "core" / "aes_kw_rfc3394.json").read_text())


# ---- the schema checker ----


def _store(tmp_path: Path, **schemas: Any) -> SchemaStore:
    for name, schema in schemas.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(schema))
    return SchemaStore(tmp_path)


def test_schema_reports_missing_required_field(tmp_path: Path) -> None:
    store = _store(tmp_path, s={"type": "object", "required": ["a"]})
    with pytest.raises(SchemaError, match="missing required field 'a'"):
        validate({}, "s.json", store)


def test_schema_reports_wrong_type_and_pattern(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "integer"},
            "h": {"type": "string", "pattern": "^([0-9a-f]{2})*$"},
        },
    }
    store = _store(tmp_path, s=schema)
    with pytest.raises(SchemaError, match=r"\$\.n: expected integer, got boolean"):
        validate({"n": True}, "s.json", store)
    with pytest.raises(SchemaError, match=r"\$\.h: 'abc' does not match"):
        validate({"h": "abc"}, "s.json", store)
    validate({"n": 3, "h": "00ff"}, "s.json", store)


def test_schema_refuses_unexpected_fields(tmp_path: Path) -> None:
    store = _store(
        tmp_path, s={"type": "object", "properties": {}, "additionalProperties": False}
    )
    with pytest.raises(SchemaError, match="unexpected field 'x'"):
        validate({"x": 1}, "s.json", store)


def test_schema_follows_refs_across_files(tmp_path: Path) -> None:
    store = _store(
        tmp_path,
        base={"$defs": {"hex": {"type": "string", "pattern": "^[0-9a-f]*$"}}},
        s={"type": "array", "items": {"$ref": "base.json#/$defs/hex"}, "minItems": 1},
    )
    validate(["00"], "s.json", store)
    with pytest.raises(SchemaError, match=r"\$\[1\]"):
        validate(["00", "zz"], "s.json", store)
    with pytest.raises(SchemaError, match="at least 1 items"):
        validate([], "s.json", store)


def test_schema_if_then_rule(tmp_path: Path) -> None:
    schema = {
        "if": {"properties": {"result": {"const": "invalid"}}},
        "then": {"required": ["error"]},
    }
    store = _store(tmp_path, s=schema)
    validate({"result": "valid"}, "s.json", store)
    validate({"result": "invalid", "error": "DecryptionError"}, "s.json", store)
    with pytest.raises(SchemaError, match="error"):
        validate({"result": "invalid"}, "s.json", store)


def test_schema_with_unsupported_keyword_is_refused(tmp_path: Path) -> None:
    store = _store(tmp_path, s={"type": "string", "format": "email"})
    with pytest.raises(SchemaError, match="'format' is not supported"):
        validate("a@b", "s.json", store)


def test_schema_names_must_stay_in_their_directory(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="bare file name"):
        SchemaStore(tmp_path).load("../etc.json")


# ---- loading files ----


def _tree(tmp_path: Path, doc: dict[str, Any], name: str = "v.json") -> Path:
    shutil.copytree(VECTORS / "schema", tmp_path / "schema", dirs_exist_ok=True)
    (tmp_path / "core").mkdir(exist_ok=True)
    path = tmp_path / "core" / name
    path.write_text(json.dumps(doc))
    return path


def test_shipped_schema_rejects_invalid_case_without_error(tmp_path: Path) -> None:
    doc = copy.deepcopy(RFC3394)
    case = doc["groups"][0]["cases"][0]
    case["result"] = "invalid"
    with pytest.raises(SchemaError, match="error"):
        vectors.load_file(_tree(tmp_path, doc))


def test_shipped_schema_rejects_acceptable_case_without_preset(tmp_path: Path) -> None:
    doc = copy.deepcopy(RFC3394)
    doc["groups"][0]["cases"][0]["result"] = "acceptable"
    with pytest.raises(SchemaError, match="preset"):
        vectors.load_file(_tree(tmp_path, doc))


def test_duplicate_case_ids_are_refused(tmp_path: Path) -> None:
    doc = copy.deepcopy(RFC3394)
    doc["groups"][0]["cases"][1]["id"] = 1
    with pytest.raises(SchemaError, match="used twice"):
        vectors.load_file(_tree(tmp_path, doc))


def test_flags_must_be_explained_in_notes(tmp_path: Path) -> None:
    doc = copy.deepcopy(RFC3394)
    doc["groups"][0]["cases"][0]["flags"] = ["Unexplained"]
    with pytest.raises(SchemaError, match="not in notes"):
        vectors.load_file(_tree(tmp_path, doc))


def test_file_without_schema_or_json_is_a_format_error(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match='no "schema" field'):
        vectors.load_file(_tree(tmp_path, {"cases": []}))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(FormatError, match="not readable JSON"):
        vectors.load_file(bad)


def test_iter_files_skips_schema_keys_and_gen(tmp_path: Path) -> None:
    _tree(tmp_path, RFC3394)
    for skipped in ("keys", "gen"):
        (tmp_path / skipped).mkdir()
        (tmp_path / skipped / "x.json").write_text("{}")
    (tmp_path / "core" / "_draft.json").write_text("{}")
    found = [p.relative_to(tmp_path).as_posix() for p in vectors.iter_files(tmp_path)]
    assert found == ["core/v.json"]


def test_default_dir_is_the_package_data() -> None:
    root = vectors.default_dir()
    assert root == Path(vectors.__file__).resolve().parent / "data"
    assert (root / "schema" / "vector-file.json").is_file()
    assert len(vectors.iter_files()) >= 10


def test_default_dir_in_an_archive_install_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Installed in a zip (zipimport), the data are not files the loader can walk.
    archive = tmp_path / "site.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("e2ee_mail/vectors/data/schema/vector-file.json", "{}")
    monkeypatch.setattr(
        importlib.resources,
        "files",
        lambda _: zipfile.Path(archive, "e2ee_mail/vectors/"),
    )
    with pytest.raises(UsageError, match="vectors verify DIR"):
        vectors.default_dir()
    with pytest.raises(UsageError):
        vectors.verify_cli(None, io.StringIO())


# ---- outcomes ----


def _case(kind: str, result: str, **extra: Any) -> vectors.Case:
    fields: dict[str, Any] = {
        "file": "t.json",
        "kind": kind,
        "id": 1,
        "comment": "",
        "flags": (),
        "result": result,
        "error": None,
        "preset": None,
        "inputs": {},
        "expected": {},
        "group": {},
        "directory": Path("."),
    }
    fields.update(extra)
    return vectors.Case(**fields)


def _succeeds(case: vectors.Case, policy: Policy) -> None:
    return None


def _mismatch(case: vectors.Case, policy: Policy) -> None:
    raise vectors.Mismatch("got 00, expected 01")


def _packet_error(case: vectors.Case, policy: Policy) -> None:
    raise PacketError("bad packet")


def _crash(case: vectors.Case, policy: Policy) -> None:
    raise IndexError("list index out of range")


def _custom_text(case: vectors.Case, policy: Policy) -> None:
    raise DecryptionError("bad padding at byte 3")


def _needs_legacy(case: vectors.Case, policy: Policy) -> None:
    if not policy.allow_unauthenticated:
        raise Error("refused by policy")


_TEST_RUNNERS: dict[str, vectors.Runner] = {
    "test-succeeds": _succeeds,
    "test-mismatch": _mismatch,
    "test-packet-error": _packet_error,
    "test-crash": _crash,
    "test-custom-decryption-text": _custom_text,
    "test-needs-legacy": _needs_legacy,
}


def _run(case: vectors.Case) -> None:
    vectors.run_case(case, runner=_TEST_RUNNERS[case.kind])


def test_valid_case_with_wrong_output_fails() -> None:
    with pytest.raises(vectors.VectorFailure, match="wrong output"):
        _run(_case("test-mismatch", "valid"))


def test_invalid_case_that_succeeds_fails() -> None:
    with pytest.raises(vectors.VectorFailure, match="succeeded, expected PacketError"):
        _run(_case("test-succeeds", "invalid", error="PacketError"))


def test_invalid_case_accepts_the_named_class_or_a_subclass() -> None:
    _run(_case("test-packet-error", "invalid", error="PacketError"))
    _run(_case("test-packet-error", "invalid", error="FormatError"))
    with pytest.raises(vectors.VectorFailure, match="expected DecryptionError"):
        _run(_case("test-packet-error", "invalid", error="DecryptionError"))


def test_exceptions_outside_the_hierarchy_are_failures() -> None:
    for result, error in (("valid", None), ("invalid", "Error")):
        with pytest.raises(vectors.VectorFailure, match="crashed with IndexError"):
            _run(_case("test-crash", result, error=error))


def test_decryption_error_must_carry_the_fixed_text() -> None:
    with pytest.raises(vectors.VectorFailure, match="custom text"):
        _run(_case("test-custom-decryption-text", "invalid", error="DecryptionError"))


def test_acceptable_case_needs_its_preset_and_fails_without_it() -> None:
    _run(_case("test-needs-legacy", "acceptable", preset="LEGACY_DECRYPT"))
    with pytest.raises(vectors.VectorFailure, match="succeeded, expected Error"):
        _run(_case("test-succeeds", "acceptable", preset="LEGACY_DECRYPT"))


def test_unknown_kind_fails_every_case() -> None:
    with pytest.raises(vectors.VectorFailure, match="no runner"):
        vectors.run_case(_case("nonexistent-kind", "valid"))
    with pytest.raises(vectors.VectorFailure, match="no runner"):
        vectors.run_case(_case("cms-not-yet-written", "valid"))


def test_every_vector_file_kind_has_a_runner() -> None:
    kinds = {vectors.load_file(path).kind for path in vectors.iter_files()}
    assert kinds <= set(vectors.runners())


# ---- the report ----


def test_verify_cli_prints_one_line_per_file_and_the_summary(tmp_path: Path) -> None:
    _tree(tmp_path, RFC3394, "a.json")
    broken = copy.deepcopy(RFC3394)
    broken["groups"][0]["cases"][5]["expected"]["wrapped"] = "00" * 40
    _tree(tmp_path, broken, "b.json")
    out = io.StringIO()
    failed = vectors.verify_cli(str(tmp_path), out)
    lines = out.getvalue().splitlines()
    assert failed == 1
    assert lines[0] == "PASS core/a.json: 6 cases"
    assert lines[1].startswith("FAIL core/b.json: 6 cases, 1 failed (#6: wrong output")
    assert lines[2] == "11 passed, 1 failed"
    assert len(lines) == 3


# ---- hostile vector files ----

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@given(data=st.data(), replacement=_JSON)
def test_a_mangled_vector_file_loads_or_raises_format_error(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, replacement: Any
) -> None:
    doc = copy.deepcopy(RFC3394)
    path = data.draw(st.sampled_from(_paths(doc)[1:]))
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = replacement
    root = tmp_path_factory.getbasetemp() / "mangled"
    if not root.exists():
        root.mkdir()
        _tree(root, RFC3394)
    (root / "core" / "v.json").write_text(json.dumps(doc))
    try:
        loaded = vectors.load_file(root / "core" / "v.json")
    except FormatError:
        return
    for case in loaded.cases:
        # run_case turns whatever happens into pass or VectorFailure, nothing else.
        with contextlib.suppress(vectors.VectorFailure):
            vectors.run_case(case)


def test_deeply_nested_json_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(FormatError):
        vectors.load_file(path)


# ---- the case accessors ----


def test_case_reads_inputs_then_group_fields() -> None:
    case = _case(
        "test-succeeds",
        "valid",
        inputs={"key": "00ff", "msg": "aGVsbG8=", "op": "wrap"},
        expected={"out": "0102", "mail": "d29ybGQ="},
        group={"key": "aaaa", "hash": "sha256"},
    )
    assert case.hex("key") == b"\x00\xff"
    assert case.text("hash") == "sha256"
    assert case.b64("msg") == b"hello"
    assert case.expected_hex("out") == b"\x01\x02"
    assert case.expected_b64("mail") == b"world"
    assert case.name == "t.json#1"


@pytest.mark.parametrize(
    ("inputs", "read"),
    [
        ({}, "missing"),
        ({"x": "0g"}, "hex"),
        ({"x": "@@"}, "b64"),
        ({"x": 3}, "text"),
    ],
)
def test_bad_case_values_are_mismatches(inputs: dict[str, Any], read: str) -> None:
    case = _case("test-succeeds", "valid", inputs=inputs)
    reader = {
        "missing": lambda: case.value("x"),
        "hex": lambda: case.hex("x"),
        "b64": lambda: case.b64("x"),
        "text": lambda: case.text("x"),
    }[read]
    with pytest.raises(vectors.Mismatch):
        reader()
    with pytest.raises(vectors.Mismatch):
        case.expected_hex("x")
