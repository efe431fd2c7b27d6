"""The words of an SVG drawing: its `<title>`, `<desc>` and `<text>` (with `<tspan>`) content.

Parsed with defusedxml, so entity declarations (billion laughs) and external references
are refused rather than expanded or fetched.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from service.extraction.result import Unreadable
from service.extraction.text import TextBudget

WORDED_ELEMENTS = {"title", "desc", "text"}


def _local(tag: object) -> str:
    """`{http://www.w3.org/2000/svg}text` is `text`; comments and the like have no name."""
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _add_words(path: Path, budget: TextBudget) -> None:
    inside: Element | None = None  # the title, desc or text element being read
    for event, element in iterparse(str(path), events=("start", "end")):
        if event == "start":
            if inside is None and _local(element.tag) in WORDED_ELEMENTS:
                inside = element
            continue
        if inside is not None and element is inside:
            # A <text>'s words sit in it and in its <tspan>s, <textPath>s and <a>s.
            budget.add("".join(inside.itertext()))
            inside = None
            if budget.full:
                return
        if inside is None:
            element.clear()  # read and done with: keep memory to the current branch


@contextmanager
def refusing_bad_xml() -> Iterator[None]:
    """Entity declarations and malformed XML, met while parsing, as `Unreadable` sentences."""
    try:
        yield
    except DefusedXmlException as exc:
        raise Unreadable(
            "The SVG declares entities or external references, which are refused "
            f"(a billion-laughs or external-entity attack, {exc.__class__.__name__})."
        ) from exc
    except ParseError as exc:
        raise Unreadable(f"The SVG is not well-formed XML ({exc}).") from exc


def extract(path: Path, budget: TextBudget) -> None:
    with refusing_bad_xml():
        _add_words(path, budget)
