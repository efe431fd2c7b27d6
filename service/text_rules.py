"""Rules for free text from clients that every database must be able to store."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator


def no_nul(value: str | None) -> str | None:
    # PostgreSQL cannot store U+0000 in text; no legitimate name or query contains it.
    if value is not None and "\x00" in value:
        raise ValueError("Text must not contain the NUL character")
    return value


def no_control_characters(value: str | None) -> str | None:
    if value is not None and any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("Text must not contain control characters")
    return value


NoNulText = Annotated[str, AfterValidator(no_nul)]
SingleLineText = Annotated[str, AfterValidator(no_control_characters)]


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
