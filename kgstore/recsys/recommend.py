"""Recommendations for an anonymous session (a list of item ids, no user id): a trained
SASRec variant (kgstore.recsys.session_model) scores every item after the session, and
each recommended item comes with the knowledge-graph paths that link it to the session
(cypher/recommend/session_paths).
"""

from dataclasses import dataclass, field

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.query.library import QueryFile, find_query
from kgstore.query.run import run_query
from kgstore.recsys.session_model import SessionModel, load_session_model


@dataclass(frozen=True)
class Recommendation:
    item: str
    title: str | None
    score: float
    paths: list[str]
    """The best KG paths from the session to the item, best first (see `kg_paths`)."""
    more_paths: int = 0
    """How many more paths the query found than `paths` holds (cut by `recommend_session`'s
    `paths`), so that every output can say so."""


@dataclass(frozen=True)
class SessionRecommendations:
    run: str
    row: str
    domain: str
    persona_run: str | None
    session: list[str]
    items: list[Recommendation]
    persona: list[float] | None
    """The persona a kg row scored with (inferred from the session); None for user none."""
    notes: list[str] = field(default_factory=list)
    """Labels the answer must carry: a stale persona run used with `allow_stale`."""


def recommend_session(
    db: Database,
    store: ArtifactStore,
    session: list[str],
    run_id: str | None = None,
    k: int = 10,
    exclude_session: bool = True,
    allow_stale: bool = False,
    paths: int | None = None,
) -> SessionRecommendations:
    """The top-`k` items after `session` by the run's model (the latest that can serve a
    session when `run_id` is None), with titles and the best `paths` KG paths from the
    session (all the query finds when None). A kg model's persona run made from other
    training interactions than the graph holds now is refused unless `allow_stale`, then
    labelled (kgstore.recsys.leakage)."""
    model = load_session_model(db, store, run_id, allow_stale)
    return recommend_with(db, model, session, k, exclude_session, paths)


def recommend_with(
    db: Database,
    model: SessionModel,
    session: list[str],
    k: int = 10,
    exclude_session: bool = True,
    paths: int | None = None,
) -> SessionRecommendations:
    """`recommend_session` with a model loaded before (the service's, kept across calls)."""
    top, persona = model.top(session, k, exclude_session)
    query = find_query("recommend/session_paths")
    recommendations = []
    for item, score in top:
        found = kg_paths(db, query, session, item)
        kept = found if paths is None else found[:paths]
        recommendations.append(
            Recommendation(item, model.titles.get(item), score, kept, len(found) - len(kept))
        )
    return SessionRecommendations(
        model.run,
        model.row,
        model.domain.value,
        model.persona_run,
        session,
        recommendations,
        None if persona is None else persona.tolist(),
        list(model.notes),
    )


def kg_paths(db: Database, query: QueryFile, session: list[str], item: str) -> list[str]:
    """The KG paths (by `query`, the session_paths file read once per call of
    `recommend_session`) from the session's items to `item`, in the file's order: the most
    specific shared entities first (its header says how it ranks them)."""
    return [row["path"] for row in run_query(db, query, {"items": session, "target": item}).rows]
