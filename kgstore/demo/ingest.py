"""`kgctl ingest demo` and `kgctl ingest demo-scale`: generated users into the graph.

The demo (`ingest_demo`, one domain per call: films or books) is two ingest runs: first
the catalogue's items, the generated users (with `plantedPersona` and `plantedGroup`)
and their `RATED {rating, ts, pos}` interactions (its `sourceFile` says "generated users,
items of films.nt.gz", so `kgctl runs` does not list it as a second ingest of the file);
then the DBpedia facts of the same file, for the items of its domain, through the
ordinary `ingest_dbpedia_file`, exactly as a user's own `kgctl ingest dbpedia --file FILE
--domain DOMAIN` would store them. The scale generator (`ingest_scale`) is one run:
synthetic items, their facts and the users. Users are streamed to the writer in chunks
of `USER_CHUNK`, so the generator's memory does not grow with the user count. All writes
are MERGEs: running the same command again changes nothing.
"""

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from itertools import islice

from kgstore.db import Database
from kgstore.demo.catalogue import CatalogueSpec, DemoItem, display_name
from kgstore.demo.films import FILMS
from kgstore.demo.scale import ScaleShape, scale_catalogue, scale_users
from kgstore.demo.users import DemoConfig, DemoUser, iter_users
from kgstore.graph.mapping import BY_TYPE
from kgstore.graph.sequences import Interaction, Sequences
from kgstore.ingest.quarantine import Quarantine
from kgstore.ingest.session import IngestOptions, IngestReport, IngestSession, ingest_session
from kgstore.ingest.sources.dbpedia_file import ingest_dbpedia_file, read_rdf

SOURCE = "demo"
SCALE_SOURCE = "demo-scale"
USER_CHUNK = 2_000
SESSION_NOTE = (
    "sessions: a gap of a day or more between two interactions of a user; the planted "
    "persona and group are the user's plantedPersona and plantedGroup properties"
)


@dataclass(frozen=True)
class DemoReport:
    """The ingest reports (the facts run is None for the scale generator, whose facts
    are written in its one run), and what the generator made."""

    interactions: IngestReport
    facts: IngestReport | None
    domain: str
    items: int
    users: int
    ratings: int

    @property
    def reports(self) -> list[IngestReport]:
        return [report for report in (self.interactions, self.facts) if report is not None]

    @property
    def summary(self) -> str:
        return (
            f"demo {self.domain}: {self.items:,} items, {self.users:,} users, "
            f"{self.ratings:,} interactions"
        )


def demo_sequences(users: Iterable[DemoUser]) -> Sequences:
    """The generated histories as user sequences (already in time order)."""
    return Sequences(
        {
            user.id: [Interaction(user.id, step.item, step.rating, step.ts) for step in user.steps]
            for user in users
        },
        order_assumed=False,
    )


def write_items(session: IngestSession, spec: CatalogueSpec, items: list[DemoItem]) -> None:
    """The catalogue as `Item`s of the spec's domain (a uri only for DBpedia items)."""
    session.check_domain([item.item_id for item in items], spec.domain)
    for item in items:
        props = {"title": item.title, "description": item.description}
        if item.uri is not None:
            props["uri"] = item.uri
        session.writer.item(item.item_id, spec.domain.label, props)


def write_users(session: IngestSession, users: Iterable[DemoUser]) -> tuple[int, int]:
    """Users (with `plantedPersona` and `plantedGroup`) and their sequences, chunk by
    chunk; returns (users, interactions) written."""
    counts = [0, 0]
    stream = iter(users)
    for chunk in iter(lambda: list(islice(stream, USER_CHUNK)), []):
        props = {
            user.id: {"plantedPersona": user.persona.to_json(), "plantedGroup": user.group}
            for user in chunk
        }
        session.write_sequences(demo_sequences(chunk), props)
        ratings = sum(len(user.steps) for user in chunk)
        session.quarantine.accepted(ratings)
        counts[0] += len(chunk)
        counts[1] += ratings
    return counts[0], counts[1]


def ingest_demo(
    db: Database, config: DemoConfig, options: IngestOptions, spec: CatalogueSpec = FILMS
) -> DemoReport:
    """Generate the demo for `config` from the catalogue file of `spec` and store it."""
    config_record = {**asdict(config), "domain": spec.domain.value, "file": str(spec.path)}
    label = f"generated users, items of {spec.path.name}"
    with ingest_session(db, SOURCE, label, config_record, options) as session:
        # The file's own rejects are reported by the facts run below, which reads it
        # again; this run's records are the generated interactions.
        triples, _ = read_rdf(spec.path, Quarantine(session.quarantine.path.with_suffix(".rdf")))
        items = spec.items_from_triples(triples)
        users = iter_users(items, spec.persona_relations, config, spec.user_prefix)
        write_items(session, spec, items)
        user_count, ratings = write_users(session, users)
        session.notes.append(SESSION_NOTE)
    facts = ingest_dbpedia_file(db, spec.path, options, spec.domain)
    return DemoReport(session.report(), facts, spec.domain.value, len(items), user_count, ratings)


def ingest_scale(db: Database, shape: ScaleShape, options: IngestOptions) -> DemoReport:
    """Generate a synthetic graph of `shape` and store it in one run."""
    items = scale_catalogue(shape)
    users = scale_users(shape, items)  # checks the configuration before anything is written
    spec = shape.spec
    config_record = {**asdict(shape), "domain": shape.domain.value}
    with ingest_session(db, SCALE_SOURCE, "(generated)", config_record, options) as session:
        write_items(session, spec, items)
        for item in items:
            for rel_type, entity in item.facts:
                relation = BY_TYPE[rel_type]
                session.writer.relationship(
                    relation, item.item_id, entity, name=display_name(entity)
                )
        user_count, ratings = write_users(session, users)
        session.notes.append(SESSION_NOTE)
    return DemoReport(session.report(), None, shape.domain.value, len(items), user_count, ratings)
