"""Previews and image facts: real images made here, through the real child process."""

from __future__ import annotations

import base64
import http.server
import io
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from service.extraction import Extractor, Rendition, has_preview
from service.extraction.protocol import parse_render_answer
from service.extraction.render_svg import installed_families
from tests import content_samples
from tests import image_samples as samples

MB = 1024 * 1024
MEMORY = 1024 * MB  # the service's default


@pytest.fixture(scope="module")
def extractor() -> Iterator[Extractor]:
    """One child for the module's files, as the worker keeps one."""
    with Extractor(timeout_s=30, memory_bytes=MEMORY, max_chars=1000) as shared:
        yield shared


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def targets(tmp_path: Path, name: str) -> dict[str, Path]:
    return {
        "small": tmp_path / "previews" / f"{name}.small.webp",
        "large": tmp_path / f"{name}.large.webp",
    }


def render(extractor: Extractor, tmp_path: Path, name: str, content: bytes) -> Rendition:
    return extractor.render(
        write(tmp_path, name, content), Path(name).suffix, **targets(tmp_path, name)
    )


def previews(tmp_path: Path, name: str) -> tuple[Image.Image, Image.Image]:
    """Both previews of `name`, checked to be WebP that fit their boxes."""
    opened = []
    for size, box in (("small", 320), ("large", 1280)):
        image = Image.open(targets(tmp_path, name)[size])
        image.load()
        assert image.format == "WEBP"
        assert max(image.size) <= box
        opened.append(image)
    return opened[0], opened[1]


def assert_no_previews(tmp_path: Path, name: str) -> None:
    assert not any(path.exists() for path in targets(tmp_path, name).values())


def assert_still_working(extractor: Extractor, tmp_path: Path) -> None:
    """The next file after a failure renders as if nothing happened."""
    result = render(extractor, tmp_path, "after.png", samples.png())
    assert result.status == "ready", result
    previews(tmp_path, "after.png")


def colour_at(image: Image.Image, x: float, y: float) -> tuple[int, int, int]:
    """The colour at a point given as fractions of the width and height."""
    pixel = image.convert("RGB").getpixel((int(x * (image.width - 1)), int(y * (image.height - 1))))
    assert isinstance(pixel, tuple)
    return pixel[0], pixel[1], pixel[2]


def close_to(colour: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 24 for a, b in zip(colour, expected, strict=True))


def distance(first: int | None, second: int | None) -> int:
    assert first is not None and second is not None
    return (first ^ second).bit_count()


def test_a_portrait_photo_shows_upright_with_its_facts(
    extractor: Extractor, tmp_path: Path
) -> None:
    result = render(extractor, tmp_path, "photo.jpg", samples.exif_jpeg())
    assert result.status == "ready", result
    assert (result.width, result.height) == samples.PHOTO_SHOWN_SIZE == (4000, 6000)
    assert result.taken_at == samples.PHOTO_TAKEN_AT
    assert str(result.taken_at) == "2024-05-17 12:30:05+00:00"
    assert result.perceptual_hash is not None and 0 <= result.perceptual_hash < 2**64
    small, large = previews(tmp_path, "photo.jpg")
    assert small.size == (213, 320) and large.size == (853, 1280)
    # Stored top-left, shown top-right: the quarter turn went the camera's way.
    assert close_to(colour_at(small, 0.97, 0.03), samples.CORNER_COLOUR)
    assert not close_to(colour_at(small, 0.03, 0.03), samples.CORNER_COLOUR)
    # Written whole and renamed: nothing else is left beside the previews.
    assert sorted(p.name for p in (tmp_path / "previews").iterdir()) == ["photo.jpg.small.webp"]


def test_a_png_keeps_its_size_and_transparency(extractor: Extractor, tmp_path: Path) -> None:
    result = render(extractor, tmp_path, "pattern.png", samples.png())
    assert (result.status, result.width, result.height) == ("ready", 900, 600)
    assert result.taken_at is None and result.perceptual_hash is not None
    small, large = previews(tmp_path, "pattern.png")
    assert large.size == (900, 600)  # never enlarged
    assert small.size == (320, 213)
    alpha = large.getchannel("A")
    assert (alpha.getpixel((450, 590)), alpha.getpixel((450, 300))) == (0, 255)


def test_a_gif_shows_its_first_frame(extractor: Extractor, tmp_path: Path) -> None:
    result = render(extractor, tmp_path, "spinner.gif", samples.gif())
    assert (result.status, result.width, result.height) == ("ready", 400, 300)
    assert result.perceptual_hash is not None
    small, large = previews(tmp_path, "spinner.gif")
    assert large.size == (400, 300) and small.size == (320, 240)
    assert close_to(colour_at(small, 0.5, 0.5), samples.GIF_FIRST_FRAME)


def test_a_pdf_shows_its_first_page_at_the_large_size(extractor: Extractor, tmp_path: Path) -> None:
    result = render(extractor, tmp_path, "pattern.pdf", samples.pdf())
    assert result.status == "ready", result
    # US letter, 612 x 792 points, drawn with its longer side at 1280 pixels.
    assert (result.width, result.height) == (990, 1280)
    assert (result.taken_at, result.perceptual_hash) == (None, None)
    small, large = previews(tmp_path, "pattern.pdf")
    assert large.size == (990, 1280) and small.size == (247, 320)
    assert _dark_pixels(large) > 0


def test_only_the_first_page_of_a_pdf_is_drawn(extractor: Extractor, tmp_path: Path) -> None:
    text = [f"line {n} of many words to ink the page" for n in range(40)]
    for name, pages in (("blank-first.pdf", [[], text, text]), ("text-first.pdf", [text, [], []])):
        assert (
            render(extractor, tmp_path, name, content_samples.pdf_document(pages)).status == "ready"
        )
    assert _dark_pixels(previews(tmp_path, "blank-first.pdf")[1]) == 0
    assert _dark_pixels(previews(tmp_path, "text-first.pdf")[1]) > 1000


def _dark_pixels(image: Image.Image) -> int:
    histogram = image.convert("L").histogram()
    return sum(histogram[:128])


class _Listener(http.server.BaseHTTPRequestHandler):
    asked: list[str]

    def do_GET(self) -> None:
        type(self).asked.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A local web server: its address, and every path it was asked for."""
    asked: list[str] = []
    handler = type("Handler", (_Listener,), {"asked": asked})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/logo.png", asked
    server.shutdown()
    server.server_close()


def test_an_svg_is_drawn_without_its_script_or_outside_images(
    extractor: Extractor, tmp_path: Path, listener: tuple[str, list[str]]
) -> None:
    url, asked = listener
    secret = tmp_path / "another-asset.png"
    secret.write_bytes(_solid_png(samples.CORNER_COLOUR))
    content = samples.svg_with_script(url=url, local_image=str(secret))
    result = render(extractor, tmp_path, "logo.svg", content)
    assert result.status == "ready", result
    assert (result.width, result.height) == (1280, 640)  # drawn at the size that fits
    assert (result.taken_at, result.perceptual_hash) == (None, None)
    small, large = previews(tmp_path, "logo.svg")
    assert small.size == (320, 160)
    # Where either image would be, the drawing's own green shows: neither was loaded.
    for x in (0.25, 0.75):
        assert close_to(colour_at(large, x, 0.5), samples.SVG_COLOUR), x
    assert asked == []  # nothing fetched, by the script, onload or the <image>


def _solid_png(colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (50, 50), colour)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_an_svg_keeps_its_own_and_embedded_images(extractor: Extractor, tmp_path: Path) -> None:
    embedded = base64.b64encode(_solid_png(samples.CORNER_COLOUR)).decode()
    content = f"""<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">
      <defs><rect id="box" width="100" height="100" fill="rgb{samples.SVG_COLOUR}"/></defs>
      <use href="#box"/>
      <image href="data:image/png;base64,{embedded}" x="100" width="100" height="100"/>
    </svg>""".encode()
    assert render(extractor, tmp_path, "kept.svg", content).status == "ready"
    _, large = previews(tmp_path, "kept.svg")
    assert close_to(colour_at(large, 0.25, 0.5), samples.SVG_COLOUR)
    assert close_to(colour_at(large, 0.75, 0.5), samples.CORNER_COLOUR)


@pytest.mark.parametrize("family", [None, "serif", "sans-serif", "monospace"])
def test_svg_text_is_drawn_in_the_fonts_this_machine_has(
    extractor: Extractor, tmp_path: Path, family: str | None
) -> None:
    """resvg's own defaults are Windows fonts: without them, a pattern's labels would
    silently be missing from its preview."""
    if not installed_families().any():
        pytest.skip("fontconfig finds no font on this machine, so no text can be drawn")
    named = f' font-family="{family}"' if family else ""
    content = f"""<svg xmlns="http://www.w3.org/2000/svg" width="400" height="100">
      <rect width="400" height="100" fill="white"/>
      <text x="10" y="70" font-size="60"{named}>Bifold</text>
    </svg>""".encode()
    assert render(extractor, tmp_path, "label.svg", content).status == "ready"
    _, large = previews(tmp_path, "label.svg")
    darkest = min(large.convert("L").getdata())
    assert darkest < 100, "the text left no dark pixel"


@pytest.mark.parametrize(("side", "megapixels"), [(samples.BOMB_SIDE, 400), (11_000, 121)])
def test_an_image_over_100_megapixels_fails_with_a_sentence(
    extractor: Extractor, tmp_path: Path, side: int, megapixels: int
) -> None:
    # 400 MP is past Pillow's error; 121 MP between its warning and its error.
    result = render(extractor, tmp_path, "bomb.png", samples.png_bomb(side))
    assert result == Rendition.failed(
        f"The image is {megapixels} megapixels, over the limit of 100 megapixels "
        "(a decompression bomb would look the same), so it has no preview."
    )
    assert_no_previews(tmp_path, "bomb.png")
    assert_still_working(extractor, tmp_path)


@pytest.mark.parametrize(
    ("name", "make", "sentence"),
    [
        ("cut.jpg", samples.damaged_jpeg, "The JPEG file could not be read; it may be damaged ("),
        (
            "text.png",
            lambda: b"not a picture at all",
            "The file is not a PNG image that can be read",
        ),
        ("photo.gif", samples.exif_jpeg, "The file is not a GIF image that can be read"),
        ("cut.pdf", content_samples.truncated_pdf, "The PDF is damaged or truncated"),
        (
            "secret.pdf",
            content_samples.encrypted_pdf,
            "encrypted with a password, so it cannot be previewed",
        ),
        ("laughs.svg", content_samples.billion_laughs_svg, "declares entities"),
        ("broken.svg", lambda: b"<svg><rect></svg>", "not well-formed XML"),
        ("html.svg", lambda: b"<html><body>hi</body></html>", "its root element is <html>"),
        (
            "empty.svg",
            lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="0"/>',
            "could not be drawn",
        ),
    ],
)
def test_a_bad_file_fails_with_a_sentence_and_the_next_renders(
    extractor: Extractor, tmp_path: Path, name: str, make: Callable[[], bytes], sentence: str
) -> None:
    for stale in targets(tmp_path, name).values():  # previews of the file it replaced
        stale.parent.mkdir(parents=True, exist_ok=True)
        stale.write_bytes(b"old preview")
    result = render(extractor, tmp_path, name, make())
    assert (result.status, result.width, result.perceptual_hash) == ("failed", None, None)
    assert result.error is not None and sentence in result.error, result.error
    assert result.error.endswith(".")
    assert_no_previews(tmp_path, name)
    assert_still_working(extractor, tmp_path)


def test_a_missing_file_fails(extractor: Extractor, tmp_path: Path) -> None:
    result = extractor.render(tmp_path / "gone.jpg", ".jpg", **targets(tmp_path, "gone.jpg"))
    assert result == Rendition.failed("The file is missing from storage.")


@pytest.mark.parametrize("file_type", [".docx", ".doc", ".xlsx", ".csv", ""])
def test_types_without_previews_have_none(
    extractor: Extractor, tmp_path: Path, file_type: str
) -> None:
    assert not has_preview(file_type)
    result = render(extractor, tmp_path, f"file{file_type}", content_samples.docx_document())
    assert result == Rendition.none()
    assert_no_previews(tmp_path, f"file{file_type}")


def test_the_types_with_previews() -> None:
    for file_type in (".jpg", ".jpeg", ".png", ".gif", ".svg", ".pdf", ".JPG"):
        assert has_preview(file_type)


def test_a_resized_copy_is_near_and_an_unrelated_image_far(
    extractor: Extractor, tmp_path: Path
) -> None:
    photo = samples.exif_jpeg()
    hashes = {
        name: render(extractor, tmp_path, name, content).perceptual_hash
        for name, content in (
            ("photo.jpg", photo),
            ("half.jpg", samples.resized_copy(photo, 0.5)),
            ("fifth.jpg", samples.resized_copy(photo, 0.2)),
            ("other.jpg", samples.unrelated_jpeg()),
        )
    }
    assert distance(hashes["photo.jpg"], hashes["half.jpg"]) <= 8
    assert distance(hashes["photo.jpg"], hashes["fifth.jpg"]) <= 8
    assert distance(hashes["photo.jpg"], hashes["other.jpg"]) > 8


def test_text_and_previews_come_from_one_child(extractor: Extractor, tmp_path: Path) -> None:
    assert render(extractor, tmp_path, "a.png", samples.png()).status == "ready"
    pid = extractor.child_pid
    text = extractor.extract(write(tmp_path, "a.pdf", content_samples.pdf()), ".pdf")
    assert text.status == "extracted"
    assert render(extractor, tmp_path, "b.pdf", content_samples.pdf()).status == "ready"
    assert extractor.child_pid == pid


def test_a_render_over_the_time_limit_is_stopped_and_the_next_renders(tmp_path: Path) -> None:
    with Extractor(timeout_s=30, memory_bytes=MEMORY, max_chars=1000) as hurried:
        assert_still_working(hurried, tmp_path)  # the child is up, its renderers loaded
        first_child = hurried.child_pid
        hurried.timeout_s = 0.05  # less than a 24-megapixel photo takes
        result = render(hurried, tmp_path, "photo.jpg", samples.exif_jpeg())
        assert result == Rendition.failed(
            "Rendering the preview took longer than 0.05 s, the limit."
        )
        assert_no_previews(tmp_path, "photo.jpg")
        hurried.timeout_s = 30
        assert_still_working(hurried, tmp_path)
        assert hurried.child_pid not in (None, first_child)


def test_a_render_over_the_memory_limit_fails_and_the_next_renders(tmp_path: Path) -> None:
    with Extractor(timeout_s=30, memory_bytes=384 * MB, max_chars=1000) as bounded:
        result = render(bounded, tmp_path, "poster.png", samples.heavy_png())
        assert result.status == "failed"
        assert result.error is not None and "memory limit of 384 MB" in result.error, result.error
        assert_no_previews(tmp_path, "poster.png")
        assert_still_working(bounded, tmp_path)


def test_an_answer_that_makes_no_sense_is_a_failure() -> None:
    nonsense = Rendition.failed("The preview process gave an answer that makes no sense.")
    ready = {"status": "ready", "width": 1, "height": 1, "small": "AA==", "large": "AA=="}
    assert parse_render_answer(ready)[0].status == "ready"
    for broken in (
        {**ready, "status": "done"},
        {**ready, "width": "1"},
        {**ready, "width": True},
        {**ready, "small": None},
        {**ready, "large": "not base64!"},
        {**ready, "taken_at": "2024-05-17T12:30:05"},  # no zone
        {"status": "failed", "error": 3},
    ):
        assert parse_render_answer(broken) == (nonsense, None), broken
