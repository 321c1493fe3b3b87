"""Personas and preference keywords per (user, domain): users who rate in two domains (as
Amazon reviewer ids do across categories) keep each domain's persona when the other
domain trains, each domain's grid reads its own run's personas, and `db clear --domain`
removes only that domain's. Planted sequences (tests.recsys_planted) in both domains,
shifted so that a third of the users rate in both; HDGI trains on them in seconds."""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.errors import PersonaError
from kgstore.generation.pipeline import generate_keywords
from kgstore.graph.clear import clear_domain
from kgstore.graph.dense_idx import assign_dense_indices
from kgstore.graph.mapping import Domain
from kgstore.graph.user_properties import keywords_property
from kgstore.personas import runner
from kgstore.personas.infer import infer_personas, session_encoder
from kgstore.personas.runner import PersonaReport
from kgstore.personas.similar import nearest_users, similar_users
from kgstore.recsys.grid import ANONYMOUS, GridConfig, grid_slices, prepare_grid
from kgstore.recsys.inputs import Personas, load_split, persona_vectors
from kgstore.settings import Settings
from kgstore.train.hdgi import HDGIConfig
from kgstore.train.sasrec import SASRecConfig
from tests.ingest_checks import run_kgctl
from tests.recsys_planted import DIMENSION, planted_sequences

pytestmark = pytest.mark.slow

USERS = 150
SHIFT = 100
"""Books users are the movies users shifted by this many: users SHIFT..USERS-1 rate both."""
CONFIG = HDGIConfig(hidden=16, epochs=5)
GRID = GridConfig(
    rows=("none/random", "kg/random"), seeds=1, rerank="", sasrec=SASRecConfig(max_len=5)
)


def no_embedder():
    raise AssertionError("no row has user llm: the embedder must not be built")


def domain_sequences(domain: Domain) -> dict[str, list[str]]:
    """The planted sequences of `domain`: its own item ids, users shifted for books."""
    shift = SHIFT if domain is Domain.BOOKS else 0
    sequences = planted_sequences(True, USERS, seed=shift)
    return {
        f"u{int(user[1:]) + shift:04d}": [f"{domain.value}-{item}" for item in items]
        for user, items in sequences.items()
    }


def write_domain(db: Database, domain: Domain) -> None:
    sequences = domain_sequences(domain)
    rng = np.random.default_rng(len(domain.value))
    items = sorted({item for sequence in sequences.values() for item in sequence})
    db.query(
        f"UNWIND $items AS item CREATE (i:Item:{domain.label} {{id: item.id}}) "
        "SET i.title = item.id, i.textEmbedding = item.x, i.textEmbeddingModel = 'test-random'",
        items=[{"id": item, "x": rng.normal(size=DIMENSION).tolist()} for item in items],
    )
    db.query(
        "UNWIND $rows AS row MERGE (u:User {id: row.user}) WITH u, row "
        "UNWIND range(0, size(row.items) - 1) AS pos MATCH (i:Item {id: row.items[pos]}) "
        "MERGE (u)-[:RATED {pos: pos, ts: pos, rating: 4.0, orderAssumed: false}]->(i)",
        rows=[{"user": user, "items": items} for user, items in sequences.items()],
    )


@dataclass
class TwoDomains:
    db: Database
    store: ArtifactStore
    movies: PersonaReport
    books: PersonaReport
    before: Personas
    """The movies grid's personas read before books trained."""


@pytest.fixture
def written(empty_graph: Database) -> Database:
    """Movies and books sharing users, nothing trained."""
    for domain in Domain:
        write_domain(empty_graph, domain)
    assign_dense_indices(empty_graph)
    return empty_graph


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory) -> ArtifactStore:
    return ArtifactStore(str(tmp_path_factory.mktemp("artifacts")))


def movies_personas(db: Database, store: ArtifactStore) -> Personas:
    """What the movies grid reads as personas."""
    personas = prepare_grid(db, store, Domain.MOVIES, GRID, no_embedder).personas
    assert personas is not None
    return personas


@pytest.fixture
def two_domains(written: Database, store: ArtifactStore) -> TwoDomains:
    """HDGI trained on movies, then on books."""
    movies = runner.train_personas(written, store, Domain.MOVIES, CONFIG)
    before = movies_personas(written, store)
    books = runner.train_personas(written, store, Domain.BOOKS, CONFIG)
    return TwoDomains(written, store, movies, books, before)


def shared_trained_users(graph: TwoDomains) -> set[str]:
    """Users both persona runs trained on (the ones an overwrite would hit)."""
    books = persona_vectors(
        graph.db, graph.store, Domain.BOOKS, load_split(graph.db, Domain.BOOKS, 5, 20)
    )
    return set(graph.before.encoder.snapshot.users) & set(books.encoder.snapshot.users)


def test_training_another_domain_keeps_the_personas_the_grid_reads(
    two_domains: TwoDomains,
) -> None:
    """After books trains, the movies grid reads the movies run's personas bit for bit,
    infers only the users held out of the movies run, and its anonymous-session slice is
    exactly those users."""
    graph = two_domains
    assert len(shared_trained_users(graph)) > 30  # there was something to overwrite
    inputs = prepare_grid(graph.db, graph.store, Domain.MOVIES, GRID, no_embedder)
    after = inputs.personas
    assert after is not None and after.run == graph.movies.run
    assert torch.equal(after.vectors, graph.before.vectors)
    assert torch.equal(inputs.user_vectors["kg"], graph.before.vectors)
    held_out = set(after.encoder.snapshot.held_out_users)
    assert after.inferred == held_out & set(inputs.split.vocabulary.users)
    test_users = inputs.split.vocabulary.users
    anonymous = {
        test_users[int(inputs.split.data.test.users[position])]
        for position in grid_slices(inputs, GRID)[ANONYMOUS].tolist()
    }
    assert anonymous == held_out


def test_similar_users_read_the_asked_domain(
    two_domains: TwoDomains, settings: Settings, tmp_path: Path
) -> None:
    graph = two_domains
    user = sorted(shared_trained_users(graph))[0]
    with pytest.raises(PersonaError, match="has personas of movies and books: give --domain"):
        similar_users(graph.db, user, 5)
    movies = similar_users(graph.db, user, 5, Domain.MOVIES)
    books = similar_users(graph.db, user, 5, Domain.BOOKS)
    assert (movies.run, books.run) == (graph.movies.run, graph.books.run)
    movie_raters = {f"u{number:04d}" for number in range(USERS)}
    assert {n.user for n in movies.neighbours} <= movie_raters
    assert {n.user for n in books.neighbours} <= {f"u{n + SHIFT:04d}" for n in range(USERS)}
    with pytest.raises(PersonaError, match=f"personas are of run {graph.books.run}, not x"):
        nearest_users(graph.db, Domain.BOOKS, "x", np.ones(CONFIG.hidden), 3)

    log = tmp_path / "kgctl.log"
    args = ("personas", "similar", user, "-k", "3")
    assert run_kgctl(settings, *args, "--domain", "books", output=log) == 0, log.read_text()
    assert f"books personas of run {graph.books.run}" in log.read_text()
    assert run_kgctl(settings, *args, output=log) == 2
    assert "give --domain" in log.read_text()


def test_a_session_persona_comes_from_its_items_domain(
    two_domains: TwoDomains, settings: Settings, tmp_path: Path
) -> None:
    """`personas infer` reads the session's domain from its items: movies items get the
    movies run's persona although books trained last. A session mixing domains, naming
    items the graph lacks, or given another domain's run is refused, saying why."""
    graph = two_domains
    movies = domain_sequences(Domain.MOVIES)["u0000"][:3]
    books = domain_sequences(Domain.BOOKS)[f"u{SHIFT:04d}"][:2]
    encoder = session_encoder(graph.db, graph.store, movies)
    assert (encoder.run, encoder.snapshot.domain) == (graph.movies.run, "movies")
    assert session_encoder(graph.db, graph.store, books).run == graph.books.run
    mixed = [movies[0], *books, *movies[1:]]
    each = f"movies: {', '.join(movies)}; books: {', '.join(books)}"
    with pytest.raises(PersonaError, match=rf"^the session mixes domains \({each}\)"):
        session_encoder(graph.db, graph.store, mixed)
    with pytest.raises(PersonaError, match=r"1 item\(s\) not in the graph .*: no-such-item$"):
        session_encoder(graph.db, graph.store, [*movies, "no-such-item"])
    with pytest.raises(PersonaError, match="the session's items are books items, not movies"):
        session_encoder(graph.db, graph.store, books, domain=Domain.MOVIES)
    with pytest.raises(PersonaError, match=f"run {graph.movies.run} learned movies personas"):
        session_encoder(graph.db, graph.store, books, run=graph.movies.run)
    with pytest.raises(PersonaError, match=r"^the session: none of its items"):
        infer_personas(encoder, [books])

    log = tmp_path / "infer.log"
    artifacts = {"KGSTORE_ARTIFACTS": graph.store.url}
    code = run_kgctl(settings, "personas", "infer", *movies, "--json", output=log, **artifacts)
    assert code == 0, log.read_text()
    printed = json.loads(log.read_text().splitlines()[-1])
    assert printed["run"] == graph.movies.run
    assert np.allclose(printed["persona"], infer_personas(encoder, [movies])[0], atol=1e-6)
    log.write_text("")
    assert run_kgctl(settings, "personas", "infer", *mixed, output=log, **artifacts) == 2
    assert f"the session mixes domains ({each})" in log.read_text()


def keywords_of(db: Database, users: list[str]) -> list[dict[str, str | None]]:
    """Each user's movies and books preference keywords, by id."""
    return db.query(
        "MATCH (u:User) WHERE u.id IN $ids RETURN u.id AS id, u[$movies] AS movies, "
        "u[$books] AS books ORDER BY id",
        ids=users,
        movies=keywords_property(Domain.MOVIES),
        books=keywords_property(Domain.BOOKS),
    )


def test_clearing_a_domain_keeps_the_other_domains_personas_and_keywords(
    two_domains: TwoDomains,
) -> None:
    graph = two_domains
    for domain in Domain:
        generate_keywords(graph.db, None, domain)
    shared = sorted(shared_trained_users(graph))
    before = keywords_of(graph.db, shared)
    assert all(row["movies"] and row["books"] and row["movies"] != row["books"] for row in before)

    cleared = clear_domain(graph.db, Domain.BOOKS)

    assert keywords_of(graph.db, shared) == [{**row, "books": None} for row in before]
    [left] = graph.db.query(
        "MATCH (u:User) UNWIND keys(u) AS key WITH DISTINCT key "
        "WHERE key STARTS WITH 'persona_books' OR key STARTS WITH $books "
        "RETURN collect(key) AS keys",
        books=keywords_property(Domain.BOOKS),
    )
    assert left["keys"] == []
    after = persona_vectors(
        graph.db, graph.store, Domain.MOVIES, load_split(graph.db, Domain.MOVIES, 5, 20)
    )
    assert after.run == graph.movies.run and torch.equal(after.vectors, graph.before.vectors)
    assert cleared.users_stripped == USERS - SHIFT  # the users who also rate movies


OLD_STYLE = (
    "MATCH (u:User) WHERE u.persona_movies IS NOT NULL "
    "SET u.persona = u.persona_movies, u.personaRun = u.persona_movies_run, "
    "u.personaDomain = 'movies' REMOVE u.persona_movies, u.persona_movies_run"
)
"""The movies personas as a kgstore before per-domain personas stored them."""


def test_old_single_persona_is_refused_then_moved_by_the_next_persona_run(
    written: Database, store: ArtifactStore
) -> None:
    movies = runner.train_personas(written, store, Domain.MOVIES, CONFIG)
    before = movies_personas(written, store)
    user = before.encoder.snapshot.users[0]
    written.query(OLD_STYLE)
    written.query("DROP INDEX user_persona_movies")
    written.query(
        "CREATE VECTOR INDEX user_persona IF NOT EXISTS FOR (u:User) ON u.persona "
        "OPTIONS {indexConfig: {`vector.dimensions`: 16, `vector.similarity_function`: 'cosine'}}"
    )
    older = "personas of an older kgstore .*the next `kgctl train hdgi` moves them"
    with pytest.raises(PersonaError, match=f"no longer hold its persona.*{older}"):
        movies_personas(written, store)
    with pytest.raises(PersonaError, match=f"has no persona.*{older}"):
        similar_users(written, user, 5)

    books = runner.train_personas(written, store, Domain.BOOKS, CONFIG)

    assert books.migrated == {"movies": movies.users}
    assert torch.equal(movies_personas(written, store).vectors, before.vectors)
    assert similar_users(written, user, 5, Domain.MOVIES).run == movies.run
    [left] = written.query(
        "MATCH (u:User) WHERE u.persona IS NOT NULL OR u.personaRun IS NOT NULL "
        "OR u.personaDomain IS NOT NULL RETURN count(u) AS n"
    )
    assert left["n"] == 0
    assert not written.query("SHOW INDEXES YIELD name WHERE name = 'user_persona' RETURN name")

    # a user the movies run trained on who lost its persona (the old overwrite did that)
    written.query("MATCH (u:User {id: $id}) REMOVE u.persona_movies", id=user)
    with pytest.raises(PersonaError, match=f"1 movies users the persona run {movies.run} "):
        movies_personas(written, store)
