"""The paginated list shape and the query parameters every list shares."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

MAX_PAGE_SIZE = 1000
# Larger offsets are past the end of any collection; clamping keeps them off integer limits.
MAX_OFFSET = 2**31 - 1 - MAX_PAGE_SIZE

Skip = Annotated[int, Query(ge=0, description="How many items to skip.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size, 1 to 1000.")]


class SortDirection(StrEnum):
    ASC = "asc"
    DESC = "desc"


ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    total: int
    skip: int
    limit: int
