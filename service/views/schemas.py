"""Request and response shapes for saved views, and the reading of a view's `query`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BaseModel, JsonValue, WithJsonSchema, model_validator
from pydantic.json_schema import SkipJsonSchema

from service.search.parameters import ListParameters
from service.search.query_object import as_object, from_json_object, object_schema
from service.text_rules import RequestBody, SchemaPattern, trimmed_name, trimmed_name_pattern

MAX_VIEW_NAME = 100
# A stored query as JSON text, at most: about what a request line can carry, so that the
# view can still be sent to the list as a query string. The list's own bounds (1,000
# characters of search text, and so on) keep every ordinary view far below it.
MAX_QUERY_CHARACTERS = 16_384
QUERY_TOO_LONG = "A view's query must be at most {limit} characters as JSON; this one is {size}."

ViewName = Annotated[
    str,
    AfterValidator(trimmed_name("View name", MAX_VIEW_NAME)),
    SchemaPattern(trimmed_name_pattern(MAX_VIEW_NAME)),
]

_QUERY_DESCRIPTION = (
    "Parameters of `GET /api/media-assets` as an object, validated as the list validates "
    "them; a repeated parameter takes a list or a single value."
)
# Sent: any list parameters; shown: the normalised object (see `service.search.query_object`).
ViewQuery = Annotated[
    dict[str, JsonValue],
    WithJsonSchema(
        {
            **object_schema(ListParameters, single_values=True),
            "description": _QUERY_DESCRIPTION,
        }
    ),
]
StoredQuery = Annotated[
    dict[str, JsonValue],
    WithJsonSchema(
        {
            **object_schema(ListParameters, single_values=False),
            "description": "The list parameters that differ from their defaults, normalised: "
            "repeated ones as lists, ids, types and times in their canonical text.",
        }
    ),
]


def stored_query(query: dict[str, JsonValue], *, link_types: Sequence[str]) -> str:
    """The `query` of a request body, validated as the list validates its parameters (422
    located under body.query otherwise; `link_types` is the app's MEDIA_LINK_TYPES), as
    the normalised JSON text a view keeps."""
    location = ("body", "query")
    parameters = from_json_object(ListParameters, query, location=location, link_types=link_types)
    text = json.dumps(as_object(parameters), ensure_ascii=False, separators=(",", ":"))
    if len(text) > MAX_QUERY_CHARACTERS:
        message = QUERY_TOO_LONG.format(limit=MAX_QUERY_CHARACTERS, size=len(text))
        raise RequestValidationError(
            [{"type": "too_long", "loc": location, "msg": message, "input": None}]
        )
    return text


class ViewCreate(RequestBody):
    name: ViewName
    query: ViewQuery


class ViewUpdate(RequestBody):
    """Either field or both; `query` replaces the whole query."""

    # Optional, not nullable: the schema says what `_not_null` enforces.
    name: ViewName | SkipJsonSchema[None] = None
    query: ViewQuery | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _not_null(self) -> ViewUpdate:
        for field in ("name", "query"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"View {field} cannot be null")
        return self


class ViewPublic(BaseModel):
    id: uuid.UUID
    name: str
    query: StoredQuery
    created_by: str
    created_at: datetime
    updated_at: datetime
