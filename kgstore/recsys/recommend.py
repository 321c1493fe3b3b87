"""Recommendations for an anonymous session (a list of item ids, no user id): a trained
SASRec variant scores every item after the session, and each recommended item comes with
the knowledge-graph paths that link it to the session (cypher/recommend/session_paths).

Which variants can serve a session: user `none` (the session alone) and `kg` (a persona
inferred by the persona run's encoder from the session's items, as for held-out users).
`random` and `llm` user representations belong to known users (a learned row per user,
generated keywords) and are refused with that reason.
"""

import json
from dataclasses import dataclass, field

import torch

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.errors import RecsysInputError
from kgstore.graph.mapping import Domain
from kgstore.graph.runs import train_run
from kgstore.graph.sequences import read_sequences
from kgstore.graph.split import LeaveOneOut
from kgstore.personas.infer import infer_personas, load_encoder
from kgstore.query.library import QueryFile, find_query
from kgstore.query.run import run_query
from kgstore.recsys.grid import parse_row
from kgstore.recsys.leakage import checked, persona_check
from kgstore.recsys.model_store import load_model
from kgstore.train.sasrec import SASRecConfig, build_model

SESSION_USERS = ("none", "kg")


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


def latest_session_model(db: Database) -> str:
    """The newest finished SASRec run (retriever or reranker) that can serve a session."""
    rows = db.query(
        "MATCH (r:Run {kind: 'train', status: 'finished'}) "
        "WHERE r.model IN ['sasrec-retriever', 'sasrec-reranker'] "
        "RETURN r.id AS id, r.metrics AS metrics ORDER BY r.finishedAt DESC"
    )
    for row in rows:
        if parse_row(json.loads(row["metrics"])["row"])[0] in SESSION_USERS:
            return row["id"]
    raise RecsysInputError(
        "no finished retriever that serves sessions (user none or kg): train one with "
        "`kgctl train retriever --user kg --item description` or `kgctl train reranker`"
    )


def _finished_sasrec_run(db: Database, run_id: str) -> tuple[dict, SASRecConfig]:
    """(metrics, config) of a finished SASRec training run; anything else is refused."""
    run = train_run(db, run_id, "sasrec")
    if run.status != "finished":
        state = run.status or "not a SASRec run"
        raise RecsysInputError(f"run {run_id} cannot recommend ({state}): see `kgctl runs`")
    config = {key: value for key, value in run.config.items() if key != "domain"}
    return run.metrics, SASRecConfig.from_dict(config, f"run {run_id}")


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
    if not session:
        raise RecsysInputError("the session is empty: give at least one item id")
    run_id = run_id or latest_session_model(db)
    metrics, config = _finished_sasrec_run(db, run_id)
    if config.user not in SESSION_USERS:
        raise RecsysInputError(
            f"run {run_id} is a {config.user}/{config.item} retriever: its user representation "
            f"belongs to known users; an anonymous session needs user none or kg"
        )
    saved = load_model(store, metrics["checkpoint"])
    index = {item: i for i, item in enumerate(saved.items, start=1)}
    unknown = [item for item in session if item not in index]
    if unknown:
        raise RecsysInputError(
            f"{len(unknown)} session item(s) unknown to run {run_id} ({metrics['domain']}): "
            + ", ".join(unknown[:5])
        )
    persona, notes = None, []
    if config.user == "kg":
        encoder = load_encoder(db, store, saved.persona_run)
        split = LeaveOneOut.of(read_sequences(db, Domain(metrics["domain"])))
        notes = checked([persona_check(encoder.snapshot, split, encoder.run)], allow_stale)
        persona = torch.from_numpy(infer_personas(encoder, [session])).float()
    features = saved.state.get("item_features")  # frozen texts of a projection model
    if config.item == "description" and features is None:
        # a text-initialised table: the start is overwritten by the trained weights below
        features = torch.zeros(len(saved.items) + 1, config.hidden_channels)
    model = build_model(config, len(saved.items), 0, persona, features)
    model.load_state_dict(saved.state)
    model.eval()
    seq = torch.tensor([[index[item] for item in session[-config.max_len :]]])
    with torch.no_grad():
        scores = model.score(model(seq, persona)[0, -1])
    if exclude_session:  # the whole session, not only the model's window of it
        scores[[index[item] for item in session]] = float("-inf")
    top = torch.topk(scores, min(k, len(saved.items))).indices.tolist()
    items = [saved.items[i - 1] for i in top]
    query = find_query("recommend/session_paths")
    titles = {
        row["id"]: row["title"]
        for row in db.query(
            "MATCH (i:Item) WHERE i.id IN $ids RETURN i.id AS id, i.title AS title", ids=items
        )
    }
    recommendations = []
    for i, item in zip(top, items, strict=True):
        found = kg_paths(db, query, session, item)
        kept = found if paths is None else found[:paths]
        recommendations.append(
            Recommendation(item, titles.get(item), float(scores[i]), kept, len(found) - len(kept))
        )
    return SessionRecommendations(
        run_id,
        metrics["row"],
        metrics["domain"],
        saved.persona_run,
        session,
        recommendations,
        None if persona is None else persona[0].tolist(),
        notes,
    )


def kg_paths(db: Database, query: QueryFile, session: list[str], item: str) -> list[str]:
    """The KG paths (by `query`, the session_paths file read once per call of
    `recommend_session`) from the session's items to `item`, in the file's order: the most
    specific shared entities first (its header says how it ranks them)."""
    return [row["path"] for row in run_query(db, query, {"items": session, "target": item}).rows]
