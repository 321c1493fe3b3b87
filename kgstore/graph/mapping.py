"""The one declarative table from source fields to relationship types and target labels.

Ingest, export and the docs all read `RELATIONS`. Neo4j cannot take labels or
relationship types as query parameters, so the writer builds those parts of its
queries only from names in this table (checked against a strict pattern at import
time); nothing from input data ever reaches a query string.

Each row lists every source spelling of one relation: DBpedia predicate IRIs, the
relation tokens of Amazon-KG's `.kg` files (the names of the paper's relation lists)
and Amazon metadata fields (2018 `also_buy`, 2014 `related.also_bought`, …).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

DBO = "http://dbpedia.org/ontology/"
DCT_SUBJECT = "http://purl.org/dc/terms/subject"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
DBR = "http://dbpedia.org/resource/"

_LABEL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_REL_TYPE = re.compile(r"^[A-Z][A-Z0-9_]*$")


class Domain(StrEnum):
    """The item domain; its label is added to every Item of a data set."""

    MOVIES = "movies"
    BOOKS = "books"

    @property
    def label(self) -> str:
        return {"movies": "Movie", "books": "Book"}[self.value]


@dataclass(frozen=True)
class Relation:
    """One relationship type of the graph and every source name that produces it."""

    rel_type: str
    target_label: str
    text: str
    source_label: str = "Item"
    dbpedia: tuple[str, ...] = ()
    amazon_kg: tuple[str, ...] = ()
    amazon: tuple[str, ...] = ()


def _dbo(*names: str) -> tuple[str, ...]:
    return tuple(DBO + name for name in names)


RELATIONS: tuple[Relation, ...] = (
    Relation("RATED", "Item", "rated", source_label="User", amazon_kg=("rated",)),
    Relation(
        "HAS_SUBJECT", "Subject", "subject is", dbpedia=(DCT_SUBJECT,), amazon_kg=("subject_is",)
    ),
    Relation(
        "DIRECTED_BY",
        "Person",
        "directed by",
        dbpedia=_dbo("director"),
        amazon_kg=("directed_by", "director"),
    ),
    Relation("STARRING", "Person", "starring", dbpedia=_dbo("starring"), amazon_kg=("starring",)),
    Relation("WRITTEN_BY", "Person", "writer is", dbpedia=_dbo("writer"), amazon_kg=("writer_is",)),
    Relation(
        "MUSIC_BY",
        "Person",
        "music composer is",
        dbpedia=_dbo("musicComposer"),
        amazon_kg=("musiccomposer_is",),
    ),
    Relation(
        "COMPOSED_BY", "Person", "composer is", dbpedia=_dbo("composer"), amazon_kg=("composer_is",)
    ),
    Relation(
        "EXECUTIVE_PRODUCER",
        "Person",
        "executive producer is",
        dbpedia=_dbo("executiveProducer"),
        amazon_kg=("executiveProducer_is",),
    ),
    Relation(
        "PRODUCED_BY", "Person", "producer", dbpedia=_dbo("producer"), amazon_kg=("producer",)
    ),
    Relation("HAS_GENRE", "Genre", "genre is", dbpedia=_dbo("genre"), amazon_kg=("genre_is",)),
    Relation("WON_AWARD", "Award", "got award", dbpedia=_dbo("award"), amazon_kg=("got_award",)),
    Relation(
        "HAS_OPENING_THEME",
        "OpeningTheme",
        "opening theme",
        dbpedia=_dbo("openingTheme"),
        amazon_kg=("openingTheme",),
    ),
    Relation(
        "PREVIOUS_WORK",
        "Work",
        "previous work",
        dbpedia=_dbo("previousWork"),
        amazon_kg=("previousWork",),
    ),
    Relation(
        "SUBSEQUENT_WORK",
        "Work",
        "subsequent work",
        dbpedia=_dbo("subsequentWork"),
        amazon_kg=("subsequentWork",),
    ),
    Relation("CREATED_BY", "Person", "creator", dbpedia=_dbo("creator"), amazon_kg=("creator",)),
    Relation(
        "PRESENTED_BY", "Person", "presenter", dbpedia=_dbo("presenter"), amazon_kg=("presenter",)
    ),
    Relation(
        "HAS_ARTIST", "Person", "have artist", dbpedia=_dbo("artist"), amazon_kg=("have_artist",)
    ),
    Relation(
        "HAS_LITERARY_GENRE",
        "LiteraryGenre",
        "literary genre is",
        dbpedia=_dbo("literaryGenre"),
        amazon_kg=("literaryGenre_is",),
    ),
    Relation("AUTHORED_BY", "Person", "author", dbpedia=_dbo("author"), amazon_kg=("author",)),
    Relation("IN_SERIES", "Series", "series", dbpedia=_dbo("series"), amazon_kg=("series",)),
    Relation(
        "NOTABLE_WORK",
        "NotableWork",
        "notable work",
        dbpedia=_dbo("notableWork"),
        amazon_kg=("notableWork",),
    ),
    Relation("CINEMATOGRAPHY_BY", "Person", "cinematography", dbpedia=_dbo("cinematography")),
    Relation("EDITED_BY", "Person", "editing", dbpedia=_dbo("editing")),
    Relation("DISTRIBUTED_BY", "Company", "distributor", dbpedia=_dbo("distributor")),
    Relation("PUBLISHED_BY", "Publisher", "publisher", dbpedia=_dbo("publisher")),
    Relation("COVER_ART_BY", "Person", "cover artist", dbpedia=_dbo("coverArtist")),
    Relation("FROM_COUNTRY", "Country", "country", dbpedia=_dbo("country")),
    Relation("IN_LANGUAGE", "Language", "language", dbpedia=_dbo("language")),
    Relation("HAS_MEDIA_TYPE", "MediaType", "media type", dbpedia=_dbo("mediaType")),
    Relation(
        "ALSO_BUY",
        "Item",
        "also buy product",
        amazon=("also_buy", "also_bought"),
        amazon_kg=("also_buy_product",),
    ),
    Relation(
        "ALSO_VIEW",
        "Item",
        "also view product",
        amazon=("also_view", "also_viewed"),
        amazon_kg=("also_view_product",),
    ),
    Relation("BOUGHT_TOGETHER", "Item", "bought together", amazon=("bought_together",)),
    Relation(
        "IN_CATEGORY",
        "Category",
        "category",
        amazon=("category", "categories"),
        amazon_kg=("category",),
    ),
    Relation("HAS_BRAND", "Brand", "brand", amazon=("brand",), amazon_kg=("brand",)),
)

NODE_KEYS: dict[str, str] = {"User": "id", "Item": "id", "Entity": "uri"}
"""The key property of each base label (the schema's uniqueness constraints)."""


def _index(field: str) -> dict[str, Relation]:
    index: dict[str, Relation] = {}
    for relation in RELATIONS:
        for name in getattr(relation, field):
            if name in index:
                raise ValueError(
                    f"{name!r} maps to both {index[name].rel_type} and {relation.rel_type}"
                )
            index[name] = relation
    return index


BY_DBPEDIA_PREDICATE = _index("dbpedia")
BY_AMAZON_KG_RELATION = _index("amazon_kg")
BY_AMAZON_FIELD = _index("amazon")
BY_TYPE = {relation.rel_type: relation for relation in RELATIONS}

ENTITY_LABELS = frozenset(
    relation.target_label for relation in RELATIONS if relation.target_label != "Item"
)
ALL_LABELS = frozenset(
    {"User", "Item", "Entity", "Run"} | ENTITY_LABELS | {domain.label for domain in Domain}
)


def _check_names(labels: Iterable[str], rel_types: Iterable[str]) -> None:
    for label in labels:
        if not _LABEL.match(label):
            raise ValueError(f"label {label!r} is not CamelCase letters and digits")
    for rel_type in rel_types:
        if not _REL_TYPE.match(rel_type):
            raise ValueError(f"relationship type {rel_type!r} is not UPPER_SNAKE")


_check_names(ALL_LABELS, BY_TYPE)


def cypher_label(label: str) -> str:
    """A label for a query string: only names from this table are accepted."""
    if label not in ALL_LABELS:
        raise ValueError(f"label {label!r} is not in the mapping table")
    return f"`{label}`"


def cypher_rel_type(rel_type: str) -> str:
    """A relationship type for a query string: only types from this table are accepted."""
    if rel_type not in BY_TYPE:
        raise ValueError(f"relationship type {rel_type!r} is not in the mapping table")
    return f"`{rel_type}`"
