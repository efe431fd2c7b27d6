"""Search engines behind one interface: embedded (Tantivy) and Meilisearch."""
