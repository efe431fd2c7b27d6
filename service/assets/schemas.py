"""Request and response shapes for media assets."""

from __future__ import annotations

import functools
import sys
import unicodedata
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from service.links.schemas import LinkPublic, Links
from service.tags.schemas import TagPublic
from service.text_rules import WHITESPACE, RequestBody, SchemaPattern, SingleLineText, char_class

MAX_FILE_NAME = 255
# Control and format characters (a right-to-left override can disguise `exe.pdf`).
_DROPPED_CATEGORIES = {"Cc", "Cf"}
_SEPARATORS = frozenset("/\\")


class FileNameTooLong(ValueError):
    """A file name past MAX_FILE_NAME characters, told apart from an empty one."""

    def __init__(self, length: int) -> None:
        super().__init__(f"File name must be at most {MAX_FILE_NAME} characters")
        self.length = length


def clean_file_name(value: str) -> str:
    """The client's name without any directory part (`../../x/passwd.jpg` is `passwd.jpg`)."""
    name = value.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    name = name.strip()
    if name in {"", ".", ".."}:
        raise ValueError("File name must not be empty once any directory part is removed")
    if len(name) > MAX_FILE_NAME:
        raise FileNameTooLong(len(name))
    return name


@functools.cache
def _file_name_pattern() -> str:
    """`clean_file_name` as a pattern: after the last separator, once control and format
    characters are dropped (anywhere) and whitespace trimmed, 1 to 255 characters that
    are not `.` or `..`."""
    dropped = frozenset(
        char
        for char in map(chr, range(sys.maxunicode + 1))
        if unicodedata.category(char) in _DROPPED_CATEGORIES
    )
    spaces = WHITESPACE - dropped
    gap = char_class(dropped)  # may sit between any two kept characters
    edge = char_class(dropped | spaces)
    kept = char_class(dropped | _SEPARATORS, negated=True)
    end = char_class(dropped | spaces | _SEPARATORS, negated=True)
    end_not_dot = char_class(dropped | spaces | _SEPARATORS | {"."}, negated=True)
    dot = char_class({"."})
    name = (
        f"(?:{end_not_dot}"
        f"|{end_not_dot}{gap}*{end}|{dot}{gap}*{end_not_dot}"
        f"|{end}(?:{gap}*{kept}){{1,{MAX_FILE_NAME - 2}}}{gap}*{end})"
    )
    return f"^(?:[\\s\\S]*{char_class(_SEPARATORS)})?{edge}*{name}{edge}*$"


FileName = Annotated[str, AfterValidator(clean_file_name), SchemaPattern(_file_name_pattern)]
MAX_TAG_IDS = 1000
TagIds = Annotated[list[uuid.UUID], Field(max_length=MAX_TAG_IDS)]


@functools.cache
def _lowercase_sources() -> dict[str, frozenset[str]]:
    """For each ASCII character, every character that `str.lower` turns into it (the
    Kelvin sign becomes `k`)."""
    sources: dict[str, set[str]] = {}
    for char in map(chr, range(sys.maxunicode + 1)):
        lowered = char.lower()
        if len(lowered) == 1 and lowered.isascii():
            sources.setdefault(lowered, set()).add(char)
    return {lowered: frozenset(chars) for lowered, chars in sources.items()}


def file_type_pattern(allowed: Iterable[str]) -> str:
    """`file_type` as `normalize_file_type` reads it: an allowed type in any case, with
    or without its dot, maybe padded; or empty, when the name's extension decides."""
    sources = _lowercase_sources()
    space = char_class(WHITESPACE)
    types = "|".join(
        "".join(char_class(sources[char]) for char in extension.lstrip("."))
        for extension in sorted(allowed)
    )
    return f"^(?:{space}*{char_class({'.'})}*(?:{types}){space}*)?$"


def state_allowed_types(document: dict[str, Any], allowed: Iterable[str]) -> None:
    """Write this app's MEDIA_ALLOWED_TYPES into its document: the models are shared by
    every app, the list is each app's configuration."""
    field = document["components"]["schemas"]["MediaAssetCreate"]["properties"]["file_type"]
    for branch in field["anyOf"]:
        if branch.get("type") == "string":
            branch["pattern"] = file_type_pattern(allowed)


class MediaAssetCreate(RequestBody):
    """A record with no file yet; its type comes from `file_type` or the name's extension."""

    file_name: FileName
    file_type: Annotated[str | None, Field(max_length=32)] = None
    content_type: Annotated[str | None, Field(max_length=255)] = None
    uploaded_by: Annotated[SingleLineText | None, Field(min_length=1, max_length=255)] = None
    tag_ids: TagIds = Field(default_factory=list)
    links: Links = Field(default_factory=list)


class MediaAssetUpdate(RequestBody):
    # Optional, not nullable: the schema says what `_no_nulls` enforces.
    file_name: FileName | SkipJsonSchema[None] = None
    tag_ids: TagIds | SkipJsonSchema[None] = None
    # Replaces the whole set of links.
    links: Links | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _no_nulls(self) -> MediaAssetUpdate:
        for name in ("file_name", "tag_ids", "links"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class TagIdsBody(RequestBody):
    tag_ids: TagIds


ContentStatus = Literal["pending", "extracted", "empty", "unsupported", "failed"]


class ContentSummaryPublic(BaseModel):
    """How far the text of the asset's file is extracted (see `GET .../content`)."""

    status: ContentStatus
    characters: int
    error: str | None


class ContentPublic(BaseModel):
    """The text extracted from an asset's file."""

    status: ContentStatus
    text: str
    characters: int
    truncated: bool
    extracted_at: datetime | None
    error: str | None


PreviewStatus = Literal["pending", "ready", "none", "failed"]
Orientation = Literal["landscape", "portrait", "square"]


class PreviewSummaryPublic(BaseModel):
    """Whether the asset's previews can be fetched (see `GET .../preview`)."""

    status: PreviewStatus


class ImageFactsPublic(BaseModel):
    """The pixel size of the image, or of a PDF's first page as rendered."""

    width: int
    height: int
    orientation: Orientation
    taken_at: datetime | None


class MediaAssetPublic(BaseModel):
    id: uuid.UUID
    file_name: str
    file_type: str
    content_type: str
    storage_location: str | None
    file_size_bytes: int
    checksum_sha256: str | None
    uploaded_at: datetime
    uploaded_by: str
    created_at: datetime
    updated_at: datetime
    content: ContentSummaryPublic
    preview: PreviewSummaryPublic
    image: ImageFactsPublic | None
    # Sorted by type, then id (by code point).
    links: list[LinkPublic]
    tags: list[TagPublic]


class SimilarAsset(BaseModel):
    id: uuid.UUID
    distance: int


class DuplicatesPublic(BaseModel):
    """Assets with the same bytes, and images that look alike (nearest first)."""

    exact: list[uuid.UUID]
    similar: list[SimilarAsset]
