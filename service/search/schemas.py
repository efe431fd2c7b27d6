"""Query parameters and the page shape of list and search."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, WithJsonSchema

from indexer.query import FacetName, SearchField
from service.assets.schemas import MediaAssetPublic
from service.text_rules import WHITESPACE, SchemaPattern, char_class


class FacetValue(BaseModel):
    value: str
    count: int


class TagFacetValue(FacetValue):
    """A `tags` facet value (the tag id) with the tag beside it."""

    id: uuid.UUID
    name: str
    color: str | None


class AssetPageItem(MediaAssetPublic):
    # With highlight=true: HTML of the fields that matched (file_name, tags, content), the
    # text escaped and the matched words in <mark>.
    highlights: dict[str, str] | None = None


class AssetPage(BaseModel):
    items: list[AssetPageItem]
    total: int
    skip: int
    limit: int
    facets: dict[str, list[TagFacetValue | FacetValue]] | None = None


class IdPage(BaseModel):
    items: list[uuid.UUID]
    total: int
    skip: int
    limit: int


_SPACE = char_class(WHITESPACE)


def name_list_pattern(names: type[StrEnum]) -> str:
    """What `parameters.parse_names` reads: the names, separated by commas, each maybe padded."""
    one = f"{_SPACE}*(?:{'|'.join(name.value for name in names)}){_SPACE}*"
    return f"^{one}(?:,{one})*$"


FacetList = Annotated[str, SchemaPattern(name_list_pattern(FacetName))]

_UUID = "-".join(f"[0-9a-fA-F]{{{size}}}" for size in (8, 4, 4, 4, 12))
_ONE_ID = f"{_SPACE}*{_UUID}{_SPACE}*"
ID_LIST_PATTERN = f"^{_ONE_ID}(?:,{_ONE_ID})*$"


def _split_ids(values: object) -> object:
    """Each value of a repeated id parameter may hold several ids separated by commas, as
    `facets` may hold several names; an empty piece stays, to be refused as no id."""
    if not isinstance(values, list):
        return values
    pieces: list[object] = []
    for value in values:
        if isinstance(value, str):
            pieces.extend(piece.strip() for piece in value.split(","))
        else:
            pieces.append(value)  # not text: refused as no id, as it was
    return pieces


# Tag ids, repeated or comma-separated (`tag_ids=a&tag_ids=b` or `tag_ids=a,b`).
IdList = Annotated[
    list[uuid.UUID],
    BeforeValidator(_split_ids),
    WithJsonSchema({"type": "array", "items": {"type": "string", "pattern": ID_LIST_PATTERN}}),
]
SearchFieldList = Annotated[str, SchemaPattern(name_list_pattern(SearchField))]


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_text(value: object) -> object:
    # Pydantic would read a bare number as a Unix timestamp; the contract's datetimes are
    # ISO 8601 text, so `0` or `1.5` is as malformed as `yesterday`.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("Datetime must be ISO 8601 text, such as 2026-11-24T10:15:00Z")
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_text)]
