"""Settings read from MEDIA_* environment variables, and the auth secret kept in the data dir."""

from __future__ import annotations

import os
import re
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from indexer.query import EngineConfig

DEFAULT_ALLOWED_TYPES = "jpg,jpeg,png,gif,pdf,doc,docx,xlsx,csv,svg"
DEFAULT_LINK_TYPES = "project,product,customer,documentation"
# A link type is a name other modules share: no `:` (it separates `type:id`), no comma
# (it separates the setting), nothing a path segment or a filter would have to escape.
LINK_TYPE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,50}")
SECRET_FILE_NAME = "auth_secret"  # noqa: S105  (a file name, not a secret)


class Settings(BaseSettings):
    """Every setting of the service; each field is read from `MEDIA_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="MEDIA_", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str | None = None
    auth_secret: str | None = None
    max_upload_bytes: int = Field(default=100 * 1024 * 1024, gt=0)
    allowed_types: str = DEFAULT_ALLOWED_TYPES
    # The kinds of entity of other modules an asset may be linked to (`entity_type`).
    link_types: str = DEFAULT_LINK_TYPES
    search_engine: Literal["embedded", "meilisearch"] = "embedded"
    index_wait_ms: int = Field(default=5000, ge=0)
    run_indexer: bool = True
    meilisearch_url: str = "http://127.0.0.1:7700"
    meilisearch_api_key: str | None = None
    meilisearch_index: str = "media_assets"
    # Per API process: past this many open connections or requests under way, uvicorn
    # answers 503 at once instead of accepting sockets until the process runs out.
    limit_concurrency: int = Field(default=1000, gt=0)
    # How long an idle keep-alive connection is kept open (uvicorn's default is 5 s).
    keep_alive_seconds: int = Field(default=5, gt=0)
    # /readyz says not ready below this much free space where files, the index or the
    # SQLite database are written: by default room for two uploads of the default limit.
    min_free_bytes: int = Field(default=200 * 1024 * 1024, ge=0)
    # Text extraction (search inside files): at most this many characters kept per asset,
    # and each file's extraction bounded in time and in memory (its child process's).
    content_max_chars: int = Field(default=1_000_000, gt=0)
    content_timeout_s: float = Field(default=60.0, gt=0)
    content_memory_mb: int = Field(default=1024, gt=0)
    # The most assets one bulk change may select (all of them change in one transaction).
    bulk_max: int = Field(default=100_000, gt=0)

    @field_validator("allowed_types")
    @classmethod
    def _types_not_empty(cls, value: str) -> str:
        if not parse_type_list(value):
            raise ValueError("MEDIA_ALLOWED_TYPES must name at least one file extension")
        return value

    @field_validator("link_types")
    @classmethod
    def _link_types_usable(cls, value: str) -> str:
        types = parse_link_types(value)
        if not types:
            raise ValueError("MEDIA_LINK_TYPES must name at least one entity type")
        for name in types:
            if not LINK_TYPE_PATTERN.fullmatch(name):
                raise ValueError(
                    f"MEDIA_LINK_TYPES: {name!r} is not a usable entity type (1 to 50 "
                    "letters, digits, `_` or `-`)"
                )
        if len({name.casefold() for name in types}) != len(types):
            # Meilisearch compares filter values without regard to case.
            raise ValueError("MEDIA_LINK_TYPES names the same type twice (case is ignored)")
        return value

    @cached_property
    def entity_types(self) -> tuple[str, ...]:
        """The configured link types, in the order the setting names them."""
        return tuple(parse_link_types(self.link_types))

    @cached_property
    def allowed_extensions(self) -> frozenset[str]:
        """The allowed file types as normalised extensions with their dot (`.jpg`)."""
        return frozenset(parse_type_list(self.allowed_types))

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def engine_config(self) -> EngineConfig:
        return EngineConfig(
            kind=self.search_engine,
            index_dir=self.index_dir,
            meilisearch_url=self.meilisearch_url,
            meilisearch_api_key=self.meilisearch_api_key,
            meilisearch_index=self.meilisearch_index,
        )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'media.db').resolve()}"

    def resolved_auth_secret(self, *, create: bool) -> str | None:
        """MEDIA_AUTH_SECRET, else the secret kept in the data dir (created once when asked)."""
        if self.auth_secret:
            return self.auth_secret
        path = self.data_dir / SECRET_FILE_NAME
        if path.exists():
            return path.read_text().strip() or None
        if not create:
            return None
        self.data_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        # O_EXCL: two processes starting at once must not overwrite each other's secret.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(secret)
        return secret


def normalize_file_type(value: str) -> str:
    """`JPG`, `jpg` and `.jpg` all become `.jpg`."""
    cleaned = value.strip().lower().lstrip(".")
    return f".{cleaned}" if cleaned else ""


def parse_type_list(value: str) -> list[str]:
    return [t for t in (normalize_file_type(part) for part in value.split(",")) if t]


def parse_link_types(value: str) -> list[str]:
    return [name for name in (part.strip() for part in value.split(",")) if name]
