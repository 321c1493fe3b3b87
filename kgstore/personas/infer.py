"""Personas for anonymous sessions: a user the persona run never saw, known only by the
items of the current session.

The paper looks personas up by user id although it calls its sessions anonymous. Here the
trained encoder is applied inductively instead: the session becomes a new user node whose
edges are its items, so along every meta-path it reaches items/entities (their mean
features, exactly as for a training user) and meta-path partners — the training users
it shares the most down-weighted items/entities with, capped at the run's `neighbours`.
One GCN row is computed for it with the stored users' inputs (the training users' own
rows are not changed by the newcomer), and the run's fixed semantic-attention weights
fuse the paths. Its random input feature is the mean of N(0, sigma^2 I), zero.

Nothing is fitted to the sessions of a call: partners are ranked against the training
graph's reach and hub degrees, each row is a mean over the session and its own partners,
and beta is the run's. So a session's persona is the same alone or among others.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp
import torch

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.errors import PersonaError
from kgstore.export.snapshot import GraphSnapshot
from kgstore.export.store import get_snapshot
from kgstore.graph.mapping import Domain
from kgstore.graph.runs import train_run
from kgstore.models.hdgi import HDGI, MetaPathInput
from kgstore.models.sparse_product import SparseProduct
from kgstore.personas.checkpoint import Checkpoint, get_checkpoint
from kgstore.train.hdgi import (
    HDGIConfig,
    PersonaGraph,
    encode_users,
    fit_semantic_weights,
    persona_graph,
)
from kgstore.train.metapaths import (
    item_links,
    pair_weights,
    parse_metapath,
    reach_matrix,
    row_normalise,
    top_k_rows,
)
from kgstore.train.persona_batches import reached_features, remap_columns


@dataclass(frozen=True)
class SessionPath:
    links: tuple[sp.csr_matrix, str] | None
    """`item_links` of the path (None for UIU, whose mid nodes are the items)."""
    reach_transposed: sp.csr_matrix
    """The training users' reachᵀ as CSR, for `pair_weights`."""


@dataclass
class PersonaEncoder:
    """A finished persona run's encoder with the graph it was trained on."""

    run: str
    snapshot: GraphSnapshot
    graph: PersonaGraph
    model: HDGI
    config: HDGIConfig
    """The run's config: its neighbours cap for new users, its batch size to encode all
    users again, its sizes to build an untrained encoder of the same shape."""

    @cached_property
    def item_rows(self) -> dict[str, int]:
        return {item: row for row, item in enumerate(self.snapshot.items)}

    @cached_property
    def session_paths(self) -> list["SessionPath"]:
        """Per meta-path what every inference reuses: made per call, these cost O(graph)
        a session (the service's latency grew with the catalogue)."""
        made = []
        for path in self.graph.paths:
            shape, family = parse_metapath(path.name)
            links = None if shape == "UIU" else item_links(self.snapshot, family)
            made.append(SessionPath(links, path.reach.T.tocsr()))
        return made

    def encode_all(self) -> np.ndarray:
        """Every user of the run, encoded now (as its personas were written back), rows
        in the snapshot's user order."""
        return encode_users(self.model, self.graph, self.config.batch_size, "cpu")


def latest_persona_run(db: Database, domain: Domain) -> str:
    """The domain's newest finished persona run: the one whose personas the domain's users
    hold (each run of a domain replaces the domain's personas; other domains keep theirs)."""
    rows = db.query(
        "MATCH (r:Run {kind: 'train', model: 'hdgi', status: 'finished', domain: $domain}) "
        "RETURN r.id AS id ORDER BY r.finishedAt DESC LIMIT 1",
        domain=domain.value,
    )
    if not rows:
        raise PersonaError(
            f"no finished persona run for {domain.value}: run "
            f"`kgctl train hdgi --domain {domain.value}` first"
        )
    return rows[0]["id"]


def session_domain(db: Database, items: list[str]) -> Domain:
    """The domain of an anonymous session, read from its items' labels (Movie, Book). Each
    domain has its own persona run, so a session mixing domains, or naming items the graph
    does not hold, is refused, naming them."""
    if not items:
        raise PersonaError("the session is empty: give at least one item id")
    labels = {domain.label: domain for domain in Domain}
    found = {
        row["id"]: labels[row["label"]]
        for row in db.query(
            "MATCH (i:Item) WHERE i.id IN $ids UNWIND labels(i) AS label "
            "WITH i, label WHERE label IN $labels RETURN i.id AS id, label",
            ids=items,
            labels=list(labels),
        )
    }
    named = list(dict.fromkeys(items))
    unknown = [item for item in named if item not in found]
    if unknown:
        raise PersonaError(
            f"the session names {len(unknown)} item(s) not in the graph as movies or books "
            f"items: {', '.join(unknown)}"
        )
    by_domain: dict[Domain, list[str]] = {}
    for item in named:
        by_domain.setdefault(found[item], []).append(item)
    if len(by_domain) > 1:
        each = "; ".join(f"{domain.value}: {', '.join(ids)}" for domain, ids in by_domain.items())
        raise PersonaError(
            f"the session mixes domains ({each}): personas are learned per domain, so give "
            "the items of one"
        )
    [domain] = by_domain
    return domain


def session_encoder(
    db: Database,
    store: ArtifactStore,
    items: list[str],
    run: str | None = None,
    domain: Domain | None = None,
) -> PersonaEncoder:
    """The encoder for a session: `run`'s, else the newest persona run of the session's
    domain (`session_domain`). A `domain` or a run of another domain than the items' is
    refused: a persona encoder knows the items of its own domain only."""
    found = session_domain(db, items)
    if domain is not None and domain is not found:
        raise PersonaError(f"the session's items are {found.value} items, not {domain.value}")
    encoder = load_encoder(db, store, run or latest_persona_run(db, found))
    if encoder.snapshot.domain != found.value:
        raise PersonaError(
            f"run {encoder.run} learned {encoder.snapshot.domain} personas; the session's "
            f"items are {found.value} items"
        )
    return encoder


def load_encoder(db: Database, store: ArtifactStore, run_id: str) -> PersonaEncoder:
    run = train_run(db, run_id, "hdgi")
    if run.status != "finished":
        raise PersonaError(f"run {run_id} has no encoder ({run.status or 'not a persona run'})")
    checkpoint = get_checkpoint(store, run.metrics["checkpoint"])
    snapshot = get_snapshot(store, checkpoint.snapshot_key)
    graph = persona_graph(snapshot, checkpoint.config)
    model = fitted_model(checkpoint, graph)
    return PersonaEncoder(run_id, snapshot, graph, model, checkpoint.config)


def domain_encoder(
    db: Database, store: ArtifactStore, run_id: str, domain: Domain
) -> PersonaEncoder:
    """`load_encoder`, refused with a PersonaError when the run learned another domain's
    personas."""
    encoder = load_encoder(db, store, run_id)
    if encoder.snapshot.domain != domain.value:
        raise PersonaError(
            f"run {run_id} learned {encoder.snapshot.domain} personas, not {domain.value}"
        )
    return encoder


def fitted_model(checkpoint: Checkpoint, graph: PersonaGraph) -> HDGI:
    """The checkpoint's encoder with its stored beta; a checkpoint from before beta was
    stored gets it derived from the run's training graph exactly as training now fits it
    (over every training user), which for a full-batch run is the beta its written-back
    personas were fused with."""
    model = checkpoint.model()
    if not model.fitted:
        fit_semantic_weights(model, graph, checkpoint.config.batch_size, "cpu")
    return model


def session_matrix(encoder: PersonaEncoder, sessions: list[list[str]]) -> sp.csr_matrix:
    """[sessions, items] 0/1 of the sessions' items the run knows; a session with none
    is refused, naming it ("the session" when it is the only one)."""
    rows = encoder.item_rows
    data: list[tuple[int, int]] = []
    for number, session in enumerate(sessions):
        known = [rows[item] for item in session if item in rows]
        if not known:
            name = "the session" if len(sessions) == 1 else f"session {number + 1}"
            raise PersonaError(
                f"{name}: none of its items ({', '.join(session[:5])}) is in "
                f"the {encoder.snapshot.domain} graph of run {encoder.run}"
            )
        data += [(number, row) for row in known]
    pairs = np.asarray(sorted(set(data)), dtype=np.int64)
    return sp.csr_matrix(
        (np.ones(len(pairs), np.float32), (pairs[:, 0], pairs[:, 1])),
        shape=(len(sessions), len(rows)),
    )


def infer_personas(encoder: PersonaEncoder, sessions: list[list[str]]) -> np.ndarray:
    """[sessions, hidden]: a persona for each session (a list of item ids)."""
    rated = session_matrix(encoder, sessions)
    count = rated.shape[0]
    reaches, kept = [], []
    for path, made in zip(encoder.graph.paths, encoder.session_paths, strict=True):
        reach, _ = reach_matrix(rated, encoder.snapshot, path.name, made.links)
        weights = pair_weights(reach, path.reach, path.mid_degree, made.reach_transposed)
        reaches.append(reach)
        kept.append(top_k_rows(weights, encoder.config.neighbours))
    sources = np.unique(np.concatenate([matrix.indices for matrix in kept]))
    inputs = []
    for path, reach, partners in zip(encoder.graph.paths, reaches, kept, strict=True):
        adjacency = _session_rows(partners, sources, count)
        reached = torch.cat(
            [
                reached_features(path, sources, encoder.graph.features),
                torch.from_numpy(
                    np.asarray(row_normalise(reach) @ encoder.graph.features[path.mid_type])
                ),
            ]
        )
        inputs.append(MetaPathInput(path.name, path.mid_type, SparseProduct.of(adjacency), reached))
    x_user = torch.cat(
        [
            encoder.graph.x_user[torch.from_numpy(sources)],
            torch.zeros(count, encoder.graph.x_user.shape[1]),
        ]
    )
    with torch.no_grad():
        return encoder.model.encode(x_user, inputs).numpy()


def _session_rows(partners: sp.csr_matrix, sources: np.ndarray, count: int) -> sp.csr_matrix:
    """[sessions, sources + sessions]: each session's row of the mean over itself and its
    partners, as the training users' rows are built (`metapaths.mean_normalise`)."""
    binary = partners.copy()
    binary.data[:] = 1.0
    share = 1.0 / (np.asarray(binary.sum(axis=1)).ravel() + 1.0)
    rows = np.repeat(np.arange(count), np.diff(binary.indptr))
    neighbours = remap_columns(
        sp.csr_matrix(
            (share[rows].astype(np.float32), binary.indices, binary.indptr), shape=binary.shape
        ),
        sources,
    )
    return sp.hstack([neighbours, sp.diags(share.astype(np.float32))]).tocsr()
