"""The text of a Word document with python-docx: headers, body (tables cell by cell), footers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import docx
from docx.document import Document as WordDocument
from docx.section import _Footer, _Header
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from service.extraction.text import TextBudget
from service.extraction.zip_limits import check_inflated_size

Block = Paragraph | Table


def _add_blocks(blocks: Iterable[Block], budget: TextBudget) -> None:
    for block in blocks:
        if budget.full:
            return
        if isinstance(block, Paragraph):
            budget.add(block.text)
        else:
            _add_table(block, budget)


def _add_table(table: Table, budget: TextBudget) -> None:
    # Cell elements themselves, not their ids: lxml keeps one proxy per element only
    # while something holds it, so an id could be reused by another cell.
    seen: set[object] = set()
    for row in table.rows:
        separator = "\n"
        for cell in row.cells:
            # A merged cell is listed at every grid position it covers, across columns
            # and down rows; its text counts once.
            if cell._tc in seen:
                continue
            seen.add(cell._tc)
            text = _cell_text(cell, budget.max_chars)
            if text:  # a row starts a line at its first cell with words
                budget.add(text, separator=separator)
                separator = " "
        if budget.full:
            return


def _cell_text(cell: _Cell, budget_chars: int) -> str:
    # A cell holds paragraphs and even tables of its own; a budget of its own keeps it bounded.
    inner = TextBudget(max_chars=budget_chars)
    _add_blocks(cell.iter_inner_content(), inner)
    return inner.result().text


def _headers_and_footers(
    document: WordDocument,
) -> tuple[list[_Header | _Footer], list[_Header | _Footer]]:
    """Each section's own headers and footers: a linked one repeats its predecessor's."""
    headers: list[_Header | _Footer] = []
    footers: list[_Header | _Footer] = []
    for section in document.sections:
        for header in (section.header, section.first_page_header, section.even_page_header):
            if not header.is_linked_to_previous:
                headers.append(header)
        for footer in (section.footer, section.first_page_footer, section.even_page_footer):
            if not footer.is_linked_to_previous:
                footers.append(footer)
    return headers, footers


def _inner(parts: list[_Header | _Footer]) -> Iterator[Block]:
    for part in parts:
        yield from part.iter_inner_content()


def extract(path: Path, budget: TextBudget, *, inflate_limit: int) -> None:
    check_inflated_size(path, limit_bytes=inflate_limit, kind="DOCX")
    document = docx.Document(str(path))
    headers, footers = _headers_and_footers(document)
    _add_blocks(_inner(headers), budget)
    _add_blocks(document.iter_inner_content(), budget)
    _add_blocks(_inner(footers), budget)
