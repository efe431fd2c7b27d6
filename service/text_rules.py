"""Rules for free text from clients that every database must be able to store."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


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
