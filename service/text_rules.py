"""Rules for free text from clients that every database must be able to store, and the
JSON Schema patterns that state such rules to clients."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, GetJsonSchemaHandler, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema


def no_nul(value: str | None) -> str | None:
    # PostgreSQL cannot store U+0000 in text; no legitimate name or query contains it.
    if value is not None and "\x00" in value:
        raise ValueError("Text must not contain the NUL character")
    return value


def no_control_characters(value: str | None) -> str | None:
    if value is not None and any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("Text must not contain control characters")
    return value


@dataclass(frozen=True)
class SchemaPattern:
    """States a validator's rule in the JSON Schema as a `pattern`: pydantic cannot read a
    validator, and a schema that admits what the service refuses misleads every client
    (and the schemathesis run). The validator stays the rule and keeps its sentence. A
    pattern costly to build is given as a function, called when a schema is asked for."""

    pattern: str | Callable[[], str]

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["pattern"] = self.pattern if isinstance(self.pattern, str) else self.pattern()
        return schema


def _ranges(codes: list[int]) -> Iterator[tuple[int, int]]:
    start = previous = codes[0]
    for code in codes[1:]:
        if code != previous + 1:
            yield start, previous
            start = code
        previous = code
    yield start, previous


def _escaped(code: int) -> str:
    char = chr(code)
    if char.isascii() and char.isalnum():
        return char
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return char  # astral ones as they are: `\\U` is not ECMA-262, `\\u{...}` not Python


def char_class(chars: Iterable[str], *, negated: bool = False) -> str:
    """A regex class of exactly `chars` (or all but them), spelled so that Python's `re`,
    Rust's regex (pydantic, jsonschema-rs) and ECMA-262 read it alike."""
    codes = sorted({ord(char) for char in chars})
    spelled = "".join(
        _escaped(start) if start == end else f"{_escaped(start)}-{_escaped(end)}"
        for start, end in _ranges(codes)
    )
    return f"[{'^' if negated else ''}{spelled}]"


# What `str.strip()` removes (and Python's `\\s` matches). The ideographic space, U+3000,
# is the last such character; a test checks that against the whole of Unicode.
WHITESPACE = frozenset(char for char in map(chr, range(0x3001)) if char.isspace())
CONTROL_CHARACTERS = frozenset(map(chr, [*range(32), 127]))


def trimmed_name(label: str, max_length: int) -> Callable[[str], str]:
    """The validator of a name (of a tag, of a saved view): 1 to `max_length` characters
    once trimmed, none of them a control character. Its sentences start with `label`."""

    def clean(value: str) -> str:
        name = value.strip()
        if not name:
            raise ValueError(f"{label} must not be empty")
        if len(name) > max_length:
            raise ValueError(f"{label} must be at most {max_length} characters after trimming")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
            raise ValueError(f"{label} must not contain control characters")
        return name

    return clean


def trimmed_name_pattern(max_length: int) -> str:
    """`trimmed_name` as a pattern: 1 to `max_length` characters without control characters
    once trimmed, whatever whitespace (control or not) surrounds them."""
    edge = char_class(WHITESPACE)
    first_and_last = char_class(WHITESPACE | CONTROL_CHARACTERS, negated=True)
    inner = char_class(CONTROL_CHARACTERS, negated=True)
    return f"^{edge}*{first_and_last}(?:{inner}{{0,{max_length - 2}}}{first_and_last})?{edge}*$"


NoNulText = Annotated[
    str, AfterValidator(no_nul), SchemaPattern(f"^{char_class({chr(0)}, negated=True)}*$")
]
SingleLineText = Annotated[
    str,
    AfterValidator(no_control_characters),
    SchemaPattern(f"^{char_class(CONTROL_CHARACTERS, negated=True)}*$"),
]


def is_storable(value: str) -> bool:
    """Whether the text is valid Unicode: JSON's `\\ud800` escape decodes to a lone
    surrogate, which no database (and no UTF-8 answer) can hold."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _storable(value: Any) -> bool:
    if isinstance(value, str):
        return is_storable(value)
    if isinstance(value, dict):
        return all(_storable(key) and _storable(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_storable(item) for item in value)
    return True


class RequestBody(BaseModel):
    """A JSON request body: unknown fields are refused, and so is text that is not valid
    Unicode, in any field, before any field is read."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: Any) -> Any:
        if not _storable(data):
            raise ValueError(
                "Text must be valid Unicode: a lone surrogate escape such as \\ud800 "
                "cannot be stored"
            )
        return data
