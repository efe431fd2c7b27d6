"""Request and response shapes for tags."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from service.text_rules import (
    NoNulText,
    RequestBody,
    SchemaPattern,
    trimmed_name,
    trimmed_name_pattern,
)

COLOR_PATTERN = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")

MAX_TAG_NAME = 100


def _check_color(value: str | None) -> str | None:
    if value is not None and not COLOR_PATTERN.fullmatch(value):
        raise ValueError("Color must be a #RGB or #RRGGBB hex value")
    return value


TagName = Annotated[
    str,
    AfterValidator(trimmed_name("Tag name", MAX_TAG_NAME)),
    SchemaPattern(trimmed_name_pattern(MAX_TAG_NAME)),
]
TagColor = Annotated[
    Annotated[str, SchemaPattern(f"^{COLOR_PATTERN.pattern}$")] | None,
    AfterValidator(_check_color),
]
TagDescription = Annotated[NoNulText | None, Field(max_length=2000)]


class TagCreate(RequestBody):
    name: TagName
    description: TagDescription = None
    color: TagColor = None


class TagUpdate(RequestBody):
    """Any of the three fields; `description` and `color` may be set to null to clear them."""

    # Optional, not nullable: the schema says what `_name_not_null` enforces.
    name: TagName | SkipJsonSchema[None] = None
    description: TagDescription = None
    color: TagColor = None

    @model_validator(mode="after")
    def _name_not_null(self) -> TagUpdate:
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("Tag name cannot be null")
        return self


class TagPublic(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    color: str | None
    created_at: datetime
    updated_at: datetime
    asset_count: int
