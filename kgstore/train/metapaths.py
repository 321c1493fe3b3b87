"""Meta-path neighbourhoods of users, built sparse and capped.

A meta-path name is `UIU` (users who rated the same items), `UIEIU:<family>` (users whose
items share an entity of one relation family: the same director, genre, …) or
`UIIU:also` (users whose items are linked by also-bought/also-viewed). Families group the
mapping table's item relationships (`RELATION_FAMILIES`); every item relationship type
belongs to exactly one, checked at import.

Why capped: through a hub (a category on thousands of items, a popular film) U-I-E-I-U
connects most pairs of users, so the product B·Bᵀ is dense in practice. It is never
materialised whole: rows are computed a chunk of users at a time, each pair weighted by
the paths joining them with every shared node down-weighted by its degree
(w_uv = Σ_m B_um B_vm / deg(m), so a hub counts little), and only each user's
`neighbours` strongest partners are kept (ties broken by row order, so the result is
deterministic). The kept graph is symmetrised and row-normalised with self loops,
D^-1 (A + I) (a mean over the user and its partners): at most 2·k·N entries. Not GCN's
D^-1/2 (A + I) D^-1/2: its rows sum to a degree-dependent number, so the large mean
component every text embedding shares (and every bias) would reach a user scaled by its
degree, and degree would swamp the content in the personas (measured on the demo: NMI of
the planted groups 0.17 before the propagation, 0.05 after).

Why hubs are split (`hub_cap`): even chunked, the pair weights cost Σ_m deg(m)² — through
a genre on 150 items every two of its thousands of users are a pair — so the build grew
quadratically with the users (Books shape 1x / 2x / 4x: 21 / 65 / 221 s). With a cap H,
the users of a mid node reached by more than H users are cut into ceil(deg / H) groups
of at most H (`split_hubs`: consecutive in a similarity order, so that users sharing many
hubs tend to share groups), and pairs are formed within a group only, each still weighted
1/deg(m). The work is then at most H per reached mid node, linear in the
users. Bounded approximation: a pair whose shared mid nodes all have at most H users
keeps its exact weight; one sharing a hub keeps that hub's 1/deg(m) < 1/H only when the
two were put into the same group. Which of a hub's many equal-weight partners a user
gets was arbitrary before too (the lowest rows). Its effect on the personas and the grid:
BENCHMARKS.md (issue 22). A new session (`personas.infer`) is one row, ranked exactly.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from kgstore.export.snapshot import GraphSnapshot
from kgstore.graph.mapping import BY_TYPE

RELATION_FAMILIES: dict[str, tuple[str, ...]] = {
    "people": (
        "DIRECTED_BY",
        "STARRING",
        "WRITTEN_BY",
        "MUSIC_BY",
        "COMPOSED_BY",
        "EXECUTIVE_PRODUCER",
        "PRODUCED_BY",
        "CREATED_BY",
        "PRESENTED_BY",
        "HAS_ARTIST",
        "AUTHORED_BY",
        "CINEMATOGRAPHY_BY",
        "EDITED_BY",
        "COVER_ART_BY",
    ),
    "genre": ("HAS_GENRE", "HAS_LITERARY_GENRE"),
    "subject": ("HAS_SUBJECT",),
    "works": ("IN_SERIES", "PREVIOUS_WORK", "SUBSEQUENT_WORK", "NOTABLE_WORK", "HAS_OPENING_THEME"),
    "award": ("WON_AWARD",),
    "catalog": (
        "IN_CATEGORY",
        "HAS_BRAND",
        "PUBLISHED_BY",
        "DISTRIBUTED_BY",
        "FROM_COUNTRY",
        "IN_LANGUAGE",
        "HAS_MEDIA_TYPE",
    ),
    "also": ("ALSO_BUY", "ALSO_VIEW", "BOUGHT_TOGETHER"),
}
ITEM_TO_ITEM_FAMILY = "also"
CHUNK_ENTRIES = 20_000_000
"""Dense-equivalent size of one chunk of the pair product (rows x users)."""


def _check_families() -> None:
    listed = [rel for rels in RELATION_FAMILIES.values() for rel in rels]
    item_relations = {rel for rel, r in BY_TYPE.items() if r.source_label == "Item"}
    if sorted(listed) != sorted(item_relations):
        wrong = {rel for rel in listed if listed.count(rel) > 1 or rel not in item_relations}
        raise ValueError(
            "RELATION_FAMILIES must list every item relationship type of the mapping table "
            f"once: missing {sorted(item_relations - set(listed))}, wrong {sorted(wrong)}"
        )
    for rel in RELATION_FAMILIES[ITEM_TO_ITEM_FAMILY]:
        if BY_TYPE[rel].target_label != "Item":
            raise ValueError(
                f"{rel} is in the item-to-item family but targets {BY_TYPE[rel].target_label}"
            )


_check_families()


@dataclass
class MetaPathGraph:
    """One meta-path over the snapshot's users, as scipy CSR matrices."""

    name: str
    mid_type: str
    adjacency: sp.csr_matrix
    """[users, users], row-normalised with self loops (see the module doc)."""
    user_to_mid: sp.csr_matrix
    """[users, mid nodes], rows summing to 1 (or 0 for a user the path does not reach)."""
    reach: sp.csr_matrix
    """[users, mid nodes], 0/1: what the pair weights are computed from."""
    mid_degree: np.ndarray
    """Users reaching each mid node (the hub down-weighting)."""
    degree: np.ndarray
    """Each user's neighbours in the capped, symmetrised graph (without the self loop)."""


def available_metapaths(snapshot: GraphSnapshot) -> list[str]:
    """`UIU` and one path per relation family the snapshot has edges of."""
    names = ["UIU"]
    for family, rels in RELATION_FAMILIES.items():
        if any(snapshot.relations.get(rel, np.empty((2, 0))).shape[1] for rel in rels):
            shape = "UIIU" if family == ITEM_TO_ITEM_FAMILY else "UIEIU"
            names.append(f"{shape}:{family}")
    return names


def parse_metapath(name: str) -> tuple[str, str | None]:
    """(`UIU` | `UIEIU` | `UIIU`, family or None); ValueError names what is allowed."""
    shape, _, family = name.partition(":")
    allowed = (
        f"UIU, UIEIU:<family>, UIIU:{ITEM_TO_ITEM_FAMILY}; families: {', '.join(RELATION_FAMILIES)}"
    )
    if shape == "UIU" and not family:
        return shape, None
    if shape == "UIEIU" and family in RELATION_FAMILIES and family != ITEM_TO_ITEM_FAMILY:
        return shape, family
    if shape == "UIIU" and family == ITEM_TO_ITEM_FAMILY:
        return shape, family
    raise ValueError(f"unknown meta-path {name!r} (known: {allowed})")


def rated_matrix(snapshot: GraphSnapshot) -> sp.csr_matrix:
    users, items = len(snapshot.users), len(snapshot.items)
    rows, cols = snapshot.rated
    return sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(users, items))


def item_links(snapshot: GraphSnapshot, family: str) -> tuple[sp.csr_matrix, str]:
    """[items, mid nodes] 0/1 links of one family, and the mid node type."""
    target = "Item" if family == ITEM_TO_ITEM_FAMILY else "Entity"
    size = len(snapshot.items) if target == "Item" else len(snapshot.entities)
    edges = [
        snapshot.relations[rel] for rel in RELATION_FAMILIES[family] if rel in snapshot.relations
    ]
    if not edges:
        return sp.csr_matrix((len(snapshot.items), size), dtype=np.float32), target
    src, dst = np.concatenate(edges, axis=1)
    links = sp.csr_matrix(
        (np.ones(len(src), np.float32), (src, dst)), shape=(len(snapshot.items), size)
    )
    if target == "Item":
        links = links + links.T  # also-bought is a relation between two items, either way
    links.data[:] = 1.0
    links.sum_duplicates()
    links.data[:] = 1.0
    return links.tocsr(), target


def reach_matrix(
    rated: sp.csr_matrix,
    snapshot: GraphSnapshot,
    name: str,
    links: tuple[sp.csr_matrix, str] | None = None,
) -> tuple[sp.csr_matrix, str]:
    """[users, mid nodes] 0/1 matrix of what each user reaches along the path, and the
    mid node type. Also used for a new session's items (`rated` with one row); `links`
    is `item_links`' answer for the path made before (the service reuses one per path
    instead of building it again for every session)."""
    shape, family = parse_metapath(name)
    if shape == "UIU":
        reach, mid_type = rated.copy(), "Item"
    else:
        links_matrix, mid_type = links if links is not None else item_links(snapshot, family)
        reach = (rated @ links_matrix).tocsr()
    reach.data[:] = 1.0
    reach.eliminate_zeros()
    return reach, mid_type


def build_metapath(
    snapshot: GraphSnapshot, name: str, neighbours: int, hub_cap: int = 0, seed: int = 0
) -> MetaPathGraph:
    """The path's capped neighbourhoods; `hub_cap` > 0 splits hubs (module doc), 0 is exact."""
    rated = rated_matrix(snapshot)
    reach, mid_type = reach_matrix(rated, snapshot, name)
    mid_degree = np.asarray(reach.sum(axis=0)).ravel()
    pairs, pair_degree = (
        split_hubs(reach, mid_degree, hub_cap, seed) if hub_cap else (reach, mid_degree)
    )
    kept = _top_neighbours(pairs, pair_degree, neighbours)
    symmetric = ((kept + kept.T) > 0).astype(np.float32)
    degree = np.asarray(symmetric.sum(axis=1)).ravel()
    return MetaPathGraph(
        name,
        mid_type,
        mean_normalise(symmetric, degree),
        row_normalise(reach),
        reach,
        mid_degree,
        degree,
    )


def split_hubs(
    reach: sp.csr_matrix, mid_degree: np.ndarray, cap: int, seed: int
) -> tuple[sp.csr_matrix, np.ndarray]:
    """([users, groups] 0/1, each group's mid degree): the users of every mid node reached
    by more than `cap` users cut into ceil(deg / cap) groups of consecutive users in the
    order of a similarity key, sizes differing by one at most; other mid nodes stay one
    group. The key is a random projection (seeded) of each user's down-weighted reach
    row, so users who share many mid nodes tend to land in the same groups (on the Books
    shape this keeps more of the exact partners' pair weight than dealing at random)."""
    rng = np.random.default_rng(seed)
    weighted = reach @ sp.diags(1.0 / np.maximum(mid_degree, 1.0))
    key = np.asarray(weighted @ rng.standard_normal(reach.shape[1])).ravel()
    by_mid = reach.tocsc()
    users = by_mid.indices
    mids = np.repeat(np.arange(by_mid.shape[1]), np.diff(by_mid.indptr))
    degree = mid_degree.astype(np.int64)
    groups = np.maximum(1, -(-degree // cap))
    order = np.lexsort((users, key[users], mids))
    rank = np.empty(len(users), np.int64)
    rank[order] = np.arange(len(users)) - by_mid.indptr[mids[order]]
    first = np.concatenate([[0], np.cumsum(groups)[:-1]])
    columns = first[mids] + rank * groups[mids] // np.maximum(degree[mids], 1)
    grouped = sp.csr_matrix(
        (np.ones(len(users), np.float32), (users, columns)),
        shape=(reach.shape[0], int(groups.sum())),
    )
    return grouped, np.repeat(mid_degree, groups)


def pair_weights(
    rows: sp.csr_matrix,
    reach: sp.csr_matrix,
    mid_degree: np.ndarray,
    transposed: sp.csr_matrix | None = None,
) -> sp.csr_matrix:
    """[len(rows), users]: Σ_m rows_um reach_vm / deg(m). `transposed` is reachᵀ as CSR,
    for callers that compute many chunks: made per call, it cost O(reach) a chunk, and
    the chunks grow with the square of the users. The operations (and so the float
    sums, which decide ties) are those of `(rows @ scale) @ reach.T` either way."""
    scale = sp.diags(1.0 / np.maximum(mid_degree, 1.0).astype(np.float32))
    transposed = reach.T.tocsr() if transposed is None else transposed
    return ((rows @ scale) @ transposed).tocsr()


def top_k_rows(weights: sp.csr_matrix, k: int, exclude: np.ndarray | None = None) -> sp.csr_matrix:
    """Each row's `k` largest positive entries (ties: lower column first); `exclude[r]` is
    a column dropped from row r (the user itself). A partition per row, in a loop over
    the rows, columns left unsorted: linear in the nonzeros, where sorting every
    nonzero (and, for dense chunks, partitioning whole dense rows) grew faster than the
    users; 3.5-5x faster than either on the Books shape's chunks, the same entries
    (BENCHMARKS.md, issue 22)."""
    weights = weights.tocsr()
    indptr, columns, data = weights.indptr, weights.indices, weights.data
    rows = np.repeat(np.arange(weights.shape[0]), np.diff(indptr))
    keep = data > 0
    if exclude is not None:
        keep &= columns != exclude[rows]
    for row in np.flatnonzero(np.bincount(rows[keep], minlength=weights.shape[0]) > k):
        start, stop = indptr[row], indptr[row + 1]
        values = np.where(keep[start:stop], data[start:stop], -np.inf)
        kth = np.partition(values, len(values) - k)[len(values) - k]
        above = values > kth
        tied = np.flatnonzero(values == kth)
        room = k - int(above.sum())
        if len(tied) > room:  # columns are not sorted within a row: the lowest ones
            tied = tied[np.argsort(columns[start:stop][tied], kind="stable")[:room]]
        above[tied] = True
        keep[start:stop] = above
    return sp.csr_matrix((data[keep], (rows[keep], columns[keep])), shape=weights.shape)


def _top_neighbours(reach: sp.csr_matrix, mid_degree: np.ndarray, k: int) -> sp.csr_matrix:
    users = reach.shape[0]
    chunk = max(1, CHUNK_ENTRIES // max(users, 1))
    transposed = reach.T.tocsr()
    parts = []
    for start in range(0, users, chunk):
        stop = min(start + chunk, users)
        weights = pair_weights(reach[start:stop], reach, mid_degree, transposed)
        parts.append(top_k_rows(weights, k, exclude=np.arange(start, stop)))
    return sp.vstack(parts).tocsr() if parts else sp.csr_matrix((0, 0), dtype=np.float32)


def mean_normalise(adjacency: sp.csr_matrix, degree: np.ndarray) -> sp.csr_matrix:
    """D^-1 (A + I) with D the degree including the self loop."""
    inverse = sp.diags((1.0 / (degree + 1.0)).astype(np.float32))
    return (inverse @ (adjacency + sp.identity(adjacency.shape[0], np.float32, "csr"))).tocsr()


def row_normalise(matrix: sp.csr_matrix) -> sp.csr_matrix:
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    return (sp.diags((1.0 / np.maximum(sums, 1.0)).astype(np.float32)) @ matrix).tocsr()
