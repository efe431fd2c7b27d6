"""An SVG drawn for its previews with resvg, after every reference out of the file is cut.

resvg runs no script and fetches nothing from the network, but it does read any local
file an `<image>` names (`/srv/files/…/other.png`), which would put another asset, or
any image the service can read, into this one's preview. So the drawing is parsed with
defusedxml (no entities), and every `href` that does not point inside the document or
hold an embedded raster image is removed before resvg sees it.

resvg's generic font families are Windows fonts (Times New Roman, Arial): on a server
without them, text in the default or a generic family would silently not be drawn. The
families fontconfig picks for each generic name stand in for them, asked once per child.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from dataclasses import astuple, dataclass
from functools import cache
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
# CSS's generic families, in the order of `Families`' fields.
GENERIC_FAMILIES = ("serif", "sans-serif", "monospace", "cursive", "fantasy")


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


def _fontconfig_family(generic: str) -> str | None:
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    try:
        found = subprocess.run(  # noqa: S603  (a fixed argument list)
            [fc_match, "--format=%{family[0]}", generic],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    family = found.stdout.strip()
    return family if found.returncode == 0 and family else None


@dataclass(frozen=True)
class Families:
    """The family this machine has for each generic name (None: resvg's own default)."""

    serif: str | None
    sans_serif: str | None
    monospace: str | None
    cursive: str | None
    fantasy: str | None

    def any(self) -> bool:
        return any(astuple(self))


@cache
def installed_families() -> Families:
    return Families(*map(_fontconfig_family, GENERIC_FAMILIES))


def _draw(text: str) -> bytes:
    try:
        # Fitted into LARGE as it is drawn, so the declared size costs nothing.
        families = installed_families()
        return resvg_py.svg_to_bytes(
            svg_string=text,
            width=LARGE[0],
            height=LARGE[1],
            # Text that names no family is drawn in the serif one, as browsers do.
            font_family=families.serif,
            serif_family=families.serif,
            sans_serif_family=families.sans_serif,
            monospace_family=families.monospace,
            cursive_family=families.cursive,
            fantasy_family=families.fantasy,
        )
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
