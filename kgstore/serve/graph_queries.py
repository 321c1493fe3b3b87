"""The service's reads of the graph: title search, the KG paths that explain a
recommendation, and the users nearest to a session's persona. Each runs a library file
of cypher/ (or the persona index), so what the page shows is what a user gets in Browser
or with `kgctl query`."""

import re
from dataclasses import dataclass
from typing import Any

from kgstore.db import Database
from kgstore.errors import PersonaError, UnknownItems
from kgstore.graph.mapping import Domain
from kgstore.personas.similar import nearest_users
from kgstore.query.library import find_query
from kgstore.query.run import run_query

_WORD = re.compile(r"\w+")


def title_query(text: str) -> str:
    """A Lucene query for what a person typed: every word required, each a prefix
    ("2001: a sp" → `+2001* +a* +sp*`). Words are split as the index's analyzer splits
    titles (at anything but letters and digits) and lower-cased as it stores them, since
    a prefix term is not analysed; Lucene's own syntax characters are dropped with the
    other separators, so no input can make a malformed query."""
    return " ".join(f"+{word.lower()}*" for word in _WORD.findall(text))


def search_titles(db: Database, text: str, domain: Domain | None, k: int) -> list[dict[str, Any]]:
    """Items whose titles hold every word of `text` (as prefixes), best match first."""
    query = title_query(text)
    if not query:
        return []
    params = {"query": query, "domain": domain.value if domain else None, "k": k}
    return run_query(db, find_query("items/search_titles"), params).rows


@dataclass(frozen=True)
class Explanation:
    target: str
    title: str | None
    paths: list[dict[str, Any]]
    """cypher/recommend/session_paths rows, best first: sessionItem, hops, path (text),
    via, degree, nodes and rels (the path as a small graph)."""


def explain(db: Database, session: list[str], target: str, paths: int) -> Explanation:
    """The best `paths` KG paths from the session's items to `target`; items the graph does
    not hold are refused by id (404), so an empty answer means no path within 4 hops."""
    named = list(dict.fromkeys([*session, target]))
    found = {
        row["id"]: row["title"]
        for row in db.query(
            "MATCH (i:Item) WHERE i.id IN $ids RETURN i.id AS id, i.title AS title", ids=named
        )
    }
    unknown = [item for item in named if item not in found]
    if unknown:
        raise UnknownItems(f"{len(unknown)} item(s) not in the graph: {', '.join(unknown[:5])}")
    rows = run_query(
        db, find_query("recommend/session_paths"), {"items": session, "target": target}
    ).rows
    return Explanation(target, found[target], rows[:paths])


def persona_neighbours(
    db: Database, domain: Domain, persona_run: str | None, persona: list[float], k: int
) -> tuple[list[dict[str, Any]], str | None]:
    """The `k` known users nearest to a session's persona, or none and the reason (the
    stored personas are of another run than the model's, so not comparable)."""
    if persona_run is None:
        return [], "this retriever uses no persona (user none)"
    try:
        near = nearest_users(db, domain, persona_run, persona, k)
    except PersonaError as error:
        return [], str(error)
    return [{"user": n.user, "score": n.score} for n in near], None
