"""The report's figures about previews: the rendering throughput per type, and uploads
of a camera's photo while the previews of another are being rendered."""

from __future__ import annotations

from typing import Any

from bench.report_content import file_size


def _rendering_table(rendering: dict[str, Any]) -> list[str]:
    limits = rendering["limits"]
    lines = [
        "Both previews of each file (WebP, fitting 320x320 and 1280x1280, with the image "
        "facts and, for JPEG, PNG and GIF, the perceptual hash) rendered again and again "
        "through `service.extraction.Extractor` (the derived-data worker's isolated child "
        "process, one file at a time, both files written to disk) with the service's "
        f"limits ({limits['timeout_s']:g} s, {limits['memory_mb']:,} MB); the first "
        "rendering, which starts the child, is not counted.",
        "",
        "| file | type | size | shown as | both previews | files/s | MB/s | p50 ms a file | runs |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for measured in rendering["files"]:
        lines.append(
            f"| {measured['file']} | {measured['type']} | {file_size(measured['bytes'])} | "
            f"{measured['width']}x{measured['height']} | "
            f"{file_size(measured['preview_bytes'])} | {measured['files_per_second']:,.1f} | "
            f"{measured['megabytes_per_second']:.2f} | {measured['p50_ms']:.1f} | "
            f"{measured['runs']} |"
        )
    return lines


def _photo_upload_table(upload: dict[str, Any]) -> list[str]:
    photo = f"{upload['megabytes']:g} MB JPEG ({upload['megapixels']} MP)"
    return [
        f"{upload['uploads']} rounds on the {upload['engine']} engine, the derived-data "
        f"worker running (in the indexer process): a camera's {photo} sent while the "
        "worker has nothing to do, then at once the same photo again while the first one's "
        f"previews are being rendered ({upload['uploads_during_rendering']} of "
        f"{upload['uploads']} ended before they were ready); `GET` of the first asset every "
        "10 ms times how long after its answer its previews are ready.",
        "",
        "| upload | p50 ms | max ms |",
        "|---|---:|---:|",
        f"| {photo}, nothing being rendered | {upload['photo_idle']['p50_ms']:.0f} | "
        f"{upload['photo_idle']['max_ms']:.0f} |",
        f"| {photo}, during the previous photo's rendering | "
        f"{upload['photo_during_rendering']['p50_ms']:.0f} | "
        f"{upload['photo_during_rendering']['max_ms']:.0f} |",
        f"| its previews ready, after its answer | "
        f"{upload['previews_ready_after_answer']['p50_ms']:.0f} | "
        f"{upload['previews_ready_after_answer']['max_ms']:.0f} |",
    ]


def previews_section(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if results.get("rendering"):
        lines += ["#### Preview throughput", "", *_rendering_table(results["rendering"]), ""]
    if results.get("photo_upload"):
        lines += [
            "#### Uploads while previews are rendered",
            "",
            *_photo_upload_table(results["photo_upload"]),
            "",
        ]
    return ["### Previews", "", *lines] if lines else []
