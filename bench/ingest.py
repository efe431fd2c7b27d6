"""Getting data in: full reindex throughput, commit-to-searchable latency, a big upload,
and uploads whose text is extracted after the answer."""

from __future__ import annotations

import json
import random
import string
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bench.files import PDF_MARK, upload_pdf, upload_png
from bench.server import Client, Service, memory_kib, process_family, reset_peak
from bench.stats import Latency, p50_and_max
from indexer.maintenance import find_drift, reindex
from indexer.query import open_engine
from service.config import Settings


@dataclass(frozen=True)
class ReindexResult:
    engine: str
    assets: int
    seconds: float
    check_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "assets": self.assets,
            "seconds": round(self.seconds, 2),
            "assets_per_second": round(self.assets / self.seconds),
            "check_seconds": round(self.check_seconds, 2),
        }


def measure_reindex(db: Engine, settings: Settings, assets: int) -> ReindexResult:
    """`media-assets reindex` (build, swap, replay) and then `check`, timed."""
    engine = open_engine(settings.engine_config)
    try:
        started = time.perf_counter()
        reindex(db, engine)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        drift = find_drift(db, engine)
        check_seconds = time.perf_counter() - started
    finally:
        engine.close()
    if drift.total:
        raise RuntimeError(f"the rebuilt {engine.name} index drifted: {drift.total} assets")
    return ReindexResult(engine.name, assets, seconds, check_seconds)


def meilisearch_settings(settings: Settings, url: str, api_key: str | None) -> Settings:
    """The service's settings on a Meilisearch index of its own."""
    return settings.model_copy(
        update={
            "search_engine": "meilisearch",
            "meilisearch_url": url,
            "meilisearch_api_key": api_key,
            "meilisearch_index": f"bench_service_{uuid.uuid4().hex[:8]}",
        }
    )


# -- commit to searchable -------------------------------------------------------------


def _unique_word(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(14))


def measure_commit_to_searchable(
    service: Service,
    asset_ids: list[uuid.UUID],
    file_names: list[str],
    *,
    rate: float,
    seconds: float,
) -> tuple[Latency, int]:
    """Renames at a steady `rate` a second; each is timed from the request until a search
    finds the asset under its new name. A write answers only once its change is indexed
    (read-your-writes), so this is the response time, checked by the search that follows;
    a write answered `X-Index-Status: pending` is timed until the search finds it.
    Returns the latency and how many writes came back pending."""
    rng = random.Random(11)
    count = int(rate * seconds)
    words = [_unique_word(rng) for _ in range(count)]
    local = threading.local()
    pending = 0
    samples: list[float] = []
    lock = threading.Lock()

    def client() -> Client:
        if not hasattr(local, "client"):
            local.client = service.client()
        found: Client = local.client
        return found

    def one_write(number: int) -> None:
        nonlocal pending
        index = number % len(asset_ids)
        word = words[number]
        extension = Path(file_names[index]).suffix
        started = time.perf_counter()
        status, headers, body = client().request(
            "PUT",
            f"/api/media-assets/{asset_ids[index]}",
            body={"file_name": f"{word}{extension}"},
        )
        if status != 200:
            raise RuntimeError(f"rename failed: HTTP {status}: {body[:300]!r}")
        was_pending = headers.get("x-index-status") == "pending"
        while not _findable(client(), word, str(asset_ids[index])):
            if not was_pending:
                raise RuntimeError("a write answered as indexed was not searchable")
            time.sleep(0.005)
        with lock:
            samples.append(time.perf_counter() - started)
            pending += was_pending

    begin = time.perf_counter()
    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = []
        for number in range(count):
            # Open loop: writes go out on the clock, whether or not earlier ones finished.
            delay = begin + number / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(one_write, number))
        for future in futures:
            future.result()
    return Latency.of(samples, time.perf_counter() - begin), pending


def _findable(client: Client, word: str, asset_id: str) -> bool:
    status, _, body = client.request(
        "GET", "/api/media-assets", query={"file_name": word, "limit": 10}
    )
    return status == 200 and asset_id.encode() in body


# -- a big upload -----------------------------------------------------------------------


@dataclass(frozen=True)
class UploadResult:
    megabytes: float
    seconds: float
    peak_growth_mib: float
    peak_measured: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "megabytes": self.megabytes,
            "seconds": round(self.seconds, 2),
            "megabytes_per_second": round(self.megabytes / self.seconds, 1),
            "peak_memory_growth_mib": round(self.peak_growth_mib, 1),
            "peak_measured_by": self.peak_measured,
        }


def measure_upload(service: Service, size_bytes: int) -> UploadResult:
    """One PDF of `size_bytes` through POST /api/media-assets/upload, streamed from here,
    with the server's peak resident memory before and after."""
    family = process_family(service.process.pid)
    boundary = uuid.uuid4().hex
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="bench-upload.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode() + b"%PDF-1.7\n"
    tail = b"\n%%EOF\n" + f"\r\n--{boundary}--\r\n".encode()
    filler = random.Random(5).randbytes(1 << 20)
    body_size = size_bytes - len(b"%PDF-1.7\n") - len(b"\n%%EOF\n")
    client = service.client()
    # Whichever process takes the upload: each one's peak against its own start.
    exact_peak = all([reset_peak(pid) for pid in family])
    before = {pid: memory_kib(pid, "VmRSS") for pid in family}
    sampled_peak = dict(before)
    sampling = True

    def sample() -> None:
        while sampling:
            for pid in family:
                sampled_peak[pid] = max(sampled_peak[pid], memory_kib(pid, "VmRSS"))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()

    def body() -> Iterator[bytes]:
        yield head
        remaining = body_size
        while remaining:
            chunk = filler[: min(len(filler), remaining)]
            yield chunk
            remaining -= len(chunk)
        yield tail

    started = time.perf_counter()
    try:
        status, answer = client.stream(
            "POST",
            "/api/media-assets/upload",
            content_type=f"multipart/form-data; boundary={boundary}",
            length=len(head) + body_size + len(tail),
            parts=body(),
        )
        seconds = time.perf_counter() - started
    finally:
        sampling = False
        sampler.join()
    if status != 201:
        raise RuntimeError(f"upload failed: HTTP {status}: {answer[:300]!r}")
    peak = {pid: memory_kib(pid, "VmHWM") for pid in family} if exact_peak else sampled_peak
    growth_kib = max(peak[pid] - before[pid] for pid in family)
    asset_id = json.loads(answer)["id"]
    client.request("DELETE", f"/api/media-assets/{asset_id}")
    client.close()
    return UploadResult(
        megabytes=size_bytes / 1_000_000,
        seconds=seconds,
        peak_growth_mib=growth_kib / 1024,
        peak_measured="VmHWM after a clear_refs reset" if exact_peak else "RSS sampled every 5 ms",
    )


# -- uploads with extraction ------------------------------------------------------------


@dataclass(frozen=True)
class ContentUploadResult:
    megabytes: float
    pdf_pages: int
    png_idle: list[float]  # a PNG upload with nothing being extracted
    pdf: list[float]  # the PDF upload, its answer
    png_busy: list[float]  # a PNG upload sent as the PDF's answer came
    overlapped: int  # PNG uploads that ended before the PDF's text was searchable
    searchable: list[float]  # from the PDF's answer until a search finds its text
    characters: int
    truncated: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "megabytes": self.megabytes,
            "uploads": len(self.pdf),
            "pdf_pages": self.pdf_pages,
            "png_idle": p50_and_max(self.png_idle),
            "pdf": p50_and_max(self.pdf),
            "png_during_extraction": p50_and_max(self.png_busy),
            "png_uploads_during_extraction": self.overlapped,
            "content_searchable_after_answer": p50_and_max(self.searchable),
            "characters_kept": self.characters,
            "truncated": self.truncated,
        }


def upload_file(
    client: Client, file_name: str, content_type: str, data: bytes
) -> tuple[float, str]:
    """POST one file; the seconds until the answer, and the new asset's id."""
    boundary = uuid.uuid4().hex
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    started = time.perf_counter()
    status, answer = client.stream(
        "POST",
        "/api/media-assets/upload",
        content_type=f"multipart/form-data; boundary={boundary}",
        length=len(head) + len(data) + len(tail),
        parts=[head, data, tail],
    )
    seconds = time.perf_counter() - started
    if status != 201:
        raise RuntimeError(f"uploading {file_name}: HTTP {status}: {answer[:300]!r}")
    asset_id: str = json.loads(answer)["id"]
    return seconds, asset_id


def _found_in_content(client: Client, word: str, asset_id: str) -> bool:
    status, _, body = client.request(
        "GET", "/api/media-assets", query={"search": word, "search_in": "content", "limit": 10}
    )
    return status == 200 and asset_id.encode() in body


class _Found(threading.Event):
    """Set once a search found the text of `asset_id`, `seconds` after its upload's answer."""

    def __init__(self, asset_id: str) -> None:
        super().__init__()
        self.asset_id = asset_id
        self.seconds = 0.0
        # The text as kept, read once it was found.
        self.characters = 0
        self.truncated = False


def _time_until_found(
    service: Service, word: str, found: _Found, *, since: float, timeout: float
) -> None:
    client = service.client()
    try:
        while time.perf_counter() - since < timeout:
            if _found_in_content(client, word, found.asset_id):
                found.seconds = time.perf_counter() - since
                found.set()
                return
            time.sleep(0.01)
    finally:
        client.close()


def measure_content_upload(
    service: Service, size_bytes: int, *, count: int, timeout: float = 300.0
) -> ContentUploadResult:
    """`count` rounds of: a PNG of `size_bytes` (nothing being extracted); a PDF of the
    same size, whose text the derived-data worker extracts after the answer; at once another
    PNG, while that extraction runs; meanwhile a search for the PDF's own word in the
    content, every 10 ms, times how long after its answer its text is searchable. Every
    asset is deleted at the end of its round.

    A small PDF goes first, untimed, and its text is waited for: the worker takes the
    newest file first, so once that text is found nothing older (the big upload's
    file, say) is left for it."""
    template, pages = upload_pdf(size_bytes)
    png = upload_png(size_bytes)
    rng = random.Random(17)
    client = service.client()
    result: dict[str, list[float]] = {"png_idle": [], "pdf": [], "png_busy": [], "found": []}
    overlapped = 0
    characters, truncated = 0, False
    try:
        small, _ = upload_pdf(100_000)
        _pdf_round(service, client, small, rng, "bench-warm-up", timeout=timeout)
        made: list[str] = []  # the PNGs of the round
        for number in range(count):
            seconds, asset_id = upload_file(client, f"bench-photo-{number}.png", "image/png", png)
            result["png_idle"].append(seconds)
            made.append(asset_id)

            def during_extraction(number: int = number) -> float:
                seconds, asset_id = upload_file(
                    client, f"bench-photo-{number}b.png", "image/png", png
                )
                made.append(asset_id)
                return seconds

            answer, found, busy = _pdf_round(
                service,
                client,
                template,
                rng,
                f"bench-manual-{number}",
                timeout=timeout,
                meanwhile=during_extraction,
            )
            result["pdf"].append(answer)
            result["found"].append(found.seconds)
            result["png_busy"].append(busy.seconds)
            overlapped += busy.overlapped
            characters, truncated = found.characters, found.truncated
            for made_id in made:
                client.request("DELETE", f"/api/media-assets/{made_id}")
            made.clear()
    finally:
        client.close()
    return ContentUploadResult(
        megabytes=round(len(template) / 1_000_000, 1),
        pdf_pages=pages,
        png_idle=result["png_idle"],
        pdf=result["pdf"],
        png_busy=result["png_busy"],
        overlapped=overlapped,
        searchable=result["found"],
        characters=characters,
        truncated=truncated,
    )


@dataclass(frozen=True)
class _Meanwhile:
    seconds: float
    overlapped: bool  # it ended before the PDF's text was searchable


def _pdf_round(
    service: Service,
    client: Client,
    template: bytes,
    rng: random.Random,
    name: str,
    *,
    timeout: float,
    meanwhile: Callable[[], float] = lambda: 0.0,
) -> tuple[float, _Found, _Meanwhile]:
    """Upload `template` with a word of its own in place of PDF_MARK, run `meanwhile`
    at once, and wait until a search finds the word in its text; the upload's seconds,
    when its text was found, and how `meanwhile` went. The PDF is deleted."""
    word = "".join(rng.choice(string.ascii_lowercase) for _ in range(len(PDF_MARK)))
    pdf = template.replace(PDF_MARK, word.encode())
    seconds, pdf_id = upload_file(client, f"{name}.pdf", "application/pdf", pdf)
    found = _Found(pdf_id)
    polling = threading.Thread(
        target=_time_until_found,
        args=(service, word, found),
        kwargs={"since": time.perf_counter(), "timeout": timeout},
    )
    polling.start()
    try:
        busy = meanwhile()
        overlapped = not found.is_set()
    finally:
        polling.join()
    if not found.is_set():
        raise RuntimeError(f"the text of {name}.pdf was not searchable within {timeout:g} s")
    _, _, body = client.request("GET", f"/api/media-assets/{pdf_id}/content")
    kept = json.loads(body)
    found.characters, found.truncated = kept["characters"], kept["truncated"]
    client.request("DELETE", f"/api/media-assets/{pdf_id}")
    return seconds, found, _Meanwhile(busy, overlapped)
