"""DBpedia facts about linked items, whichever way they arrive (file or SPARQL endpoint).

Both readers hand (subject, predicate, object) IRI triples and rdfs:labels to
`write_facts`, so `--file` and `--endpoint` give the same nodes and relationships.
A fact is kept when its subject is the `uri` of an ingested Item and its predicate is in
the mapping table; other predicates are counted in the report, not silently dropped.
"""

from collections.abc import Iterable, Mapping

from kgstore.db import Database
from kgstore.graph.item_names import name_from_iri
from kgstore.graph.mapping import BY_DBPEDIA_PREDICATE, Domain
from kgstore.ingest.session import IngestOptions, IngestSession
from kgstore.ingest.sources.graph_view import linked_item_uris

Triple = tuple[str, str, str]
LabelCandidate = tuple[str, str, str | None]
"""(IRI, rdfs:label text, language tag or None)."""


def _label_rank(language: str | None) -> int | None:
    """English (`en`, `en-GB`, …) first, then untagged; other languages are not used."""
    tag = (language or "").lower()
    if tag == "en" or tag.startswith("en-"):
        return 0
    return 1 if not tag else None


def choose_labels(candidates: Iterable[LabelCandidate]) -> dict[str, str]:
    """One rdfs:label per IRI, the same whatever order the labels arrive in (the file
    reader and the SPARQL reader must agree): English before untagged, then the smallest
    text. A label in another language is ignored — the IRI's local name, DBpedia's
    English title, names the entity better in an English catalogue."""
    best: dict[str, tuple[int, str]] = {}
    for iri, text, language in candidates:
        rank = _label_rank(language)
        if rank is not None and (iri not in best or (rank, text) < best[iri]):
            best[iri] = (rank, text)
    return {iri: text for iri, (_, text) in best.items()}


def write_facts(
    session: IngestSession, triples: Iterable[Triple], items: set[str], labels: Mapping[str, str]
) -> int:
    """Write the mapped facts whose subject is a linked item; returns how many were kept."""
    kept = 0
    for subject, predicate, obj in triples:
        relation = BY_DBPEDIA_PREDICATE.get(predicate)
        if relation is None:
            session.unmapped[predicate] += 1
            continue
        if subject not in items:
            session.unmapped["(subject is not a linked item)"] += 1
            continue
        session.writer.relationship(
            relation, subject, obj, name=labels.get(obj) or name_from_iri(obj), source_key="uri"
        )
        kept += 1
    return kept


def items_to_ask_about(
    session: IngestSession, db: Database, options: IngestOptions, domain: Domain | None
) -> set[str]:
    """The DBpedia IRIs of the ingested items (of `domain`, or all); says so when none."""
    items = linked_item_uris(db, options, domain)
    if not items:
        of = f" of domain {domain.value}" if domain is not None else ""
        session.notes.append(f"no Item{of} has a DBpedia uri yet: ingest items first")
    return items
