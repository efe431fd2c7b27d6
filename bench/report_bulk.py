"""The report's figures about bulk changes: a tag added to, then removed from, many assets
selected by a query, each timed until its answer (which comes once it is searchable)."""

from __future__ import annotations

from typing import Any


def bulk_table(bulk: dict[str, Any], engine: str) -> list[str]:
    query = bulk["query"]
    selection = (
        f"the {bulk['assets']:,} oldest uploads (`uploaded_before`)" if query else "every asset"
    )
    lines = [
        f"On the {engine} engine: `POST /api/media-assets/bulk` with `add_tags` of a new tag to "
        f"{selection}, selected by a query, then `remove_tags` of it from every asset that has "
        "it (`tag_ids`), one transaction each. Timed from the request to the answer, which "
        "comes once the index shows the change (read-your-writes); a search for the tag then "
        "confirms the count.",
        "",
        "| change | assets | seconds | seconds per 10,000 assets | found by the tag after | "
        "answered pending |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for step in (bulk["add"], bulk["remove"]):
        lines.append(
            f"| {step['action']} | {step['matched']:,} | {step['seconds']:.1f} | "
            f"{step['seconds_per_10k']:.2f} | {step['found_by_tag']:,} | "
            f"{'yes' if step['pending'] else 'no'} |"
        )
    return lines


def bulk_section(results: dict[str, Any]) -> list[str]:
    bulk = results.get("bulk")
    if not bulk:
        return []
    return ["### Bulk changes", "", *bulk_table(bulk, bulk["engine"]), ""]
