"""The patterns the OpenAPI document states agree with the validators that enforce them,
as a JSON Schema validator reads them (jsonschema-rs, which schemathesis uses): a client
that follows the schema is never refused, and one that breaks it always is."""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from fastapi.exceptions import RequestValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from service.app import create_app
from service.assets.schemas import MediaAssetCreate
from service.assets.upload import TAG_IDS_FIELD_PATTERN
from service.config import Settings, normalize_file_type
from service.links.schemas import LinkIn, parse_link_text
from service.search.parameters import ListParameters, parse_facets
from service.search.query_object import as_object, from_json_object
from service.tags.schemas import TagCreate
from service.text_rules import WHITESPACE
from service.views.schemas import ViewCreate
from tests.conftest import TEST_SECRET

SETTINGS = Settings(data_dir=Path("unused"), auth_secret=TEST_SECRET)
DOCUMENT = create_app(SETTINGS).openapi()
MODELS = DOCUMENT["components"]["schemas"]
# Characters each rule treats specially: separators, dots, commas, whitespace that is and
# is not a control character, controls, format characters, an astral tag character.
TRICKY = list("ab.,:/\\ #fF0\t\n\x00\x1c\x7f\x85\xa0\u200b\u202e\u3000\U000e0001K\u212a")


def _string(schema: dict[str, Any]) -> dict[str, Any]:
    """The string branch of a nullable property."""
    branches = schema.get("anyOf", [schema])
    return next(branch for branch in branches if branch.get("type") == "string")


def _model_accepts(model: type[Any], field: str, **others: Any) -> Callable[[str], bool]:
    def accepts(value: str) -> bool:
        try:
            model.model_validate({**others, field: value})
        except ValidationError:
            return False
        return True

    return accepts


def _facets_accepted(value: str) -> bool:
    try:
        parse_facets([value])
    except ValueError:
        return False
    return True


def _tag_ids_accepted(value: str) -> bool:
    # What receive_upload and the service read from one `tag_ids` field.
    pieces = [piece.strip() for piece in value.split(",") if piece.strip()]
    try:
        [uuid.UUID(piece) for piece in pieces]
    except ValueError:
        return False
    return True


def _file_type_accepted(value: str) -> bool:
    # The model's own rules, then create_asset's: an empty file_type leaves the type to
    # the name's extension.
    if not _model_accepts(MediaAssetCreate, "file_type", file_name="a")(value):
        return False
    return not value or normalize_file_type(value) in SETTINGS.allowed_extensions


def _media_assets_parameter(name: str) -> dict[str, Any]:
    parameters = DOCUMENT["paths"]["/api/media-assets"]["get"]["parameters"]
    schema: dict[str, Any] = next(p for p in parameters if p["name"] == name)["schema"]["items"]
    return schema


def _entity_type_accepted(value: str) -> bool:
    # The model's own rules, then the service's: a type MEDIA_LINK_TYPES names.
    accepted = _model_accepts(LinkIn, "entity_type", entity_id="1")(value)
    return accepted and value in SETTINGS.entity_types


def _link_text_accepted(value: str) -> bool:
    # What the upload's `links` fields (and the list's `linked`) are read with.
    try:
        parse_link_text(value, SETTINGS.entity_types)
    except ValueError:
        return False
    return True


def _gallery_parameter(name: str) -> dict[str, Any]:
    parameters = DOCUMENT["paths"]["/api/links/{entity_type}/{entity_id}/assets"]["get"]
    parameter = next(p for p in parameters["parameters"] if p["name"] == name)
    schema: dict[str, Any] = parameter["schema"]
    return schema


_UPLOAD_FORM = DOCUMENT["paths"]["/api/media-assets/upload"]["post"]["requestBody"]["content"]


RULES: dict[str, tuple[dict[str, Any], Callable[[str], bool]]] = {
    "file name": (
        _string(MODELS["MediaAssetCreate"]["properties"]["file_name"]),
        _model_accepts(MediaAssetCreate, "file_name"),
    ),
    "file type": (
        _string(MODELS["MediaAssetCreate"]["properties"]["file_type"]),
        _file_type_accepted,
    ),
    "uploader": (
        _string(MODELS["MediaAssetCreate"]["properties"]["uploaded_by"]),
        _model_accepts(MediaAssetCreate, "uploaded_by", file_name="a.pdf"),
    ),
    "tag name": (MODELS["TagCreate"]["properties"]["name"], _model_accepts(TagCreate, "name")),
    "view name": (
        MODELS["ViewCreate"]["properties"]["name"],
        _model_accepts(ViewCreate, "name", query={}),
    ),
    "tag colour": (
        _string(MODELS["TagCreate"]["properties"]["color"]),
        _model_accepts(TagCreate, "color", name="a"),
    ),
    "tag description": (
        _string(MODELS["TagCreate"]["properties"]["description"]),
        _model_accepts(TagCreate, "description", name="a"),
    ),
    "facets": (_media_assets_parameter("facets"), _facets_accepted),
    "upload tag ids": ({"type": "string", "pattern": TAG_IDS_FIELD_PATTERN}, _tag_ids_accepted),
    "entity id": (
        MODELS["LinkIn"]["properties"]["entity_id"],
        _model_accepts(LinkIn, "entity_id", entity_type="product"),
    ),
    "entity type": (MODELS["LinkIn"]["properties"]["entity_type"], _entity_type_accepted),
    "upload link": (
        _UPLOAD_FORM["multipart/form-data"]["schema"]["properties"]["links"]["items"],
        _link_text_accepted,
    ),
    "gallery entity type": (_gallery_parameter("entity_type"), _entity_type_accepted),
    "linked": (_media_assets_parameter("linked"), _link_text_accepted),
    "entity type filter": (_media_assets_parameter("entity_type"), _entity_type_accepted),
    "gallery entity id": (
        _gallery_parameter("entity_id"),
        _model_accepts(LinkIn, "entity_id", entity_type="product"),
    ),
}


@pytest.mark.parametrize("rule", list(RULES))
def test_the_schema_states_the_rule_the_service_enforces(rule: str) -> None:
    schema, accepts = RULES[rule]
    schema = {key: value for key, value in schema.items() if key != "title"}
    validator = jsonschema_rs.validator_for(schema)

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.one_of(
            st.from_regex(re.compile(schema["pattern"]), fullmatch=True),
            st.text(st.sampled_from(TRICKY), max_size=8),
            st.text(st.sampled_from(TRICKY), min_size=250, max_size=260),
            st.text(max_size=8),
        )
    )
    def agree(value: str) -> None:
        assert validator.is_valid(value) == accepts(value), repr(value)

    agree()


@pytest.mark.parametrize(
    ("rule", "value", "accepted"),
    [
        ("file name", "../../x/passwd.jpg", True),
        ("file name", "dir/", False),
        ("file name", " .\u200b. ", False),
        ("file name", "...", True),
        ("file name", "a" * 255, True),
        ("file name", "\u202e" + "a" * 255 + "\u200b", True),
        ("file name", "a" * 256, False),
        ("tag name", "\t Saddle \u3000", True),
        ("tag name", "Sad\tdle", False),
        ("tag name", " " + "a" * 100 + " ", True),
        ("tag name", "a" * 101, False),
        ("view name", "\t Saddles, newest first \u3000", True),
        ("view name", "Sad\ndles", False),
        ("view name", " " + "a" * 100 + " ", True),
        ("view name", "a" * 101, False),
        ("tag colour", "#abc", True),
        ("tag colour", "#abc\n", False),
        ("facets", " tags , file_type", True),
        ("facets", "tags,", False),
        ("file type", " .JPG", True),
        ("file type", "", True),
        ("file type", " ", False),
        ("upload tag ids", f" {uuid.UUID(int=1)},,{uuid.UUID(int=2**128 - 1)} ", True),
        ("entity id", "\t ACME Ltd. \u3000", True),
        ("entity id", " " + "a" * 100 + " ", True),
        ("entity id", "a" * 101, False),
        ("entity id", "a\u200bb", False),
        ("entity id", "a\u00a0b", False),
        ("entity id", "\U000e0001", False),
        ("entity id", "a\u0378b", True),  # unassigned as yet: allowed
        ("entity type", "product", True),
        ("entity type", "Product", False),
        ("entity type", "supplier", False),
        ("upload link", "project: P:7 ", True),
        ("upload link", "product", False),
        ("upload link", " product:1", False),
        ("upload link", "product: ", False),
    ],
)
def test_edge_values(rule: str, value: str, accepted: bool) -> None:
    schema, accepts = RULES[rule]
    assert jsonschema_rs.validator_for(_string(schema)).is_valid(value) is accepted
    assert accepts(value) is accepted


def test_whitespace_is_every_character_strip_removes() -> None:
    everything = (chr(code) for code in range(sys.maxunicode + 1))
    assert frozenset(char for char in everything if char.isspace()) == WHITESPACE


# A saved view's `query`: values of every JSON type, and text each rule treats specially.
_QUERY_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 1003),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.sampled_from(TRICKY), max_size=4),
    st.sampled_from(
        [
            *("tags", " tags , content", "tags,", "file_type", "content", "all", "any"),
            *("asc", "desc", "file_name", "portrait", "5", "true", "yes", ""),
            *(str(uuid.UUID(int=1)), "2026-11-24T10:15:00Z", "2026-11-24T10:15:00+02:00"),
            *("w" * 1000, "w" * 1001),
        ]
    ),
)
# A value each parameter takes, so that most objects drawn hold some valid ones.
_VALID_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "search": st.text(max_size=5),
    "file_name": st.text(max_size=5),
    "file_type": st.sampled_from(["jpg", [".PDF", "csv"]]),
    "uploaded_by": st.sampled_from(["alice", ["alice", "bob"]]),
    "orientation": st.sampled_from(["portrait", ["square", "landscape"]]),
    "tag_ids": st.just([str(uuid.UUID(int=2))]),
    "tag_match": st.sampled_from(["all", "any"]),
    "exclude_tag_ids": st.just(str(uuid.UUID(int=3))),
    "untagged": st.booleans(),
    "uploaded_after": st.just("2026-11-24T10:15:00Z"),
    "uploaded_before": st.just("2026-11-24T10:15:00-05:00"),
    "search_in": st.sampled_from(["tags", [" content ,file_name"]]),
    "linked": st.sampled_from(["product:1", ["project: P 7 ", "customer:a:b"], "supplier:1"]),
    "entity_type": st.sampled_from(["product", ["project", "customer"], "Product"]),
    "skip": st.integers(0, 10**12),
    "limit": st.integers(0, 1000),
    "sort_by": st.sampled_from([None, "file_size_bytes"]),
    "sort_dir": st.sampled_from(["asc", "desc"]),
    "facets": st.sampled_from(["tags", ["tags,orientation", "file_type"]]),
    "highlight": st.booleans(),
}
# `disjunctive_facets` must be a subset of `facets`, a rule no JSON Schema states.
_QUERY_KEYS = [name for name in ListParameters.model_fields if name != "disjunctive_facets"]
_ANY_VALUE = st.one_of(_QUERY_SCALARS, st.lists(_QUERY_SCALARS, max_size=3))
_QUERY_ITEMS = st.sampled_from([*_QUERY_KEYS, "colour"]).flatmap(
    lambda key: st.tuples(st.just(key), st.one_of(_VALID_VALUES.get(key, _ANY_VALUE), _ANY_VALUE))
)


def _query_accepted(query: dict[str, Any]) -> ListParameters | None:
    try:
        return from_json_object(
            ListParameters, query, location=("query",), link_types=SETTINGS.entity_types
        )
    except RequestValidationError:
        return None


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_QUERY_ITEMS, max_size=4).map(dict))
def test_the_view_query_schema_states_what_its_validator_accepts(query: dict[str, Any]) -> None:
    """The sent `query` schema accepts exactly what the list's validator does, and what is
    kept (the normalised object) meets the shown schema and reads back the same."""
    # Another rule between two parameters: untagged=true cannot come with tag_ids.
    if query.get("untagged") is True and query.get("tag_ids"):
        return
    sent = jsonschema_rs.validator_for(
        MODELS["ViewCreate"]["properties"]["query"], validate_formats=True
    )
    shown = jsonschema_rs.validator_for(
        MODELS["ViewPublic"]["properties"]["query"], validate_formats=True
    )
    parsed = _query_accepted(query)
    assert sent.is_valid(query) == (parsed is not None), repr(query)
    if parsed is not None:
        kept = as_object(parsed)
        assert shown.is_valid(kept), repr(kept)
        again = _query_accepted(kept)
        assert again is not None
        types = SETTINGS.entity_types
        assert again.to_search_query(link_types=types) == parsed.to_search_query(link_types=types)
