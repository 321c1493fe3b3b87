"""How a DBpedia resource becomes a readable name, and how an Item records where its title
came from (`Item.titleSource`).

Ingest names entities and items this way, and embeddings read the same rule back to build
an item's text; it lives with the graph so that neither stage imports the other for it.
"""

from urllib.parse import unquote

TITLE_FROM_URI = "dbpedia uri"
"""`Item.titleSource` of a title an ingest made from the item's DBpedia uri."""
TITLE_FROM_TABLE = "item table"
"""`Item.titleSource` of a title an ingest read from a source's item table."""


def name_from_iri(iri: str) -> str:
    """`http://dbpedia.org/resource/Blazing_Saddles` -> `Blazing Saddles`."""
    local = iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    local = local.removeprefix("Category:")
    return unquote(local).replace("_", " ").strip() or iri


def readable_name(uri: str | None) -> str | None:
    """A resource's local name as a label (underscores to spaces, percent-decoded)."""
    if not uri or not uri.strip():
        return None
    return name_from_iri(uri).strip() or None
