"""Schema versions: applying the Alembic migrations, and refusing to run on the wrong schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class SchemaNotCurrent(Exception):
    """The database's schema is not the one this code was written for."""


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser would read `%` in a password as interpolation.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


def head_revision() -> str:
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None
    return head


def require_current_schema(engine: Engine) -> None:
    """Raise SchemaNotCurrent, saying what to run, unless the schema is at the head revision."""
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    head = head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaNotCurrent("The database has no schema yet. Run `media-assets migrate` first.")
    if current not in {rev.revision for rev in script.walk_revisions()}:
        raise SchemaNotCurrent(
            f"The database's schema ({current}) is newer than this version of the service "
            f"knows ({head}). Upgrade the service, or restore a matching database."
        )
    raise SchemaNotCurrent(
        f"The database's schema ({current}) is behind this service ({head}). "
        "Run `media-assets migrate`."
    )
