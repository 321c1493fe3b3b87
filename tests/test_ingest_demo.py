"""The bundled demo: the generator (deterministic, planted groups, personas and session
intent, fit for leave-one-out, at any size, films and books, and the scale generator)
and `ingest demo` / `ingest demo-scale` into the real Neo4j."""

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
from kgstore.demo.books import BOOKS
from kgstore.demo.catalogue import CatalogueSpec, DemoItem
from kgstore.demo.films import DEMO_FILMS, FILMS, film_item_id
from kgstore.demo.ingest import demo_sequences, ingest_demo, ingest_scale
from kgstore.demo.scale import BOOKS_SHAPE, ScaleShape, scale_catalogue, scale_users
from kgstore.demo.users import SESSION_GAP_S, DemoConfig, DemoUser
from kgstore.demo.users import generate_users as generate
from kgstore.errors import DemoConfigError
from kgstore.graph.mapping import BY_DBPEDIA_PREDICATE, Domain
from kgstore.graph.runs import RunKind, list_runs
from kgstore.graph.sequences import read_sequences
from kgstore.ingest.quarantine import Quarantine
from kgstore.ingest.session import IngestOptions
from kgstore.ingest.sources.dbpedia_file import read_rdf
from kgstore.paths import PROJECT_ROOT
from kgstore.settings import Settings
from kgstore.stats import graph_stats
from tests.ingest_checks import count, rated, run_kgctl

SMALL = DemoConfig(seed=11, users=300)
DBR = "http://dbpedia.org/resource/"


def generate_users(
    items: list[DemoItem], config: DemoConfig, spec: CatalogueSpec = FILMS
) -> list[DemoUser]:
    return generate(items, spec.persona_relations, config, spec.user_prefix)


def canonical(users: list[DemoUser]) -> bytes:
    """Every user's group, persona and interactions as one byte string."""
    return json.dumps(
        [
            [user.id, user.group, user.persona.to_json(), [asdict(step) for step in user.steps]]
            for user in users
        ],
        sort_keys=True,
    ).encode()


def catalogue(spec: CatalogueSpec) -> list[DemoItem]:
    return spec.items_from_triples(read_rdf(spec.path, Quarantine(Path(os.devnull)))[0])


@pytest.fixture(scope="module")
def films() -> list[DemoItem]:
    return catalogue(FILMS)


@pytest.fixture(scope="module")
def books() -> list[DemoItem]:
    return catalogue(BOOKS)


@pytest.fixture(scope="module")
def users(films: list[DemoItem]) -> list[DemoUser]:
    return generate_users(films, SMALL)


def entities(film: DemoItem) -> set[str]:
    return {entity for _, entity in film.facts}


def test_films_are_the_real_dbpedia_films_with_titles_and_descriptions(
    films: list[DemoItem],
) -> None:
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
    films: list[DemoItem], users: list[DemoUser]
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
        "from kgstore.ingest.sources.dbpedia_file import read_rdf; "
        "from kgstore.ingest.quarantine import Quarantine; "
        "from kgstore.demo.users import DemoConfig; "
        "from kgstore.demo.films import DEMO_FILMS, films_from_triples; "
        "from tests.test_ingest_demo import canonical, generate_users; "
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


def test_interactions_follow_the_planted_persona(
    films: list[DemoItem], users: list[DemoUser]
) -> None:
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
    films: list[DemoItem], users: list[DemoUser]
) -> None:
    """Within a session consecutive items share an entity far more often than two films
    at random, and clearly more often than the last item of a session and the first of
    the next (which share only the long-term persona)."""
    by_id = {film.item_id: film for film in films}

    def share(a: DemoItem, b: DemoItem) -> bool:
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


def test_persona_themes_come_from_the_graph(films: list[DemoItem], users: list[DemoUser]) -> None:
    facts = Counter(fact for film in films for fact in film.facts)
    for user in users:
        persona = json.loads(user.persona.to_json())["themes"]
        assert 2 <= len(persona) <= 4
        assert abs(sum(theme["weight"] for theme in persona) - 1) < 0.01
        for theme in persona:
            assert facts[(theme["relation"], theme["entity"])] >= SMALL.min_theme_items


def predicate_counts(path: Path) -> Counter[str]:
    """Relationship type -> facts in the file, counted from the raw lines."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        predicates = Counter(line.split(" ", 2)[1].strip("<>") for line in lines if line.strip())
    return Counter({BY_DBPEDIA_PREDICATE[p].rel_type: n for p, n in predicates.items()})


def test_ingest_demo_stores_what_was_generated_and_rerunning_changes_nothing(
    empty_graph: Database,
    settings: Settings,
    ingest_options: IngestOptions,
    films: list[DemoItem],
    tmp_path: Path,
) -> None:
    config = DemoConfig(seed=5, users=40, min_interactions=4, max_interactions=12)
    expected = generate_users(films, config)
    report = ingest_demo(empty_graph, config, ingest_options)

    ratings = sum(len(user.steps) for user in expected)
    assert (report.items, report.users, report.ratings) == (3084, 40, ratings)
    assert report.interactions.records == ratings  # the interactions run reads interactions
    # `kgctl runs` shows each run's seconds and rate as the command printed them (the
    # interactions report is not timed again once the facts run is over), its domain, and
    # the interactions run as what it is, not as a second ingest of the file.
    listed = {run.id: run for run in list_runs(empty_graph, RunKind.INGEST)}
    for printed in report.reports:
        run = listed[printed.run]
        assert (run.domain, run.seconds) == ("movies", printed.seconds)
        assert run.metrics["relationshipsPerSecond"] == round(printed.relationships_per_second)
    assert [listed[r.run].source_file for r in report.reports] == [
        "generated users, items of films.nt.gz",
        "films.nt.gz",
    ]
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
    personas = empty_graph.query(
        "MATCH (u:User) RETURN u.id AS id, u.plantedPersona AS persona, u.plantedGroup AS group"
    )
    assert {row["id"]: (row["persona"], row["group"]) for row in personas} == {
        user.id: (user.persona.to_json(), user.group) for user in expected
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
    # The rerun adds only its runs' bookkeeping: Run nodes and undo records.
    bookkeeping = ("Run", "IngestUndo")
    assert {k: v for k, v in again.labels.items() if k not in bookkeeping} == {
        k: v for k, v in stored.labels.items() if k not in bookkeeping
    }
    assert again.relationship_types == stored.relationship_types


# --- any seed and size; planted groups; books; the scale generator -------------------


def check_properties(users: list[DemoUser], config: DemoConfig, items: list[DemoItem]) -> None:
    """The documented properties: sizes, leave-one-out, planted persona and group."""
    catalogue_ids = {item.item_id for item in items}
    assert len(users) == config.users
    assert len({user.id for user in users}) == config.users
    for user in users:
        steps = user.steps
        assert config.min_interactions <= len(steps) <= config.max_interactions
        assert [step.pos for step in steps] == list(range(len(steps)))
        assert all(a.ts < b.ts for a, b in pairwise(steps))
        assert len({step.item for step in steps}) == len(steps) <= len(catalogue_ids)
        assert {step.item for step in steps} <= catalogue_ids
        assert 0 <= user.group < config.groups
        assert all(weight > 0 for weight in user.persona.weights)
        assert abs(sum(user.persona.weights) - 1) < 1e-9
    if config.total_interactions is not None:
        assert sum(len(user.steps) for user in users) == config.total_interactions


@pytest.mark.parametrize(
    ("users", "seeds"), [(2_500, range(3)), (5_000, (1, 7)), (10_000, (3,)), (30_000, (5,))]
)
def test_sizes_that_used_to_fail_finish_with_their_properties(
    films: list[DemoItem], users: int, seeds: range
) -> None:
    """--users 2,500 / 5,000 / 10,000 / 30,000 stopped on a zero persona weight."""
    for seed in seeds:
        config = DemoConfig(seed=seed, users=users, min_interactions=3, max_interactions=8)
        check_properties(generate_users(films, config), config, films)


def test_many_seeds_and_group_counts_in_both_domains(
    films: list[DemoItem], books: list[DemoItem]
) -> None:
    for spec, items in ((FILMS, films), (BOOKS, books)):
        for seed in range(8):
            config = DemoConfig(seed=seed, users=200, groups=1 + seed)
            check_properties(generate_users(items, config, spec), config, items)


def test_fifty_thousand_users(books: list[DemoItem]) -> None:
    big = DemoConfig(seed=99, users=50_000, min_interactions=3, max_interactions=5)
    users = generate_users(books, big, BOOKS)
    check_properties(users, big, books)
    assert users[-1].id == "demo-reader-49999"
    assert len({user.group for user in users}) == big.groups


def test_a_near_full_history_and_an_exact_total_still_finish(films: list[DemoItem]) -> None:
    """Histories of every film but a few (the popularity draw falls back to the first
    unseen item), and lengths steered to an exact total."""
    small = films[:40]
    config = DemoConfig(
        seed=1, users=20, min_interactions=35, max_interactions=40, min_theme_items=1, groups=2
    )
    check_properties(generate_users(small, config), config, small)
    exact = DemoConfig(
        seed=2, users=301, min_interactions=3, max_interactions=9, total_interactions=1_777
    )
    check_properties(generate_users(films, exact), exact, films)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"min_interactions": 2}, "at least 3"),
        ({"min_interactions": 10, "max_interactions": 5}, "max_interactions must be at least"),
        ({"users": 0}, "users must be at least 1"),
        ({"groups": 0}, "groups must be at least 1"),
        ({"noise": 1.5}, "noise must be between 0 and 1"),
        ({"users": 10, "total_interactions": 1_000}, "cannot be split among 10 users"),
    ],
)
def test_config_refuses_what_cannot_be_generated(changes: dict, message: str) -> None:
    with pytest.raises(DemoConfigError, match=message):
        DemoConfig(**changes)


def test_catalogue_refuses_what_it_cannot_hold(films: list[DemoItem]) -> None:
    with pytest.raises(DemoConfigError, match="max_interactions 4000 is more than the 3,084"):
        generate_users(films, DemoConfig(min_interactions=3999, max_interactions=4000))
    with pytest.raises(DemoConfigError, match="no entity has 10000 items"):
        generate_users(films, DemoConfig(min_theme_items=10_000))
    with pytest.raises(DemoConfigError, match="groups 5000 is more than the 1,100 themes"):
        generate_users(films, DemoConfig(groups=5_000))


def group_overlap(users: list[DemoUser], items: list[DemoItem]) -> tuple[float, float]:
    """Mean Jaccard overlap of the KG entity sets two users reach through their items,
    for pairs of one group and of two groups. Hubs (entities of 1% of the items or
    more: a distributor, a language) are left out: they say nothing about a taste."""
    degree = Counter(entity for item in items for _, entity in item.facts)
    hub = len(items) / 100
    reached_by_item = {
        item.item_id: {entity for _, entity in item.facts if degree[entity] < hub} for item in items
    }
    reached = [set().union(*(reached_by_item[step.item] for step in u.steps)) for u in users]
    rng = random.Random(0)
    overlaps: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(20_000):
        a, b = rng.sample(range(len(users)), 2)
        union = reached[a] | reached[b]
        jaccard = len(reached[a] & reached[b]) / len(union) if union else 0.0
        overlaps[users[a].group == users[b].group].append(jaccard)
    return tuple(sum(values) / len(values) for values in (overlaps[True], overlaps[False]))


def test_users_of_one_group_reach_the_same_entities_far_more(
    films: list[DemoItem], books: list[DemoItem]
) -> None:
    config = DemoConfig(users=1_500)
    for spec, items in ((FILMS, films), (BOOKS, books)):
        same, different = group_overlap(generate_users(items, config, spec), items)
        assert same > 2 * different, (spec.domain, same, different)
    scale = ScaleShape(users=1_500, items=1_200, interactions=15_000, triples=12_000)
    items = scale_catalogue(scale)
    same, different = group_overlap(list(scale_users(scale, items)), items)
    assert same > 4 * different


def test_books_are_the_real_dbpedia_books(books: list[DemoItem]) -> None:
    assert len(books) == 9367
    river = next(book for book in books if book.uri == DBR + "Cane_River_(novel)")
    assert river.item_id == BOOKS.item_id(river.uri)
    assert river.item_id.startswith("book-")
    assert river.title == "Cane River"
    assert river.description.startswith("By Lalita Tademy.")


def test_scale_generator_makes_exactly_the_shape_asked_for() -> None:
    shape = ScaleShape(users=700, items=500, interactions=7_001, triples=4_999, seed=3)
    items = scale_catalogue(shape)
    users = list(scale_users(shape, items))
    assert len(items) == 500
    assert sum(len(item.facts) for item in items) == 4_999
    check_properties(users, shape.demo_config(), items)
    assert sum(len(user.steps) for user in users) == 7_001
    assert users[0].id == "scale-user-00000" and items[0].item_id == "scale-book-000"
    again = list(scale_users(shape, scale_catalogue(shape)))
    assert canonical(again) == canonical(users)
    assert BOOKS_SHAPE.times(2).interactions == 230_000
    with pytest.raises(DemoConfigError, match="fewer than 3 per user"):
        scale_catalogue(ScaleShape(users=100, items=50, interactions=200, triples=100))
    with pytest.raises(DemoConfigError, match="triples must be between"):
        scale_catalogue(ScaleShape(users=10, items=50, interactions=50, triples=10_000))


def test_ingest_demo_books_and_a_bad_configuration_exits_2(
    empty_graph: Database,
    settings: Settings,
    ingest_options: IngestOptions,
    books: list[DemoItem],
    tmp_path: Path,
) -> None:
    config = DemoConfig(seed=4, users=30, min_interactions=4, max_interactions=10)
    expected = generate_users(books, config, BOOKS)
    report = ingest_demo(empty_graph, config, ingest_options, BOOKS)
    ratings = sum(len(user.steps) for user in expected)
    assert (report.domain, report.items, report.users, report.ratings) == (
        "books",
        9367,
        30,
        ratings,
    )
    assert count(empty_graph, "MATCH (i:Item:Book) RETURN count(i) AS c") == 9367
    assert count(empty_graph, "MATCH (i:Item:Movie) RETURN count(i) AS c") == 0
    assert read_sequences(empty_graph, Domain.BOOKS) == demo_sequences(expected)
    groups = empty_graph.query("MATCH (u:User) RETURN u.id AS id, u.plantedGroup AS group")
    assert {row["id"]: row["group"] for row in groups} == {u.id: u.group for u in expected}
    assert (
        count(
            empty_graph,
            "MATCH (:Book {title: 'Cane River'})-[:AUTHORED_BY]->(p:Person {uri: $uri}) "
            "RETURN count(p) AS c",
            uri=DBR + "Lalita_Tademy",
        )
        == 1
    )
    args = ["ingest", "demo", "--domain", "books", "--groups", "100000"]
    log = tmp_path / "kgctl.log"
    assert run_kgctl(settings, *args, output=log) == 2
    assert "groups 100000 is more than the" in log.read_text()
    assert "Traceback" not in log.read_text()


def test_ingest_demo_scale_writes_the_shape(
    empty_graph: Database, ingest_options: IngestOptions
) -> None:
    shape = ScaleShape(users=300, items=250, interactions=3_000, triples=2_000, seed=2)
    report = ingest_scale(empty_graph, shape, ingest_options)
    assert (report.items, report.users, report.ratings) == (250, 300, 3_000)
    assert count(empty_graph, "MATCH (i:Item:Book) RETURN count(i) AS c") == 250
    assert count(empty_graph, "MATCH (:User)-[r:RATED]->() RETURN count(r) AS c") == 3_000
    assert count(empty_graph, "MATCH (:Item)-[r]->(:Entity) RETURN count(r) AS c") == 2_000
    assert (
        count(empty_graph, "MATCH (u:User) WHERE u.plantedGroup IS NULL RETURN count(u) AS c") == 0
    )
