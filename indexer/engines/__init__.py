"""Search engines behind one interface; `open_engine` picks one from the settings."""

from __future__ import annotations

from indexer.engines.base import SearchEngine
from service.config import Settings


def open_engine(settings: Settings) -> SearchEngine:
    if settings.search_engine == "meilisearch":
        from indexer.engines.meilisearch import MeilisearchEngine

        return MeilisearchEngine(
            url=settings.meilisearch_url,
            api_key=settings.meilisearch_api_key,
            index_uid=settings.meilisearch_index,
        )
    from indexer.engines.embedded import EmbeddedEngine

    return EmbeddedEngine(settings.index_dir)
