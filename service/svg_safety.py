"""Whether an SVG could run script when opened in a browser.

A downloaded SVG opened from the library runs in the service's origin unless the
browser sandboxes it, so one that carries script is refused at upload: `<script>`,
elements that embed other documents, event-handler attributes (`onload=`), and
`javascript:` URLs in any attribute. The file is parsed as XML with defusedxml (no
entity expansion, no external references), so entity tricks cannot hide any of these;
a file that is not well-formed XML is refused too, since no browser renders it.
"""

from __future__ import annotations

import re
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

ACTIVE_ELEMENTS = {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener"}
# Whitespace and control characters a browser ignores inside a URL's scheme.
_IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20]+")
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:text/html")


def _local(name: str) -> str:
    """`{http://www.w3.org/2000/svg}script` is `script`."""
    return name.rsplit("}", 1)[-1].lower()


def active_content(path: Path) -> str | None:
    """What in the SVG at `path` could run script, as a phrase, or None when nothing."""
    try:
        for _, element in iterparse(str(path), events=("start",)):
            tag = _local(element.tag) if isinstance(element.tag, str) else ""
            if tag in ACTIVE_ELEMENTS:
                return f"it contains a <{tag}> element"
            for name, value in element.attrib.items():
                attribute = _local(name)
                if attribute.startswith("on"):
                    return f"it has an event handler attribute ({attribute})"
                compact = _IGNORED_IN_SCHEME.sub("", value).lower()
                if any(scheme in compact for scheme in SCRIPT_SCHEMES):
                    return f"its {attribute} attribute holds a script URL"
    except DefusedXmlException as exc:
        return f"it declares entities or external references ({exc.__class__.__name__})"
    except SyntaxError as exc:  # xml.etree's ParseError
        return f"it is not well-formed XML ({exc})"
    return None
