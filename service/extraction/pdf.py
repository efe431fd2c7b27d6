"""The text of a PDF with PDFium: every page in order, pages apart by a blank line."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from service.extraction.result import Unreadable
from service.extraction.text import TextBudget

_LOAD_ERRORS = {
    pdfium_c.FPDF_ERR_PASSWORD: "The PDF is encrypted with a password, so {cannot}.",
    pdfium_c.FPDF_ERR_SECURITY: (
        "The PDF is encrypted with a scheme that cannot be opened, so {cannot}."
    ),
    pdfium_c.FPDF_ERR_FORMAT: "The PDF is damaged or truncated: it could not be opened.",
    pdfium_c.FPDF_ERR_FILE: "The PDF could not be read from storage.",
}


def open_document(path: Path, *, cannot: str) -> pdfium.PdfDocument | None:
    """The document, or None when it opens but has no pages.

    A PDF that does not open raises `Unreadable`; `cannot` finishes the sentence for an
    encrypted one ("its text cannot be read").
    """
    try:
        return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        # pypdfium2 raises on a page count of zero even when PDFium reports no error.
        if exc.err_code == pdfium_c.FPDF_ERR_SUCCESS:
            return None
        sentence = _LOAD_ERRORS.get(exc.err_code, "The PDF could not be opened ({exc}).")
        raise Unreadable(sentence.format(cannot=cannot, exc=exc)) from exc


def extract(path: Path, budget: TextBudget) -> None:
    document = open_document(path, cannot="its text cannot be read")
    if document is None:
        return
    try:
        for index in range(len(document)):
            # Each page is closed at once, so memory follows one page, not the document.
            page = document[index]
            try:
                text_page = page.get_textpage()
                try:
                    budget.add(text_page.get_text_bounded(), separator="\n\n")
                finally:
                    text_page.close()
            finally:
                page.close()
            if budget.full:
                return
    finally:
        document.close()
