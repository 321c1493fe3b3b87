"""`kgctl report` on the real stack: a small planted graph (tests/recsys_planted.py) with
a genre per item pool and each user's planted group, a short persona run and a tiny grid;
the page rendered in headless Chromium (tests/chromium.py) and checked against the runs
it reports. Refusals run against the same Neo4j without that graph; the escaping test
needs no service."""

import base64
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from selenium.webdriver.common.by import By

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.graph.clear import clear_graph
from kgstore.graph.dense_idx import assign_dense_indices
from kgstore.graph.mapping import Domain
from kgstore.graph.runs import RunKind, record_run_end, record_run_start
from kgstore.personas.runner import train_personas
from kgstore.recsys.evaluation import evaluate_grid
from kgstore.recsys.grid import GridConfig
from kgstore.report.gather import RunNode, read_run
from kgstore.report.page import page
from kgstore.report.persona_map import dominant_colour, persona_map, sample_personas
from kgstore.report.sections import table3
from kgstore.schema import apply_schema
from kgstore.settings import Settings
from kgstore.train.hdgi import HDGIConfig
from kgstore.train.sasrec import SASRecConfig
from tests.chromium import artifact_path, headless_chromium
from tests.ingest_checks import run_kgctl
from tests.recsys_planted import DIMENSION, GROUPS, POOL, write_planted

GENRES = ("Film noir", "Heist", "Western", "Satire", "Musical", "Melodrama", "Space opera", "Noir")
"""Pool g's items: genre 2g, every third item 2g + 1 instead, so 2g dominates each user's
ten training items of the pool (at least six of them)."""
GRID = GridConfig(
    rows=("none/random", "kg/random"),
    seeds=2,
    rerank="kg/random",
    sasrec=SASRecConfig(hidden_channels=32, max_len=1, max_epochs=3, lr=5e-3),
)


def genre_of(pool_item: int, group: int) -> str:
    return GENRES[2 * group + (pool_item % 3 == 0)]


def add_genres_and_groups(db: Database) -> None:
    """Genre entities (with the vectors a persona export needs) on the pools' items, and
    `plantedGroup` on the users as the demo ingest stores it."""
    rng = np.random.default_rng(3)
    db.query(
        "UNWIND $rows AS row CREATE (:Entity:Genre {uri: row.uri, name: row.name, "
        "textEmbedding: row.x, textEmbeddingModel: 'test-random'})",
        rows=[
            {"uri": f"genre:{k}", "name": name, "x": rng.normal(size=DIMENSION).tolist()}
            for k, name in enumerate(GENRES)
        ],
    )
    db.query(
        "UNWIND $rows AS row MATCH (i:Item {id: row.item}), (e:Entity {name: row.genre}) "
        "CREATE (i)-[:HAS_GENRE]->(e)",
        rows=[
            {"item": f"g{g}-{j:02d}", "genre": genre_of(j, g)}
            for g in range(GROUPS)
            for j in range(POOL)
        ],
    )
    db.query(
        "MATCH (u:User) SET u.plantedGroup = toInteger(substring(u.id, 1)) % $groups",
        groups=GROUPS,
    )
    assign_dense_indices(db)


@dataclass(frozen=True)
class Runs:
    persona: str
    evaluation: str
    directory: Path


@pytest.fixture(scope="module")
def runs(db: Database, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    clear_graph(db)
    apply_schema(db)
    write_planted(db, planted=True)
    add_genres_and_groups(db)
    store = ArtifactStore(str(tmp_path_factory.mktemp("artifacts")))
    persona = train_personas(db, store, Domain.MOVIES, HDGIConfig(epochs=40))
    directory = tmp_path_factory.mktemp("runs")
    evaluation = evaluate_grid(db, store, directory, Domain.MOVIES, GRID)
    return Runs(persona.run, evaluation.run, directory)


def report(settings: Settings, tmp_path: Path, *args: str) -> tuple[int, str]:
    log = tmp_path / "kgctl.log"
    code = run_kgctl(settings, "report", *args, output=log)
    return code, log.read_text()


def not_blank(image: Image.Image) -> tuple[int, float]:
    """(distinct colours, pixel standard deviation) of an image."""
    pixels = np.asarray(image.convert("RGB"))
    colours = len(np.unique(pixels.reshape(-1, 3), axis=0))
    return colours, float(pixels.std())


@pytest.mark.slow
def test_evaluation_run_records_its_persona_run_and_curves(db: Database, runs: Runs) -> None:
    metrics = read_run(db, runs.evaluation).metrics
    assert metrics["persona_run"] == runs.persona
    assert sorted(metrics["curves"]) == sorted(GRID.rows)  # rerank / anonymous: no training
    for seeds in metrics["curves"].values():
        assert [curve["seed"] for curve in seeds] == GRID.seed_values
        for curve in seeds:
            assert len(curve["loss"]) == GRID.sasrec.max_epochs
            assert curve["validation_epochs"] == [1, 2, 3]
            assert curve["metric"] == "NDCG@10"
            assert curve["best_epoch"] in curve["validation_epochs"]


@pytest.mark.slow
def test_no_map_for_a_persona_run_whose_personas_a_later_run_replaced(
    db: Database, runs: Runs
) -> None:
    """The stored personas are the latest run's: an older run has none left to draw (the
    report of its evaluation crashed on the empty sample before)."""
    assert sample_personas(db, "0" * 32, Domain.MOVIES).total == 0
    assert persona_map(db, "0" * 32, Domain.MOVIES) is None


@pytest.mark.slow
def test_dominant_genre_is_the_genre_of_most_training_items(db: Database, runs: Runs) -> None:
    users = [f"u{n:04d}" for n in range(0, 400, 7)]
    kind, dominant = dominant_colour(db, Domain.MOVIES, users)
    assert kind == "genre"
    assert dominant == {user: GENRES[2 * (int(user[1:]) % GROUPS)] for user in users}


@pytest.mark.slow
def test_report_of_an_evaluation_run_renders_in_chromium(
    db: Database, settings: Settings, runs: Runs, tmp_path: Path
) -> None:
    code, output = report(settings, tmp_path, runs.evaluation)
    assert code == 0, output
    page = runs.directory / runs.evaluation / "report.html"
    assert output.strip().endswith(str(page)), output
    stored = read_run(db, runs.evaluation).metrics["rows"]
    with headless_chromium(1280, 1000) as driver:
        driver.get(page.as_uri())
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1280, height)
        screenshot = artifact_path("report-evaluation.png")
        driver.save_screenshot(str(screenshot))

        # Table 3: every stored row, with its numbers as the run stored them.
        tables = driver.find_elements(By.CSS_SELECTOR, "table.table3")
        assert {t.get_attribute("data-slice") for t in tables} == {r["slice"] for r in stored}
        for row in stored:
            table = next(t for t in tables if t.get_attribute("data-slice") == row["slice"])
            headers = [th.text for th in table.find_elements(By.TAG_NAME, "th")]
            line = table.find_element(By.CSS_SELECTOR, f'tr[data-config="{row["config"]}"]')
            cells = [td.text for td in line.find_elements(By.TAG_NAME, "td")]
            assert cells[0] == row["config"]
            for name, value in row["metrics"].items():
                shown = cells[headers.index(name)]
                assert shown.split() == [f"{value['mean']:.4f}", "±", f"{value['std']:.4f}"]
            # Its comparisons: the users x seeds test, raw p with the Holm-adjusted p.
            tests = driver.find_element(
                By.CSS_SELECTOR, f'table.table3-tests[data-slice="{row["slice"]}"]'
            )
            headers = [th.text for th in tests.find_elements(By.TAG_NAME, "th")]
            for test in row["tests"]:
                line = tests.find_element(
                    By.CSS_SELECTOR,
                    f'tr[data-config="{row["config"]}"][data-against="{test["against"]}"]',
                )
                cells = [td.text for td in line.find_elements(By.TAG_NAME, "td")]
                mixed = test["metrics"]["NDCG@10"]["mixed"]
                expected = [f"{mixed['p_value']:.3g}", "Holm", f"{mixed['p_holm']:.3g}"]
                assert cells[headers.index("p users x seeds (NDCG@10)")].split() == expected
        assert tables[0].is_displayed()
        box = tables[0].rect

        # Every figure is an embedded PNG the browser decoded; nothing is fetched.
        images = driver.find_elements(By.TAG_NAME, "img")
        assert len(images) == 6  # Table 3, SASRec curves, HDGI loss, 2 maps, attention
        for image in images:
            assert driver.execute_script("return arguments[0].naturalWidth", image) > 100
        linked = driver.execute_script(
            "return Array.from(document.querySelectorAll('[src], [href]'))"
            ".map(e => e.getAttribute('src') || e.getAttribute('href'))"
        )
        assert all(link.startswith(("data:image/png;base64,", "#")) for link in linked)
        sources = [image.get_attribute("src") for image in images]
        headings = [h.text for h in driver.find_elements(By.TAG_NAME, "h2")]
        text = driver.find_element(By.TAG_NAME, "body").text
    assert headings[:3] == [
        "Overview",
        "Table 1: the stored graph",
        "Table 3: recommendation (movies)",
    ]
    assert "By planted group:" in text and "By dominant genre:" in text
    for source in sources:
        decoded = Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1])))
        colours, spread = not_blank(decoded)
        assert colours > 20 and spread > 5
    # The screenshot shows a page, not a blank window, and the table on it.
    shot = Image.open(screenshot)
    colours, spread = not_blank(shot)
    assert shot.size[1] >= height * 0.9 and colours > 200 and spread > 20
    left, top = int(box["x"]), int(box["y"])
    crop = shot.crop((left, top, left + int(box["width"]), top + int(box["height"])))
    colours, spread = not_blank(crop)
    assert box["height"] > 100 and colours > 10 and spread > 10


@pytest.mark.slow
def test_report_of_a_persona_run(
    db: Database, settings: Settings, runs: Runs, tmp_path: Path
) -> None:
    out = tmp_path / "personas.html"
    code, output = report(settings, tmp_path, runs.persona, "--out", str(out))
    assert code == 0, output
    html = out.read_text()
    assert 'class="table3"' not in html and 'id="table1"' in html
    assert html.count("<img ") == 4  # HDGI loss, 2 maps, attention
    weights = read_run(db, runs.persona).metrics["semantic_weights"]
    assert set(weights) == {"UIU", "UIEIU:genre"}
    for path, weight in weights.items():
        assert f"<td>{path}</td>" in html and f'<td class="num">{weight:.4f}</td>' in html
    # the run's probe: what its personas alone predict, beside chance
    probe = read_run(db, runs.persona).metrics["probe"]
    assert 'id="persona-probe"' in html and "<td>next item</td>" in html
    assert f"{probe['next_item']['persona']:.4f}" in html
    assert f"{probe['next_item']['chance']:.4f}" in html


def test_unknown_run_is_refused_naming_it(settings: Settings, tmp_path: Path) -> None:
    code, output = report(settings, tmp_path, "no-such-run")
    assert code == 2
    assert "no run 'no-such-run'" in output and "kgctl runs" in output


def test_a_run_of_another_kind_is_refused(db: Database, settings: Settings, tmp_path: Path) -> None:
    record_run_start(db, "report-test-ingest", RunKind.INGEST, {}, {"source": "demo"})
    record_run_end(db, "report-test-ingest", "finished", {"records": 1})
    code, output = report(settings, tmp_path, "report-test-ingest")
    assert code == 2
    assert "run report-test-ingest has kind 'ingest'" in output and "kgctl evaluate" in output


def test_values_read_from_the_graph_are_escaped() -> None:
    hostile = "<script>alert(1)</script>"
    metric = {"mean": 0.5, "std": 0.1, "seeds": 2}
    run = RunNode(
        "run-1",
        "evaluate",
        "sasrec",
        "movies",
        "finished",
        None,
        None,
        {},
        {
            "domain": "movies",
            "config": {"seeds": 2, "rows": ["none/random"], "cold_start": 5},
            "notes": [hostile],
            "labels": {"user kg": hostile},
            "rows": [
                {"slice": "all users", "config": hostile, "users": 3,
                 "metrics": {"HR@10": metric}, "paired": {}},
            ],
        },
    )  # fmt: skip
    html = page("t", "s", [("table3", "Table 3", table3(run))], "f")
    assert hostile not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 4  # row, attribute, 2 notes
