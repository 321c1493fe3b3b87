"""The demo users: interactions generated from planted groups, personas and session intent.

Pure functions of (catalogue items, persona relations, `DemoConfig`): the same seed gives
byte-identical users and interactions, another seed different ones. Nothing here touches
the database (`demo_ingest` writes the result). Users are generated one at a time
(`iter_users`), so memory stays flat however many are asked for.

The model, so that later stages have something real to find:

- **Themes and groups** (`demo_themes`): themes are (relationship, entity) pairs with at
  least `min_theme_items` items; they are partitioned into `groups` clusters of themes
  that share items in the KG. Each user belongs to exactly one group, drawn uniformly,
  stored as the integer `plantedGroup`.
- **Persona** (long-term taste): each user gets 2-4 themes of their group (fewer only
  when the group has fewer) with Dirichlet(1) weights. The first (the anchor) is drawn
  uniformly over the group's relation kinds, then over that kind's themes by (items)^2,
  so a group's users crowd on its core themes; each further
  theme is, with probability `coherence`, a theme of the group that shares an item with
  the anchor (the director's composer, the author's series), else any theme of the
  group. Stored as `plantedPersona` (JSON; weights rounded to 3 decimals there only).
- **Sessions** (short-term intent): a history of `min_interactions`-`max_interactions`
  items (or lengths steered to exactly `total_interactions` in all) is cut into sessions
  of `SESSION_LENGTH` items. Each session follows one theme: a persona theme by weight
  (among those with items the user has not seen), or with probability `drift` (or once
  the persona's items are all seen) any theme outside the persona — a drift session may
  leave the user's group. Each item of a session is an unseen item of its theme at home
  in the theme's group (`ThemeGroups.items`), drawn by popularity within the theme,
  except that with probability `noise` (or when the theme has no unseen item left) it
  is an item of the whole catalogue drawn by popularity (Zipf over a seeded ranking).
  So the last items of a session are predictable from its first ones, a user's items
  from their persona, and users of one group share KG entities far more than users of
  two groups.
- **Time**: items of a session are 1-30 minutes apart, sessions 1-30 days apart, so
  timestamps strictly increase per user and a gap of a day or more separates sessions.
  Ratings: 4-5 for an item of the session's theme, 1-5 for a popularity draw.

Every configuration that cannot be generated (more interactions per user than items, no
theme, more groups than themes, a total outside what the sizes allow) is refused by
`check_config` with a `DemoConfigError` before any user is drawn.
"""

import json
import random
from bisect import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate

from kgstore.demo.catalogue import DemoItem, display_name
from kgstore.demo.themes import Theme, ThemeGroups, ThemeIndex
from kgstore.errors import DemoConfigError

THEMES_PER_USER = (2, 4)
SESSION_LENGTH = (3, 8)
START_TS = 1_420_070_400  # 2015-01-01T00:00:00Z
START_SPREAD_S = 3 * 365 * 86_400
ITEM_GAP_S = (60, 1_800)
SESSION_GAP_S = (86_400, 30 * 86_400)
ZIPF_EXPONENT = 0.8
DRIFT_ATTEMPTS = 100
POPULARITY_ATTEMPTS = 100
PERSONA_ATTEMPTS = 20
WEIGHT_DIGITS = 3


@dataclass(frozen=True)
class DemoConfig:
    """Seed and sizes (`kgctl ingest demo` options) and the model's probabilities.
    Checked on its own here, against a catalogue by `check_config`."""

    seed: int = 7
    users: int = 2_000
    min_interactions: int = 5
    max_interactions: int = 30
    noise: float = 0.1
    drift: float = 0.15
    coherence: float = 0.5
    min_theme_items: int = 5
    groups: int = 8
    total_interactions: int | None = None
    """When set, history lengths stay in [min, max] and add up to exactly this."""

    def __post_init__(self) -> None:
        problems = []
        if self.users < 1:
            problems.append("users must be at least 1")
        if self.min_interactions < 3:
            problems.append("min_interactions must be at least 3 (train, validation, test)")
        if self.max_interactions < self.min_interactions:
            problems.append("max_interactions must be at least min_interactions")
        if self.groups < 1:
            problems.append("groups must be at least 1")
        if self.min_theme_items < 1:
            problems.append("min_theme_items must be at least 1")
        for name in ("noise", "drift", "coherence"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                problems.append(f"{name} must be between 0 and 1")
        total = self.total_interactions
        if total is not None and not (
            self.users * self.min_interactions <= total <= self.users * self.max_interactions
        ):
            problems.append(
                f"total_interactions {total:,} cannot be split among {self.users:,} users "
                f"with {self.min_interactions}-{self.max_interactions} each"
            )
        if problems:
            raise DemoConfigError("demo configuration: " + "; ".join(problems))


@dataclass(frozen=True)
class Persona:
    themes: tuple[Theme, ...]
    weights: tuple[float, ...]
    """Positive, summing to 1 (unrounded: a rounded weight could be 0)."""

    def to_json(self) -> str:
        """The `plantedPersona` property: themes with names and weights, sorted keys."""
        return json.dumps(
            {
                "themes": [
                    {
                        "relation": theme.relation,
                        "entity": theme.entity,
                        "name": display_name(theme.entity),
                        "weight": round(weight, WEIGHT_DIGITS),
                    }
                    for theme, weight in zip(self.themes, self.weights, strict=True)
                ]
            },
            sort_keys=True,
        )


@dataclass(frozen=True, slots=True)
class DemoStep:
    """One generated interaction of a demo user, with the session and theme that drew it."""

    item: str
    rating: int
    ts: int
    pos: int
    session: int
    theme: Theme | None
    """The session's theme when the item was drawn from it, None for a popularity draw."""


@dataclass(frozen=True)
class DemoUser:
    id: str
    group: int
    persona: Persona
    steps: tuple[DemoStep, ...]


def check_config(items: Sequence[DemoItem], index: ThemeIndex, config: DemoConfig) -> None:
    """Refuse, with every reason at once, a configuration this catalogue cannot satisfy."""
    problems = []
    if config.max_interactions > len(items):
        problems.append(
            f"max_interactions {config.max_interactions} is more than the {len(items):,} items"
        )
    if not index.all:
        problems.append(f"no entity has {config.min_theme_items} items: no theme to plant")
    elif config.groups > len(index.all):
        problems.append(f"groups {config.groups} is more than the {len(index.all):,} themes")
    if problems:
        raise DemoConfigError("demo configuration: " + "; ".join(problems))


def plant_persona(rng: random.Random, groups: ThemeGroups, group: int, coherence: float) -> Persona:
    """2-4 distinct themes of `group` around an anchor, with Dirichlet(1) weights."""
    by_relation = groups.by_relation[group]
    pool = groups.themes[group]
    relation = rng.choice(list(by_relation))
    weights = groups.anchor_weights[group][relation]
    themes = [rng.choices(by_relation[relation], cum_weights=weights)[0]]
    wanted = min(rng.randint(*THEMES_PER_USER), len(pool))
    nearby, near_weights = groups.neighbours[themes[0]]
    attempts = 0
    while len(themes) < wanted:
        # After PERSONA_ATTEMPTS draws the anchor's neighbours may all be taken: the
        # group's pool (at least `wanted` themes) then ends the loop.
        attempts += 1
        if nearby and attempts <= PERSONA_ATTEMPTS and rng.random() < coherence:
            candidate = rng.choices(nearby, cum_weights=near_weights)[0]
        else:
            candidate = rng.choices(pool, cum_weights=groups.size_weights[group])[0]
        if candidate not in themes:
            themes.append(candidate)
    # Exponential draws are > 0 except when random() returns exactly 0.0; the floor keeps
    # every weight positive so `random.choices` always has something to choose.
    draws = [max(rng.expovariate(1.0), 1e-12) for _ in themes]
    return Persona(tuple(themes), tuple(draw / sum(draws) for draw in draws))


class Popularity:
    """Zipf draws over a ranking of the catalogue shuffled by the seed, and over each
    theme's items in that same order (a theme's popular items are its most read)."""

    def __init__(self, rng: random.Random, items: Sequence[DemoItem], groups: ThemeGroups):
        self.ranked = [item.item_id for item in items]
        rng.shuffle(self.ranked)
        rank = {item: number for number, item in enumerate(self.ranked)}
        self.by_theme = {
            theme: sorted(members, key=rank.__getitem__) for theme, members in groups.items.items()
        }
        weights = (1.0 / (number + 1) ** ZIPF_EXPONENT for number in range(len(self.ranked)))
        self.cumulative = list(accumulate(weights))

    def draw(self, rng: random.Random, exclude: set[str], theme: Theme | None = None) -> str | None:
        """An item of the catalogue (or of `theme`) not in `exclude`, by Zipf weight; after
        `POPULARITY_ATTEMPTS` misses the most popular one left; None when none is left."""
        ranked = self.ranked if theme is None else self.by_theme[theme]
        last = len(ranked) - 1
        for _ in range(POPULARITY_ATTEMPTS):
            item = ranked[bisect(self.cumulative, rng.random() * self.cumulative[last], 0, last)]
            if item not in exclude:
                return item
        return next((item for item in ranked if item not in exclude), None)


def session_theme(
    rng: random.Random, persona: Persona, groups: ThemeGroups, drift: float, seen: set[str]
) -> Theme:
    """A persona theme by weight among those with unseen items; with probability `drift`,
    or when the persona is used up, a theme outside the persona."""
    open_themes = [
        (theme, weight)
        for theme, weight in zip(persona.themes, persona.weights, strict=True)
        if not seen.issuperset(groups.items[theme])
    ]
    if open_themes and rng.random() >= drift:
        themes, weights = zip(*open_themes, strict=True)
        return rng.choices(themes, weights=weights)[0]
    for _ in range(DRIFT_ATTEMPTS):
        outside = rng.choice(groups.all)
        if outside not in persona.themes and not seen.issuperset(groups.items[outside]):
            return outside
    return rng.choice(persona.themes)


def user_history(
    rng: random.Random,
    persona: Persona,
    groups: ThemeGroups,
    popularity: Popularity,
    config: DemoConfig,
    length: int,
) -> tuple[DemoStep, ...]:
    """One user's `length` interactions in time order (see the module docstring);
    `length` must not exceed the catalogue."""
    seen: set[str] = set()
    history: list[DemoStep] = []
    ts = START_TS + rng.randrange(START_SPREAD_S)
    session = 0
    while len(history) < length:
        theme = session_theme(rng, persona, groups, config.drift, seen)
        size = min(_between(rng, *SESSION_LENGTH), length - len(history))
        for _ in range(size):
            item = popularity.draw(rng, seen, theme) if rng.random() >= config.noise else None
            from_theme = item is not None
            if item is None:
                # The catalogue holds more items than any history (`check_config`).
                item = popularity.draw(rng, seen)
                assert item is not None
            seen.add(item)
            rating = _between(rng, 4, 5) if from_theme else _between(rng, 1, 5)
            history.append(
                DemoStep(item, rating, ts, len(history), session, theme if from_theme else None)
            )
            ts += _between(rng, *ITEM_GAP_S)
        ts += _between(rng, *SESSION_GAP_S)
        session += 1
    return tuple(history)


def _between(rng: random.Random, low: int, high: int) -> int:
    """`rng.randint(low, high)` at a third of its cost (the hot loop draws several per
    interaction); the float has far more precision than these small ranges need."""
    return low + int(rng.random() * (high - low + 1))


def history_lengths(rng: random.Random, config: DemoConfig) -> Iterator[int]:
    """Uniform in [min, max] per user; with `total_interactions`, each draw is narrowed
    just enough that the users still to come can reach the total exactly."""
    low, high = config.min_interactions, config.max_interactions
    left = config.total_interactions
    for number in range(config.users):
        if left is None:
            yield rng.randint(low, high)
            continue
        after = config.users - number - 1
        length = rng.randint(max(low, left - after * high), min(high, left - after * low))
        left -= length
        yield length


def iter_users(
    items: Sequence[DemoItem],
    relations: Sequence[str],
    config: DemoConfig,
    user_prefix: str = "demo-user",
) -> Iterator[DemoUser]:
    """The users for `config.seed`, one at a time; deterministic (one random.Random,
    sorted input). The configuration is checked before the first user is drawn."""
    index = ThemeIndex(items, relations, config.min_theme_items)
    check_config(items, index, config)
    groups = ThemeGroups(index, config.groups)
    rng = random.Random(config.seed)
    popularity = Popularity(rng, items, groups)
    width = max(5, len(str(config.users - 1)))
    return _users(rng, groups, popularity, config, user_prefix, width)


def _users(
    rng: random.Random,
    groups: ThemeGroups,
    popularity: Popularity,
    config: DemoConfig,
    user_prefix: str,
    width: int,
) -> Iterator[DemoUser]:
    for number, length in enumerate(history_lengths(rng, config)):
        group = rng.randrange(config.groups)
        persona = plant_persona(rng, groups, group, config.coherence)
        history = user_history(rng, persona, groups, popularity, config, length)
        yield DemoUser(f"{user_prefix}-{number:0{width}d}", group, persona, history)


def generate_users(
    items: Sequence[DemoItem],
    relations: Sequence[str],
    config: DemoConfig,
    user_prefix: str = "demo-user",
) -> list[DemoUser]:
    """All users of `iter_users` in a list (for tests and small demos)."""
    return list(iter_users(items, relations, config, user_prefix))
