"""The scale generator: a synthetic catalogue and KG of a given size, for benchmarks.

`ScaleShape` names the four sizes of a graph — users, items, interactions, KG triples —
e.g. `BOOKS_SHAPE`, the Books shape of the personas work (≈ 10,500 users, 8,300 items,
115,000 interactions, 80,000 triples), `BOOKS_SHAPE.times(2)`, or 1,000,000 users and
10,000,000 interactions. The real DBpedia files are too small for that, so the catalogue
is made up:

- **Items** `scale-<book|movie>-0000000`, … each belong to one of `groups` planted
  regions (item number modulo `groups`).
- **Triples**: exactly `triples` facts, spread evenly over the items (at least one
  each). A fact's relation is drawn from the domain's mix (`RELATION_MIX`: authors,
  literary genres, genres, subjects, series, publishers for books; directors, actors,
  writers, composers, genres, subjects, distributors for movies); its entity comes, with
  probability `LOCALITY`, from the item's region's share of that relation's entities,
  else from all of them. Each relation has about `facts / items_per_entity` entities
  (`http://kgstore.example/scale/<Kind>_<n>`), so authors are small and genres large.
- **Users and interactions**: the demo's own model (`demo_users`) on this catalogue:
  themes, their partition into groups (which finds the planted regions), personas,
  sessions, with history lengths steered to exactly `interactions` in all; users are
  generated one at a time and written in chunks, so memory does not grow with them.

The same seed gives the same graph; everything impossible (fewer triples than items,
more items per user than the catalogue, …) is refused before anything is generated.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import accumulate

from kgstore.demo.books import BOOKS
from kgstore.demo.catalogue import CatalogueSpec, DemoItem
from kgstore.demo.films import FILMS
from kgstore.demo.users import DemoConfig, DemoUser, iter_users
from kgstore.errors import DemoConfigError
from kgstore.graph.mapping import Domain

ENTITY_BASE = "http://kgstore.example/scale/"
LOCALITY = 0.9
MAX_FACTS_PER_ITEM = 40
LENGTH_SPREAD = 0.5
"""History lengths are drawn within ±50% of the mean (at least 3)."""
FACT_ATTEMPTS = 50

RELATION_MIX: dict[Domain, tuple[tuple[str, str, float, int], ...]] = {
    # (relationship type, entity kind, share of the facts, items per entity)
    Domain.BOOKS: (
        ("AUTHORED_BY", "Author", 1.0, 6),
        ("HAS_LITERARY_GENRE", "Literary_genre", 1.5, 150),
        ("HAS_GENRE", "Genre", 1.0, 150),
        ("HAS_SUBJECT", "Subject", 4.0, 25),
        ("IN_SERIES", "Series", 0.5, 6),
        ("PUBLISHED_BY", "Publisher", 1.0, 60),
    ),
    Domain.MOVIES: (
        ("DIRECTED_BY", "Director", 1.0, 6),
        ("STARRING", "Actor", 4.0, 8),
        ("WRITTEN_BY", "Writer", 1.5, 5),
        ("MUSIC_BY", "Composer", 1.0, 12),
        ("HAS_GENRE", "Genre", 1.0, 150),
        ("HAS_SUBJECT", "Subject", 2.0, 25),
        ("DISTRIBUTED_BY", "Distributor", 1.0, 100),
    ),
}
SPECS = {Domain.BOOKS: BOOKS, Domain.MOVIES: FILMS}


@dataclass(frozen=True)
class ScaleShape:
    """The sizes of a generated graph, its domain, seed and planted groups."""

    users: int
    items: int
    interactions: int
    triples: int
    domain: Domain = Domain.BOOKS
    seed: int = 7
    groups: int = DemoConfig.groups

    def times(self, factor: int) -> "ScaleShape":
        """The same shape `factor` times as large."""
        return replace(
            self,
            users=self.users * factor,
            items=self.items * factor,
            interactions=self.interactions * factor,
            triples=self.triples * factor,
        )

    def demo_config(self) -> DemoConfig:
        """The generator's configuration: lengths within ±50% of the mean, exact total."""
        mean = self.interactions / self.users
        low = max(3, int(mean * (1 - LENGTH_SPREAD)))
        high = max(low, min(self.items, round(mean * (1 + LENGTH_SPREAD)) + 1))
        return DemoConfig(
            seed=self.seed,
            users=self.users,
            min_interactions=low,
            max_interactions=high,
            groups=self.groups,
            total_interactions=self.interactions,
        )

    @property
    def spec(self) -> CatalogueSpec:
        """The domain's descriptions and persona relations, with scale ids."""
        base = SPECS[self.domain]
        return replace(base, id_prefix=f"scale-{base.id_prefix}", user_prefix="scale-user")

    def check(self) -> None:
        """Refuse sizes that cannot be generated, with every reason at once."""
        problems = []
        if min(self.users, self.items) < 1:
            problems.append("users and items must be at least 1")
        elif self.interactions < 3 * self.users:
            problems.append(
                f"{self.interactions:,} interactions are fewer than 3 per user "
                f"({3 * self.users:,}; leave-one-out needs 3)"
            )
        elif self.interactions > self.users * self.items:
            problems.append(
                f"{self.interactions:,} interactions are more than every user rating every "
                f"item ({self.users * self.items:,})"
            )
        if not self.items <= self.triples <= MAX_FACTS_PER_ITEM * self.items:
            problems.append(
                f"triples must be between the items ({self.items:,}: one fact each) and "
                f"{MAX_FACTS_PER_ITEM} per item"
            )
        if problems:
            raise DemoConfigError("scale shape: " + "; ".join(problems))


BOOKS_SHAPE = ScaleShape(users=10_500, items=8_300, interactions=115_000, triples=80_000)


def scale_catalogue(shape: ScaleShape) -> list[DemoItem]:
    """The synthetic items and their facts (see the module docstring)."""
    shape.check()
    rng = random.Random(shape.seed)
    mix = RELATION_MIX[shape.domain]
    shares = list(accumulate(share for _, _, share, _ in mix))
    total_share = shares[-1]
    pools = [
        max(shape.groups, round(shape.triples * share / total_share / per_entity))
        for _, _, share, per_entity in mix
    ]
    spec = shape.spec
    per_item, extra = divmod(shape.triples, shape.items)
    width = len(str(shape.items - 1))
    items = []
    for number in range(shape.items):
        region = number % shape.groups
        facts: set[tuple[str, str]] = set()
        wanted = per_item + (number < extra)
        for _ in range(wanted * FACT_ATTEMPTS):
            if len(facts) == wanted:
                break
            kind = rng.choices(range(len(mix)), cum_weights=shares)[0]
            rel_type, entity_kind, _, _ = mix[kind]
            size = pools[kind]
            if rng.random() < LOCALITY:  # one of the entities numbered `region` mod groups
                local = (size - region - 1) // shape.groups + 1
                entity = region + shape.groups * rng.randrange(local)
            else:
                entity = rng.randrange(size)
            facts.add((rel_type, f"{ENTITY_BASE}{entity_kind}_{entity}"))
        sorted_facts = tuple(sorted(facts))
        items.append(
            DemoItem(
                uri=None,
                item_id=f"{spec.id_prefix}-{number:0{width}d}",
                title=f"{spec.domain.label} {number}",
                description=spec.describe(sorted_facts),
                facts=sorted_facts,
            )
        )
    return items


def scale_users(shape: ScaleShape, items: list[DemoItem]) -> Iterator[DemoUser]:
    """The users of `shape` on its catalogue, one at a time."""
    spec = shape.spec
    return iter_users(items, spec.persona_relations, shape.demo_config(), spec.user_prefix)
