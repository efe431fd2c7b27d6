"""Query parameters and the page shape of list and search."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, BeforeValidator

from indexer.query import FacetName
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


class AssetPage(BaseModel):
    items: list[MediaAssetPublic]
    total: int
    skip: int
    limit: int
    facets: dict[str, list[TagFacetValue | FacetValue]] | None = None


class IdPage(BaseModel):
    items: list[uuid.UUID]
    total: int
    skip: int
    limit: int


# What `parse_facets` reads: facet names, separated by commas, each maybe padded.
_SPACE = char_class(WHITESPACE)
_FACET = f"{_SPACE}*(?:{'|'.join(facet.value for facet in FacetName)}){_SPACE}*"
FACET_LIST_PATTERN = f"^{_FACET}(?:,{_FACET})*$"
FacetList = Annotated[str, SchemaPattern(FACET_LIST_PATTERN)]
FacetsParam = Annotated[
    list[FacetList] | None,
    Query(description="Repeated or comma-separated: tags, file_type, uploaded_by, content_type."),
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


def parse_facets(values: list[str] | None, *, parameter: str = "facets") -> list[FacetName]:
    """Facet names from repeated or comma-separated values; 422 for an unknown one."""
    names: list[FacetName] = []
    for value in values or []:
        for piece in value.split(","):
            piece = piece.strip()
            if piece not in FacetName._value2member_map_:
                allowed = ", ".join(f.value for f in FacetName)
                raise _invalid(parameter, f"Input should be one of: {allowed}", piece)
            if FacetName(piece) not in names:
                names.append(FacetName(piece))
    return names


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
