"""Everything about the search index: documents, engines, the outbox worker and upkeep."""
