"""The 2-D map of a persona run's users: a seeded sample of the personas it stored, each
user's dominant genre (movies) or author (books), the planted group of demo users, and a
t-SNE layout.

Why a sample: t-SNE's cost grows faster than linearly with the points and a scatter of a
million dots says no more than one of a few thousand; `MAP_CAP` users are drawn uniformly
(seeded), so the same graph gives the same picture.
"""

from collections import Counter
from dataclasses import dataclass

import numpy as np

from kgstore.db import Database
from kgstore.graph.mapping import BY_TYPE, Domain, cypher_label, cypher_rel_type
from kgstore.graph.split import MIN_EVALUATED
from kgstore.graph.user_properties import persona_keys
from kgstore.personas.stored import persona_users
from kgstore.report.limits import MAP_CAP, MAP_SEED

TOP_CATEGORIES = 10
"""Colours with a legend entry; the rarer dominant entities share one `other` colour."""
NEIGHBOURS = 10
NONE = "none"
OTHER = "other"

Colour = tuple[str, tuple[str, ...]]
"""An entity kind and the item relationships reaching it."""

DOMINANT: dict[Domain, tuple[Colour, ...]] = {
    Domain.MOVIES: (("genre", ("HAS_GENRE", "HAS_LITERARY_GENRE")), ("director", ("DIRECTED_BY",))),
    Domain.BOOKS: (("author", ("AUTHORED_BY",)),),
}
"""What colours a domain's users, in order of preference: the first kind that at least
`MIN_COVERAGE` of the drawn users have (DBpedia films seldom carry dbo:genre; the films
demo has none, so its users are coloured by director). The genre relationships are the
genre family of kgstore.train.metapaths, named here so the report imports no torch."""
MIN_COVERAGE = 0.1
if not all(rel in BY_TYPE for kinds in DOMINANT.values() for _, rels in kinds for rel in rels):
    raise ValueError("DOMINANT names a relationship type the mapping table lacks")


@dataclass(frozen=True)
class PersonaSample:
    """`vectors[k]` is the persona of `users[k]`; `total` users of the run have one."""

    users: list[str]
    vectors: np.ndarray
    planted: list[int | None]
    total: int

    @property
    def has_planted(self) -> bool:
        return any(group is not None for group in self.planted)


def sample_personas(
    db: Database, run_id: str, domain: Domain, cap: int = MAP_CAP, seed: int = MAP_SEED
) -> PersonaSample:
    """At most `cap` users whose stored `domain` persona is the run's, drawn uniformly;
    ids are read first so only the drawn users' vectors travel."""
    ids = persona_users(db, domain, run_id)
    if not ids:  # a later run of the domain replaced every stored persona of this one
        return PersonaSample([], np.zeros((0, 0), np.float32), [], 0)
    drawn = ids
    if len(ids) > cap:
        picks = np.random.default_rng(seed).choice(len(ids), size=cap, replace=False)
        drawn = [ids[k] for k in sorted(picks)]
    row = db.columns(
        "UNWIND $ids AS id MATCH (u:User {id: id}) "
        "RETURN collect(u.id) AS ids, collect(u[$vector]) AS x, "
        "collect(coalesce(u.plantedGroup, -1)) AS groups",
        ids=drawn,
        vector=persona_keys(domain).vector,
    )
    planted = [None if group == -1 else int(group) for group in row["groups"]]
    vectors = np.asarray(row["x"], dtype=np.float32).reshape(len(row["ids"]), -1)
    return PersonaSample(list(row["ids"]), vectors, planted, len(ids))


def dominant_query(domain: Domain, relations: tuple[str, ...]) -> str:
    rel_types = "|".join(cypher_rel_type(rel) for rel in relations)
    label = cypher_label(domain.label)
    return (
        f"UNWIND $users AS id MATCH (u:User {{id: id}})-[r:RATED]->(i:{label}) "
        "WITH u, i ORDER BY r.pos WITH u, collect(i) AS items "
        "WITH u, CASE WHEN size(items) < $min THEN items ELSE items[..size(items) - 2] END "
        "AS training UNWIND training AS i "
        f"MATCH (i)-[:{rel_types}]->(e:Entity) "
        "WITH u.id AS user, coalesce(e.name, e.uri) AS name, count(*) AS n "
        "ORDER BY user, n DESC, name "
        "RETURN user, collect(name)[0] AS dominant"
    )


def dominant_entities(
    db: Database, domain: Domain, users: list[str], relations: tuple[str, ...]
) -> dict[str, str]:
    """Each user's dominant entity along `relations`: the one reached by most of their
    training interactions (all but the last two, the leave-one-out rule), ties by name.
    Users whose training items reach none are absent."""
    rows = db.query(dominant_query(domain, relations), users=users, min=MIN_EVALUATED)
    return {row["user"]: row["dominant"] for row in rows}


def dominant_colour(db: Database, domain: Domain, users: list[str]) -> tuple[str, dict[str, str]]:
    """(the kind, each user's dominant entity) of the first of the domain's `DOMINANT`
    kinds that `MIN_COVERAGE` of `users` have; the last kind when none reaches it."""
    kinds = DOMINANT[domain]
    for number, (kind, relations) in enumerate(kinds):
        by_user = dominant_entities(db, domain, users, relations)
        if len(by_user) >= MIN_COVERAGE * len(users) or number == len(kinds) - 1:
            return kind, by_user
    raise AssertionError("every domain has a DOMINANT kind")


def dominant_rule(domain: Domain, kind: str) -> str:
    """What `dominant` means, in words, for the page."""
    relations = dict(DOMINANT[domain])[kind]
    return (
        f"a user's dominant {kind} is the {kind} entity ({', '.join(relations)}) reached by "
        "more of their training interactions than any other (all but the last two items of "
        "the sequence, as in the leave-one-out split), ties broken by name; "
        f"'{NONE}': no training item has one; '{OTHER}': none of the {TOP_CATEGORIES} most "
        f"common {kind}s"
    )


def top_categories(labels: list[str], top: int = TOP_CATEGORIES) -> tuple[list[str], list[str]]:
    """(each label, or `other` beyond the `top` most frequent; the legend order: by count,
    then other, then none)."""
    counts = Counter(label for label in labels if label != NONE)
    kept = [label for label, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
    shown = [label if label in kept or label == NONE else OTHER for label in labels]
    order = kept + [name for name in (OTHER, NONE) if name in shown]
    return shown, order


def layout(vectors: np.ndarray, seed: int = MAP_SEED) -> np.ndarray:
    """`[n, 2]` t-SNE of the personas, centred and scaled to unit length first (as the
    persona tests cluster them) so that a user's overall activity, which mostly sets a
    persona's length, does not dominate the distances."""
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    unit = normalised(vectors)
    perplexity = float(min(30.0, max(2.0, (len(unit) - 1) / 3)))
    tsne = TSNE(
        n_components=2, perplexity=perplexity, init="pca", learning_rate="auto", random_state=seed
    )
    # One thread: OpenMP threads that spin on cores other work holds made it 8x slower on
    # the shared CI machine (and the layout does not depend on the thread count).
    with threadpool_limits(1):
        return tsne.fit_transform(unit)


def normalised(vectors: np.ndarray) -> np.ndarray:
    centred = vectors - vectors.mean(axis=0)
    return centred / (np.linalg.norm(centred, axis=1, keepdims=True) + 1e-12)


def neighbour_agreement(
    vectors: np.ndarray, labels: list[str], k: int = NEIGHBOURS
) -> tuple[float, float]:
    """(share of each user's `k` nearest personas, in the full persona space, that have
    the user's label; the same share for random neighbours, sum of squared label
    frequencies). Users labelled `none` are left out. A map's clusters can be an artefact
    of t-SNE; this figure is not."""
    from sklearn.neighbors import NearestNeighbors

    keep = [row for row, label in enumerate(labels) if label != NONE]
    if len(keep) <= k:
        return float("nan"), float("nan")
    names = np.asarray([labels[row] for row in keep])
    unit = normalised(vectors[keep])
    _, index = NearestNeighbors(n_neighbors=k + 1).fit(unit).kneighbors(unit)
    agreement = float((names[index[:, 1:]] == names[:, None]).mean())
    _, counts = np.unique(names, return_counts=True)
    chance = float(((counts / counts.sum()) ** 2).sum())
    return agreement, chance


@dataclass(frozen=True)
class Colouring:
    """One way of colouring the map: each point's category, the legend order, what the
    colours mean, and the neighbour agreement of the uncollapsed labels."""

    title: str
    labels: list[str]
    order: list[str]
    rule: str
    agreement: float
    chance: float


@dataclass(frozen=True)
class PersonaMap:
    points: np.ndarray
    sample: PersonaSample
    colourings: list[Colouring]


def persona_map(
    db: Database, run_id: str, domain: Domain, cap: int = MAP_CAP, seed: int = MAP_SEED
) -> PersonaMap | None:
    """The t-SNE of the run's sampled personas coloured by dominant genre/author and, when
    the users have one, by planted group; None when fewer than 5 users have a persona of
    the run (t-SNE needs a few points; a later run of the domain replaces the stored ones)."""
    sample = sample_personas(db, run_id, domain, cap, seed)
    if len(sample.users) < 5:
        return None
    kind, by_user = dominant_colour(db, domain, sample.users)
    rule = dominant_rule(domain, kind)
    preferred = DOMINANT[domain][0][0]
    if kind != preferred:
        rule += f" (by {kind}: fewer than {MIN_COVERAGE:.0%} of these users reach a {preferred})"
    raw = [by_user.get(user, NONE) for user in sample.users]
    labels, order = top_categories(raw)
    colourings = [Colouring(f"dominant {kind}", labels, order, rule, *_agree(sample, raw))]
    if sample.has_planted:
        groups = [NONE if g is None else f"group {g}" for g in sample.planted]
        shown, group_order = top_categories(groups, top=20)
        group_order = sorted(group_order, key=_group_key)
        rule = "the group the demo generator planted the user in (User.plantedGroup)"
        colourings.append(
            Colouring("planted group", shown, group_order, rule, *_agree(sample, groups))
        )
    return PersonaMap(layout(sample.vectors, seed), sample, colourings)


def _agree(sample: PersonaSample, labels: list[str]) -> tuple[float, float]:
    return neighbour_agreement(sample.vectors, labels)


def _group_key(name: str) -> tuple[int, int]:
    if name.startswith("group "):
        return 0, int(name.removeprefix("group "))
    return 1, 0 if name == OTHER else 1
