"""Query parameters and the page shape of list and search."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, TypeVar

from fastapi import Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, BeforeValidator

from indexer.query import ALL_SEARCH_FIELDS, FacetName, SearchField
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
    """What `_parse_names` reads: the names, separated by commas, each maybe padded."""
    one = f"{_SPACE}*(?:{'|'.join(name.value for name in names)}){_SPACE}*"
    return f"^{one}(?:,{one})*$"


FACET_LIST_PATTERN = name_list_pattern(FacetName)
FacetList = Annotated[str, SchemaPattern(FACET_LIST_PATTERN)]
SearchFieldList = Annotated[str, SchemaPattern(name_list_pattern(SearchField))]
FacetsParam = Annotated[
    list[FacetList] | None,
    Query(
        description="Repeated or comma-separated: tags, file_type, uploaded_by, content_type, "
        "orientation."
    ),
]
SearchInParam = Annotated[
    list[SearchFieldList] | None,
    Query(
        description="Comma-separated (or repeated) subset of file_name, tags, uploaded_by, "
        "file_type, content: where `search` looks. Default: all of them."
    ),
]
DisjunctiveFacetsParam = Annotated[
    list[FacetList] | None,
    Query(
        description="Repeated or comma-separated, a subset of `facets`: each counted as if "
        "its own filter were absent (the counts an any-of panel shows)."
    ),
]


def _invalid(parameter: str, message: str, value: str) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "enum", "loc": ("query", parameter), "msg": message, "input": value}]
    )


Name = TypeVar("Name", bound=StrEnum)


def _parse_names(values: list[str] | None, names: type[Name], *, parameter: str) -> list[Name]:
    """Enum members from repeated or comma-separated values, each once, in order; 422 for
    an unknown one."""
    found: list[Name] = []
    for value in values or []:
        for piece in value.split(","):
            piece = piece.strip()
            if piece not in names._value2member_map_:
                allowed = ", ".join(name.value for name in names)
                raise _invalid(parameter, f"Input should be one of: {allowed}", piece)
            if names(piece) not in found:
                found.append(names(piece))
    return found


def parse_facets(values: list[str] | None, *, parameter: str = "facets") -> list[FacetName]:
    """Facet names from repeated or comma-separated values; 422 for an unknown one."""
    return _parse_names(values, FacetName, parameter=parameter)


def parse_search_in(values: list[str] | None) -> frozenset[SearchField]:
    """The fields `search` looks in; every field when the parameter is absent."""
    fields = _parse_names(values, SearchField, parameter="search_in")
    return frozenset(fields) if fields else ALL_SEARCH_FIELDS


def parse_disjunctive_facets(values: list[str] | None, facets: list[FacetName]) -> list[FacetName]:
    """Disjunctive facet names; 422 for one that `facets` does not also ask for."""
    names = parse_facets(values, parameter="disjunctive_facets")
    for name in names:
        if name not in facets:
            raise _invalid(
                "disjunctive_facets",
                f"{name.value} must also be asked for in `facets`",
                name.value,
            )
    return names


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_text(value: object) -> object:
    # Pydantic would read a bare number as a Unix timestamp; the contract's datetimes are
    # ISO 8601 text, so `0` or `1.5` is as malformed as `yesterday`.
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("Datetime must be ISO 8601 text, such as 2026-11-24T10:15:00Z")
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_text)]


def as_utc(moment: datetime | None, *, parameter: str) -> datetime | None:
    """A datetime without an offset is read as UTC; one that has no UTC equivalent is 422."""
    if moment is None:
        return None
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError as exc:
        raise RequestValidationError(
            [
                {
                    "type": "datetime_range",
                    "loc": ("query", parameter),
                    "msg": "Datetime is outside the range that can be expressed in UTC",
                    "input": moment.isoformat(),
                }
            ]
        ) from exc
