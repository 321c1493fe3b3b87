"""The demo users: interactions generated from planted personas and session intent.

Pure functions of (films, `DemoConfig`): the same seed gives byte-identical users and
interactions, another seed different ones. Nothing here touches the database
(`demo_ingest` writes the result).

The model, so that later stages have something real to find:

- **Themes** are (relationship, entity) pairs of the films graph — a director, writer,
  composer or actor (`PERSONA_RELATIONS`) with at least `min_theme_films` films.
- **Persona** (long-term taste): each user gets 2-4 themes with Dirichlet(1) weights.
  The first (the anchor) is drawn uniformly over relation kinds, then over that kind's
  themes; each further theme is, with probability `coherence`, a theme that shares a
  film with the anchor (the director's composer, the star's usual director), else any
  theme. The persona is stored on the user as `plantedPersona` (JSON).
- **Sessions** (short-term intent): a history of `min_interactions`-`max_interactions`
  items is cut into sessions of `SESSION_LENGTH` items. Each session follows one theme:
  a persona theme by weight (among those with films the user has not seen), or with
  probability `drift` (or once the persona's films are all seen) a theme outside it.
  Each item of a session is an unseen film of its theme, except that with probability
  `noise` (or when the theme has no unseen film left) it is a film drawn by popularity
  (Zipf over a seeded ranking). So the last items of a session are predictable from
  its first ones, and a user's items from their persona.
- **Time**: items of a session are 1-30 minutes apart, sessions 1-30 days apart, so
  timestamps strictly increase per user and a gap of a day or more separates sessions.
  Ratings: 4-5 for a film of the session's theme, 1-5 for a popularity draw.
"""

import json
import random
from bisect import bisect
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

from kgstore.ingest.demo_films import Film, display_name

PERSONA_RELATIONS = ("DIRECTED_BY", "WRITTEN_BY", "MUSIC_BY", "STARRING")
THEMES_PER_USER = (2, 4)
SESSION_LENGTH = (3, 8)
START_TS = 1_420_070_400  # 2015-01-01T00:00:00Z
START_SPREAD_S = 3 * 365 * 86_400
ITEM_GAP_S = (60, 1_800)
SESSION_GAP_S = (86_400, 30 * 86_400)
ZIPF_EXPONENT = 0.8
DRIFT_ATTEMPTS = 100


@dataclass(frozen=True)
class DemoConfig:
    """Seed and sizes (`kgctl ingest demo` options) and the model's probabilities."""

    seed: int = 7
    users: int = 2_000
    min_interactions: int = 5
    max_interactions: int = 30
    noise: float = 0.1
    drift: float = 0.15
    coherence: float = 0.5
    min_theme_films: int = 5

    def __post_init__(self) -> None:
        if self.min_interactions < 3:
            raise ValueError("min_interactions must be at least 3 (train, validation, test)")
        if self.max_interactions < self.min_interactions:
            raise ValueError("max_interactions must be at least min_interactions")
        if self.users < 1:
            raise ValueError("users must be at least 1")
        for name in ("noise", "drift", "coherence"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")


@dataclass(frozen=True, order=True)
class Theme:
    relation: str
    entity: str


@dataclass(frozen=True)
class Persona:
    themes: tuple[Theme, ...]
    weights: tuple[float, ...]

    def to_json(self) -> str:
        """The `plantedPersona` property: themes with names and weights, sorted keys."""
        return json.dumps(
            {
                "themes": [
                    {
                        "relation": theme.relation,
                        "entity": theme.entity,
                        "name": display_name(theme.entity),
                        "weight": weight,
                    }
                    for theme, weight in zip(self.themes, self.weights, strict=True)
                ]
            },
            sort_keys=True,
        )


@dataclass(frozen=True)
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
    persona: Persona
    steps: tuple[DemoStep, ...]


class ThemeIndex:
    """Themes of the films graph, their films, and which themes share a film."""

    def __init__(self, films: Sequence[Film], min_films: int) -> None:
        films_of: dict[Theme, list[str]] = defaultdict(list)
        for film in films:
            for relation, entity in film.facts:
                if relation in PERSONA_RELATIONS:
                    films_of[Theme(relation, entity)].append(film.item_id)
        self.films = {
            theme: tuple(films_of[theme])
            for theme in sorted(films_of)
            if len(films_of[theme]) >= min_films
        }
        self.by_relation = {
            relation: [theme for theme in self.films if theme.relation == relation]
            for relation in PERSONA_RELATIONS
        }
        self.all = list(self.films)
        self._neighbours = self._shared_film_neighbours(films)

    def _shared_film_neighbours(self, films: Sequence[Film]) -> dict[Theme, list[Theme]]:
        neighbours: dict[Theme, set[Theme]] = defaultdict(set)
        for film in films:
            themes = [Theme(*fact) for fact in film.facts if Theme(*fact) in self.films]
            for theme in themes:
                neighbours[theme].update(other for other in themes if other != theme)
        return {theme: sorted(others) for theme, others in neighbours.items()}

    def neighbours(self, theme: Theme) -> list[Theme]:
        return self._neighbours.get(theme, [])


def plant_persona(rng: random.Random, index: ThemeIndex, coherence: float) -> Persona:
    """2-4 distinct themes around an anchor, with Dirichlet(1) weights (3 decimals)."""
    kinds = [relation for relation in PERSONA_RELATIONS if index.by_relation[relation]]
    themes = [rng.choice(index.by_relation[rng.choice(kinds)])]
    wanted = min(rng.randint(*THEMES_PER_USER), len(index.all))
    while len(themes) < wanted:
        nearby = [theme for theme in index.neighbours(themes[0]) if theme not in themes]
        pool = nearby if nearby and rng.random() < coherence else index.all
        candidate = rng.choice(pool)
        if candidate not in themes:
            themes.append(candidate)
    draws = [rng.gammavariate(1.0, 1.0) for _ in themes]
    weights = tuple(round(draw / sum(draws), 3) for draw in draws)
    return Persona(tuple(themes), weights)


class Popularity:
    """Films drawn with Zipf weights over a ranking shuffled by the seed."""

    def __init__(self, rng: random.Random, films: Sequence[Film]) -> None:
        self.ranked = [film.item_id for film in films]
        rng.shuffle(self.ranked)
        weights = [1.0 / (rank + 1) ** ZIPF_EXPONENT for rank in range(len(self.ranked))]
        self.cumulative = list(accumulate(weights))

    def draw(self, rng: random.Random, exclude: set[str]) -> str | None:
        if len(exclude) >= len(self.ranked):
            return None
        while True:
            index = bisect(self.cumulative, rng.random() * self.cumulative[-1])
            item = self.ranked[min(index, len(self.ranked) - 1)]
            if item not in exclude:
                return item


def session_theme(
    rng: random.Random, persona: Persona, index: ThemeIndex, drift: float, seen: set[str]
) -> Theme:
    """A persona theme by weight among those with unseen films; with probability `drift`,
    or when the persona is used up, a theme outside the persona."""
    open_themes = [
        (theme, weight)
        for theme, weight in zip(persona.themes, persona.weights, strict=True)
        if not seen.issuperset(index.films[theme])
    ]
    if open_themes and rng.random() >= drift:
        themes, weights = zip(*open_themes, strict=True)
        return rng.choices(themes, weights=weights)[0]
    for _ in range(DRIFT_ATTEMPTS):
        outside = rng.choice(index.all)
        if outside not in persona.themes and not seen.issuperset(index.films[outside]):
            return outside
    return rng.choice(persona.themes)


def user_history(
    rng: random.Random,
    persona: Persona,
    index: ThemeIndex,
    popularity: Popularity,
    config: DemoConfig,
) -> tuple[DemoStep, ...]:
    """One user's interactions in time order (see the module docstring)."""
    length = rng.randint(config.min_interactions, config.max_interactions)
    seen: set[str] = set()
    history: list[DemoStep] = []
    ts = START_TS + rng.randrange(START_SPREAD_S)
    session = 0
    while len(history) < length:
        theme = session_theme(rng, persona, index, config.drift, seen)
        unseen = [item for item in index.films[theme] if item not in seen]
        rng.shuffle(unseen)
        for _ in range(min(rng.randint(*SESSION_LENGTH), length - len(history))):
            from_theme = bool(unseen) and rng.random() >= config.noise
            item = unseen.pop() if from_theme else popularity.draw(rng, seen)
            if item is None:
                return tuple(history)
            if item in unseen:
                unseen.remove(item)
            seen.add(item)
            rating = rng.randint(4, 5) if from_theme else rng.randint(1, 5)
            history.append(
                DemoStep(item, rating, ts, len(history), session, theme if from_theme else None)
            )
            ts += rng.randint(*ITEM_GAP_S)
        ts += rng.randint(*SESSION_GAP_S)
        session += 1
    return tuple(history)


def generate_users(films: Sequence[Film], config: DemoConfig) -> list[DemoUser]:
    """The demo users for `config.seed`; deterministic (one random.Random, sorted input)."""
    if config.max_interactions > len(films):
        raise ValueError(f"max_interactions is more than the {len(films)} films")
    rng = random.Random(config.seed)
    index = ThemeIndex(films, config.min_theme_films)
    if not index.all:
        raise ValueError(f"no entity has {config.min_theme_films} films: no theme to plant")
    popularity = Popularity(rng, films)
    users = []
    for number in range(config.users):
        persona = plant_persona(rng, index, config.coherence)
        history = user_history(rng, persona, index, popularity, config)
        users.append(DemoUser(f"demo-user-{number:05d}", persona, history))
    return users
