"""The films demo with real MiniLM embeddings, shared by the modules that need a trained
graph (personas, the query library). Building it costs about two minutes (16,000 texts
to embed), so a module that finds it intact reuses it."""

from pathlib import Path

from kgstore.db import Database
from kgstore.demo.ingest import ingest_demo
from kgstore.demo.users import DemoConfig
from kgstore.embeddings.pipeline import EmbedTarget, embed_nodes
from kgstore.embeddings.sentence_transformers import SentenceTransformerEmbedder
from kgstore.graph.clear import clear_graph
from kgstore.ingest.session import IngestOptions
from kgstore.schema import apply_schema

GROUPS = 8

FILMS_DEMO_SHAPE = (
    "RETURN COUNT { (i:Item) } AS items, "
    "COUNT { (i:Item) WHERE i.textEmbedding IS NOT NULL } AS embeddedItems, "
    "COUNT { (e:Entity) } AS entities, "
    "COUNT { (e:Entity) WHERE e.textEmbedding IS NOT NULL } AS embeddedEntities, "
    "COUNT { (:User) } AS users, COUNT { ()-[:RATED]->() } AS interactions"
)
"""One row whatever the graph holds (a MATCH of no entity would return none)."""
FILMS_DEMO_COUNTS = {
    "items": 3_084,
    "embeddedItems": 3_084,
    "entities": 13_202,
    "embeddedEntities": 13_202,
    "users": 2_000,
    "interactions": 34_927,
}
"""What `ingest_demo(DemoConfig(groups=8))` and the embedding of items and entities hold."""


FILMS_GRAPH_COUNTS = {
    key: count for key, count in FILMS_DEMO_COUNTS.items() if not key.startswith("embedded")
}
"""The films demo's graph, embedded or not."""


def films_graph(db: Database, quarantine: Path) -> Database:
    """The films demo's graph, without embeddings when it has to be built (enough for what
    reads the KG only: about 20 s instead of two minutes); reused when the graph holds it."""
    shape = db.query(FILMS_DEMO_SHAPE)[0]
    if {key: shape[key] for key in FILMS_GRAPH_COUNTS} != FILMS_GRAPH_COUNTS:
        _ingest_films(db, quarantine)
    return db


def _ingest_films(db: Database, quarantine: Path) -> None:
    """Clear the graph and ingest the films demo with 8 planted groups."""
    clear_graph(db)
    apply_schema(db)
    ingest_demo(db, DemoConfig(groups=GROUPS), IngestOptions(quarantine_dir=quarantine))


def build_films_demo(db: Database, quarantine: Path) -> Database:
    """Clear the graph, ingest the films demo with 8 planted groups, embed everything."""
    _ingest_films(db, quarantine)
    embedder = SentenceTransformerEmbedder()
    embed_nodes(db, embedder, EmbedTarget.ITEMS)
    embed_nodes(db, embedder, EmbedTarget.ENTITIES)
    return db


def films_demo(db: Database, quarantine: Path) -> Database:
    """The films demo as it is built, reused when the graph still holds exactly that."""
    if db.query(FILMS_DEMO_SHAPE)[0] == FILMS_DEMO_COUNTS:
        return db
    return build_films_demo(db, quarantine)
