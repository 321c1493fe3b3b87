"""The films of the bundled demo: real DBpedia films (data/demo/films.nt.gz) as `Movie`
items; how they become items is `catalogue`'s, what is film-specific is here."""

import re

from kgstore.demo.catalogue import CatalogueSpec, DemoItem
from kgstore.graph.item_names import name_from_iri
from kgstore.graph.mapping import Domain
from kgstore.ingest.sources.dbpedia import Triple
from kgstore.paths import PROJECT_ROOT

DEMO_FILMS = PROJECT_ROOT / "data" / "demo" / "films.nt.gz"
_FILM_QUALIFIER = re.compile(r"\s*\((?:(\d{4}) )?(?:[\w\s-]+ )?film\)$")


def film_title(uri: str) -> str:
    """`Othello_(1995_film)` -> `Othello (1995)`; `Sin_City_(film)` -> `Sin City`."""
    name = name_from_iri(uri)
    return _FILM_QUALIFIER.sub(lambda match: f" ({match[1]})" if match[1] else "", name)


FILMS = CatalogueSpec(
    domain=Domain.MOVIES,
    path=DEMO_FILMS,
    id_prefix="film",
    user_prefix="demo-user",
    title=film_title,
    description_parts=(
        ("DIRECTED_BY", "Directed by"),
        ("WRITTEN_BY", "Written by"),
        ("STARRING", "Starring"),
        ("MUSIC_BY", "Music by"),
        ("CINEMATOGRAPHY_BY", "Cinematography by"),
        ("DISTRIBUTED_BY", "Distributed by"),
    ),
    persona_relations=("DIRECTED_BY", "WRITTEN_BY", "MUSIC_BY", "STARRING"),
)


def film_item_id(uri: str) -> str:
    """`film-` and 12 hex digits of the IRI's SHA-1."""
    return FILMS.item_id(uri)


def films_from_triples(triples: list[Triple]) -> list[DemoItem]:
    """The films of a DBpedia films file, sorted by IRI."""
    return FILMS.items_from_triples(triples)
