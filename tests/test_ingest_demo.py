"""The bundled demo: the generator (deterministic, planted personas and session intent,
fit for leave-one-out) and `ingest demo` into the real Neo4j."""

import gzip
import hashlib
import json
import os
import random
import subprocess
import sys
from collections import Counter
from dataclasses import asdict
from itertools import pairwise
from pathlib import Path

import pytest

from kgstore.db import Database
from kgstore.graph.mapping import BY_DBPEDIA_PREDICATE
from kgstore.graph.sequences import read_sequences
from kgstore.ingest.dbpedia_file import read_rdf
from kgstore.ingest.demo_films import DEMO_FILMS, Film, film_item_id, films_from_triples
from kgstore.ingest.demo_ingest import demo_sequences, ingest_demo
from kgstore.ingest.demo_users import SESSION_GAP_S, DemoConfig, DemoUser, generate_users
from kgstore.ingest.quarantine import Quarantine
from kgstore.ingest.session import IngestOptions
from kgstore.paths import PROJECT_ROOT
from kgstore.settings import Settings
from kgstore.stats import graph_stats
from tests.ingest_checks import count, rated, run_kgctl

SMALL = DemoConfig(seed=11, users=300)
DBR = "http://dbpedia.org/resource/"


def canonical(users: list[DemoUser]) -> bytes:
    """Every user's persona and interactions as one byte string."""
    return json.dumps(
        [
            [user.id, user.persona.to_json(), [asdict(step) for step in user.steps]]
            for user in users
        ],
        sort_keys=True,
    ).encode()


@pytest.fixture(scope="module")
def films(tmp_path_factory: pytest.TempPathFactory) -> list[Film]:
    quarantine = Quarantine(tmp_path_factory.mktemp("quarantine") / "films.jsonl")
    triples, _ = read_rdf(DEMO_FILMS, quarantine)
    return films_from_triples(triples)


@pytest.fixture(scope="module")
def users(films: list[Film]) -> list[DemoUser]:
    return generate_users(films, SMALL)


def entities(film: Film) -> set[str]:
    return {entity for _, entity in film.facts}


def test_films_are_the_real_dbpedia_films_with_titles_and_descriptions(films: list[Film]) -> None:
    assert len(films) == 3084
    assert len({film.item_id for film in films}) == 3084
    blazing = next(film for film in films if film.uri == DBR + "Blazing_Saddles")
    assert blazing.item_id == film_item_id(DBR + "Blazing_Saddles")
    assert blazing.title == "Blazing Saddles"
    assert blazing.description == (
        "Directed by Mel Brooks. Written by Andrew Bergman, Richard Pryor. "
        "Starring Cleavon Little, Dom DeLuise, Gene Wilder. Music by John Morris. "
        "Cinematography by Joseph F. Biroc. Distributed by Warner Bros."
    )
    othello = next(film for film in films if film.uri == DBR + "Othello_(1995_film)")
    assert othello.title == "Othello (1995)"


def test_same_seed_same_bytes_other_seed_other_interactions(
    films: list[Film], users: list[DemoUser]
) -> None:
    assert canonical(generate_users(films, SMALL)) == canonical(users)
    other = generate_users(films, DemoConfig(seed=12, users=300))
    assert canonical(other) != canonical(users)
    assert [user.steps for user in other] != [user.steps for user in users]


def test_generation_does_not_depend_on_hash_seed(users: list[DemoUser]) -> None:
    """Another process with another PYTHONHASHSEED (set and dict orders of strings
    change) must generate the very same bytes."""
    script = (
        "import hashlib, sys; from pathlib import Path; "
        "from kgstore.ingest.dbpedia_file import read_rdf; "
        "from kgstore.ingest.quarantine import Quarantine; "
        "from kgstore.ingest.demo_users import DemoConfig, generate_users; "
        "from kgstore.ingest.demo_films import DEMO_FILMS, films_from_triples; "
        "from tests.test_ingest_demo import canonical; "
        "films = films_from_triples(read_rdf(DEMO_FILMS, Quarantine(Path(sys.argv[1])))[0]); "
        "print(hashlib.sha256(canonical(generate_users(films, DemoConfig(seed=11, users=300))))"
        ".hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script, os.devnull],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for hash_seed in ("1", "2")
    }
    assert digests == {hashlib.sha256(canonical(users)).hexdigest()}


def test_interactions_fit_leave_one_out(users: list[DemoUser]) -> None:
    assert len(users) == SMALL.users
    for user in users:
        steps = user.steps
        assert SMALL.min_interactions <= len(steps) <= SMALL.max_interactions
        assert [step.pos for step in steps] == list(range(len(steps)))
        assert all(a.ts < b.ts for a, b in pairwise(steps))
        assert len({step.item for step in steps}) == len(steps), "an item twice"
        assert all(1 <= step.rating <= 5 for step in steps)


def test_sessions_are_separated_by_a_day_or_more(users: list[DemoUser]) -> None:
    for user in users:
        for a, b in pairwise(user.steps):
            assert (b.ts - a.ts >= SESSION_GAP_S[0]) == (b.session != a.session)


def test_interactions_follow_the_planted_persona(films: list[Film], users: list[DemoUser]) -> None:
    """A user's items hit the entities of their own persona far more often than those of
    another user's persona (the persona of the next user)."""
    facts = {film.item_id: set(film.facts) for film in films}

    def hit_rate(pairs: list[tuple[DemoUser, DemoUser]]) -> float:
        hits = [
            any((theme.relation, theme.entity) in facts[step.item] for theme in persona.themes)
            for user, persona in ((user, other.persona) for user, other in pairs)
            for step in user.steps
        ]
        return sum(hits) / len(hits)

    own = hit_rate([(user, user) for user in users])
    others = hit_rate(list(zip(users, users[1:] + users[:1], strict=True)))
    assert own > 0.5
    assert own > 10 * others


def test_last_item_of_a_session_is_predictable_from_the_one_before(
    films: list[Film], users: list[DemoUser]
) -> None:
    """Within a session consecutive items share an entity far more often than two films
    at random, and clearly more often than the last item of a session and the first of
    the next (which share only the long-term persona)."""
    by_id = {film.item_id: film for film in films}

    def share(a: Film, b: Film) -> bool:
        return bool(entities(a) & entities(b))

    def share_rate(same_session: bool) -> float:
        shared = [
            share(by_id[a.item], by_id[b.item])
            for user in users
            for a, b in pairwise(user.steps)
            if (a.session == b.session) == same_session
        ]
        return sum(shared) / len(shared)

    rng = random.Random(0)
    at_random = sum(share(*rng.sample(films, 2)) for _ in range(20_000)) / 20_000
    assert share_rate(True) > 0.6
    assert share_rate(True) > 5 * at_random
    assert share_rate(True) > 2 * share_rate(False)


def test_persona_themes_come_from_the_graph(films: list[Film], users: list[DemoUser]) -> None:
    facts = Counter(fact for film in films for fact in film.facts)
    for user in users:
        persona = json.loads(user.persona.to_json())["themes"]
        assert 2 <= len(persona) <= 4
        assert abs(sum(theme["weight"] for theme in persona) - 1) < 0.01
        for theme in persona:
            assert facts[(theme["relation"], theme["entity"])] >= SMALL.min_theme_films


def test_config_refuses_histories_too_short_for_leave_one_out() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        DemoConfig(min_interactions=2)
    with pytest.raises(ValueError, match="max_interactions"):
        DemoConfig(min_interactions=10, max_interactions=5)


def predicate_counts(path: Path) -> Counter[str]:
    """Relationship type -> facts in the file, counted from the raw lines."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        predicates = Counter(line.split(" ", 2)[1].strip("<>") for line in lines if line.strip())
    return Counter({BY_DBPEDIA_PREDICATE[p].rel_type: n for p, n in predicates.items()})


def test_ingest_demo_stores_what_was_generated_and_rerunning_changes_nothing(
    empty_graph: Database,
    settings: Settings,
    ingest_options: IngestOptions,
    films: list[Film],
    tmp_path: Path,
) -> None:
    config = DemoConfig(seed=5, users=40, min_interactions=4, max_interactions=12)
    expected = generate_users(films, config)
    report = ingest_demo(empty_graph, config, ingest_options)

    ratings = sum(len(user.steps) for user in expected)
    assert (report.films, report.users, report.ratings) == (3084, 40, ratings)
    assert report.interactions.records == ratings  # the interactions run reads interactions
    assert count(empty_graph, "MATCH (u:User) RETURN count(u) AS c") == 40
    assert count(empty_graph, "MATCH (i:Item:Movie) RETURN count(i) AS c") == 3084
    assert count(empty_graph, "MATCH ()-[r:RATED]->() RETURN count(r) AS c") == ratings
    assert rated(empty_graph) == {
        user.id: [
            {"item": s.item, "pos": s.pos, "rating": s.rating, "ts": s.ts, "assumed": False}
            for s in user.steps
        ]
        for user in expected
    }
    assert read_sequences(empty_graph) == demo_sequences(expected)
    personas = empty_graph.query("MATCH (u:User) RETURN u.id AS id, u.plantedPersona AS persona")
    assert {row["id"]: row["persona"] for row in personas} == {
        user.id: user.persona.to_json() for user in expected
    }

    stored = graph_stats(empty_graph)
    facts = predicate_counts(DEMO_FILMS)
    assert {t: n for t, n in stored.relationship_types.items() if t != "RATED"} == facts
    assert (
        count(
            empty_graph,
            "MATCH (:Item {title: 'Blazing Saddles'})-[:DIRECTED_BY]->(p:Person {uri: $uri}) "
            "RETURN count(p) AS c",
            uri=DBR + "Mel_Brooks",
        )
        == 1
    )

    args = ["ingest", "demo", "--seed", "5", "--users", "40"]
    args += ["--min-interactions", "4", "--max-interactions", "12"]
    assert run_kgctl(settings, *args, output=tmp_path / "kgctl.log") == 0
    again = graph_stats(empty_graph)
    assert {k: v for k, v in again.labels.items() if k != "Run"} == {
        k: v for k, v in stored.labels.items() if k != "Run"
    }
    assert again.relationship_types == stored.relationship_types
