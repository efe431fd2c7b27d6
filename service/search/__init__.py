"""List and search, answered from the search index and hydrated from the database."""
