"""The report's figures about the text inside files: the library's share of text, the
extraction throughput per type, index sizes with and without the text, and uploads
whose text is extracted after the answer."""

from __future__ import annotations

from typing import Any


def text_share(results: dict[str, Any]) -> str:
    """The share of the library with extracted text and its words, as counted."""
    content = results["content"]
    words = content["words"]
    if not content["with_text"]:
        return "**none with extracted text**"
    return (
        f"**{content['share_with_text']:.1%} with extracted text** "
        f"({content['with_text']:,} documents of **{words['words_min']:,} to "
        f"{words['words_max']:,} words**, p50 {words['words_p50']:,})"
    )


def _library_text(results: dict[str, Any]) -> list[str]:
    content = results["content"]
    words = content["words"]
    ranges = ", ".join(
        f"{kind} {low:,} to {high:,}" for kind, (low, high) in content["words_per_document"].items()
    )
    statuses = ", ".join(f"{count:,} {status}" for status, count in content["statuses"].items())
    return [
        f"{content['assets']:,} assets, counted in the database: {statuses} "
        f"(**{content['share_with_text']:.1%} with extracted text**, "
        f"{content['share_asked']:.0%} asked). Words a document: {words['words_min']:,} to "
        f"{words['words_max']:,}, p50 {words['words_p50']:,}, mean {words['words_mean']:,} "
        f"(drawn log-uniformly: {ranges}); {words['words_total']:,} words, "
        f"{content['characters_total'] / 1e6:,.1f} million characters in all.",
    ]


def _extraction_table(extraction: dict[str, Any]) -> list[str]:
    limits = extraction["limits"]
    lines = [
        "Each file extracted again and again through `service.extraction.Extractor` (the "
        "derived-data worker's isolated child process, one file at a time) with the service's "
        f"limits ({limits['timeout_s']:g} s, {limits['memory_mb']:,} MB, "
        f"{limits['max_chars']:,} characters); the first extraction, which starts the "
        "child, is not counted.",
        "",
        "| file | type | size | characters | files/s | MB/s | p50 ms a file | runs |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for measured in extraction["files"]:
        lines.append(
            f"| {measured['file']} | {measured['type']} | {file_size(measured['bytes'])} | "
            f"{measured['characters']:,} | {measured['files_per_second']:,.1f} | "
            f"{measured['megabytes_per_second']:.2f} | {measured['p50_ms']:.1f} | "
            f"{measured['runs']} |"
        )
    return lines


def file_size(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1e6:,.1f} MB"
    return f"{size / 1e3:,.1f} kB"


def _index_size_table(results: dict[str, Any]) -> list[str]:
    sizes = results["index_size"]
    lines = [
        "| index | with text | without text | the text adds | load without text |",
        "|---|---:|---:|---:|---|",
    ]
    embedded = sizes.get("embedded")
    if embedded:
        with_text, without = embedded["bytes_with_content"], embedded["bytes_without_content"]
        rate = results["assets"] / embedded["build_seconds_without_content"]
        reindexed = next((r for r in results["reindex"] if r["engine"] == "embedded"), None)
        lines.append(
            f"| embedded (the index directory) | {file_size(with_text)} | {file_size(without)} | "
            f"{_grown(with_text, without)} | rebuilt at {rate:,.0f} assets/s"
            + (f" (with text: {reindexed['assets_per_second']:,})" if reindexed else "")
            + " |"
        )
    meili = sizes.get("meilisearch")
    if meili:
        plain = meili.get("without_content")
        without_text = file_size(plain["bytes"]) if plain else "n/a"
        added = _grown(meili["bytes"], plain["bytes"]) if plain else "n/a"
        load = "not measured"
        if plain:
            own = results["meilisearch_load"]
            load = (
                f"its own load at {plain['load']['assets_per_second']:,} assets/s "
                f"(with text: {own['assets_per_second']:,})"
            )
        lines.append(
            f"| Meilisearch (growth of `usedDatabaseSize` while it loaded; documents alone: "
            f"{file_size(meili['document_bytes'])}"
            + (f" and {file_size(plain['document_bytes'])}" if plain else "")
            + f") | {file_size(meili['bytes'])} | {without_text} | {added} | {load} |"
        )
    return lines


def _grown(larger: int, smaller: int) -> str:
    if not smaller:
        return "n/a"
    return f"+{file_size(larger - smaller)} (x{larger / smaller:.2f})"


def _content_upload_table(upload: dict[str, Any]) -> list[str]:
    size = f"{upload['megabytes']:g} MB"
    return [
        f"{upload['uploads']} rounds on the {upload['engine']} engine, the derived-data worker "
        "running (in the indexer process): a PNG of "
        f"{size} (RGB noise; no text to extract), then a real PDF of {size} "
        f"({upload['pdf_pages']:,} pages of prose; its text is extracted after the "
        "answer), then at once another PNG while the PDF's text is being extracted "
        f"({upload['png_uploads_during_extraction']} of {upload['uploads']} ended before it "
        "was searchable); meanwhile a search for a word of the PDF's first page "
        "(`search_in=content`, every 10 ms) times how long after the PDF's answer its "
        f"text is found. The PDF's text as kept: {upload['characters_kept']:,} characters"
        + (" (truncated at the limit)." if upload["truncated"] else "."),
        "",
        "| upload | p50 ms | max ms |",
        "|---|---:|---:|",
        f"| PNG, {size}, nothing being extracted | {upload['png_idle']['p50_ms']:.0f} | "
        f"{upload['png_idle']['max_ms']:.0f} |",
        f"| PDF, {size}, its answer | {upload['pdf']['p50_ms']:.0f} | "
        f"{upload['pdf']['max_ms']:.0f} |",
        f"| PNG, {size}, during the PDF's extraction | "
        f"{upload['png_during_extraction']['p50_ms']:.0f} | "
        f"{upload['png_during_extraction']['max_ms']:.0f} |",
        f"| the PDF's text searchable, after its answer | "
        f"{upload['content_searchable_after_answer']['p50_ms']:.0f} | "
        f"{upload['content_searchable_after_answer']['max_ms']:.0f} |",
    ]


def text_section(results: dict[str, Any]) -> list[str]:
    lines = ["### Text inside files", "", *_library_text(results), ""]
    if results.get("extraction"):
        lines += ["#### Extraction throughput", "", *_extraction_table(results["extraction"]), ""]
    if results["index_size"]:
        lines += [
            "#### Index size",
            "",
            "Without text: the same documents with their text left out, built by the same "
            "code into an index of their own (removed once measured).",
            "",
            *_index_size_table(results),
            "",
        ]
    if results.get("content_upload"):
        lines += [
            "#### Uploads while text is extracted",
            "",
            *_content_upload_table(results["content_upload"]),
            "",
        ]
    return lines
