"""A synthetic leathercraft library, written straight into the database in bulk.

N assets named from a workshop vocabulary, 8 file types, 50 uploaders, 500 tags whose
popularity follows a Zipf curve, 0 to 6 tags an asset. A fixed seed makes every run
build the same library. Rows only: the assets have no file bytes, since downloads are
not what the benchmark measures.
"""

from __future__ import annotations

import json
import random
import sys
import uuid
from bisect import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from sqlalchemy import Engine, insert

from store.models import MediaAsset, MediaAssetTag, Tag, tag_name_key

SEED = 20261124
BATCH = 20_000
TAG_COUNT = 500
UPLOADER_COUNT = 50
MAX_TAGS_PER_ASSET = 6

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

LEATHERS = [
    "vegtan",
    "cordovan",
    "kangaroo",
    "bridle",
    "chromexcel",
    "pueblo",
    "buttero",
    "shrunken",
    "pebbled",
    "nubuck",
    "suede",
    "calfskin",
    "goatskin",
    "lambskin",
    "bison",
    "horsehide",
    "saddle",
    "latigo",
    "harness",
    "tooling",
]
COLOURS = [
    "tan",
    "oxblood",
    "black",
    "chestnut",
    "navy",
    "olive",
    "cognac",
    "natural",
    "burgundy",
    "forest",
    "mahogany",
    "walnut",
    "honey",
    "slate",
    "espresso",
]
PRODUCTS = [
    "wallet",
    "bifold",
    "trifold",
    "cardholder",
    "passport",
    "belt",
    "strap",
    "watchband",
    "satchel",
    "tote",
    "messenger",
    "backpack",
    "holster",
    "sheath",
    "keyfob",
    "coaster",
    "journal",
    "apron",
    "dopp",
    "briefcase",
    "duffel",
    "clutch",
    "lanyard",
    "collar",
    "leash",
    "guitarstrap",
]
SUBJECTS = [
    "front",
    "back",
    "detail",
    "stitching",
    "edge",
    "burnish",
    "pattern",
    "template",
    "approval",
    "manual",
    "invoice",
    "pricelist",
    "mockup",
    "prototype",
    "lining",
    "gusset",
    "hardware",
    "rivet",
    "buckle",
    "embossing",
    "dyeing",
    "finishing",
    "cutting",
    "layout",
    "sample",
    "swatch",
]
TAG_WORDS = [
    "handmade",
    "stitched",
    "burnished",
    "embossed",
    "dyed",
    "waxed",
    "oiled",
    "distressed",
    "minimalist",
    "rugged",
    "heritage",
    "bespoke",
    "limited",
    "seasonal",
    "bestseller",
    "wholesale",
    "prototype",
    "approved",
    "draft",
    "archived",
    "featured",
    "catalogue",
    "studio",
    "outdoor",
    "lifestyle",
    "flatlay",
    "closeup",
]
TAG_COLOURS = ["#8B4513", "#A0522D", "#D2691E", "#2F4F4F", "#556B2F", "#800000", None]


@dataclass
class Library:
    """What was generated, for building queries that match real data."""

    assets: int
    tag_ids: list[uuid.UUID] = field(default_factory=list)
    tag_names: list[str] = field(default_factory=list)
    uploaders: list[str] = field(default_factory=list)
    sample_asset_ids: list[uuid.UUID] = field(default_factory=list)
    sample_file_names: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(
            {
                "assets": self.assets,
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
            tag_ids=[uuid.UUID(value) for value in saved["tag_ids"]],
            tag_names=saved["tag_names"],
            uploaders=saved["uploaders"],
            sample_asset_ids=[uuid.UUID(value) for value in saved["sample_asset_ids"]],
            sample_file_names=saved["sample_file_names"],
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


def generate(db: Engine, assets: int, *, show_progress: bool = True) -> Library:
    """Write `assets` assets, 500 tags and their links into an empty, migrated database."""
    rng = random.Random(SEED)
    library = Library(assets=assets)
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
        written += count
        if show_progress:
            print(f"\rgenerate {written}/{assets}", end="", file=sys.stderr, flush=True)
    if show_progress:
        print(file=sys.stderr)
    return library
