"""What the guide server hands to Neo4j Browser: the graph style sheet and the guide.

The guide template (cypher/guide/kgstore.html) holds no query text of its own: each
runnable block names a file of the Cypher library (`data-cypher="personas/profile.cypher"`)
and is filled with that file's text when the guide is served. A query fixed in the
library is therefore fixed in the guide too; there is no second copy to drift.
"""

import html
import re
from pathlib import Path

from kgstore.errors import GuideError
from kgstore.paths import CYPHER_DIR

STYLE_FILE = CYPHER_DIR / "browser.grass"
GUIDE_TEMPLATE = CYPHER_DIR / "guide" / "kgstore.html"
STYLE_PATH = "/browser.grass"
GUIDE_PATH = "/guide/kgstore.html"

_LIBRARY_BLOCK = re.compile(r'(<pre\b[^>]*\bdata-cypher="([^"]+)"[^>]*>)\s*(</pre>)')


def guide_query_files(template: Path = GUIDE_TEMPLATE, root: Path = CYPHER_DIR) -> list[Path]:
    """The Cypher files the guide shows, in the order it shows them."""
    return [root / match.group(2) for match in _LIBRARY_BLOCK.finditer(_read(template))]


def render_guide(template: Path = GUIDE_TEMPLATE, root: Path = CYPHER_DIR) -> str:
    """The guide's HTML with every library block filled with its file's text.

    Browser copies a block's text (trimmed) into the editor when it is clicked, so the
    text is the file exactly, comments and parameter notes included.
    """
    text = _read(template)

    def fill(match: re.Match[str]) -> str:
        name = match.group(2)
        path = (root / name).resolve()
        line = text.count("\n", 0, match.start()) + 1
        if not path.is_relative_to(root.resolve()) or not path.is_file():
            raise GuideError(
                f"{template}:{line}: data-cypher names {name!r}, which is not a file under {root}"
            )
        return match.group(1) + html.escape(path.read_text(encoding="utf-8").strip()) + "</pre>"

    return _LIBRARY_BLOCK.sub(fill, text)


def read_style(path: Path = STYLE_FILE) -> str:
    return _read(path)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GuideError(f"cannot read {path}: {exc.strerror}") from None
