"""The list's parameters as one model: `GET /api/media-assets` reads them from the query
string, a saved view keeps them as a JSON object and a bulk change selects by its
filters, and all three are validated here, by the same rules and with the same errors.

`ListFilters` is what selects assets; `ListParameters` adds what shapes the page (paging,
order, facets, highlights). `to_search_query` turns either into the index's question.

Link types are each app's configuration (MEDIA_LINK_TYPES), so the model checks a link's
shape, and `require_link_types` its type: `search_query` and `from_object` take the
app's types and check them, so no caller can skip it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar, get_args, get_origin

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from indexer.query import (
    ALL_SEARCH_FIELDS,
    FacetName,
    SearchField,
    SearchQuery,
    SortField,
    to_micros,
)
from service.assets.schemas import Orientation
from service.config import normalize_file_type
from service.links.schemas import EntityType, LinkText, parse_link_text, unknown_type_message
from service.pagination import MAX_OFFSET, MAX_PAGE_SIZE, SortDirection
from service.search.schemas import FacetList, IdList, IsoDateTime, SearchFieldList
from service.tags.service import TagMatch
from store.links import LINK_SEPARATOR, link_key

FACET_NAMES = ", ".join(name.value for name in FacetName)
SEARCH_FIELD_NAMES = "file_name, tags, uploaded_by, file_type, content"


Name = TypeVar("Name", bound=StrEnum)


def parse_names(values: list[str] | None, names: type[Name]) -> list[Name]:
    """Enum members from repeated or comma-separated values, each once, in order;
    ValueError naming the allowed ones for an unknown one."""
    found: list[Name] = []
    for value in values or []:
        for piece in value.split(","):
            piece = piece.strip()
            if piece not in names._value2member_map_:
                allowed = ", ".join(name.value for name in names)
                raise ValueError(f"{piece!r} is not one of: {allowed}")
            if names(piece) not in found:
                found.append(names(piece))
    return found


def parse_facets(values: list[str] | None) -> list[FacetName]:
    return parse_names(values, FacetName)


def parse_search_in(values: list[str] | None) -> frozenset[SearchField]:
    """The fields `search` looks in; every field when the parameter is absent."""
    fields = parse_names(values, SearchField)
    return frozenset(fields) if fields else ALL_SEARCH_FIELDS


def as_utc(moment: datetime | None) -> datetime | None:
    """A datetime without an offset is read as UTC; ValueError for one that has no UTC
    equivalent."""
    if moment is None:
        return None
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("Datetime is outside the range that can be expressed in UTC") from exc


def _text(value: str | None) -> str | None:
    # A query with no letters or digits has no words to match: it filters nothing.
    return value if value and any(ch.isalnum() for ch in value) else None


def _micros(moment: datetime | None) -> int | None:
    return None if moment is None else to_micros(moment)


class ListFilters(BaseModel):
    """Which assets: every filter of the list. A bulk change's `query` holds these."""

    # Unknown query parameters are ignored, as everywhere in the API; a JSON object
    # (a saved view, a bulk query) is checked for unknown keys by `from_object`.
    model_config = ConfigDict(extra="ignore")

    search: Annotated[
        str | None,
        Field(max_length=1000, description="Words in the name, tags, uploader, type and text."),
    ] = None
    file_name: Annotated[
        str | None, Field(max_length=1000, description="The same matching, on the name only.")
    ] = None
    file_type: Annotated[
        list[str] | None, Field(description="Repeated: any of these types (jpg, .jpg, JPG).")
    ] = None
    uploaded_by: Annotated[list[str] | None, Field(description="Repeated: any of these.")] = None
    orientation: Annotated[
        list[Orientation] | None, Field(description="Repeated: landscape, portrait, square.")
    ] = None
    tag_ids: Annotated[
        IdList | None,
        Field(
            description="Repeated or comma-separated: all of these tags (any of them with "
            "tag_match=any)."
        ),
    ] = None
    tag_match: TagMatch = TagMatch.ALL
    exclude_tag_ids: Annotated[
        IdList | None, Field(description="Repeated or comma-separated: none of these tags.")
    ] = None
    untagged: Annotated[bool, Field(description="true: only assets with no tags.")] = False
    linked: Annotated[
        list[LinkText] | None,
        Field(description="Repeated `entity_type:entity_id`: linked to any of them."),
    ] = None
    entity_type: Annotated[
        list[EntityType] | None,
        Field(description="Repeated: linked to at least one entity of any of these types."),
    ] = None
    uploaded_after: Annotated[IsoDateTime | None, Field(description="Inclusive.")] = None
    uploaded_before: Annotated[IsoDateTime | None, Field(description="Inclusive.")] = None
    search_in: Annotated[
        list[SearchFieldList] | None,
        Field(
            description=f"Comma-separated (or repeated) subset of {SEARCH_FIELD_NAMES}: where "
            "`search` looks. Default: all of them."
        ),
    ] = None

    @field_validator("uploaded_after", "uploaded_before", mode="after")
    @classmethod
    def _in_utc(cls, moment: datetime | None) -> datetime | None:
        return as_utc(moment)

    @field_validator("search_in", mode="after")
    @classmethod
    def _known_fields(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else [field.value for field in parse_search_in(values)]

    @field_validator("linked", mode="after")
    @classmethod
    def _link_shapes(cls, values: list[str] | None) -> list[str] | None:
        # As the upload form reads them (the id trimmed), each once; types checked later.
        if values is None:
            return None
        return list(dict.fromkeys(link_key(parse_link_text(value, None)) for value in values))

    @field_validator("untagged", mode="after")
    @classmethod
    def _not_with_tags(cls, untagged: bool, info: ValidationInfo) -> bool:
        if untagged and info.data.get("tag_ids"):
            raise ValueError(
                "untagged=true selects assets with no tags, so it cannot be combined with tag_ids"
            )
        return untagged

    def require_link_types(
        self, types: Sequence[str], *, location: Sequence[str | int] = ("query",)
    ) -> None:
        """422, located under `location`, for a link or entity type that MEDIA_LINK_TYPES
        (`types`) does not name, with a sentence naming the allowed ones."""
        named = [
            *(
                ("linked", index, value.partition(LINK_SEPARATOR)[0], value)
                for index, value in enumerate(self.linked or [])
            ),
            *(
                ("entity_type", index, value, value)
                for index, value in enumerate(self.entity_type or [])
            ),
        ]
        errors = [
            {
                "type": "value_error",
                "loc": (field, index),
                "msg": unknown_type_message(kind, types),
                "input": value,
            }
            for field, index, kind, value in named
            if kind not in types
        ]
        if errors:
            raise _errors(location, errors, None)

    def search_query(self, *, link_types: Sequence[str], **shape: Any) -> SearchQuery:
        """The index's question for these filters, once their link types are checked
        against `link_types`; `shape` sets the page's fields."""
        self.require_link_types(link_types)
        return SearchQuery(
            text=_text(self.search),
            search_in=parse_search_in(self.search_in),
            file_name=_text(self.file_name),
            file_types=[normalize_file_type(value) for value in self.file_type or []],
            uploaded_by=list(self.uploaded_by or []),
            orientations=list(dict.fromkeys(self.orientation or [])),
            tag_ids=[str(tag_id) for tag_id in self.tag_ids or []],
            match_all_tags=self.tag_match is TagMatch.ALL,
            exclude_tag_ids=[str(tag_id) for tag_id in dict.fromkeys(self.exclude_tag_ids or [])],
            untagged=self.untagged,
            linked=list(self.linked or []),
            entity_types=list(dict.fromkeys(self.entity_type or [])),
            uploaded_after=_micros(self.uploaded_after),
            uploaded_before=_micros(self.uploaded_before),
            **shape,
        )

    @classmethod
    def from_object(
        cls, value: Any, *, location: Sequence[str | int], link_types: Sequence[str]
    ) -> ListFilters:
        """Validate a JSON object of list parameters (a saved view's `query`, a bulk
        change's), as the list validates its query string: a single value stands for a
        list of one, an unknown key is 422, link types must be among `link_types`, and
        each error is located under `location`."""
        if not isinstance(value, dict):
            raise _errors(
                location,
                [{"type": "dict_type", "loc": (), "msg": "Input should be an object"}],
                value,
            )
        unknown = sorted(set(value) - set(cls.model_fields))
        if unknown:
            raise _errors(
                location,
                [
                    {
                        "type": "extra_forbidden",
                        "loc": (key,),
                        "msg": f"Not a parameter here; allowed: {', '.join(cls.model_fields)}",
                    }
                    for key in unknown
                ],
                value,
            )
        listed = {key: _as_list(cls, key, item) for key, item in value.items()}
        try:
            parsed = cls.model_validate(listed)
        except ValidationError as exc:
            raise _errors(location, exc.errors(include_url=False), value) from exc
        parsed.require_link_types(link_types, location=location)
        return parsed


def _as_list(model: type[BaseModel], key: str, value: Any) -> Any:
    """A single value for a repeated parameter, as a list of one."""
    annotation = model.model_fields[key].annotation
    arms = [
        get_args(arm)[0] if get_origin(arm) is Annotated else arm for arm in get_args(annotation)
    ]
    lists = any(get_origin(arm) is list for arm in (annotation, *arms))
    return [value] if lists and value is not None and not isinstance(value, list) else value


def _errors(
    location: Sequence[str | int], errors: Sequence[Any], value: Any
) -> RequestValidationError:
    found = []
    for error in errors:
        error = dict(error)
        error["loc"] = (*location, *error.get("loc", ()))
        error.setdefault("input", value)
        error.pop("ctx", None)  # may hold the exception itself, which is not JSON
        found.append(error)
    return RequestValidationError(found)


class ListParameters(ListFilters):
    """Every parameter of the list: its filters, and how the page is cut, ordered,
    counted and marked. A saved view's `query` holds these."""

    skip: Annotated[int, Field(ge=0, description="How many items to skip.")] = 0
    limit: Annotated[
        int, Field(ge=0, le=MAX_PAGE_SIZE, description="Page size, 0 (totals and facets) to 1000.")
    ] = 100
    sort_by: Annotated[
        SortField | None, Field(description="Default uploaded_at; relevance with search.")
    ] = None
    sort_dir: SortDirection = SortDirection.DESC
    facets: Annotated[
        list[FacetList] | None,
        Field(description=f"Repeated or comma-separated: {FACET_NAMES}."),
    ] = None
    disjunctive_facets: Annotated[
        list[FacetList] | None,
        Field(
            description="Repeated or comma-separated, a subset of `facets`: each counted as if "
            "its own filter were absent (the counts an any-of panel shows)."
        ),
    ] = None
    highlight: Annotated[
        bool, Field(description="Each item carries `highlights`: the matched words marked.")
    ] = False

    @field_validator("facets", mode="after")
    @classmethod
    def _known_facets(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else [name.value for name in parse_facets(values)]

    @field_validator("disjunctive_facets", mode="after")
    @classmethod
    def _asked_facets(cls, values: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if values is None:
            return None
        asked = info.data.get("facets") or []
        names = parse_facets(values)
        for name in names:
            if name.value not in asked:
                raise ValueError(f"{name.value} must also be asked for in `facets`")
        return [name.value for name in names]

    def to_search_query(self, *, link_types: Sequence[str], **extra_filters: Any) -> SearchQuery:
        facets = [FacetName(name) for name in self.facets or []]
        return self.search_query(
            link_types=link_types,
            skip=min(self.skip, MAX_OFFSET),
            limit=self.limit,
            sort_by=self.sort_by,
            descending=self.sort_dir is SortDirection.DESC,
            facets=facets,
            disjunctive_facets=[FacetName(name) for name in self.disjunctive_facets or []],
            **extra_filters,
        )
