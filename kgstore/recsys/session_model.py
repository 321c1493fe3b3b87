"""A trained SASRec variant loaded once to score anonymous sessions: the model, its item
table (ids, titles), and for a kg row the persona encoder that infers a session's persona.

`kgctl recommend` loads one per call; `kgctl serve` keeps one per domain and answers
every request with it, so loading (checkpoint, encoder, the stale check, titles) is paid
once and scoring is all a request costs.

Which variants can serve a session: user `none` (the session alone) and `kg` (a persona
inferred by the persona run's encoder from the session's items, as for held-out users).
`random` and `llm` user representations belong to known users (a learned row per user,
generated keywords) and are refused with that reason.
"""

import json
from dataclasses import dataclass, field

import numpy as np
import torch

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.errors import RecsysInputError, UnknownItems
from kgstore.graph.mapping import Domain
from kgstore.graph.runs import train_run
from kgstore.graph.sequences import read_sequences
from kgstore.graph.split import LeaveOneOut
from kgstore.personas.infer import PersonaEncoder, infer_personas, load_encoder
from kgstore.recsys.grid import parse_row
from kgstore.recsys.leakage import checked, persona_check
from kgstore.recsys.model_store import load_model
from kgstore.train.sasrec import SASRec, SASRecConfig, build_model

SESSION_USERS = ("none", "kg")


@dataclass(frozen=True)
class ScoredSession:
    """Every item's score after a session (index 0 is padding), and the persona a kg row
    scored with (None for user none)."""

    scores: torch.Tensor
    persona: np.ndarray | None


@dataclass
class SessionModel:
    run: str
    row: str
    domain: Domain
    config: SASRecConfig
    model: SASRec
    items: tuple[str, ...]
    """Item ids in the model's index order (index i + 1 is items[i])."""
    index: dict[str, int]
    titles: dict[str, str | None]
    persona_run: str | None
    encoder: PersonaEncoder | None
    notes: list[str] = field(default_factory=list)
    """Labels every answer must carry: a stale persona run used with `allow_stale`."""

    def unknown(self, session: list[str]) -> list[str]:
        """The session's items this model has no row for, each once, in session order."""
        return [item for item in dict.fromkeys(session) if item not in self.index]

    def personas(self, sessions: list[list[str]]) -> np.ndarray | None:
        """[sessions, width]: each session's persona (kg rows), None for user none. A
        session's persona is the same alone or among others (kgstore.personas.infer), so
        the service infers the personas of the requests that arrive together at once."""
        return None if self.encoder is None else infer_personas(self.encoder, sessions)

    def score(self, session: list[str], persona: np.ndarray | None = None) -> ScoredSession:
        """Scores of every item after `session` (known items only: see `unknown`); the
        model sees its last max_len items, a kg persona is inferred from all of them
        unless given (`personas`)."""
        if persona is None and self.encoder is not None:
            persona = infer_personas(self.encoder, [session])[0]
        user = None if persona is None else torch.from_numpy(persona[None]).float()
        seq = torch.tensor([[self.index[item] for item in session[-self.config.max_len :]]])
        with torch.no_grad():
            scores = self.model.score(self.model(seq, user)[0, -1])
        return ScoredSession(scores, persona)

    def check(self, session: list[str]) -> None:
        """Refuse an empty session or one naming items the model has no row for."""
        if not session:
            raise RecsysInputError("the session is empty: give at least one item id")
        unknown = self.unknown(session)
        if unknown:
            raise UnknownItems(
                f"{len(unknown)} session item(s) unknown to run {self.run} "
                f"({self.domain.value}): " + ", ".join(unknown[:5])
            )

    def top(
        self,
        session: list[str],
        k: int,
        exclude_session: bool = True,
        persona: np.ndarray | None = None,
    ) -> tuple[list[tuple[str, float]], np.ndarray | None]:
        """The `k` best (item, score) after `session`, best first, and the persona used
        (inferred unless given). `exclude_session` leaves out every item of the session,
        not only the window's."""
        self.check(session)
        scored = self.score(session, persona)
        scores = scored.scores  # column 0, padding, is -inf already
        if exclude_session:
            scores[[self.index[item] for item in session]] = float("-inf")
        count = min(k, len(self.items) - (len(set(session)) if exclude_session else 0))
        top = torch.topk(scores, max(count, 0))
        return (
            [
                (self.items[i - 1], float(value))
                for i, value in zip(top.indices.tolist(), top.values.tolist(), strict=True)
            ],
            scored.persona,
        )


def latest_session_model(db: Database, domain: Domain | None = None) -> str:
    """The newest finished SASRec run (retriever or reranker) that can serve a session,
    of `domain` when given."""
    rows = db.query(
        "MATCH (r:Run {kind: 'train', status: 'finished'}) "
        "WHERE r.model IN ['sasrec-retriever', 'sasrec-reranker'] "
        "RETURN r.id AS id, r.metrics AS metrics ORDER BY r.finishedAt DESC"
    )
    for row in rows:
        metrics = json.loads(row["metrics"])
        if domain is not None and metrics.get("domain") != domain.value:
            continue
        if parse_row(metrics["row"])[0] in SESSION_USERS:
            return row["id"]
    of = f" for {domain.value}" if domain is not None else ""
    raise RecsysInputError(
        f"no finished retriever{of} that serves sessions (user none or kg): train one with "
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


def load_session_model(
    db: Database, store: ArtifactStore, run_id: str | None = None, allow_stale: bool = False
) -> SessionModel:
    """Run `run_id`'s model (the latest that can serve a session when None), ready to
    score. A kg model's persona run made from other training interactions than the graph
    holds now is refused unless `allow_stale`, then labelled (kgstore.recsys.leakage)."""
    run_id = run_id or latest_session_model(db)
    metrics, config = _finished_sasrec_run(db, run_id)
    if config.user not in SESSION_USERS:
        raise RecsysInputError(
            f"run {run_id} is a {config.user}/{config.item} retriever: its user representation "
            f"belongs to known users; an anonymous session needs user none or kg"
        )
    domain = Domain(metrics["domain"])
    saved = load_model(store, metrics["checkpoint"])
    encoder, notes, persona = None, [], None
    if config.user == "kg":
        encoder = load_encoder(db, store, saved.persona_run)
        split = LeaveOneOut.of(read_sequences(db, domain))
        notes = checked([persona_check(encoder.snapshot, split, encoder.run)], allow_stale)
        encoder.session_paths  # noqa: B018 (made now, not on the first request)
        # only the persona's width matters to build_model: the trained projection's input
        persona = torch.zeros(1, saved.state["user_projection.weight"].shape[1])
    features = saved.state.get("item_features")  # frozen texts of a projection model
    if config.item == "description" and features is None:
        # a text-initialised table: the start is overwritten by the trained weights below
        features = torch.zeros(len(saved.items) + 1, config.hidden_channels)
    model = build_model(config, len(saved.items), 0, persona, features)
    model.load_state_dict(saved.state)
    model.eval()
    titles = {
        row["id"]: row["title"]
        for row in db.query(
            "MATCH (i:Item) WHERE i.id IN $ids RETURN i.id AS id, i.title AS title",
            ids=list(saved.items),
        )
    }
    return SessionModel(
        run=run_id,
        row=metrics["row"],
        domain=domain,
        config=config,
        model=model,
        items=saved.items,
        index={item: i for i, item in enumerate(saved.items, start=1)},
        titles=titles,
        persona_run=saved.persona_run,
        encoder=encoder,
        notes=notes,
    )
