"""Inside the child process: the renderer for each file type, and failures as sentences.

Loaded on a child's first render, not at its start: Pillow, resvg and scipy (imagehash's
DCT) take about 100 MB of address space, counted by the memory limit, that a child which
only extracts text does without.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from service.extraction import render_pdf, render_raster, render_svg
from service.extraction.dispatch import LONGEST_DETAIL, OUT_OF_MEMORY_PHRASES, memory_sentence
from service.extraction.kinds import PREVIEW_TYPES
from service.extraction.picture import Picture, previews
from service.extraction.rendition import RENDERING_ACTIVITY, Previews, Rendition
from service.extraction.result import Unreadable

Render = Callable[[Path], Picture]
KINDS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".gif": "GIF",
    ".svg": "SVG",
    ".pdf": "PDF",
}

RENDERERS: dict[str, Render] = {
    ".jpg": partial(render_raster.render, file_type=".jpg"),
    ".jpeg": partial(render_raster.render, file_type=".jpeg"),
    ".png": partial(render_raster.render, file_type=".png"),
    ".gif": partial(render_raster.render, file_type=".gif"),
    ".svg": render_svg.render,
    ".pdf": render_pdf.render,
}
assert set(RENDERERS) == PREVIEW_TYPES, "kinds.PREVIEW_TYPES names every renderer"


def render_file(
    path: Path, *, file_type: str, memory_bytes: int
) -> tuple[Rendition, Previews | None]:
    """The previews of one file and its facts; every way a file can be bad ends as `failed`.

    A MemoryError propagates, as in `dispatch.extract_file`: the caller answers, then leaves.
    """
    render = RENDERERS.get(file_type)
    if render is None:
        return Rendition.none(), None
    try:
        picture = render(path)
        encoded = previews(picture)
    except Unreadable as exc:
        return Rendition.failed(str(exc)), None
    except FileNotFoundError:
        return Rendition.failed("The file is missing from storage."), None
    except MemoryError:
        raise
    except Exception as exc:  # any library error on a bad file is a failed file, not a crash
        detail = f"{exc.__class__.__name__}: {exc}"[:LONGEST_DETAIL]
        if any(phrase in detail.lower() for phrase in OUT_OF_MEMORY_PHRASES):
            return Rendition.failed(
                memory_sentence(memory_bytes, activity=RENDERING_ACTIVITY)
            ), None
        return Rendition.failed(
            f"The {KINDS[file_type]} file could not be read; it may be damaged ({detail})."
        ), None
    facts = Rendition(
        "ready", None, picture.width, picture.height, picture.taken_at, picture.perceptual_hash
    )
    return facts, encoded
