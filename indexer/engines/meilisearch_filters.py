"""Meilisearch filter expressions, built only here, with every value quoted."""

from __future__ import annotations

from collections.abc import Sequence


def quote(value: str) -> str:
    """A Meilisearch string literal: double quotes, with `\\` and `"` escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def any_of(attribute: str, values: Sequence[str]) -> str:
    return f"{attribute} IN [{', '.join(quote(v) for v in values)}]"


def none_of(attribute: str, values: Sequence[str]) -> str:
    return f"{attribute} NOT IN [{', '.join(quote(v) for v in values)}]"


def all_of(attribute: str, values: Sequence[str]) -> list[str]:
    return [f"{attribute} = {quote(v)}" for v in values]


def between(attribute: str, lower: int | None, upper: int | None) -> list[str]:
    clauses = []
    if lower is not None:
        clauses.append(f"{attribute} >= {int(lower)}")
    if upper is not None:
        clauses.append(f"{attribute} <= {int(upper)}")
    return clauses
