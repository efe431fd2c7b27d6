"""The benchmark's queries, each answered two ways: by the service over HTTP, and the SQL way.

The SQL way is the origin system's: `ILIKE '%word%'` for text, one join per tag filter,
`COUNT(*)` for the total and GROUP BY for facet counts, on the same database. It lives
here, in the benchmark, as the baseline; the service never answers like this.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, exists, func, or_, select
from sqlalchemy.sql import Select
from sqlmodel import col

from bench.library import COLOURS, FILE_TYPES, LEATHERS, PRODUCTS, SUBJECTS, Library
from store.models import MediaAsset, MediaAssetTag, Tag

PAGE = 100
DEEP_SKIP = 49 * PAGE  # the first item of page 50
FACETS = ("tags", "file_type", "uploaded_by")
VARIANTS = 64

Params = dict[str, Any]


@dataclass(frozen=True)
class BenchQuery:
    name: str
    variants: list[Params]
    # Which of the engine-side claims this query tests: "tags", "text" or "facets".
    tagged: bool = False
    text: bool = False
    facets: bool = False


def _typo(rng: random.Random, word: str) -> str:
    """One substitution inside the word: within the contract's 1 typo from 5 letters."""
    position = rng.randrange(1, len(word) - 1)
    replacement = rng.choice([c for c in "aeiourstln" if c != word[position]])
    return word[:position] + replacement + word[position + 1 :]


def _long_words(words: list[str]) -> list[str]:
    return [word for word in words if len(word) >= 5]


def build_queries(library: Library, *, seed: int = 7) -> list[BenchQuery]:
    rng = random.Random(seed)
    # Tags are Zipf-ranked by position: combining the popular ones keeps results non-empty.
    popular = [str(tag_id) for tag_id in library.tag_ids[:12]]
    vocabulary = COLOURS + LEATHERS + PRODUCTS + SUBJECTS

    def variants(make: Callable[[], Params]) -> list[Params]:
        return [make() for _ in range(VARIANTS)]

    def two_words() -> Params:
        return {"search": f"{rng.choice(COLOURS)} {rng.choice(PRODUCTS)}"}

    def typo() -> Params:
        return {"search": _typo(rng, rng.choice(_long_words(PRODUCTS + LEATHERS)))}

    def tags(count: int) -> Callable[[], Params]:
        return lambda: {"tag_ids": rng.sample(popular, count)}

    def combined() -> Params:
        return {
            "search": rng.choice(vocabulary),
            "file_type": rng.choice(list(FILE_TYPES)[:5]),
            "uploaded_by": rng.choice(library.uploaders),
        }

    plain = [
        BenchQuery("default listing", [{}]),
        BenchQuery("page 50", [{"skip": DEEP_SKIP}]),
        BenchQuery("full-text search", variants(two_words), text=True),
        BenchQuery("search with a typo", variants(typo), text=True),
        BenchQuery("one tag", variants(tags(1)), tagged=True),
        BenchQuery("two tags", variants(tags(2)), tagged=True),
        BenchQuery("three tags", variants(tags(3)), tagged=True),
        BenchQuery("search + type + uploader", variants(combined), text=True),
    ]
    faceted = [
        BenchQuery(
            f"{query.name} + facets",
            [{**params, "facets": ",".join(FACETS)} for params in query.variants],
            tagged=query.tagged,
            text=query.text,
            facets=True,
        )
        for query in plain
    ]
    return plain + faceted


def http_params(params: Params) -> list[tuple[str, str]]:
    """The query string pairs, with repeated keys for lists."""
    pairs: list[tuple[str, str]] = [("limit", str(PAGE))]
    for key, value in params.items():
        values = value if isinstance(value, list) else [value]
        pairs += [(key, str(item)) for item in values]
    return pairs


# -- the SQL way ---------------------------------------------------------------------


def _matching(query: Select[Any], params: Params) -> Select[Any]:
    """`query` over media_asset, with one link join per tag and ILIKE per word, as the
    origin did."""
    asset = col(MediaAsset.id)
    for number, tag_id in enumerate(params.get("tag_ids", [])):
        link = MediaAssetTag.__table__.alias(f"tag_filter_{number}")  # type: ignore[attr-defined]
        query = query.join(
            link, (link.c.media_asset_id == asset) & (link.c.tag_id == uuid.UUID(tag_id))
        )
    for word in str(params.get("search", "")).split():
        pattern = f"%{word}%"
        tag_named = exists(
            select(1)
            .select_from(MediaAssetTag)
            .join(Tag, col(Tag.id) == col(MediaAssetTag.tag_id))
            .where(col(MediaAssetTag.media_asset_id) == asset, col(Tag.name).ilike(pattern))
        )
        query = query.where(
            or_(
                col(MediaAsset.file_name).ilike(pattern),
                col(MediaAsset.uploaded_by).ilike(pattern),
                col(MediaAsset.file_type).ilike(pattern),
                tag_named,
            )
        )
    if "file_type" in params:
        query = query.where(col(MediaAsset.file_type) == params["file_type"])
    if "uploaded_by" in params:
        query = query.where(col(MediaAsset.uploaded_by) == params["uploaded_by"])
    return query


def sql_way(connection: Connection, params: Params) -> int:
    """Answer one request the SQL way: the page with its tags, the total, and facets.
    Returns the total, so a run can be checked against the service's."""
    matching = _matching(select(col(MediaAsset.id)), params).subquery()
    page_ids = list(
        connection.execute(
            _matching(select(col(MediaAsset.id)), params)
            .order_by(col(MediaAsset.uploaded_at).desc(), col(MediaAsset.id))
            .offset(params.get("skip", 0))
            .limit(PAGE)
        ).scalars()
    )
    connection.execute(select(MediaAsset).where(col(MediaAsset.id).in_(page_ids))).all()
    connection.execute(
        select(col(MediaAssetTag.media_asset_id), Tag)
        .join(Tag, col(Tag.id) == col(MediaAssetTag.tag_id))
        .where(col(MediaAssetTag.media_asset_id).in_(page_ids))
    ).all()
    total: int = connection.execute(select(func.count()).select_from(matching)).scalar_one()
    if "facets" in params:
        ids = select(matching.c.id)
        tag_counts = func.count().label("n")
        connection.execute(
            select(col(MediaAssetTag.tag_id), tag_counts)
            .where(col(MediaAssetTag.media_asset_id).in_(ids))
            .group_by(col(MediaAssetTag.tag_id))
            .order_by(tag_counts.desc())
            .limit(100)
        ).all()
        for column in (col(MediaAsset.file_type), col(MediaAsset.uploaded_by)):
            connection.execute(
                select(column, func.count())
                .where(col(MediaAsset.id).in_(ids))
                .group_by(column)
                .order_by(func.count().desc())
                .limit(100)
            ).all()
    return total
