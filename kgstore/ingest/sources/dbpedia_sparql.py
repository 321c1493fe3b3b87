"""`kgctl ingest dbpedia --endpoint`: the mapped facts of linked items, asked of a SPARQL
endpoint (default SPARQL_ENDPOINT, https://dbpedia.org/sparql).

Items are asked about in batches (SPARQL_ITEMS_PER_QUERY): one query per batch, with
VALUES over the item IRIs and over every DBpedia predicate of the mapping table, returns
IRI objects and their rdfs:label (English or untagged, see `choose_labels`), ordered by
every selected variable so that LIMIT/OFFSET pages (SPARQL_PAGE_SIZE) are stable.

Nothing from the graph or the input reaches the query text except IRIs, each checked to
be writable as `<…>`; an item whose uri is not is quarantined. Records are items here: a
batch whose query still fails after its retries quarantines each of its items with the
query's text, the run goes on, and the reject threshold (the fraction of items whose facts
could not be fetched) sets the exit code. Results go to `write_facts`, as the file
reader's do, so `--endpoint` and `--file` give the same nodes and relationships; answers
are cached (`sparql_cache`), so a rerun or a resumed run asks the endpoint nothing again.
"""

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from kgstore.db import Database
from kgstore.errors import QueryFailed, UnsafeIri
from kgstore.graph.mapping import BY_DBPEDIA_PREDICATE, RDFS_LABEL, Domain
from kgstore.ingest.quarantine import Quarantine
from kgstore.ingest.session import IngestOptions, IngestReport, ingest_session
from kgstore.ingest.sources.dbpedia import (
    LabelCandidate,
    Triple,
    choose_labels,
    items_to_ask_about,
    write_facts,
)
from kgstore.ingest.sources.sparql_cache import ResultCache
from kgstore.ingest.sources.sparql_client import Binding, FetchPolicy, SparqlClient
from kgstore.settings import Settings

SOURCE = "dbpedia-sparql"
# SPARQL's IRIREF excludes these (and has no escape for them; `\u` escapes are decoded
# before parsing, so a backslash is refused too). An absolute IRI starts with a scheme.
_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_IRI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def sparql_iri(iri: str) -> str:
    """`<iri>` for a query text; refuses anything that could close the IRI or the query."""
    if not _IRI_SCHEME.match(iri) or _IRI_FORBIDDEN.search(iri):
        raise UnsafeIri(f"{iri!r} is not an absolute IRI that can be written as <…> in SPARQL")
    return f"<{iri}>"


def facts_query(items: Sequence[str], predicates: Sequence[str]) -> str:
    """The facts of `items` under `predicates`, with their objects' labels; without
    LIMIT/OFFSET (the client pages it). Raises UnsafeIri for an unwritable IRI."""
    subjects = "\n    ".join(sparql_iri(item) for item in items)
    properties = "\n    ".join(sparql_iri(predicate) for predicate in predicates)
    return (
        "SELECT DISTINCT ?s ?p ?o ?label WHERE {\n"
        f"  VALUES ?s {{\n    {subjects}\n  }}\n"
        f"  VALUES ?p {{\n    {properties}\n  }}\n"
        "  ?s ?p ?o .\n"
        "  FILTER(isIRI(?o))\n"
        f"  OPTIONAL {{ ?o {sparql_iri(RDFS_LABEL)} ?label .\n"
        '    FILTER(lang(?label) = "" || langMatches(lang(?label), "en")) }\n'
        "}\n"
        "ORDER BY ?s ?p ?o ?label"
    )


@dataclass(frozen=True)
class SparqlSource:
    """Where and how to ask: the endpoint, the request policy, the answer cache, the
    number of items per query and the page size; `refresh` ignores cached answers."""

    endpoint: str
    policy: FetchPolicy
    cache_dir: Path
    items_per_query: int = 50
    page_size: int = 10_000
    refresh: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, refresh: bool = False) -> "SparqlSource":
        return cls(
            settings.sparql_endpoint,
            FetchPolicy.from_settings(settings),
            settings.state_dir / "cache" / "sparql",
            settings.sparql_items_per_query,
            settings.sparql_page_size,
            refresh,
        )

    def config(self) -> dict[str, object]:
        """What the `Run` node records about this source."""
        return {
            "endpoint": self.endpoint,
            "items_per_query": self.items_per_query,
            "page_size": self.page_size,
            **self.policy.__dict__,
        }


@dataclass
class FetchedFacts:
    """Distinct (item, predicate, object) triples of one batch and label candidates of
    their objects."""

    triples: dict[Triple, None]
    labels: list[LabelCandidate]

    def add(self, rows: Iterable[Binding]) -> None:
        for row in rows:
            obj = row["o"]["value"]
            self.triples[(row["s"]["value"], row["p"]["value"], obj)] = None
            if label := row.get("label"):
                self.labels.append((obj, label["value"], label.get("xml:lang")))


def safe_items(items: Iterable[str], quarantine: Quarantine, endpoint: str) -> list[str]:
    """The items whose IRI can go into a query, sorted (the same items always give the
    same queries, so the cache answers a rerun); the others are quarantined."""
    safe = []
    for item in sorted(items):
        try:
            sparql_iri(item)
        except UnsafeIri as exc:
            quarantine.reject(endpoint, None, f"item uri not asked about: {exc}", item)
        else:
            safe.append(item)
    return safe


def fetch_batches(
    client: SparqlClient, items: Sequence[str], quarantine: Quarantine, source: SparqlSource
) -> Iterator[FetchedFacts]:
    """The facts of every batch of items, one batch at a time (so memory stays bounded and
    an interrupted run has stored what it fetched); a failed batch is quarantined."""
    predicates = sorted(BY_DBPEDIA_PREDICATE)
    for start in range(0, len(items), source.items_per_query):
        batch = items[start : start + source.items_per_query]
        try:
            rows = client.select_paged(facts_query(batch, predicates), source.page_size)
        except QueryFailed as exc:
            for item in batch:
                quarantine.reject(client.endpoint, None, f"facts of {item}: {exc}", exc.query)
            continue
        quarantine.accepted(len(batch))
        facts = FetchedFacts({}, [])
        facts.add(rows)
        yield facts


def ingest_dbpedia_endpoint(
    db: Database, source: SparqlSource, options: IngestOptions, domain: Domain | None = None
) -> IngestReport:
    """Ingest the mapped facts, asked of `source.endpoint`, of every item (of `domain`, or
    all) linked to DBpedia."""
    client = SparqlClient(
        source.endpoint, source.policy, ResultCache(source.cache_dir), source.refresh
    )
    config = {**source.config(), "domain": domain.value if domain is not None else None}
    with ingest_session(db, SOURCE, source.endpoint, config, options) as session:
        items = items_to_ask_about(session, db, options, domain)
        askable = safe_items(items, session.quarantine, source.endpoint)
        kept = 0
        # An object's labels come with every row that names it, so each batch alone
        # chooses the same name for it as the whole result would.
        for facts in fetch_batches(client, askable, session.quarantine, source):
            kept += write_facts(session, facts.triples, items, choose_labels(facts.labels))
        stats = client.stats
        session.notes.append(
            f"{kept} facts of {len(askable)} items from {source.endpoint}: "
            f"{stats.requests} HTTP requests ({stats.failed_attempts} failed), "
            f"{stats.cache_hits} answers from the cache in {source.cache_dir}"
        )
    return session.report()
