"""Neo4j Browser is served by the server the stack started."""

import httpx

from kgstore.settings import Settings


def test_browser_page_is_served(settings: Settings) -> None:
    response = httpx.get(settings.neo4j_browser_url, timeout=10)
    assert response.status_code == 200
    assert "<title>Neo4j Browser</title>" in response.text


def test_discovery_reports_the_pinned_community_version(settings: Settings) -> None:
    discovery = httpx.get(f"http://{settings.neo4j_host}:{settings.neo4j_http_port}/").json()
    assert discovery["neo4j_edition"] == "community"
    assert discovery["neo4j_version"] == settings.neo4j_version
