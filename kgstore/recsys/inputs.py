"""What the recommender reads from the stored graph: a domain's sequences and their
leave-one-out split, and the user and item representations of the retriever.

Everything here only reads Neo4j (and the persona run's encoder from the artifact store)
and refuses with a message naming the command that makes what is missing, so a grid fails
before its first model trains, not after an hour.

User representations, rows in `Vocabulary.users` order:
- `llm`: each user's stored preference keywords (`kgctl generate keywords`), embedded;
- `kg`: the user's HDGI persona of this domain, stored by the domain's latest persona run
  (`kgctl train hdgi --domain`; a run of another domain never replaces it). Users the run
  never saw (held out of persona learning, or added later) are known users, but have no
  stored persona: theirs is inferred by the run's encoder from their *training* items.
- `kg:<run>`: the personas of that persona run, computed now from its encoder (exactly
  what it wrote back), the users it did not train on inferred as above;
- `untrained` / `mean`: baselines that need no training (kgstore.personas.baselines);
- `metapath2vec`: the structural baseline, MetaPath2Vec trained now on the latest persona
  run's training graph (kgstore.personas.metapath2vec).
Item representation `description`: the stored `Item.textEmbedding`, row 0 padding, with
its items counted per `textSource` (title, uri name, KG facts, placeholder, ...).
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.embeddings.base import Embedder
from kgstore.embeddings.texts import UNRECORDED_SOURCE, sources_summary
from kgstore.embeddings.user_vectors import user_keyword_vectors
from kgstore.errors import PersonaError, RecsysInputError
from kgstore.graph.mapping import Domain, cypher_label
from kgstore.graph.sequences import read_sequences
from kgstore.graph.split import LeaveOneOut
from kgstore.personas.baselines import mean_item_vectors, untrained_encoder
from kgstore.personas.infer import (
    PersonaEncoder,
    domain_encoder,
    infer_personas,
    latest_persona_run,
    load_encoder,
)
from kgstore.personas.legacy import legacy_note
from kgstore.personas.metapath2vec import structural_personas, train_metapath2vec
from kgstore.personas.stored import read_personas
from kgstore.ranking.data import SequenceData, Vocabulary, sequence_data
from kgstore.recsys.names import RUN_PREFIX


@dataclass(frozen=True)
class DomainSplit:
    """A domain's leave-one-out split and its tensors (the one split every stage uses)."""

    domain: Domain
    split: LeaveOneOut
    data: SequenceData

    @property
    def vocabulary(self) -> Vocabulary:
        return self.data.vocabulary


def load_split(db: Database, domain: Domain, max_len: int, min_users: int) -> DomainSplit:
    """The domain's sequences from Neo4j, split; fewer than `min_users` evaluated users is
    refused (metrics over a handful of users say nothing)."""
    split = LeaveOneOut.of(read_sequences(db, domain))
    evaluated = len(split.test)
    if evaluated < min_users:
        raise RecsysInputError(
            f"{domain.value} has {evaluated} users with at least 3 interactions, fewer than "
            f"the {min_users} a recommender run needs: ingest more data "
            f"(`kgctl ingest … --domain {domain.value}`)"
        )
    return DomainSplit(domain, split, sequence_data(split, max_len=max_len))


def item_text_features(db: Database, domain: Domain, vocabulary: Vocabulary) -> tuple[Tensor, str]:
    """`[num_items + 1, d]` stored text embeddings in vocabulary order, row 0 zeros, and a
    label saying which texts they encode (items per `textSource`, so a table's notes tell
    titles from uri names and placeholders)."""
    row = db.columns(
        f"MATCH (i:Item:{cypher_label(domain.label)}) WHERE i.textEmbedding IS NOT NULL "
        "RETURN collect(i.id) AS ids, collect(i.textEmbedding) AS x, "
        "collect(coalesce(i[$source], $unrecorded)) AS sources",
        source="textSource",
        unrecorded=UNRECORDED_SOURCE,
    )
    by_id = dict(zip(row["ids"], row["x"], strict=True))
    missing = [item for item in vocabulary.items if item not in by_id]
    if missing:
        raise RecsysInputError(
            f"{len(missing):,} {domain.value} items have no textEmbedding (first: "
            f"{missing[0]!r}): run `kgctl embed items` first"
        )
    vectors = np.asarray([by_id[item] for item in vocabulary.items], dtype=np.float32)
    source_of = dict(zip(row["ids"], row["sources"], strict=True))
    sources = Counter(source_of[item] for item in vocabulary.items)
    label = f"{len(vocabulary.items):,} item vectors from {sources_summary(sources)}"
    return torch.cat([torch.zeros(1, vectors.shape[1]), torch.from_numpy(vectors)]), label


def keyword_vectors(
    db: Database, embedder: Embedder, domain: Domain, vocabulary: Vocabulary
) -> tuple[Tensor, str]:
    """`[num_users, d]` embedded preference keywords and their label (which says when the
    non-LLM text made them)."""
    vectors = user_keyword_vectors(db, embedder, domain, vocabulary.users)
    missing = [user for user in vocabulary.users if user not in vectors.vectors]
    if missing:
        raise RecsysInputError(
            f"{len(missing):,} {domain.value} users have no preference keywords (first: "
            f"{missing[0]!r}): run `kgctl generate keywords --domain {domain.value}` first"
        )
    matrix = np.stack([vectors.vectors[user] for user in vocabulary.users]).astype(np.float32)
    return torch.from_numpy(matrix), vectors.label


@dataclass
class Personas:
    """`[num_users, d]` persona rows, the run that made them (or whose training graph
    they were learnt on), which users' rows were inferred from their training items (no
    stored persona), and the run's encoder."""

    vectors: Tensor
    run: str
    inferred: frozenset[str]
    encoder: PersonaEncoder
    method: str = "HDGI personas"

    @property
    def label(self) -> str:
        held_out = len(self.held_out)
        added = len(self.inferred) - held_out
        since = f", {added:,} users added since the run" if added else ""
        return (
            f"{self.method} of run {self.run}; users without a stored persona inferred from "
            f"their training items: {held_out:,} held out of persona learning{since}"
        )

    @property
    def held_out(self) -> frozenset[str]:
        """The inferred users the run held out of persona learning (the anonymous-session
        slice): not users that arrived after the run, who were never held out."""
        return self.inferred & frozenset(self.encoder.snapshot.held_out_users)


def latest_encoder(db: Database, store: ArtifactStore, domain: Domain) -> PersonaEncoder:
    """The encoder of the domain's latest finished persona run, or a PersonaError naming
    the command that makes one."""
    try:
        run = latest_persona_run(db, domain)
    except PersonaError:
        raise PersonaError(
            f"no personas for {domain.value}: run `kgctl train hdgi --domain {domain.value}` "
            "first (or leave out the rows with user kg, untrained or metapath2vec)"
        ) from None
    return load_encoder(db, store, run)


def persona_encoders(
    db: Database, store: ArtifactStore, domain: Domain, sources: Sequence[str]
) -> dict[str, PersonaEncoder]:
    """The encoder behind each persona source among the rows' user `sources`: `kg` the
    domain's latest persona run, `kg:<run>` that run, `untrained` the latest run's encoder
    at its initialisation, `metapath2vec` the latest run's (for its training graph). The
    other users (none, random, llm, mean) need none."""
    encoders: dict[str, PersonaEncoder] = {}
    latest: PersonaEncoder | None = None  # read once, whichever row asks first
    for source in dict.fromkeys(sources):
        if source in ("kg", "untrained", "metapath2vec"):
            latest = latest or latest_encoder(db, store, domain)
            encoders[source] = untrained_encoder(latest) if source == "untrained" else latest
        elif source.startswith(RUN_PREFIX):
            encoders[source] = run_encoder(db, store, domain, source.removeprefix(RUN_PREFIX))
    return encoders


def run_encoder(db: Database, store: ArtifactStore, domain: Domain, run: str) -> PersonaEncoder:
    """The encoder of the persona run a `kg:<run>` row names, or a PersonaError naming the
    row (an unknown run, one that did not finish, one of another domain)."""
    try:
        return domain_encoder(db, store, run, domain)
    except PersonaError as exc:
        raise PersonaError(f"row user {RUN_PREFIX}{run}: {exc}") from None


def persona_source_vectors(
    db: Database,
    store: ArtifactStore,
    domain: Domain,
    split: DomainSplit,
    source: str,
    encoder: PersonaEncoder,
) -> Personas:
    """`kg`: the personas the graph holds (`persona_vectors`); `metapath2vec` trained now
    on the run's graph (`metapath2vec_personas`); any other persona source computed now by
    its encoder (`encoded_personas`)."""
    if source == "kg":
        return persona_vectors(db, store, domain, split, encoder)
    if source == "metapath2vec":
        return metapath2vec_personas(encoder, split)
    return encoded_personas(encoder, split)


def persona_vectors(
    db: Database,
    store: ArtifactStore,
    domain: Domain,
    split: DomainSplit,
    encoder: PersonaEncoder | None = None,
) -> Personas:
    """The stored personas of the domain's users by `encoder`'s run (default: the domain's
    latest finished persona run); the users it did not train on inferred by its encoder
    from their training items only. A user the run trained on who no longer holds its
    persona is refused, never inferred: they would be counted as held out (the
    anonymous-session slice) without being so."""
    encoder = encoder or latest_encoder(db, store, domain)
    run = encoder.run
    by_user = read_personas(db, domain, run)
    users = split.vocabulary.users
    trained = set(encoder.snapshot.users)
    lost = [user for user in users if user in trained and user not in by_user]
    if lost:
        raise PersonaError(
            f"{len(lost):,} {domain.value} users the persona run {run} trained on no longer "
            f"hold its persona (first: {lost[0]!r}): run `kgctl train hdgi --domain "
            f"{domain.value}` again.{legacy_note(db)}"
        )
    return _with_inferred(by_user, encoder, split)


def encoded_personas(encoder: PersonaEncoder, split: DomainSplit) -> Personas:
    """Every user's persona computed now by `encoder`: the run's users encoded from its
    training graph (as its personas were written back), the others inferred from their
    training items. For personas the graph does not hold: a persona run other than the
    domain's latest (`kg:<run>` rows) and the untrained baseline."""
    encoded = dict(zip(encoder.snapshot.users, encoder.encode_all(), strict=True))
    return _with_inferred(encoded, encoder, split)


def metapath2vec_personas(encoder: PersonaEncoder, split: DomainSplit) -> Personas:
    """MetaPath2Vec vectors learnt on `encoder`'s training graph: the run's users their own,
    every other user the mean of their training items' vectors."""
    users = split.vocabulary.users
    matrix, inferred = structural_personas(
        train_metapath2vec(encoder.snapshot),
        encoder.snapshot,
        users,
        [split.split.train[user] for user in users],
    )
    method = "MetaPath2Vec vectors (UIEIU walks) on the training graph"
    return Personas(torch.from_numpy(matrix), encoder.run, inferred, encoder, method)


def _with_inferred(
    by_user: dict[str, np.ndarray], encoder: PersonaEncoder, split: DomainSplit
) -> Personas:
    """`by_user` completed with the personas `encoder` infers for the split's other users
    from their training items, as rows in vocabulary order."""
    users = split.vocabulary.users
    unseen = [user for user in users if user not in by_user]
    if unseen:
        inferred = infer_personas(encoder, [split.split.train[user] for user in unseen])
        by_user = {**by_user, **dict(zip(unseen, inferred, strict=True))}
    matrix = np.stack([by_user[user] for user in users]).astype(np.float32)
    return Personas(torch.from_numpy(matrix), encoder.run, frozenset(unseen), encoder)


def training_mean_vectors(features: Tensor, split: DomainSplit) -> Tensor:
    """The `mean` baseline: each user's mean item text vector over their training items,
    rows in vocabulary order (`features` from `item_text_features`)."""
    index = split.vocabulary.item_index()
    histories = [
        [index[item] for item in split.split.train[user]] for user in split.vocabulary.users
    ]
    return mean_item_vectors(features, histories)


def session_personas(encoder: PersonaEncoder, sessions: Sequence[Sequence[str]]) -> Tensor:
    """`[sessions, d]` personas inferred from nothing but each session's items."""
    return torch.from_numpy(infer_personas(encoder, [list(s) for s in sessions]).astype(np.float32))
