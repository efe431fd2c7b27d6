"""A synthetic leathercraft library, written straight into the database in bulk.

N assets named from a workshop vocabulary, 8 file types, 50 uploaders, 500 tags whose
popularity follows a Zipf curve, 0 to 6 tags an asset. A share of the assets (documents:
PDF, DOCX, XLSX and CSV) hold extracted text of a few hundred to a few thousand words
(`bench.content_text`); the other documents and the SVGs hold none (status `empty`, as a
scan or a drawing without words), and photos have no extractor (`unsupported`); nothing
is left `pending`. A fixed seed makes every run build the same library. Rows only: the
assets have no file bytes, since downloads are not what the benchmark measures (their
text rows name a storage key no file backs).
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import uuid
from bisect import bisect
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy import Engine, insert

from bench.content_text import TEXT_TYPES, TextMaker, content_status
from bench.vocabulary import COLOURS, LEATHERS, PRODUCTS, SUBJECTS, TAG_WORDS
from service.extraction import EXTRACTOR_VERSION
from store.content import UNSUPPORTED
from store.models import AssetContent, MediaAsset, MediaAssetTag, Tag, tag_name_key

# Bumped whenever what `generate` writes changes: a cached library of another version
# is generated again (`bench.__main__.prepare_library`).
GENERATOR_VERSION = 2
SEED = 20261124
# The text has a generator of its own, so the names, types and tags of every asset are
# those the generator made before there was text.
CONTENT_SEED = SEED + 1
BATCH = 20_000
TAG_COUNT = 500
UPLOADER_COUNT = 50
MAX_TAGS_PER_ASSET = 6
DEFAULT_CONTENT_SHARE = 0.2

FILE_TYPES = {
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv",
}
# Photos dominate a product library; documents and sheets are the long tail.
FILE_TYPE_WEIGHTS = [40, 15, 3, 4, 18, 8, 7, 5]
# The share of assets that are documents, the most that can hold text.
TEXT_TYPE_SHARE = sum(
    weight
    for extension, weight in zip(FILE_TYPES, FILE_TYPE_WEIGHTS, strict=True)
    if extension in TEXT_TYPES
) / sum(FILE_TYPE_WEIGHTS)

TAG_COLOURS = ["#8B4513", "#A0522D", "#D2691E", "#2F4F4F", "#556B2F", "#800000", None]


@dataclass(frozen=True)
class ContentFigures:
    """The text the generator wrote: how many documents hold some, and their words."""

    documents: int = 0
    words_min: int = 0
    words_p50: int = 0
    words_mean: int = 0
    words_max: int = 0
    words_total: int = 0

    @classmethod
    def of(cls, counts: list[int]) -> ContentFigures:
        if not counts:
            return cls()
        return cls(
            documents=len(counts),
            words_min=min(counts),
            words_p50=round(statistics.median(counts)),
            words_mean=round(statistics.fmean(counts)),
            words_max=max(counts),
            words_total=sum(counts),
        )


@dataclass
class Library:
    """What was generated, for building queries that match real data."""

    assets: int
    version: int = GENERATOR_VERSION
    content_share: float = DEFAULT_CONTENT_SHARE
    content: ContentFigures = field(default_factory=ContentFigures)
    # Words of the text's tail that some documents hold, rarest first.
    rare_words: list[str] = field(default_factory=list)
    tag_ids: list[uuid.UUID] = field(default_factory=list)
    tag_names: list[str] = field(default_factory=list)
    uploaders: list[str] = field(default_factory=list)
    sample_asset_ids: list[uuid.UUID] = field(default_factory=list)
    sample_file_names: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(
            {
                "assets": self.assets,
                "version": self.version,
                "content_share": self.content_share,
                "content": asdict(self.content),
                "rare_words": self.rare_words,
                "tag_ids": [str(value) for value in self.tag_ids],
                "tag_names": self.tag_names,
                "uploaders": self.uploaders,
                "sample_asset_ids": [str(value) for value in self.sample_asset_ids],
                "sample_file_names": self.sample_file_names,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Library:
        saved = json.loads(text)
        return cls(
            assets=saved["assets"],
            # A library saved before the generator had versions is version 1.
            version=saved.get("version", 1),
            content_share=saved.get("content_share", 0.0),
            content=ContentFigures(**saved.get("content", {})),
            rare_words=saved.get("rare_words", []),
            tag_ids=[uuid.UUID(value) for value in saved["tag_ids"]],
            tag_names=saved["tag_names"],
            uploaders=saved["uploaders"],
            sample_asset_ids=[uuid.UUID(value) for value in saved["sample_asset_ids"]],
            sample_file_names=saved["sample_file_names"],
        )

    def is_like(self, *, assets: int, content_share: float) -> bool:
        """Whether this library is what the generator would make now for these arguments."""
        return (
            self.version == GENERATOR_VERSION
            and self.assets == assets
            and self.content_share == content_share
        )


def _tag_names(rng: random.Random) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    pools = (TAG_WORDS, LEATHERS, COLOURS, PRODUCTS)
    while len(names) < TAG_COUNT:
        first, second = rng.choice(pools), rng.choice(pools)
        name = f"{rng.choice(first)} {rng.choice(second)}" if len(names) >= 60 else ""
        if not name:
            name = rng.choice(TAG_WORDS + LEATHERS + COLOURS)
        if tag_name_key(name) not in seen:
            seen.add(tag_name_key(name))
            names.append(name)
    return names


def _file_name(rng: random.Random, number: int, extension: str) -> str:
    parts = [rng.choice(COLOURS), rng.choice(LEATHERS), rng.choice(PRODUCTS), rng.choice(SUBJECTS)]
    separator = rng.choice("_- ")
    return f"{separator.join(parts)}{separator}{number:07d}{extension}"


def _batches(items: list[dict[str, object]], size: int) -> Iterator[list[dict[str, object]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _ContentWriter:
    """The `asset_content` row of each asset, drawn from a generator of its own."""

    def __init__(self, assets: int, share: float) -> None:
        if not 0 <= share <= TEXT_TYPE_SHARE:
            raise ValueError(
                f"the share of assets with text must be between 0 and {TEXT_TYPE_SHARE:g}, "
                "the share of documents"
            )
        self.rng = random.Random(CONTENT_SEED)
        # Each document holds text with this chance, so `share` of all assets do.
        self.chance = share / TEXT_TYPE_SHARE
        self.text = TextMaker.for_library(self.rng, documents=round(assets * share))
        self.word_counts: list[int] = []

    def row(self, asset_id: uuid.UUID, extension: str, moment: datetime) -> dict[str, Any]:
        text = ""
        if extension in TEXT_TYPES and self.rng.random() < self.chance:
            text, count = self.text.document(extension)
            self.word_counts.append(count)
        status = content_status(extension, has_text=bool(text))
        done = status != UNSUPPORTED  # extraction ran (an unsupported type never does)
        return {
            "asset_id": asset_id,
            "status": status,
            "source": f"bench/{asset_id.hex}",
            "text": text or None,
            "characters": len(text),
            "truncated": False,
            "error": None,
            "extractor_version": EXTRACTOR_VERSION if done else None,
            "requested_at": moment,
            "extracted_at": moment if done else None,
            "leased_until": None,
        }


def generate(
    db: Engine,
    assets: int,
    *,
    content_share: float = DEFAULT_CONTENT_SHARE,
    show_progress: bool = True,
) -> Library:
    """Write `assets` assets, 500 tags, their links and the assets' text rows into an
    empty, migrated database; `content_share` of the assets hold text."""
    rng = random.Random(SEED)
    content = _ContentWriter(assets, content_share)
    library = Library(assets=assets, content_share=content_share)
    library.uploaders = [f"maker{number:02d}" for number in range(1, UPLOADER_COUNT + 1)]
    library.tag_names = _tag_names(rng)
    library.tag_ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(TAG_COUNT)]
    now = datetime(2026, 11, 1, tzinfo=UTC)
    tags = [
        {
            "id": tag_id,
            "name": name,
            "name_key": tag_name_key(name),
            "color": rng.choice(TAG_COLOURS),
            "created_at": now,
            "updated_at": now,
        }
        for tag_id, name in zip(library.tag_ids, library.tag_names, strict=True)
    ]
    # Zipf popularity: the first tags are on many assets, the last on a handful.
    tag_weights = list(accumulate(1 / rank for rank in range(1, TAG_COUNT + 1)))
    type_weights = list(accumulate(FILE_TYPE_WEIGHTS))
    extensions = list(FILE_TYPES)
    start = now - timedelta(days=5 * 365)
    seconds_span = 5 * 365 * 86_400
    with db.begin() as connection:
        connection.execute(insert(Tag), tags)
    written = 0
    while written < assets:
        count = min(BATCH, assets - written)
        asset_rows: list[dict[str, object]] = []
        link_rows: list[dict[str, object]] = []
        content_rows: list[dict[str, object]] = []
        for number in range(written, written + count):
            asset_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            extension = extensions[bisect(type_weights, rng.random() * type_weights[-1])]
            uploaded = start + timedelta(seconds=rng.randrange(seconds_span))
            file_name = _file_name(rng, number, extension)
            asset_rows.append(
                {
                    "id": asset_id,
                    "file_name": file_name,
                    "file_type": extension,
                    "content_type": FILE_TYPES[extension],
                    "storage_location": None,
                    "file_size_bytes": rng.randrange(2_000, 25_000_000),
                    "checksum_sha256": None,
                    "uploaded_by": rng.choice(library.uploaders),
                    "uploaded_at": uploaded,
                    "created_at": uploaded,
                    "updated_at": uploaded,
                }
            )
            content_rows.append(content.row(asset_id, extension, uploaded))
            chosen = {
                bisect(tag_weights, rng.random() * tag_weights[-1])
                for _ in range(rng.randint(0, MAX_TAGS_PER_ASSET))
            }
            link_rows += [
                {"media_asset_id": asset_id, "tag_id": library.tag_ids[index]} for index in chosen
            ]
            if len(library.sample_asset_ids) < 2_000 and rng.random() < 0.01:
                library.sample_asset_ids.append(asset_id)
                library.sample_file_names.append(file_name)
        with db.begin() as connection:
            connection.execute(insert(MediaAsset), asset_rows)
            for batch in _batches(link_rows, BATCH):
                connection.execute(insert(MediaAssetTag), batch)
            for batch in _batches(content_rows, BATCH):
                connection.execute(insert(AssetContent), batch)
        written += count
        if show_progress:
            print(f"\rgenerate {written}/{assets}", end="", file=sys.stderr, flush=True)
    if show_progress:
        print(file=sys.stderr)
    library.content = ContentFigures.of(content.word_counts)
    library.rare_words = content.text.rare_words()
    return library
