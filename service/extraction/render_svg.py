"""An SVG drawn for its previews with resvg, after every reference out of the file is cut.

resvg runs no script and fetches nothing from the network, but it does read any local
file an `<image>` names (`/srv/files/…/other.png`), which would put another asset, or
any image the service can read, into this one's preview. So the drawing is parsed with
defusedxml (no entities), and every `href` that does not point inside the document or
hold an embedded raster image is removed before resvg sees it.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from xml.etree.ElementTree import ElementTree, tostring

import resvg_py
from defusedxml.ElementTree import parse
from PIL import Image

from service.extraction.picture import LARGE, Picture, preview_mode
from service.extraction.result import Unreadable
from service.extraction.svg import refusing_bad_xml

# Embedded SVG is left out too: it would be one more document to clean.
_KEPT_HREF = re.compile(r"#|data:image/(png|jpeg|jpg|gif|webp)[;,]", re.IGNORECASE)
LONGEST_DETAIL = 200


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def without_outside_references(tree: ElementTree) -> str:
    """The drawing as text, each `href` (any namespace) kept only if it stays inside."""
    for element in tree.iter():
        for name, value in list(element.attrib.items()):
            if _local(name) == "href" and not _KEPT_HREF.match(value.strip()):
                del element.attrib[name]
    root = tree.getroot()
    assert root is not None, "a parsed document has a root"
    text: str = tostring(root, encoding="unicode")
    return text


def _draw(text: str) -> bytes:
    try:
        # Fitted into LARGE as it is drawn, so the declared size costs nothing.
        return resvg_py.svg_to_bytes(svg_string=text, width=LARGE[0], height=LARGE[1])
    except Exception as exc:
        detail = str(exc)[:LONGEST_DETAIL]
    except BaseException as exc:
        # A Rust panic arrives as pyo3's PanicException, which is not an Exception.
        if type(exc).__name__ != "PanicException":
            raise
        detail = f"the renderer stopped: {str(exc)[:LONGEST_DETAIL]}"
    raise Unreadable(f"The SVG could not be drawn ({detail}).")


def render(path: Path) -> Picture:
    with refusing_bad_xml():
        tree = parse(str(path))
    root = tree.getroot()
    if root is None or _local(str(root.tag)).lower() != "svg":
        name = "nothing" if root is None else f"<{_local(str(root.tag))}>"
        raise Unreadable(f"The file is not an SVG drawing: its root element is {name}.")
    drawn = Image.open(io.BytesIO(_draw(without_outside_references(tree))), formats=("PNG",))
    drawn.load()
    image = preview_mode(drawn)
    return Picture(image, image.width, image.height)
