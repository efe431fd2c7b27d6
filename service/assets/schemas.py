"""Request and response shapes for media assets."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from service.tags.schemas import TagPublic
from service.text_rules import RequestBody, SingleLineText

MAX_FILE_NAME = 255


def clean_file_name(value: str) -> str:
    """The client's name without any directory part (`../../x/passwd.jpg` is `passwd.jpg`)."""
    name = value.replace("\\", "/").rsplit("/", 1)[-1]
    # Control and format characters (a right-to-left override can disguise `exe.pdf`).
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf"}).strip()
    if name in {"", ".", ".."}:
        raise ValueError("File name must not be empty once any directory part is removed")
    if len(name) > MAX_FILE_NAME:
        raise ValueError(f"File name must be at most {MAX_FILE_NAME} characters")
    return name


FileName = Annotated[str, AfterValidator(clean_file_name)]
TagIds = Annotated[list[uuid.UUID], Field(max_length=1000)]


class MediaAssetCreate(RequestBody):
    """A record with no file yet; its type comes from `file_type` or the name's extension."""

    file_name: FileName
    file_type: Annotated[str | None, Field(max_length=32)] = None
    content_type: Annotated[str | None, Field(max_length=255)] = None
    uploaded_by: Annotated[SingleLineText | None, Field(min_length=1, max_length=255)] = None
    tag_ids: TagIds = Field(default_factory=list)


class MediaAssetUpdate(RequestBody):
    file_name: FileName | None = None
    tag_ids: TagIds | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> MediaAssetUpdate:
        for name in ("file_name", "tag_ids"):
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
    tags: list[TagPublic]


class SimilarAsset(BaseModel):
    id: uuid.UUID
    distance: int


class DuplicatesPublic(BaseModel):
    """Assets with the same bytes, and images that look alike (nearest first)."""

    exact: list[uuid.UUID]
    similar: list[SimilarAsset]
