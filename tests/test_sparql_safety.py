"""SPARQL safety and settings without a server: IRIs that could change a query are
refused, ordinary DBpedia IRIs are written as they are, and malformed SPARQL settings
name their variable."""

import pytest

from kgstore.errors import SettingsError, UnsafeIri
from kgstore.graph.mapping import BY_DBPEDIA_PREDICATE
from kgstore.ingest.sources.dbpedia_sparql import facts_query, sparql_iri
from kgstore.ingest.sources.sparql_client import FetchPolicy
from kgstore.settings import load_settings
from tests.sparql import DBR, HOSTILE_ITEM_URIS


@pytest.mark.parametrize("iri", [*HOSTILE_ITEM_URIS, "no-scheme", "http://x/a b", "http://x/{b}"])
def test_an_iri_that_could_change_a_query_is_refused(iri: str) -> None:
    with pytest.raises(UnsafeIri):
        sparql_iri(iri)
    with pytest.raises(UnsafeIri):
        facts_query([DBR + "Blazing_Saddles", iri], sorted(BY_DBPEDIA_PREDICATE))


@pytest.mark.parametrize(
    "iri",
    [DBR + "John_Morris_(composer)", DBR + "Am%C3%A9lie", DBR + "Amélie", DBR + "O'Brien,_Jr."],
)
def test_ordinary_dbpedia_iris_are_written_as_they_are(iri: str) -> None:
    assert sparql_iri(iri) == f"<{iri}>"


def test_a_timeout_below_one_second_is_refused() -> None:
    # SPARQLWrapper truncates its timeout to whole seconds; 0 would mean "wait forever".
    with pytest.raises(ValueError, match="whole seconds"):
        FetchPolicy(timeout=0.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"sparql_endpoint": "ftp://dbpedia.org/sparql"}, "SPARQL_ENDPOINT"),
        ({"sparql_endpoint": "dbpedia.org/sparql"}, "SPARQL_ENDPOINT"),
        ({"sparql_timeout": 0}, "SPARQL_TIMEOUT"),
        ({"sparql_page_size": 20_000}, "SPARQL_PAGE_SIZE"),
        ({"sparql_min_interval": -1}, "SPARQL_MIN_INTERVAL"),
    ],
)
def test_malformed_sparql_settings_name_their_variable(
    overrides: dict[str, object], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(**overrides)
