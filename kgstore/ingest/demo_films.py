"""The films of the bundled demo: real DBpedia films turned into catalogue items.

Each film of data/demo/films.nt.gz becomes one `Film`: a stable id derived from its IRI
(the same whatever the seed or the file order), a title read off the IRI's local name
and a short description written from its DBpedia facts — the text an LLM encoder gets
for an item (the paper initialises item features from title and description).
"""

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from kgstore.graph.mapping import BY_DBPEDIA_PREDICATE
from kgstore.ingest.dbpedia import Triple, name_from_iri
from kgstore.paths import PROJECT_ROOT

DEMO_FILMS = PROJECT_ROOT / "data" / "demo" / "films.nt.gz"

DESCRIPTION_PARTS: tuple[tuple[str, str], ...] = (
    ("DIRECTED_BY", "Directed by"),
    ("WRITTEN_BY", "Written by"),
    ("STARRING", "Starring"),
    ("MUSIC_BY", "Music by"),
    ("CINEMATOGRAPHY_BY", "Cinematography by"),
    ("DISTRIBUTED_BY", "Distributed by"),
)
"""Which facts the description names, in this order, each with its phrase."""

NAMES_PER_PART = 3
_FILM_QUALIFIER = re.compile(r"\s*\((?:(\d{4}) )?(?:[\w\s-]+ )?film\)$")
_QUALIFIER = re.compile(r"\s*\([^()]*\)$")


@dataclass(frozen=True)
class Film:
    """One catalogue item; `facts` are (relationship type, entity IRI), sorted."""

    uri: str
    item_id: str
    title: str
    description: str
    facts: tuple[tuple[str, str], ...]

    def entities(self, rel_type: str) -> tuple[str, ...]:
        return tuple(entity for relation, entity in self.facts if relation == rel_type)


def film_item_id(uri: str) -> str:
    """`film-` and 12 hex digits of the IRI's SHA-1: stable across seeds and versions."""
    return "film-" + hashlib.sha1(uri.encode("utf-8")).hexdigest()[:12]


def film_title(uri: str) -> str:
    """`Othello_(1995_film)` -> `Othello (1995)`; `Sin_City_(film)` -> `Sin City`."""
    name = name_from_iri(uri)
    return _FILM_QUALIFIER.sub(lambda match: f" ({match[1]})" if match[1] else "", name)


def display_name(iri: str) -> str:
    """An entity's name without DBpedia's disambiguation: `Chris_Columbus_(filmmaker)` ->
    `Chris Columbus`."""
    return _QUALIFIER.sub("", name_from_iri(iri))


def film_description(facts: Iterable[tuple[str, str]]) -> str:
    """`Directed by X. Starring Y, Z. Music by W.` from the film's facts."""
    names: dict[str, list[str]] = defaultdict(list)
    for rel_type, entity in facts:
        names[rel_type].append(display_name(entity))
    sentences = [
        f"{phrase} {', '.join(names[rel_type][:NAMES_PER_PART])}".removesuffix(".") + "."
        for rel_type, phrase in DESCRIPTION_PARTS
        if names[rel_type]
    ]
    return " ".join(sentences)


def films_from_triples(triples: Iterable[Triple]) -> list[Film]:
    """Every subject with at least one mapped fact, sorted by IRI (order-independent)."""
    facts: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for subject, predicate, obj in triples:
        relation = BY_DBPEDIA_PREDICATE.get(predicate)
        if relation is not None:
            facts[subject].add((relation.rel_type, obj))
    return [
        Film(
            uri=uri,
            item_id=film_item_id(uri),
            title=film_title(uri),
            description=film_description(sorted(facts[uri])),
            facts=tuple(sorted(facts[uri])),
        )
        for uri in sorted(facts)
    ]
