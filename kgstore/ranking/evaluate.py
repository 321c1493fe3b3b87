"""Evaluating, retrieving with and reranking by a trained SASRec, over `SequenceTensors` of the
leave-one-out split (kgstore.ranking.data).

Every function scores from the hidden state at each sequence's last real position (the
prediction of the item that follows it), in length-sorted batches cut to their longest
member, without gradients. The metric conventions are those of kgstore.ranking.metrics.

The reranking protocol (the paper's second stage): the retriever returns its top K
candidates per user over the full catalogue; the reranker scores only those K and the
positive's rank is its place among them. A positive the retriever did not return counts as
a miss at every cutoff — so HR@K of the reranked list equals the retriever's HR@K, and
only the order inside the K can improve.

Leaving the user's history out (`exclude_history`) never leaves out the positive itself,
in ranking and in retrieval alike (a repeated item is a fair target), and a retriever's
K never holds the padding item or an excluded one: where fewer than K items are left, the
rest of the row is `NO_CANDIDATE` (-1), which the reranker scores -inf (never counted).
Non-finite scores are a `ModelDiverged` error naming the evaluation row and user index.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor

from kgstore.errors import ModelDiverged
from kgstore.models.sasrec import SASRec
from kgstore.ranking.data import SequenceTensors, length_batches
from kgstore.ranking.metrics import FULL, RankingMetrics, check_finite, ranks, sampled_ranks

NO_CANDIDATE = -1
"""Fills a retriever's row where fewer than K items could be candidates."""


def user_input(model: SASRec, users: Tensor, user_vectors: Tensor | None) -> Tensor | None:
    """What `model.forward` takes as `user` for these user indices: the indices themselves
    (learned table), their rows of `user_vectors` (projected vectors), or None."""
    if model.user_embedding is not None:
        return users
    if model.user_projection is not None:
        if user_vectors is None:
            raise ValueError("this SASRec takes user vectors: pass user_vectors")
        return user_vectors[users]
    return None


def _last_scores(
    model: SASRec,
    seqs: SequenceTensors,
    batch_size: int,
    user_vectors: Tensor | None,
    items: Tensor | None = None,
) -> Iterator[tuple[Tensor, Tensor]]:
    """(row indices, scores of all items — or of `items[rows]`) per length-sorted batch;
    one batch of scores in memory at a time."""
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        for rows in length_batches(seqs.lengths, batch_size):
            width = int(seqs.lengths[rows].max())
            user = user_input(model, seqs.users[rows], user_vectors)
            h = model(
                seqs.items[rows, :width].to(device), None if user is None else user.to(device)
            )
            last = h[torch.arange(len(rows), device=device), seqs.lengths[rows].to(device) - 1]
            candidates = None if items is None else items[rows].to(device)
            yield rows, model.score(last, candidates)


@contextmanager
def _naming_rows(rows: Tensor, seqs: SequenceTensors) -> Iterator[None]:
    """Re-raise a batch's `ModelDiverged` naming the evaluation row and its user index."""
    try:
        yield
    except ModelDiverged as exc:
        if exc.row is None:
            raise
        row = int(rows[exc.row])
        raise ModelDiverged(
            f"evaluation row {row} (user index {int(seqs.users[row])}): {exc}"
        ) from None


def evaluate(
    model: SASRec,
    seqs: SequenceTensors,
    ks: tuple[int, ...] = (10, 100),
    exclude_history: bool = False,
    sampled_negatives: int = 0,
    seed: int = 0,
    batch_size: int = 1024,
    user_vectors: Tensor | None = None,
) -> RankingMetrics:
    """Each user's rank of `seqs.positives`: by full ranking over all items (default), with
    the user's history left out when `exclude_history`; or, when `sampled_negatives` > 0,
    among that many uniform negatives drawn from `seed` (the same ones at every call;
    history exclusion is for full ranking only)."""
    if exclude_history and sampled_negatives:
        raise ValueError("exclude_history applies to full ranking, not to sampled negatives")
    rank = torch.empty(len(seqs), dtype=torch.float64)
    generator = torch.Generator(device=next(model.parameters()).device).manual_seed(seed)
    for rows, scores in _last_scores(model, seqs, batch_size, user_vectors):
        positives = seqs.positives[rows].to(scores.device)
        with _naming_rows(rows, seqs):
            if sampled_negatives:
                check_finite(scores, scores.gather(1, positives.view(-1, 1)))
                rank[rows] = sampled_ranks(scores, positives, sampled_negatives, generator).cpu()
            else:
                history = seqs.history[rows].to(scores.device) if exclude_history else None
                rank[rows] = ranks(scores, positives, history, overwrite=True).cpu()
    protocol = f"sampled {sampled_negatives}" if sampled_negatives else FULL
    return RankingMetrics(rank, ks, protocol, exclude_history)


def retrieve(
    model: SASRec,
    seqs: SequenceTensors,
    k: int = 100,
    exclude_history: bool = False,
    batch_size: int = 1024,
    user_vectors: Tensor | None = None,
) -> Tensor:
    """The retriever's top `k` item indices per row of `seqs` `[N, k]`, best first (the
    user's history left out when `exclude_history`, but never the row's positive when
    `seqs` has positives); `NO_CANDIDATE` where fewer than `k` items are left."""
    k = min(k, model.num_items)
    candidates = torch.empty(len(seqs), k, dtype=torch.long)
    for rows, scores in _last_scores(model, seqs, batch_size, user_vectors):
        positives = None
        if seqs.positives is not None:
            positives = seqs.positives[rows].view(-1, 1).to(scores.device)
            positive_scores = scores.gather(1, positives)
            with _naming_rows(rows, seqs):
                check_finite(scores, positive_scores)
        if exclude_history:
            history = seqs.history[rows].to(scores.device)
            scores.scatter_(1, history.clamp(min=0), float("-inf"))
            if positives is not None:
                scores.scatter_(1, positives, positive_scores)
        values, top = scores.topk(k, dim=1)
        candidates[rows] = top.masked_fill(values == float("-inf"), NO_CANDIDATE).cpu()
    return candidates


def rerank(
    reranker: SASRec,
    seqs: SequenceTensors,
    candidates: Tensor,
    ks: tuple[int, ...] = (10, 100),
    batch_size: int = 1024,
    user_vectors: Tensor | None = None,
    history_excluded: bool = False,
) -> RankingMetrics:
    """Ranks of `seqs.positives` after `reranker` reorders each row's `candidates` (from
    `retrieve`); +inf (a miss at every cutoff) where the positive is not a candidate.
    `history_excluded` says whether `retrieve` left the history out, for the label."""
    rank = torch.full((len(seqs),), float("inf"), dtype=torch.float64)
    missing = candidates == NO_CANDIDATE
    scored = candidates.clamp(min=0)
    for rows, scores in _last_scores(reranker, seqs, batch_size, user_vectors, scored):
        scores.masked_fill_(missing[rows].to(scores.device), float("-inf"))
        found = candidates[rows] == seqs.positives[rows].unsqueeze(1)
        present = found.any(dim=1)
        if not bool(present.any()):
            continue
        column = found.long().argmax(dim=1).to(scores.device)
        keep = present.to(scores.device)
        with _naming_rows(rows[present], seqs):
            rank[rows[present]] = ranks(scores[keep], column[keep], overwrite=True).cpu()
    label = f"{FULL}, top {candidates.size(1)} reranked"
    return RankingMetrics(rank, ks, label, history_excluded)
