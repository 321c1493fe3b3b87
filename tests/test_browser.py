"""Neo4j Browser as a user meets it: served by the stack, styled by cypher/browser.grass,
opening the kgstore guide on connect, and running the persona query of the Cypher library
in a real (headless) Chromium."""

import html
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from kgstore.db import Database
from kgstore.errors import GuideError, ServiceError
from kgstore.graph.mapping import ALL_LABELS, ENTITY_LABELS, Domain
from kgstore.graph.vector_index import ensure_vector_index
from kgstore.paths import CYPHER_DIR, DOCKER_DIR
from kgstore.services.guide_content import (
    GUIDE_PATH,
    GUIDE_TEMPLATE,
    STYLE_FILE,
    STYLE_PATH,
    guide_query_files,
    render_guide,
)
from kgstore.services.guide_server import GuideServer, guide_url, style_url
from kgstore.services.isolated import free_port
from kgstore.settings import Settings
from tests.chromium import artifact_path, headless_chromium
from tests.services import unavailable

SIMILAR_USERS = CYPHER_DIR / "personas" / "similar_users.cypher"
PREFIX = "browsertest-"
"""Every node the tests write has an id with this prefix: other tests share the database."""
WAIT_S = 90
_RUNNABLE = re.compile(
    r'<pre class="[^"]*\brunnable\b[^"]*"(?: data-cypher="([^"]+)")?>(.*?)</pre>', re.S
)
_GRASS_RULE = re.compile(r'([\w.]+)\s*\{((?:[^{}"]|"[^"]*")*)\}')


def grass_rules(text: str) -> dict[str, dict[str, str]]:
    """Selector -> properties, read the way Browser reads a grass file."""
    return {
        selector: dict(
            (part.strip() for part in line.split(":", 1)) for line in body.split(";") if ":" in line
        )
        for selector, body in _GRASS_RULE.findall(text)
    }


def runnable_blocks(guide: str) -> list[tuple[str | None, str]]:
    """(library file named by data-cypher or None, the text Browser copies to the editor)."""
    return [(name or None, html.unescape(body).strip()) for name, body in _RUNNABLE.findall(guide)]


@pytest.fixture(scope="module")
def guide_server(settings: Settings) -> Settings:
    """The guide server of the stack (`kgctl services up` starts it with Neo4j)."""
    try:
        httpx.get(style_url(settings), timeout=5).raise_for_status()
    except httpx.HTTPError as exc:
        unavailable(f"the guide server at {style_url(settings)} does not answer: {exc}")
    return settings


def test_browser_page_is_served(settings: Settings) -> None:
    response = httpx.get(settings.neo4j_browser_url, timeout=10)
    assert response.status_code == 200
    assert "<title>Neo4j Browser</title>" in response.text


def test_discovery_reports_the_pinned_community_version(settings: Settings) -> None:
    discovery = httpx.get(f"http://{settings.neo4j_host}:{settings.neo4j_http_port}/").json()
    assert discovery["neo4j_edition"] == "community"
    assert discovery["neo4j_version"] == settings.neo4j_version


def test_discovery_advertises_the_configured_bolt_port(settings: Settings) -> None:
    """Browser's connect form starts from this address: the stack's own Bolt port."""
    discovery = httpx.get(f"http://{settings.neo4j_host}:{settings.neo4j_http_port}/").json()
    assert discovery["bolt_direct"].endswith(f":{settings.neo4j_bolt_port}")


def test_style_sheet_is_served_with_cors(guide_server: Settings) -> None:
    response = httpx.get(style_url(guide_server), timeout=10)
    assert response.status_code == 200
    assert response.text == STYLE_FILE.read_text(encoding="utf-8")
    assert response.headers["access-control-allow-origin"] == "*"


def test_guide_preflight_allows_the_headers_browser_sends(guide_server: Settings) -> None:
    """Browser asks for a guide with Cache-Control and Pragma: Chromium preflights that."""
    origin = f"http://{guide_server.neo4j_host}:{guide_server.neo4j_http_port}"
    response = httpx.options(
        guide_url(guide_server),
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "cache-control,pragma",
        },
        timeout=10,
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert set(response.headers["access-control-allow-headers"].split(",")) == {
        "cache-control",
        "pragma",
    }


def test_guide_queries_are_the_library_files(guide_server: Settings) -> None:
    """Every query of the served guide is a cypher/ file's text; the rest are :param lines."""
    response = httpx.get(guide_url(guide_server), timeout=10)
    assert response.status_code == 200
    blocks = runnable_blocks(response.text)
    from_library = [(name, text) for name, text in blocks if name is not None]
    assert [name for name, _ in from_library] == [
        str(path.relative_to(CYPHER_DIR)) for path in guide_query_files()
    ]
    assert "personas/similar_users.cypher" in dict(from_library)
    for name, text in from_library:
        assert text == (CYPHER_DIR / name).read_text(encoding="utf-8").strip(), name
    others = [text for name, text in blocks if name is None]
    assert others
    assert all(text.startswith(":param ") for text in others), others


def test_guide_sets_every_parameter_its_queries_take() -> None:
    """A query whose parameter the guide never sets would fail when a reader runs it."""
    blocks = runnable_blocks(render_guide())
    set_params = {text.split()[1] for name, text in blocks if name is None}
    used = {
        param
        for name, text in blocks
        if name is not None
        for param in re.findall(r"\$(\w+)", re.sub(r"//[^\n]*", "", text))
    }
    assert used <= set_params, sorted(used - set_params)


def test_guide_parameter_lines_evaluate_as_browser_evaluates_them(db: Database) -> None:
    """Browser runs `:param name => expr` as `RETURN expr` with no parameters at all, so an
    expression that reads another parameter (or is not valid Cypher) fails in the guide."""
    lines = [text for name, text in runnable_blocks(render_guide()) if name is None]
    for line in lines:
        expression = line.split("=>", 1)[1].strip()
        db.query(f"RETURN {expression} AS value")


def test_guide_naming_a_missing_file_is_an_error_with_its_line(tmp_path: Path) -> None:
    template = tmp_path / "guide.html"
    template.write_text(
        '<slide>\n<pre class="code runnable" data-cypher="personas/nope.cypher"></pre>\n'
    )
    with pytest.raises(GuideError, match=r"guide\.html:2: .*'personas/nope\.cypher'"):
        render_guide(template)


def test_compose_serves_style_and_guide_to_browser() -> None:
    """docker/compose.yml: Neo4j's post-connect command fetches both files from the guide
    service's published port, from a host Browser is allowed to fetch from."""
    services = yaml.safe_load((DOCKER_DIR / "compose.yml").read_text())["services"]
    neo4j, guide = services["neo4j"]["environment"], services["guide"]
    command = guide["command"]
    port = command[command.index("--port") + 1]
    assert command[:3] == ["python", "-m", "kgstore.services.guide_http"]
    assert f"127.0.0.1:{port}:{port}" in guide["ports"]
    base = f"http://localhost:{port}"
    assert neo4j["NEO4J_browser_post__connect__cmd"] == (
        f"style {base}{STYLE_PATH}; guide {base}{GUIDE_PATH}"
    )
    assert "localhost" in neo4j["NEO4J_browser_remote__content__hostname__whitelist"].split(",")


def test_guide_server_starts_serves_and_stops(tmp_path: Path) -> None:
    """The life cycle `kgctl services up|down` drives, on a port and state dir of its own."""
    own = Settings(_env_file=None, kgstore_state_dir=tmp_path, neo4j_guide_port=free_port())
    assert GuideServer(own).start() == "started"
    try:
        assert GuideServer(own).start() == "already running"
        response = httpx.get(guide_url(own), timeout=10)
        assert response.status_code == 200
        assert GuideServer(own).status().running
    finally:
        assert GuideServer(own).stop()
    assert not GuideServer(own).status().running
    assert not GuideServer(own).process.pidfile.exists()


def test_guide_port_taken_names_the_setting(tmp_path: Path) -> None:
    port = free_port()
    own = Settings(_env_file=None, kgstore_state_dir=tmp_path, neo4j_guide_port=port)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with pytest.raises(ServiceError, match=f"port {port} \\(NEO4J_GUIDE_PORT\\)"):
            GuideServer(own).start()
    assert not GuideServer(own).status().running


def test_style_sheet_styles_every_label_with_its_key_property() -> None:
    rules = grass_rules(STYLE_FILE.read_text(encoding="utf-8"))
    styled = {selector.removeprefix("node.") for selector in rules if selector.startswith("node.")}
    assert styled == set(ALL_LABELS)
    for selector, props in rules.items():
        if selector.startswith("node."):
            assert re.fullmatch(r"#[0-9A-F]{6}", props["color"]), selector
            assert props["diameter"].endswith("px"), selector
    captions = {selector: props["caption"] for selector, props in rules.items() if "." in selector}
    assert captions["node.User"] == '"{id}"'
    for label in ("Item", *(domain.label for domain in Domain)):
        assert captions[f"node.{label}"] == '"{title}"'
    for label in ("Entity", *ENTITY_LABELS):
        assert captions[f"node.{label}"] == '"{name}"'
    assert captions["node.Run"] == '"{kind}"'


def test_guide_template_is_the_one_served() -> None:
    assert GUIDE_TEMPLATE.is_file()
    assert "<title>" in render_guide()


# -- a real browser -------------------------------------------------------------------


BROWSER_DOMAIN = "browsertest"
"""The persona domain of the fixture's users: their own property and vector index
(`persona_browsertest`, `user_persona_browsertest`), apart from any real domain's."""


@pytest.fixture
def persona_users(db: Database) -> Iterator[dict[str, list[float]]]:
    """Five users with persona vectors in their own domain, nearest to u0 in the order
    u1, u2, u3; u4 points elsewhere. u0 and u1 rated the same film. The domain's vector
    index is dropped again."""
    remove = "MATCH (n) WHERE n.id STARTS WITH $prefix DETACH DELETE n"
    index = f"user_persona_{BROWSER_DOMAIN}"
    db.query(remove, prefix=PREFIX)  # what a killed run left
    dimension = 8
    directions = {"u0": (1.0, 0.0), "u1": (1.0, 0.1), "u2": (1.0, 0.3), "u3": (1.0, 0.5)}
    vectors = {user: [*pair, *[0.0] * (dimension - 2)] for user, pair in directions.items()}
    vectors["u4"] = [0.0, 0.0, 1.0, *[0.0] * (dimension - 3)]
    db.query(
        "UNWIND $rows AS row CREATE (u:User {id: row.id, plantedGroup: row.group}) "
        "SET u[$key] = row.vector, u[$key + '_run'] = 'browsertest-run'",
        rows=[
            {"id": PREFIX + user, "vector": vector, "group": index % 2}
            for index, (user, vector) in enumerate(vectors.items())
        ],
        key=f"persona_{BROWSER_DOMAIN}",
    )
    db.query(
        "CREATE (film:Item:Movie {id: $film, title: 'Heat'}) WITH film "
        "MATCH (u:User) WHERE u.id IN $raters CREATE (u)-[:RATED {pos: 0}]->(film)",
        film=PREFIX + "heat",
        raters=[PREFIX + "u0", PREFIX + "u1"],
    )
    ensure_vector_index(db, index, "User", f"persona_{BROWSER_DOMAIN}", dimension)
    try:
        yield vectors
    finally:
        db.query(remove, prefix=PREFIX)
        db.query(f"DROP INDEX {index} IF EXISTS")


def by_test_id(name: str) -> tuple[str, str]:
    return By.CSS_SELECTOR, f'[data-testid="{name}"]'


def log_in(driver: WebDriver, settings: Settings) -> None:
    """The connect form as a user fills it: the generated credentials of the settings."""
    wait = WebDriverWait(driver, WAIT_S)
    driver.get(settings.neo4j_browser_url)
    wait.until(expected_conditions.visibility_of_element_located(by_test_id("username")))
    username = driver.find_element(*by_test_id("username"))
    username.clear()
    username.send_keys(settings.neo4j_user)
    driver.find_element(*by_test_id("password")).send_keys(settings.require_neo4j_password())
    driver.find_element(*by_test_id("connect")).click()


def type_command(driver: WebDriver, text: str, run: bool = True) -> None:
    """Type into Browser's editor as a user does: Shift+Enter between lines (Enter runs)."""
    editor = driver.find_element(By.CSS_SELECTOR, '[data-testid="activeEditor"] textarea')
    lines = text.split("\n")
    for number, line in enumerate(lines):
        editor.send_keys(line)
        if number < len(lines) - 1:
            editor.send_keys(Keys.SHIFT, Keys.ENTER)
    if run:
        editor.send_keys(Keys.CONTROL, Keys.ENTER)


def frame_showing(driver: WebDriver, command_part: str, text: str) -> WebElement:
    """The newest result frame whose command contains `command_part`, once it shows `text`."""

    def found(drv: WebDriver) -> WebElement | bool:
        for frame in drv.find_elements(*by_test_id("frame")):
            commands = frame.find_elements(*by_test_id("frameCommand"))
            if commands and command_part in commands[0].text and text in frame.text:
                return frame
        return False

    return WebDriverWait(driver, WAIT_S).until(found)


@pytest.mark.slow
def test_browser_runs_the_persona_query_of_the_library(
    guide_server: Settings, persona_users: dict[str, list[float]]
) -> None:
    """Log in, see the guide open and the style applied, set parameters, type the library's
    similar_users query and find the nearest users in the result table."""
    settings = guide_server
    colours = grass_rules(STYLE_FILE.read_text(encoding="utf-8"))
    with headless_chromium() as driver:
        log_in(driver, settings)
        drawer = WebDriverWait(driver, WAIT_S).until(
            expected_conditions.visibility_of_element_located(by_test_id("guidesDrawer"))
        )
        WebDriverWait(driver, WAIT_S).until(lambda _: "kgstore: the demo graph" in drawer.text)
        first_query = guide_query_files()[0].read_text(encoding="utf-8")
        first_statement_line = next(line for line in first_query.splitlines() if line[:2] != "//")
        assert first_statement_line in drawer.text  # the first slide shows the file's text

        type_command(driver, f":param userId => '{PREFIX}u0'")
        frame_showing(driver, ":param userId", PREFIX + "u0")
        type_command(driver, ":param k => 2")
        frame_showing(driver, ":param k", '"k": 2')
        type_command(driver, f":param domain => '{BROWSER_DOMAIN}'")
        frame_showing(driver, ":param domain", BROWSER_DOMAIN)
        type_command(driver, SIMILAR_USERS.read_text(encoding="utf-8").strip())
        result = frame_showing(driver, "queryNodes", "Started streaming")
        driver.save_screenshot(artifact_path("browser-similar-users.png"))

        rows = [line for line in result.text.splitlines() if line.startswith(f'"{PREFIX}')]
        assert [row.split()[0] for row in rows] == [f'"{PREFIX}u1"', f'"{PREFIX}u2"']
        shared_items = [int(row.split()[3]) for row in rows]  # user, score, group, shared
        assert shared_items == [1, 0]

        type_command(driver, f"MATCH p = (:User {{id: '{PREFIX}u0'}})-[:RATED]->() RETURN p")
        graph = frame_showing(driver, "RETURN p", "Heat")
        WebDriverWait(driver, WAIT_S).until(
            lambda _: len(graph.find_elements(By.CSS_SELECTOR, "g.node circle.b-outline")) == 2
        )
        fills = {
            circle.get_attribute("fill")
            for circle in graph.find_elements(By.CSS_SELECTOR, "g.node circle.b-outline")
        }
        driver.save_screenshot(artifact_path("browser-styled-graph.png"))
        assert fills == {colours["node.User"]["color"], colours["node.Movie"]["color"]}
