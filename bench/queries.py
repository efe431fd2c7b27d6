"""The benchmark's queries, each answered two ways: by the service over HTTP, and the SQL way.

The SQL way is the origin system's: `ILIKE '%word%'` for text (over the extracted text
too, as that system would have had to), one join per tag filter, `COUNT(*)` for the
total and GROUP BY for facet counts, on the same database. It lives here, in the
benchmark, as the baseline; the service never answers like this.
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

from bench.content_text import common_words, middle_words
from bench.library import FILE_TYPES, Library
from bench.vocabulary import COLOURS, LEATHERS, PRODUCTS, SUBJECTS
from store.models import AssetContent, MediaAsset, MediaAssetTag, Tag

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
    # Its words are found inside files (the words of names may be too); with highlights.
    content: bool = False
    highlight: bool = False


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
    return plain + faceted + content_queries(library, rng)


def content_queries(library: Library, rng: random.Random) -> list[BenchQuery]:
    """Searches for words inside the files: words found nowhere else, common and rare, two
    of them, a prefix and a typo; a word of the names searched in the content alone; and
    each again with `highlight=true`."""
    common = common_words()
    trade = middle_words()
    # The library's own rarest words; a library without text has none, so trade words.
    rare = library.rare_words or trade
    long_trade = [word for word in trade if len(word) >= 7]

    def variants(make: Callable[[], Params]) -> list[Params]:
        return [make() for _ in range(VARIANTS)]

    def one_of(words: list[str]) -> Callable[[], Params]:
        return lambda: {"search": rng.choice(words)}

    def two_words() -> Params:
        return {"search": " ".join(rng.sample(trade, 2))}

    def prefix() -> Params:
        return {"search": rng.choice(long_trade)[:5]}

    def typo() -> Params:
        return {"search": _typo(rng, rng.choice(_long_words(trade)))}

    def in_content() -> Params:
        return {"search": rng.choice(PRODUCTS + LEATHERS), "search_in": "content"}

    def searching(name: str, make: Callable[[], Params]) -> BenchQuery:
        return BenchQuery(name, variants(make), text=True, content=True)

    plain = [
        searching("content: common word", one_of(common)),
        searching("content: rare word", one_of(rare)),
        searching("content: two words", two_words),
        searching("content: prefix", prefix),
        searching("content: typo", typo),
        searching("name word, search_in=content", in_content),
    ]
    highlighted = [
        BenchQuery(
            f"{query.name} + highlight",
            [{**params, "highlight": "true"} for params in query.variants],
            text=True,
            content=True,
            highlight=True,
        )
        for query in plain
    ]
    return plain + highlighted


def http_params(params: Params) -> list[tuple[str, str]]:
    """The query string pairs, with repeated keys for lists."""
    pairs: list[tuple[str, str]] = [("limit", str(PAGE))]
    for key, value in params.items():
        values = value if isinstance(value, list) else [value]
        pairs += [(key, str(item)) for item in values]
    return pairs


# -- the SQL way ---------------------------------------------------------------------


def _matching(query: Select[Any], params: Params) -> Select[Any]:
    """`query` over media_asset, with one link join per tag and ILIKE per word in the
    fields `search_in` names (all by default), as the origin did."""
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
        in_text = exists(
            select(1).where(
                col(AssetContent.asset_id) == asset, col(AssetContent.text).ilike(pattern)
            )
        )
        fields = {
            "file_name": col(MediaAsset.file_name).ilike(pattern),
            "uploaded_by": col(MediaAsset.uploaded_by).ilike(pattern),
            "file_type": col(MediaAsset.file_type).ilike(pattern),
            "tags": tag_named,
            "content": in_text,
        }
        searched = str(params.get("search_in", ",".join(fields))).split(",")
        query = query.where(or_(*(fields[name] for name in searched)))
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
