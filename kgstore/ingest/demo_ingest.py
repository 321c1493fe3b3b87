"""`kgctl ingest demo`: the bundled demo data set into the graph.

Two ingest runs: first the films as items, the generated users (with their planted
persona) and their `RATED {rating, ts, pos}` interactions; then the DBpedia facts of the
same films file through the ordinary `ingest_dbpedia_file`, exactly as a user's own
`kgctl ingest dbpedia --file` would store them. Both are MERGEs, so running the demo
ingest again with the same seed and sizes changes nothing.
"""

from dataclasses import asdict, dataclass
from pathlib import Path

from kgstore.db import Database
from kgstore.graph.mapping import Domain
from kgstore.graph.sequences import Interaction, Sequences
from kgstore.ingest.dbpedia_file import ingest_dbpedia_file, read_rdf
from kgstore.ingest.demo_films import DEMO_FILMS, Film, films_from_triples
from kgstore.ingest.demo_users import DemoConfig, DemoUser, generate_users
from kgstore.ingest.quarantine import Quarantine
from kgstore.ingest.session import IngestOptions, IngestReport, IngestSession, ingest_session

SOURCE = "demo"


@dataclass(frozen=True)
class DemoReport:
    """The two ingest reports, and what the generator made."""

    interactions: IngestReport
    facts: IngestReport
    films: int
    users: int
    ratings: int

    @property
    def reports(self) -> list[IngestReport]:
        return [self.interactions, self.facts]

    @property
    def summary(self) -> str:
        return f"demo: {self.films:,} films, {self.users:,} users, {self.ratings:,} interactions"


def demo_sequences(users: list[DemoUser]) -> Sequences:
    """The generated histories as user sequences (already in time order)."""
    return Sequences(
        {
            user.id: [Interaction(user.id, step.item, step.rating, step.ts) for step in user.steps]
            for user in users
        },
        order_assumed=False,
    )


def write_demo(session: IngestSession, films: list[Film], users: list[DemoUser]) -> None:
    """Items, users with `plantedPersona`, and their sequences through the writer."""
    writer = session.writer
    session.check_domain([film.item_id for film in films], Domain.MOVIES)
    for film in films:
        writer.item(
            film.item_id,
            Domain.MOVIES.label,
            {"uri": film.uri, "title": film.title, "description": film.description},
        )
    personas = {user.id: {"plantedPersona": user.persona.to_json()} for user in users}
    session.write_sequences(demo_sequences(users), personas)


def ingest_demo(
    db: Database,
    config: DemoConfig,
    options: IngestOptions,
    path: Path = DEMO_FILMS,
) -> DemoReport:
    """Generate the demo for `config` from the films of `path` and store it."""
    config_record = {**asdict(config), "file": str(path)}
    with ingest_session(db, SOURCE, path.name, config_record, options) as session:
        # The films file's own rejects are reported by the facts run below, which reads it
        # again; this run's records are the generated interactions.
        triples, _ = read_rdf(path, Quarantine(session.quarantine.path.with_suffix(".films")))
        films = films_from_triples(triples)
        users = generate_users(films, config)
        write_demo(session, films, users)
        session.quarantine.accepted(sum(len(user.steps) for user in users))
        session.notes.append(
            "sessions: a gap of a day or more between two interactions of a user; "
            "the planted persona is the user's plantedPersona property"
        )
    facts = ingest_dbpedia_file(db, path, options)
    return DemoReport(
        interactions=session.report(),
        facts=facts,
        films=len(films),
        users=len(users),
        ratings=sum(len(user.steps) for user in users),
    )
