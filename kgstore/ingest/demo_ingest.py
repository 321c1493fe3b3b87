"""`kgctl ingest demo`: the bundled demo data set into the graph.

Two ingest runs: first the films as items, the generated users (with their planted
persona) and their `RATED {rating, ts, pos}` interactions; then the DBpedia facts of the
same films file through the ordinary `ingest_dbpedia_file`, exactly as a user's own
`kgctl ingest dbpedia --file` would store them. Both are MERGEs, so running the demo
ingest again with the same seed and sizes changes nothing.
"""

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from neo4j import Driver
from tqdm import tqdm

from kgstore.ingest.dbpedia_file import ingest_dbpedia_file, read_rdf
from kgstore.ingest.demo import DemoConfig, DemoUser, generate_users
from kgstore.ingest.demo_films import DEMO_FILMS, Film, films_from_triples
from kgstore.ingest.mapping import BY_TYPE, Domain
from kgstore.ingest.session import IngestOptions, IngestSession, ingest_session
from kgstore.settings import Settings

SOURCE = "demo"
RATED = BY_TYPE["RATED"]


@dataclass(frozen=True)
class DemoReport:
    """The two ingest reports, and what the generator made."""

    interactions: dict[str, Any]
    facts: dict[str, Any]
    films: int
    users: int
    ratings: int


def write_demo(session: IngestSession, films: list[Film], users: list[DemoUser]) -> None:
    """Items, users with `plantedPersona`, and their interactions through the writer."""
    writer = session.writer
    for film in films:
        writer.item(
            film.item_id,
            Domain.MOVIES.label,
            {"uri": film.uri, "title": film.title, "description": film.description},
        )
    for user in tqdm(users, desc="demo users", unit="user", leave=False):
        writer.node("User", user.id, {"plantedPersona": user.persona.to_json()})
        for step in user.interactions:
            props = {"rating": step.rating, "ts": step.ts, "pos": step.pos}
            writer.relationship(RATED, user.id, step.item, props)


def ingest_demo(
    driver: Driver,
    settings: Settings,
    config: DemoConfig,
    options: IngestOptions,
    path: Path = DEMO_FILMS,
) -> DemoReport:
    """Generate the demo for `config` from the films of `path` and store it."""
    config_record = {**asdict(config), "file": str(path)}
    with ingest_session(driver, settings, SOURCE, path.name, config_record, options) as session:
        triples, _ = read_rdf(path, session.quarantine)
        films = films_from_triples(triples)
        users = generate_users(films, config)
        write_demo(session, films, users)
        session.notes.append(
            "sessions: a gap of a day or more between two interactions of a user; "
            "the planted persona is the user's plantedPersona property"
        )
    facts = ingest_dbpedia_file(driver, settings, path, options)
    return DemoReport(
        interactions=session.report(),
        facts=facts,
        films=len(films),
        users=len(users),
        ratings=sum(len(user.interactions) for user in users),
    )
