"""A small JSON Schema checker for the schemas in data/schema/ (no dependency).

It implements the subset of JSON Schema (draft 2020-12) those schemas use: ``type``,
``properties``, ``required``, ``additionalProperties``, ``items``, ``minItems``,
``maxItems``, ``enum``, ``const``, ``pattern``, ``minLength``, ``maxLength``,
``minimum``, ``maximum``, ``allOf``, ``anyOf``, ``if``/``then``/``else`` and ``$ref``
(``#/json/pointer`` inside a schema, or ``other.json#/pointer`` next to it). Any other
keyword is refused with a :class:`SchemaError`, so a schema never silently relies on
something unchecked. Formats, ``$dynamicRef``, ``unevaluatedProperties`` and the like
are deliberately left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

from ..errors import FormatError

__all__ = ["SchemaError", "SchemaStore", "validate"]

#: Keywords that only annotate and are not checked.
_ANNOTATIONS: Final = frozenset(
    {"$schema", "$id", "$comment", "$defs", "title", "description", "examples"}
)
_TYPES: Final[dict[str, Callable[[object], bool]]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class SchemaError(FormatError):
    """A document does not match its schema, or the schema itself is unusable."""


class SchemaStore:
    """Loads schema files from one directory and resolves ``$ref`` between them."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._cache: dict[str, Any] = {}

    def load(self, name: str) -> Any:
        """Return the parsed schema file ``name`` (a bare file name)."""
        if "/" in name or "\\" in name or name.startswith("."):
            raise SchemaError(f"schema name {name!r} must be a bare file name")
        if name not in self._cache:
            path = self._dir / name
            try:
                self._cache[name] = json.loads(path.read_text(encoding="utf-8"))
            except OSError:
                raise SchemaError(f"schema {name!r} not found in {self._dir}") from None
            except ValueError as exc:
                raise SchemaError(f"schema {name!r} is not valid JSON: {exc}") from None
        return self._cache[name]

    def resolve(self, ref: str, current: str) -> tuple[Any, str]:
        """Return (sub-schema, its file) for ``ref`` seen in file ``current``."""
        file_part, _, pointer = ref.partition("#")
        name = file_part or current
        node = self.load(name)
        for token in filter(None, pointer.split("/")):
            token = token.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or token not in node:
                raise SchemaError(f"unresolvable $ref {ref!r} in {current}")
            node = node[token]
        return node, name


def validate(instance: object, schema_name: str, store: SchemaStore) -> None:
    """Check ``instance`` against schema file ``schema_name``.

    Raises:
        SchemaError: naming the first few places where the document does not match.
    """
    errors = list(_check(instance, store.load(schema_name), schema_name, "$", store))
    if errors:
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise SchemaError("; ".join(errors[:3]) + more)


def _check(
    value: object, schema: Any, file: str, where: str, store: SchemaStore
) -> Iterator[str]:
    if schema is True:
        return
    if schema is False:
        yield f"{where}: not allowed"
        return
    if not isinstance(schema, dict):
        raise SchemaError(f"{file}: a schema must be an object or a boolean")
    for key in schema:
        if key not in _KEYWORDS and key not in _ANNOTATIONS:
            raise SchemaError(
                f"{file}: keyword {key!r} is not supported by this checker"
            )
    if "$ref" in schema:
        sub, sub_file = store.resolve(schema["$ref"], file)
        yield from _check(value, sub, sub_file, where, store)
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[n](value) for n in names):
            yield f"{where}: expected {'/'.join(names)}, got {_type_name(value)}"
            return
    if "enum" in schema and value not in schema["enum"]:
        yield f"{where}: {_short(value)} is not one of {schema['enum']}"
    if "const" in schema and value != schema["const"]:
        yield f"{where}: must be {schema['const']!r}"
    if isinstance(value, str):
        yield from _check_string(value, schema, where)
    if _TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            yield f"{where}: {value} is below {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            yield f"{where}: {value} is above {schema['maximum']}"
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            yield f"{where}: needs at least {schema['minItems']} items"
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            yield f"{where}: allows at most {schema['maxItems']} items"
        if "items" in schema:
            for i, item in enumerate(value):
                yield from _check(item, schema["items"], file, f"{where}[{i}]", store)
    if isinstance(value, dict):
        yield from _check_object(value, schema, file, where, store)
    for sub in schema.get("allOf", ()):
        yield from _check(value, sub, file, where, store)
    if "anyOf" in schema:
        tries = [
            list(_check(value, sub, file, where, store)) for sub in schema["anyOf"]
        ]
        if all(tries):
            yield f"{where}: matches none of the alternatives ({tries[0][0]})"
    if "if" in schema:
        matched = not any(True for _ in _check(value, schema["if"], file, where, store))
        branch = schema.get("then" if matched else "else", True)
        yield from _check(value, branch, file, where, store)


def _check_string(value: str, schema: dict[str, Any], where: str) -> Iterator[str]:
    if "minLength" in schema and len(value) < schema["minLength"]:
        yield f"{where}: shorter than {schema['minLength']} characters"
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        yield f"{where}: longer than {schema['maxLength']} characters"
    if "pattern" in schema and not re.search(schema["pattern"], value):
        yield f"{where}: {_short(value)} does not match {schema['pattern']!r}"


def _check_object(
    value: dict[str, Any],
    schema: dict[str, Any],
    file: str,
    where: str,
    store: SchemaStore,
) -> Iterator[str]:
    for name in schema.get("required", ()):
        if name not in value:
            yield f"{where}: missing required field {name!r}"
    props: dict[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in props:
            yield from _check(item, props[name], file, f"{where}.{name}", store)
        elif extra is False:
            yield f"{where}: unexpected field {name!r}"
        else:
            yield from _check(item, extra, file, f"{where}.{name}", store)


def _type_name(value: object) -> str:
    for name, test in _TYPES.items():
        if name != "number" and test(value):
            return name
    return type(value).__name__


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


_KEYWORDS: Final = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minItems",
        "maxItems",
        "enum",
        "const",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "allOf",
        "anyOf",
        "if",
        "then",
        "else",
        "$ref",
    }
)
