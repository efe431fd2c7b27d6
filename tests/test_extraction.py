"""Text extraction: real files of each type through the real child process, and its limits."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import docx
import pytest

from service.extraction import EXTRACTOR_VERSION, Extraction, Extractor, has_extractor
from service.extraction.result import Unreadable
from service.extraction.zip_limits import check_inflated_size
from tests import content_samples as samples

MB = 1024 * 1024
MEMORY = 256 * MB


@pytest.fixture(scope="module")
def extractor() -> Iterator[Extractor]:
    """One child for the module's well-behaved files, as the indexer keeps one."""
    with Extractor(timeout_s=30, memory_bytes=MEMORY, max_chars=100_000) as shared:
        yield shared


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def extracted(extractor: Extractor, tmp_path: Path, name: str, content: bytes) -> str:
    """The text of a file that must extract whole."""
    result = extractor.extract(write(tmp_path, name, content), Path(name).suffix)
    assert result.status == "extracted", result
    assert (result.truncated, result.error) == (False, None)
    return result.text


def assert_still_working(extractor: Extractor, tmp_path: Path) -> None:
    """The next file after a failure extracts as if nothing happened."""
    text = extracted(extractor, tmp_path, "after.pdf", samples.pdf())
    assert samples.PDF_WORD in text


@pytest.mark.parametrize(
    ("name", "make", "words"),
    [
        ("pattern.pdf", samples.pdf, samples.PDF_PAGE_WORDS),
        (
            "care.docx",
            samples.docx_document,
            (
                samples.DOCX_BODY_WORD,
                samples.DOCX_TABLE_WORD.capitalize(),
                samples.DOCX_HEADER_WORD,
                samples.DOCX_FOOTER_WORD,
            ),
        ),
        (
            "prices.xlsx",
            samples.xlsx_workbook,
            (
                "Price list",
                samples.XLSX_FIRST_SHEET_WORD,
                samples.XLSX_SECOND_SHEET,
                samples.XLSX_WORD,
            ),
        ),
        ("prices.csv", samples.windows_1252_csv, samples.CSV_WORDS),
        ("logo.svg", samples.svg_drawing, (samples.SVG_TITLE_WORD, samples.SVG_WORD, "Stamp")),
    ],
)
def test_each_type_gives_the_words_inside(
    extractor: Extractor,
    tmp_path: Path,
    name: str,
    make: Callable[[], bytes],
    words: tuple[str, ...],
) -> None:
    text = extracted(extractor, tmp_path, name, make())
    for word in words:
        assert word in text


def test_pdf_pages_are_apart_by_a_blank_line(extractor: Extractor, tmp_path: Path) -> None:
    text = extracted(extractor, tmp_path, "pattern.pdf", samples.pdf())
    pages = text.split("\n\n")
    assert all(word in page for page, word in zip(pages, samples.PDF_PAGE_WORDS, strict=True))
    assert pages[0] == "Page one: the bevelcraft pattern\nCut two pieces (left and right)."


def test_docx_gives_header_body_table_and_footer_in_order(
    extractor: Extractor, tmp_path: Path
) -> None:
    text = extracted(extractor, tmp_path, "care.docx", samples.docx_document())
    assert text.splitlines() == [
        f"Workshop {samples.DOCX_HEADER_WORD} notes",
        f"Thin the edges with a {samples.DOCX_BODY_WORD} before gluing.",
        "Tool Use",
        f"{samples.DOCX_TABLE_WORD.capitalize()} Polish the edge",
        f"Page footer {samples.DOCX_FOOTER_WORD}",
    ]


def test_docx_merged_cells_count_once(extractor: Extractor, tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).merge(table.cell(1, 1)).text = "merged"
    table.cell(1, 2).text = "beside"
    table.cell(2, 2).text = "corner"
    buffer = io.BytesIO()
    document.save(buffer)
    text = extracted(extractor, tmp_path, "merged.docx", buffer.getvalue())
    assert text == "merged\nbeside\ncorner"


def test_xlsx_gives_each_sheet_name_then_its_rows(extractor: Extractor, tmp_path: Path) -> None:
    text = extracted(extractor, tmp_path, "prices.xlsx", samples.xlsx_workbook())
    assert text.split("\n\n") == [
        f"Price list\nsku name price\nW-1 Bifold wallet in {samples.XLSX_FIRST_SHEET_WORD} 49",
        f"{samples.XLSX_SECOND_SHEET}\nsupplier leather\nHorween {samples.XLSX_WORD}",
    ]


@pytest.mark.parametrize(
    "make", [samples.windows_1252_csv, samples.utf16_csv, samples.utf8_bom_csv]
)
def test_csv_reads_the_same_in_each_encoding(
    extractor: Extractor, tmp_path: Path, make: Callable[[], bytes]
) -> None:
    text = extracted(extractor, tmp_path, "prices.csv", make())
    # UTF-16 is Excel's tab-separated "Unicode text": tabs become spaces.
    assert text.replace(";", " ") == (
        f"sku name price\nW-1 Café wallet 49,00 €\nW-2 {samples.CSV_WORD} edge paint 12,50 €"
    )


def test_svg_gives_title_desc_and_text_with_its_tspans(
    extractor: Extractor, tmp_path: Path
) -> None:
    text = extracted(extractor, tmp_path, "logo.svg", samples.svg_drawing())
    assert text.splitlines() == [
        f"Maker's {samples.SVG_TITLE_WORD}",
        "Stamp for the inside of a wallet",
        f"Groove with a {samples.SVG_WORD} first",
    ]


def test_whitespace_is_tidied_and_line_breaks_kept(extractor: Extractor, tmp_path: Path) -> None:
    content = b"a  \t b\r\n\r\n\r\n\r\n  c\x01d\x0c e   \n"
    assert extracted(extractor, tmp_path, "gaps.csv", content) == "a b\n\nc d e"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("blank.csv", b" \r\n\t\n"),
        ("blank.pdf", samples.pdf_document([[], []])),
        ("shapes.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><rect/><text> </text></svg>'),
    ],
)
def test_only_whitespace_is_empty(
    extractor: Extractor, tmp_path: Path, name: str, content: bytes
) -> None:
    result = extractor.extract(write(tmp_path, name, content), Path(name).suffix)
    assert result == Extraction(status="empty", text="", truncated=False, error=None)


@pytest.mark.serial  # timed: the budget stops it within a second
def test_text_past_max_chars_is_cut_and_marked_truncated(tmp_path: Path) -> None:
    with Extractor(timeout_s=30, memory_bytes=MEMORY, max_chars=100) as short:
        exact = short.extract(write(tmp_path, "exact.csv", b"x" * 100), ".csv")
        assert (exact.status, exact.text, exact.truncated) == ("extracted", "x" * 100, False)
        over = short.extract(write(tmp_path, "over.csv", b"x" * 101), ".csv")
        assert (over.status, over.text, over.truncated) == ("extracted", "x" * 100, True)
        # A document of millions of characters stops at the budget, quickly.
        started = time.monotonic()
        long = short.extract(write(tmp_path, "long.pdf", samples.long_pdf()), ".pdf")
        assert (long.status, len(long.text), long.truncated) == ("extracted", 100, True)
        assert long.text.startswith("line 0 of page 0")
        assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("file_type", [".doc", ".png", ".jpg", ".gif", ".zip", ""])
def test_types_without_text_are_unsupported(
    extractor: Extractor, tmp_path: Path, file_type: str
) -> None:
    assert not has_extractor(file_type)
    result = extractor.extract(write(tmp_path, f"file{file_type}", b"\x00" * 8), file_type)
    assert result == Extraction(status="unsupported", text="", truncated=False, error=None)


def test_the_extractable_types() -> None:
    for file_type in (".pdf", ".docx", ".xlsx", ".csv", ".svg", ".PDF"):
        assert has_extractor(file_type)
    assert isinstance(EXTRACTOR_VERSION, int)


@pytest.mark.parametrize(
    ("name", "make", "sentence"),
    [
        ("secret.pdf", samples.encrypted_pdf, "The PDF is encrypted with a password"),
        ("cut.pdf", samples.truncated_pdf, "The PDF is damaged or truncated"),
        ("bomb.xlsx", samples.zip_bomb_xlsx, "looks like a ZIP bomb"),
        ("laughs.svg", samples.billion_laughs_svg, "declares entities"),
        ("binary.csv", samples.binary_csv, "The CSV file is not text"),
        ("broken.docx", lambda: samples.xlsx_workbook(), "The DOCX file could not be read"),
        ("broken.svg", lambda: b"<svg><text>unclosed</svg>", "not well-formed XML"),
    ],
)
def test_a_bad_file_fails_with_a_sentence_and_the_next_extracts(
    extractor: Extractor, tmp_path: Path, name: str, make: Callable[[], bytes], sentence: str
) -> None:
    result = extractor.extract(write(tmp_path, name, make()), Path(name).suffix)
    assert (result.status, result.text, result.truncated) == ("failed", "", False)
    assert result.error is not None and sentence in result.error, result.error
    assert result.error.endswith(".")
    assert_still_working(extractor, tmp_path)


def test_office_files_that_would_inflate_past_the_limit_are_refused(tmp_path: Path) -> None:
    # The rule itself, on a real document and a tiny limit: the child uses the memory limit.
    path = write(tmp_path, "care.docx", samples.docx_document())
    check_inflated_size(path, limit_bytes=1 * MB, kind="DOCX")
    with pytest.raises(Unreadable, match=r"would decompress to \d+ KB, more than the 0 KB"):
        check_inflated_size(path, limit_bytes=1000, kind="DOCX")


def test_an_encrypted_pdf_really_holds_the_words(tmp_path: Path) -> None:
    # The encrypted sample is a real encrypted PDF, not a damaged one: the password opens it.
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(samples.encrypted_pdf(), password=samples.PDF_PASSWORD)
    assert samples.PDF_WORD in document[0].get_textpage().get_text_bounded()


def test_a_missing_file_fails(extractor: Extractor, tmp_path: Path) -> None:
    result = extractor.extract(tmp_path / "gone.pdf", ".pdf")
    assert result.status == "failed"
    assert result.error == "The file is missing from storage."


@pytest.mark.serial  # timed: a 0.3 s limit, killed within 2 s
def test_a_file_over_the_time_limit_is_stopped_and_the_next_extracts(tmp_path: Path) -> None:
    with Extractor(timeout_s=0.3, memory_bytes=MEMORY, max_chars=10_000_000) as hurried:
        extracted(hurried, tmp_path, "warm.pdf", samples.pdf())  # the child is up
        first_child = hurried.child_pid
        started = time.monotonic()
        result = hurried.extract(write(tmp_path, "long.pdf", samples.long_pdf()), ".pdf")
        waited = time.monotonic() - started
        assert result == Extraction.failed("Extraction took longer than 0.3 s, the limit.")
        assert waited < 2.0  # killed at the limit, not waited for (it needs seconds)
        assert first_child is not None and not _alive(first_child)
        assert_still_working(hurried, tmp_path)
        assert hurried.child_pid not in (None, first_child)


def test_a_file_over_the_memory_limit_in_pdfium_fails_and_the_next_extracts(
    tmp_path: Path,
) -> None:
    # PDFium aborts the process when an allocation fails: the parent sees a dead child.
    with Extractor(timeout_s=30, memory_bytes=MEMORY, max_chars=1000) as bounded:
        result = bounded.extract(write(tmp_path, "big.pdf", samples.inflating_pdf()), ".pdf")
        assert result.status == "failed"
        assert result.error is not None and "memory limit of 256 MB" in result.error
        assert_still_working(bounded, tmp_path)


def test_a_file_over_the_memory_limit_in_python_fails_and_the_next_extracts(
    tmp_path: Path,
) -> None:
    # lxml raises MemoryError: the child answers, then leaves for a fresh one.
    with Extractor(timeout_s=30, memory_bytes=MEMORY, max_chars=1000) as bounded:
        result = bounded.extract(write(tmp_path, "big.docx", samples.crowded_docx()), ".docx")
        assert result == Extraction.failed(
            "Extraction needed more than the memory limit of 256 MB."
        )
        assert bounded.child_pid is None
        assert_still_working(bounded, tmp_path)


@pytest.mark.serial  # the kill at 0.3 s must find the child busy with the file
def test_a_child_killed_mid_file_fails_that_file_and_the_next_extracts(tmp_path: Path) -> None:
    with Extractor(timeout_s=30, memory_bytes=MEMORY, max_chars=10_000_000) as victim:
        extracted(victim, tmp_path, "warm.pdf", samples.pdf())
        pid = victim.child_pid
        assert pid is not None
        long = write(tmp_path, "long.pdf", samples.long_pdf())  # seconds of work
        # As the system's OOM killer would: SIGKILL while the child is busy.
        threading.Timer(0.3, os.kill, (pid, signal.SIGKILL)).start()
        result = victim.extract(long, ".pdf")
        assert result.status == "failed"
        assert result.error is not None and "killed by the system" in result.error
        assert_still_working(victim, tmp_path)


def test_a_child_that_died_between_files_costs_no_file(tmp_path: Path) -> None:
    with Extractor(timeout_s=30, memory_bytes=MEMORY, max_chars=1000) as victim:
        extracted(victim, tmp_path, "warm.pdf", samples.pdf())
        pid = victim.child_pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        _wait_until_dead(pid)
        assert_still_working(victim, tmp_path)


def test_a_child_that_cannot_start_fails_each_file_with_a_sentence(tmp_path: Path) -> None:
    # 16 MB of address space cannot even hold the interpreter and its libraries.
    with Extractor(timeout_s=30, memory_bytes=16 * MB, max_chars=1000) as starved:
        result = starved.extract(write(tmp_path, "a.pdf", samples.pdf()), ".pdf")
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.startswith("The extraction process could not start: it stopped with")
    assert "memory limit of 16 MB" in result.error


def test_the_child_gets_none_of_the_services_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIA_JWT_SECRET", "not-for-the-child")
    with Extractor(timeout_s=30, memory_bytes=MEMORY, max_chars=1000) as isolated:
        extracted(isolated, tmp_path, "warm.pdf", samples.pdf())
        environ = Path(f"/proc/{isolated.child_pid}/environ").read_bytes()
    assert b"MEDIA_" not in environ
    assert b"PATH=" in environ


def test_threads_take_turns(extractor: Extractor, tmp_path: Path) -> None:
    files = {
        write(tmp_path, f"{n}.pdf", samples.pdf_document([[f"unique{n}word"]])): f"unique{n}word"
        for n in range(8)
    }
    results: dict[Path, Extraction] = {}

    def run(path: Path) -> None:
        results[path] = extractor.extract(path, ".pdf")

    threads = [threading.Thread(target=run, args=(path,)) for path in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {path: result.text for path, result in results.items()} == files


def test_close_ends_the_child(tmp_path: Path) -> None:
    extractor = Extractor(timeout_s=30, memory_bytes=MEMORY, max_chars=1000)
    extracted(extractor, tmp_path, "warm.pdf", samples.pdf())
    pid = extractor.child_pid
    assert pid is not None
    extractor.close()
    assert extractor.child_pid is None and not _alive(pid)
    # A closed extractor starts a new child if asked again.
    assert_still_working(extractor, tmp_path)
    extractor.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_until_dead(pid: int) -> None:
    """A killed child stays a zombie until reaped; /proc says when it has stopped running."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        status = Path(f"/proc/{pid}/stat").read_text().split()[2]
        if status in {"Z", "X"}:
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} did not stop")
