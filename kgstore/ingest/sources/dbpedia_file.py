"""`kgctl ingest dbpedia --file`: N-Triples or Turtle (plain or .gz) read with rdflib.

N-Triples are parsed in chunks of lines; a chunk that fails is re-parsed line by line,
so each invalid line is quarantined with its number and every valid one is kept. Turtle
cannot be split safely, so a Turtle file with a syntax error is rejected as a whole
with rdflib's message (which names the line).
"""

from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.exceptions import ParserError

from kgstore.db import Database
from kgstore.errors import SourceFileError
from kgstore.graph.mapping import RDFS_LABEL, Domain
from kgstore.ingest.quarantine import Quarantine
from kgstore.ingest.session import IngestOptions, IngestReport, ingest_session
from kgstore.ingest.sources.dbpedia import (
    LabelCandidate,
    Triple,
    choose_labels,
    items_to_ask_about,
    write_facts,
)
from kgstore.ingest.sources.readers import GZIP_ERRORS, corrupt_stream, numbered_lines, open_binary

CHUNK_LINES = 5000
SOURCE = "dbpedia-file"


def _rdf_format(path: Path) -> str:
    name = path.name.removesuffix(".gz")
    if name.endswith(".nt"):
        return "nt"
    if name.endswith(".ttl"):
        return "turtle"
    raise SourceFileError(f"{path}: expected .nt or .ttl (optionally .gz)")


def _graph_triples(graph: Graph) -> Iterator[tuple[str, str, str | Literal]]:
    for subject, predicate, obj in graph:
        if isinstance(obj, Literal | URIRef):  # blank nodes carry no DBpedia fact
            yield str(subject), str(predicate), obj if isinstance(obj, Literal) else str(obj)


def _parse_ntriples(path: Path, quarantine: Quarantine) -> Iterator[tuple[str, str, object]]:
    lines = numbered_lines(path, quarantine)
    while chunk := list(islice(lines, CHUNK_LINES)):
        graph = Graph()
        try:
            graph.parse(data="\n".join(text for _, text in chunk), format="nt")
        except (ParserError, ValueError, SyntaxError):
            graph = Graph()
            for line_no, text in chunk:
                try:
                    graph.parse(data=text, format="nt")
                except (ParserError, ValueError, SyntaxError) as exc:
                    quarantine.reject(path, line_no, f"invalid N-Triples: {exc}", text)
        quarantine.accepted(len(graph))
        yield from _graph_triples(graph)


def _parse_turtle(path: Path, quarantine: Quarantine) -> Iterator[tuple[str, str, object]]:
    graph = Graph()
    with open_binary(path) as handle:
        try:
            graph.parse(handle, format="turtle")
        except GZIP_ERRORS as exc:
            raise corrupt_stream(path, None, exc) from None
        except Exception as exc:  # rdflib raises several types; the message names the line
            quarantine.reject(path, None, f"invalid Turtle: {exc}")
            return
    quarantine.accepted(len(graph))
    yield from _graph_triples(graph)


def read_rdf(path: Path, quarantine: Quarantine) -> tuple[list[Triple], dict[str, str]]:
    """IRI-object triples and the rdfs:labels `choose_labels` picks of a file."""
    parse = _parse_ntriples if _rdf_format(path) == "nt" else _parse_turtle
    triples: list[Triple] = []
    labels: list[LabelCandidate] = []
    for subject, predicate, obj in parse(path, quarantine):
        if predicate == RDFS_LABEL and isinstance(obj, Literal):
            labels.append((subject, str(obj), obj.language))
        elif isinstance(obj, str) and not isinstance(obj, Literal):
            triples.append((subject, predicate, obj))
    return triples, choose_labels(labels)


def ingest_dbpedia_file(
    db: Database, path: Path, options: IngestOptions, domain: Domain | None = None
) -> IngestReport:
    """Ingest the mapped facts of a file about the items (of `domain`, or all) already
    linked to DBpedia."""
    config = {"file": str(path), "domain": domain.value if domain is not None else None}
    with ingest_session(db, SOURCE, path.name, config, options) as session:
        triples, labels = read_rdf(path, session.quarantine)
        items = items_to_ask_about(session, db, options, domain)
        kept = write_facts(session, triples, items, labels)
        session.notes.append(f"{kept} of {len(triples)} IRI triples were mapped facts of items")
    return session.report()
