"""`kgctl serve` against the real Neo4j and a trained retriever (the planted graph of
tests/recsys_planted.py): every endpoint, every refusal as a 4xx naming the problem, the
token, and a reload under load that loses no request."""

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.graph.mapping import Domain
from kgstore.recsys.recommend import recommend_session
from kgstore.recsys.single import train_model
from kgstore.settings import Settings
from tests.chromium import artifact_path, headless_chromium
from tests.recsys_planted import (
    ONE_ITEM_WINDOW,
    SESSION,
    SESSION_GROUP,
    train_session_retriever,
)
from tests.serving import RunningService, running_service

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ArtifactStore:
    return ArtifactStore(str(tmp_path_factory.mktemp("artifacts")))


@pytest.fixture(scope="module")
def retriever(db: Database, store: ArtifactStore) -> str:
    return train_session_retriever(db, store)


@pytest.fixture(scope="module")
def newer(db: Database, store: ArtifactStore, retriever: str) -> str:
    """A second retriever, trained before the service starts and marked running (as a
    run is until its last step): the reload test finishes it while clients send requests
    (training it then would take minutes on two busy cores)."""
    run = train_model(db, store, Domain.MOVIES, replace(ONE_ITEM_WINDOW, seed=1)).run
    db.query("MATCH (r:Run {id: $id}) SET r.status = 'running'", id=run)
    return run


@pytest.fixture(scope="module")
def service(
    settings: Settings,
    store: ArtifactStore,
    newer: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningService]:
    with running_service(settings, store.url, tmp_path_factory.mktemp("serve")) as running:
        yield running


@pytest.fixture
def client(service: RunningService) -> Iterator[httpx.Client]:
    with service.client() as http:
        yield http


def test_recommend_answers_what_kgctl_recommend_answers(
    client: httpx.Client, db: Database, store: ArtifactStore, retriever: str
) -> None:
    reply = client.post("/recommend", json={"items": SESSION, "k": 10, "domain": "movies"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    direct = recommend_session(db, store, SESSION, retriever, k=10, paths=0)
    assert (body["run"], body["row"], body["domain"]) == (retriever, "kg/random", "movies")
    assert body["persona_run"] == direct.persona_run and body["persona_run"]
    assert [rec["item"] for rec in body["items"]] == [rec.item for rec in direct.items]
    assert [rec["score"] for rec in body["items"]] == pytest.approx(
        [rec.score for rec in direct.items], abs=1e-5
    )
    assert all(rec["title"] == f"Film {rec['item']}" for rec in body["items"])
    assert not {rec["item"] for rec in body["items"]} & set(SESSION)
    group = [rec for rec in body["items"] if rec["item"].startswith(f"{SESSION_GROUP}-")]
    assert len(group) >= 6  # the planted group, as in test_recommend


def test_include_session_and_neighbours(client: httpx.Client, db: Database) -> None:
    body = client.post(
        "/recommend",
        json={"items": SESSION, "k": 100, "domain": "movies", "include_session": True},
    ).json()
    assert set(SESSION) <= {rec["item"] for rec in body["items"]}
    near = client.post(
        "/recommend", json={"items": SESSION, "domain": "movies", "neighbours": 5}
    ).json()
    assert len(near["neighbours"]) == 5 and "neighbours_note" not in near
    users = [n["user"] for n in near["neighbours"]]
    groups = {
        row["u"]: row["g"]
        for row in db.query(
            "MATCH (u:User)-[:RATED]->(i:Item) WHERE u.id IN $ids AND i.id STARTS WITH 'g' "
            "WITH u, substring(i.id, 0, 2) AS g, count(*) AS c ORDER BY c DESC "
            "WITH u, collect(g)[0] AS g RETURN u.id AS u, g",
            ids=users,
        )
    }
    # the persona of a group-2 session is nearest to users of group 2 (chance: 1 in 4)
    assert sum(group == SESSION_GROUP for group in groups.values()) >= 4, groups


def test_explain_gives_the_kg_path_as_text_and_graph(client: httpx.Client) -> None:
    target = f"{SESSION_GROUP}-05"
    reply = client.post("/explain", json={"items": SESSION, "target": target, "paths": 2})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["target"] == target and body["title"] == f"Film {target}"
    best = body["paths"][0]
    start = best["nodes"][0]["name"]
    assert start in {f"Film {item}" for item in SESSION}
    assert (
        best["path"] == f"{start} -[DISTRIBUTED_BY]-> Studio Two <-[DISTRIBUTED_BY]- Film {target}"
    )
    assert [node["name"] for node in best["nodes"]] == [start, "Studio Two", f"Film {target}"]
    assert [node["kind"] for node in best["nodes"]] == ["Item", "Entity", "Item"]
    keys = [node["key"] for node in best["nodes"]]
    assert [(r["source"], r["target"], r["type"]) for r in best["rels"]] == [
        (keys[0], keys[1], "DISTRIBUTED_BY"),
        (keys[2], keys[1], "DISTRIBUTED_BY"),
    ]
    assert len(body["paths"]) <= 2


def test_title_search_finds_every_word_as_a_prefix(client: httpx.Client) -> None:
    reply = client.get("/items", params={"q": "film g2-0", "k": 50})
    assert reply.status_code == 200, reply.text
    found = {hit["item"] for hit in reply.json()["items"]}
    assert found == {f"g2-{j:02d}" for j in range(10)}
    assert client.get("/items", params={"q": "film", "domain": "books"}).json()["items"] == []
    # Lucene's own syntax is taken literally, never a 500
    odd = client.get("/items", params={"q": 'film" OR (s-0*'})
    assert odd.status_code == 200 and odd.json()["items"] == []


@pytest.mark.parametrize(
    ("request_", "status", "named"),
    [
        (
            ("post", "/recommend", {"items": ["s-00", "no-such-film"], "domain": "movies"}),
            404,
            "no-such-film",
        ),
        (("post", "/recommend", {"items": [], "domain": "movies"}), 422, "items"),
        (("post", "/recommend", {"items": SESSION, "k": 0, "domain": "movies"}), 422, "k:"),
        (("post", "/recommend", {"items": SESSION, "k": 101, "domain": "movies"}), 422, "k:"),
        (("post", "/recommend", {"items": SESSION, "domain": "games"}), 422, "domain"),
        (("post", "/recommend", {"items": SESSION, "color": "red"}), 422, "color"),
        (("post", "/recommend", {"items": SESSION}), 400, "domain"),
        (("post", "/recommend", {"items": SESSION, "domain": "books"}), 400, "books"),
        (("post", "/recommend", {"items": SESSION, "run": "no-such-run"}), 400, "no-such-run"),
        (("post", "/explain", {"items": SESSION, "target": "nothing-here"}), 404, "nothing-here"),
        (("get", "/items?q=", None), 422, "q:"),
        (("get", "/no-such-page", None), 404, "/no-such-page"),
    ],
)
def test_bad_requests_get_a_4xx_naming_the_problem(
    client: httpx.Client, request_: tuple, status: int, named: str
) -> None:
    method, path, body = request_
    reply = client.request(method, path, json=body)
    assert reply.status_code == status, reply.text
    assert named in reply.json()["error"]


def test_malformed_and_oversized_bodies(client: httpx.Client) -> None:
    broken = client.post(
        "/recommend", content=b'{"items": [', headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 422 and "JSON" in broken.json()["error"]
    huge = {"items": ["x" * 1000] * 100, "domain": "movies"}  # 100 kB
    reply = client.post("/recommend", json=huge)
    assert reply.status_code == 413 and "65,536 bytes" in reply.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the body streams
        yield b'{"items": ['
        for _ in range(2000):
            yield b'"' + b"y" * 60 + b'",'
        yield b'"z"]}'

    streamed = client.post(
        "/recommend", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413


def test_the_token_is_required_except_for_health(service: RunningService) -> None:
    with httpx.Client(base_url=service.url) as anonymous:
        assert anonymous.get("/healthz").status_code == 200
        for method, path in (("post", "/recommend"), ("get", "/metrics"), ("get", "/items?q=a")):
            reply = anonymous.request(method, path, json={"items": SESSION})
            assert reply.status_code == 401 and "Bearer" in reply.json()["error"]
        wrong = anonymous.post(
            "/recommend",
            json={"items": SESSION, "domain": "movies"},
            headers={"Authorization": "Bearer not-the-token"},
        )
        assert wrong.status_code == 403 and "wrong bearer token" in wrong.json()["error"]
        assert anonymous.post("/admin/reload").status_code == 401
        # the page and the API docs hold no data: they load without the token
        assert anonymous.get("/").status_code == 200
        assert anonymous.get("/docs").status_code == 200
        api = anonymous.get("/openapi.json").json()
        assert {"/recommend", "/explain", "/items", "/healthz", "/metrics"} <= set(api["paths"])


def test_metrics_count_requests_and_name_the_model(client: httpx.Client, retriever: str) -> None:
    client.post("/recommend", json={"items": SESSION, "domain": "movies"})
    client.post("/recommend", json={"items": ["nope"], "domain": "movies"})
    text = client.get("/metrics").text
    counts = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("kgstore_serve_requests_total")
    }
    ok = 'kgstore_serve_requests_total{method="POST",route="/recommend",status="200"}'
    assert counts[ok] >= 1
    assert (
        counts['kgstore_serve_requests_total{method="POST",route="/recommend",status="404"}'] >= 1
    )
    assert 'kgstore_serve_request_seconds_bucket{le="0.02",route="/recommend"}' in text
    assert 'domain="movies",persona_run=' in text and f'run="{retriever}"' in text


def test_the_session_page_in_a_browser(service: RunningService) -> None:
    """A person's path through the page in headless Chromium: type a title, add three
    items, see ten recommendations, each with its KG path drawn (Cytoscape's canvas)."""
    with headless_chromium() as browser:
        browser.get(f"{service.url}/#token={service.token}")
        wait = WebDriverWait(browser, 30)
        assert "token" not in browser.current_url  # taken out of the address bar
        browser.find_element(By.ID, "search").send_keys("film g2")
        wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#hits li")) >= 3)
        for hit in browser.find_elements(By.CSS_SELECTOR, "#hits li")[:3]:
            hit.click()
        chosen = [
            li.get_attribute("data-item")
            for li in browser.find_elements(By.CSS_SELECTOR, "#session li")
        ]
        assert len(chosen) == 3 and all(item.startswith("g2-") for item in chosen)
        browser.find_element(By.ID, "recommend").click()
        wait.until(lambda b: b.find_element(By.ID, "status").text == "10 recommendations")
        rows = browser.find_elements(By.CSS_SELECTOR, "#recs tbody tr")
        assert len(rows) == 10
        assert not {row.get_attribute("data-item") for row in rows} & set(chosen)
        drawn = browser.find_elements(By.CSS_SELECTOR, "#recs .path canvas")
        texts = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#recs .path-text")]
        assert drawn and any("-[DISTRIBUTED_BY]-> Studio Two" in text for text in texts), texts
        assert len(browser.find_elements(By.CSS_SELECTOR, "#neighbours li")) == 5
        browser.save_screenshot(str(artifact_path("session-page.png")))
        assert browser.find_element(By.ID, "status").get_attribute("class") != "error"


def test_a_newer_retriever_is_served_after_reload_and_no_request_fails(
    service: RunningService, db: Database, retriever: str, newer: str
) -> None:
    """Last in the module: a second retriever finishes while clients keep requests in
    flight (64 clients, 400 requests at least) and the service reloads; every one is
    answered 200, by the old run before the swap and the new run after it."""
    answered: list[tuple[int, str | None]] = []
    done = threading.Event()

    async def load() -> None:
        headers = {"Authorization": f"Bearer {service.token}"}
        body = {"items": SESSION, "domain": "movies"}
        async with httpx.AsyncClient(base_url=service.url, headers=headers, timeout=60) as http:

            async def one_client() -> None:
                while not done.is_set() or len(answered) < 400:
                    try:
                        reply = await http.post("/recommend", json=body)
                    except httpx.HTTPError as error:  # a lost request, counted as one
                        answered.append((0, repr(error)))
                        continue
                    run = reply.json().get("run") if reply.status_code == 200 else reply.text
                    answered.append((reply.status_code, run))

            await asyncio.gather(*(one_client() for _ in range(64)))

    clients = threading.Thread(target=lambda: asyncio.run(load()))
    clients.start()
    try:
        while len(answered) < 100:
            done.wait(0.05)
        db.query("MATCH (r:Run {id: $id}) SET r.status = 'finished'", id=newer)
        with service.client() as http:
            reload = http.post("/admin/reload").json()
            after = http.post("/recommend", json={"items": SESSION, "domain": "movies"}).json()
    finally:
        done.set()
        clients.join(timeout=120)
    assert reload["changed"] == [
        {"domain": "movies", "before": retriever, "after": newer, "error": None}
    ]
    assert after["run"] == newer
    statuses = [status for status, _ in answered]
    lost = [answer for answer in answered if answer[0] != 200]
    assert len(answered) >= 400 and set(statuses) == {200}, json.dumps(lost[:5])
    runs = [run for _, run in answered]
    assert runs[0] == retriever and runs[-1] == newer and set(runs) == {retriever, newer}
