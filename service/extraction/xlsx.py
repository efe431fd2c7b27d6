"""The text of an Excel workbook with openpyxl, read-only: each sheet's name, then its rows."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

from openpyxl import load_workbook

from service.extraction.text import TextBudget
from service.extraction.zip_limits import check_inflated_size


def _shown(value: object) -> str:
    """A cell value as words: 49.0 reads as 49, dates as ISO 8601."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def extract(path: Path, budget: TextBudget, *, inflate_limit: int) -> None:
    check_inflated_size(path, limit_bytes=inflate_limit, kind="XLSX")
    # Read-only streams each sheet's XML instead of building it in memory; data_only
    # gives the values Excel last computed rather than formulas.
    workbook = load_workbook(path, read_only=True, data_only=True, keep_links=False)
    try:
        for name in workbook.sheetnames:
            budget.add(name, separator="\n\n")
            sheet = workbook[name]
            if not hasattr(sheet, "iter_rows"):  # a chart sheet has a name and no cells
                continue
            for row in sheet.iter_rows(values_only=True):
                budget.add(" ".join(_shown(value) for value in row if value is not None))
                if budget.full:
                    return
    finally:
        workbook.close()
