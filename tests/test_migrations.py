"""The Alembic migrations and the SQLModel tables describe the same schema, and the
service refuses to run on a database that is not at the current revision."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert, text, update
from sqlmodel import SQLModel, col

from service.app import create_app
from service.cli import main as cli_main
from service.config import Settings
from store.migrate import SchemaNotCurrent, head_revision
from store.models import IndexOutbox, MediaAsset, utc_now
from tests.conftest import TEST_SECRET, SettingsFactory, bearer, make_token


def test_models_and_migrations_agree(settings: Settings) -> None:
    engine = create_engine(settings.resolved_database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
    finally:
        engine.dispose()


def test_serve_refuses_an_unmigrated_database(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path / "data", auth_secret=TEST_SECRET)
    if database_url is not None:
        settings = settings.model_copy(update={"database_url": database_url})
    settings.data_dir.mkdir(parents=True)
    with (
        pytest.raises(SchemaNotCurrent, match="media-assets migrate"),
        TestClient(create_app(settings)),
    ):
        pass
    monkeypatch.setenv("MEDIA_DATA_DIR", str(settings.data_dir))
    if database_url is not None:
        monkeypatch.setenv("MEDIA_DATABASE_URL", database_url)
    assert cli_main(["indexer"]) == 2  # refuses, saying what to run
    assert cli_main(["migrate"]) == 0
    assert cli_main(["check"]) == 0


def test_serve_refuses_a_newer_schema(settings_factory: SettingsFactory, tmp_path: Path) -> None:
    settings = settings_factory(tmp_path / "data")
    engine = create_engine(settings.resolved_database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(SchemaNotCurrent, match="newer"), TestClient(create_app(settings)):
        pass
    assert head_revision() == "0013_media_asset_link"


def test_upgrading_from_0001_folds_existing_descriptions(tmp_path: Path) -> None:
    from alembic import command

    from store.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0001")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO tag (id, name, name_key, description, created_at, updated_at) "
                "VALUES ('0123456789abcdef0123456789abcdef', 'École', 'école', "
                "'ÉCOLE Straße', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as connection:
        folded = connection.execute(text("SELECT description_key FROM tag")).scalar_one()
    engine.dispose()
    assert folded == "école strasse"


def test_upgrading_from_0002_counts_existing_links(tmp_path: Path) -> None:
    from alembic import command

    from store.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0002")
    engine = create_engine(url)
    stamp = "2026-01-01 00:00:00"
    with engine.begin() as connection:
        for number in (1, 2):
            connection.execute(
                text(
                    "INSERT INTO tag (id, name, name_key, created_at, updated_at) "
                    "VALUES (:id, :name, :name, :stamp, :stamp)"
                ),
                {"id": f"{number:032x}", "name": f"t{number}", "stamp": stamp},
            )
        for number in (1, 2, 3):
            connection.execute(
                text(
                    "INSERT INTO media_asset (id, file_name, file_type, content_type, "
                    "file_size_bytes, uploaded_by, uploaded_at, created_at, updated_at) "
                    "VALUES (:id, 'a.pdf', '.pdf', 'application/pdf', 0, 'me', "
                    ":stamp, :stamp, :stamp)"
                ),
                {"id": f"{number:032x}", "stamp": stamp},
            )
            connection.execute(
                text("INSERT INTO media_asset_tag VALUES (:asset, :tag)"),
                {"asset": f"{number:032x}", "tag": f"{1:032x}"},
            )
    command.upgrade(alembic_config(url), "head")
    with engine.begin() as connection:
        counts = connection.execute(text("SELECT asset_count FROM tag ORDER BY id")).all()
        assert [count for (count,) in counts] == [3, 0]
        # From here on the triggers keep it.
        connection.execute(text("PRAGMA foreign_keys=ON"))
        connection.execute(text("DELETE FROM media_asset WHERE id = :id"), {"id": f"{1:032x}"})
        counts = connection.execute(text("SELECT asset_count FROM tag ORDER BY id")).all()
    engine.dispose()
    assert [count for (count,) in counts] == [2, 0]


def test_sizes_and_outbox_ids_past_32_bits_are_kept(settings: Settings) -> None:
    """A 5 GiB file's size, and an outbox id past 2**31 (migration 0007 on PostgreSQL)."""
    five_gib = 5 * 2**30
    with TestClient(create_app(settings), headers=bearer(make_token())) as api:
        asset = api.post("/api/media-assets", json={"file_name": "tannery-film.pdf"}).json()
        asset_id = uuid.UUID(asset["id"])
        engine = create_engine(settings.resolved_database_url)
        try:
            with engine.begin() as connection:
                connection.execute(
                    update(MediaAsset)
                    .where(col(MediaAsset.id) == asset_id)
                    .values(file_size_bytes=five_gib)
                )
                # The indexer picks the asset up from an outbox row with a 64-bit id.
                connection.execute(
                    insert(IndexOutbox).values(
                        id=2**31 + 7, asset_id=asset_id, created_at=utc_now()
                    )
                )
        finally:
            engine.dispose()
        assert api.get(f"/api/media-assets/{asset['id']}").json()["file_size_bytes"] == five_gib
        state = api.app.state  # type: ignore[attr-defined]
        state.indexer.drain()
        listed = api.get("/api/media-assets", params={"search": "tannery"}).json()
        assert listed["items"][0]["file_size_bytes"] == five_gib
