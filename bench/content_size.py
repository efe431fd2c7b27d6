"""What the text inside files weighs: the library's text counted in the database, and each
index's size with it against the same documents without it.

Without content is measured, not estimated: the embedded engine builds a second index
from the same documents with their `content` emptied (the same rebuild code, into a
scratch directory, removed afterwards), and Meilisearch loads them into a second index
of its own, deleted once measured. A Meilisearch index's size is the growth of the
server's `usedDatabaseSize` while the index loads (the API gives no per-index total).
"""

from __future__ import annotations

import dataclasses
import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from bench.meilisearch_direct import Meilisearch, build_documents, load
from indexer.documents import DocumentLoader, SearchDocument
from indexer.engines.embedded import EmbeddedEngine
from indexer.engines.embedded_dirs import IndexDirectories
from indexer.maintenance import BATCH_SIZE
from store.content import EXTRACTED
from store.models import AssetContent, MediaAsset


def content_shape(db: Engine) -> dict[str, Any]:
    """The text the library holds, counted in the database: assets by extraction status,
    and the characters of those with text."""
    with Session(db) as session:
        assets = session.execute(select(func.count()).select_from(MediaAsset)).scalar_one()
        by_status = dict(
            session.execute(
                select(col(AssetContent.status), func.count()).group_by(col(AssetContent.status))
            ).all()
        )
        characters = col(AssetContent.characters)
        low, mean, high, total = session.execute(
            select(
                func.min(characters),
                func.avg(characters),
                func.max(characters),
                func.sum(characters),
            ).where(col(AssetContent.status) == EXTRACTED)
        ).one()
    with_text = by_status.get(EXTRACTED, 0)
    return {
        "assets": assets,
        "statuses": {str(status): count for status, count in sorted(by_status.items())},
        "with_text": with_text,
        "share_with_text": round(with_text / assets, 4) if assets else 0.0,
        "characters_min": low or 0,
        "characters_mean": round(mean or 0),
        "characters_max": high or 0,
        "characters_total": total or 0,
    }


def directory_bytes(path: Path) -> int:
    return sum(entry.stat().st_size for entry in path.rglob("*") if entry.is_file())


def _documents(db: Engine, *, with_content: bool) -> Iterator[Sequence[SearchDocument]]:
    with Session(db) as session:
        for documents in DocumentLoader(session).batches(BATCH_SIZE):
            if with_content:
                yield documents
            else:
                yield [dataclasses.replace(document, content="") for document in documents]


def embedded_sizes(db: Engine, index_dir: Path, scratch: Path) -> dict[str, Any]:
    """The size of the index in `index_dir` (just rebuilt), and of one built from the
    same documents without their content, with that build's time."""
    with_content = directory_bytes(IndexDirectories(index_dir).current())
    shutil.rmtree(scratch, ignore_errors=True)
    engine = EmbeddedEngine(scratch)
    try:
        started = time.perf_counter()
        engine.rebuild(_documents(db, with_content=False))
        seconds = time.perf_counter() - started
        without_content = directory_bytes(engine.dirs.current())
    finally:
        engine.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return {
        "engine": "embedded",
        "bytes_with_content": with_content,
        "bytes_without_content": without_content,
        "build_seconds_without_content": round(seconds, 2),
    }


def meilisearch_loaded(meili: Meilisearch, uid: str, grew_by: int) -> dict[str, Any]:
    """An index just loaded: the growth of the server's used size while it loaded, and
    the size of its documents as Meilisearch stores them."""
    stats = meili.call("GET", f"/indexes/{uid}/stats")
    return {"bytes": grew_by, "document_bytes": stats["rawDocumentDbSize"]}


def meilisearch_without_content(meili: Meilisearch, db: Engine) -> dict[str, Any]:
    """Meilisearch's own load of the same documents without their text, into an index
    deleted once measured: its size and load rate."""
    documents = build_documents(db, with_content=False)
    uid = f"bench_plain_{uuid.uuid4().hex[:8]}"
    try:
        before = meili.used_bytes()
        loaded = load(meili, uid, documents)
        figures = meilisearch_loaded(meili, uid, meili.used_bytes() - before)
    finally:
        meili.discard_index(uid)
    return {**figures, "load": loaded.as_dict()}
