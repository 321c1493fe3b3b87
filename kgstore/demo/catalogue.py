"""The catalogue of a demo domain: real DBpedia things (films, books) turned into items.

One `CatalogueSpec` per domain (`demo_films.FILMS`, `demo_books.BOOKS`) says which file,
which id prefix, how a title is read off the IRI, which facts the description names and
which relations a planted persona is made of; everything else — stable ids, names,
descriptions, the items of a triples file — is shared here, so both domains are built
the same way and the generator (`demo_users`) sees only `DemoItem`s.
"""

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from kgstore.graph.item_names import name_from_iri
from kgstore.graph.mapping import BY_DBPEDIA_PREDICATE, Domain
from kgstore.ingest.sources.dbpedia import Triple

NAMES_PER_PART = 3
_QUALIFIER = re.compile(r"\s*\([^()]*\)$")


@dataclass(frozen=True)
class DemoItem:
    """One catalogue item; `facts` are (relationship type, entity IRI), sorted."""

    uri: str | None
    """The DBpedia IRI; None for a synthetic item of the scale generator."""
    item_id: str
    title: str
    description: str
    facts: tuple[tuple[str, str], ...]

    def entities(self, rel_type: str) -> tuple[str, ...]:
        return tuple(entity for relation, entity in self.facts if relation == rel_type)


@dataclass(frozen=True)
class CatalogueSpec:
    """What differs between the demo domains (see the module docstring)."""

    domain: Domain
    path: Path
    id_prefix: str
    """`film` -> item ids `film-<12 hex digits>`."""
    user_prefix: str
    """Generated users are `<user_prefix>-00000`, …: distinct per domain, so a user's
    planted persona and group belong to one domain."""
    title: Callable[[str], str]
    description_parts: tuple[tuple[str, str], ...]
    """Which facts the description names, in this order, each with its phrase."""
    persona_relations: tuple[str, ...]
    """Relationship types whose entities can be persona themes."""

    def item_id(self, uri: str) -> str:
        """The prefix and 12 hex digits of the IRI's SHA-1: stable across seeds and versions."""
        return f"{self.id_prefix}-" + hashlib.sha1(uri.encode("utf-8")).hexdigest()[:12]

    def describe(self, facts: Iterable[tuple[str, str]]) -> str:
        """`Directed by X. Starring Y, Z.` from the item's facts."""
        names: dict[str, list[str]] = defaultdict(list)
        for rel_type, entity in facts:
            names[rel_type].append(display_name(entity))
        sentences = [
            f"{phrase} {', '.join(names[rel_type][:NAMES_PER_PART])}".removesuffix(".") + "."
            for rel_type, phrase in self.description_parts
            if names[rel_type]
        ]
        return " ".join(sentences)

    def items_from_triples(self, triples: Iterable[Triple]) -> list[DemoItem]:
        """Every subject with at least one mapped fact, sorted by IRI (order-independent)."""
        facts: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for subject, predicate, obj in triples:
            relation = BY_DBPEDIA_PREDICATE.get(predicate)
            if relation is not None:
                facts[subject].add((relation.rel_type, obj))
        return [
            DemoItem(
                uri=uri,
                item_id=self.item_id(uri),
                title=self.title(uri),
                description=self.describe(sorted(facts[uri])),
                facts=tuple(sorted(facts[uri])),
            )
            for uri in sorted(facts)
        ]


def display_name(iri: str) -> str:
    """An entity's name without DBpedia's disambiguation: `Chris_Columbus_(filmmaker)` ->
    `Chris Columbus`."""
    return _QUALIFIER.sub("", name_from_iri(iri))
