"""Where the session page's files are: its own (static/) and the graph library, vendored
by npm at install time (web/package.json, pinned by web/package-lock.json; `make install`
runs `npm ci` there), never fetched from a CDN: the page works without the internet."""

from pathlib import Path

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
WEB_DIR = HERE / "web"
GRAPH_LIBRARY = WEB_DIR / "node_modules" / "cytoscape" / "dist"


def vendor_dir() -> Path | None:
    """The vendored graph library's folder, or None before `npm ci` has run (the page
    then lists paths as text and says how to install the library)."""
    return GRAPH_LIBRARY if (GRAPH_LIBRARY / "cytoscape.min.js").exists() else None
