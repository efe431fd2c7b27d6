"""Link shapes and rules: an entity type from MEDIA_LINK_TYPES, an entity id of 1 to 100
printable characters once trimmed, and `type:id` as form fields and filters write a link.

The types are each app's configuration while the models are shared, so the schema of
every place that takes a type carries a stand-in pattern (any type a configuration may
name) that `state_link_types` replaces with the app's own types, and the service checks
them (`require_link_types`, `parse_link_text`)."""

from __future__ import annotations

import functools
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from service.config import LINK_TYPE_PATTERN
from service.errors import Invalid
from service.text_rules import WHITESPACE, RequestBody, SchemaPattern, char_class
from store.links import LINK_SEPARATOR, Link
from store.models import MAX_ENTITY_ID, MAX_ENTITY_TYPE

MAX_LINKS = 1000


# What an id may not hold: controls, format characters (a zero-width space, a right-to-
# left override), surrogates, private use, and every separator but the plain space.
# Unassigned code points are allowed: a character newer than this Python's Unicode
# tables is still text (and a pattern naming every unassigned range would be huge).
_UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp", "Zs"})


def _printable(char: str) -> bool:
    return char == " " or unicodedata.category(char) not in _UNPRINTABLE_CATEGORIES


def clean_entity_id(value: str) -> str:
    """Trimmed; then 1 to 100 printable characters (see _UNPRINTABLE_CATEGORIES)."""
    entity_id = value.strip()
    if not entity_id:
        raise ValueError("entity_id must not be empty")
    if len(entity_id) > MAX_ENTITY_ID:
        raise ValueError(f"entity_id must be at most {MAX_ENTITY_ID} characters after trimming")
    if not all(map(_printable, entity_id)):
        raise ValueError(
            "entity_id must be printable: no control or format characters, and no "
            "whitespace inside it but plain spaces"
        )
    return entity_id


@functools.cache
def _entity_id_body() -> str:
    """`clean_entity_id` as a regex (without anchors): whitespace either side, then 1 to
    100 printable characters, the first and last of them not a space."""
    unprintable = frozenset(
        char
        for char in map(chr, range(sys.maxunicode + 1))
        # Surrogates are no text at all (and no Rust regex may name one).
        if not _printable(char) and not 0xD800 <= ord(char) <= 0xDFFF
    )
    edge = char_class(WHITESPACE)
    inner = char_class(unprintable, negated=True)
    end = char_class(unprintable | WHITESPACE, negated=True)
    return f"{edge}*{end}(?:{inner}{{0,{MAX_ENTITY_ID - 2}}}{end})?{edge}*"


def _entity_id_pattern() -> str:
    return f"^{_entity_id_body()}$"


def entity_type_pattern(types: Iterable[str]) -> str:
    # Types are letters, digits, `_` and `-` (the setting refuses others): nothing to escape.
    return f"^(?:{'|'.join(types)})$"


def link_text_pattern(types: Iterable[str]) -> str:
    """`type:id`, as `parse_link_text` reads it."""
    return f"^(?:{'|'.join(types)}){LINK_SEPARATOR}{_entity_id_body()}$"


# The stand-ins that `state_link_types` replaces: any type a configuration may name, and
# any id (cheap to make: the upload's schema is built at import).
_ANY_TYPE = LINK_TYPE_PATTERN.pattern
ENTITY_TYPE_STAND_IN = f"^(?:{_ANY_TYPE})$"
LINK_TEXT_STAND_IN = f"^(?:{_ANY_TYPE}){LINK_SEPARATOR}.+$"


EntityId = Annotated[str, AfterValidator(clean_entity_id), SchemaPattern(_entity_id_pattern)]
EntityType = Annotated[str, Field(max_length=MAX_ENTITY_TYPE), SchemaPattern(ENTITY_TYPE_STAND_IN)]
# `type:id` in a form field or a query parameter.
LinkText = Annotated[str, SchemaPattern(LINK_TEXT_STAND_IN)]


class LinkIn(RequestBody):
    """An entity of another module; its id is that module's, not checked here."""

    entity_type: EntityType
    entity_id: EntityId


Links = Annotated[list[LinkIn], Field(max_length=MAX_LINKS)]


class LinksBody(RequestBody):
    links: Links


class LinkPublic(BaseModel):
    entity_type: str
    entity_id: str


def unknown_type_message(entity_type: str, types: Sequence[str]) -> str:
    """What a type outside MEDIA_LINK_TYPES is told: the allowed ones."""
    return (
        f"entity_type must be one of the link types {', '.join(types)}; "
        f"{entity_type!r} is not one of them"
    )


def require_entity_type(entity_type: str, types: Sequence[str]) -> str:
    """The type, or 422 naming the allowed ones."""
    if entity_type not in types:
        raise Invalid(f"{unknown_type_message(entity_type, types)}.")
    return entity_type


def require_link_types(links: Iterable[LinkIn], types: Sequence[str]) -> list[Link]:
    """The distinct links, in order; 422 naming the allowed types for any other type."""
    found: dict[Link, None] = {}
    for link in links:
        require_entity_type(link.entity_type, types)
        found[(link.entity_type, link.entity_id)] = None
    return list(found)


def parse_link_text(value: str, types: Sequence[str] | None) -> Link:
    """`type:id` (split at the first `:`; the id trimmed and checked as in JSON), the type
    one of `types` (for None, any a configuration may name: checked later); a ValueError
    with a sentence otherwise."""
    entity_type, separator, entity_id = value.partition(LINK_SEPARATOR)
    if not separator:
        raise ValueError(
            f"A link is written entity_type:entity_id, such as product:123; {value!r} has no `:`"
        )
    if types is not None and entity_type not in types:
        raise ValueError(unknown_type_message(entity_type, types))
    if types is None and not LINK_TYPE_PATTERN.fullmatch(entity_type):
        raise ValueError(
            f"A link's entity_type is 1 to 50 letters, digits, `_` or `-`; {entity_type!r} is not"
        )
    return entity_type, clean_entity_id(entity_id)


def public_links(links: Iterable[Link]) -> list[LinkPublic]:
    return [
        LinkPublic.model_construct(entity_type=entity_type, entity_id=entity_id)
        for entity_type, entity_id in links
    ]


def state_link_types(document: dict[str, Any], types: Sequence[str]) -> dict[str, Any]:
    """This app's document with its MEDIA_LINK_TYPES wherever a schema names a link type:
    the stand-in patterns become patterns of exactly these types. A copy: parts of the
    document (a route's `openapi_extra`) are shared by every app."""
    configured = {
        ENTITY_TYPE_STAND_IN: entity_type_pattern(types),
        LINK_TEXT_STAND_IN: link_text_pattern(types),
    }

    def visit(node: Any) -> Any:
        if isinstance(node, list):
            return [visit(value) for value in node]
        if not isinstance(node, dict):
            return node
        copied = {key: visit(value) for key, value in node.items()}
        pattern = copied.get("pattern")
        if isinstance(pattern, str) and pattern in configured:
            copied["pattern"] = configured[pattern]
        return copied

    stated: dict[str, Any] = visit(document)
    return stated
