"""The canonical store both the API and the indexer stand on: tables, migrations, the
database engine and the index outbox. It imports neither of them."""
