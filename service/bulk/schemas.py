"""The bulk change's request and answer."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic.json_schema import SkipJsonSchema

from service.assets.schemas import MAX_TAG_IDS
from service.links.schemas import Links
from service.search.parameters import ListFilters
from service.search.query_object import object_schema
from service.text_rules import RequestBody

MAX_BULK_IDS = 10_000

BulkIds = Annotated[
    list[uuid.UUID],
    Field(
        min_length=1,
        max_length=MAX_BULK_IDS,
        description=f"The assets, 1 to {MAX_BULK_IDS:,} ids; each must name an asset.",
    ),
]
BulkQuery = Annotated[
    dict[str, Any],
    WithJsonSchema(object_schema(ListFilters, single_values=True)),
    Field(
        description="Every asset the list would find with these filters (no paging, "
        "order or facets); a single value stands for a list of one."
    ),
]
BulkTagIds = Annotated[
    list[uuid.UUID],
    Field(min_length=1, max_length=MAX_TAG_IDS, description="Each must name a tag."),
]
ExpectedCount = Annotated[
    int,
    Field(
        ge=0,
        description="How many assets the caller believes are selected; 409 with the real "
        "number (`matched`) otherwise, and nothing changes.",
    ),
]


class _Change(RequestBody):
    """What every action has: a selection by `ids` or by `query`, never both."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["ids"]}, {"required": ["query"]}]}
    )

    # Optional, not nullable: the schema says what `_one_selection` enforces.
    ids: BulkIds | SkipJsonSchema[None] = None
    query: BulkQuery | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _one_selection(self) -> _Change:
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        if (self.ids is None) == (self.query is None):
            raise ValueError("Select the assets either by `ids` or by `query`, not both or neither")
        return self


class TagChange(_Change):
    """Add the tags to every selected asset, or remove them from it."""

    action: Literal["add_tags", "remove_tags"]
    tag_ids: BulkTagIds
    expected_count: ExpectedCount | SkipJsonSchema[None] = None


class LinkChange(_Change):
    """Link every selected asset to the entities, or unlink it from them."""

    action: Literal["link", "unlink"]
    links: Annotated[Links, Field(min_length=1)]
    expected_count: ExpectedCount | SkipJsonSchema[None] = None


class DeleteChange(_Change):
    """Delete every selected asset, with its file; only when `expected_count` is right."""

    action: Literal["delete"]
    expected_count: ExpectedCount


BulkChange = Annotated[TagChange | LinkChange | DeleteChange, Field(discriminator="action")]


class BulkResult(BaseModel):
    matched: int = Field(description="How many assets the selection holds.")
    changed: int = Field(description="How many of them the change modified.")


class CountMismatch(BaseModel):
    """409: `expected_count` is not the number of selected assets."""

    detail: str
    matched: int
