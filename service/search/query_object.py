"""List parameters held as a JSON object (a saved view's `query`): the JSON Schema that
states what `ListFilters.from_object` accepts, the JSON types it holds numbers and
booleans to, and the normalised object that is stored and given back.

Everything here is derived from the parameters' own model, so a parameter added there is
described, checked and normalised here without a change.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import JsonValue

from service.search.parameters import ListFilters

F = TypeVar("F", bound=ListFilters)


def _inlined(schema: Any, definitions: dict[str, Any]) -> Any:
    """The schema with every `#/$defs/...` reference replaced by what it names: the result is
    embedded in other documents (the OpenAPI one), where those references would dangle."""
    if isinstance(schema, dict):
        reference = schema.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/"):
            target = _inlined(definitions[reference.removeprefix("#/$defs/")], definitions)
            rest = {key: value for key, value in schema.items() if key != "$ref"}
            return {**target, **_inlined(rest, definitions)}
        return {key: _inlined(value, definitions) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_inlined(item, definitions) for item in schema]
    return schema


@cache
def _properties(model: type[ListFilters]) -> dict[str, dict[str, Any]]:
    document = model.model_json_schema()
    definitions = document.get("$defs", {})
    properties: dict[str, dict[str, Any]] = _inlined(document["properties"], definitions)
    return properties


@cache
def _json_types(model: type[ListFilters]) -> dict[str, str]:
    """The parameters that hold only integers or only booleans, with that JSON type."""
    return {
        name: schema["type"]
        for name, schema in _properties(model).items()
        if schema.get("type") in ("integer", "boolean")
    }


def object_schema(model: type[ListFilters], *, single_values: bool) -> dict[str, Any]:
    """The JSON Schema of the parameters as an object, unknown keys refused. With
    `single_values`, each repeated parameter also takes one value alone (as `from_object`
    reads it: a list of one); without, the normalised form that `as_object` gives."""
    properties: dict[str, Any] = {}
    for name, schema in copy.deepcopy(_properties(model)).items():
        schema.pop("title", None)
        branches = schema.get("anyOf", [])
        array = next((branch for branch in branches if branch.get("type") == "array"), None)
        if single_values and array is not None:
            schema["anyOf"] = [array, copy.deepcopy(array["items"])] + [
                branch for branch in branches if branch is not array
            ]
        properties[name] = schema
    return {"type": "object", "properties": properties, "additionalProperties": False}


# Per JSON type: the error's type (pydantic's own names) and its sentence.
_TYPE_ERRORS = {
    "integer": ("int_type", "Input should be a JSON integer, not text or a boolean"),
    "boolean": ("bool_type", "Input should be a JSON boolean, true or false"),
}


def _wrong_type(kind: str, value: object) -> bool:
    if kind == "boolean":
        return not isinstance(value, bool)
    # 5 or 5.0 (both integers to JSON Schema; the model refuses 5.5), never true or "5".
    return isinstance(value, bool) or not isinstance(value, int | float)


def _whole_number(kind: str | None, value: object) -> object:
    """An integer written as a float (`5.0`, `1e19`) is the integer to JSON, and so to the
    model: pydantic reads a float no larger than 2**63 only, where an int may be any size."""
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def from_json_object(
    model: type[F], value: object, *, location: Sequence[str | int], link_types: Sequence[str]
) -> F:
    """`model.from_object(value)`, with numbers and booleans held to their JSON types
    (`link_types` is the app's MEDIA_LINK_TYPES, which link filters must name).

    The query string has only text, so its validation reads `"5"` as 5 and `"yes"`, `1` or
    `"on"` as true; in a JSON object those would be values the schema could not state, and
    `true` would pass for a page size of 1. The rules themselves are all `from_object`'s."""
    if not isinstance(value, dict):
        return _parsed(model, value, location, link_types)
    types = _json_types(model)
    value = {key: _whole_number(types.get(key), item) for key, item in value.items()}
    wrong = {
        key: kind
        for key, item in value.items()
        if (kind := types.get(key)) is not None and _wrong_type(kind, item)
    }
    if not wrong:
        return _parsed(model, value, location, link_types)
    errors: list[Any] = [
        {
            "type": _TYPE_ERRORS[kind][0],
            "loc": (*location, key),
            "msg": _TYPE_ERRORS[kind][1],
            "input": value[key],
        }
        for key, kind in wrong.items()
    ]
    # Every error in one answer: the rest of the object is still checked.
    try:
        _parsed(model, {k: v for k, v in value.items() if k not in wrong}, location, link_types)
    except RequestValidationError as exc:
        errors.extend(exc.errors())
    raise RequestValidationError(errors)


def _parsed(
    model: type[F], value: object, location: Sequence[str | int], link_types: Sequence[str]
) -> F:
    parsed = model.from_object(value, location=location, link_types=link_types)
    assert isinstance(parsed, model)
    return parsed


def as_object(parameters: ListFilters) -> dict[str, JsonValue]:
    """The parameters as the normalised JSON object: only those that differ from their
    defaults, repeated ones as lists, ids, types and times in their canonical text; an
    empty list says no more than an absent key, so it is left out. Every key is a query
    parameter of the list, each list item one repetition of it."""
    dumped: dict[str, JsonValue] = parameters.model_dump(mode="json", exclude_defaults=True)
    return {key: value for key, value in dumped.items() if value != []}
